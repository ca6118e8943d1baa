package dev.elbus.client;

import static dev.elbus.client.ClientTestSupport.await;
import static dev.elbus.client.ClientTestSupport.failureCode;
import static org.assertj.core.api.Assertions.assertThat;

import dev.elbus.client.ClientTestSupport.Inbox;
import dev.elbus.protocol.QoS;
import dev.elbus.support.LeakGate;
import dev.elbus.support.TestBroker;
import dev.elbus.support.Transport;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.stream.Stream;

/** {@link NetworkClient} against a real broker: registration, messages, broadcasts, pub/sub. */
@ExtendWith(LeakGate.class)
class NetworkClientIT {
  @RegisterExtension
  static final ClientTestSupport clients = new ClientTestSupport(TestBroker::start);


  static Stream<Arguments> transportsAndQos() {
    return Stream.of(Transport.values())
        .flatMap(t -> Stream.of(QoS.values()).map(q -> Arguments.of(t, q)));
  }

  // ---------------------------------------------------------------- registration

  @ParameterizedTest
  @EnumSource(Transport.class)
  void registers(Transport t) throws Exception {
    NetworkClient c = clients.connect(t, t.qualify("reg"));
    assertThat(c.isConnected()).isTrue();
    assertThat(c.name()).isEqualTo(t.qualify("reg"));
    assertThat(clients.broker().broker().clients())
        .anyMatch(i -> i.name().equals(t.qualify("reg")));

    await(c.close());
    assertThat(c.isConnected()).isFalse();
    assertThat(c.closeFuture().isComplete()).isTrue();
    assertThat(failureCode(c.send("x", Buffer.buffer("late"), QoS.NO))).isEqualTo(0x73);
    assertThat(failureCode(c.send("x", Buffer.buffer("late"), QoS.PROCESSED))).isEqualTo(0x73);
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void busyNameIsRefusedWith76(Transport t) throws Exception {
    clients.connect(t, t.qualify("busy"));
    assertThat(failureCode(NetworkClient.connect(clients.vertx, clients.path(t),
        t.qualify("busy"))))
        .isEqualTo(0x76);
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void reservedNameIsRefusedWith72(Transport t) {
    assertThat(failureCode(NetworkClient.connect(clients.vertx, clients.path(t), ".hidden")))
        .isEqualTo(0x72);
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void secondaryWithoutPrimaryIsRefusedWith71(Transport t) {
    assertThat(failureCode(NetworkClient.connect(clients.vertx, clients.path(t),
        t.qualify("nobody") + "%%1"))).isEqualTo(0x71);
  }

  // ---------------------------------------------------------------- direct messages

  @ParameterizedTest
  @MethodSource("transportsAndQos")
  void sendsToKnownTarget(Transport t, QoS qos) throws Exception {
    NetworkClient a = clients.connect(t, t.qualify("snd-a-" + qos));
    NetworkClient b = clients.connect(t, t.qualify("snd-b-" + qos));
    Inbox inbox = Inbox.of(b);
    byte[] payload = {0, 1, 2, (byte) 0xFF, 'x', 0};

    await(a.send(b.name(), Buffer.buffer(payload), qos));

    Frame f = inbox.next();
    assertThat(f.kind()).isEqualTo(FrameKind.MESSAGE);
    assertThat(f.sender()).isEqualTo(a.name());
    assertThat(f.primarySender()).isEqualTo(a.name());
    assertThat(f.topic()).isNull();
    assertThat(f.payload().getBytes()).containsExactly(payload);
    assertThat(f.realtime()).isEqualTo(qos == QoS.REALTIME || qos == QoS.REALTIME_PROCESSED);
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void sendsEmptyPayload(Transport t) throws Exception {
    NetworkClient a = clients.connect(t, t.qualify("empty-a"));
    NetworkClient b = clients.connect(t, t.qualify("empty-b"));
    Inbox inbox = Inbox.of(b);
    await(a.send(b.name(), Buffer.buffer(), QoS.PROCESSED));
    assertThat(inbox.next().payload().length()).isZero();
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void sendToUnknownTargetFailsWith71(Transport t) throws Exception {
    NetworkClient a = clients.connect(t, t.qualify("unknown-a"));
    assertThat(failureCode(a.send(t.qualify("no-such-client"), Buffer.buffer("x"), QoS.PROCESSED)))
        .isEqualTo(0x71);
    assertThat(failureCode(a.send(t.qualify("no-such-client"), Buffer.buffer("x"),
        QoS.REALTIME_PROCESSED))).isEqualTo(0x71);
    // without an ack the loss is silent; the connection stays usable
    await(a.send(t.qualify("no-such-client"), Buffer.buffer("x"), QoS.NO));
    assertThat(a.isConnected()).isTrue();
    await(a.publish(t.qualify("any/topic"), Buffer.buffer("x"), QoS.PROCESSED));
  }

  // ---------------------------------------------------------------- broadcast

  @ParameterizedTest
  @EnumSource(Transport.class)
  void broadcastReachesMatchingClientsOnly(Transport t) throws Exception {
    String g = t.qualify("grp");
    NetworkClient sender = clients.connect(t, g + ".x.sender");
    NetworkClient one = clients.connect(t, g + ".x.one");
    NetworkClient two = clients.connect(t, g + ".x.sub.two");
    NetworkClient other = clients.connect(t, g + ".y");
    Inbox sIn = Inbox.of(sender);
    Inbox oneIn = Inbox.of(one);
    Inbox twoIn = Inbox.of(two);
    Inbox otherIn = Inbox.of(other);

    await(sender.broadcast(g + ".x.*", Buffer.buffer("hello all"), QoS.PROCESSED));
    // a marker after the broadcast: per-sender order means 'other' sees the marker first
    await(sender.send(other.name(), Buffer.buffer("marker"), QoS.PROCESSED));

    for (Inbox in : List.of(sIn, oneIn, twoIn)) {
      Frame f = in.next();
      assertThat(f.kind()).isEqualTo(FrameKind.BROADCAST);
      assertThat(f.sender()).isEqualTo(sender.name());
      assertThat(f.payload().toString()).isEqualTo("hello all");
      assertThat(f.realtime()).isFalse();
    }
    Frame m = otherIn.next();
    assertThat(m.kind()).isEqualTo(FrameKind.MESSAGE);
    assertThat(m.payload().toString()).isEqualTo("marker");

    // '?' matches exactly one part, realtime flag travels along
    await(sender.broadcast(g + ".?.one", Buffer.buffer("q"), QoS.REALTIME_PROCESSED));
    Frame q = oneIn.next();
    assertThat(q.payload().toString()).isEqualTo("q");
    assertThat(q.realtime()).isTrue();
  }

  // ---------------------------------------------------------------- publish / subscribe

  @ParameterizedTest
  @EnumSource(Transport.class)
  void publishSubscribeAndUnsubscribe(Transport t) throws Exception {
    String p = t.qualify("ps");
    NetworkClient pub = clients.connect(t, p + "-pub");
    NetworkClient sub = clients.connect(t, p + "-sub");
    Inbox in = Inbox.of(sub);

    await(sub.subscribe(List.of(p + "/news/+", p + "/alerts/#", p + "/exact"), QoS.PROCESSED));

    await(pub.publish(p + "/news/today", Buffer.buffer("n1"), QoS.PROCESSED));
    await(pub.publish(p + "/alerts/fire/now", Buffer.buffer("a1"), QoS.REALTIME_PROCESSED));
    await(pub.publish(p + "/exact", Buffer.buffer(new byte[] {0, 0}), QoS.PROCESSED));
    await(pub.publish(p + "/unrelated", Buffer.buffer("nobody"), QoS.PROCESSED));

    Frame f1 = in.next();
    assertThat(f1.kind()).isEqualTo(FrameKind.PUBLISH);
    assertThat(f1.sender()).isEqualTo(pub.name());
    assertThat(f1.topic()).isEqualTo(p + "/news/today");
    assertThat(f1.payload().toString()).isEqualTo("n1");
    assertThat(f1.realtime()).isFalse();
    Frame f2 = in.next();
    assertThat(f2.topic()).isEqualTo(p + "/alerts/fire/now");
    assertThat(f2.payload().toString()).isEqualTo("a1");
    assertThat(f2.realtime()).isTrue();
    Frame f3 = in.next();
    assertThat(f3.topic()).isEqualTo(p + "/exact");
    assertThat(f3.payload().getBytes()).containsExactly(0, 0);

    // a single-topic subscribe through the interface default
    await(sub.subscribe(p + "/single"));
    await(pub.publish(p + "/single", Buffer.buffer("s"), QoS.PROCESSED));
    assertThat(in.next().topic()).isEqualTo(p + "/single");

    // two topics removed in one frame; the third stays
    await(sub.unsubscribe(List.of(p + "/news/+", p + "/exact"), QoS.PROCESSED));
    await(pub.publish(p + "/news/tomorrow", Buffer.buffer("n2"), QoS.PROCESSED));
    await(pub.publish(p + "/exact", Buffer.buffer("e2"), QoS.PROCESSED));
    await(pub.publish(p + "/alerts/x", Buffer.buffer("a2"), QoS.PROCESSED));
    Frame next = in.next();
    assertThat(next.topic()).isEqualTo(p + "/alerts/x");
    assertThat(next.payload().toString()).isEqualTo("a2");

    // QoS without an ack for subscriptions: ordered before the later acked publish
    await(sub.unsubscribe(List.of(p + "/alerts/#"), QoS.NO));
    await(sub.subscribe(List.of(p + "/late"), QoS.NO));
    await(sub.unsubscribe(p + "/single"));
    await(pub.publish(p + "/alerts/y", Buffer.buffer("a3"), QoS.PROCESSED));
    await(pub.publish(p + "/single", Buffer.buffer("s2"), QoS.PROCESSED));
    await(pub.publish(p + "/late", Buffer.buffer("l"), QoS.PROCESSED));
    assertThat(in.next().topic()).isEqualTo(p + "/late");
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void publisherReceivesItsOwnPublication(Transport t) throws Exception {
    NetworkClient c = clients.connect(t, t.qualify("self"));
    Inbox in = Inbox.of(c);
    await(c.subscribe(List.of(t.qualify("self") + "/#"), QoS.REALTIME_PROCESSED));
    await(c.publish(t.qualify("self") + "/a", Buffer.buffer("me"), QoS.NO));
    Frame f = in.next();
    assertThat(f.sender()).isEqualTo(c.name());
    assertThat(f.payload().toString()).isEqualTo("me");
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void rejectsNulInTargetsAndEmptyTopicLists(Transport t) throws Exception {
    NetworkClient c = clients.connect(t, t.qualify("nul"));
    assertThat(failureCode(c.send("a\0b", Buffer.buffer("x"), QoS.PROCESSED))).isEqualTo(0x72);
    assertThat(failureCode(c.subscribe(List.of(), QoS.PROCESSED))).isEqualTo(0x72);
    assertThat(c.isConnected()).isTrue();
  }

  // ---------------------------------------------------------------- ping

  @ParameterizedTest
  @EnumSource(Transport.class)
  void pings(Transport t) throws Exception {
    NetworkClient a = clients.connect(t, t.qualify("ping-a"),
        new ClientOptions().setPingIntervalMs(10));
    NetworkClient b = clients.connect(t, t.qualify("ping-b"));
    Inbox in = Inbox.of(b);
    for (int i = 0; i < 3; i++) {
      await(a.ping());
    }
    // the broker ignores pings: op ids and acks keep working, the link stays up
    await(a.send(b.name(), Buffer.buffer("after ping"), QoS.PROCESSED));
    assertThat(in.next().payload().toString()).isEqualTo("after ping");
    assertThat(a.isConnected()).isTrue();
  }
}
