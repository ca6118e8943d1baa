package dev.elbus.it.cluster;

import dev.elbus.InternalClient;
import dev.elbus.aaa.AaaPolicy;
import dev.elbus.aaa.ClientAcl;
import dev.elbus.aaa.ClientAcl.Rule;
import dev.elbus.client.ElbusException;
import dev.elbus.client.Frame;
import dev.elbus.client.FrameKind;
import dev.elbus.client.NetworkClient;
import dev.elbus.protocol.QoS;
import dev.elbus.rpc.MsgPack;
import dev.elbus.rpc.RpcClient;
import dev.elbus.rpc.RpcHandler;
import dev.elbus.support.LeakGate;
import dev.elbus.support.RawClient;
import dev.elbus.support.TestCluster;
import dev.elbus.support.Transport;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.elbus.support.RawClient.brokerFrame;
import static dev.elbus.support.RawClient.concat;
import static dev.elbus.support.RawClient.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Cluster mode (docs/cluster.md) with three nodes in this JVM, clients on every node over TCP
 * and Unix sockets, raw and with the Java client: names unique in the cluster, direct messages,
 * RPC, broadcasts and publications across nodes with their guarantees, AAA, {@code .broker}'s
 * views of the cluster, and last a crashed node (its names released, the others unaffected) and
 * its return. One cluster for the class; the crash runs last.
 */
@ExtendWith(LeakGate.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterIT {
  private static final int MESSAGE = 0x12;
  private static final int BROADCAST = 0x13;
  private static final int PUBLISH = 0x01;
  private static final int SUBSCRIBE = 0x02;
  private static final int UNSUBSCRIBE = 0x03;
  private static final int EXCLUDE = 0x04;
  private static final int PUBLISH_FOR = 0x06;
  private static final int OK = 0x01;
  private static final int NOT_REGISTERED = 0x71;
  private static final int BUSY = 0x76;
  private static final int ACCESS = 0x79;
  private static final AtomicInteger SEQ = new AtomicInteger();

  private static TestCluster cluster;
  private static Vertx clients;

  @BeforeAll
  static void start() throws Exception {
    // node 3's listeners take names over (force_register), the others refuse them
    cluster = TestCluster.start("cluster-it-" + System.nanoTime(), 3, (i, c) -> {
      if (i == 2) {
        c.put("force_register", true);
      }
    });
    clients = Vertx.vertx();
  }

  @AfterAll
  static void stop() throws Exception {
    try {
      if (clients != null) {
        clients.close().await(10, TimeUnit.SECONDS);
      }
    } finally {
      if (cluster != null) {
        cluster.close();
      }
    }
  }

  private static String uniq(String base) {
    return base + SEQ.incrementAndGet();
  }

  private static Transport other(Transport t) {
    return t == Transport.TCP ? Transport.UNIX : Transport.TCP;
  }

  private static TestCluster.Node n(int i) {
    return cluster.node(i - 1);
  }

  private static byte[] body(String... topics) {
    return String.join("\0", topics).getBytes(StandardCharsets.UTF_8);
  }

  /** A QoS-1 (un)subscription or exclusion acked OK. */
  private static void topics(RawClient c, int op, int opId, String... topics) throws IOException {
    c.frame(opId, op, 1, body(topics));
    c.expectAck(opId, OK);
  }

  /** A Java client on node {@code i} (TCP or Unix socket). */
  private static NetworkClient java(int i, Transport t, String name) throws Exception {
    String path = t == Transport.TCP ? "127.0.0.1:" + n(i).port : n(i).socket.toString();
    return NetworkClient.connect(clients, path, name).await(10, TimeUnit.SECONDS);
  }

  // ---------------------------------------------------------------- direct messages

  @Order(1)
  @ParameterizedTest
  @EnumSource(Transport.class)
  void directMessagesCrossNodesWithTheirAcks(Transport t) throws Exception {
    String a = uniq("dm.a");
    String b = uniq("dm.b");
    try (RawClient ca = n(1).registered(t, a); RawClient cb = n(2).registered(other(t), b)) {
      ca.frame(1, MESSAGE, 1, b, utf8("qos1"));
      ca.expectAck(1, OK); // 01: queued for b on node 2
      cb.expect(brokerFrame(MESSAGE, false, a, null, utf8("qos1")));
      ca.frame(2, MESSAGE, 3, b, utf8("realtime"));
      ca.expectAck(2, OK);
      cb.expect(brokerFrame(MESSAGE, true, a, null, utf8("realtime")));
      ca.frame(3, MESSAGE, 0, b, utf8("qos0"));
      cb.expect(brokerFrame(MESSAGE, false, a, null, utf8("qos0")));
      cb.frame(4, MESSAGE, 1, a, new byte[0]);
      cb.expectAck(4, OK);
      ca.expect(brokerFrame(MESSAGE, false, b, null, new byte[0]));
      // a name registered nowhere, and a node-local name of another node
      ca.frame(5, MESSAGE, 1, uniq("nobody"), utf8("x"));
      ca.expectAck(5, NOT_REGISTERED);
      ca.frame(6, MESSAGE, 1, ".bridge", utf8("x"));
      ca.expectAck(6, NOT_REGISTERED);
      ca.expectSilence(100);
      cb.expectSilence(100);
    }
  }

  @Order(2)
  @Test
  void framesFromOneSenderToOneReceiverKeepTheirOrderAcrossNodes() throws Exception {
    String a = uniq("ord.a");
    String c = uniq("ord.c");
    String b = uniq("ord.b");
    int n = 5_000;
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try (RawClient ca = n(1).registered(Transport.TCP, a);
         RawClient cc = n(3).registered(Transport.UNIX, c);
         RawClient cb = n(2).registered(Transport.TCP, b)) {
      List<Future<?>> senders = new ArrayList<>();
      for (RawClient s : List.of(ca, cc)) {
        senders.add(pool.submit(() -> {
          for (int i = 0; i < n; i += 100) {
            byte[][] frames = new byte[100][];
            for (int j = 0; j < 100; j++) {
              byte[] payload = utf8(String.format("%06d", i + j));
              frames[j] = concat(RawClient.le32(i + j + 1), new byte[] {MESSAGE},
                  RawClient.le32(b.length() + 1 + payload.length), utf8(b), new byte[] {0},
                  payload);
            }
            s.send(frames); // 100 frames per write, QoS 0
          }
          return null;
        }));
      }
      int[] next = new int[2];
      for (int i = 0; i < 2 * n; i++) {
        byte[] f = cb.nextFrame();
        String text = new String(f, 6, f.length - 6, StandardCharsets.UTF_8);
        int zero = text.indexOf('\0');
        String sender = text.substring(0, zero);
        int k = sender.equals(a) ? 0 : 1;
        assertThat(sender).isIn(a, c);
        assertThat(Integer.parseInt(text.substring(zero + 1))).as("from %s", sender)
            .isEqualTo(next[k]);
        next[k]++;
      }
      for (Future<?> s : senders) {
        s.get(10, TimeUnit.SECONDS);
      }
      assertThat(next).containsExactly(n, n);
      cb.expectSilence(100);
    } finally {
      pool.shutdownNow();
    }
  }

  // ---------------------------------------------------------------- names

  @Order(3)
  @ParameterizedTest
  @EnumSource(Transport.class)
  void aNameHeldOnAnotherNodeIsRefused(Transport t) throws Exception {
    String x = uniq("uniq.x");
    try (RawClient holder = n(1).registered(t, x)) {
      for (int node : new int[] {2, 1}) {
        try (RawClient dup = n(node).raw(other(t))) {
          assertThat(dup.handshake(x)).as("node %d", node).isEqualTo(BUSY);
          dup.expectClosed(2_000);
        }
      }
      // an in-process client cannot take it either
      assertThatThrownBy(() -> n(3).broker.registerClient(x))
          .isInstanceOfSatisfying(ElbusException.class, e -> assertThat(e.code()).isEqualTo(BUSY));
      holder.frame(1, MESSAGE, 1, x, utf8("self"));
      holder.expect(brokerFrame(MESSAGE, false, x, null, utf8("self"))); // queued before the ack
      holder.expectAck(1, OK);
    }
    // released everywhere once its holder left
    awaitRegistration(2, t, x);
  }

  /** Registers {@code name} on node {@code i}, retrying while it is still held elsewhere. */
  private static void awaitRegistration(int i, Transport t, String name) throws Exception {
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (true) {
      try (RawClient c = n(i).raw(t)) {
        int code = c.handshake(name);
        if (code == OK) {
          return;
        }
        assertThat(code).isEqualTo(BUSY);
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError(name + " still held after 5 s");
      }
      Thread.sleep(20);
    }
  }

  @Order(4)
  @Test
  void twoNodesRegisteringOneNameAtOnceMakeOneWinner() throws Exception {
    int rounds = 40;
    ExecutorService pool = Executors.newFixedThreadPool(2);
    List<RawClient> open = new ArrayList<>();
    try {
      int[] wins = new int[2];
      for (int r = 0; r < rounds; r++) {
        String name = uniq("race");
        CyclicBarrier go = new CyclicBarrier(2);
        List<Future<Integer>> codes = new ArrayList<>();
        List<RawClient> pair = new ArrayList<>();
        for (int node = 1; node <= 2; node++) {
          RawClient c = n(node).raw(node == 1 ? Transport.TCP : Transport.UNIX);
          c.expect(0xEB, 0x01, 0x00);
          c.send(0xEB, 0x01, 0x00);
          c.expect(0x01);
          pair.add(c);
          open.add(c);
        }
        for (RawClient c : pair) {
          codes.add(pool.submit(() -> {
            byte[] nb = utf8(name);
            go.await(5, TimeUnit.SECONDS);
            c.send(RawClient.le16(nb.length), nb);
            return c.read(1)[0] & 0xFF;
          }));
        }
        int c1 = codes.get(0).get(10, TimeUnit.SECONDS);
        int c2 = codes.get(1).get(10, TimeUnit.SECONDS);
        assertThat(List.of(c1, c2)).as("round %d", r).containsExactlyInAnyOrder(OK, BUSY);
        wins[c1 == OK ? 0 : 1]++;
        // the winner is reachable from the loser's node
        RawClient winner = c1 == OK ? pair.get(0) : pair.get(1);
        try (RawClient probe = n(c1 == OK ? 2 : 1).registered(Transport.TCP, uniq("probe"))) {
          probe.frame(1, MESSAGE, 1, name, utf8("won"));
          probe.expectAck(1, OK);
        }
        assertThat(winner.nextFrame()).endsWith(utf8("won"));
      }
      System.out.printf("CLUSTER name race: %d rounds, node 1 won %d, node 2 won %d%n", rounds,
          wins[0], wins[1]);
    } finally {
      pool.shutdownNow();
      for (RawClient c : open) {
        c.close();
      }
    }
  }

  @Order(5)
  @Test
  void forceRegisterTakesANameOverFromAnotherNode() throws Exception {
    String f = uniq("force.f");
    try (RawClient old = n(1).registered(Transport.TCP, f);
         RawClient sender = n(2).registered(Transport.TCP, uniq("force.s"))) {
      // node 3's listeners force-register: the holder on node 1 is disconnected
      try (RawClient taker = n(3).registered(Transport.UNIX, f)) {
        old.expectClosed(5_000);
        sender.frame(1, MESSAGE, 1, f, utf8("to the new one"));
        sender.expectAck(1, OK);
        assertThat(taker.nextFrame()).endsWith(utf8("to the new one"));
      }
    }
  }

  @Order(6)
  @Test
  void secondariesLiveOnAnyNodeAndGoWithTheirPrimary() throws Exception {
    String p = uniq("sec.p");
    RpcClient rpc = new RpcClient(clients, java(1, Transport.TCP, uniq("sec.rpc")));
    try (RawClient other = n(3).registered(Transport.TCP, uniq("sec.o"))) {
      RawClient primary = n(1).registered(Transport.TCP, p);
      RawClient s1 = n(2).registered(Transport.UNIX, p + "%%1");
      RawClient s2 = n(3).registered(Transport.TCP, p + "%%2");
      try (RawClient dup = n(1).raw(Transport.UNIX)) {
        assertThat(dup.handshake(p + "%%1")).isEqualTo(BUSY); // full names are unique too
      }
      try (RawClient orphan = n(2).raw(Transport.TCP)) {
        assertThat(orphan.handshake(uniq("sec.none") + "%%1")).isEqualTo(NOT_REGISTERED);
      }
      other.frame(1, MESSAGE, 1, p + "%%1", utf8("to s1"));
      other.expectAck(1, OK);
      assertThat(s1.nextFrame()).endsWith(utf8("to s1"));
      Map<String, Object> entry = listEntry(rpc, p);
      assertThat(entry).containsEntry("instances", 3L).containsEntry("node", "n1");
      // the primary goes: its secondaries on every node go with it
      primary.close();
      s1.expectClosed(5_000);
      s2.expectClosed(5_000);
      s1.close();
      s2.close();
      other.frame(2, MESSAGE, 1, p + "%%2", utf8("gone"));
      other.expectAck(2, NOT_REGISTERED);
    } finally {
      rpc.close().await(10, TimeUnit.SECONDS);
    }
  }

  /**
   * A primary replaced on its own node (force-register) takes its secondaries on the other nodes
   * with it: they were the old primary's.
   */
  @Order(6)
  @Test
  void aPrimaryReplacedOnItsOwnNodeTakesItsSecondariesElsewhereWithIt() throws Exception {
    String p = uniq("sec.f");
    try (RawClient old = n(3).registered(Transport.TCP, p);
         RawClient s1 = n(1).registered(Transport.UNIX, p + "%%1")) {
      // node 3's listeners force-register: the old primary there is replaced
      try (RawClient taker = n(3).registered(Transport.UNIX, p)) {
        old.expectClosed(5_000);
        s1.expectClosed(5_000);
      }
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> listEntry(RpcClient rpc, String name) throws Exception {
    Buffer reply = rpc.call(".broker", "client.list", MsgPack.encodeBuffer(Map.of("filter",
        "^" + java.util.regex.Pattern.quote(name) + "$"))).await(10, TimeUnit.SECONDS);
    List<Object> list = (List<Object>) MsgPack.decodeMap(reply).get("clients");
    assertThat(list).hasSize(1);
    return (Map<String, Object>) list.get(0);
  }

  // ---------------------------------------------------------------- broadcasts, publications

  @Order(7)
  @Test
  void broadcastsReachMatchingNamesOnEveryNode() throws Exception {
    String g = uniq("bc");
    try (RawClient g1 = n(1).registered(Transport.TCP, g + ".g.1");
         RawClient g2 = n(2).registered(Transport.UNIX, g + ".g.2");
         RawClient g3 = n(3).registered(Transport.TCP, g + ".g.3");
         RawClient other = n(3).registered(Transport.UNIX, g + ".h.1");
         RawClient s = n(2).registered(Transport.TCP, g + ".sender")) {
      s.frame(1, BROADCAST, 1, g + ".g.*", utf8("all g"));
      s.expectAck(1, OK);
      for (RawClient c : List.of(g1, g2, g3)) {
        c.expect(brokerFrame(BROADCAST, false, g + ".sender", null, utf8("all g")));
      }
      other.expectSilence(200);
    }
  }

  @Order(8)
  @Test
  void publicationsReachSubscribersOnEveryNodeAndCrossOnlyWhereSubscribed() throws Exception {
    String topic = uniq("pub");
    String p = topic + ".p";
    try (RawClient pub = n(1).registered(Transport.TCP, p);
         RawClient s1 = n(1).registered(Transport.UNIX, uniq("pub.s1"));
         RawClient s2 = n(2).registered(Transport.TCP, uniq("pub.s2"));
         RawClient s3 = n(3).registered(Transport.UNIX, uniq("pub.s3"))) {
      RpcClient rpc = new RpcClient(clients, java(3, Transport.TCP, uniq("pub.rpc")));
      topics(s1, SUBSCRIBE, 1, topic + "/#");
      topics(s2, SUBSCRIBE, 1, topic + "/+/x", topic + "/#"); // one delivery however many match
      long before = framesIn(rpc);
      pub.frame(2, PUBLISH, 1, topic + "/a/x", utf8("fan-out"));
      pub.expectAck(2, OK);
      byte[] expected = brokerFrame(PUBLISH, false, p, topic + "/a/x", utf8("fan-out"));
      s1.expect(expected);
      s2.expect(expected);
      s3.expectSilence(200);
      // nothing crossed to node 3, where nobody subscribed
      assertThat(framesIn(rpc)).isEqualTo(before);
      topics(s3, SUBSCRIBE, 1, topic + "/a/+");
      pub.frame(3, PUBLISH, 3, topic + "/a/y", utf8("now 3"));
      pub.expectAck(3, OK);
      byte[] realtime = brokerFrame(PUBLISH, true, p, topic + "/a/y", utf8("now 3"));
      for (RawClient s : List.of(s1, s2, s3)) {
        s.expect(realtime);
      }
      assertThat(framesIn(rpc)).isGreaterThan(before);
      rpc.close().await(10, TimeUnit.SECONDS);
    }
  }

  /** Frames node 3 received from other nodes, by its {@code stats}. */
  @SuppressWarnings("unchecked")
  private static long framesIn(RpcClient rpc) throws Exception {
    Buffer reply = rpc.call(".broker", "stats", null).await(10, TimeUnit.SECONDS);
    Map<String, Object> links = (Map<String, Object>) MsgPack.decodeMap(reply).get("links");
    return (Long) links.get("frames_in");
  }

  @Order(9)
  @Test
  void aPublicationSentAfterTheSubscribeAckReachesTheSubscriber() throws Exception {
    // the subscription is announced to every node before the ack: never a miss
    String base = uniq("ack");
    try (RawClient pub = n(1).registered(Transport.TCP, uniq("ack.p"));
         RawClient sub = n(3).registered(Transport.UNIX, uniq("ack.s"))) {
      for (int i = 0; i < 100; i++) {
        String topic = base + "/" + i;
        sub.frame(i + 1, SUBSCRIBE, 1, body(topic));
        sub.expectAck(i + 1, OK);
        pub.frame(i + 1, PUBLISH, 0, topic, utf8("p" + i));
        byte[] f = sub.nextFrame(5_000);
        assertThat(new String(f, StandardCharsets.ISO_8859_1)).as("publication %d", i)
            .endsWith(topic + "\0p" + i);
      }
    }
  }

  @Order(10)
  @Test
  void exclusionsAndPublishForApplyOnTheReceivingNode() throws Exception {
    String t = uniq("ex");
    String e1 = uniq("ex.one");
    String e2 = uniq("ex.two");
    try (RawClient pub = n(1).registered(Transport.TCP, uniq("ex.p"));
         RawClient c1 = n(2).registered(Transport.TCP, e1);
         RawClient c2 = n(3).registered(Transport.UNIX, e2)) {
      topics(c1, SUBSCRIBE, 1, t + "/#");
      topics(c1, EXCLUDE, 2, t + "/no");
      topics(c2, SUBSCRIBE, 1, t + "/#");
      pub.frame(1, PUBLISH, 1, t + "/no", utf8("excluded"));
      pub.expectAck(1, OK);
      assertThat(c2.nextFrame()).endsWith(utf8("excluded"));
      // publish-for: only e2 (topic 00 receiver 00 payload)
      pub.frame(2, PUBLISH_FOR, 1, concat(utf8(t + "/pf"), new byte[] {0}, utf8(e2),
          new byte[] {0}, utf8("for two")));
      pub.expectAck(2, OK);
      assertThat(c2.nextFrame()).endsWith(utf8("for two"));
      pub.frame(3, PUBLISH, 1, t + "/yes", utf8("marker"));
      pub.expectAck(3, OK);
      // e1's next frame is the marker: neither the excluded topic nor the other's publish-for
      assertThat(c1.nextFrame()).endsWith(utf8("marker"));
      assertThat(c2.nextFrame()).endsWith(utf8("marker"));
    }
  }

  @Order(11)
  @Test
  void accessRightsApplyToWhatCrossesNodes() throws Exception {
    String r = uniq("aaa.r");
    String allowed = uniq("aaa.allowed");
    String denied = uniq("aaa.denied");
    String label = null;
    for (var l : n(1).broker.listeners()) {
      if (l.bind().type() == dev.elbus.client.Bind.Type.TCP) {
        label = l.label();
      }
    }
    n(1).broker.setAaa(label, AaaPolicy.builder()
        .client(r, ClientAcl.builder().p2p(Rule.only(allowed)).publish(Rule.only("ok/#"))
            .build())
        .build());
    try (RawClient cr = n(1).registered(Transport.TCP, r);
         RawClient ca = n(2).registered(Transport.TCP, allowed);
         RawClient cd = n(3).registered(Transport.TCP, denied)) {
      topics(cd, SUBSCRIBE, 1, "no/#", "ok/#");
      cr.frame(1, MESSAGE, 1, denied, utf8("x"));
      cr.expectAck(1, ACCESS);
      cr.frame(2, MESSAGE, 1, allowed, utf8("y"));
      cr.expectAck(2, OK);
      assertThat(ca.nextFrame()).endsWith(utf8("y"));
      cr.frame(3, PUBLISH, 1, "no/1", utf8("denied"));
      cr.expectAck(3, ACCESS);
      cr.frame(4, PUBLISH, 1, "ok/1", utf8("allowed"));
      cr.expectAck(4, OK);
      assertThat(cd.nextFrame()).endsWith(utf8("allowed"));
    } finally {
      n(1).broker.setAaa(label, null);
    }
  }

  // ---------------------------------------------------------------- Java client, RPC, internal

  @Order(12)
  @ParameterizedTest
  @EnumSource(Transport.class)
  void rpcCallsCrossNodesWithTheJavaClient(Transport t) throws Exception {
    String srv = uniq("rpc.srv");
    RpcClient server = new RpcClient(clients, java(2, other(t), srv));
    RpcClient caller = new RpcClient(clients, java(1, t, uniq("rpc.cli")));
    try {
      BlockingQueue<String> notes = new LinkedBlockingQueue<>();
      server.handler("echo", RpcHandler.sync(e -> e.params()));
      server.notificationHandler(e -> notes.add(e.payload().toString()));
      Buffer params = MsgPack.encodeBuffer(Map.of("k", "v"));
      assertThat(caller.call(srv, "echo", params).await(10, TimeUnit.SECONDS)).isEqualTo(params);
      caller.notify(srv, Buffer.buffer("note")).await(10, TimeUnit.SECONDS);
      assertThat(notes.poll(5, TimeUnit.SECONDS)).isEqualTo("note");
      assertThatThrownBy(() -> caller.call(uniq("rpc.none"), "echo", params)
          .await(10, TimeUnit.SECONDS)).hasMessageContaining("-32113");
    } finally {
      caller.close().await(10, TimeUnit.SECONDS);
      server.close().await(10, TimeUnit.SECONDS);
    }
  }

  @Order(13)
  @Test
  void inProcessClientsReachAndAreReachedAcrossNodes() throws Exception {
    String in = uniq("int");
    InternalClient ic = n(2).broker.registerClient(in, new dev.elbus.config.InternalClientOptions()
        .setEventBus(false));
    BlockingQueue<Frame> got = new LinkedBlockingQueue<>();
    ic.frameHandler(got::add);
    String raw = uniq("int.raw");
    try (RawClient c = n(1).registered(Transport.TCP, raw)) {
      c.frame(1, MESSAGE, 1, in, utf8("to internal"));
      c.expectAck(1, OK);
      Frame f = got.poll(5, TimeUnit.SECONDS);
      assertThat(f).isNotNull();
      assertThat(f.kind()).isEqualTo(FrameKind.MESSAGE);
      assertThat(f.sender()).isEqualTo(raw);
      ic.send(raw, Buffer.buffer("from internal"), QoS.PROCESSED).await(10, TimeUnit.SECONDS);
      assertThat(c.nextFrame()).endsWith(utf8("from internal"));
      assertThatThrownBy(() -> ic.send(uniq("int.none"), Buffer.buffer("x"), QoS.PROCESSED)
          .await(10, TimeUnit.SECONDS)).isInstanceOfSatisfying(ElbusException.class,
              e -> assertThat(e.code()).isEqualTo(NOT_REGISTERED));
      String topic = uniq("int.t");
      ic.subscribe(List.of(topic), QoS.PROCESSED).await(10, TimeUnit.SECONDS);
      c.frame(2, PUBLISH, 0, topic, utf8("published"));
      Frame p = got.poll(5, TimeUnit.SECONDS);
      assertThat(p).isNotNull();
      assertThat(p.topic()).isEqualTo(topic);
    } finally {
      ic.close();
    }
  }

  // ---------------------------------------------------------------- .broker

  @Order(14)
  @Test
  @SuppressWarnings("unchecked")
  void brokerListsAndCountsTheWholeCluster() throws Exception {
    String base = uniq("view");
    try (RawClient c1 = n(1).registered(Transport.TCP, base + ".a");
         RawClient c2 = n(2).registered(Transport.UNIX, base + ".b");
         RawClient c3 = n(3).registered(Transport.TCP, base + ".c")) {
      RpcClient rpc = new RpcClient(clients, java(2, Transport.TCP, uniq("view.rpc")));
      Buffer reply = rpc.call(".broker", "client.list", MsgPack.encodeBuffer(Map.of("filter",
          "^" + base + "\\."))).await(10, TimeUnit.SECONDS);
      List<Map<String, Object>> list = (List<Map<String, Object>>) (Object)
          MsgPack.decodeMap(reply).get("clients");
      assertThat(list).extracting(m -> m.get("name") + "@" + m.get("node"))
          .containsExactly(base + ".a@n1", base + ".b@n2", base + ".c@n3");
      // paging over the nodes: one at a time, in order
      List<String> paged = new ArrayList<>();
      String after = base + ".";
      while (true) {
        Map<String, Object> page = MsgPack.decodeMap(rpc.call(".broker", "client.list",
            MsgPack.encodeBuffer(Map.of("filter", "^" + base + "\\.", "after", after, "limit",
                1L))).await(10, TimeUnit.SECONDS));
        List<Map<String, Object>> cs = (List<Map<String, Object>>) page.get("clients");
        cs.forEach(m -> paged.add((String) m.get("name")));
        if (!Boolean.TRUE.equals(page.get("more")) || cs.isEmpty()) {
          break;
        }
        after = (String) cs.get(cs.size() - 1).get("name");
      }
      assertThat(paged).containsExactly(base + ".a", base + ".b", base + ".c");
      Map<String, Object> stats = MsgPack.decodeMap(rpc.call(".broker", "stats", null)
          .await(10, TimeUnit.SECONDS));
      assertThat(stats).containsEntry("node", "n2").containsKeys("r_frames", "w_frames");
      Map<String, Object> cl = (Map<String, Object>) stats.get("cluster");
      assertThat((List<Map<String, Object>>) cl.get("nodes")).extracting(m -> m.get("node"))
          .containsExactlyInAnyOrder("n1", "n2", "n3");
      assertThat((Long) cl.get("clients")).isGreaterThanOrEqualTo(4);
      rpc.close().await(10, TimeUnit.SECONDS);
    }
  }

  @Order(15)
  @Test
  void registrationsAreAnnouncedToTheWholeCluster() throws Exception {
    String z = uniq("ann.z");
    try (RawClient w = n(2).registered(Transport.UNIX, uniq("ann.w"))) {
      topics(w, SUBSCRIBE, 1, ".broker/info");
      try (RawClient cz = n(1).registered(Transport.TCP, z)) {
        assertThat(announcement(w)).containsEntry("s", "reg").containsEntry("d", z);
      }
      assertThat(announcement(w)).containsEntry("s", "unreg").containsEntry("d", z);
    }
  }

  /**
   * A broker restarted on the same Vert.x (its node id unchanged) whose goodbye the others never
   * got starts its announcements over: the others take its new state, not the old one's, and
   * it takes theirs. Names and subscriptions route both ways afterwards.
   */
  @Order(16)
  @Test
  void aBrokerRestartedOnItsVertxWithoutAGoodbyeIsTakenInAgain() throws Exception {
    // node 2 announces a few changes first: the others applied its sequence numbers up to there
    for (int i = 0; i < 5; i++) {
      try (RawClient c = n(2).registered(Transport.TCP, uniq("again.old"))) {
        topics(c, SUBSCRIBE, 1, uniq("again/old"));
      }
    }
    String stale = uniq("again.stale");
    redeployLeavingAName(stale, new int[] {2, 7}); // its DELTAS and BYE lost
    // the others drop the old broker's state and release its name in the map
    awaitRegistration(1, Transport.UNIX, stale);
    String x = uniq("again.x");
    String y = uniq("again.y");
    String topic = uniq("again/t");
    try (RawClient cx = n(2).registered(Transport.UNIX, x);
         RawClient cy = n(1).registered(Transport.TCP, y)) {
      topics(cx, SUBSCRIBE, 1, topic);
      cy.frame(1, MESSAGE, 1, x, utf8("to the new broker"));
      cy.expectAck(1, OK);
      assertThat(cx.nextFrame()).endsWith(utf8("to the new broker"));
      cx.frame(2, MESSAGE, 1, y, utf8("from the new broker"));
      cx.expectAck(2, OK);
      assertThat(cy.nextFrame()).endsWith(utf8("from the new broker"));
      cy.frame(2, PUBLISH, 1, topic, utf8("published"));
      cy.expectAck(2, OK);
      assertThat(cx.nextFrame()).endsWith(utf8("published"));
    }
  }

  /**
   * Nodes that do not confirm announcements (their DELTAS dropped on the way) cost node 1 a
   * bounded queue: past it the queue is dropped and they get node 1's whole state again
   * ({@code resyncs} in {@code stats}), and once they answer again they are up to date.
   */
  @Order(17)
  @Test
  void theAnnouncementsQueuedForANodeThatDoesNotAnswerAreBounded() throws Exception {
    io.vertx.core.Handler<io.vertx.core.eventbus.DeliveryContext<Object>> dropDeltas = ctx -> {
      Object body = ctx.body();
      if (ctx.message().address().startsWith("elbus.node.") && body instanceof Buffer
          && ((Buffer) body).length() > 0 && ((Buffer) body).getByte(0) == 2) { // DELTAS
        return; // never sent: node 1 resends after the timeout
      }
      ctx.next();
    };
    RpcClient rpc = new RpcClient(clients, java(1, Transport.TCP, uniq("bound.rpc")));
    String topic = uniq("bound/t");
    try (RawClient sub = n(1).registered(Transport.TCP, uniq("bound.sub"));
         RawClient pub = n(2).registered(Transport.UNIX, uniq("bound.pub"))) {
      long before = resyncs(rpc);
      n(1).vertx.eventBus().addOutboundInterceptor(dropDeltas);
      try {
        // more subscription changes than the bound, 65,536 (QoS 0: not waiting for the other
        // nodes)
        int rounds = 70;
        for (int r = 0; r < rounds; r++) {
          String[] ts = new String[500];
          for (int i = 0; i < ts.length; i++) {
            ts[i] = topic + "/" + r + "/" + i;
          }
          sub.frame(0, SUBSCRIBE, 0, body(ts));
          sub.frame(0, UNSUBSCRIBE, 0, body(ts));
        }
        topics(sub, SUBSCRIBE, 1, topic + "/marker"); // all of them routed here
      } finally {
        n(1).vertx.eventBus().removeOutboundInterceptor(dropDeltas);
      }
      assertThat(resyncs(rpc)).as("resyncs").isGreaterThan(before);
      // node 2 is up to date again once it has the state the resync sends: the ack of a
      // subscription does not wait for a node whose HELLO is in flight (docs/cluster.md,
      // "Limits"), so publish until one arrives
      topics(sub, SUBSCRIBE, 2, topic + "/after");
      byte[] got = null;
      for (int i = 1; got == null && i <= 100; i++) {
        pub.frame(i, PUBLISH, 1, topic + "/after", utf8("caught up"));
        pub.expectAck(i, OK);
        try {
          got = sub.nextFrame(100);
        } catch (java.io.IOException notYet) {
          // node 2 has not applied the resync yet
        }
      }
      assertThat(got).as("a publication from node 2 after the resync").isNotNull()
          .endsWith(utf8("caught up"));
    } finally {
      rpc.close().await(10, TimeUnit.SECONDS);
    }
  }

  @SuppressWarnings("unchecked")
  private static long resyncs(RpcClient rpc) throws Exception {
    Map<String, Object> stats = MsgPack.decodeMap(rpc.call(".broker", "stats", null)
        .await(10, TimeUnit.SECONDS));
    Map<String, Object> links = (Map<String, Object>) stats.get("links");
    assertThat(links).containsKey("resyncs");
    return ((Number) links.get("resyncs")).longValue();
  }

  /**
   * A name node 2's broker still held when it said goodbye (its release did not get out) is
   * released in the map by the other nodes: it can be registered again.
   */
  @Order(16)
  @Test
  void aNameStillHeldAtGoodbyeIsReleasedByTheOthers() throws Exception {
    String stale = uniq("bye.stale");
    // its DELTAS lost, its BYE late (after the name is back in the map)
    redeployLeavingAName(stale, new int[] {2}, 7);
    awaitRegistration(1, Transport.TCP, stale); // node 1 does not force-register
  }

  /**
   * Registers {@code name} on node 2, then redeploys node 2's broker with its cluster messages
   * of the {@code dropped} kinds lost on the way out and those of the {@code delayed} kinds sent
   * late, and the name put back in the map once the old broker is gone, as when its release did
   * not get out.
   */
  private static void redeployLeavingAName(String name, int[] dropped, int... delayed)
      throws Exception {
    RawClient held = n(2).registered(Transport.TCP, name);
    com.hazelcast.map.IMap<String, String> map = ((io.vertx.spi.cluster.hazelcast
        .HazelcastClusterManager) ((io.vertx.core.internal.VertxInternal) n(2).vertx)
        .clusterManager()).getHazelcastInstance().getMap("elbus.names");
    String holder = map.get(name);
    assertThat(holder).isNotNull();
    try {
      cluster.redeploy(1, () -> map.put(name, holder), dropped, delayed);
    } finally {
      held.close();
    }
  }

  /** The next {@code .broker/info} announcement {@code c} receives. */
  private static Map<String, Object> announcement(RawClient c) throws IOException {
    byte[] f = c.nextFrame();
    byte[] prefix = concat(utf8(".broker"), new byte[] {0}, utf8(".broker/info"), new byte[] {0});
    byte[] body = java.util.Arrays.copyOfRange(f, 6, f.length);
    assertThat(java.util.Arrays.copyOf(body, prefix.length)).isEqualTo(prefix);
    return MsgPack.decodeMap(java.util.Arrays.copyOfRange(body, prefix.length, body.length));
  }

  // ---------------------------------------------------------------- failure (last)

  /**
   * A node that closes (its broker undeployed, its Vert.x leaving) releases its names: each
   * departure is announced once on the other nodes, and senders get 71.
   */
  @Order(99)
  @Test
  void aNodeThatLeavesAnnouncesEachDepartureOnce() throws Exception {
    String g = uniq("leave.g");
    String h = uniq("leave.h");
    try (RawClient gone = n(3).registered(Transport.UNIX, g);
         RawClient watcher = n(1).registered(Transport.TCP, uniq("leave.w"));
         RawClient m1 = n(1).registered(Transport.UNIX, uniq("leave.m1"))) {
      topics(watcher, SUBSCRIBE, 1, ".broker/info");
      n(3).stop();
      assertThat(announcement(watcher)).containsEntry("s", "unreg").containsEntry("d", g);
      m1.frame(1, MESSAGE, 1, g, utf8("to the departed"));
      m1.expectAck(1, NOT_REGISTERED);
      // the next announcement is a later registration, not g's departure again
      try (RawClient later = n(2).registered(Transport.TCP, h)) {
        assertThat(announcement(watcher)).containsEntry("s", "reg").containsEntry("d", h);
      }
    }
    cluster.restart(2);
  }

  @Order(100)
  @Test
  void aCrashedNodesNamesAreReleasedAndTheOthersKeepWorking() throws Exception {
    String k = uniq("crash.k");
    String k2 = uniq("crash.k2");
    String m2name = uniq("crash.m2");
    try (RawClient gone = n(3).registered(Transport.TCP, k);
         RawClient watcher = n(1).registered(Transport.UNIX, uniq("crash.w"));
         RawClient m1 = n(1).registered(Transport.TCP, uniq("crash.m1"));
         RawClient m2 = n(2).registered(Transport.UNIX, m2name)) {
      topics(watcher, SUBSCRIBE, 1, ".broker/info");
      long t0 = System.nanoTime();
      n(3).crash();
      // node 1 and 2 clients keep exchanging messages meanwhile
      int op = 1;
      long released = -1;
      while (released < 0) {
        m1.frame(op, MESSAGE, 1, m2name, utf8("alive"));
        m1.expectAck(op++, OK);
        assertThat(m2.nextFrame()).endsWith(utf8("alive"));
        m1.frame(op, MESSAGE, 1, k, utf8("to the dead"));
        byte[] ack = m1.nextFrame();
        int code = ack[5] & 0xFF;
        assertThat(code).isIn(OK, NOT_REGISTERED, 0x78);
        if (code == NOT_REGISTERED) {
          released = (System.nanoTime() - t0) / 1_000_000;
        }
        op++;
        assertThat((System.nanoTime() - t0) / 1_000_000).as("names released").isLessThan(10_000);
        Thread.sleep(20);
      }
      System.out.printf("CLUSTER crash: node 3's names unreachable after %d ms%n", released);
      assertThat(announcement(watcher)).containsEntry("s", "unreg").containsEntry("d", k);
      awaitRegistration(2, Transport.TCP, k);
    }
    // node 3 comes back (a new Vert.x node id, the same ports) and takes part again, this time
    // on a clustered Vert.x the application made itself: the broker joins its cluster
    cluster.restartOnOwnVertx(2);
    try (RawClient back = n(3).registered(Transport.UNIX, k2);
         RawClient from = n(1).registered(Transport.TCP, uniq("crash.from"))) {
      from.frame(1, MESSAGE, 1, k2, utf8("welcome back"));
      from.expectAck(1, OK);
      assertThat(back.nextFrame()).endsWith(utf8("welcome back"));
    }
  }
}
