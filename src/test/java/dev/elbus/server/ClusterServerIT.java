package dev.elbus.server;

import dev.elbus.support.Http;
import dev.elbus.support.RawClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static dev.elbus.support.RawClient.brokerFrame;
import static dev.elbus.support.RawClient.utf8;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two stand-alone servers from the fat jar form one bus (docs/cluster.md), each run as a node of
 * docs/cluster/compose.yaml runs it: {@code -c conf/elbus-cluster.yaml} with its cluster flags
 * (here on loopback, on free ports). A direct message with QoS 1 and a publication across the
 * nodes, the name-uniqueness race, the Python and Node.js peers and the CLI across the nodes, an unanswered node (SIGSTOP: {@code 78}), {@code kill -9} of a
 * node (its names released, the other node's clients unaffected) and the node rejoining.
 */
class ClusterServerIT {
  private static final int MESSAGE = 0x12;
  private static final int PUBLISH = 0x01;
  private static final int SUBSCRIBE = 0x02;
  private static final int OK = 0x01;
  private static final int NOT_REGISTERED = 0x71;
  private static final int BUSY = 0x76;
  private static final int TIMEOUT = 0x78;

  private final String cluster = "server-it-" + System.nanoTime();
  private final int[] hz = new int[2];
  private final int[] tcp = new int[2];
  private final int[] http = new int[2];
  private Path dir;

  private ServerProcess node(int i) throws Exception {
    String members = "127.0.0.1:" + hz[0] + ",127.0.0.1:" + hz[1];
    ServerProcess p = ServerProcess.start(List.of("-Xmx256m"), "-c", "conf/elbus-cluster.yaml",
        "-B", "127.0.0.1:" + tcp[i], "-B", socket(i).toString(), "-w", "1", "-t", "60",
        "--http", "127.0.0.1:" + http[i],
        "--cluster-name", cluster, "--cluster-host", "127.0.0.1", "--cluster-port",
        String.valueOf(hz[i]), "--cluster-bus-port", "0", "--cluster-members", members,
        "--cluster-node", "n" + (i + 1), "--cluster-timeout", "1");
    assertThat(p.awaitLine("elbus broker started", 60_000)).as(p.output().toString()).isTrue();
    assertThat(p.output()).anyMatch(l -> l.contains("node n" + (i + 1) + " joined"));
    // readiness includes the cluster: joined, the other node reached
    var ready = Http.get(http[i], "/ready");
    assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
    assertThat(Http.check(ready, "cluster").getJsonObject("data").getString("node"))
        .isEqualTo("n" + (i + 1));
    return p;
  }

  private Path socket(int i) {
    return dir.resolve("n" + (i + 1) + ".sock");
  }

  private RawClient client(int i, boolean unix, String name) throws IOException {
    RawClient c = unix ? RawClient.unix(socket(i)) : RawClient.tcp("127.0.0.1", tcp[i]);
    int code = c.handshake(name);
    if (code != OK) {
      c.close();
      throw new AssertionError("registration of " + name + " on n" + (i + 1) + ": " + code);
    }
    return c;
  }

  private static void signal(ServerProcess p, String sig) throws Exception {
    Process k = new ProcessBuilder("kill", "-" + sig, Long.toString(p.pid())).start();
    assertThat(k.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(k.exitValue()).isZero();
  }

  @Test
  void twoServersFormOneBusSurviveAKillAndTakeTheNodeBack(@TempDir Path tmp) throws Exception {
    dir = tmp;
    for (int i = 0; i < 2; i++) {
      hz[i] = ServerProcess.freePort();
      tcp[i] = ServerProcess.freePort();
      http[i] = ServerProcess.freePort();
    }
    ServerProcess n1 = node(0);
    ServerProcess n2 = node(1);
    try (RawClient a = client(0, false, "a"); RawClient b = client(1, true, "b")) {
      // a direct message with QoS 1 and a publication across the nodes
      a.frame(1, MESSAGE, 1, "b", utf8("hello b"));
      a.expectAck(1, OK);
      b.expect(brokerFrame(MESSAGE, false, "a", null, utf8("hello b")));
      b.frame(2, SUBSCRIBE, 1, utf8("plant/#"));
      b.expectAck(2, OK);
      a.frame(3, PUBLISH, 1, "plant/t1", utf8("21.5"));
      a.expectAck(3, OK);
      b.expect(brokerFrame(PUBLISH, false, "a", "plant/t1", utf8("21.5")));

      nameRace();
      pythonNodeAndCliAcrossNodes(a);

      // an unanswered node: the ack is 78 after the cluster timeout (1 s); the frame waits in
      // its socket and arrives once the node runs again
      signal(n2, "STOP");
      try {
        long t0 = System.nanoTime();
        a.frame(4, MESSAGE, 1, "b", utf8("late"));
        a.expectAck(4, TIMEOUT);
        assertThat((System.nanoTime() - t0) / 1_000_000).isBetween(900L, 4_000L);
      } finally {
        signal(n2, "CONT");
      }
      b.expect(brokerFrame(MESSAGE, false, "a", null, utf8("late")));

      // kill -9 of node 2: its names are released, node 1's clients carry on
      try (RawClient c = client(0, true, "c")) {
        n2.close(); // SIGKILL
        long t0 = System.nanoTime();
        int op = 10;
        long released = -1;
        while (released < 0) {
          a.frame(op, MESSAGE, 1, "c", utf8("still here"));
          a.expectAck(op++, OK);
          assertThat(c.nextFrame()).endsWith(utf8("still here"));
          a.frame(op, MESSAGE, 1, "b", utf8("to the dead"));
          int code = a.nextFrame()[5] & 0xFF;
          assertThat(code).isIn(OK, NOT_REGISTERED, TIMEOUT);
          if (code == NOT_REGISTERED) {
            released = (System.nanoTime() - t0) / 1_000_000;
          }
          op++;
          assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(15_000);
          Thread.sleep(20);
        }
        System.out.printf("CLUSTER kill -9: b unreachable after %d ms%n", released);
        try (RawClient b2 = client(0, false, "b")) {
          a.frame(op, MESSAGE, 1, "b", utf8("the new b"));
          a.expectAck(op, OK);
          assertThat(b2.nextFrame()).endsWith(utf8("the new b"));
        }
      }
    }
    // node 2 rejoins: its new clients are reachable, names stay unique
    n2 = node(1);
    try (RawClient a = client(0, true, "a2"); RawClient d = client(1, false, "d")) {
      a.frame(1, MESSAGE, 1, "d", utf8("welcome back"));
      a.expectAck(1, OK);
      d.expect(brokerFrame(MESSAGE, false, "a2", null, utf8("welcome back")));
      try (RawClient dup = RawClient.unix(socket(1))) {
        assertThat(dup.handshake("a2")).isEqualTo(BUSY);
      }
    } finally {
      n2.terminate();
      n1.terminate();
      assertThat(n2.awaitExit(30_000)).isZero();
      assertThat(n1.awaitExit(30_000)).isZero();
      n1.close();
      n2.close();
    }
  }

  /**
   * Clients written apart from this project's Java code across the nodes: the Python peer ({@code
   * plain_peer.py}) on node 2's Unix socket and the Node.js peer ({@code plain_peer.js}) on node
   * 1's TCP port (the upstream clients' wire behaviour), the CLI process on node 1, the raw client
   * {@code a} on node 1.
   */
  private void pythonNodeAndCliAcrossNodes(RawClient a) throws Exception {
    try (PlainPeer py = PlainPeer.start(dir, PlainPeer.Lang.PYTHON, socket(1).toString(),
        "py.n2", "proc/#", "a");
         PlainPeer js = PlainPeer.start(dir, PlainPeer.Lang.NODE, "127.0.0.1:" + tcp[0], "js.n1",
             "proc/#", "a")) {
      assertThat(py.line()).isEqualTo("READY");
      assertThat(js.line()).isEqualTo("READY");
      // the subscriptions reached node 1 before their acks: the CLI's publication crosses
      try (ServerProcess cli = ServerProcess.startMain(List.of(), "dev.elbus.cli.Cli",
          "127.0.0.1:" + tcp[0], "-n", "cli.n1", "publish", "proc/t1", "21.5")) {
        assertThat(cli.awaitExit(30_000)).as(cli.output().toString()).isZero();
      }
      assertThat(py.line()).isEqualTo("PUBLISH cli.n1 proc/t1 21.5");
      assertThat(js.line()).isEqualTo("PUBLISH cli.n1 proc/t1 21.5");
      a.frame(20, MESSAGE, 1, "py.n2", utf8("hi python"));
      a.frame(21, MESSAGE, 1, "js.n1", utf8("hi node"));
      assertThat(py.line()).isEqualTo("MESSAGE a hi python");
      assertThat(js.line()).isEqualTo("MESSAGE a hi node");
      // their QoS-1 messages to a on node 1 are acknowledged once node 1 queued them
      assertThat(py.line()).isEqualTo("OK");
      assertThat(js.line()).isEqualTo("OK");
      // a's two acks and the two answers, in any order
      List<byte[]> got = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        got.add(a.nextFrame());
      }
      byte[] ack20 = RawClient.concat(new byte[] {(byte) 0xFE}, RawClient.le32(20),
          new byte[] {OK});
      byte[] ack21 = RawClient.concat(new byte[] {(byte) 0xFE}, RawClient.le32(21),
          new byte[] {OK});
      byte[] fromPy = brokerFrame(MESSAGE, false, "py.n2", null, utf8("hello from python"));
      byte[] fromJs = brokerFrame(MESSAGE, false, "js.n1", null, utf8("hello from node"));
      // the ack of 20 comes once node 2 answered, possibly after that of 21, answered by node 1
      // (docs/compatibility.md: acks are matched by op id)
      List<byte[]> acks = got.stream().filter(f -> (f[0] & 0xFF) == 0xFE).toList();
      assertThat(acks).hasSize(2);
      assertThat(acks).anySatisfy(f -> assertThat(f).isEqualTo(ack20))
          .anySatisfy(f -> assertThat(f).isEqualTo(ack21));
      assertThat(got).anySatisfy(f -> assertThat(f).isEqualTo(fromPy))
          .anySatisfy(f -> assertThat(f).isEqualTo(fromJs));
      py.assertExitedOk();
      js.assertExitedOk();
    }
  }

  /** Clients on both nodes register the same names at the same moment: one winner each. */
  private void nameRace() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(2);
    List<RawClient> open = new ArrayList<>();
    try {
      for (int r = 0; r < 20; r++) {
        String name = "race" + r;
        CyclicBarrier go = new CyclicBarrier(2);
        List<Future<Integer>> codes = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
          RawClient c = i == 0 ? RawClient.tcp("127.0.0.1", tcp[0]) : RawClient.unix(socket(1));
          open.add(c);
          c.expect(0xEB, 0x01, 0x00);
          c.send(0xEB, 0x01, 0x00);
          c.expect(0x01);
          codes.add(pool.submit(() -> {
            byte[] nb = utf8(name);
            go.await(5, TimeUnit.SECONDS);
            c.send(RawClient.le16(nb.length), nb);
            return c.read(1)[0] & 0xFF;
          }));
        }
        assertThat(List.of(codes.get(0).get(10, TimeUnit.SECONDS),
            codes.get(1).get(10, TimeUnit.SECONDS))).as(name).containsExactlyInAnyOrder(OK, BUSY);
      }
    } finally {
      pool.shutdownNow();
      for (RawClient c : open) {
        c.close();
      }
    }
  }
}
