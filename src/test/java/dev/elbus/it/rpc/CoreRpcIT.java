package dev.elbus.it.rpc;

import static dev.elbus.it.rpc.RpcWire.BROKER;
import static dev.elbus.it.rpc.RpcWire.OK;
import static dev.elbus.it.rpc.RpcWire.ack;
import static dev.elbus.it.rpc.RpcWire.assertAcks;
import static dev.elbus.it.rpc.RpcWire.assertError;
import static dev.elbus.it.rpc.RpcWire.assertFrame;
import static dev.elbus.it.rpc.RpcWire.call;
import static dev.elbus.it.rpc.RpcWire.exchange;
import static dev.elbus.it.rpc.RpcWire.message;
import static dev.elbus.it.rpc.RpcWire.reply;
import static dev.elbus.it.rpc.RpcWire.replyResult;
import static dev.elbus.it.rpc.RpcWire.unpackMap;
import static dev.elbus.support.RawClient.bytes;
import static dev.elbus.support.RawClient.concat;
import static dev.elbus.support.RawClient.hex;
import static dev.elbus.support.RawClient.le32;
import static dev.elbus.support.RawClient.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.elbus.InternalClient;
import dev.elbus.impl.routing.BrokerStats;
import dev.elbus.it.rpc.RpcWire.Exchange;
import dev.elbus.support.LeakGate;
import dev.elbus.support.RawClient;
import dev.elbus.support.TestBroker;
import dev.elbus.support.Transport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.stream.Stream;

/**
 * The broker's core RPC methods on {@code .broker} (PROTOCOL.md sections 9 and 10), byte-exact
 * over raw sockets. A reply from {@code .broker} and the ack of the request are independent on
 * the wire, so replies and acks are checked each in their own order, never against each other.
 */
@ExtendWith(LeakGate.class)
class CoreRpcIT {
  private static TestBroker broker;

  @BeforeAll
  static void start() throws Exception {
    broker = TestBroker.start();
  }

  @AfterAll
  static void stop() throws Exception {
    broker.close();
  }

  private static String n(Transport t, String name) {
    return name + "-" + t.name().toLowerCase();
  }

  private static final java.util.concurrent.atomic.AtomicInteger SEQ =
      new java.util.concurrent.atomic.AtomicInteger();

  /** A registered raw client with a name unique in this class (closes are asynchronous). */
  private static RawClient client(Transport t, String name) throws Exception {
    return broker.registered(t, n(t, name) + "-" + SEQ.incrementAndGet());
  }

  // ---------------------------------------------------------------- test, info, stats

  @ParameterizedTest
  @EnumSource(Transport.class)
  void testRepliesOkByteExact(Transport t) throws Exception {
    try (RawClient c = client(t, "test")) {
      call(c, 0x0A0B0C0D, 1, 0x01020304L, "test", new byte[0]);
      Exchange x = exchange(c, 1, 1);
      assertAcks(x, ack(0x0A0B0C0D, 0x01));
      // 12 <len> 00 .broker 00 11 <call id> 81 A2 6F 6B C3; len = 7 + 1 + 1 + 4 + 5
      assertFrame(x.other(), concat(bytes(0x12), le32(18), bytes(0), utf8(".broker"), bytes(0),
          bytes(0x11, 0x04, 0x03, 0x02, 0x01), hex("81 A2 6F 6B C3")));
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void emptyMapIsNoParams(Transport t) throws Exception {
    try (RawClient c = client(t, "emptymap")) {
      call(c, 1, 1, 7, "test", bytes(0x80));
      call(c, 2, 1, 8, "info", bytes(0x80));
      call(c, 3, 1, 9, "stats", bytes(0x80));
      call(c, 4, 1, 10, "client.list", bytes(0x80));
      Exchange x = exchange(c, 4, 4);
      assertAcks(x, ack(1, 1), ack(2, 1), ack(3, 1), ack(4, 1));
      assertFrame(x.others().get(0), reply(7, OK, false));
      assertThat(unpackMap(replyResult(x.others().get(1), 8, false))).containsKey("version");
      assertThat(unpackMap(replyResult(x.others().get(2), 9, false))).containsKey("uptime");
      assertThat(unpackMap(replyResult(x.others().get(3), 10, false))).containsKey("clients");
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void infoHasAuthorAndProjectVersion(Transport t) throws Exception {
    String version;
    try (InputStream in = CoreRpcIT.class.getResourceAsStream("/elbus-version.properties")) {
      assertThat(in).as("/elbus-version.properties on the class path").isNotNull();
      Properties p = new Properties();
      p.load(in);
      version = p.getProperty("version");
    }
    assertThat(version).isNotBlank().doesNotContain("${");
    try (RawClient c = client(t, "info")) {
      call(c, 5, 0, 77, "info", new byte[0]);
      Map<String, Object> m = unpackMap(replyResult(exchange(c, 0, 1).other(), 77, false));
      assertThat(m).containsOnlyKeys("author", "version");
      assertThat(m.get("author")).isInstanceOf(String.class);
      assertThat((String) m.get("author")).isNotBlank();
      assertThat(m.get("version")).isEqualTo(version);
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void statsAreConsistentWithBrokerStats(Transport t) throws Exception {
    try (RawClient c = client(t, "stats")) {
      BrokerStats s = broker.router().stats();
      long[] before = {s.uptimeSeconds(), s.rFrames(), s.rBytes(), s.wFrames(), s.wBytes()};
      call(c, 1, 1, 3, "stats", new byte[0]);
      Exchange x = exchange(c, 1, 1);
      long[] after = {s.uptimeSeconds(), s.rFrames(), s.rBytes(), s.wFrames(), s.wBytes()};
      assertAcks(x, ack(1, 1));
      Map<String, Object> m = unpackMap(replyResult(x.other(), 3, false));
      String[] keys = {"uptime", "r_frames", "r_bytes", "w_frames", "w_bytes"};
      // elbus' keys, plus this broker's frames refused by internal clients at their queue bound,
      // per-reason disconnect and per-limit refusal counters
      assertThat(m).containsOnlyKeys(concatKeys(keys, "dropped", "disconnects", "refused"));
      assertThat(m.get("dropped")).isEqualTo(s.dropped());
      assertThat(new ArrayList<Object>(((Map<?, ?>) m.get("disconnects")).keySet()))
          .contains("slow_consumer", "protocol_error", "access", "handshake_timeout");
      assertThat(new ArrayList<Object>(((Map<?, ?>) m.get("refused")).keySet()))
          .containsExactly("topic_levels", "subscription_bytes", "subscriptions",
              "wildcard_levels", "name_parts");
      for (int i = 0; i < keys.length; i++) {
        assertThat(m.get(keys[i])).as(keys[i]).isInstanceOf(Long.class);
        long v = (Long) m.get(keys[i]);
        assertThat(v).as(keys[i]).isGreaterThanOrEqualTo(0).isBetween(before[i], after[i]);
      }
      // the request itself was received before the stats were taken
      assertThat((Long) m.get("r_frames")).isGreaterThan(before[1]);
      assertThat((Long) m.get("r_bytes")).isGreaterThan(before[2]);
    }
  }

  private static String[] concatKeys(String[] keys, String... extra) {
    String[] out = Arrays.copyOf(keys, keys.length + extra.length);
    System.arraycopy(extra, 0, out, keys.length, extra.length);
    return out;
  }

  // ---------------------------------------------------------------- benchmark.test

  static Stream<Arguments> echoPayloads() {
    byte[] random = new byte[100];
    new Random(42).nextBytes(random);
    byte[] big = new byte[200_000];
    new Random(7).nextBytes(big);
    List<Arguments> out = new ArrayList<>();
    for (Transport t : Transport.values()) {
      out.add(Arguments.of(t, "empty", new byte[0]));
      out.add(Arguments.of(t, "random100", random));
      out.add(Arguments.of(t, "not msgpack", hex("C1 00 FF 00 00 12")));
      out.add(Arguments.of(t, "msgpack int", bytes(0x01)));
      out.add(Arguments.of(t, "non-empty map", hex("81 A1 61 01")));
      out.add(Arguments.of(t, "200 KB", big));
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("echoPayloads")
  void benchmarkTestEchoesAnyBytes(Transport t, String what, byte[] payload) throws Exception {
    try (RawClient c = client(t, "echo-" + what.replace(' ', '_'))) {
      call(c, 9, 1, 0xFFFFFFFFL, "benchmark.test", payload);
      Exchange x = exchange(c, 1, 1);
      assertAcks(x, ack(9, 1));
      assertFrame(x.other(), reply(0xFFFFFFFFL, payload, false));
    }
  }

  // ---------------------------------------------------------------- errors

  static Stream<Arguments> errors() {
    List<Arguments> out = new ArrayList<>();
    for (Transport t : Transport.values()) {
      out.add(Arguments.of(t, "no.such", "", -32601));
      out.add(Arguments.of(t, "no.such", "80", -32601));
      out.add(Arguments.of(t, "no.such", "81 A1 61 01", -32601));
      // params are parsed before the method is looked up
      out.add(Arguments.of(t, "no.such", "01", -32700));
      out.add(Arguments.of(t, "no.such", "C1", -32700));
      out.add(Arguments.of(t, "no.such", "FF FE 00 61", -32700));
      out.add(Arguments.of(t, "test", "01", -32700));
      out.add(Arguments.of(t, "test", "81 A1 61", -32700)); // truncated map
      out.add(Arguments.of(t, "info", "80 80", -32700)); // trailing bytes
      out.add(Arguments.of(t, "stats", "91 01", -32700)); // an array
      for (String m : List.of("test", "info", "stats", "client.list")) {
        out.add(Arguments.of(t, m, "81 A1 61 01", -32602));
      }
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0} {1} [{2}] -> {3}")
  @MethodSource("errors")
  void errorReplyByteExact(Transport t, String method, String params, int code)
      throws Exception {
    try (RawClient c = client(t, "err")) {
      call(c, 0x11, 1, 0x00BEEF01L, method, hex(params));
      Exchange x = exchange(c, 1, 1);
      assertAcks(x, ack(0x11, 1));
      assertError(x.other(), 0x00BEEF01L, code, false);
      // the connection stays usable
      call(c, 0x12, 0, 2, "test", new byte[0]);
      assertFrame(exchange(c, 0, 1).other(), reply(2, OK, false));
    }
  }

  // ---------------------------------------------------------------- call0, realtime, no reply

  @ParameterizedTest
  @EnumSource(Transport.class)
  void call0GetsNoReply(Transport t) throws Exception {
    try (RawClient c = client(t, "call0")) {
      call(c, 1, 1, 0, "test", new byte[0]);
      call(c, 2, 1, 0, "no.such", new byte[0]); // not even an error reply
      call(c, 3, 1, 0, "benchmark.test", utf8("x"));
      call(c, 4, 1, 1, "test", new byte[0]);
      // a reply to a call0 would be written before the ack of its own request, so before the
      // marker's reply: exactly 4 acks and one reply
      Exchange x = exchange(c, 4, 1);
      assertAcks(x, ack(1, 1), ack(2, 1), ack(3, 1), ack(4, 1));
      assertFrame(x.other(), reply(1, OK, false));
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void realtimeRequestGetsRealtimeReply(Transport t) throws Exception {
    try (RawClient c = client(t, "rt")) {
      call(c, 31, 3, 31, "test", new byte[0]);
      Exchange x = exchange(c, 1, 1);
      assertAcks(x, ack(31, 1));
      assertFrame(x.other(), reply(31, OK, true));

      call(c, 32, 2, 32, "benchmark.test", utf8("rt"));
      assertFrame(exchange(c, 0, 1).other(), reply(32, utf8("rt"), true));

      call(c, 33, 3, 33, "no.such", new byte[0]);
      x = exchange(c, 1, 1);
      assertAcks(x, ack(33, 1));
      assertError(x.other(), 33, -32601, true);

      call(c, 34, 1, 34, "test", new byte[0]);
      x = exchange(c, 1, 1);
      assertAcks(x, ack(34, 1));
      assertFrame(x.other(), reply(34, OK, false));
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void notificationGetsNothing(Transport t) throws Exception {
    try (RawClient c = client(t, "notify")) {
      message(c, 1, 1, BROKER, bytes(0x00));
      message(c, 2, 1, BROKER, concat(bytes(0x00), utf8("hello")));
      message(c, 3, 1, BROKER, concat(bytes(0x00), request(9, "test")));
      call(c, 4, 1, 4, "test", new byte[0]);
      Exchange x = exchange(c, 4, 1);
      assertAcks(x, ack(1, 1), ack(2, 1), ack(3, 1), ack(4, 1));
      assertFrame(x.other(), reply(4, OK, false));
    }
  }

  private static byte[] request(long id, String method) {
    return RpcWire.request(id, method, new byte[0]);
  }

  static Stream<Arguments> malformed() {
    List<Arguments> out = new ArrayList<>();
    for (Transport t : Transport.values()) {
      out.add(Arguments.of(t, "empty payload", ""));
      out.add(Arguments.of(t, "request type only", "01"));
      out.add(Arguments.of(t, "request, call id only", "01 05 00 00 00"));
      out.add(Arguments.of(t, "request, short call id", "01 05 00 74 00"));
      out.add(Arguments.of(t, "reply to .broker", "11 05 00 00 00 81 A2 6F 6B C3"));
      out.add(Arguments.of(t, "short reply", "11 05 00"));
      out.add(Arguments.of(t, "error reply to .broker", "12 05 00 00 00 A5 82 61"));
      out.add(Arguments.of(t, "unknown type", "07 05 00 00 00 74 65 73 74 00"));
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("malformed")
  void malformedRpcFrameGetsNothingAndKeepsTheConnection(Transport t, String what, String payload)
      throws Exception {
    try (RawClient c = client(t, "bad-" + what.replace(' ', '_').replace(',', '_'))) {
      message(c, 1, 1, BROKER, hex(payload));
      message(c, 2, 0, BROKER, hex(payload));
      call(c, 3, 1, 5, "test", new byte[0]);
      Exchange x = exchange(c, 2, 1);
      assertAcks(x, ack(1, 1), ack(3, 1));
      assertFrame(x.other(), reply(5, OK, false));
      assertThat(c.isOpen()).isTrue();
    }
  }

  static Stream<Arguments> malformedWithCallId() {
    List<Arguments> out = new ArrayList<>();
    for (Transport t : Transport.values()) {
      out.add(Arguments.of(t, "request without terminator", "01 05 00 00 00 74 65 73 74"));
      out.add(Arguments.of(t, "method not UTF-8", "01 05 00 00 00 FF 00"));
      out.add(Arguments.of(t, "method not UTF-8, params", "01 05 00 00 00 C3 28 00 80"));
    }
    return out.stream();
  }

  /**
   * A malformed request whose call id could be read is answered -32600 (invalid request), with
   * call id 0 nothing (issue 17, scenario 8); the connection stays.
   */
  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("malformedWithCallId")
  void malformedRequestWithACallIdGetsInvalidRequest(Transport t, String what, String payload)
      throws Exception {
    try (RawClient c = client(t, "bad-id-" + what.replace(' ', '_').replace(',', '_'))) {
      message(c, 1, 1, BROKER, hex(payload));
      message(c, 2, 0, BROKER, hex(payload.replaceFirst("01 05", "01 00")));
      call(c, 3, 1, 6, "test", new byte[0]);
      Exchange x = exchange(c, 2, 2);
      assertAcks(x, ack(1, 1), ack(3, 1));
      assertThat(assertError(x.others().get(0), 5, -32600, false)).contains("request 5");
      assertFrame(x.others().get(1), reply(6, OK, false));
      assertThat(c.isOpen()).isTrue();
    }
  }

  // ---------------------------------------------------------------- counters, secondaries

  /**
   * The reply counts for its receiver as one frame of the incoming body length, {@code target 00
   * payload} with the target (the caller's name) in UTF-8 bytes (section 6).
   */
  @ParameterizedTest
  @EnumSource(Transport.class)
  void replyIsCountedInUtf8Bytes(Transport t) throws Exception {
    String name = n(t, "zählér-ü");
    try (RawClient c = broker.registered(t, name)) {
      int b1 = call(c, 1, 0, 1, "test", new byte[0]);
      assertFrame(exchange(c, 0, 1).other(), reply(1, OK, false));
      int b2 = call(c, 2, 0, 2, "client.list", new byte[0]);
      Map<String, Object> me = entry(unpackMap(replyResult(exchange(c, 0, 1).other(), 2, false)),
          name);
      assertThat(me.get("r_frames")).isEqualTo(2L);
      assertThat(me.get("r_bytes")).isEqualTo((long) (b1 + b2));
      assertThat(me.get("w_frames")).isEqualTo(1L);
      // the reply: 11 <call id> 81 A2 6F 6B C3 = 10 bytes, after the name and 00
      assertThat(me.get("w_bytes")).isEqualTo((long) (utf8(name).length + 1 + 10));
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void secondaryCallerGetsTheReply(Transport t) throws Exception {
    Transport other = t == Transport.TCP ? Transport.UNIX : Transport.TCP;
    try (RawClient p = broker.registered(t, n(t, "prim"));
        RawClient s = broker.registered(other, n(t, "prim") + "%%x")) {
      call(s, 1, 1, 11, "test", new byte[0]);
      Exchange x = exchange(s, 1, 1);
      assertAcks(x, ack(1, 1));
      assertFrame(x.other(), reply(11, OK, false));
      call(p, 1, 0, 12, "test", new byte[0]);
      assertFrame(exchange(p, 0, 1).other(), reply(12, OK, false));
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> entry(Map<String, Object> list, String name) {
    for (Object o : (List<Object>) list.get("clients")) {
      Map<String, Object> e = (Map<String, Object>) o;
      if (name.equals(e.get("name"))) {
        return e;
      }
    }
    throw new AssertionError(name + " not in client.list " + list);
  }

  // ---------------------------------------------------------------- client.list

  private static final String[] ENTRY_KEYS = {"name", "kind", "source", "port", "r_frames",
      "r_bytes", "w_frames", "w_bytes", "queue", "instances"};

  @ParameterizedTest
  @EnumSource(Transport.class)
  @SuppressWarnings("unchecked")
  void clientListSortedWithExactEntries(Transport t) throws Exception {
    try (TestBroker b = TestBroker.start();
        RawClient unix = b.registered(Transport.UNIX, "cl.unix");
        RawClient tcp = b.registered(Transport.TCP, "cl.tcp");
        RawClient sec1 = b.registered(Transport.UNIX, "cl.tcp%%1");
        RawClient sec2 = b.registered(Transport.TCP, "cl.tcp%%2");
        RawClient caller = b.registered(t, "caller")) {
      InternalClient internal = b.broker().registerClient("cl.int");
      String tcpPort = "127.0.0.1:" + b.port();
      String unixPort = b.socket().toString();

      int body = call(caller, 1, 0, 42, "client.list", new byte[0]);
      Map<String, Object> m = unpackMap(replyResult(exchange(caller, 0, 1).other(), 42, false));
      assertThat(m).containsOnlyKeys("clients");
      List<Map<String, Object>> list = (List<Map<String, Object>>) (List<?>) m.get("clients");
      assertThat(list).extracting(e -> e.get("name"))
          .containsExactly(".broker", "caller", "cl.int", "cl.tcp", "cl.unix");
      for (Map<String, Object> e : list) {
        // internal clients also report the frames they refused at their queue bound
        assertThat(e.keySet()).as("keys of %s", e.get("name"))
            .containsExactlyInAnyOrder("internal".equals(e.get("kind"))
                ? concatKeys(ENTRY_KEYS, "dropped") : ENTRY_KEYS);
        for (String k : List.of("r_frames", "r_bytes", "w_frames", "w_bytes", "queue",
            "instances")) {
          assertThat(e.get(k)).as("%s of %s", k, e.get("name")).isInstanceOf(Long.class);
          assertThat((Long) e.get(k)).as("%s of %s", k, e.get("name")).isNotNegative();
        }
      }
      assertEntry(list.get(0), ".broker", "internal", null, null, 1);
      assertThat(list.get(0).get("queue")).isEqualTo(0L);
      Map<String, Object> me = list.get(1);
      assertEntry(me, "caller", t == Transport.TCP ? "tcp" : "local_ipc",
          t == Transport.TCP ? RpcWire.source(caller) : null,
          t == Transport.TCP ? tcpPort : unixPort, 1);
      assertCounters(me, 1, body, 0, 0);
      assertEntry(list.get(2), "cl.int", "internal", null, null, 1);
      assertCounters(list.get(2), 0, 0, 0, 0);
      assertEntry(list.get(3), "cl.tcp", "tcp", RpcWire.source(tcp), tcpPort, 3);
      assertCounters(list.get(3), 0, 0, 0, 0);
      assertEntry(list.get(4), "cl.unix", "local_ipc", null, unixPort, 1);
      assertCounters(list.get(4), 0, 0, 0, 0);

      // a secondary gone: instances follows
      sec2.close();
      awaitInstances(b, "cl.tcp", 2);
      call(caller, 2, 0, 43, "client.list", new byte[0]);
      list = (List<Map<String, Object>>) (List<?>) unpackMap(
          replyResult(exchange(caller, 0, 1).other(), 43, false)).get("clients");
      assertThat(list).extracting(e -> e.get("name"))
          .containsExactly(".broker", "caller", "cl.int", "cl.tcp", "cl.unix");
      assertThat(list.get(3).get("instances")).isEqualTo(2L);
      internal.close();
    }
  }

  private static void awaitInstances(TestBroker b, String name, int n) throws Exception {
    long deadline = System.nanoTime() + RpcWire.TIMEOUT_MS * 1_000_000;
    while (b.broker().clients().stream()
        .noneMatch(c -> c.name().equals(name) && c.instances() == n)) {
      assertThat(System.nanoTime()).as("%s with %d instances", name, n).isLessThan(deadline);
      Thread.sleep(10);
    }
  }

  private static void assertEntry(Map<String, Object> e, String name, String kind, String source,
      String port, long instances) {
    assertThat(e.get("name")).isEqualTo(name);
    assertThat(e.get("kind")).as("kind of %s", name).isEqualTo(kind);
    assertThat(e.get("source")).as("source of %s", name).isEqualTo(source);
    assertThat(e.get("port")).as("port of %s", name).isEqualTo(port);
    assertThat(e.get("instances")).as("instances of %s", name).isEqualTo(instances);
  }

  private static void assertCounters(Map<String, Object> e, long rf, long rb, long wf, long wb) {
    assertThat(List.of(e.get("r_frames"), e.get("r_bytes"), e.get("w_frames"), e.get("w_bytes"),
        e.get("queue"))).as("r_frames, r_bytes, w_frames, w_bytes, queue of %s", e.get("name"))
        .containsExactly(rf, rb, wf, wb, 0L);
  }
}
