package dev.elbus.it.aaa;

import dev.elbus.aaa.AaaPolicy;
import dev.elbus.aaa.ClientAcl.Rule;
import dev.elbus.aaa.ClientAcl;
import dev.elbus.client.Bind;
import dev.elbus.impl.net.ListenerRuntime;
import dev.elbus.impl.routing.BrokerStats;
import dev.elbus.impl.routing.CloseReason;
import dev.elbus.support.LeakGate;
import dev.elbus.support.RawClient;
import dev.elbus.support.TestBroker;
import dev.elbus.support.Transport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.elbus.it.aaa.AaaWire.ACCESS;
import static dev.elbus.it.aaa.AaaWire.EVENT_MS;
import static dev.elbus.it.aaa.AaaWire.OK;
import static dev.elbus.it.aaa.AaaWire.PUBLISH;
import static dev.elbus.it.aaa.AaaWire.expectAck;
import static dev.elbus.support.RawClient.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code Broker.setAaa(listener, policy)} (PROTOCOL.md section 11): the new policy applies to new
 * registrations at once, exactly the clients of that listener whose entry changed or disappeared
 * are disconnected (primaries with their secondaries), the call returns how many, and every such
 * close is counted as {@link CloseReason#ACCESS}.
 */
@ExtendWith(LeakGate.class)
class AaaProgrammaticIT {
  static final AaaPolicy P0 = AaaPolicy.builder()
      .client("a", ClientAcl.ALLOW_ALL)
      .client("b", ClientAcl.builder().publish(Rule.only("b/#")).build())
      .client("c", ClientAcl.builder().broadcast(Rule.deny()).hostsAllow("127.0.0.0/8").build())
      .client("d", ClientAcl.ALLOW_ALL)
      .build();

  /** a unchanged, b's rights changed, c equal but written differently, d removed. */
  static final AaaPolicy P1 = AaaPolicy.builder()
      .client("a", ClientAcl.ALLOW_ALL)
      .client("b", ClientAcl.builder().publish(Rule.only("b/#", "x")).build())
      .client("c", ClientAcl.builder().broadcast(Rule.only()).hostsAllow("127.0.0.1/8",
          "127.0.0.0/8").build())
      .build();

  private TestBroker broker;
  private final List<RawClient> open = new ArrayList<>();

  @AfterEach
  void stop() throws Exception {
    for (RawClient c : open) {
      c.close();
    }
    if (broker != null) {
      broker.close();
    }
  }

  private RawClient connect(Transport t, String name) throws IOException {
    RawClient c = broker.registered(t, name);
    open.add(c);
    return c;
  }

  private String label(Transport t) {
    for (ListenerRuntime l : broker.listeners()) {
      if ((l.bind().type() == Bind.Type.TCP) == (t == Transport.TCP)) {
        return l.label();
      }
    }
    throw new AssertionError("no " + t + " listener");
  }

  private static void works(RawClient c, int opId) throws IOException {
    c.frame(opId, PUBLISH, 1, "t/" + opId, utf8("x"));
    expectAck(c, opId, OK);
  }

  private static int register(RawClient c, String name) throws IOException {
    int code = c.handshake(name);
    if (code != OK) {
      c.expectClosed(EVENT_MS);
    }
    return code;
  }

  /** With one and with two event loops (the clients' connections then live on both). */
  @ParameterizedTest(name = "{0} instance(s)")
  @ValueSource(ints = {1, 2})
  void changedEntriesDisconnectExactlyTheirClients(int instances) throws Exception {
    broker = TestBroker.start(instances, l -> l.setAaa(P0).setTimeoutMs(60_000));
    BrokerStats stats = broker.router().stats();
    Map<String, RawClient> tcp = new LinkedHashMap<>();
    for (String n : List.of("a", "b", "b%%1", "b%%2", "b%%3", "b%%4", "c")) {
      tcp.put(n, connect(Transport.TCP, n));
    }
    RawClient d = connect(Transport.UNIX, "d");
    RawClient bu = connect(Transport.UNIX, "b%%u"); // b's secondary on the other listener
    long access = stats.closes(CloseReason.ACCESS);
    long primaryGone = stats.closes(CloseReason.PRIMARY_GONE);

    // only the TCP listener's policy changes: b and its four TCP secondaries go
    assertThat(broker.broker().setAaa(label(Transport.TCP), P1)).isEqualTo(5);
    for (String n : List.of("b", "b%%1", "b%%2", "b%%3", "b%%4")) {
      tcp.get(n).expectClosed(EVENT_MS);
    }
    bu.expectClosed(EVENT_MS); // its primary is gone (section 7)
    works(tcp.get("a"), 1);
    works(tcp.get("c"), 1);
    works(d, 1);
    AaaWire.await(() -> stats.closes(CloseReason.ACCESS) == access + 5, EVENT_MS,
        "closes(ACCESS) == +5, got +" + (stats.closes(CloseReason.ACCESS) - access));
    AaaWire.await(() -> stats.closes(CloseReason.PRIMARY_GONE) == primaryGone + 1, EVENT_MS,
        "closes(PRIMARY_GONE) == +1");

    // b re-registers under its new rights
    RawClient b = broker.raw(Transport.TCP);
    open.add(b);
    AaaWire.await(() -> broker.router().registry().get("b") == null, EVENT_MS,
        "b to be unregistered");
    assertThat(register(b, "b")).isEqualTo(OK);
    b.frame(2, PUBLISH, 1, "x", utf8("now allowed"));
    expectAck(b, 2, OK);
    b.frame(3, PUBLISH, 1, "y", utf8("still denied"));
    expectAck(b, 3, ACCESS);

    // d has no entry in P1: new TCP registrations are refused; on UNIX it stays until P1 is set
    assertThat(register(broker.raw(Transport.TCP), "d%%1")).isEqualTo(ACCESS);
    works(d, 2);
    assertThat(broker.broker().setAaa(label(Transport.UNIX), P1)).isEqualTo(1);
    d.expectClosed(EVENT_MS);
    AaaWire.await(() -> broker.router().registry().get("d") == null, EVENT_MS,
        "d to be unregistered");
    for (Transport t : Transport.values()) {
      RawClient again = broker.raw(t);
      open.add(again);
      assertThat(register(again, "d")).as("d again over %s", t).isEqualTo(ACCESS);
    }
    // setting an equal policy disconnects nobody
    assertThat(broker.broker().setAaa(label(Transport.TCP), P1)).isZero();
    works(tcp.get("a"), 4);
    works(tcp.get("c"), 4);
    b.frame(4, PUBLISH, 1, "b/4", utf8("x"));
    expectAck(b, 4, OK);
    assertThat(stats.closes(CloseReason.ACCESS)).isGreaterThanOrEqualTo(access + 6);
  }

  @Test
  void switchingAaaOnAndOff() throws Exception {
    broker = TestBroker.start(1, l -> l.setTimeoutMs(60_000));
    RawClient x = connect(Transport.TCP, "x");
    RawClient y = connect(Transport.TCP, "y");
    RawClient ys = connect(Transport.TCP, "y%%1");
    RawClient z = connect(Transport.UNIX, "z");
    AaaPolicy onlyY = AaaPolicy.builder().client("y", ClientAcl.ALLOW_ALL).build();

    // on: every client of that listener must re-register; x is no longer admitted at all
    assertThat(broker.broker().setAaa(label(Transport.TCP), onlyY)).isEqualTo(3);
    x.expectClosed(EVENT_MS);
    y.expectClosed(EVENT_MS);
    ys.expectClosed(EVENT_MS);
    works(z, 1);
    AaaWire.await(() -> broker.router().registry().get("x") == null
        && broker.router().registry().get("y") == null, EVENT_MS, "x and y to go");
    RawClient x2 = broker.raw(Transport.TCP);
    open.add(x2);
    assertThat(register(x2, "x")).isEqualTo(ACCESS);
    RawClient y2 = connect(Transport.TCP, "y");
    works(y2, 1);

    // off: y registered under AAA rights is disconnected, then everyone is admitted again
    assertThat(broker.broker().setAaa(label(Transport.TCP), null)).isEqualTo(1);
    y2.expectClosed(EVENT_MS);
    works(z, 2);
    RawClient x3 = connect(Transport.TCP, "x");
    works(x3, 1);
  }

  @Test
  void unknownListenerIsAnError() throws Exception {
    broker = TestBroker.start(1, l -> l.setAaa(P0));
    assertThatThrownBy(() -> broker.broker().setAaa("127.0.0.1:1", P1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("127.0.0.1:1");
  }
}
