package dev.elbus.server;

import dev.elbus.support.Poll;
import dev.elbus.support.RawClient;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static dev.elbus.support.RawClient.utf8;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A real network partition between two servers on loopback (docs/cluster.md, "Split brain"):
 * an iptables rule drops the Hazelcast and event-bus traffic between them, then goes. Without a
 * quorum both sides go on alone and both accept a registration of the same name; after the heal
 * exactly one holder keeps it and the other is disconnected. With {@code quorum: 2} neither side
 * accepts registrations while split ({@code 74}). Needs root and iptables; the long tier only
 * ({@code -Preliability}).
 */
@Tag("reliability")
class ClusterPartitionIT {
  private static final String RULE = "elbus-cluster-partition-it";
  private static final int MESSAGE = 0x12;
  private static final int OK = 0x01;
  private static final int NOT_REGISTERED = 0x71;
  private static final int OTHER = 0x74;

  @ParameterizedTest(name = "quorum {0}")
  @ValueSource(ints = {0, 2})
  void splitThenHeal(int quorum, @org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
    Assumptions.assumeTrue(iptables("-S", "INPUT") == 0, "needs root and iptables");
    int[] hz = {ServerProcess.freePort(), ServerProcess.freePort()};
    int[] bus = {ServerProcess.freePort(), ServerProcess.freePort()};
    int[] tcp = {ServerProcess.freePort(), ServerProcess.freePort()};
    String name = "partition-it-" + System.nanoTime();
    List<ServerProcess> nodes = new ArrayList<>();
    try {
      for (int i = 0; i < 2; i++) {
        Path conf = dir.resolve("n" + (i + 1) + ".yaml");
        Files.writeString(conf, String.join("\n",
            "timeout: 60",
            "listeners:",
            "  - bind: 127.0.0.1:" + tcp[i],
            "cluster:",
            "  name: " + name,
            "  host: 127.0.0.1",
            "  port: " + hz[i],
            "  bus_port: " + bus[i],
            "  members: [127.0.0.1:" + hz[0] + ", 127.0.0.1:" + hz[1] + "]",
            "  node: n" + (i + 1),
            "  max_no_heartbeat: 3",
            "  merge: 2",
            "  timeout: 2",
            "  quorum: " + quorum, ""));
        ServerProcess p = ServerProcess.start(List.of("-Xmx256m"), "-c", conf.toString(), "-w",
            "1");
        nodes.add(p);
        assertThat(p.awaitLine("elbus broker started", 60_000)).as(p.output().toString())
            .isTrue();
      }
      try (RawClient a1 = client(tcp[0], "a1"); RawClient a2 = client(tcp[1], "a2")) {
        int[] op = {1};
        assertThat(send(a1, op, "a2", a2)).isEqualTo(OK);
        String ports = hz[0] + "," + hz[1] + "," + bus[0] + "," + bus[1];
        long t0 = System.nanoTime();
        assertThat(iptables("-I", "INPUT", "-i", "lo", "-p", "tcp", "-m", "multiport",
            "--ports", ports, "-m", "comment", "--comment", RULE, "-j", "DROP")).isZero();
        RawClient c1 = null;
        RawClient c2 = null;
        try {
          // each side finds the other gone (heartbeats lost: at most max_no_heartbeat + 1 s)
          Poll.until(() -> send(a1, op, "a2", null) == NOT_REGISTERED, 20_000, 200,
              "n1 drops n2");
          Poll.until(() -> send(a2, op, "a1", null) == NOT_REGISTERED, 20_000, 200,
              "n2 drops n1");
          System.out.printf("CLUSTER partition: both sides alone after %d ms%n",
              (System.nanoTime() - t0) / 1_000_000);
          c1 = RawClient.tcp("127.0.0.1", tcp[0]);
          c2 = RawClient.tcp("127.0.0.1", tcp[1]);
          int r1 = c1.handshake("both");
          int r2 = c2.handshake("both");
          if (quorum == 0) {
            assertThat(List.of(r1, r2)).as("no quorum: each side accepts").containsOnly(OK);
          } else {
            assertThat(List.of(r1, r2)).as("quorum 2: neither side").containsOnly(OTHER);
          }
        } finally {
          assertThat(iptables("-D", "INPUT", "-i", "lo", "-p", "tcp", "-m", "multiport",
              "--ports", ports, "-m", "comment", "--comment", RULE, "-j", "DROP")).isZero();
        }
        long healed = System.nanoTime();
        // merged: the two sides reach each other again
        Poll.until(() -> send(a1, op, "a2", a2) == OK, 60_000, 200, "n1 reaches n2 again");
        Poll.until(() -> send(a2, op, "a1", a1) == OK, 60_000, 200, "n2 reaches n1 again");
        System.out.printf("CLUSTER partition: merged %d ms after the heal%n",
            (System.nanoTime() - healed) / 1_000_000);
        if (quorum == 0) {
          // exactly one holder of "both" keeps it: the other is disconnected
          RawClient x1 = c1;
          RawClient x2 = c2;
          Poll.until(() -> !open(x1) || !open(x2), 30_000, 200,
              "one of the two holders disconnected");
          Thread.sleep(1_000);
          assertThat(open(c1) ^ open(c2)).as("exactly one holder left").isTrue();
          RawClient survivor = open(c1) ? c1 : c2;
          assertThat(send(a1, op, "both", survivor)).isEqualTo(OK);
          assertThat(send(a2, op, "both", survivor)).isEqualTo(OK);
        } else {
          try (RawClient after = RawClient.tcp("127.0.0.1", tcp[1])) {
            assertThat(after.handshake("both")).isEqualTo(OK);
          }
        }
        c1.close();
        c2.close();
      }
    } finally {
      iptables("-D", "INPUT", "-i", "lo", "-p", "tcp", "-m", "comment", "--comment", RULE,
          "-j", "DROP"); // in case the rule stayed (a failure above)
      for (ServerProcess p : nodes) {
        p.close();
      }
    }
  }

  private static RawClient client(int port, String name) throws IOException {
    RawClient c = RawClient.tcp("127.0.0.1", port);
    assertThat(c.handshake(name)).isEqualTo(OK);
    return c;
  }

  /**
   * A QoS-1 message from {@code from} to {@code to}: its ack code; when it is OK and {@code rx}
   * is given, the frame is read there.
   */
  private static int send(RawClient from, int[] op, String to, RawClient rx) {
    try {
      from.frame(op[0], MESSAGE, 1, to, utf8("ping"));
      byte[] ack;
      do {
        // skip messages: one answered 78 while the nodes were apart may still arrive
        ack = from.nextFrame(10_000);
      } while ((ack[0] & 0xFF) != 0xFE);
      op[0]++;
      int code = ack[5] & 0xFF;
      if (code == OK && rx != null) {
        rx.nextFrame(10_000);
      }
      return code;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static boolean open(RawClient c) {
    try {
      return c.discard(50) >= 0;
    } catch (IOException e) {
      return false;
    }
  }

  private static int iptables(String... args) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add("iptables");
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    return p.waitFor();
  }

}
