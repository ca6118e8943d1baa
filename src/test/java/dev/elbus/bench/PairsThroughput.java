package dev.elbus.bench;

import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Several publisher/subscriber pairs streaming at once (QoS 0 publications, each pair its own
 * topic), for how the broker scales with event loops: the aggregate rate of N pairs against a
 * broker with {@code -w 1} and {@code -w 2}. Each pair is two raw sockets driven by {@link Stream}
 * on two threads. The pairs connect subscribers first, then publishers, so that with two event
 * loops (Vert.x hands connections to the loops in turn) pair {@code i}'s subscriber and publisher
 * share loop {@code i % 2} ({@code same}); {@code cross} connects each pair's publisher right
 * after its subscriber, so every pair spans both loops.
 *
 * <pre>
 * taskset -c 0,1 java -jar target/elbus.jar -B 127.0.0.1:17777 -w 2 &amp;
 * java -cp target/test-classes:target/elbus.jar dev.elbus.bench.PairsThroughput \
 *     127.0.0.1:17777 [pairs=2] [messages=2000000] [payload=100] [same|cross] [rounds=3]
 * </pre>
 */
public final class PairsThroughput {
  private static final long WINDOW = 4096;

  private PairsThroughput() {}

  public static void main(String[] args) throws Exception {
    String addr = args[0];
    int pairs = args.length > 1 ? Integer.parseInt(args[1]) : 2;
    int messages = args.length > 2 ? Integer.parseInt(args[2]) : 2_000_000;
    int payload = args.length > 3 ? Integer.parseInt(args[3]) : 100;
    boolean cross = args.length > 4 && args[4].equals("cross");
    int rounds = args.length > 5 ? Integer.parseInt(args[5]) : 3;
    for (int round = 0; round < rounds; round++) {
      run(addr, pairs, messages, payload, cross, round);
    }
  }

  private static void run(String addr, int pairs, int messages, int payload, boolean cross,
      int round) throws Exception {
    List<SocketChannel> rx = new ArrayList<>();
    List<SocketChannel> tx = new ArrayList<>();
    String prefix = "pairs." + round + ".";
    for (int i = 0; i < pairs; i++) {
      rx.add(RawThroughput.connect(addr, prefix + "rx" + i));
      byte[] t = (prefix + "t" + i).getBytes(StandardCharsets.UTF_8);
      RawThroughput.write(rx.get(i), RawThroughput.frame(1, 0x02 | (1 << 6), t, null));
      RawThroughput.readFully(rx.get(i), 6);
      if (cross) {
        tx.add(RawThroughput.connect(addr, prefix + "tx" + i));
      }
    }
    if (!cross) {
      for (int i = 0; i < pairs; i++) {
        tx.add(RawThroughput.connect(addr, prefix + "tx" + i));
      }
    }
    ExecutorService pool = Executors.newFixedThreadPool(pairs);
    List<Future<Double>> results = new ArrayList<>();
    for (int i = 0; i < pairs; i++) {
      byte[] topic = (prefix + "t" + i).getBytes(StandardCharsets.UTF_8);
      byte[] one = RawThroughput.frame(0, 0x01, topic, new byte[payload]);
      long frameLen = 6 + (prefix + "tx" + i).length() + 1 + topic.length + 1 + payload;
      SocketChannel t = tx.get(i);
      SocketChannel r = rx.get(i);
      Callable<Double> c = () -> Stream.run(t, r, one, frameLen, messages, WINDOW * frameLen);
      results.add(pool.submit(c));
    }
    double slowest = 0;
    double sum = 0;
    for (Future<Double> f : results) {
      double secs = f.get();
      slowest = Math.max(slowest, secs);
      sum += messages / secs;
    }
    pool.shutdown();
    System.out.printf("%d pairs (%s) x %d publications of %d B: %.0f msg/s in all (sum of the"
        + " pairs' rates), %.0f msg/s over the slowest pair's %.2f s%n", pairs,
        cross ? "cross" : "same", messages, payload, sum, pairs * messages / slowest, slowest);
    for (SocketChannel c : tx) {
      c.close();
    }
    for (SocketChannel c : rx) {
      c.close();
    }
  }
}
