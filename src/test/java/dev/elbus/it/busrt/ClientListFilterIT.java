package dev.elbus.it.busrt;

import dev.elbus.InternalClient;
import dev.elbus.rpc.MsgPack;
import dev.elbus.support.LeakGate;
import dev.elbus.support.RawClient;
import dev.elbus.support.TestBroker;
import dev.elbus.support.Transport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static dev.elbus.it.busrt.BusRt.MESSAGE;
import static dev.elbus.it.busrt.BusRt.OK;
import static dev.elbus.it.busrt.BusRt.marker;
import static dev.elbus.it.busrt.BusRt.rpcRequest;
import static dev.elbus.it.busrt.BusRt.uniq;
import static dev.elbus.support.RawClient.concat;
import static dev.elbus.support.RawClient.le32;
import static dev.elbus.support.RawClient.utf8;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code client.list} with the BUS/RT params {@code {"filter": REGEX}} (PROTOCOL.md sections 10
 * and 15), called over raw sockets: the regex is searched in primary names; bad params get an
 * RPC error reply with code -32602 and a message.
 */
@ExtendWith(LeakGate.class)
class ClientListFilterIT {
  private static TestBroker tb;
  /** -32602 as the i16 LE of an error reply. */
  private static final byte[] INVALID_PARAMS = {(byte) 0xA6, (byte) 0x80};

  @BeforeAll
  static void start() throws Exception {
    tb = TestBroker.start(1, BusRt.QUIET);
  }

  @AfterAll
  static void stop() throws Exception {
    tb.close();
  }

  /**
   * Calls {@code client.list} with {@code params} (QoS 1) and returns the RPC part of the reply
   * ({@code 11|12 <call id> ...}). The ack of the request frame and the reply are independent
   * frames: either may come first.
   */
  private static byte[] call(RawClient c, int callId, byte[] params) throws IOException {
    c.frame(callId, MESSAGE, 1, ".broker", rpcRequest(callId, "client.list", params));
    byte[] a = BusRt.next(c);
    byte[] b = BusRt.next(c);
    byte[] ack = BusRt.ack(callId, OK);
    byte[] reply;
    if (Arrays.equals(a, ack)) {
      reply = b;
    } else {
      assertThat(BusRt.hex(b)).as("the other frame is the ack").isEqualTo(BusRt.hex(ack));
      reply = a;
    }
    byte[] head = concat(new byte[] {0x12}, le32(reply.length - 6), new byte[] {0},
        utf8(".broker"), new byte[] {0});
    assertThat(BusRt.hex(Arrays.copyOf(reply, Math.min(reply.length, head.length))))
        .as("a direct message from .broker").isEqualTo(BusRt.hex(head));
    byte[] rpc = Arrays.copyOfRange(reply, head.length, reply.length);
    assertThat(rpc.length).isGreaterThanOrEqualTo(5);
    assertThat(Arrays.copyOfRange(rpc, 1, 5)).as("call id").containsExactly(le32(callId));
    return rpc;
  }

  /** The clients of a successful reply ({@code 11 <call id> {"clients": [...]}}). */
  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> clients(byte[] rpc) {
    assertThat(rpc[0]).as("reply type, got %s", BusRt.shortHex(rpc)).isEqualTo((byte) 0x11);
    Map<String, Object> m = MsgPack.decodeMap(Arrays.copyOfRange(rpc, 5, rpc.length));
    assertThat(m.keySet()).containsExactly("clients");
    return (List<Map<String, Object>>) m.get("clients");
  }

  private static List<Object> names(List<Map<String, Object>> clients) {
    return clients.stream().map(m -> m.get("name")).toList();
  }

  /** The message of an error reply {@code 12 <call id> A6 80 message} (-32602). */
  private static String invalidParams(byte[] rpc) {
    assertThat(rpc[0]).as("error reply, got %s", BusRt.shortHex(rpc)).isEqualTo((byte) 0x12);
    assertThat(Arrays.copyOfRange(rpc, 5, 7)).as("error code -32602 (i16 LE)")
        .containsExactly(INVALID_PARAMS);
    return new String(rpc, 7, rpc.length - 7, StandardCharsets.UTF_8);
  }

  private static byte[] filter(String regex) {
    return MsgPack.encode(MsgPack.map("filter", regex));
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void filterSelectsPrimaryNamesBySearch(Transport t) throws Exception {
    String ns = uniq("cl");
    String caller = ns + "-caller";
    try (RawClient c = tb.registered(t, caller); RawClient a1 = tb.registered(t, ns + "-a.one");
         RawClient a1s = tb.registered(t, ns + "-a.one%%1");
         RawClient a2 = tb.registered(t, ns + "-a.two");
         RawClient b1 = tb.registered(t, ns + "-b.one")) {
      List<Map<String, Object>> got = clients(call(c, 1, filter("^" + ns + "-a\\.")));
      assertThat(names(got)).containsExactly(ns + "-a.one", ns + "-a.two");
      assertThat(got.get(0).get("instances")).isEqualTo(2L);
      assertThat(got.get(1).get("instances")).isEqualTo(1L);
      assertThat(got.get(0).get("kind")).isEqualTo(t == Transport.TCP ? "tcp" : "local_ipc");
      // a search, not a whole-name match (as Rust's Regex::is_match)
      assertThat(names(clients(call(c, 2, filter(ns.substring(1) + "-.\\.tw")))))
          .containsExactly(ns + "-a.two");
      // secondaries are never listed, even when the filter names them
      assertThat(names(clients(call(c, 3, filter("%%1"))))).isEmpty();
      // no match: an empty list, byte for byte {"clients": []}
      byte[] none = call(c, 4, filter("^no-such-" + ns + "$"));
      assertThat(BusRt.hex(none)).isEqualTo(BusRt.hex(concat(new byte[] {0x11}, le32(4),
          RawClient.hex("81 A7"), utf8("clients"), new byte[] {(byte) 0x90})));
      // nil filter: no filter (BUS/RT's Option<String>)
      Map<String, Object> nil = new java.util.LinkedHashMap<>();
      nil.put("filter", null);
      assertThat(names(clients(call(c, 5, MsgPack.encode(nil)))))
          .contains(ns + "-a.one", ns + "-a.two", ns + "-b.one", caller, ".broker");
      marker(c, caller, c, caller, 6);
    }
    BusRt.awaitUnregistered(tb.broker(), caller);
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void withoutParamsEveryPrimaryIsListedInternalOnesIncluded(Transport t) throws Exception {
    String ns = uniq("all");
    String caller = ns + "-caller";
    InternalClient ic = tb.broker().registerClient(ns + "-internal");
    try (RawClient c = tb.registered(t, caller)) {
      for (byte[] params : new byte[][] {new byte[0], RawClient.hex("80")}) {
        List<Map<String, Object>> got = clients(call(c, 1, params));
        List<Object> names = names(got);
        assertThat(names).contains(".broker", ns + "-internal", caller);
        assertThat(names.stream().map(String::valueOf).toList()).isSorted();
        Map<String, Object> broker = got.stream().filter(m -> m.get("name").equals(".broker"))
            .findFirst().orElseThrow();
        assertThat(broker.get("kind")).isEqualTo("internal");
        assertThat(broker.get("source")).isNull();
        assertThat(broker.get("port")).isNull();
      }
      assertThat(names(clients(call(c, 2, filter("^" + ns + "-")))))
          .containsExactly(ns + "-caller", ns + "-internal");
    } finally {
      ic.close().await(5, TimeUnit.SECONDS);
    }
    BusRt.awaitUnregistered(tb.broker(), caller);
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void badParamsGetInvalidParams(Transport t) throws Exception {
    String caller = uniq("bad-caller");
    try (RawClient c = tb.registered(t, caller)) {
      String bad = "([" + caller;
      String msg = invalidParams(call(c, 1, filter(bad)));
      assertThat(msg).startsWith("client.list: invalid filter regex: ").contains(bad);

      msg = invalidParams(call(c, 2, MsgPack.encode(MsgPack.map("filter", "x", "colour", 1L))));
      assertThat(msg).isEqualTo("client.list: unknown param 'colour' (accepted: filter, after, "
          + "limit)");
      msg = invalidParams(call(c, 7, MsgPack.encode(MsgPack.map("limit", 0L))));
      assertThat(msg).isEqualTo("client.list: limit must be a positive integer");
      msg = invalidParams(call(c, 8, MsgPack.encode(MsgPack.map("after", 1L))));
      assertThat(msg).isEqualTo("client.list: after must be a string");

      msg = invalidParams(call(c, 3, MsgPack.encode(MsgPack.map("filter", 5L))));
      assertThat(msg).isEqualTo("client.list: filter must be a string");

      // a map whose key is not a string: still an answer, not silence
      msg = invalidParams(call(c, 4, RawClient.hex("81 01 A1 78")));
      assertThat(msg).startsWith("client.list: ");

      // not a map at all: a parse error (-32700), as for every method but benchmark.test
      byte[] rpc = call(c, 5, RawClient.hex("A1 78"));
      assertThat(rpc[0]).isEqualTo((byte) 0x12);
      assertThat(Arrays.copyOfRange(rpc, 5, 7)).containsExactly((byte) 0x44, (byte) 0x80);

      // the caller keeps its connection
      marker(c, caller, c, caller, 6);
    }
    BusRt.awaitUnregistered(tb.broker(), caller);
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void aCatastrophicRegexDoesNotHoldTheBroker(Transport t) throws Exception {
    String ns = uniq("redos");
    String caller = ns + "-caller";
    // a backtracking filter over a long name: polynomial (here ~n^6) in a backtracking engine
    String victim = ns + "-" + "a".repeat(400) + "!";
    try (RawClient c = tb.registered(t, caller); RawClient v = tb.registered(t, victim);
         RawClient other = tb.registered(t, ns + "-other")) {
      long start = System.nanoTime();
      String msg = invalidParams(call(c, 1, filter("(.*a){6}$")));
      assertThat(msg).startsWith("client.list: filter ").contains("too expensive");
      // generous bound: the point is that the answer comes at all
      assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(5_000);
      // the broker still serves everyone, the same filter syntax still works
      marker(other, ns + "-other", v, victim, 2);
      assertThat(names(clients(call(c, 3, filter("^" + ns + "-a+!$")))))
          .containsExactly(victim);
    }
    BusRt.awaitUnregistered(tb.broker(), caller);
  }

  /**
   * Pages (issue 17): {@code limit} entries at most, from the name after {@code after}; a reply
   * that left entries out says {@code more: true}. Reading page by page gives every client once,
   * in order.
   */
  @ParameterizedTest
  @EnumSource(Transport.class)
  void pagesWithAfterAndLimit(Transport t) throws Exception {
    String ns = uniq("page");
    java.util.List<RawClient> cs = new java.util.ArrayList<>();
    try (RawClient c = tb.registered(t, ns + "-caller")) {
      for (int i = 0; i < 7; i++) {
        cs.add(tb.registered(t, ns + "-" + i));
      }
      List<Object> all = new java.util.ArrayList<>();
      String after = null;
      for (int page = 0; page < 10; page++) {
        byte[] rpc = call(c, 10 + page, MsgPack.encode(after == null
            ? MsgPack.map("filter", "^" + ns + "-[0-9]", "limit", 3L)
            : MsgPack.map("filter", "^" + ns + "-[0-9]", "limit", 3L, "after", after)));
        assertThat(rpc[0]).isEqualTo((byte) 0x11);
        Map<String, Object> m = MsgPack.decodeMap(Arrays.copyOfRange(rpc, 5, rpc.length));
        @SuppressWarnings("unchecked")
        List<Object> names = names((List<Map<String, Object>>) m.get("clients"));
        assertThat(names.size()).isLessThanOrEqualTo(3);
        all.addAll(names);
        if (!Boolean.TRUE.equals(m.get("more"))) {
          assertThat(m.keySet()).containsExactly("clients");
          break;
        }
        after = (String) names.get(names.size() - 1);
      }
      assertThat(all).containsExactly(ns + "-0", ns + "-1", ns + "-2", ns + "-3", ns + "-4",
          ns + "-5", ns + "-6");
    } finally {
      for (RawClient x : cs) {
        x.close();
      }
    }
  }
}
