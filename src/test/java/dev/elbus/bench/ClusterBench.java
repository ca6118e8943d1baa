package dev.elbus.bench;

import dev.elbus.support.RawClient;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Two nodes of a cluster side by side with one (docs/performance.md, "Cluster"): elbus brokers
 * in cluster mode, or nats-server nodes joined by routes, measured with the same raw-socket
 * client code. Each stage runs with both ends on node 1 ({@code same}) and with the sender on
 * node 1 and the receivers on node 2 ({@code cross}; for the fan-out half of them):
 *
 * <ul>
 *   <li>{@code stream}: publications of {@code payload} bytes, QoS 0, 1 -> 1, within a window
 *       of what the receiver read (msg/s);
 *   <li>{@code fanout}: the same to 4 subscribers (2 + 2 across), deliveries/s summed;
 *   <li>{@code delivery}: one publication in flight, sent until the subscriber has it (/s and
 *       median microseconds);
 *   <li>{@code ack}: one acked operation in flight. elbus: a QoS-1 direct message, acked once
 *       the receiving node queued it; nats: PUB + PING, answered by the sender's own server
 *       (nats-server does not wait for the other node: not the same guarantee);
 *   <li>{@code rpc}: one call in flight to a responder on the other node. elbus: an RPC call
 *       (section 9) answered by a raw responder; nats: a request with a reply inbox.
 * </ul>
 *
 * <pre>
 * java -cp target/test-classes:target/elbus.jar dev.elbus.bench.ClusterBench \
 *     elbus|nats NODE1 NODE2 [messages=1000000] [trips=20000] [payload=100] [rounds=3]
 * </pre>
 *
 * NODE is {@code HOST:PORT} (or a Unix socket path for elbus). Prints one line per stage and
 * round, {@code CLUSTER-BENCH broker stage placement value unit}. {@code ClusterBench summary
 * LOG} reads such lines (after a {@code # round 0 (warm-up)} line, up to the next {@code #
 * round} line, they are left out) and prints the medians, min-max and elbus/nats ratios.
 */
public final class ClusterBench {
  /** elbus: frames in flight at most, half the default queue bound of 8192 frames. */
  private static final long ELBUS_WINDOW = 4096;
  private static final long NATS_WINDOW_BYTES = 4096L * 150;

  private final boolean nats;
  private final String[] nodes;
  private final int payload;
  private int seq;

  private ClusterBench(boolean nats, String n1, String n2, int payload) {
    this.nats = nats;
    this.nodes = new String[] {n1, n2};
    this.payload = payload;
  }

  public static void main(String[] args) throws Exception {
    if (args[0].equals("summary")) {
      summary(java.nio.file.Path.of(args[1]));
      return;
    }
    boolean nats = args[0].equals("nats");
    int messages = args.length > 3 ? Integer.parseInt(args[3]) : 1_000_000;
    int trips = args.length > 4 ? Integer.parseInt(args[4]) : 20_000;
    int payload = args.length > 5 ? Integer.parseInt(args[5]) : 100;
    int rounds = args.length > 6 ? Integer.parseInt(args[6]) : 3;
    ClusterBench b = new ClusterBench(nats, args[1], args[2], payload);
    for (int round = 0; round < rounds; round++) {
      for (boolean cross : new boolean[] {false, true}) {
        b.stream(messages, 1, cross);
        b.stream(messages / 2, 4, cross);
        b.delivery(trips, cross);
        b.ack(trips, cross);
        b.rpc(trips, cross);
      }
    }
  }

  /** Medians per broker, stage and placement of a log of rounds; the warm-up round left out. */
  private static void summary(java.nio.file.Path log) throws IOException {
    java.util.Map<String, List<Double>> values = new java.util.TreeMap<>();
    java.util.Map<String, String> units = new java.util.HashMap<>();
    boolean warmup = false;
    for (String l : java.nio.file.Files.readAllLines(log)) {
      if (l.startsWith("# round")) {
        warmup = l.contains("warm-up");
      }
      String[] f = l.split(" ");
      if (warmup || f.length != 6 || !f[0].equals("CLUSTER-BENCH")) {
        continue;
      }
      String key = f[2] + " " + f[3] + " " + f[1];
      values.computeIfAbsent(key, k -> new ArrayList<>()).add(Double.parseDouble(f[4]));
      units.put(f[2], f[5]);
    }
    System.out.printf("%-14s %-6s %-34s %-34s %s%n", "stage", "where", "elbus median [min-max]",
        "nats median [min-max]", "elbus/nats");
    java.util.Set<String> rows = new java.util.LinkedHashSet<>();
    for (String k : values.keySet()) {
      rows.add(k.substring(0, k.lastIndexOf(' ')));
    }
    for (String row : rows) {
      String unit = units.get(row.split(" ")[0]);
      double e = median(values.get(row + " elbus"));
      double n = median(values.get(row + " nats"));
      System.out.printf(Locale.ROOT, "%-14s %-6s %-34s %-34s %.2f%n", row.split(" ")[0],
          row.split(" ")[1], cell(values.get(row + " elbus"), unit),
          cell(values.get(row + " nats"), unit), e / n);
    }
  }

  private static double median(List<Double> v) {
    if (v == null || v.isEmpty()) {
      return Double.NaN;
    }
    List<Double> s = new ArrayList<>(v);
    s.sort(null);
    int m = s.size() / 2;
    return s.size() % 2 == 1 ? s.get(m) : (s.get(m - 1) + s.get(m)) / 2;
  }

  private static String cell(List<Double> v, String unit) {
    if (v == null || v.isEmpty()) {
      return "-";
    }
    return String.format(Locale.ROOT, "%.0f [%.0f-%.0f] %s (%d)", median(v),
        v.stream().mapToDouble(x -> x).min().orElse(0), v.stream().mapToDouble(x -> x).max()
            .orElse(0), unit, v.size());
  }

  private String broker() {
    return nats ? "nats" : "elbus";
  }

  private static void report(String broker, String stage, boolean cross, double value,
      String unit) {
    System.out.printf(Locale.ROOT, "CLUSTER-BENCH %s %s %s %.0f %s%n", broker, stage,
        cross ? "cross" : "same", value, unit);
  }

  /** The node of receiver {@code k} of {@code n}: node 1, or for {@code cross} the second half. */
  private String receiverNode(boolean cross, int k, int n) {
    return !cross ? nodes[0] : n == 1 || k >= n / 2 ? nodes[1] : nodes[0];
  }

  // ---------------------------------------------------------------- stages

  private void stream(int messages, int receivers, boolean cross) throws Exception {
    String subject = "bench." + (++seq);
    SocketChannel[] rxs = new SocketChannel[receivers];
    for (int k = 0; k < receivers; k++) {
      rxs[k] = subscribe(receiverNode(cross, k, receivers), "bench.rx." + seq + "." + k, subject);
    }
    SocketChannel tx = connect(nodes[0], "bench.tx." + seq);
    awaitInterest(tx, rxs, subject);
    byte[] p = new byte[payload];
    Arrays.fill(p, (byte) 'x');
    byte[] one;
    long frameLen;
    long window;
    if (nats) {
      one = ("PUB " + subject + " " + payload + "\r\n").getBytes(StandardCharsets.US_ASCII);
      one = RawClient.concat(one, p, "\r\n".getBytes(StandardCharsets.US_ASCII));
      frameLen = ("MSG " + subject + " 1 " + payload + "\r\n").length() + payload + 2;
      window = NATS_WINDOW_BYTES;
    } else {
      byte[] t = subject.getBytes(StandardCharsets.UTF_8);
      one = RawThroughput.frame(0, 0x01, t, p);
      frameLen = 6 + ("bench.tx." + seq).length() + 1 + t.length + 1 + payload;
      window = ELBUS_WINDOW * frameLen;
    }
    double secs = Stream.run(tx, rxs, one, frameLen, messages, window);
    report(broker(), receivers == 1 ? "stream" : "fanout", cross,
        (double) messages * receivers / secs, receivers == 1 ? "msg/s" : "deliveries/s");
    tx.close();
    for (SocketChannel rx : rxs) {
      rx.close();
    }
  }

  /** One publication in flight: sent, then read whole by the subscriber. */
  private void delivery(int trips, boolean cross) throws Exception {
    String subject = "bench." + (++seq);
    SocketChannel rx = subscribe(receiverNode(cross, 0, 1), "bench.rx." + seq, subject);
    SocketChannel tx = connect(nodes[0], "bench.tx." + seq);
    awaitInterest(tx, new SocketChannel[] {rx}, subject);
    byte[] p = new byte[payload];
    byte[] one;
    int len;
    if (nats) {
      one = RawClient.concat(("PUB " + subject + " " + payload + "\r\n").getBytes(
          StandardCharsets.US_ASCII), p, "\r\n".getBytes(StandardCharsets.US_ASCII));
      len = ("MSG " + subject + " 1 " + payload + "\r\n").length() + payload + 2;
    } else {
      byte[] t = subject.getBytes(StandardCharsets.UTF_8);
      one = RawThroughput.frame(0, 0x01, t, p);
      len = 6 + ("bench.tx." + seq).length() + 1 + t.length + 1 + payload;
    }
    oneInFlight("delivery", cross, trips, tx, one, rx, len);
    tx.close();
    rx.close();
  }

  /** One acked operation in flight (see the class comment for what the ack means). */
  private void ack(int trips, boolean cross) throws Exception {
    String sink = "bench.sink." + (++seq);
    SocketChannel s = nats ? subscribe(receiverNode(cross, 0, 1), sink, sink)
        : connect(receiverNode(cross, 0, 1), sink);
    Thread drain = drain(s);
    SocketChannel tx = connect(nodes[0], "bench.tx." + seq);
    byte[] p = new byte[payload];
    byte[] one;
    int len;
    if (nats) {
      one = RawClient.concat(("PUB " + sink + " " + payload + "\r\n").getBytes(StandardCharsets.US_ASCII),
          p, "\r\nPING\r\n".getBytes(StandardCharsets.US_ASCII));
      len = 6; // PONG\r\n
    } else {
      one = RawThroughput.frame(1, 0x12 | (1 << 6), sink.getBytes(StandardCharsets.UTF_8), p);
      len = 6; // FE <op id> 01
    }
    oneInFlight("ack", cross, trips, tx, one, tx, len);
    tx.close();
    s.close();
    drain.join(5_000);
  }

  /** One RPC call in flight to a responder thread on the receiving node. */
  private void rpc(int trips, boolean cross) throws Exception {
    String srv = "bench.srv." + (++seq);
    SocketChannel s = nats ? subscribe(receiverNode(cross, 0, 1), srv, srv)
        : connect(receiverNode(cross, 0, 1), srv);
    Thread responder = new Thread(() -> respond(s));
    responder.setDaemon(true);
    responder.start();
    String me = "bench.cli." + seq;
    SocketChannel tx = connect(nodes[0], me);
    byte[] params = new byte[payload];
    byte[] one;
    int len;
    if (nats) {
      String inbox = "_INBOX." + seq;
      RawNats.write(tx, "SUB " + inbox + " 1\r\nPING\r\n");
      RawNats.expectPong(tx);
      awaitInterest(tx, null, srv);
      one = RawClient.concat(("PUB " + srv + " " + inbox + " " + payload + "\r\n").getBytes(
          StandardCharsets.US_ASCII), params, "\r\n".getBytes(StandardCharsets.US_ASCII));
      len = ("MSG " + inbox + " 1 " + payload + "\r\n").length() + payload + 2;
    } else {
      // request 01 <call id u32> method 00 params; reply: sender 00 11 <call id u32> result
      ByteBuffer req = ByteBuffer.allocate(5 + 5 + payload).order(ByteOrder.LITTLE_ENDIAN);
      req.put((byte) 1).putInt(1).put("echo".getBytes(StandardCharsets.US_ASCII)).put((byte) 0)
          .put(params);
      one = RawThroughput.frame(0, 0x12, srv.getBytes(StandardCharsets.UTF_8), req.array());
      len = 6 + srv.length() + 1 + 5 + payload;
    }
    oneInFlight("rpc", cross, trips, tx, one, tx, len);
    tx.close();
    s.close();
    responder.join(5_000);
  }

  /** Writes {@code one}, reads {@code len} bytes on {@code rx}, {@code trips} times. */
  private void oneInFlight(String stage, boolean cross, int trips, SocketChannel tx, byte[] one,
      SocketChannel rx, int len) throws IOException {
    ByteBuffer out = ByteBuffer.wrap(one);
    ByteBuffer in = ByteBuffer.allocate(len);
    long[] us = new long[trips];
    long t0 = System.nanoTime();
    for (int i = 0; i < trips; i++) {
      long s = System.nanoTime();
      out.rewind();
      while (out.hasRemaining()) {
        tx.write(out);
      }
      in.clear();
      while (in.hasRemaining()) {
        if (rx.read(in) < 0) {
          throw new IOException("closed");
        }
      }
      us[i] = (System.nanoTime() - s) / 1_000;
    }
    double secs = (System.nanoTime() - t0) / 1e9;
    Arrays.sort(us);
    report(broker(), stage, cross, trips / secs, "/s");
    report(broker(), stage + ".p50", cross, us[trips / 2], "us");
    report(broker(), stage + ".p99", cross, us[trips * 99 / 100], "us");
  }

  // ---------------------------------------------------------------- clients

  private SocketChannel connect(String node, String name) throws IOException {
    return nats ? RawNats.connect(node) : RawThroughput.connect(node, name);
  }

  /** A client of {@code node} subscribed to {@code subject}, the subscription confirmed. */
  private SocketChannel subscribe(String node, String name, String subject) throws IOException {
    SocketChannel c = connect(node, name);
    if (nats) {
      RawNats.write(c, "SUB " + subject + " 1\r\nPING\r\n");
      RawNats.expectPong(c);
    } else {
      RawThroughput.write(c, RawThroughput.frame(1, 0x02 | (1 << 6),
          subject.getBytes(StandardCharsets.UTF_8), null));
      RawThroughput.readFully(c, 6); // the ack: every node knows the subscription
    }
    return c;
  }

  /**
   * nats-server: a SUB confirmed by PONG is not yet known to the other node (routes announce it
   * on their own time, docs/performance.md): probe publications until every subscriber got one,
   * then let them read what else arrives. elbus: the subscribe ack covers it.
   */
  private void awaitInterest(SocketChannel tx, SocketChannel[] rxs, String subject)
      throws Exception {
    if (!nats) {
      return;
    }
    if (rxs == null) {
      Thread.sleep(500); // a responder subscribed on the other node: routes take their time
      return;
    }
    for (SocketChannel rx : rxs) {
      rx.configureBlocking(false);
    }
    boolean[] got = new boolean[rxs.length];
    ByteBuffer b = ByteBuffer.allocate(1 << 16);
    long deadline = System.nanoTime() + 10_000_000_000L;
    int left = rxs.length;
    while (left > 0) {
      if (System.nanoTime() > deadline) {
        throw new IOException("the subscription never reached the publisher's node");
      }
      RawNats.write(tx, "PUB " + subject + " 0\r\n\r\n");
      Thread.sleep(5);
      for (int k = 0; k < rxs.length; k++) {
        if (rxs[k].read(b.clear()) > 0 && !got[k]) {
          got[k] = true;
          left--;
        }
      }
    }
    long quiet = System.nanoTime() + 100_000_000L;
    while (System.nanoTime() < quiet) {
      for (SocketChannel rx : rxs) {
        if (rx.read(b.clear()) > 0) {
          quiet = System.nanoTime() + 100_000_000L;
        }
      }
      Thread.sleep(5);
    }
    for (SocketChannel rx : rxs) {
      rx.configureBlocking(true);
    }
  }

  private static Thread drain(SocketChannel c) {
    Thread t = new Thread(() -> {
      ByteBuffer b = ByteBuffer.allocateDirect(1 << 16);
      try {
        while (c.read(b.clear()) >= 0) {
          // discard
        }
      } catch (IOException e) {
        // closed
      }
    });
    t.setDaemon(true);
    t.start();
    return t;
  }

  /** Answers every request on {@code c} until it closes (elbus RPC, or nats reply inboxes). */
  private void respond(SocketChannel c) {
    try {
      if (nats) {
        respondNats(c);
      } else {
        respondElbus(c);
      }
    } catch (IOException e) {
      // closed
    }
  }

  private static void respondElbus(SocketChannel c) throws IOException {
    ByteBuffer head = ByteBuffer.allocate(6).order(ByteOrder.LITTLE_ENDIAN);
    while (true) {
      head.clear();
      readFully(c, head);
      int len = head.getInt(1);
      ByteBuffer body = ByteBuffer.allocate(len);
      readFully(c, body);
      byte[] b = body.array();
      int z = 0;
      while (b[z] != 0) {
        z++;
      }
      byte[] sender = Arrays.copyOf(b, z);
      // 01 <call id> method 00 params -> 11 <call id> params
      int m = z + 6;
      while (b[m] != 0) {
        m++;
      }
      byte[] reply = RawClient.concat(new byte[] {0x11}, Arrays.copyOfRange(b, z + 2, z + 6),
          Arrays.copyOfRange(b, m + 1, b.length));
      RawThroughput.write(c, RawThroughput.frame(0, 0x12, sender, reply));
    }
  }

  private void respondNats(SocketChannel c) throws IOException {
    ByteBuffer in = ByteBuffer.allocate(1 << 16);
    in.flip(); // empty, in read mode
    byte[] p = new byte[payload];
    List<Byte> line = new ArrayList<>();
    while (true) {
      // MSG <subject> <sid> <reply> <len>\r\n<payload>\r\n
      String l = readLine(c, in, line);
      String[] parts = l.split(" ");
      if (!parts[0].equals("MSG") || parts.length < 5) {
        continue;
      }
      int n = Integer.parseInt(parts[4]);
      skip(c, in, n + 2);
      RawNats.write(c, "PUB " + parts[3] + " " + payload + "\r\n" + new String(p,
          StandardCharsets.US_ASCII) + "\r\n");
    }
  }

  private static String readLine(SocketChannel c, ByteBuffer in, List<Byte> line)
      throws IOException {
    line.clear();
    while (true) {
      if (!in.hasRemaining()) {
        in.clear();
        if (c.read(in) < 0) {
          throw new IOException("closed");
        }
        in.flip();
      }
      while (in.hasRemaining()) {
        byte x = in.get();
        if (x == '\n') {
          byte[] bs = new byte[line.size()];
          for (int i = 0; i < bs.length; i++) {
            bs[i] = line.get(i);
          }
          return new String(bs, StandardCharsets.US_ASCII).trim();
        }
        line.add(x);
      }
    }
  }

  private static void skip(SocketChannel c, ByteBuffer in, int n) throws IOException {
    while (n > 0) {
      if (!in.hasRemaining()) {
        in.clear();
        if (c.read(in) < 0) {
          throw new IOException("closed");
        }
        in.flip();
      }
      int k = Math.min(n, in.remaining());
      in.position(in.position() + k);
      n -= k;
    }
  }

  private static void readFully(SocketChannel c, ByteBuffer b) throws IOException {
    while (b.hasRemaining()) {
      if (c.read(b) < 0) {
        throw new IOException("closed");
      }
    }
  }
}
