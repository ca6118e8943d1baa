package dev.elbus.reliability;

import dev.elbus.support.BrokerMemory;
import dev.elbus.support.Figures;
import dev.elbus.support.LeakGate;
import dev.elbus.support.TestBroker;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * RELIABILITY.md item 12: 10,000 concurrent connections from a separate JVM ({@code
 * dev.elbus.bench.ConnectionFlood}, connecting at 2,000/s): all register within 30 s, each gets
 * one acked frame (a QoS 1 message to itself, delivered and acked), the broker's heap stays below
 * 512 MiB, and its file descriptors are back to the baseline ±10 within 10 s after they leave.
 * The broker runs in this JVM (two event loops), so its heap is read here after a full GC
 * (everything else in this JVM is small). {@code -Delbus.scale.connections} and {@code
 * -Delbus.scale.rate} change the load. The other half of item 12, {@code max_connections + 1}
 * refused while the others keep working, is {@code LimitsIT.maxConnectionsPlusOneIsRefused} in the
 * normal suite. Prints {@code SCALE ...} lines.
 */
@Tag("reliability")
@ExtendWith(LeakGate.class)
class ConnectionScaleIT {
  private static final int N = Integer.getInteger("elbus.scale.connections", 10_000);
  private static final int RATE = Integer.getInteger("elbus.scale.rate", 2_000);
  private static final long MIB = 1024 * 1024;

  @Test
  void tenThousandConnectionsFromAnotherJvm() throws Exception {
    long limit = BrokerMemory.fdLimit();
    assumeTrue(limit > N + 1_000, "open files limit " + limit + " is too low for " + N);
    try (TestBroker b = TestBroker.start(2, l -> l.setTimeoutMs(60_000)
        .setMaxConnections(N + 100))) {
      long fdBase = BrokerMemory.openFds();
      long heapBase = BrokerMemory.heapUsedAfterGc();
      Path classes = Path.of(dev.elbus.bench.ConnectionFlood.class.getProtectionDomain()
          .getCodeSource().getLocation().toURI());
      Process p = new ProcessBuilder(List.of(
          Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
          "-cp", classes.toString(), "dev.elbus.bench.ConnectionFlood", "127.0.0.1",
          Integer.toString(b.port()), Integer.toString(N), Integer.toString(RATE), "scale", "60"))
          .redirectError(ProcessBuilder.Redirect.INHERIT).start();
      BlockingQueue<String> lines = new LinkedBlockingQueue<>();
      Thread reader = new Thread(() -> {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
            StandardCharsets.UTF_8))) {
          String l;
          while ((l = r.readLine()) != null) {
            System.out.println("SCALE client: " + l);
            lines.add(l);
          }
        } catch (Exception e) {
          // process gone
        }
      }, "flood-output");
      reader.setDaemon(true);
      reader.start();
      try {
        String[] registered = null;
        String[] acked = null;
        String failed = null;
        while (true) {
          String l = lines.poll(120, TimeUnit.SECONDS);
          assertThat(l).as("client output before READY").isNotNull();
          if (l.startsWith("REGISTERED ")) {
            registered = l.split(" ");
          } else if (l.startsWith("ACKED ")) {
            acked = l.split(" ");
          } else if (l.startsWith("FAILED ")) {
            failed = l;
          } else if (l.equals("READY")) {
            break;
          }
        }
        int registry = b.router().registry().size();
        long fdsConnected = BrokerMemory.openFds();
        long heap = BrokerMemory.heapUsedAfterGc();
        long allocator = BrokerMemory.allocatorUsed();
        long direct = BrokerMemory.jvmDirectUsed();
        Figures.print("SCALE %d connections at <= %d/s from another JVM: %s registered in %s"
            + " ms (registration latency p50 %s ms, p99 %s ms), %s acked; %s%n", N, RATE,
            registered[1], registered[2], registered[3], registered[4], acked[1], failed);
        Figures.print("SCALE broker with %d clients registered: heap %s after GC (%s before"
            + " the connections), direct memory %s, buffer allocator %s, file descriptors %d"
            + " (%d before)%n", registry - 1, BrokerMemory.mib(heap), BrokerMemory.mib(heapBase),
            BrokerMemory.mib(direct), BrokerMemory.mib(allocator), fdsConnected, fdBase);
        assertThat(Integer.parseInt(registered[1])).as("registered").isEqualTo(N);
        assertThat(Integer.parseInt(acked[1])).as("acked").isEqualTo(N);
        assertThat(Long.parseLong(registered[2])).as("all registered within, ms")
            .isLessThan(30_000);
        assertThat(registry).as("registry size").isEqualTo(N + 1);
        assertThat(heap).as("broker heap").isLessThan(512 * MIB);

        // they leave
        OutputStream in = p.getOutputStream();
        in.write("leave\n".getBytes(StandardCharsets.UTF_8));
        in.flush();
        String left;
        do {
          left = lines.poll(60, TimeUnit.SECONDS);
          assertThat(left).as("client output LEFT").isNotNull();
        } while (!left.startsWith("LEFT "));
        long t0 = System.nanoTime();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("client JVM exited").isTrue();
        Await.until(() -> BrokerMemory.openFds() <= fdBase + 10, 10_000,
            () -> "file descriptors back to " + fdBase + " +-10: " + BrokerMemory.openFds());
        long fdMs = Await.msSince(t0);
        Await.until(() -> b.router().registry().size() == 1, 10_000,
            () -> "registry back to .broker: " + b.router().registry().size());
        Figures.print("SCALE after they left: file descriptors %d (baseline %d) after %d ms,"
            + " registry %d%n", BrokerMemory.openFds(), fdBase, fdMs,
            b.router().registry().size());
        assertThat(BrokerMemory.openFds()).isBetween(fdBase - 10, fdBase + 10);
      } finally {
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
      }
    }
  }
}
