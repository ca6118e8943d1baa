package dev.elbus.it.busrt;

import dev.elbus.support.LeakGate;
import dev.elbus.support.RawClient;
import dev.elbus.support.TestBroker;
import dev.elbus.support.Transport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static dev.elbus.it.busrt.BusRt.EXCLUDE;
import static dev.elbus.it.busrt.BusRt.OK;
import static dev.elbus.it.busrt.BusRt.PUBLISH;
import static dev.elbus.it.busrt.BusRt.SUBSCRIBE;
import static dev.elbus.it.busrt.BusRt.UNEXCLUDE;
import static dev.elbus.it.busrt.BusRt.UNSUBSCRIBE;
import static dev.elbus.it.busrt.BusRt.expectAck;
import static dev.elbus.it.busrt.BusRt.expectFrame;
import static dev.elbus.it.busrt.BusRt.marker;
import static dev.elbus.it.busrt.BusRt.publication;
import static dev.elbus.it.busrt.BusRt.topics;
import static dev.elbus.it.busrt.BusRt.uniq;
import static dev.elbus.support.RawClient.utf8;

/**
 * BUS/RT exclusions over real sockets (PROTOCOL.md section 15): ops 0x04 exclude and 0x05
 * unexclude, their acks, and how exclusions combine with subscriptions, secondaries and the
 * client's lifetime.
 */
@ExtendWith(LeakGate.class)
class ExcludeIT {
  private static TestBroker tb;

  @BeforeAll
  static void start() throws Exception {
    tb = TestBroker.start(2, BusRt.QUIET);
  }

  @AfterAll
  static void stop() throws Exception {
    tb.close();
  }

  private static Transport other(Transport t) {
    return t == Transport.TCP ? Transport.UNIX : Transport.TCP;
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void excludeAndUnexcludeAreAckedLikeSubscribe(Transport t) throws Exception {
    String cn = uniq("ack");
    try (RawClient c = tb.registered(t, cn)) {
      // one pattern, QoS 1: exactly FE <op id> 01
      c.frame(0x01020304, EXCLUDE, 1, topics(cn + "/a"));
      c.expect(0xFE, 0x04, 0x03, 0x02, 0x01, 0x01);
      // many patterns in one frame: one ack for the frame
      c.frame(7, EXCLUDE, 1, topics(cn + "/b", cn + "/+/c", cn + "/d/#"));
      c.expect(0xFE, 0x07, 0x00, 0x00, 0x00, 0x01);
      // realtime with ack (QoS 3)
      c.frame(8, UNEXCLUDE, 3, topics(cn + "/a"));
      c.expect(0xFE, 0x08, 0x00, 0x00, 0x00, 0x01);
      c.frame(9, UNEXCLUDE, 1, topics(cn + "/b", cn + "/+/c", cn + "/d/#", cn + "/never"));
      c.expect(0xFE, 0x09, 0x00, 0x00, 0x00, 0x01);
      // QoS 0 and 2: no ack; the next frame the client sees is the marker
      c.frame(10, EXCLUDE, 0, topics(cn + "/q0"));
      c.frame(11, UNEXCLUDE, 2, topics(cn + "/q0"));
      // an empty body is the empty topic, as for subscribe
      c.frame(12, EXCLUDE, 1, new byte[0]);
      c.expect(0xFE, 0x0C, 0x00, 0x00, 0x00, 0x01);
      marker(c, cn, c, cn, 13);
      c.expectSilence(50);
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void exclusionWinsOverOverlappingSubscriptions(Transport t) throws Exception {
    String ns = uniq("ov");
    String sn = ns + ".sub";
    String pn = ns + ".pub";
    try (RawClient s = tb.registered(t, sn); RawClient p = tb.registered(other(t), pn)) {
      s.frame(1, SUBSCRIBE, 1, topics(ns + "/a/#", ns + "/a/+"));
      expectAck(s, 1, OK);
      s.frame(2, EXCLUDE, 1, topics(ns + "/a/b"));
      expectAck(s, 2, OK);
      p.frame(3, PUBLISH, 1, ns + "/a/b", utf8("excluded"));
      expectAck(p, 3, OK);
      p.frame(4, PUBLISH, 1, ns + "/a/c", utf8("delivered"));
      expectAck(p, 4, OK);
      p.frame(5, PUBLISH, 1, ns + "/a/b/deeper", utf8("not excluded"));
      expectAck(p, 5, OK);
      // a/b never arrives; a/c arrives once although two subscriptions match it
      expectFrame(s, publication(pn, ns + "/a/c", utf8("delivered"), false));
      expectFrame(s, publication(pn, ns + "/a/b/deeper", utf8("not excluded"), false));
      marker(p, pn, s, sn, 6);

      // a wildcard exclusion removes a whole branch, whatever subscribed it
      s.frame(7, EXCLUDE, 1, topics(ns + "/a/+"));
      expectAck(s, 7, OK);
      p.frame(8, PUBLISH, 1, ns + "/a/c", utf8("now excluded"));
      expectAck(p, 8, OK);
      p.frame(9, PUBLISH, 1, ns + "/a/b/deeper", utf8("still delivered"));
      expectAck(p, 9, OK);
      expectFrame(s, publication(pn, ns + "/a/b/deeper", utf8("still delivered"), false));
      marker(p, pn, s, sn, 10);

      // unexclude restores delivery, once, for the unexcluded pattern only
      s.frame(11, UNEXCLUDE, 1, topics(ns + "/a/+"));
      expectAck(s, 11, OK);
      p.frame(12, PUBLISH, 1, ns + "/a/c", utf8("back"));
      expectAck(p, 12, OK);
      p.frame(13, PUBLISH, 1, ns + "/a/b", utf8("still excluded"));
      expectAck(p, 13, OK);
      expectFrame(s, publication(pn, ns + "/a/c", utf8("back"), false));
      marker(p, pn, s, sn, 14);
      s.frame(15, UNEXCLUDE, 1, topics(ns + "/a/b"));
      expectAck(s, 15, OK);
      p.frame(16, PUBLISH, 3, ns + "/a/b", utf8("restored"));
      expectAck(p, 16, OK);
      expectFrame(s, publication(pn, ns + "/a/b", utf8("restored"), true));
      marker(p, pn, s, sn, 17);
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void exclusionsDoNotSubscribeAndOutliveUnsubscribe(Transport t) throws Exception {
    String ns = uniq("nosub");
    String sn = ns + ".sub";
    String pn = ns + ".pub";
    try (RawClient s = tb.registered(t, sn); RawClient p = tb.registered(t, pn)) {
      // excluding is not subscribing
      s.frame(1, EXCLUDE, 1, topics(ns + "/x"));
      expectAck(s, 1, OK);
      p.frame(2, PUBLISH, 1, ns + "/x", utf8("nobody"));
      expectAck(p, 2, OK);
      marker(p, pn, s, sn, 3);
      // subscribing later does not lift the exclusion, nor does unsubscribe/subscribe
      s.frame(4, SUBSCRIBE, 1, topics(ns + "/#"));
      expectAck(s, 4, OK);
      s.frame(5, UNSUBSCRIBE, 1, topics(ns + "/#"));
      expectAck(s, 5, OK);
      s.frame(6, SUBSCRIBE, 1, topics(ns + "/#"));
      expectAck(s, 6, OK);
      p.frame(7, PUBLISH, 1, ns + "/x", utf8("excluded"));
      expectAck(p, 7, OK);
      p.frame(8, PUBLISH, 1, ns + "/y", utf8("y"));
      expectAck(p, 8, OK);
      expectFrame(s, publication(pn, ns + "/y", utf8("y"), false));
      marker(p, pn, s, sn, 9);
      // a client's exclusion does not affect its own publications to others
      p.frame(10, SUBSCRIBE, 1, topics(ns + "/x"));
      expectAck(p, 10, OK);
      s.frame(11, PUBLISH, 1, ns + "/x", utf8("from s"));
      expectAck(s, 11, OK);
      expectFrame(p, publication(sn, ns + "/x", utf8("from s"), false));
      marker(s, sn, p, pn, 12);
      marker(p, pn, s, sn, 13);
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void aSecondarysExclusionsAffectOnlyItself(Transport t) throws Exception {
    String ns = uniq("sec");
    String xn = ns + ".x";
    String x1n = xn + "%%1";
    String x2n = xn + "%%2";
    String pn = ns + ".pub";
    try (RawClient x = tb.registered(t, xn); RawClient x1 = tb.registered(other(t), x1n);
         RawClient x2 = tb.registered(t, x2n); RawClient p = tb.registered(t, pn)) {
      for (RawClient c : new RawClient[] {x, x1, x2}) {
        c.frame(1, SUBSCRIBE, 1, topics(ns + "/#"));
        expectAck(c, 1, OK);
      }
      x1.frame(2, EXCLUDE, 1, topics(ns + "/t"));
      expectAck(x1, 2, OK);
      p.frame(3, PUBLISH, 1, ns + "/t", utf8("p"));
      expectAck(p, 3, OK);
      expectFrame(x, publication(pn, ns + "/t", utf8("p"), false));
      expectFrame(x2, publication(pn, ns + "/t", utf8("p"), false));
      marker(p, pn, x1, x1n, 4);
      // the primary's exclusion does not reach its secondaries either
      x.frame(5, EXCLUDE, 1, topics(ns + "/u"));
      expectAck(x, 5, OK);
      p.frame(6, PUBLISH, 1, ns + "/u", utf8("u"));
      expectAck(p, 6, OK);
      expectFrame(x1, publication(pn, ns + "/u", utf8("u"), false));
      expectFrame(x2, publication(pn, ns + "/u", utf8("u"), false));
      marker(p, pn, x, xn, 7);
      marker(p, pn, x1, x1n, 8);
      marker(p, pn, x2, x2n, 9);
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void exclusionsAreDroppedWithTheClient(Transport t) throws Exception {
    String ns = uniq("gone");
    String sn = ns + ".sub";
    String pn = ns + ".pub";
    try (RawClient p = tb.registered(t, pn)) {
      try (RawClient s = tb.registered(t, sn)) {
        s.frame(1, SUBSCRIBE, 1, topics(ns + "/#"));
        expectAck(s, 1, OK);
        s.frame(2, EXCLUDE, 1, topics(ns + "/t", ns + "/#", "#"));
        expectAck(s, 2, OK);
        p.frame(3, PUBLISH, 1, ns + "/t", utf8("excluded"));
        expectAck(p, 3, OK);
        marker(p, pn, s, sn, 4);
      }
      BusRt.awaitUnregistered(tb.broker(), sn);
      // the same name again, over the other transport: no exclusion is left
      try (RawClient s = tb.registered(other(t), sn)) {
        s.frame(5, SUBSCRIBE, 1, topics(ns + "/#"));
        expectAck(s, 5, OK);
        p.frame(6, PUBLISH, 1, ns + "/t", utf8("delivered"));
        expectAck(p, 6, OK);
        expectFrame(s, publication(pn, ns + "/t", utf8("delivered"), false));
        marker(p, pn, s, sn, 7);
      }
      BusRt.awaitUnregistered(tb.broker(), sn);
    }
    // nothing of either client is left in the topic index (unregistering takes the name first,
    // then the subscriptions and exclusions: seen from this thread they may go a moment later)
    BusRt.await(() -> tb.router().topics().match(ns + "/t").length == 0, 5_000,
        "topic index empty for " + ns + "/t");
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void excludeWithInvalidUtf8ClosesOnlyTheOffender(Transport t) throws Exception {
    String ns = uniq("bad");
    try (RawClient bad = tb.registered(t, ns + ".bad"); RawClient good = tb.registered(t,
        ns + ".good")) {
      bad.frame(1, EXCLUDE, 1, new byte[] {'o', 'k', 0, (byte) 0xC3, 0x28});
      bad.expectClosed(5_000);
      BusRt.awaitUnregistered(tb.broker(), ns + ".bad");
      marker(good, ns + ".good", good, ns + ".good", 2);
    }
  }
}
