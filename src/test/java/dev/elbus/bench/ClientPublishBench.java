package dev.elbus.bench;

import dev.elbus.client.ClientOptions;
import dev.elbus.client.NetworkClient;
import dev.elbus.protocol.QoS;
import io.nats.client.Connection;
import io.nats.client.Nats;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The Java client's publish path side by side with jnats and with raw sockets, in one program
 * (issue 16): it starts this broker ({@code target/elbus.jar}, one event loop) and nats-server,
 * both pinned to core 0, and runs the stages below in rotating order, round after round, in this
 * JVM (run it pinned to core 1). Same payload, same count, fresh connections per run.
 *
 * <ul>
 *   <li>{@code elbus.pub}: {@link NetworkClient} QoS 0 publications from the main thread to a
 *       topic nobody subscribes (the broker parses and discards them), paced by {@link
 *       NetworkClient#writeQueueFull}; the time ends with the ack of one QoS 1 publication after
 *       them (the broker has processed them all).
 *   <li>{@code nats.pub}: jnats 2.21.1, default options, {@code publish} from the main thread to
 *       a subject nobody subscribes; the time ends when {@code flush} returns (PING/PONG: the
 *       server has processed them all).
 *   <li>{@code elbus.pub.ctx}: {@code elbus.pub} issued on the client's own event loop (no
 *       thread hop), 1,024 per task.
 *   <li>{@code elbus.ack}: {@link NetworkClient} QoS 1 publications, pipelined: {@code window}
 *       in flight, the next sent from each ack's callback, on the client's event loop.
 *   <li>{@code raw.ack}: the same frames from a blocking raw socket (no client library: the
 *       physical limit of the load), a writer thread keeping {@code window} in flight and a
 *       reader thread counting the acks.
 * </ul>
 *
 * <pre>
 * ./mvnw -B -q package -DskipTests &amp;&amp; ./mvnw -B -q test-compile
 * taskset -c 1 java -cp target/test-classes:target/elbus.jar:$HOME/.m2/repository/io/nats/jnats/2.21.1/jnats-2.21.1.jar \
 *     dev.elbus.bench.ClientPublishBench [--messages 2000000] [--acked 500000] [--window 1024] \
 *     [--payload 100] [--rounds 5] [--uds] [--jar target/elbus.jar] [--nats nats-server]
 * </pre>
 *
 * Prints each run, then per stage the median and min-max of the rounds after the warm-up round,
 * and the medians of the per-round ratios elbus.pub / nats.pub, elbus.pub.ctx / nats.pub and
 * elbus.ack / raw.ack, with the load average before and after.
 */
public final class ClientPublishBench {
  private static final String TOPIC = "bench.null";
  private static final List<String> ALL_STAGES =
      List.of("elbus.pub", "nats.pub", "elbus.pub.ctx", "elbus.ack", "raw.ack");

  private List<String> stages = ALL_STAGES;
  private int messages = 2_000_000;
  private int acked = 500_000;
  private int window = 1024;
  private int payloadSize = 100;
  private int rounds = 5;
  private boolean uds;
  private String jar = "target/elbus.jar";
  private String natsBin = "nats-server";

  private String elbusAddr;
  private int natsPort;
  private Buffer payload;
  private byte[] payloadBytes;
  private Vertx vertx;
  private int runSeq;

  private ClientPublishBench() {}

  public static void main(String[] args) throws Exception {
    ClientPublishBench b = new ClientPublishBench();
    for (int i = 0; i < args.length; i++) {
      String v = i + 1 < args.length ? args[i + 1] : null;
      switch (args[i]) {
        case "--messages": b.messages = Integer.parseInt(v); i++; break;
        case "--acked": b.acked = Integer.parseInt(v); i++; break;
        case "--window": b.window = Integer.parseInt(v); i++; break;
        case "--payload": b.payloadSize = Integer.parseInt(v); i++; break;
        case "--rounds": b.rounds = Integer.parseInt(v); i++; break;
        case "--uds": b.uds = true; break;
        case "--jar": b.jar = v; i++; break;
        case "--nats": b.natsBin = v; i++; break;
        case "--stages": b.stages = List.of(v.split(",")); i++; break;
        default: throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    b.run();
  }

  private void run() throws Exception {
    payloadBytes = new byte[payloadSize];
    Arrays.fill(payloadBytes, (byte) 0xEE);
    payload = Buffer.buffer(payloadBytes);
    Path dir = Files.createTempDirectory("client-bench");
    int elbusPort = freePort();
    natsPort = freePort();
    Path sock = dir.resolve("elbus.sock");
    elbusAddr = uds ? sock.toString() : "127.0.0.1:" + elbusPort;
    List<Process> servers = new ArrayList<>();
    String started = now();
    String loadBefore = loadAverage();
    try {
      servers.add(start(dir, "elbus", "taskset", "-c", "0", "java", "-jar", jar,
          "-B", "127.0.0.1:" + elbusPort, "-B", sock.toString(), "-w", "1", "-t", "60"));
      servers.add(start(dir, "nats", "taskset", "-c", "0", natsBin, "-a", "127.0.0.1",
          "-p", Integer.toString(natsPort)));
      awaitPort(elbusPort);
      awaitPort(natsPort);
      vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true)
          .setEventLoopPoolSize(1));
      System.out.printf(Locale.ROOT, "client bench %s: %d QoS 0 publications, %d acked (window"
          + " %d), %d-byte payload, %s, %d rounds after a warm-up round; load %s%n", started,
          messages, acked, window, payloadSize, uds ? "elbus over a Unix socket" : "TCP",
          rounds, loadBefore);
      Map<String, List<Double>> results = new LinkedHashMap<>();
      stages.forEach(s -> results.put(s, new ArrayList<>()));
      for (int r = 0; r <= rounds; r++) {
        for (int i = 0; i < stages.size(); i++) {
          String s = stages.get((i + r) % stages.size());
          double rate = stage(s, r == 0 ? 4 : 1);
          System.out.printf(Locale.ROOT, "%s round %d %-14s %,12.0f msg/s%n",
              r == 0 ? "warm-up" : "       ", r, s, rate);
          if (r > 0) {
            results.get(s).add(rate);
          }
        }
      }
      report(results, started, loadBefore);
    } finally {
      if (vertx != null) {
        vertx.close().await(10, TimeUnit.SECONDS);
      }
      for (Process p : servers) {
        p.destroy();
        if (!p.waitFor(5, TimeUnit.SECONDS)) {
          p.destroyForcibly();
        }
      }
      Files.deleteIfExists(sock);
    }
  }

  private double stage(String s, int divisor) throws Exception {
    switch (s) {
      case "elbus.pub": return elbusPublish(messages / divisor, false);
      case "elbus.pub.ctx": return elbusPublish(messages / divisor, true);
      case "nats.pub": return natsPublish(messages / divisor);
      case "elbus.ack": return elbusAcked(acked / divisor);
      default: return rawAcked(acked / divisor);
    }
  }

  // ---------------------------------------------------------------- the stages

  private double elbusPublish(int n, boolean onContext) throws Exception {
    NetworkClient c = NetworkClient.connect(vertx, elbusAddr, "bench.pub." + (++runSeq),
        new ClientOptions()).await(10, TimeUnit.SECONDS);
    try {
      long t0 = System.nanoTime();
      if (onContext) {
        Promise<Void> done = Promise.promise();
        c.flush().onComplete(ar -> new ContextPublisher(c, n, done).next());
        done.future().await(120, TimeUnit.SECONDS);
      } else {
        Thread me = Thread.currentThread();
        c.drainHandler(v -> LockSupport.unpark(me));
        for (int i = 0; i < n; i++) {
          if ((i & 63) == 0) {
            while (c.writeQueueFull()) {
              LockSupport.parkNanos(200_000);
            }
          }
          c.publish(TOPIC, payload, QoS.NO);
        }
        c.publish(TOPIC, payload, QoS.PROCESSED).await(120, TimeUnit.SECONDS);
      }
      return n / ((System.nanoTime() - t0) / 1e9);
    } finally {
      c.close().await(10, TimeUnit.SECONDS);
    }
  }

  /** Publishes on the client's context, 1,024 per task, pausing while the write queue is full. */
  private final class ContextPublisher {
    private final NetworkClient c;
    private final int n;
    private final Promise<Void> done;
    private int sent;

    ContextPublisher(NetworkClient c, int n, Promise<Void> done) {
      this.c = c;
      this.n = n;
      this.done = done;
      c.drainHandler(v -> next());
    }

    void next() {
      for (int i = 0; i < 1024 && sent < n; i++, sent++) {
        if (c.writeQueueFull()) {
          return; // the drain handler calls again
        }
        c.publish(TOPIC, payload, QoS.NO);
      }
      if (sent < n) {
        vertx.runOnContext(v -> next());
      } else {
        c.publish(TOPIC, payload, QoS.PROCESSED).onComplete(done);
      }
    }
  }

  private double natsPublish(int n) throws Exception {
    try (Connection nc = Nats.connect("nats://127.0.0.1:" + natsPort)) {
      long t0 = System.nanoTime();
      for (int i = 0; i < n; i++) {
        nc.publish(TOPIC, payloadBytes);
      }
      nc.flush(Duration.ofSeconds(120));
      return n / ((System.nanoTime() - t0) / 1e9);
    }
  }

  private double elbusAcked(int n) throws Exception {
    NetworkClient c = NetworkClient.connect(vertx, elbusAddr, "bench.ack." + (++runSeq),
        new ClientOptions()).await(10, TimeUnit.SECONDS);
    try {
      Promise<Void> done = Promise.promise();
      long[] t0 = new long[1];
      c.flush().onComplete(ar -> { // on the client's context from here on
        t0[0] = System.nanoTime();
        new AckedPublisher(c, n, done).start();
      });
      done.future().await(120, TimeUnit.SECONDS);
      return n / ((System.nanoTime() - t0[0]) / 1e9);
    } finally {
      c.close().await(10, TimeUnit.SECONDS);
    }
  }

  /** Keeps {@code window} QoS 1 publications in flight, the next sent from each ack. */
  private final class AckedPublisher implements io.vertx.core.Handler<io.vertx.core.AsyncResult<Void>> {
    private final NetworkClient c;
    private final int n;
    private final Promise<Void> done;
    private int sent;
    private int acks;

    AckedPublisher(NetworkClient c, int n, Promise<Void> done) {
      this.c = c;
      this.n = n;
      this.done = done;
    }

    void start() {
      while (sent < Math.min(window, n)) {
        sent++;
        c.publish(TOPIC, payload, QoS.PROCESSED).onComplete(this);
      }
    }

    @Override
    public void handle(io.vertx.core.AsyncResult<Void> ar) {
      if (ar.failed()) {
        done.tryFail(ar.cause());
        return;
      }
      if (++acks == n) {
        done.tryComplete();
      } else if (sent < n) {
        sent++;
        c.publish(TOPIC, payload, QoS.PROCESSED).onComplete(this);
      }
    }
  }

  private double rawAcked(int n) throws Exception {
    SocketChannel ch = RawThroughput.connect(elbusAddr, "bench.raw." + (++runSeq));
    try {
      byte[] one = RawThroughput.frame(0, 0x01 | (1 << 6),
          TOPIC.getBytes(StandardCharsets.UTF_8), payloadBytes);
      int perWrite = Math.max(1, Math.min(window, 65536 / one.length));
      ByteBuffer batch = ByteBuffer.allocateDirect(one.length * perWrite)
          .order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < perWrite; i++) {
        batch.put(one);
      }
      AtomicLong acks = new AtomicLong();
      Thread reader = new Thread(() -> {
        ByteBuffer b = ByteBuffer.allocateDirect(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        long got = 0;
        try {
          while (got < n) {
            if (ch.read(b) < 0) {
              throw new IOException("closed");
            }
            b.flip();
            while (b.remaining() >= 6) {
              if (b.get() != (byte) 0xFE || b.getInt() == 0 || b.get() != 1) {
                throw new IOException("not an ack 01");
              }
              got++;
            }
            b.compact();
            acks.lazySet(got);
          }
        } catch (IOException e) {
          throw new RuntimeException(e);
        }
      });
      long t0 = System.nanoTime();
      reader.start();
      int sent = 0;
      int opId = 0;
      while (sent < n) {
        long room;
        while ((room = window - (sent - acks.get())) <= 0) {
          Thread.onSpinWait();
        }
        int k = (int) Math.min(Math.min(room, perWrite), n - sent);
        batch.clear();
        for (int i = 0; i < k; i++) {
          if (++opId == 0) {
            opId = 1;
          }
          batch.putInt(i * one.length, opId);
        }
        batch.limit(k * one.length);
        while (batch.hasRemaining()) {
          ch.write(batch);
        }
        sent += k;
      }
      reader.join();
      return n / ((System.nanoTime() - t0) / 1e9);
    } finally {
      ch.close();
    }
  }

  // ---------------------------------------------------------------- report and plumbing

  private void report(Map<String, List<Double>> results, String started, String loadBefore) {
    System.out.printf(Locale.ROOT, "%nstarted %s (load %s), ended %s (load %s); medians of %d"
        + " rounds [min-max], msg/s:%n", started, loadBefore, now(), loadAverage(), rounds);
    for (Map.Entry<String, List<Double>> e : results.entrySet()) {
      List<Double> v = new ArrayList<>(e.getValue());
      v.sort(null);
      System.out.printf(Locale.ROOT, "  %-14s %,12.0f  [%,.0f-%,.0f]%n", e.getKey(), median(v),
          v.get(0), v.get(v.size() - 1));
    }
    ratio(results, "elbus.pub", "nats.pub");
    ratio(results, "elbus.pub.ctx", "nats.pub");
    ratio(results, "elbus.ack", "raw.ack");
  }

  private static void ratio(Map<String, List<Double>> results, String a, String b) {
    if (!results.containsKey(a) || !results.containsKey(b)) {
      return;
    }
    List<Double> r = new ArrayList<>();
    for (int i = 0; i < results.get(a).size(); i++) {
      r.add(results.get(a).get(i) / results.get(b).get(i));
    }
    r.sort(null);
    System.out.printf(Locale.ROOT, "  %s / %s: %.2f [%.2f-%.2f]%n", a, b, median(r), r.get(0),
        r.get(r.size() - 1));
  }

  private static double median(List<Double> sorted) {
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  private static Process start(Path dir, String what, String... cmd) throws IOException {
    return new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(dir.resolve(what + ".log").toFile()).start();
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress("127.0.0.1", 0));
      return s.getLocalPort();
    }
  }

  private static void awaitPort(int port) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      try (Socket s = new Socket("127.0.0.1", port)) {
        return;
      } catch (IOException e) {
        if (System.nanoTime() > deadline) {
          throw new IOException("nothing listens on port " + port + " after 30 s");
        }
        Thread.sleep(100);
      }
    }
  }

  private static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException e) {
      return "n/a";
    }
  }

  private static String now() {
    return LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss"));
  }
}
