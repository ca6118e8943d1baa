package dev.elbus.bench;

import java.io.IOException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

/**
 * RELIABILITY.md item 4 against a running broker, outside the test JVM (no leak detector): the
 * throughput of a control pub/sub pair alone, during a flood to a topic nobody subscribes, during
 * the same flood to a subscriber that reads, and during the flood to a subscriber with a 128-byte
 * receive buffer that never reads (until the broker drops it as a slow consumer). The flood is
 * the one of {@code SlowConsumerIT}: 1000-byte publications, 32 a batch, the last acked before the
 * next batch. The control pair publishes 16 small messages a round (the last acked) and checks
 * that each arrives, in order. Prints each round and the medians.
 *
 * <p>With {@code nats} as the third argument the same load runs against a nats-server (PING/PONG
 * as the ack, {@code NAME.>} subscriptions); give it a {@code max_pending} near this broker's
 * queue bound, e.g. a config file with {@code max_pending: 8MB}.
 *
 * <pre>
 * taskset -c 0 java -jar target/elbus.jar -B 127.0.0.1:17777 -w 1 -t 60 &amp;
 * taskset -c 1 java -cp target/test-classes:target/elbus.jar dev.elbus.bench.SlowConsumerFairness \
 *     127.0.0.1:17777 [rounds=10] [elbus|nats]
 * </pre>
 */
public final class SlowConsumerFairness {
  private static final int BATCH = 32;
  private static final int CTL_ROUND = 16;

  private SlowConsumerFairness() {}

  /** What differs between the brokers: connecting, subscribing, a flood batch, a control round. */
  private interface Wire {
    SocketChannel connect(String name, int rcvbuf) throws IOException;

    void subscribe(SocketChannel ch, String pattern) throws IOException;

    /** {@code BATCH} 1000-byte publications to {@code topic}, then whatever asks for an ack. */
    byte[] floodBatch(String topic);

    void awaitFloodAck(SocketChannel ch) throws IOException;

    /** Publishes messages first..first+15 on pub, awaits the ack, checks each arrives on sub. */
    void controlRound(SocketChannel pub, SocketChannel sub, long first) throws IOException;

    /** A keep-alive the slow subscriber writes: fails once the broker has dropped it. */
    byte[] probe();
  }

  private static Wire wire;
  private static String addr;

  public static void main(String[] args) throws Exception {
    addr = args[0];
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 10;
    wire = args.length > 2 && args[2].equals("nats") ? new NatsWire() : new ElbusWire();
    Control ctl = new Control();
    SocketChannel pub = wire.connect("flood", 0);
    // warm-up: the control pair, one reference flood and one episode, not counted
    ctl.runFor(2_000);
    episode(ctl, pub, -1);
    double[][] shares = new double[rounds][];
    for (int r = 0; r < rounds; r++) {
      shares[r] = episode(ctl, pub, r);
    }
    double[] none = column(shares, 0);
    double[] ref = column(shares, 1);
    double[] slow = column(shares, 2);
    System.out.printf("median of %d rounds: the control pair keeps %.0f %% of its solo rate during"
        + " a flood to nobody, %.0f %% during the flood to a reader, %.0f %% during the"
        + " slow-consumer episode (min %.0f %%, max %.0f %%)%n",
        rounds, none[rounds / 2], ref[rounds / 2], slow[rounds / 2], slow[0], slow[rounds - 1]);
    pub.close();
    ctl.close();
  }

  private static double[] column(double[][] rows, int c) {
    double[] out = new double[rows.length];
    for (int i = 0; i < rows.length; i++) {
      out[i] = rows[i][c];
    }
    java.util.Arrays.sort(out);
    return out;
  }

  /** One round: solo rate, 1 s floods to nobody and to a reader, an episode; shares in %. */
  private static double[] episode(Control ctl, SocketChannel pub, int r)
      throws Exception {
    double solo = ctl.runFor(1_000);

    // reference 1: the flood to a topic nobody subscribes (the cheapest flood for the broker)
    long noneEnd = System.nanoTime() + 1_000_000_000L;
    CompletableFuture<Long> noneFlood = flood(pub, "none", () -> System.nanoTime() > noneEnd);
    double none = ctl.runUntil(noneFlood::isDone);
    long nonePublished = noneFlood.get();

    // reference 2: the flood to a subscriber that reads
    SocketChannel reader = wire.connect("reader." + r, 0);
    wire.subscribe(reader, "ref");
    AtomicBoolean stop = new AtomicBoolean();
    Thread drain = new Thread(() -> {
      ByteBuffer b = ByteBuffer.allocateDirect(1 << 16);
      try {
        while (!stop.get() && reader.read(b.clear()) >= 0) {
          // discard
        }
      } catch (IOException e) {
        // closed
      }
    });
    drain.start();
    long refEnd = System.nanoTime() + 1_000_000_000L;
    BooleanSupplier refStop = () -> System.nanoTime() > refEnd;
    CompletableFuture<Long> refFlood = flood(pub, "ref", refStop);
    double reference = ctl.runUntil(refFlood::isDone);
    long refPublished = refFlood.get();
    stop.set(true);
    INPUTS.remove(reader);
    reader.close();
    drain.join();

    // the episode: the flood to a subscriber that never reads
    SocketChannel slow = wire.connect("slow." + r, 128);
    wire.subscribe(slow, "load");
    AtomicBoolean gone = new AtomicBoolean();
    Thread watcher = new Thread(() -> {
      // a ping every millisecond: the write fails once the broker has reset the connection
      byte[] ping = wire.probe();
      try {
        while (true) {
          RawThroughput.write(slow, ping);
          Thread.sleep(1);
        }
      } catch (IOException | InterruptedException e) {
        gone.set(true);
      }
    });
    long t0 = System.nanoTime();
    watcher.start();
    CompletableFuture<Long> flood = flood(pub, "load", gone::get);
    double during = ctl.runUntil(flood::isDone);
    long published = flood.get();
    double episodeMs = (System.nanoTime() - t0) / 1e6;
    boolean dropped = gone.get();
    // closing the socket ends the watcher (its next write fails) if the broker did not
    INPUTS.remove(slow);
    slow.close();
    watcher.join();
    if (r >= 0) {
      // a lost or reordered control message would have thrown: reaching here means none was
      System.out.printf("round %d: control alone %.0f msg/s; during a flood to nobody %.0f msg/s"
          + " (%.0f %%, %d publications in 1 s); to a reader %.0f msg/s (%.0f %%, %d in 1 s);"
          + " during the slow-consumer episode %.0f msg/s (%.0f %%, %d publications, %s after"
          + " %.0f ms); control lost 0%n", r, solo, none, 100 * none / solo, nonePublished,
          reference, 100 * reference / solo, refPublished, during, 100 * during / solo,
          published, dropped ? "dropped" : "NOT dropped, flood stopped", episodeMs);
    }
    return new double[] {100 * none / solo, 100 * reference / solo, 100 * during / solo};
  }

  /** The flood of SlowConsumerIT on its own thread until {@code stop}; completes with the count. */
  private static CompletableFuture<Long> flood(SocketChannel ch, String topic,
      BooleanSupplier stop) {
    byte[] frames = wire.floodBatch(topic);
    return CompletableFuture.supplyAsync(() -> {
      long n = 0;
      long deadline = System.nanoTime() + 30_000_000_000L;
      try {
        while (!stop.getAsBoolean() && System.nanoTime() < deadline) {
          RawThroughput.write(ch, frames);
          wire.awaitFloodAck(ch);
          n += BATCH;
        }
      } catch (IOException e) {
        throw new RuntimeException(e);
      }
      return n;
    });
  }

  /** The control pair: numbered publications, each checked on arrival. */
  private static final class Control {
    final SocketChannel pub;
    final SocketChannel sub;
    long sent;

    Control() throws IOException {
      pub = wire.connect("ctl-pub", 0);
      sub = wire.connect("ctl-sub", 0);
      wire.subscribe(sub, "ctl");
    }

    double runFor(long ms) throws IOException {
      long end = System.nanoTime() + ms * 1_000_000;
      return runUntil(() -> System.nanoTime() > end);
    }

    double runUntil(BooleanSupplier stop) throws IOException {
      long first = sent;
      long t0 = System.nanoTime();
      do {
        wire.controlRound(pub, sub, sent);
        sent += CTL_ROUND;
      } while (!stop.getAsBoolean());
      return (sent - first) / ((System.nanoTime() - t0) / 1e9);
    }

    void close() throws IOException {
      pub.close();
      sub.close();
    }
  }

  private static byte[] payload(long seq) {
    return ("seq " + seq).getBytes(StandardCharsets.US_ASCII);
  }

  private static void check(byte[] d, int at, byte[] p, long seq) throws IOException {
    for (int k = 0; k < p.length; k++) {
      if (d[at + k] != p[k]) {
        throw new IOException("control message " + seq + " lost or out of order");
      }
    }
  }

  /** elbus: topics {@code NAME/x}, subscriptions {@code NAME/#}, QoS 1 on the last frame. */
  private static final class ElbusWire implements Wire {
    @Override
    public SocketChannel connect(String name, int rcvbuf) throws IOException {
      return RawThroughput.connect(addr, name, ch -> setRcvbuf(ch, rcvbuf));
    }

    @Override
    public void subscribe(SocketChannel ch, String pattern) throws IOException {
      RawThroughput.write(ch, RawThroughput.frame(1, 0x02 | (1 << 6),
          (pattern + "/#").getBytes(StandardCharsets.UTF_8), null));
      expectAck(ch, 1);
    }

    @Override
    public byte[] floodBatch(String topic) {
      byte[] t = (topic + "/x").getBytes(StandardCharsets.UTF_8);
      ByteBuffer batch = ByteBuffer.allocate(BATCH * (9 + t.length + 1 + 1000));
      for (int i = 0; i < BATCH; i++) {
        batch.put(RawThroughput.frame(i, i == BATCH - 1 ? 0x01 | (1 << 6) : 0x01, t,
            new byte[1000]));
      }
      return batch.array();
    }

    @Override
    public void awaitFloodAck(SocketChannel ch) throws IOException {
      expectAck(ch, BATCH - 1);
    }

    @Override
    public void controlRound(SocketChannel pub, SocketChannel sub, long first)
        throws IOException {
      byte[] topic = "ctl/x".getBytes(StandardCharsets.UTF_8);
      ByteBuffer out = ByteBuffer.allocate(CTL_ROUND * 32);
      for (int i = 0; i < CTL_ROUND; i++) {
        out.put(RawThroughput.frame((int) (first + i), i == CTL_ROUND - 1 ? 0x01 | (1 << 6)
            : 0x01, topic, payload(first + i)));
      }
      out.flip();
      while (out.hasRemaining()) {
        pub.write(out);
      }
      expectAck(pub, (int) (first + CTL_ROUND - 1));
      for (long i = first; i < first + CTL_ROUND; i++) {
        byte[] p = payload(i);
        // delivery: 6-byte header, sender 00 topic 00 payload
        int len = 6 + "ctl-pub".length() + 1 + topic.length + 1 + p.length;
        byte[] d = in(sub).bytes(len);
        while (d[0] == 0 && d[4] == 0 && d[5] == 0) {
          // a broker ping (6 zero bytes) first: shift by six
          byte[] more = in(sub).bytes(6);
          byte[] n = new byte[len];
          System.arraycopy(d, 6, n, 0, len - 6);
          System.arraycopy(more, 0, n, len - 6, 6);
          d = n;
        }
        check(d, len - p.length, p, i);
      }
    }

    @Override
    public byte[] probe() {
      return new byte[9]; // a client ping
    }

    /** Reads one 6-byte ack (skipping broker pings) and checks its op id and code. */
    private static void expectAck(SocketChannel ch, int opId) throws IOException {
      while (true) {
        byte[] a = in(ch).bytes(6);
        if (a[0] == 0) {
          continue; // a ping: 00 00 00 00 00 00
        }
        int id = ByteBuffer.wrap(a, 1, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        if (a[0] != (byte) 0xFE || id != opId || a[5] != 1) {
          throw new IOException("unexpected ack " + java.util.Arrays.toString(a));
        }
        return;
      }
    }
  }

  /**
   * nats-server, text protocol: subjects {@code NAME.x}, subscriptions {@code NAME.>}, PING/PONG
   * as the ack. Run nats-server with {@code max_pending} near this broker's queue bound (8192
   * frames of 1 KB), e.g. a config file holding {@code max_pending: 8MB}.
   */
  private static final class NatsWire implements Wire {
    @Override
    public SocketChannel connect(String name, int rcvbuf) throws IOException {
      int c = addr.lastIndexOf(':');
      SocketChannel ch = SocketChannel.open();
      setRcvbuf(ch, rcvbuf);
      ch.connect(new java.net.InetSocketAddress(addr.substring(0, c),
          Integer.parseInt(addr.substring(c + 1))));
      ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
      readLine(ch); // INFO
      RawNats.write(ch, "CONNECT {\"verbose\":false,\"pedantic\":false,\"name\":\"" + name
          + "\"}\r\nPING\r\n");
      expectPong(ch);
      return ch;
    }

    @Override
    public void subscribe(SocketChannel ch, String pattern) throws IOException {
      RawNats.write(ch, "SUB " + pattern + ".> 1\r\nPING\r\n");
      expectPong(ch);
    }

    @Override
    public byte[] floodBatch(String topic) {
      String one = "PUB " + topic + ".x 1000\r\n" + "x".repeat(1000) + "\r\n";
      return (one.repeat(BATCH) + "PING\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    @Override
    public void awaitFloodAck(SocketChannel ch) throws IOException {
      expectPong(ch);
    }

    @Override
    public void controlRound(SocketChannel pub, SocketChannel sub, long first)
        throws IOException {
      StringBuilder out = new StringBuilder();
      for (long i = first; i < first + CTL_ROUND; i++) {
        String p = "seq " + i;
        out.append("PUB ctl.x ").append(p.length()).append("\r\n").append(p).append("\r\n");
      }
      RawNats.write(pub, out.append("PING\r\n").toString());
      expectPong(pub);
      for (long i = first; i < first + CTL_ROUND; i++) {
        byte[] p = payload(i);
        String head = readLine(sub);
        while (head.equals("PING")) {
          RawNats.write(sub, "PONG\r\n");
          head = readLine(sub);
        }
        if (!head.equals("MSG ctl.x 1 " + p.length)) {
          throw new IOException("control message " + i + ": unexpected " + head);
        }
        byte[] d = in(sub).bytes(p.length + 2);
        check(d, 0, p, i);
      }
    }

    @Override
    public byte[] probe() {
      return "PING\r\n".getBytes(StandardCharsets.US_ASCII);
    }

    /** Reads the next PONG, answering server PINGs on the way. */
    private static void expectPong(SocketChannel ch) throws IOException {
      while (true) {
        String l = readLine(ch);
        if (l.equals("PONG")) {
          return;
        }
        if (l.equals("PING")) {
          RawNats.write(ch, "PONG\r\n");
        } else if (!l.startsWith("+OK")) {
          throw new IOException("unexpected " + l);
        }
      }
    }

    private static String readLine(SocketChannel ch) throws IOException {
      return in(ch).line();
    }
  }

  private static final java.util.Map<SocketChannel, In> INPUTS =
      java.util.Collections.synchronizedMap(new java.util.IdentityHashMap<>());

  private static In in(SocketChannel ch) {
    return INPUTS.computeIfAbsent(ch, In::new);
  }

  /** Buffered input of one channel: both wires read the same way (few syscalls). */
  private static final class In {
    final SocketChannel ch;
    final ByteBuffer buf = ByteBuffer.allocate(1 << 16).flip();

    In(SocketChannel ch) {
      this.ch = ch;
    }

    private void fill() throws IOException {
      buf.compact();
      try {
        if (ch.read(buf) < 0) {
          throw new IOException("closed");
        }
      } finally {
        buf.flip();
      }
    }

    byte[] bytes(int n) throws IOException {
      byte[] out = new byte[n];
      int got = 0;
      while (got < n) {
        if (!buf.hasRemaining()) {
          fill();
        }
        int k = Math.min(n - got, buf.remaining());
        buf.get(out, got, k);
        got += k;
      }
      return out;
    }

    String line() throws IOException {
      StringBuilder b = new StringBuilder();
      while (true) {
        if (!buf.hasRemaining()) {
          fill();
        }
        char c = (char) buf.get();
        if (c == '\n') {
          int n = b.length();
          return n > 0 && b.charAt(n - 1) == '\r' ? b.substring(0, n - 1) : b.toString();
        }
        b.append(c);
      }
    }
  }

  private static void setRcvbuf(SocketChannel ch, int rcvbuf) {
    if (rcvbuf > 0) {
      try {
        ch.setOption(StandardSocketOptions.SO_RCVBUF, rcvbuf);
      } catch (IOException e) {
        throw new RuntimeException(e);
      }
    }
  }
}
