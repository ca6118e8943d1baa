package dev.elbus.it.aaa;

import dev.elbus.aaa.AaaPolicy;
import dev.elbus.aaa.ClientAcl.Rule;
import dev.elbus.aaa.ClientAcl;
import dev.elbus.support.LeakGate;
import dev.elbus.support.RawClient;
import dev.elbus.support.TestBroker;
import dev.elbus.support.Transport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static dev.elbus.it.aaa.AaaWire.ACCESS;
import static dev.elbus.it.aaa.AaaWire.BROADCAST;
import static dev.elbus.it.aaa.AaaWire.MESSAGE;
import static dev.elbus.it.aaa.AaaWire.NOT_REGISTERED;
import static dev.elbus.it.aaa.AaaWire.OK;
import static dev.elbus.it.aaa.AaaWire.PUBLISH;
import static dev.elbus.it.aaa.AaaWire.SUBSCRIBE;
import static dev.elbus.it.aaa.AaaWire.ack;
import static dev.elbus.it.aaa.AaaWire.expectAck;
import static dev.elbus.it.aaa.AaaWire.hex;
import static dev.elbus.it.aaa.AaaWire.next;
import static dev.elbus.it.aaa.AaaWire.topics;
import static dev.elbus.support.RawClient.utf8;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The AAA deny matrix (RELIABILITY.md item 7, PROTOCOL.md section 11): every operation a
 * restricted client may send, allowed and denied, with QoS 0 and 1, with wildcard masks on both
 * sides, sent by the restricted primary and by a secondary of it, over TCP and a Unix socket.
 *
 * <p>Six receivers, each subscribed to {@code #} (so each is a sniffer too) and named so that
 * denied direct messages and broadcasts would reach them, record what the restricted client's
 * operation delivered. A denied operation must give exactly one {@code FE <opid> 79} with QoS 1
 * and nothing with QoS 0, deliver nothing anywhere, and leave the connection usable.
 *
 * <p>No wall-clock waits: the restricted client's acks prove its frames were routed (the broker
 * queues deliveries before the ack), and a marker sent afterwards by an unrestricted client is
 * queued behind anything they delivered, so "nothing before the marker" means "nothing".
 */
@ExtendWith(LeakGate.class)
class AaaDenyMatrixIT {
  /** Every receiver subscribes to {@code #}; their names are what denied ops would reach. */
  private static final List<String> RECEIVERS = List.of("sniff", "historian", "historian%%1",
      "worker.a", "worker.b.c", "other");

  /**
   * {@code r}: most rights restricted by masks; {@code q}: only subscriptions restricted, to
   * {@code +/x}; everyone else: every right.
   */
  static final AaaPolicy POLICY = AaaPolicy.builder()
      .client("r", ClientAcl.builder()
          .p2p(Rule.only("historian", "worker.?"))
          .publish(Rule.only("news/#", "+/x"))
          .subscribe(Rule.only("news/#"))
          .broadcast(Rule.only("worker.*"))
          .build())
      .client("q", ClientAcl.builder().subscribe(Rule.only("+/x")).build())
      .client("sniff", ClientAcl.ALLOW_ALL)
      .client("historian", ClientAcl.ALLOW_ALL)
      .client("worker.a", ClientAcl.ALLOW_ALL)
      .client("worker.b.c", ClientAcl.ALLOW_ALL)
      .client("other", ClientAcl.ALLOW_ALL)
      .client("ctl", ClientAcl.ALLOW_ALL)
      .build();

  private static TestBroker broker;
  private static final Map<String, RawClient> receivers = new LinkedHashMap<>();
  private static RawClient ctl;
  private static final AtomicInteger SEQ = new AtomicInteger();

  /**
   * One operation of the restricted client and what it must do.
   *
   * @param principal the AAA entry ({@code r} or {@code q}) whose client sends it
   * @param key target, topic or mask; null for subscribe
   * @param topics the topics of a subscribe frame
   * @param code the ack it must get with QoS 1
   * @param reach the receivers that get the delivery (message, broadcast, publication)
   * @param probes topics an unrestricted client publishes after a subscribe
   * @param seen the probes the restricted client must receive, in order
   */
  record Case(String id, String principal, int op, String key, List<String> topics, int code,
      Set<String> reach, List<String> probes, List<String> seen) {
    @Override
    public String toString() {
      return id;
    }
  }

  static Case send(String id, int op, String key, int code, String... reach) {
    return new Case(id, "r", op, key, List.of(), code, Set.of(reach), List.of(), List.of());
  }

  static Case sub(String id, String principal, List<String> topics, int code, List<String> probes,
      String... seen) {
    return new Case(id, principal, SUBSCRIBE, null, topics, code, Set.of(), probes,
        List.of(seen));
  }

  static final String[] ALL = RECEIVERS.toArray(new String[0]);

  static final List<Case> CASES = List.of(
      // direct messages: masks [historian, worker.?], checked against the target's primary name
      send("p2p to historian (allowed name)", MESSAGE, "historian", OK, "historian"),
      send("p2p to historian%%1 (primary historian allowed)", MESSAGE, "historian%%1", OK,
          "historian%%1"),
      send("p2p to worker.a (worker.? allows)", MESSAGE, "worker.a", OK, "worker.a"),
      send("p2p to worker.b.c (worker.? is one part: denied)", MESSAGE, "worker.b.c", ACCESS),
      send("p2p to other (denied)", MESSAGE, "other", ACCESS),
      send("p2p to sniff (denied)", MESSAGE, "sniff", ACCESS),
      send("p2p to unknown denied name (79 before 71)", MESSAGE, "nobody", ACCESS),
      send("p2p to unknown allowed name (71)", MESSAGE, "historian%%9", NOT_REGISTERED),
      // publications: masks [news/#, +/x]; the topic is literal
      send("publish news/a (allowed)", PUBLISH, "news/a", OK, ALL),
      send("publish news/a/b (allowed)", PUBLISH, "news/a/b", OK, ALL),
      send("publish other/x (+/x allows)", PUBLISH, "other/x", OK, ALL),
      send("publish news (news/# needs a level: denied)", PUBLISH, "news", ACCESS),
      send("publish a/b/x (+/x is two levels: denied)", PUBLISH, "a/b/x", ACCESS),
      send("publish secret (denied)", PUBLISH, "secret", ACCESS),
      send("publish literal # (denied)", PUBLISH, "#", ACCESS),
      // subscriptions of r: mask news/#, every topic of the pattern must be covered
      sub("r subscribe news/+ (allowed)", "r", List.of("news/+"), OK,
          List.of("news/p", "news/p/q", "zz"), "news/p"),
      sub("r subscribe news/a/# (allowed)", "r", List.of("news/a/#"), OK,
          List.of("news/a/b", "news/a", "news/b/c"), "news/a/b"),
      sub("r subscribe news/a (allowed)", "r", List.of("news/a"), OK,
          List.of("news/a", "news/b"), "news/a"),
      sub("r subscribe # (denied)", "r", List.of("#"), ACCESS, List.of("zz", "news/p")),
      sub("r subscribe +/x (denied under news/#)", "r", List.of("+/x"), ACCESS,
          List.of("a/x", "news/x")),
      sub("r subscribe news (denied: news/# needs a level)", "r", List.of("news"), ACCESS,
          List.of("news")),
      // subscriptions of q: mask +/x, no escalation through #/x
      sub("q subscribe +/x (allowed)", "q", List.of("+/x"), OK, List.of("a/x", "a/y"), "a/x"),
      sub("q subscribe #/x (denied: it is #)", "q", List.of("#/x"), ACCESS,
          List.of("a/x", "a/b/x", "zz")),
      sub("q subscribe +/+ (denied)", "q", List.of("+/+"), ACCESS, List.of("a/b", "a/x")),
      // several topics in one frame: one ack, 79 if any was denied, the allowed ones subscribed
      sub("r subscribe [news/a, #, news/b/#] (one denied)", "r",
          List.of("news/a", "#", "news/b/#"), ACCESS, List.of("news/a", "news/b/c", "zz", "news/c"),
          "news/a", "news/b/c"),
      sub("r subscribe [news/a, news/+] (all allowed)", "r", List.of("news/a", "news/+"), OK,
          List.of("news/a", "news/b", "zz"), "news/a", "news/b"),
      sub("r subscribe [#, +/x] (all denied)", "r", List.of("#", "+/x"), ACCESS,
          List.of("zz", "a/x")),
      sub("q subscribe [+/x, #/x, a/x] (one denied)", "q", List.of("+/x", "#/x", "a/x"), ACCESS,
          List.of("b/x", "c/d/x", "a/x"), "b/x", "a/x"),
      // broadcasts: mask worker.*, every name of the requested mask must be covered
      send("broadcast worker.? (allowed)", BROADCAST, "worker.?", OK, "worker.a"),
      send("broadcast worker.* (allowed)", BROADCAST, "worker.*", OK, "worker.a", "worker.b.c"),
      send("broadcast worker.a (allowed)", BROADCAST, "worker.a", OK, "worker.a"),
      send("broadcast * (denied)", BROADCAST, "*", ACCESS),
      send("broadcast ? (denied)", BROADCAST, "?", ACCESS),
      send("broadcast ?.a (denied)", BROADCAST, "?.a", ACCESS),
      send("broadcast historian (denied)", BROADCAST, "historian", ACCESS));

  static Stream<Arguments> matrix() {
    List<Arguments> out = new ArrayList<>();
    for (Case c : CASES) {
      for (Transport t : Transport.values()) {
        for (int qos : new int[] {0, 1}) {
          for (boolean secondary : new boolean[] {false, true}) {
            out.add(Arguments.of(c, t, qos, secondary));
          }
        }
      }
    }
    return out.stream();
  }

  @BeforeAll
  static void start() throws Exception {
    broker = TestBroker.start(1, l -> l.setAaa(POLICY).setTimeoutMs(60_000));
    for (String name : RECEIVERS) {
      RawClient c = broker.registered(Transport.UNIX, name);
      c.frame(1, SUBSCRIBE, 1, utf8("#"));
      expectAck(c, 1, OK);
      receivers.put(name, c);
    }
    ctl = broker.registered(Transport.UNIX, "ctl");
  }

  @AfterAll
  static void stop() throws Exception {
    for (RawClient c : receivers.values()) {
      c.close();
    }
    receivers.clear();
    if (ctl != null) {
      ctl.close();
    }
    if (broker != null) {
      broker.close();
    }
  }

  @ParameterizedTest(name = "{0} via {1}, QoS {2}, secondary {3}")
  @MethodSource("matrix")
  void restrictedOperation(Case c, Transport t, int qos, boolean secondary) throws Exception {
    AaaWire.await(() -> broker.router().registry().get(c.principal()) == null,
        AaaWire.EVENT_MS, "the previous " + c.principal() + " to be gone");
    RawClient primary = broker.registered(t, c.principal());
    RawClient sec = secondary ? broker.registered(t, c.principal() + "%%1") : null;
    RawClient actor = secondary ? sec : primary;
    String actorName = secondary ? c.principal() + "%%1" : c.principal();
    int n = SEQ.incrementAndGet();
    byte[] payload = utf8("p" + n);
    try {
      // the operation under test (op id 7), then an allowed one (op id 8) that must work
      if (c.op() == SUBSCRIBE) {
        actor.frame(7, SUBSCRIBE, qos, topics(c.topics().toArray(new String[0])));
      } else {
        actor.frame(7, c.op(), qos, c.key(), payload);
      }
      byte[] after = utf8("after" + n);
      actor.frame(8, MESSAGE, 1, "historian", after);

      // what the restricted client gets: [its ack], the second ack, probes it may see, marker
      List<byte[]> want = new ArrayList<>();
      if (qos == 1) {
        want.add(ack(7, c.code()));
      }
      want.add(ack(8, OK));
      for (byte[] w : want) {
        // the acks prove the op was routed: whatever it delivered is queued by now
        assertThat(hex(next(actor))).as("next frame to %s", actorName).isEqualTo(hex(w));
      }
      for (String topic : c.probes()) {
        ctl.frame(100, PUBLISH, 0, topic, utf8("probe " + topic));
      }
      byte[] marker = utf8("m" + n);
      ctl.frame(101, PUBLISH, 0, "marker", marker);
      ctl.frame(102, MESSAGE, 0, actorName, marker);

      List<String> actorGot = hexes(AaaWire.until(actor, AaaWire.message("ctl", marker),
          f -> true));
      List<String> actorWant = new ArrayList<>();
      for (String topic : c.seen()) {
        actorWant.add(hex(AaaWire.publication("ctl", topic, utf8("probe " + topic))));
      }
      assertThat(actorGot).as("frames to %s after its acks", actorName)
          .containsExactlyElementsOf(actorWant);

      for (Map.Entry<String, RawClient> r : receivers.entrySet()) {
        List<String> got = hexes(AaaWire.until(r.getValue(),
            AaaWire.publication("ctl", "marker", marker),
            f -> actorName.equals(AaaWire.sender(f))));
        List<String> exp = new ArrayList<>();
        if (c.code() == OK && c.reach().contains(r.getKey())) {
          exp.add(hex(delivery(c, actorName, payload)));
        }
        if (r.getKey().equals("historian")) {
          exp.add(hex(AaaWire.message(actorName, after)));
        }
        assertThat(got).as("frames from %s to %s", actorName, r.getKey())
            .containsExactlyElementsOf(exp);
      }
    } finally {
      if (sec != null) {
        sec.close();
      }
      primary.close();
    }
  }

  /** The matrix really has more than 20 cases of each kind the plan asks for. */
  @Test
  void matrixSize() {
    assertThat(CASES).hasSizeGreaterThanOrEqualTo(20);
    assertThat(CASES.stream().filter(c -> c.code() == ACCESS).count()).isGreaterThanOrEqualTo(10);
    assertThat(CASES.stream().map(Case::op).distinct().count()).isEqualTo(4);
  }

  private static byte[] delivery(Case c, String sender, byte[] payload) {
    switch (c.op()) {
      case MESSAGE:
        return AaaWire.message(sender, payload);
      case BROADCAST:
        return AaaWire.broadcast(sender, payload);
      default:
        return AaaWire.publication(sender, c.key(), payload);
    }
  }

  private static List<String> hexes(List<byte[]> frames) {
    List<String> out = new ArrayList<>();
    frames.forEach(f -> out.add(hex(f)));
    return out;
  }
}
