package dev.elbus.client;

import static dev.elbus.client.ClientTestSupport.TIMEOUT_S;
import static dev.elbus.client.ClientTestSupport.await;
import static dev.elbus.client.ClientTestSupport.failureCode;
import static org.assertj.core.api.Assertions.assertThat;

import dev.elbus.Broker;
import dev.elbus.ElbusVerticle;
import dev.elbus.InternalClient;
import dev.elbus.client.ClientTestSupport.Inbox;
import dev.elbus.config.ListenerOptions;
import dev.elbus.config.TlsOptions;
import dev.elbus.protocol.QoS;
import dev.elbus.support.LeakGate;
import dev.elbus.support.TestCerts;
import dev.elbus.support.TestCerts.Issued;
import dev.elbus.support.Transport;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
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
import java.util.function.BooleanSupplier;

/**
 * {@link NetworkClient} with {@link ClientOptions#setReconnect}, against a real broker that is
 * stopped and started again on the same TCP port and Unix socket path ({@link ElbusVerticle}
 * undeployed and deployed again): the state changes, operations failing fast while disconnected,
 * the name registered again (retried while still held, {@code 76}), subscriptions and exclusions
 * restored, secondaries, giving up, and closing while reconnecting.
 */
@ExtendWith(LeakGate.class)
class NetworkClientReconnectIT {
  private Vertx brokerVertx;
  private Vertx vertx;
  private Path dir;
  private int port;
  /** The running broker's deployment (ElbusVerticle) or handle (Broker.create), one at a time. */
  private String deploymentId;
  private Broker broker;
  private final List<NetworkClient> clients = new ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    dir = Files.createTempDirectory("elbus-reconnect");
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress("127.0.0.1", 0));
      port = s.getLocalPort();
    }
    brokerVertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true)
        .setEventLoopPoolSize(2));
    vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true)
        .setEventLoopPoolSize(2));
    startBroker();
  }

  @AfterEach
  void tearDown() throws Exception {
    try {
      for (NetworkClient c : clients) {
        await(c.close());
      }
      stopBroker();
    } finally {
      try {
        vertx.close().await(TIMEOUT_S, TimeUnit.SECONDS);
      } finally {
        brokerVertx.close().await(TIMEOUT_S, TimeUnit.SECONDS);
        Files.deleteIfExists(socket());
        Files.deleteIfExists(dir);
      }
    }
  }

  private Path socket() {
    return dir.resolve("elbus.sock");
  }

  private String path(Transport t) {
    return t == Transport.TCP ? "127.0.0.1:" + port : socket().toString();
  }

  /** Deploys the broker (ElbusVerticle) on the test's port and socket path. */
  private void startBroker() throws Exception {
    JsonObject config = new JsonObject().put("workers", 1).put("listeners", new JsonArray()
        .add(new JsonObject().put("bind", "127.0.0.1:" + port))
        .add(new JsonObject().put("bind", socket().toString())));
    ElbusVerticle v = new ElbusVerticle();
    deploymentId = brokerVertx.deployVerticle(v, new DeploymentOptions().setConfig(config))
        .await(TIMEOUT_S, TimeUnit.SECONDS);
    broker = v.broker();
  }

  /**
   * Starts the broker with {@code name} already held by an in-process client, registered before
   * the listeners accept anyone (so a client coming back finds it taken).
   */
  private InternalClient startBrokerHolding(String name) throws Exception {
    broker = Broker.create(brokerVertx);
    InternalClient holder = broker.registerClient(name);
    broker.deploy(List.of(ListenerOptions.of("127.0.0.1:" + port),
        ListenerOptions.of(socket().toString())), 1).await(TIMEOUT_S, TimeUnit.SECONDS);
    return holder;
  }

  private void stopBroker() throws Exception {
    if (deploymentId != null) {
      brokerVertx.undeploy(deploymentId).await(TIMEOUT_S, TimeUnit.SECONDS);
      deploymentId = null;
    } else if (broker != null) {
      broker.close().await(TIMEOUT_S, TimeUnit.SECONDS);
    }
    broker = null;
  }

  private static ClientOptions reconnecting() {
    return new ClientOptions().setReconnect(true).setReconnectDelayMs(20)
        .setReconnectMaxDelayMs(200);
  }

  private NetworkClient connect(Transport t, String name, ClientOptions o) throws Exception {
    NetworkClient c = await(NetworkClient.connect(vertx, path(t), name, o));
    clients.add(c);
    return c;
  }

  /** The state changes of {@code c}, starting with the current state. */
  private static BlockingQueue<StateChange> changes(NetworkClient c) {
    BlockingQueue<StateChange> q = new LinkedBlockingQueue<>();
    c.stateHandler(q::add);
    return q;
  }

  private static StateChange next(BlockingQueue<StateChange> q, ClientState expected)
      throws InterruptedException {
    StateChange s = q.poll(TIMEOUT_S, TimeUnit.SECONDS);
    assertThat(s).as("a state change to %s within %d s", expected, TIMEOUT_S).isNotNull();
    assertThat(s.state()).as("%s", s).isEqualTo(expected);
    return s;
  }

  private static void eventually(String what, BooleanSupplier cond) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
    while (!cond.getAsBoolean()) {
      assertThat(System.nanoTime()).as("waiting for %s", what).isLessThan(deadline);
      Thread.sleep(10);
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void reconnectsRegistersAgainAndRestoresSubscriptionsAndExclusions(Transport t)
      throws Exception {
    NetworkClient a = connect(t, "rc-a", reconnecting());
    BlockingQueue<StateChange> states = changes(a);
    assertThat(next(states, ClientState.CONNECTED).cause()).isNull();
    await(a.subscribe(List.of("t/#", "u/1"), QoS.PROCESSED));
    await(a.exclude(List.of("t/x"), QoS.PROCESSED));
    await(a.unsubscribe(List.of("u/1"), QoS.PROCESSED));

    stopBroker();
    StateChange lost = next(states, ClientState.DISCONNECTED);
    assertThat(lost.cause().code()).isEqualTo(0x73);
    assertThat(a.isConnected()).isFalse();
    // while disconnected every operation fails at once, nothing is buffered
    assertThat(failureCode(a.send("x", Buffer.buffer("q0"), QoS.NO))).isEqualTo(0x73);
    assertThat(failureCode(a.publish("t/a", Buffer.buffer("q1"), QoS.PROCESSED)))
        .isEqualTo(0x73);
    assertThat(failureCode(a.subscribe(List.of("v/#"), QoS.PROCESSED))).isEqualTo(0x73);
    assertThat(failureCode(a.flush())).isEqualTo(0x73);

    startBroker();
    StateChange back = next(states, ClientState.RECONNECTED);
    assertThat(back.cause()).isNull();
    assertThat(back.attempts()).isPositive();
    assertThat(a.isConnected()).isTrue();
    assertThat(broker.clients()).extracting(dev.elbus.ClientInfo::name).contains("rc-a");
    Inbox in = Inbox.of(a); // from here: the stopping broker announced its shutdown before

    NetworkClient b = connect(t, "rc-b", new ClientOptions());
    Inbox bIn = Inbox.of(b);
    // one publisher's frames keep their order: excluded or unsubscribed ones would come first
    await(b.publish("t/x", Buffer.buffer("excluded"), QoS.PROCESSED));
    await(b.publish("u/1", Buffer.buffer("unsubscribed"), QoS.PROCESSED));
    await(b.publish("v/1", Buffer.buffer("never subscribed"), QoS.PROCESSED));
    await(b.publish("t/a", Buffer.buffer("restored"), QoS.PROCESSED));
    Frame f = in.next();
    assertThat(f.topic()).isEqualTo("t/a");
    assertThat(f.payload().toString()).isEqualTo("restored");
    // and the client works both ways again
    await(a.send("rc-b", Buffer.buffer("hello again"), QoS.PROCESSED));
    assertThat(bIn.next().payload().toString()).isEqualTo("hello again");
    assertThat(states).isEmpty();
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void aNameStillHeldIsRetriedWithBackoffUntilFree(Transport t) throws Exception {
    NetworkClient a = connect(t, "held", reconnecting().setReconnectMaxDelayMs(50));
    BlockingQueue<StateChange> states = changes(a);
    next(states, ClientState.CONNECTED);

    stopBroker();
    next(states, ClientState.DISCONNECTED);
    InternalClient holder = startBrokerHolding("held");
    Broker b = broker;
    eventually("two registrations refused with 76",
        () -> b.stats().disconnects("registration_refused") >= 2);
    assertThat(a.isConnected()).isFalse();
    assertThat(states).isEmpty();
    assertThat(failureCode(a.send("x", Buffer.buffer("x"), QoS.PROCESSED))).isEqualTo(0x73);

    await(holder.close());
    StateChange back = next(states, ClientState.RECONNECTED);
    assertThat(back.attempts()).isGreaterThanOrEqualTo(3);
    assertThat(b.clients()).extracting(dev.elbus.ClientInfo::name).contains("held");
    assertThat(b.internalClient("held")).isNull();
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void secondariesReconnectOnTheirOwnAndCloseWithTheirPrimary(Transport t) throws Exception {
    NetworkClient a = connect(t, "prim", reconnecting());
    NetworkClient s = await(a.registerSecondary());
    assertThat(s.name()).isEqualTo("prim%%1");
    BlockingQueue<StateChange> aStates = changes(a);
    BlockingQueue<StateChange> sStates = changes(s);
    next(aStates, ClientState.CONNECTED);
    next(sStates, ClientState.CONNECTED);

    stopBroker();
    next(aStates, ClientState.DISCONNECTED);
    next(sStates, ClientState.DISCONNECTED);
    startBroker();
    // the secondary may come back first, be refused with 71 and retry
    next(aStates, ClientState.RECONNECTED);
    next(sStates, ClientState.RECONNECTED);
    Inbox sIn = Inbox.of(s);

    NetworkClient peer = connect(t, "peer", new ClientOptions());
    await(peer.send("prim%%1", Buffer.buffer("to the secondary"), QoS.PROCESSED));
    assertThat(sIn.next().payload().toString()).isEqualTo("to the secondary");

    await(a.close());
    assertThat(next(sStates, ClientState.CLOSED).cause()).isNull();
    await(s.closeFuture());
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void givesUpAfterTheLastAttempt(Transport t) throws Exception {
    NetworkClient a = connect(t, "giving-up", reconnecting().setReconnectAttempts(3)
        .setReconnectDelayMs(10).setReconnectMaxDelayMs(20));
    BlockingQueue<StateChange> states = changes(a);
    next(states, ClientState.CONNECTED);
    CompletableFuture<Void> closed = new CompletableFuture<>();
    a.closeHandler(v -> closed.complete(null));

    stopBroker();
    next(states, ClientState.DISCONNECTED);
    assertThat(closed).isNotDone();
    StateChange end = next(states, ClientState.CLOSED);
    assertThat(end.cause().code()).isEqualTo(0x73);
    assertThat(end.attempts()).isEqualTo(3);
    closed.get(TIMEOUT_S, TimeUnit.SECONDS);
    await(a.closeFuture());
    assertThat(failureCode(a.send("x", Buffer.buffer("x"), QoS.NO))).isEqualTo(0x73);
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void closingWhileReconnectingStopsTheAttempts(Transport t) throws Exception {
    NetworkClient a = connect(t, "closing", reconnecting());
    BlockingQueue<StateChange> states = changes(a);
    next(states, ClientState.CONNECTED);
    stopBroker();
    next(states, ClientState.DISCONNECTED);

    await(a.close());
    assertThat(next(states, ClientState.CLOSED).cause()).isNull();
    assertThat(a.closeFuture().isComplete()).isTrue();
    startBroker();
    // the name is free: the closed client does not come back for it
    connect(t, "closing", new ClientOptions());
    assertThat(states).isEmpty();
  }

  /**
   * Over mutual TLS: every attempt runs the TLS handshake again with the same trust and client
   * certificate, and the client is back with its subscription.
   */
  @Test
  void reconnectsOverMutualTls(@TempDir Path certDir) throws Exception {
    TestCerts certs = TestCerts.create(certDir);
    Issued server = certs.server("server");
    Issued client = certs.client("client", "tls-rc");
    TlsOptions tls = new TlsOptions().setCert(server.cert().toString())
        .setKey(server.key().toString()).setCa(certs.caPem().toString())
        .setClientAuth(TlsOptions.ClientAuth.REQUIRED);
    stopBroker(); // the plain one
    startTlsBroker(tls);
    ClientOptions o = reconnecting().setTlsCa(certs.caPem().toString())
        .setTlsCert(client.cert().toString(), client.key().toString());
    String addr = "tls://127.0.0.1:" + port;
    NetworkClient a = await(NetworkClient.connect(vertx, addr, "tls-rc", o));
    clients.add(a);
    BlockingQueue<StateChange> states = changes(a);
    next(states, ClientState.CONNECTED);
    await(a.subscribe(List.of("s/#"), QoS.PROCESSED));

    stopBroker();
    next(states, ClientState.DISCONNECTED);
    startTlsBroker(tls);
    assertThat(next(states, ClientState.RECONNECTED).cause()).isNull();
    Inbox in = Inbox.of(a);
    NetworkClient b = await(NetworkClient.connect(vertx, addr, "tls-pub", o));
    clients.add(b);
    await(b.publish("s/1", Buffer.buffer("over tls again"), QoS.PROCESSED));
    assertThat(in.next().payload().toString()).isEqualTo("over tls again");
  }

  private void startTlsBroker(TlsOptions tls) throws Exception {
    broker = Broker.create(brokerVertx);
    broker.deploy(List.of(ListenerOptions.of("127.0.0.1:" + port).setTls(tls)), 1)
        .await(TIMEOUT_S, TimeUnit.SECONDS);
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void withoutReconnectingALossClosesTheClient(Transport t) throws Exception {
    NetworkClient a = connect(t, "once", new ClientOptions());
    BlockingQueue<StateChange> states = changes(a);
    next(states, ClientState.CONNECTED);
    stopBroker();
    assertThat(next(states, ClientState.CLOSED).cause().code()).isEqualTo(0x73);
    await(a.closeFuture());
    assertThat(a.isConnected()).isFalse();
  }
}
