package dev.elbus.client;

import static dev.elbus.client.ClientTestSupport.await;
import static dev.elbus.client.ClientTestSupport.failureCode;
import static dev.elbus.support.RawClient.brokerFrame;
import static dev.elbus.support.RawClient.bytes;
import static dev.elbus.support.RawClient.concat;
import static dev.elbus.support.RawClient.hex;
import static dev.elbus.support.RawClient.le16;
import static dev.elbus.support.RawClient.le32;
import static dev.elbus.support.RawClient.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.elbus.client.ClientTestSupport.Inbox;
import dev.elbus.protocol.QoS;
import dev.elbus.support.LeakGate;
import dev.elbus.support.Transport;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The bytes {@link NetworkClient} puts on the wire and its handling of broker responses, against
 * a scripted {@link FakeBroker}: handshake failures and timeout, frame encoding and op ids, acks
 * out of order, pings, pending operations failed on disconnect.
 */
@ExtendWith(LeakGate.class)
class NetworkClientProtocolIT {
  private static final byte[] GREETING = hex("EB 01 00");
  private static Vertx vertx;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true).setEventLoopPoolSize(2));
  }

  @AfterAll
  static void stop() throws Exception {
    vertx.close().await(ClientTestSupport.TIMEOUT_S, TimeUnit.SECONDS);
  }

  private static Future<NetworkClient> connect(FakeBroker fake, String name, ClientOptions o) {
    return NetworkClient.connect(vertx, fake.path(), name, o);
  }

  /** The broker side of a successful handshake for {@code name}. */
  private static void handshake(FakeBroker.Peer p, String name) throws Exception {
    p.send(GREETING).expect(GREETING).send(bytes(0x01));
    p.expect(concat(le16(utf8(name).length), utf8(name))).send(bytes(0x01));
  }

  private static byte[] clientFrame(int opId, int flags, byte[] body) {
    return concat(le32(opId), bytes(flags), le32(body.length), body);
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void handshakeTimeoutFailsWith78(Transport t) throws Exception {
    try (FakeBroker fake = FakeBroker.start(t, FakeBroker.Peer::expectEof)) {
      assertThat(failureCode(connect(fake, "slow", new ClientOptions().setTimeoutMs(300))))
          .isEqualTo(0x78);
      fake.awaitScript(); // the client closed the socket
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void unsupportedGreetingFailsWith75(Transport t) throws Exception {
    try (FakeBroker fake = FakeBroker.start(t, p -> {
      p.send(hex("EB 02 00")).expectEof();
    })) {
      assertThat(failureCode(connect(fake, "c", new ClientOptions()))).isEqualTo(0x75);
      fake.awaitScript();
    }
    try (FakeBroker fake = FakeBroker.start(t, p -> {
      p.send(utf8("SSH-2.0\r\n")).expectEof();
    })) {
      assertThat(failureCode(connect(fake, "c", new ClientOptions()))).isEqualTo(0x75);
      fake.awaitScript();
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void refusedEchoAndRefusedNameFailWithTheirCodes(Transport t) throws Exception {
    try (FakeBroker fake = FakeBroker.start(t, p -> {
      p.send(GREETING).expect(GREETING).send(bytes(0x75)).close();
    })) {
      assertThat(failureCode(connect(fake, "c", new ClientOptions()))).isEqualTo(0x75);
      fake.awaitScript();
    }
    try (FakeBroker fake = FakeBroker.start(t, p -> {
      p.send(GREETING).expect(GREETING).send(bytes(0x01));
      p.expect(concat(le16(4), utf8("deny"))).send(bytes(0x79)).close();
    })) {
      assertThat(failureCode(connect(fake, "deny", new ClientOptions()))).isEqualTo(0x79);
      fake.awaitScript();
    }
    try (FakeBroker fake = FakeBroker.start(t, p -> {
      p.send(GREETING).expect(GREETING).close(); // closed without a response
    })) {
      assertThat(failureCode(connect(fake, "c", new ClientOptions()))).isEqualTo(0x73);
      fake.awaitScript();
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void framesAcksPingsAndDisconnect(Transport t) throws Exception {
    CompletableFuture<Void> sawFrame3 = new CompletableFuture<>();
    try (FakeBroker fake = FakeBroker.start(t, p -> {
      handshake(p, "wire");
      p.expect(clientFrame(1, 0x12 | 0x40, concat(utf8("t"), bytes(0), utf8("p"))));
      p.expect(clientFrame(2, 0x01 | 0x80, concat(utf8("top"), bytes(0), utf8("x"))));
      p.expect(new byte[9]); // ping
      p.expect(clientFrame(3, 0x02 | 0xC0, concat(utf8("a"), bytes(0), utf8("b/#"))));
      p.expect(clientFrame(4, 0x13, concat(utf8("m.*"), bytes(0))));
      sawFrame3.complete(null);
      // acks out of order; a failure code; an ack nobody waits for; a broker ping; a message
      p.send(concat(hex("FE"), le32(3), bytes(0x01), hex("FE"), le32(1), bytes(0x77)));
      p.send(concat(hex("FE"), le32(99), bytes(0x01), new byte[6]));
      p.send(brokerFrame(0x12, true, "x", null, utf8("hi")));
      p.send(brokerFrame(0x01, false, "y%%2", "a/b", new byte[] {0}));
      p.expect(clientFrame(5, 0x12 | 0xC0, concat(utf8("t"), bytes(0), utf8("q"))));
      p.close(); // op 5 is never acked
    })) {
      NetworkClient c = await(connect(fake, "wire", new ClientOptions()));
      Inbox in = Inbox.of(c);
      CompletableFuture<Void> closed = new CompletableFuture<>();
      c.closeHandler(v -> closed.complete(null));
      Future<Void> f1 = c.send("t", Buffer.buffer("p"), QoS.PROCESSED);
      Future<Void> f2 = c.publish("top", Buffer.buffer("x"), QoS.REALTIME);
      Future<Void> ping = c.ping();
      Future<Void> f3 = c.subscribe(List.of("a", "b/#"), QoS.REALTIME_PROCESSED);
      Future<Void> f4 = c.broadcast("m.*", null, QoS.NO);
      await(f2);
      await(ping);
      await(f4);
      sawFrame3.get(ClientTestSupport.TIMEOUT_S, TimeUnit.SECONDS);
      await(f3);
      assertThat(failureCode(f1)).isEqualTo(0x77);

      Frame m = in.next();
      assertThat(m.kind()).isEqualTo(FrameKind.MESSAGE);
      assertThat(m.sender()).isEqualTo("x");
      assertThat(m.payload().toString()).isEqualTo("hi");
      assertThat(m.realtime()).isTrue();
      Frame pub = in.next();
      assertThat(pub.kind()).isEqualTo(FrameKind.PUBLISH);
      assertThat(pub.sender()).isEqualTo("y%%2");
      assertThat(pub.primarySender()).isEqualTo("y");
      assertThat(pub.topic()).isEqualTo("a/b");
      assertThat(pub.payload().getBytes()).containsExactly(0);

      Future<Void> f5 = c.send("t", Buffer.buffer("q"), QoS.REALTIME_PROCESSED);
      assertThat(failureCode(f5)).isEqualTo(0x73);
      closed.get(ClientTestSupport.TIMEOUT_S, TimeUnit.SECONDS);
      await(c.closeFuture());
      assertThat(c.isConnected()).isFalse();
      fake.awaitScript();
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void oversizedOrMalformedBrokerFrameClosesTheConnection(Transport t) throws Exception {
    try (FakeBroker fake = FakeBroker.start(t, p -> {
      handshake(p, "big");
      p.send(concat(bytes(0x12), le32(1_000), bytes(0))).expectEof();
    })) {
      NetworkClient c = await(connect(fake, "big", new ClientOptions().setMaxFrameSize(999)));
      await(c.closeFuture());
      assertThat(c.isConnected()).isFalse();
      fake.awaitScript();
    }
    try (FakeBroker fake = FakeBroker.start(t, p -> {
      handshake(p, "bad");
      p.send(concat(bytes(0x12), le32(3), bytes(0), utf8("abc"))).expectEof(); // no separator
    })) {
      NetworkClient c = await(connect(fake, "bad", new ClientOptions()));
      Inbox.of(c);
      await(c.closeFuture());
      fake.awaitScript();
    }
  }

  @Test
  void connectionRefusedFailsWith73() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress("127.0.0.1", 0));
      port = s.getLocalPort();
    }
    assertThat(failureCode(NetworkClient.connect(vertx, "127.0.0.1:" + port, "c")))
        .isEqualTo(0x73);
    Path dir = Files.createTempDirectory("elbus-none");
    try {
      assertThat(failureCode(NetworkClient.connect(vertx, dir.resolve("none.sock").toString(),
          "c"))).isEqualTo(0x73);
    } finally {
      Files.deleteIfExists(dir);
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void aFrameInTheSameWriteAsTheRegistrationReachesTheHandlerGivenAtConnect(Transport t)
      throws Exception {
    byte[] msg = brokerFrame(0x12, false, "early", null, utf8("at once"));
    BlockingQueue<Frame> in = new LinkedBlockingQueue<>();
    List<Integer> codesInInit = new ArrayList<>();
    try (FakeBroker fake = FakeBroker.start(t, p -> {
      p.send(GREETING).expect(GREETING).send(bytes(0x01));
      // the registration's OK and a message in one write: decoded in one read
      p.expect(concat(le16(5), utf8("eager"))).send(concat(bytes(0x01), msg));
      p.expectEof();
    })) {
      NetworkClient c = await(NetworkClient.connect(vertx, fake.path(), "eager",
          new ClientOptions(), n -> {
            n.frameHandler(in::add);
            // not registered yet: operations fail at once
            codesInInit.add(((ElbusException) n.send("x", Buffer.buffer("x"), QoS.NO).cause())
                .code());
          }));
      Frame f = in.poll(ClientTestSupport.TIMEOUT_S, TimeUnit.SECONDS);
      assertThat(f).as("the message sent with the registration's OK").isNotNull();
      assertThat(f.sender()).isEqualTo("early");
      assertThat(f.payload().toString()).isEqualTo("at once");
      assertThat(codesInInit).containsExactly(0x73);
      await(c.close());
      fake.awaitScript();
    }
  }

  /**
   * After a reconnect, a broker that registers the client but never acknowledges the restored
   * subscriptions does not keep it "reconnecting" forever (pings would keep that link alive):
   * the attempt fails after the timeout and the next one restores them.
   */
  @ParameterizedTest
  @EnumSource(Transport.class)
  void aRestoreNeverAcknowledgedFailsThatAttemptAfterTheTimeout(Transport t) throws Exception {
    byte[] subscribe = clientFrame(1, 0x02 | 1 << 6, utf8("a/#"));
    byte[] ok1 = concat(bytes(0xFE), le32(1), bytes(0x01));
    AtomicReference<FakeBroker> broker = new AtomicReference<>();
    CompletableFuture<Void> secondClosed = new CompletableFuture<>();
    BlockingQueue<StateChange> changes = new LinkedBlockingQueue<>();
    try (FakeBroker fake = FakeBroker.start(t, p -> {
      handshake(p, "r");
      p.expect(subscribe).send(ok1);
      p.close(); // the client reconnects
      FakeBroker.Peer p2 = broker.get().acceptNext();
      handshake(p2, "r");
      p2.expect(subscribe); // the restore, never acknowledged
      p2.expectEof();
      secondClosed.complete(null);
      FakeBroker.Peer p3 = broker.get().acceptNext();
      handshake(p3, "r");
      p3.expect(subscribe).send(ok1);
      p3.expectEof();
    })) {
      broker.set(fake);
      ClientOptions o = new ClientOptions().setReconnect(true).setReconnectDelayMs(20)
          .setReconnectMaxDelayMs(40).setTimeoutMs(300).setPingIntervalMs(0);
      NetworkClient c = await(NetworkClient.connect(vertx, fake.path(), "r", o,
          n -> n.stateHandler(changes::add)));
      await(c.subscribe(List.of("a/#"), QoS.PROCESSED));
      secondClosed.get(ClientTestSupport.TIMEOUT_S, TimeUnit.SECONDS);
      List<StateChange> seen = new ArrayList<>();
      StateChange ch;
      do {
        ch = changes.poll(ClientTestSupport.TIMEOUT_S, TimeUnit.SECONDS);
        assertThat(ch).as("state changes so far: " + seen).isNotNull();
        seen.add(ch);
      } while (ch.state() != ClientState.RECONNECTED);
      assertThat(seen).extracting(StateChange::state).containsExactly(ClientState.CONNECTED,
          ClientState.DISCONNECTED, ClientState.RECONNECTED);
      assertThat(ch.attempts()).as("the unanswered restore was a failed attempt").isEqualTo(2);
      assertThat(ch.cause()).isNull();
      await(c.close());
      fake.awaitScript();
    }
  }

  @Test
  void anInitThatThrowsFailsTheConnectWithItsException() {
    IllegalStateException boom = new IllegalStateException("boom");
    Throwable t = catchThrowable(() -> await(NetworkClient.connect(vertx, "127.0.0.1:1", "c",
        new ClientOptions(), n -> {
          throw boom;
        })));
    assertThat(t).isSameAs(boom);
  }

  /**
   * A failed connect fails its Future only once the socket and the NetClient are closed: a CLI
   * closes Vert.x as soon as it hears, and a close still running then ended in Netty's
   * "rejectedExecution ... event loop shut down" on stderr.
   */
  @ParameterizedTest
  @EnumSource(Transport.class)
  void aFailedConnectFailsOnceItsSocketIsClosed(Transport t) throws Exception {
    try (FakeBroker fake = FakeBroker.start(t, p -> {
      p.send(GREETING).expect(GREETING).close(); // closed during the handshake
    })) {
      assertClosedBeforeFailing(fake.path(), new ClientOptions(), 0x73);
      fake.awaitScript();
    }
    try (FakeBroker fake = FakeBroker.start(t, FakeBroker.Peer::expectEof)) {
      assertClosedBeforeFailing(fake.path(), new ClientOptions().setTimeoutMs(200), 0x78);
      fake.awaitScript();
    }
    int port;
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress("127.0.0.1", 0));
      port = s.getLocalPort();
    }
    assertClosedBeforeFailing("127.0.0.1:" + port, new ClientOptions(), 0x73);
  }

  private static void assertClosedBeforeFailing(String path, ClientOptions o, int code)
      throws Exception {
    AtomicReference<NetworkClient> client = new AtomicReference<>();
    CompletableFuture<Boolean> closedWhenFailed = new CompletableFuture<>();
    Future<NetworkClient> f = NetworkClient.connect(vertx, path, "c", o, client::set);
    f.onComplete(ar -> closedWhenFailed.complete(client.get().closeFuture().isComplete()));
    assertThat(failureCode(f)).isEqualTo(code);
    assertThat(closedWhenFailed.get(ClientTestSupport.TIMEOUT_S, TimeUnit.SECONDS))
        .as("closeFuture complete when the connect fails").isTrue();
  }

  @Test
  void malformedPathFailsTheFuture() {
    Throwable t = NetworkClient.connect(vertx, "no-port-here", "c").cause();
    assertThat(t).isInstanceOf(IllegalArgumentException.class);
    assertThat(NetworkClient.connect(vertx, "fifo:/tmp/x", "c").cause())
        .isInstanceOf(IllegalArgumentException.class);
  }
}
