package dev.elbus.client;

import static dev.elbus.client.ClientTestSupport.await;
import static dev.elbus.client.ClientTestSupport.failureCode;
import static org.assertj.core.api.Assertions.assertThat;

import dev.elbus.InternalClient;
import dev.elbus.aaa.AaaPolicy;
import dev.elbus.aaa.ClientAcl;
import dev.elbus.client.ClientTestSupport.Inbox;
import dev.elbus.protocol.QoS;
import dev.elbus.support.LeakGate;
import dev.elbus.support.TestBroker;
import dev.elbus.support.Transport;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The BUS/RT operations of the Java client API (PROTOCOL.md section 15) through {@link
 * NetworkClient} against a real broker: {@code exclude}, {@code unexclude}, {@code publishFor}.
 */
@ExtendWith(LeakGate.class)
class NetworkClientBusRtIT {
  @RegisterExtension
  static final ClientTestSupport clients = new ClientTestSupport(TestBroker::start);
  /** A broker with AAA: {@code acl-pub} may publish to {@code ok/#} only. */
  @RegisterExtension
  static final ClientTestSupport aaaClients = new ClientTestSupport(() -> TestBroker.start(1,
      l -> l.setAaa(AaaPolicy.builder()
          .client("acl-pub", ClientAcl.builder().publish(ClientAcl.Rule.only("ok/#")).build())
          .client("acl-sub", ClientAcl.builder().build())
          .build())));

  private static String n(Transport t, String name) {
    return t.name().toLowerCase() + "-busrt-" + name;
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void excludeAndUnexclude(Transport t) throws Exception {
    String p = n(t, "ex");
    NetworkClient sub = clients.connect(t, p + ".sub");
    NetworkClient pub = clients.connect(t, p + ".pub");
    Inbox in = Inbox.of(sub);
    await(sub.subscribe(List.of(p + "/#", p + "/+"), QoS.PROCESSED));
    await(sub.exclude(List.of(p + "/x", p + "/y/#"), QoS.PROCESSED));

    // frames from one publisher keep their order: if x were delivered it would come first
    await(pub.publish(p + "/x", Buffer.buffer("x"), QoS.PROCESSED));
    await(pub.publish(p + "/y/z", Buffer.buffer("yz"), QoS.PROCESSED));
    await(pub.publish(p + "/z", Buffer.buffer("z"), QoS.PROCESSED));
    Frame f = in.next();
    assertThat(f.kind()).isEqualTo(FrameKind.PUBLISH);
    assertThat(f.topic()).isEqualTo(p + "/z");
    assertThat(f.payload().toString()).isEqualTo("z");

    // unexclude one pattern (others stay), with each QoS
    await(sub.unexclude(List.of(p + "/x"), QoS.REALTIME_PROCESSED));
    await(sub.exclude(List.of(p + "/w"), QoS.NO));
    await(sub.unexclude(List.of(p + "/never-excluded"), QoS.REALTIME));
    await(pub.publish(p + "/y/z", Buffer.buffer("yz"), QoS.PROCESSED));
    await(pub.publish(p + "/w", Buffer.buffer("w"), QoS.PROCESSED));
    await(pub.publish(p + "/x", Buffer.buffer("x again"), QoS.PROCESSED));
    f = in.next();
    assertThat(f.topic()).isEqualTo(p + "/x");
    assertThat(f.payload().toString()).isEqualTo("x again");
    assertThat(f.sender()).isEqualTo(pub.name());

    // an empty list or a NUL in a pattern is refused before anything is sent
    assertThat(failureCode(sub.exclude(List.of(), QoS.PROCESSED))).isEqualTo(0x72);
    assertThat(failureCode(sub.unexclude(List.of("a\0b"), QoS.PROCESSED))).isEqualTo(0x72);
    assertThat(sub.isConnected()).isTrue();
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void publishForReachesTheReceiverOnly(Transport t) throws Exception {
    String p = n(t, "pf");
    NetworkClient x = clients.connect(t, p + ".x");
    NetworkClient x1 = clients.connect(t, p + ".x%%1");
    NetworkClient y = clients.connect(t, p + ".y");
    NetworkClient s = clients.connect(t, p + ".s");
    Inbox xIn = Inbox.of(x);
    Inbox x1In = Inbox.of(x1);
    Inbox yIn = Inbox.of(y);
    for (NetworkClient c : List.of(x, x1, y)) {
      await(c.subscribe(List.of(p + "/#"), QoS.PROCESSED));
    }
    byte[] payload = {0, 1, 2, (byte) 0xFF, 0};
    await(s.publishFor(p + "/t", x.name(), Buffer.buffer(payload), QoS.PROCESSED));
    for (Inbox in : List.of(xIn, x1In)) {
      Frame f = in.next();
      assertThat(f.kind()).isEqualTo(FrameKind.PUBLISH);
      assertThat(f.sender()).isEqualTo(s.name());
      assertThat(f.topic()).isEqualTo(p + "/t");
      assertThat(f.payload().getBytes()).containsExactly(payload);
      assertThat(f.realtime()).isFalse();
    }
    // realtime; a null payload is an empty one
    await(s.publishFor(p + "/rt", x.name(), null, QoS.REALTIME_PROCESSED));
    Frame rt = xIn.next();
    assertThat(rt.topic()).isEqualTo(p + "/rt");
    assertThat(rt.payload().length()).isZero();
    assertThat(rt.realtime()).isTrue();
    assertThat(x1In.next().realtime()).isTrue();
    // y got nothing of it: its next frame is the ordinary publication that follows
    await(s.publish(p + "/all", Buffer.buffer("all"), QoS.PROCESSED));
    assertThat(yIn.next().topic()).isEqualTo(p + "/all");
    assertThat(xIn.next().topic()).isEqualTo(p + "/all");
    assertThat(x1In.next().topic()).isEqualTo(p + "/all");

    // a NUL in the receiver is refused locally
    assertThat(failureCode(s.publishFor(p + "/t", "x\0y", Buffer.buffer("z"), QoS.PROCESSED)))
        .isEqualTo(0x72);
    assertThat(failureCode(s.publishFor(p + "/t\0", x.name(), Buffer.buffer("z"),
        QoS.PROCESSED))).isEqualTo(0x72);
    assertThat(s.isConnected()).isTrue();
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void publishForHonoursExclusions(Transport t) throws Exception {
    String p = n(t, "pfx");
    NetworkClient x = clients.connect(t, p + ".x");
    NetworkClient s = clients.connect(t, p + ".s");
    Inbox in = Inbox.of(x);
    await(x.subscribe(List.of(p + "/#"), QoS.PROCESSED));
    await(x.exclude(List.of(p + "/secret"), QoS.PROCESSED));
    await(s.publishFor(p + "/secret", x.name(), Buffer.buffer("no"), QoS.PROCESSED));
    await(s.publishFor(p + "/open", x.name(), Buffer.buffer("yes"), QoS.NO));
    Frame f = in.next();
    assertThat(f.topic()).isEqualTo(p + "/open");
    assertThat(f.payload().toString()).isEqualTo("yes");
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void publishForDeniedByAclFailsWith79(Transport t) throws Exception {
    NetworkClient sub = aaaClients.connect(t, "acl-sub");
    NetworkClient pub = aaaClients.connect(t, "acl-pub");
    Inbox in = Inbox.of(sub);
    await(sub.subscribe(List.of("#"), QoS.PROCESSED));
    assertThat(failureCode(pub.publishFor("no/t", "acl-sub", Buffer.buffer("x"),
        QoS.PROCESSED))).isEqualTo(0x79);
    await(pub.publishFor("ok/t", "acl-sub", Buffer.buffer("y"), QoS.PROCESSED));
    Frame f = in.next();
    assertThat(f.topic()).isEqualTo("ok/t");
    assertThat(f.payload().toString()).isEqualTo("y");
    // the denial closed nothing; the clients are closed after the test so the names free up
    assertThat(pub.isConnected()).isTrue();
    aaaClients.closeClients();
    awaitGone(aaaClients.broker(), "acl-sub");
    awaitGone(aaaClients.broker(), "acl-pub");
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void internalAndNetworkClientsMeetThroughPublishFor(Transport t) throws Exception {
    String p = n(t, "int");
    InternalClient ic = clients.broker().broker().registerClient(p + ".internal");
    try {
      NetworkClient x = clients.connect(t, p + ".x");
      Inbox in = Inbox.of(x);
      await(x.subscribe(List.of(p + "/#"), QoS.PROCESSED));
      java.util.concurrent.BlockingQueue<Frame> icIn = new java.util.concurrent
          .LinkedBlockingQueue<>();
      ic.frameHandler(icIn::add);
      await(ic.subscribe(List.of(p + "/#"), QoS.PROCESSED));
      await(ic.exclude(List.of(p + "/hidden"), QoS.PROCESSED));
      // internal -> network: publish-for
      await(ic.publishFor(p + "/a", x.name(), Buffer.buffer("from internal"), QoS.PROCESSED));
      Frame f = in.next();
      assertThat(f.sender()).isEqualTo(ic.name());
      assertThat(f.topic()).isEqualTo(p + "/a");
      // network -> internal: publish-for, the internal client's exclusion applies
      await(x.publishFor(p + "/hidden", ic.name(), Buffer.buffer("hidden"), QoS.PROCESSED));
      await(x.publishFor(p + "/shown", ic.name(), Buffer.buffer("shown"), QoS.PROCESSED));
      Frame g = icIn.poll(ClientTestSupport.TIMEOUT_S, TimeUnit.SECONDS);
      assertThat(g).isNotNull();
      assertThat(g.topic()).isEqualTo(p + "/shown");
      assertThat(g.sender()).isEqualTo(x.name());
      await(ic.unexclude(List.of(p + "/hidden"), QoS.PROCESSED));
      await(x.publishFor(p + "/hidden", ic.name(), Buffer.buffer("now"), QoS.PROCESSED));
      g = icIn.poll(ClientTestSupport.TIMEOUT_S, TimeUnit.SECONDS);
      assertThat(g).isNotNull();
      assertThat(g.topic()).isEqualTo(p + "/hidden");
    } finally {
      ic.close().await(5, TimeUnit.SECONDS);
    }
  }

  private static void awaitGone(TestBroker b, String name) throws InterruptedException {
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (b.router().registry().get(name) != null) {
      assertThat(System.nanoTime()).as(name + " unregistered within 5 s").isLessThan(deadline);
      Thread.sleep(10);
    }
  }
}
