package dev.elbus.it.aaa;

import ch.qos.logback.classic.Level;
import dev.elbus.Broker;
import dev.elbus.aaa.AaaPolicy;
import dev.elbus.aaa.ClientAcl.Rule;
import dev.elbus.aaa.ClientAcl;
import dev.elbus.client.Bind;
import dev.elbus.config.ListenerOptions;
import dev.elbus.impl.routing.CloseReason;
import dev.elbus.protocol.QoS;
import dev.elbus.support.LeakGate;
import dev.elbus.support.RawClient;
import dev.elbus.support.TestBroker;
import dev.elbus.support.Transport;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.elbus.it.aaa.AaaWire.ACCESS;
import static dev.elbus.it.aaa.AaaWire.DATA;
import static dev.elbus.it.aaa.AaaWire.EVENT_MS;
import static dev.elbus.it.aaa.AaaWire.NOT_REGISTERED;
import static dev.elbus.it.aaa.AaaWire.OK;
import static dev.elbus.it.aaa.AaaWire.PUBLISH;
import static dev.elbus.it.aaa.AaaWire.expectAck;
import static dev.elbus.support.RawClient.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Registration on an AAA listener (PROTOCOL.md sections 1 and 11): names outside the map, peer
 * addresses outside {@code hosts_allow} (IPv4 and IPv6, Unix sockets exempt), secondaries, and
 * the order of the checks (72, then 79, then 76 / 71). A refused client gets exactly one byte and
 * the connection is closed.
 */
@ExtendWith(LeakGate.class)
class AaaRegistrationIT {
  static final AaaPolicy POLICY = AaaPolicy.builder()
      .client("any", ClientAcl.ALLOW_ALL)
      .client("far", ClientAcl.builder().hostsAllow("10.0.0.0/8").build())
      .client("loop8", ClientAcl.builder().hostsAllow("10.0.0.0/8", "127.0.0.0/8").build())
      .client("loop32", ClientAcl.builder().hostsAllow("127.0.0.1/32").build())
      .client("v6only", ClientAcl.builder().hostsAllow("::1/128").build())
      .client("mapped", ClientAcl.builder().hostsAllow("::ffff:127.0.0.1/128").build())
      .client("idle", ClientAcl.ALLOW_ALL)
      .client("listener", ClientAcl.builder().subscribe(Rule.only("news/#")).build())
      .client("mute", ClientAcl.builder().subscribe(Rule.deny()).publish(Rule.deny()).build())
      .build();

  private static TestBroker broker;

  @BeforeAll
  static void start() throws Exception {
    broker = TestBroker.start(1, l -> l.setAaa(POLICY).setTimeoutMs(60_000));
  }

  @AfterAll
  static void stop() throws Exception {
    if (broker != null) {
      broker.close();
    }
  }

  /** Registers and expects exactly {@code code}, then (unless OK) the broker's close. */
  private static RawClient expectRegistration(RawClient c, String name, int code)
      throws IOException, InterruptedException {
    if (code == OK && !name.contains("%%")) {
      // a previous test's client of that name may still be leaving
      AaaWire.await(() -> broker.router().registry().get(name) == null, EVENT_MS,
          name + " to be unregistered");
    }
    int got = c.handshake(name);
    assertThat(Integer.toHexString(got)).as("registration of %s", name)
        .isEqualTo(Integer.toHexString(code));
    if (code != OK) {
      c.expectClosed(EVENT_MS);
      c.close();
    }
    return c;
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void nameNotInTheMapIsRefusedWith79AndClosed(Transport t) throws Exception {
    long before = broker.router().stats().closes(CloseReason.ACCESS);
    try (AaaWire.LogCapture log = new AaaWire.LogCapture("dev.elbus.impl.net.ClientConnection")) {
      RawClient c = broker.raw(t);
      expectRegistration(c, "stranger", ACCESS);
      // one WARN naming the client and where it came from
      String where = t == Transport.TCP ? "127.0.0.1:" : broker.socket().toString();
      AaaWire.await(() -> log.count(Level.WARN, "stranger", where, "not in the AAA map") == 1,
          EVENT_MS, "the refusal WARN: " + log.dump());
    }
    assertThat(broker.router().registry().get("stranger")).isNull();
    // the refusal is an AAA close, as CloseReason.ACCESS documents
    AaaWire.await(() -> broker.router().stats().closes(CloseReason.ACCESS) == before + 1,
        EVENT_MS, "closes(ACCESS) to count the refusal");
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void nameInTheMapRegisters(Transport t) throws Exception {
    try (RawClient c = expectRegistration(broker.raw(t), "any", OK)) {
      c.frame(1, PUBLISH, 1, "t", utf8("x"));
      expectAck(c, 1, OK);
    }
  }

  @Test
  void hostOutsideHostsAllowIsRefusedOverTcp() throws Exception {
    try (AaaWire.LogCapture log = new AaaWire.LogCapture("dev.elbus.impl.net.ClientConnection")) {
      expectRegistration(broker.raw(Transport.TCP), "far", ACCESS);
      AaaWire.await(() -> log.count(Level.WARN, "far", "127.0.0.1:", "host not allowed") == 1,
          EVENT_MS, "the refusal WARN: " + log.dump());
    }
  }

  @Test
  void unixSocketClientsSkipTheHostCheck() throws Exception {
    try (RawClient c = expectRegistration(broker.raw(Transport.UNIX), "far", OK)) {
      c.frame(1, PUBLISH, 1, "t", utf8("x"));
      expectAck(c, 1, OK);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"loop8", "loop32"})
  void loopbackNetworksAdmitTcpClients(String name) throws Exception {
    try (RawClient c = expectRegistration(broker.raw(Transport.TCP), name, OK)) {
      c.frame(1, PUBLISH, 1, "t", utf8("x"));
      expectAck(c, 1, OK);
    }
  }

  @Test
  void ipv6NetworkDoesNotAdmitAnIpv4Peer() throws Exception {
    // ::1/128 is not 127.0.0.1
    expectRegistration(broker.raw(Transport.TCP), "v6only", ACCESS);
  }

  @Test
  void ipv4MappedNetworkAdmitsTheIpv4Peer() throws Exception {
    // ::ffff:127.0.0.1/128 is the IPv4 address 127.0.0.1
    try (RawClient c = expectRegistration(broker.raw(Transport.TCP), "mapped", OK)) {
      c.frame(1, PUBLISH, 1, "t", utf8("x"));
      expectAck(c, 1, OK);
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void secondaryOfANameOutsideTheMapGets79Not71(Transport t) throws Exception {
    expectRegistration(broker.raw(t), "stranger%%1", ACCESS);
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void secondaryOfAnAllowedButAbsentPrimaryGets71(Transport t) throws Exception {
    expectRegistration(broker.raw(t), "idle%%1", NOT_REGISTERED);
  }

  @Test
  void secondaryIsHostCheckedItself() throws Exception {
    // the primary came over the Unix socket; its secondary over TCP is still host checked
    try (RawClient p = expectRegistration(broker.raw(Transport.UNIX), "far", OK)) {
      expectRegistration(broker.raw(Transport.TCP), "far%%tcp", ACCESS);
      try (RawClient s = expectRegistration(broker.raw(Transport.UNIX), "far%%unix", OK)) {
        s.frame(1, PUBLISH, 1, "t", utf8("x"));
        expectAck(s, 1, OK);
      }
      p.frame(1, PUBLISH, 1, "t", utf8("x"));
      expectAck(p, 1, OK);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {".hidden", "", "%%x"})
  void invalidNameGets72EvenWhenNotInTheMap(String name) throws Exception {
    for (Transport t : Transport.values()) {
      expectRegistration(broker.raw(t), name, DATA);
    }
  }

  @Test
  void invalidUtf8NameGets72() throws Exception {
    try (RawClient c = broker.raw(Transport.TCP)) {
      c.expect(0xEB, 0x01, 0x00).send(0xEB, 0x01, 0x00).expect(0x01);
      c.send(0x02, 0x00, 0xC3, 0x28);
      c.expect(DATA);
      c.expectClosed(EVENT_MS);
    }
  }

  /**
   * Every client is subscribed to {@code .broker/warn} on registration (section 5), whatever its
   * subscribe rights: the broker's warnings (e.g. the shutdown notice) must reach restricted
   * clients too.
   */
  @ParameterizedTest
  @ValueSource(strings = {"listener", "mute"})
  void restrictedClientsStillGetBrokerWarnings(String name) throws Exception {
    try (RawClient c = expectRegistration(broker.raw(Transport.UNIX), name, OK)) {
      byte[] payload = utf8("warn-" + name);
      broker.broker().coreClient().publish(".broker/warn", Buffer.buffer(payload), QoS.NO)
          .await(5, TimeUnit.SECONDS);
      AaaWire.expectFrame(c, AaaWire.publication(".broker", ".broker/warn", payload));
      // and a denied subscription of it is still refused
      c.frame(1, AaaWire.SUBSCRIBE, 1, utf8(".broker/warn"));
      expectAck(c, 1, ACCESS);
    }
  }

  // ------------------------------------------------------------------ IPv6 listener

  private static boolean ipv6LoopbackUsable() {
    try (java.net.ServerSocket ss = new java.net.ServerSocket(0, 1, InetAddress.getByName("::1"));
        Socket s = new Socket()) {
      s.connect(new InetSocketAddress(ss.getInetAddress(), ss.getLocalPort()), 2000);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  @Test
  void ipv6LoopbackListener() throws Exception {
    assumeTrue(ipv6LoopbackUsable(), "::1 is not available on this machine");
    Vertx vertx = Vertx.vertx();
    try {
      Broker b = Broker.create(vertx);
      b.deploy(List.of(new ListenerOptions().setBind(Bind.tcp("::1", 0)).setAaa(POLICY)
          .setTimeoutMs(60_000)), 1).await(20, TimeUnit.SECONDS);
      int port = b.listeners().get(0).actualPort();
      assertThat(b.listeners().get(0).label()).isEqualTo("[::1]:" + port);
      try (RawClient c = expectRegistration(RawClient.tcp("::1", port), "v6only", OK)) {
        c.frame(1, PUBLISH, 1, "t", utf8("x"));
        expectAck(c, 1, OK);
      }
      try (RawClient c = expectRegistration(RawClient.tcp("::1", port), "any", OK)) {
        c.frame(1, PUBLISH, 1, "t", utf8("x"));
        expectAck(c, 1, OK);
      }
      expectRegistration(RawClient.tcp("::1", port), "loop32", ACCESS);
      expectRegistration(RawClient.tcp("::1", port), "loop8", ACCESS);
      expectRegistration(RawClient.tcp("::1", port), "mapped", ACCESS);
      b.close().await(10, TimeUnit.SECONDS);
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }
}
