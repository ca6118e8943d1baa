package dev.elbus.impl.net;

import dev.elbus.client.Bind;
import dev.elbus.config.ListenerOptions;
import dev.elbus.impl.routing.BrokerStats;
import dev.elbus.impl.routing.ClientKind;
import dev.elbus.impl.routing.ClientRegistry;
import dev.elbus.impl.routing.CloseReason;
import dev.elbus.impl.routing.Router;
import dev.elbus.impl.routing.Session;
import dev.elbus.impl.routing.TopicIndex;
import dev.elbus.protocol.Protocol;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * RELIABILITY.md item 1: seeded, reproducible fuzzing of the handshake and frame handling through
 * the real connection code ({@link ClientConnection} in an {@code EmbeddedChannel}, the real
 * router and registry): every op x QoS x payload size, handshakes, pings, multi-topic frames, and
 * mutations of all of them (bit flips, insert/delete, truncation, concatenation, every flags
 * value, boundary lengths, special names), each fed in random chunk splits. Passes when no
 * exception other than the protocol error escapes (the connection counts any other as {@link
 * CloseReason#INTERNAL_ERROR}), every buffer is released, and every client is unregistered.
 *
 * <p>Replay a failure with {@code -Delbus.fuzz.seed=SEED}; the frame count is {@code
 * -Delbus.fuzz.frames} (default 1,000,000; the reliability profile runs 10,000,000).
 */
class ConnectionFuzzTest {
  private static final int MAX_FRAME = 70_000;
  private static final int[] OPS = {Protocol.OP_PUBLISH, Protocol.OP_SUBSCRIBE,
      Protocol.OP_UNSUBSCRIBE, Protocol.OP_EXCLUDE, Protocol.OP_UNEXCLUDE, Protocol.OP_PUBLISH_FOR,
      Protocol.OP_MESSAGE, Protocol.OP_BROADCAST};
  private static final int[] PAYLOAD_SIZES = {0, 1, 100, 65536};
  private static final String[] NAMES = {"a", "b", "c.d", "c.e.f", "a%%1", "a%%2", "x%%y", ".bad",
      "", "b%%", "%%z"};
  private static final String[] TOPICS = {"t", "t/x", "t/+", "#", "t/#", "+/x", "", "/", "a//b",
      ".broker/warn", "t/#/y"};

  /** Receives everything: a subscriber to '#' and a message target, releasing what it gets. */
  private static final class Sink extends Session {
    final AtomicLong frames = new AtomicLong();

    Sink(String name) {
      super(name, ClientKind.INTERNAL, null, null);
    }

    @Override
    public int deliver(ByteBuf frame, boolean realtime) {
      frames.incrementAndGet();
      frame.release();
      return Protocol.RESPONSE_OK;
    }

    @Override
    public void disconnect(CloseReason reason) {}

    @Override
    public int queued() {
      return 0;
    }
  }

  @Test
  void fuzzedStreamsNeverBreakTheConnectionCode() {
    long frames = Long.getLong("elbus.fuzz.frames", 1_000_000L);
    long seed = Long.getLong("elbus.fuzz.seed", System.nanoTime());
    // a counting allocator outside Netty's leak detector (PARANOID would track a million buffers):
    // its used memory must return to zero, which proves every buffer was released
    UnpooledByteBufAllocator alloc = new UnpooledByteBufAllocator(false, true);
    BrokerStats stats = new BrokerStats();
    Router router = new Router(new ClientRegistry(), new TopicIndex(), stats, alloc);
    Sink sink = new Sink("sink"); // delivers nothing back: the counters show the traffic
    router.register(sink);
    router.subscribe(sink, "#");
    ListenerRuntime listener = new ListenerRuntime(new ListenerOptions()
        .setBind(Bind.tcp("127.0.0.1", 0)).setMaxFrameSize(MAX_FRAME).setQueueSize(64), 0, stats);
    Random seeds = new Random(seed);
    // protocol errors are expected by the thousand here: log only errors (internal errors)
    ch.qos.logback.classic.Logger log = (ch.qos.logback.classic.Logger)
        org.slf4j.LoggerFactory.getLogger(ClientConnection.class);
    ch.qos.logback.classic.Level level = log.getLevel();
    log.setLevel(ch.qos.logback.classic.Level.ERROR);
    try {
      fuzz(frames, seed, seeds, router, listener, alloc, stats);
    } finally {
      log.setLevel(level);
    }
  }

  private static void fuzz(long frames, long seed, Random seeds, Router router,
      ListenerRuntime listener, UnpooledByteBufAllocator alloc, BrokerStats stats) {
    long sent = 0;
    long streams = 0;
    long deliveriesBefore = stats.wFrames();
    while (sent < frames) {
      long s = seeds.nextLong();
      try {
        sent += runStream(s, router, listener, alloc);
      } catch (Throwable t) {
        throw new AssertionError("stream seed " + s + " (run seed " + seed + "): " + t, t);
      }
      streams++;
      assertThat(stats.closes(CloseReason.INTERNAL_ERROR))
          .as("internal errors, stream seed %d (run seed %d)", s, seed).isZero();
    }
    assertThat(router.registry().size()).as("run seed %d", seed).isEqualTo(1);
    assertThat(router.topics().size()).as("run seed %d", seed).isEqualTo(2); // sink: # and warn
    assertThat(alloc.metric().usedHeapMemory() + alloc.metric().usedDirectMemory())
        .as("bytes still allocated after %d streams, run seed %d", streams, seed).isZero();
    System.out.printf("connection fuzz: %d frames in %d streams, %d frames written, %d protocol "
        + "errors, run seed %d%n", sent, streams, stats.wFrames() - deliveriesBefore,
        stats.closes(CloseReason.PROTOCOL_ERROR), seed);
  }

  /** One connection: a (possibly broken) handshake and frames, fed in random chunks. */
  private static int runStream(long seed, Router router, ListenerRuntime listener,
      UnpooledByteBufAllocator alloc) {
    Random r = new Random(seed);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int n = 20 + r.nextInt(180);
    hello(r, out);
    name(r, out);
    for (int i = 0; i < n; i++) {
      frame(r, out);
    }
    byte[] stream = out.toByteArray();
    if (r.nextInt(3) == 0) {
      stream = mutate(r, stream);
    }
    EmbeddedChannel ch = new EmbeddedChannel();
    ch.config().setAllocator(alloc);
    ch.pipeline().addLast(new ClientConnection(router, listener));
    int off = 0;
    while (off < stream.length && ch.isOpen()) {
      int len = Math.min(stream.length - off, 1 + (r.nextBoolean() ? r.nextInt(16)
          : r.nextInt(4096)));
      ByteBuf chunk = alloc.heapBuffer(len).writeBytes(stream, off, len);
      ch.writeInbound(chunk);
      ch.runPendingTasks();
      off += len;
      drainOutbound(ch);
    }
    ch.close();
    ch.runPendingTasks();
    drainOutbound(ch);
    ch.finishAndReleaseAll();
    return n;
  }

  private static void drainOutbound(EmbeddedChannel ch) {
    Object o;
    while ((o = ch.readOutbound()) != null) {
      ((ByteBuf) o).release();
    }
    while ((o = ch.readInbound()) != null) {
      ((ByteBuf) o).release();
    }
  }

  private static void hello(Random r, ByteArrayOutputStream out) {
    switch (r.nextInt(20)) {
      case 0:
        out.writeBytes(new byte[] {(byte) 0xEC, 1, 0});
        break;
      case 1:
        out.writeBytes(new byte[] {(byte) 0xEB, 2, 0});
        break;
      default:
        out.writeBytes(new byte[] {(byte) 0xEB, 1, 0});
    }
  }

  private static void name(Random r, ByteArrayOutputStream out) {
    byte[] name;
    switch (r.nextInt(30)) {
      case 0:
        name = new byte[] {(byte) 0xC3, (byte) 0x28}; // invalid UTF-8
        break;
      case 1:
        name = new byte[65535];
        java.util.Arrays.fill(name, (byte) 'n');
        break;
      case 2:
        name = "a\0b".getBytes(StandardCharsets.UTF_8);
        break;
      default:
        name = (NAMES[r.nextInt(NAMES.length)] + (r.nextBoolean() ? "" : "." + r.nextInt(4)))
            .getBytes(StandardCharsets.UTF_8);
    }
    out.write(name.length & 0xFF);
    out.write(name.length >>> 8);
    out.writeBytes(name);
  }

  private static void frame(Random r, ByteArrayOutputStream out) {
    if (r.nextInt(10) == 0) {
      byte[] ping = new byte[9];
      if (r.nextBoolean()) {
        r.nextBytes(ping);
        ping[4] = 0;
      }
      out.writeBytes(ping);
      return;
    }
    int op = OPS[r.nextInt(OPS.length)];
    int qos = r.nextInt(4);
    int flags = r.nextInt(50) == 0 ? r.nextInt(256) : op | (qos << 6);
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    int payload = PAYLOAD_SIZES[r.nextInt(20) == 0 ? 3 : r.nextInt(3)];
    switch (op) {
      case Protocol.OP_SUBSCRIBE:
      case Protocol.OP_UNSUBSCRIBE:
      case Protocol.OP_EXCLUDE:
      case Protocol.OP_UNEXCLUDE: {
        int k = 1 + r.nextInt(4);
        for (int i = 0; i < k; i++) {
          if (i > 0) {
            body.write(0);
          }
          body.writeBytes(TOPICS[r.nextInt(TOPICS.length)].getBytes(StandardCharsets.UTF_8));
        }
        break;
      }
      case Protocol.OP_PUBLISH_FOR:
        body.writeBytes(TOPICS[r.nextInt(TOPICS.length)].getBytes(StandardCharsets.UTF_8));
        body.write(0);
        body.writeBytes(NAMES[r.nextInt(NAMES.length)].getBytes(StandardCharsets.UTF_8));
        body.write(0);
        body.writeBytes(new byte[payload]);
        break;
      default: {
        String key = op == Protocol.OP_PUBLISH ? TOPICS[r.nextInt(TOPICS.length)]
            : op == Protocol.OP_BROADCAST ? (r.nextBoolean() ? "*" : "?.?")
            : r.nextBoolean() ? "sink" : NAMES[r.nextInt(NAMES.length)];
        body.writeBytes(key.getBytes(StandardCharsets.UTF_8));
        body.write(0);
        byte[] p = new byte[payload];
        r.nextBytes(p);
        body.writeBytes(p);
      }
    }
    byte[] b = body.toByteArray();
    long len = b.length;
    if (r.nextInt(40) == 0) {
      long[] special = {0, 1, b.length - 1L, b.length + 1L, MAX_FRAME, MAX_FRAME + 1L,
          Integer.MAX_VALUE, 0xFFFFFFFFL};
      len = Math.max(0, special[r.nextInt(special.length)]);
    }
    ByteBuffer h = ByteBuffer.allocate(9).order(ByteOrder.LITTLE_ENDIAN);
    h.putInt(r.nextInt()).put((byte) flags).putInt((int) len);
    out.writeBytes(h.array());
    out.writeBytes(b);
  }

  private static byte[] mutate(Random r, byte[] s) {
    byte[] m = s.clone();
    int kind = r.nextInt(5);
    switch (kind) {
      case 0: // bit flips
        for (int i = 0, n = 1 + r.nextInt(8); i < n && m.length > 0; i++) {
          int p = r.nextInt(m.length);
          m[p] ^= (byte) (1 << r.nextInt(8));
        }
        return m;
      case 1: { // insert random bytes
        int p = r.nextInt(m.length + 1);
        byte[] ins = new byte[1 + r.nextInt(16)];
        r.nextBytes(ins);
        byte[] o = new byte[m.length + ins.length];
        System.arraycopy(m, 0, o, 0, p);
        System.arraycopy(ins, 0, o, p, ins.length);
        System.arraycopy(m, p, o, p + ins.length, m.length - p);
        return o;
      }
      case 2: { // delete a range
        if (m.length < 2) {
          return m;
        }
        int p = r.nextInt(m.length - 1);
        int n = 1 + r.nextInt(Math.min(16, m.length - p - 1));
        byte[] o = new byte[m.length - n];
        System.arraycopy(m, 0, o, 0, p);
        System.arraycopy(m, p + n, o, p, m.length - p - n);
        return o;
      }
      case 3: // truncation
        return java.util.Arrays.copyOf(m, r.nextInt(m.length + 1));
      default: { // concatenation with a shifted copy of itself
        int p = r.nextInt(m.length + 1);
        byte[] o = new byte[m.length + (m.length - p)];
        System.arraycopy(m, 0, o, 0, m.length);
        System.arraycopy(m, p, o, m.length, m.length - p);
        return o;
      }
    }
  }
}
