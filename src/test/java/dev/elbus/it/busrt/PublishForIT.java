package dev.elbus.it.busrt;

import dev.elbus.aaa.AaaPolicy;
import dev.elbus.aaa.ClientAcl.Rule;
import dev.elbus.aaa.ClientAcl;
import dev.elbus.impl.routing.CloseReason;
import dev.elbus.support.LeakGate;
import dev.elbus.support.RawClient;
import dev.elbus.support.TestBroker;
import dev.elbus.support.Transport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static dev.elbus.it.busrt.BusRt.ACCESS;
import static dev.elbus.it.busrt.BusRt.EXCLUDE;
import static dev.elbus.it.busrt.BusRt.OK;
import static dev.elbus.it.busrt.BusRt.PUBLISH_FOR;
import static dev.elbus.it.busrt.BusRt.SUBSCRIBE;
import static dev.elbus.it.busrt.BusRt.UNEXCLUDE;
import static dev.elbus.it.busrt.BusRt.expectAck;
import static dev.elbus.it.busrt.BusRt.expectFrame;
import static dev.elbus.it.busrt.BusRt.marker;
import static dev.elbus.it.busrt.BusRt.publishForBody;
import static dev.elbus.it.busrt.BusRt.topics;
import static dev.elbus.it.busrt.BusRt.uniq;
import static dev.elbus.support.RawClient.concat;
import static dev.elbus.support.RawClient.utf8;

/**
 * BUS/RT publish-for (op 0x06, PROTOCOL.md section 15) over real sockets: {@code topic 00
 * receiver 00 payload} reaches, as an ordinary publication, only the subscribers whose primary
 * name is the receiver; exclusions and the publish ACL apply; a frame without the second {@code
 * 00} is a protocol error.
 */
@ExtendWith(LeakGate.class)
class PublishForIT {
  private static TestBroker tb;
  /** A broker whose listeners have AAA: {@code pfa-sender} may publish to {@code ok/#} only. */
  private static TestBroker aaa;

  @BeforeAll
  static void start() throws Exception {
    tb = TestBroker.start(2, BusRt.QUIET);
    AaaPolicy policy = AaaPolicy.builder()
        .client("pfa-sender", ClientAcl.builder().publish(Rule.only("ok/#")).build())
        .client("pfa-x", ClientAcl.builder().build())
        .build();
    aaa = TestBroker.start(1, l -> BusRt.QUIET.andThen(o -> o.setAaa(policy)).accept(l));
  }

  @AfterAll
  static void stop() throws Exception {
    try {
      tb.close();
    } finally {
      aaa.close();
    }
  }

  private static Transport other(Transport t) {
    return t == Transport.TCP ? Transport.UNIX : Transport.TCP;
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void reachesOnlyTheReceiverAndItsSecondaries(Transport t) throws Exception {
    String ns = uniq("pf");
    String xn = ns + ".x";
    String x1n = xn + "%%1";
    String yn = ns + ".y";
    String sn = ns + ".s";
    try (RawClient x = tb.registered(t, xn); RawClient x1 = tb.registered(other(t), x1n);
         RawClient y = tb.registered(t, yn); RawClient s = tb.registered(other(t), sn)) {
      x.frame(1, SUBSCRIBE, 1, topics(ns + "/t"));
      expectAck(x, 1, OK);
      x1.frame(2, SUBSCRIBE, 1, topics(ns + "/#"));
      expectAck(x1, 2, OK);
      y.frame(3, SUBSCRIBE, 1, topics(ns + "/t", ns + "/+"));
      expectAck(y, 3, OK);
      s.frame(4, SUBSCRIBE, 1, topics(ns + "/#"));
      expectAck(s, 4, OK);

      // exact bytes of the client frame and of what x and x%%1 receive
      byte[] payload = {0, 1, 2, (byte) 0xFF, 0};
      s.send(RawClient.hex("05 00 00 00 46"), RawClient.le32(ns.length() + 2 + xn.length() + 2
          + payload.length), publishForBody(ns + "/t", xn, payload));
      s.expect(0xFE, 0x05, 0x00, 0x00, 0x00, 0x01);
      byte[] body = concat(utf8(sn), new byte[] {0}, utf8(ns + "/t"), new byte[] {0}, payload);
      byte[] frame = concat(new byte[] {0x01}, RawClient.le32(body.length), new byte[] {0}, body);
      expectFrame(x, frame);
      expectFrame(x1, frame);
      // realtime (QoS 3): the delivered publication carries the realtime byte
      s.frame(6, PUBLISH_FOR, 3, publishForBody(ns + "/t", xn, utf8("rt")));
      expectAck(s, 6, OK);
      expectFrame(x, BusRt.publication(sn, ns + "/t", utf8("rt"), true));
      expectFrame(x1, BusRt.publication(sn, ns + "/t", utf8("rt"), true));
      // empty payload, QoS 0 (no ack)
      s.frame(7, PUBLISH_FOR, 0, publishForBody(ns + "/t", xn, new byte[0]));
      expectFrame(x, BusRt.publication(sn, ns + "/t", new byte[0], false));
      expectFrame(x1, BusRt.publication(sn, ns + "/t", new byte[0], false));
      // y is subscribed (twice) but is not the receiver; the sender itself is not either
      marker(s, sn, y, yn, 8);
      marker(s, sn, s, sn, 9);
      marker(s, sn, x, xn, 10);
      marker(s, sn, x1, x1n, 11);

      // to y: only y; to nobody / to a full secondary name: nobody (receivers are primaries)
      s.frame(12, PUBLISH_FOR, 1, publishForBody(ns + "/t", yn, utf8("for y")));
      expectAck(s, 12, OK);
      s.frame(13, PUBLISH_FOR, 1, publishForBody(ns + "/t", ns + ".nobody", utf8("none")));
      expectAck(s, 13, OK);
      s.frame(14, PUBLISH_FOR, 1, publishForBody(ns + "/t", x1n, utf8("none")));
      expectAck(s, 14, OK);
      s.frame(15, PUBLISH_FOR, 1, publishForBody(ns + "/other", xn, utf8("x1 only")));
      expectAck(s, 15, OK);
      expectFrame(y, BusRt.publication(sn, ns + "/t", utf8("for y"), false));
      expectFrame(x1, BusRt.publication(sn, ns + "/other", utf8("x1 only"), false));
      marker(s, sn, x, xn, 16);
      marker(s, sn, x1, x1n, 17);
      marker(s, sn, y, yn, 18);
      marker(s, sn, s, sn, 19);
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void exclusionsApply(Transport t) throws Exception {
    String ns = uniq("pfx");
    String xn = ns + ".x";
    String x1n = xn + "%%1";
    String sn = ns + ".s";
    try (RawClient x = tb.registered(t, xn); RawClient x1 = tb.registered(t, x1n);
         RawClient s = tb.registered(other(t), sn)) {
      x.frame(1, SUBSCRIBE, 1, topics(ns + "/#"));
      expectAck(x, 1, OK);
      x1.frame(2, SUBSCRIBE, 1, topics(ns + "/#"));
      expectAck(x1, 2, OK);
      x1.frame(3, EXCLUDE, 1, topics(ns + "/+"));
      expectAck(x1, 3, OK);
      s.frame(4, PUBLISH_FOR, 1, publishForBody(ns + "/t", xn, utf8("a")));
      expectAck(s, 4, OK);
      expectFrame(x, BusRt.publication(sn, ns + "/t", utf8("a"), false));
      marker(s, sn, x1, x1n, 5);
      x1.frame(6, UNEXCLUDE, 1, topics(ns + "/+"));
      expectAck(x1, 6, OK);
      s.frame(7, PUBLISH_FOR, 1, publishForBody(ns + "/t", xn, utf8("b")));
      expectAck(s, 7, OK);
      expectFrame(x, BusRt.publication(sn, ns + "/t", utf8("b"), false));
      expectFrame(x1, BusRt.publication(sn, ns + "/t", utf8("b"), false));
      marker(s, sn, x, xn, 8);
      marker(s, sn, x1, x1n, 9);
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void deniedByThePublishAclGives79(Transport t) throws Exception {
    try (RawClient x = aaa.registered(t, "pfa-x"); RawClient s = aaa.registered(other(t),
        "pfa-sender")) {
      x.frame(1, SUBSCRIBE, 1, topics("#"));
      expectAck(x, 1, OK);
      s.frame(2, PUBLISH_FOR, 1, publishForBody("no/t", "pfa-x", utf8("denied")));
      expectAck(s, 2, ACCESS);
      s.frame(3, PUBLISH_FOR, 3, publishForBody("no/t", "pfa-x", utf8("denied")));
      expectAck(s, 3, ACCESS);
      s.frame(4, PUBLISH_FOR, 0, publishForBody("no/t", "pfa-x", utf8("denied silently")));
      // the connection stays; an allowed topic goes through
      s.frame(5, PUBLISH_FOR, 1, publishForBody("ok/t", "pfa-x", utf8("allowed")));
      expectAck(s, 5, OK);
      expectFrame(x, BusRt.publication("pfa-sender", "ok/t", utf8("allowed"), false));
      marker(s, "pfa-sender", x, "pfa-x", 6);
    }
    BusRt.awaitUnregistered(aaa.broker(), "pfa-sender");
    BusRt.awaitUnregistered(aaa.broker(), "pfa-x");
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void withoutTheSecondSeparatorIsAProtocolErrorForTheOffenderOnly(Transport t)
      throws Exception {
    String ns = uniq("pfe");
    String xn = ns + ".x";
    String bn = ns + ".bad";
    long before = tb.router().stats().closes(CloseReason.PROTOCOL_ERROR);
    try (RawClient x = tb.registered(t, xn); RawClient bad = tb.registered(other(t), bn);
         RawClient bad2 = tb.registered(t, bn + "2")) {
      x.frame(1, SUBSCRIBE, 1, topics(ns + "/t"));
      expectAck(x, 1, OK);
      // topic 00 receiver, no second 00
      bad.frame(2, PUBLISH_FOR, 1, concat(utf8(ns + "/t"), new byte[] {0}, utf8(xn)));
      bad.expectClosed(5_000);
      // no 00 at all
      bad2.frame(3, PUBLISH_FOR, 0, utf8(ns + "/t"));
      bad2.expectClosed(5_000);
      BusRt.awaitUnregistered(tb.broker(), bn);
      BusRt.awaitUnregistered(tb.broker(), bn + "2");
      BusRt.await(() -> tb.router().stats().closes(CloseReason.PROTOCOL_ERROR) >= before + 2,
          5_000, "two protocol-error closes counted");
      // nothing reached x, which still works
      marker(x, xn, x, xn, 4);
      x.expectSilence(50);
    }
    BusRt.awaitUnregistered(tb.broker(), xn);
  }
}
