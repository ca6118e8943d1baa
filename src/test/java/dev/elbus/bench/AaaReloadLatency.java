package dev.elbus.bench;

import dev.elbus.Broker;
import dev.elbus.Internals;
import dev.elbus.client.Bind;
import dev.elbus.config.ListenerOptions;
import dev.elbus.support.RawClient;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * How long an AAA file change takes to take effect: from the moment the new file is in place
 * (atomic rename) to the moment the affected client sees its socket closed. An embedded broker
 * watches the file with the given scan period (default 1 s, the broker's default); a raw client
 * registered over a Unix socket has its entry changed, the harness waits for the close, registers
 * the client again and repeats. Each change is written after a random pause (seeded), so the
 * writes fall at random points of the scan cycle. Prints every run and min / median / p90 / max.
 *
 * <pre>
 * java -cp target/test-classes:target/classes:$(cat cp.txt) dev.elbus.bench.AaaReloadLatency \
 *     [runs=30] [scanMs=1000]
 * </pre>
 */
public final class AaaReloadLatency {
  private AaaReloadLatency() {}

  public static void main(String[] args) throws Exception {
    int runs = args.length > 0 ? Integer.parseInt(args[0]) : 30;
    long scanMs = args.length > 1 ? Long.parseLong(args[1]) : ListenerOptions
        .DEFAULT_AAA_SCAN_PERIOD_MS;
    Path dir = Files.createTempDirectory("elbus-aaa-latency");
    Path file = dir.resolve("aaa.yaml");
    Path sock = dir.resolve("elbus.sock");
    write(file, 0);
    Vertx vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true));
    Broker broker = Broker.create(vertx);
    broker.deploy(List.of(new ListenerOptions().setBind(Bind.unix(sock.toString()))
        .setAaaFile(file.toString()).setAaaScanPeriodMs(scanMs).setTimeoutMs(60_000)), 1)
        .await(20, TimeUnit.SECONDS);
    Random random = new Random(42);
    List<Double> ms = new ArrayList<>();
    try {
      for (int i = 1; i <= runs; i++) {
        while (Internals.router(broker).registry().get("a") != null) {
          Thread.sleep(1);
        }
        RawClient a = RawClient.unix(sock);
        int code = a.handshake("a");
        if (code != 0x01) {
          throw new IllegalStateException("registration refused: " + code);
        }
        Thread.sleep(random.nextInt((int) scanMs));
        long t0 = System.nanoTime();
        write(file, i);
        a.expectClosed(10 * scanMs + 10_000);
        long t1 = System.nanoTime();
        a.close();
        ms.add((t1 - t0) / 1e6);
        System.out.printf("run %2d: %7.1f ms%n", i, (t1 - t0) / 1e6);
      }
    } finally {
      broker.close().await(10, TimeUnit.SECONDS);
      vertx.close().await(10, TimeUnit.SECONDS);
      Files.deleteIfExists(file);
      Files.deleteIfExists(sock);
      Files.deleteIfExists(dir);
    }
    Collections.sort(ms);
    System.out.printf("scan period %d ms, %d runs: min %.1f ms, median %.1f ms, p90 %.1f ms,"
        + " max %.1f ms%n", scanMs, runs, ms.get(0), ms.get(ms.size() / 2),
        ms.get((int) Math.ceil(ms.size() * 0.9) - 1), ms.get(ms.size() - 1));
  }

  /** Version {@code v} of the policy: a's allowed topic changes with every version. */
  private static void write(Path file, int v) throws Exception {
    Path tmp = Files.createTempFile(file.getParent(), ".aaa", ".tmp");
    Files.writeString(tmp, "clients:\n  a: {allow_publish_to: [\"v" + v + "/#\"]}\n");
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }
}
