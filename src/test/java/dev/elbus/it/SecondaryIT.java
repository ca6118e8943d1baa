package dev.elbus.it;

import dev.elbus.ClientInfo;
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

import java.util.List;
import java.util.Optional;

import static dev.elbus.it.Wire.BROADCAST;
import static dev.elbus.it.Wire.MESSAGE;
import static dev.elbus.it.Wire.NOT_REGISTERED;
import static dev.elbus.it.Wire.OK;
import static dev.elbus.it.Wire.PUBLISH;
import static dev.elbus.it.Wire.SUBSCRIBE;
import static dev.elbus.it.Wire.expectAck;
import static dev.elbus.it.Wire.expectFrame;
import static dev.elbus.it.Wire.marker;
import static dev.elbus.it.Wire.uniq;
import static dev.elbus.support.RawClient.utf8;
import static org.assertj.core.api.Assertions.assertThat;

/** PROTOCOL.md section 7: secondary clients {@code NAME%%SFX} over real sockets. */
@ExtendWith(LeakGate.class)
class SecondaryIT {
  private static TestBroker tb;

  @BeforeAll
  static void start() throws Exception {
    tb = TestBroker.start(1, Wire.QUIET);
  }

  @AfterAll
  static void stop() throws Exception {
    tb.close();
  }

  private static Transport other(Transport t) {
    return t == Transport.TCP ? Transport.UNIX : Transport.TCP;
  }

  private static Optional<ClientInfo> info(String name) {
    return tb.broker().clients().stream().filter(c -> c.name().equals(name)).findFirst();
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void directMessagesAndBroadcastsReachSecondariesByFullName(Transport t) throws Exception {
    String ns = uniq("sec");
    String pn = ns + ".a.b";
    String s0n = pn + "%%0";
    String s1n = pn + "%%1";
    String xn = ns + ".x";
    try (RawClient p = tb.registered(t, pn); RawClient s0 = tb.registered(t, s0n);
         RawClient s1 = tb.registered(other(t), s1n); RawClient x = tb.registered(t, xn)) {
      x.frame(1, MESSAGE, 1, s0n, utf8("to s0"));
      expectAck(x, 1, OK);
      expectFrame(s0, Wire.message(xn, utf8("to s0"), false));
      x.frame(2, MESSAGE, 1, pn, utf8("to p"));
      expectAck(x, 2, OK);
      expectFrame(p, Wire.message(xn, utf8("to p"), false));
      x.frame(3, MESSAGE, 1, pn + "%%2", utf8("to nobody"));
      expectAck(x, 3, NOT_REGISTERED);
      // a.? matches a.b%%0 (and a.b, a.b%%1); the literal mask only the primary
      x.frame(4, BROADCAST, 1, ns + ".a.?", utf8("bc1"));
      expectAck(x, 4, OK);
      x.frame(5, BROADCAST, 1, pn, utf8("bc2"));
      expectAck(x, 5, OK);
      x.frame(6, BROADCAST, 1, ns + ".*", utf8("bc3"));
      expectFrame(x, Wire.broadcast(xn, utf8("bc3"), false));
      expectAck(x, 6, OK);
      x.frame(7, BROADCAST, 1, s1n, utf8("bc4")); // a literal full secondary name
      expectAck(x, 7, OK);
      expectFrame(p, Wire.broadcast(xn, utf8("bc1"), false));
      expectFrame(p, Wire.broadcast(xn, utf8("bc2"), false));
      expectFrame(p, Wire.broadcast(xn, utf8("bc3"), false));
      expectFrame(s0, Wire.broadcast(xn, utf8("bc1"), false));
      expectFrame(s0, Wire.broadcast(xn, utf8("bc3"), false));
      expectFrame(s1, Wire.broadcast(xn, utf8("bc1"), false));
      expectFrame(s1, Wire.broadcast(xn, utf8("bc3"), false));
      expectFrame(s1, Wire.broadcast(xn, utf8("bc4"), false));
      marker(x, xn, p, pn, 10);
      marker(x, xn, s0, s0n, 11);
      marker(x, xn, s1, s1n, 12);
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void framesFromASecondaryCarryItsFullName(Transport t) throws Exception {
    String pn = uniq("sender");
    String sn = pn + "%%sfx";
    String xn = uniq("receiver");
    try (RawClient p = tb.registered(t, pn); RawClient s = tb.registered(other(t), sn);
         RawClient x = tb.registered(t, xn)) {
      x.frame(1, SUBSCRIBE, 1, utf8(xn + "/#"));
      expectAck(x, 1, OK);
      s.frame(2, MESSAGE, 1, xn, utf8("m"));
      expectAck(s, 2, OK);
      s.frame(3, PUBLISH, 3, xn + "/t", utf8("p"));
      expectAck(s, 3, OK);
      s.frame(4, BROADCAST, 1, xn, utf8("b"));
      expectAck(s, 4, OK);
      expectFrame(x, Wire.message(sn, utf8("m"), false));
      expectFrame(x, Wire.publication(sn, xn + "/t", utf8("p"), true));
      expectFrame(x, Wire.broadcast(sn, utf8("b"), false));
      // primary and secondary can message each other
      marker(s, sn, p, pn, 5);
      marker(p, pn, s, sn, 6);
      x.expectSilence(50);
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void closingThePrimaryClosesItsSecondariesAndFreesTheNames(Transport t) throws Exception {
    String pn = uniq("owner");
    long goneBefore = tb.router().stats().closes(CloseReason.PRIMARY_GONE);
    RawClient p = tb.registered(t, pn);
    try (RawClient s0 = tb.registered(t, pn + "%%0");
         RawClient s1 = tb.registered(other(t), pn + "%%1");
         RawClient s2 = tb.registered(t, pn + "%%2")) {
      // closing one secondary leaves the others
      s2.close();
      Wire.awaitUnregistered(tb.broker(), pn + "%%2");
      marker(s0, pn + "%%0", s1, pn + "%%1", 1);
      assertThat(tb.router().registry().get(pn)).isNotNull();
      p.close();
      s0.expectClosed(5_000);
      s1.expectClosed(5_000);
      Wire.awaitUnregistered(tb.broker(), pn);
      Wire.awaitUnregistered(tb.broker(), pn + "%%0");
      Wire.awaitUnregistered(tb.broker(), pn + "%%1");
      Wire.await(() -> tb.router().stats().closes(CloseReason.PRIMARY_GONE) >= goneBefore + 2,
          5_000, "two secondaries closed for primary_gone");
    } finally {
      p.close();
    }
    // unregistering takes the registry entry first, then the subscriptions (Router.unregister):
    // seen from this thread, the subscriptions may go a moment after the name
    Wire.await(() -> java.util.Arrays.stream(tb.router().topics().match(".broker/warn"))
        .noneMatch(s -> s.name().startsWith(pn)), 5_000, "no subscription of " + pn + " left");
    // the names are free again, primary first; a secondary before its primary is refused
    try (RawClient early = tb.raw(other(t))) {
      assertThat(early.handshake(pn + "%%0")).isEqualTo(NOT_REGISTERED);
    }
    try (RawClient p2 = tb.registered(other(t), pn); RawClient s0 = tb.registered(t, pn + "%%0")) {
      marker(p2, pn, s0, pn + "%%0", 2);
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void forceDisconnectOfThePrimaryTakesTheSecondariesAlong(Transport t) throws Exception {
    String pn = uniq("forced");
    try (RawClient p = tb.registered(t, pn); RawClient s0 = tb.registered(other(t), pn + "%%0")) {
      assertThat(tb.broker().forceDisconnect(pn)).isTrue();
      p.expectClosed(5_000);
      s0.expectClosed(5_000);
      Wire.awaitUnregistered(tb.broker(), pn + "%%0");
      assertThat(tb.router().registry().get(pn)).isNull();
      assertThat(tb.broker().forceDisconnect(pn)).isFalse();
    }
    try (RawClient p = tb.registered(t, pn)) {
      marker(p, pn, p, pn, 1);
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void clientListShowsPrimariesOnlyWithInstanceCounts(Transport t) throws Exception {
    String pn = uniq("listed");
    try (RawClient p = tb.registered(t, pn); RawClient s0 = tb.registered(t, pn + "%%0");
         RawClient s1 = tb.registered(other(t), pn + "%%1")) {
      List<ClientInfo> all = tb.broker().clients();
      assertThat(all).extracting(ClientInfo::name).doesNotContain(pn + "%%0", pn + "%%1")
          .contains(pn).isSorted();
      ClientInfo ci = info(pn).orElseThrow();
      assertThat(ci.instances()).isEqualTo(3);
      assertThat(ci.kind()).isEqualTo(t == Transport.TCP ? "tcp" : "local_ipc");
      if (t == Transport.TCP) {
        assertThat(ci.source()).startsWith("127.0.0.1:");
        assertThat(ci.port()).isEqualTo("127.0.0.1:" + tb.port());
      } else {
        assertThat(ci.source()).isNull();
        assertThat(ci.port()).isEqualTo(tb.socket().toString());
      }
      s1.close();
      Wire.await(() -> info(pn).map(ClientInfo::instances).orElse(0) == 2, 5_000,
          "instances back to 2");
      s0.close();
      Wire.await(() -> info(pn).map(ClientInfo::instances).orElse(0) == 1, 5_000,
          "instances back to 1");
    }
    Wire.await(() -> info(pn).isEmpty(), 5_000, pn + " gone from the list");
  }
}
