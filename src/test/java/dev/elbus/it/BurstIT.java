package dev.elbus.it;

import ch.qos.logback.classic.Level;
import dev.elbus.impl.routing.CloseReason;
import dev.elbus.impl.routing.Session;
import dev.elbus.support.Bursts.Kind;
import dev.elbus.support.Bursts;
import dev.elbus.support.Figures;
import dev.elbus.support.LeakGate;
import dev.elbus.support.LogCapture;
import dev.elbus.support.StreamReceiver;
import dev.elbus.support.TestBroker;
import dev.elbus.support.Transport;
import io.netty.channel.ChannelHandlerContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.reflect.Field;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static dev.elbus.it.Wire.uniq;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * PROTOCOL.md section 6, "a slow client is one that does not read": a burst written at once to a
 * client that reads arrives whole and in order, over both transports, for direct messages,
 * broadcasts and publications, with sender and receiver on one event loop and on two; from a Java
 * reader and from a Python script. A client that reads at a tenth of the sender's rate, or not at
 * all, is still dropped within the bound (docs/protocol-notes.md, "Slow consumers").
 * {@code server.StandaloneBurstIT} sends the million-frame bursts to the stand-alone broker, which
 * runs at full speed there (here Netty's paranoid leak detector slows every allocation).
 */
@ExtendWith(LeakGate.class)
class BurstIT {
  /** About 40 bytes of body per frame, as in the report that found the defect. */
  private static final int PADDING = 24;

  private static TestBroker oneLoop;
  private static TestBroker twoLoops;

  @BeforeAll
  static void start() throws Exception {
    oneLoop = TestBroker.start(1, Wire.QUIET);
    twoLoops = TestBroker.start(2, Wire.QUIET);
  }

  @AfterAll
  static void stop() throws Exception {
    oneLoop.close();
    twoLoops.close();
  }

  /** transport x kind x (one loop, two loops with sender and receiver on different loops). */
  static Stream<Arguments> everyPath() {
    List<Arguments> out = new ArrayList<>();
    for (Transport t : Transport.values()) {
      for (Kind k : Kind.values()) {
        out.add(Arguments.of(t, k, 1));
        out.add(Arguments.of(t, k, 2));
      }
    }
    return out.stream();
  }

  static Stream<Arguments> largeBursts() {
    List<Arguments> out = new ArrayList<>();
    for (Transport t : Transport.values()) {
      out.add(Arguments.of(t, Kind.PUBLICATION, 100_000));
      out.add(Arguments.of(t, Kind.DIRECT, 100_000));
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0} {1} loops={2}")
  @MethodSource("everyPath")
  void tenThousandSmallFramesWrittenAtOnceArriveWhole(Transport t, Kind k, int loops)
      throws Exception {
    burst(loops == 1 ? oneLoop : twoLoops, t, k, 10_000, PADDING, loops == 2);
  }

  @ParameterizedTest(name = "{0} {1} frames={2}")
  @MethodSource("largeBursts")
  void largeBurstsToAReaderThatKeepsUpArriveWhole(Transport t, Kind k, int frames)
      throws Exception {
    burst(oneLoop, t, k, frames, PADDING, false);
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void sixteenFrames4MiBEachArriveWhole(Transport t) throws Exception {
    burst(twoLoops, t, Kind.DIRECT, 16, 4 * 1024 * 1024, true);
  }

  /** A Python script reading with recv() and parsing frame by frame: a slow, steady reader. */
  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("pythonPaths")
  void aPythonReaderGetsTheWholeBurst(Transport t, Kind k) throws Exception {
    TestBroker b = oneLoop;
    String ns = uniq("py");
    long slowBefore = b.router().stats().closes(CloseReason.SLOW_CONSUMER);
    try (SocketChannel tx = StreamReceiver.connect(b, t, ns + "-tx")) {
      String addr = t == Transport.TCP ? "127.0.0.1:" + b.port() : b.socket().toString();
      assertThat(Bursts.pythonReader(addr, tx, k, ns, 10_000, PADDING)).as("python reader")
          .isEqualTo("OK 10000");
    }
    assertThat(b.router().stats().closes(CloseReason.SLOW_CONSUMER))
        .as("slow-consumer drops").isEqualTo(slowBefore);
  }

  static Stream<Arguments> pythonPaths() {
    List<Arguments> out = new ArrayList<>();
    for (Transport t : Transport.values()) {
      for (Kind k : Kind.values()) {
        out.add(Arguments.of(t, k));
      }
    }
    return out.stream();
  }

  /**
   * A receiver reading at a tenth of the sender's rate is dropped when its queue would pass
   * {@code queue_max_bytes}; one that does not read at all once more than {@code queue_size}
   * frames wait and its socket took nothing for {@code write_timeout}. Either way the close is
   * counted as {@code slow_consumer}, logged once with the bound that was hit, and the socket is
   * closed; a sender is never held back.
   */
  @ParameterizedTest(name = "{0} {1} reads={2}")
  @MethodSource("slowReaders")
  void aReaderSlowerThanTheSenderIsDropped(Transport t, Kind k, boolean reads) throws Exception {
    int queueSize = 1024;
    long maxBytes = 4L << 20;
    try (TestBroker b = TestBroker.start(1, Wire.QUIET.andThen(l -> l.setQueueSize(queueSize)
        .setQueueMaxBytes(maxBytes).setWriteTimeoutMs(200)));
         LogCapture log = LogCapture.on("dev.elbus.impl.net.ClientConnection")) {
      String ns = uniq("slow");
      String rxName = ns + ".rx";
      String topic = ns + "/s";
      String key = k.target(ns, topic);
      SocketChannel rxCh = StreamReceiver.connect(b, t, rxName);
      if (k == Kind.PUBLICATION) {
        Bursts.subscribe(rxCh, topic);
      }
      rxCh.setOption(StandardSocketOptions.SO_RCVBUF, 64 * 1024);
      int payload = 1000;
      long senderRate = 10_000_000; // bytes per second
      StreamReceiver rx = reads ? StreamReceiver.start(rxCh, k.type,
          k.prefix(ns + "-tx", topic), Long.MAX_VALUE, senderRate / 10) : null;
      long sent = 0;
      long t0 = System.nanoTime();
      try (SocketChannel tx = StreamReceiver.connect(b, t, ns + "-tx")) {
        tx.configureBlocking(false);
        ByteBuffer pending = ByteBuffer.allocate(0);
        while (b.router().registry().get(rxName) != null) {
          assertThat(System.nanoTime() - t0).as("dropped within 30 s")
              .isLessThan(TimeUnit.SECONDS.toNanos(30));
          long due = (System.nanoTime() - t0) * senderRate / 1_000_000_000L / (payload + 40);
          if (!pending.hasRemaining() && sent < due) {
            pending = ByteBuffer.wrap(Bursts.frames(k, key, (int) sent, 16, payload, false));
            sent += 16;
          }
          tx.write(pending);
          Thread.sleep(0, 200_000);
        }
      }
      long ms = (System.nanoTime() - t0) / 1_000_000;
      long received = -1;
      if (rx != null) {
        assertThat(rx.await(10, TimeUnit.SECONDS)).as("receiver closed").isTrue();
        assertThat(rx.error()).as("stream error").isNull();
        assertThat(rx.closedByBroker()).as("closed by the broker").isTrue();
        received = rx.received();
        rx.close();
      } else {
        assertThat(StreamReceiver.readToEnd(rxCh, 10_000)).as("closed by the broker").isTrue();
        rxCh.close();
      }
      Wire.await(() -> !log.matching(Level.WARN, "slow_consumer").isEmpty(), 5_000,
          "the slow_consumer log line");
      assertThat(b.router().stats().closes(CloseReason.SLOW_CONSUMER)).isEqualTo(1);
      List<String> lines = log.matching(Level.WARN, "slow_consumer").stream()
          .map(e -> e.getFormattedMessage()).collect(Collectors.toList());
      assertThat(lines).as("log lines").hasSize(1);
      // a reader that does not read hits write_timeout; one that reads slowly hits the byte
      // bound, or write_timeout when the kernel reports free space too rarely (TCP wakes a writer
      // only once half of the send buffer is free)
      assertThat(lines.get(0)).contains(rxName).containsAnyOf(reads ? "queue_max_bytes" : "",
          "took nothing");
      // what the receiver missed fits in the bound plus what its socket held
      long backlog = sent - Math.max(received, 0);
      Figures.print("BURST slow reader %s %s reads=%s: dropped after %d ms, %d frames sent, %d"
          + " received: %s%n", t, k, reads, ms, sent, received, lines.get(0));
      assertThat(backlog * (payload + 64)).as("frames sent and not received, in bytes")
          .isLessThan(maxBytes + (16L << 20));
    }
  }

  static Stream<Arguments> slowReaders() {
    List<Arguments> out = new ArrayList<>();
    for (Transport t : Transport.values()) {
      for (Kind k : Kind.values()) {
        out.add(Arguments.of(t, k, true));
      }
      out.add(Arguments.of(t, Kind.PUBLICATION, false));
    }
    return out.stream();
  }

  // ------------------------------------------------------------------------------------------

  private static void burst(TestBroker b, Transport t, Kind k, int frames, int payload,
      boolean crossLoop) throws Exception {
    String ns = uniq("burst");
    String rxName = ns + ".rx";
    String txName = ns + "-tx";
    String topic = ns + "/b";
    long slowBefore = b.router().stats().closes(CloseReason.SLOW_CONSUMER);
    SocketChannel rxCh = StreamReceiver.connect(b, t, rxName);
    if (k == Kind.PUBLICATION) {
      Bursts.subscribe(rxCh, topic);
    }
    List<SocketChannel> spare = new ArrayList<>();
    SocketChannel tx = null;
    try (StreamReceiver rx = StreamReceiver.start(rxCh, k.type, k.prefix(txName, topic),
        frames, 0)) {
      tx = placed(b, t, txName, loopOf(b, rxName), crossLoop, spare);
      long t0 = System.nanoTime();
      Bursts.send(tx, k, k.target(ns, topic), frames, payload);
      Bursts.expectOk(tx, frames - 1);
      long timeout = 60 + frames / 10_000;
      assertThat(rx.await(timeout, TimeUnit.SECONDS)).as("receiver done in %d s", timeout)
          .isTrue();
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertThat(rx.error()).as("stream error").isNull();
      assertThat(rx.closedByBroker()).as("receiver closed by the broker after %d frames",
          rx.received()).isFalse();
      assertThat(rx.received()).isEqualTo(frames);
      assertThat(b.router().registry().get(rxName)).as("receiver registered")
          .isNotNull();
      if (frames >= 100_000 || payload > PADDING) {
        Figures.print("BURST %s %s %d frames of %d B: whole in %d ms%n", t, k, frames,
            payload + 4, ms);
      }
    } finally {
      if (tx != null) {
        tx.close();
      }
      for (SocketChannel c : spare) {
        c.close();
      }
    }
    assertThat(b.router().stats().closes(CloseReason.SLOW_CONSUMER))
        .as("slow-consumer drops").isEqualTo(slowBefore);
  }

  /**
   * Connects {@code name} on the event loop {@code loop}, or on the other one ({@code other}):
   * Vert.x hands connections to the loops in turn, so a retry, or one spare connection (kept open
   * in {@code spare}), moves it.
   */
  private static SocketChannel placed(TestBroker b, Transport t, String name, Executor loop,
      boolean other, List<SocketChannel> spare) throws Exception {
    for (int i = 0; ; i++) {
      assertThat(i).as("connections tried to place %s", name).isLessThan(8);
      SocketChannel c = StreamReceiver.connect(b, t, name);
      if ((loopOf(b, name) != loop) == other) {
        return c;
      }
      c.close();
      Wire.awaitUnregistered(b.broker(), name);
      if (i % 2 == 1) {
        spare.add(StreamReceiver.connect(b, t, name + "-spare" + i));
      }
    }
  }

  /**
   * Two senders, one on the receiver's event loop (its frames take the same-loop fast path while
   * the receiver's queue is empty) and one on the other loop (queued), burst at the same time:
   * the receiver gets every frame of each, each sender's in its order.
   */
  @ParameterizedTest
  @EnumSource(Transport.class)
  void sendersOnBothLoopsKeepTheirOrderAtOneReceiver(Transport t) throws Exception {
    String ns = uniq("mix");
    int frames = 20_000;
    SocketChannel rx = StreamReceiver.connect(twoLoops, t, ns + ".rx");
    List<SocketChannel> spare = new ArrayList<>();
    Executor rxLoop = loopOf(twoLoops, ns + ".rx");
    SocketChannel near = placed(twoLoops, t, ns + "-near", rxLoop, false, spare);
    SocketChannel far = placed(twoLoops, t, ns + "-far", rxLoop, true, spare);
    try {
      // both senders burst at once on their own threads while this thread reads
      List<java.util.concurrent.CompletableFuture<Void>> senders = new ArrayList<>();
      for (SocketChannel tx : List.of(near, far)) {
        senders.add(java.util.concurrent.CompletableFuture.runAsync(() -> {
          try {
            Bursts.send(tx, Kind.DIRECT, ns + ".rx", frames, PADDING);
            Bursts.expectOk(tx, frames - 1);
          } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        }));
      }
      // read both streams: frames are "sender 00 seq ..."; each sender's seq counts up from 0
      java.util.Map<String, Integer> next = new java.util.HashMap<>();
      ByteBuffer buf = ByteBuffer.allocate(1 << 20).order(java.nio.ByteOrder.LITTLE_ENDIAN);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      int got = 0;
      while (got < 2 * frames) {
        assertThat(System.nanoTime()).as("all frames within 60 s (got %d)", got)
            .isLessThan(deadline);
        if (rx.read(buf) < 0) {
          throw new AssertionError("closed by the broker after " + got + " frames");
        }
        buf.flip();
        while (buf.remaining() >= 6) {
          int p = buf.position();
          int len = buf.getInt(p + 1);
          if (buf.remaining() < 6 + len) {
            break;
          }
          assertThat(buf.get(p) & 0xFF).as("frame type").isEqualTo(0x12);
          int z = p + 6;
          while (buf.get(z) != 0) {
            z++;
          }
          byte[] sender = new byte[z - p - 6];
          buf.get(p + 6, sender);
          String from = new String(sender, java.nio.charset.StandardCharsets.UTF_8);
          int seq = buf.getInt(z + 1);
          int want = next.getOrDefault(from, 0);
          assertThat(seq).as("frame %d of %s", want, from).isEqualTo(want);
          next.put(from, want + 1);
          got++;
          buf.position(p + 6 + len);
        }
        buf.compact();
      }
      assertThat(next).containsEntry(ns + "-near", frames).containsEntry(ns + "-far", frames);
      for (java.util.concurrent.CompletableFuture<Void> f : senders) {
        f.get(10, TimeUnit.SECONDS); // the last frame of each was acked 01
      }
    } finally {
      rx.close();
      near.close();
      far.close();
      for (SocketChannel c : spare) {
        c.close();
      }
    }
  }

  /** The event loop serving a socket client (test-only reflection into the net package). */
  private static Executor loopOf(TestBroker b, String name) throws Exception {
    Session s = b.router().registry().get(name);
    Field f = s.getClass().getDeclaredField("ctx");
    f.setAccessible(true);
    return ((ChannelHandlerContext) f.get(s)).executor();
  }
}
