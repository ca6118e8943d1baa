package dev.elbus;

import dev.elbus.impl.config.ConfigFiles;
import dev.elbus.impl.net.FifoChannel;
import dev.elbus.rpc.MsgPack;
import dev.elbus.support.LeakGate;
import dev.elbus.support.RawClient;
import io.vertx.config.ConfigRetriever;
import io.vertx.config.ConfigRetrieverOptions;
import io.vertx.config.ConfigStoreOptions;
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

import java.io.IOException;
import java.net.ConnectException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static dev.elbus.support.RawClient.concat;
import static dev.elbus.support.RawClient.utf8;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link ElbusVerticle} deployed the Vert.x ways: from a JSON configuration in the schema of
 * {@code conf/elbus.yaml}, by name, with vertx-config's {@link ConfigRetriever} feeding it; what
 * it serves, what undeploying it leaves behind (nothing), and how a bad configuration fails it.
 */
@ExtendWith(LeakGate.class)
class ElbusVerticleIT {
  private Vertx vertx;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true).setEventLoopPoolSize(4));
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  private static JsonObject config(Path sock, JsonObject... more) {
    JsonArray listeners = new JsonArray()
        .add(new JsonObject().put("bind", sock.toString()))
        .add(new JsonObject().put("bind", "127.0.0.1:0"));
    for (JsonObject l : more) {
      listeners.add(l);
    }
    return new JsonObject().put("workers", 2).put("timeout", 60).put("listeners", listeners);
  }

  private static int tcpPort(Broker b) {
    return b.listeners().stream().filter(l -> l.actualPort() > 0).findFirst().orElseThrow()
        .actualPort();
  }

  @Test
  void aJsonConfigurationServesTcpAndUnixClients(@TempDir Path dir) throws Exception {
    Path sock = dir.resolve("elbus.sock");
    ElbusVerticle v = new ElbusVerticle();
    String id = vertx.deployVerticle(v, new DeploymentOptions().setConfig(config(sock)))
        .await(20, TimeUnit.SECONDS);
    Broker broker = v.broker();
    assertThat(ElbusVerticle.broker(vertx, id)).isSameAs(broker);
    assertThat(broker.listeners()).extracting(ListenerInfo::label)
        .containsExactly(sock.toString(), "127.0.0.1:" + tcpPort(broker));
    assertThat(broker.options().getWorkers()).isEqualTo(2);
    assertThat(broker.listeners().get(0).options().getTimeoutMs()).isEqualTo(60_000);

    try (RawClient unix = RawClient.unix(sock);
         RawClient tcp = RawClient.tcp("127.0.0.1", tcpPort(broker))) {
      assertThat(unix.handshake("u1")).isEqualTo(0x01);
      assertThat(tcp.handshake("t1")).isEqualTo(0x01);
      tcp.frame(1, 0x12, 1, "u1", utf8("over tcp")).expectAck(1, 0x01);
      unix.expect(message("t1", utf8("over tcp")));
      unix.frame(2, 0x12, 1, "t1", utf8("over unix")).expectAck(2, 0x01);
      tcp.expect(message("u1", utf8("over unix")));
      // the handle reaches the same broker: an in-process client between them
      InternalClient app = broker.registerClient("app");
      app.send("t1", Buffer.buffer("in-process"), dev.elbus.protocol.QoS.PROCESSED)
          .await(5, TimeUnit.SECONDS);
      tcp.expect(message("app", utf8("in-process")));
      assertThat(broker.clients()).extracting(ClientInfo::name)
          .contains("app", "t1", "u1");
    }
  }

  @Test
  void undeployingAnnouncesTheShutdownAndLeavesNothingBehind(@TempDir Path dir) throws Exception {
    undeployLeavesNothingBehind(dir);
  }

  /** The JDK transport leaves a closed socket's file behind: the broker removes it. */
  @Test
  void undeployingRemovesTheSocketFileOnTheJdkTransportToo(@TempDir Path dir) throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
    vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(false));
    assertThat(vertx.isNativeTransportEnabled()).isFalse();
    undeployLeavesNothingBehind(dir);
  }

  private void undeployLeavesNothingBehind(Path dir) throws Exception {
    Path sock = dir.resolve("elbus.sock");
    Path fifo = dir.resolve("elbus.fifo");
    JsonObject cfg = config(sock, new JsonObject().put("bind", "fifo:" + fifo));
    String id = vertx.deployVerticle("dev.elbus.ElbusVerticle",
        new DeploymentOptions().setConfig(cfg)).await(20, TimeUnit.SECONDS);
    Broker broker = ElbusVerticle.broker(vertx, id);
    int port = tcpPort(broker);
    assertThat(FifoChannel.isFifo(fifo)).isTrue();
    assertThat(vertx.deploymentIDs()).hasSize(2); // the verticle and its listener verticles
    try (RawClient unix = RawClient.unix(sock); RawClient tcp = RawClient.tcp("127.0.0.1", port)) {
      assertThat(unix.handshake("u1")).isEqualTo(0x01);
      assertThat(tcp.handshake("t1")).isEqualTo(0x01);

      vertx.undeploy(id).await(20, TimeUnit.SECONDS);

      // every client got the announcement before its connection closed
      for (RawClient c : List.of(unix, tcp)) {
        assertThat(shutdownAnnouncement(c.nextFrame())).isEqualTo("shutdown");
        c.expectClosed(5_000);
      }
    }
    assertThat(vertx.deploymentIDs()).isEmpty();
    assertThat(ElbusVerticle.broker(vertx, id)).isNull();
    assertThat(broker.isClosed()).isTrue();
    assertThat(Internals.router(broker).registry().all()).extracting(s -> s.name())
        .containsExactly(".broker");
    assertThat(sock).doesNotExist();
    assertThat(fifo).doesNotExist();
    assertNoBrokerOn(port);
  }

  /**
   * Nothing on {@code port} greets like an elbus broker. The port itself may be taken again at
   * once by whatever else runs on this machine (it was ephemeral): a refused connection passes,
   * and so does a connection that does not greet within a second.
   */
  private static void assertNoBrokerOn(int port) throws IOException {
    RawClient c;
    try {
      c = RawClient.tcp("127.0.0.1", port);
    } catch (ConnectException e) {
      return;
    }
    try (c) {
      byte[] first = c.read(1, 1_000);
      assertThat(first[0]).as("an elbus greeting on a closed listener's port")
          .isNotEqualTo((byte) 0xEB);
    } catch (IOException e) {
      // closed or silent: not a broker
    }
  }

  @Test
  void aBadConfigurationFailsTheDeploymentWithTheServersOneLineMessage(@TempDir Path dir) {
    Path sock = dir.resolve("elbus.sock");
    assertDeployFails(new JsonObject().put("listeners", new JsonArray()
            .add(new JsonObject().put("bind", sock.toString()).put("queue_size", "many"))),
        "ElbusVerticle config: listeners[0]: queue_size must be an integer, got 'many'");
    assertDeployFails(new JsonObject().put("listners", new JsonArray()),
        "ElbusVerticle config: unknown key 'listners'");
    assertDeployFails(new JsonObject().put("listeners", new JsonArray()
            .add(new JsonObject().put("bind", "127.0.0.1:99999"))),
        "ElbusVerticle config: listeners[0]: ");
    // a valid configuration that cannot start: an AAA file that is not there
    assertDeployFails(config(sock).put("aaa", dir.resolve("missing.yaml").toString()),
        dir.resolve("missing.yaml") + ": cannot read: no such file");
    assertThat(sock).doesNotExist();
    assertThat(vertx.deploymentIDs()).isEmpty();
  }

  @Test
  void aListenerThatCannotBindFailsTheDeploymentAndNothingStays(@TempDir Path dir)
      throws Exception {
    Path sock = dir.resolve("elbus.sock");
    try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1,
        java.net.InetAddress.getByName("127.0.0.1"))) {
      JsonObject cfg = new JsonObject().put("listeners", new JsonArray()
          .add(new JsonObject().put("bind", sock.toString()))
          .add(new JsonObject().put("bind", "127.0.0.1:" + taken.getLocalPort())));
      Throwable e = deployFailure(cfg);
      assertThat(e.getMessage()).containsIgnoringCase("address already in use");
    }
    assertThat(sock).doesNotExist();
    assertThat(vertx.deploymentIDs()).isEmpty();
  }

  @Test
  void oneInstanceOnly(@TempDir Path dir) {
    Throwable e = vertx.deployVerticle("dev.elbus.ElbusVerticle", new DeploymentOptions()
        .setConfig(config(dir.resolve("elbus.sock"))).setInstances(2))
        .transform(ar -> io.vertx.core.Future.succeededFuture(ar.cause()))
        .await();
    assertThat(e).hasMessageContaining("deploy one instance of ElbusVerticle");
    assertThat(vertx.deploymentIDs()).isEmpty();
  }

  @Test
  void configRetrieverFeedsTheShippedConfigurationWithItsListenersReplaced(@TempDir Path dir)
      throws Exception {
    // conf/elbus.yaml as shipped, its listeners replaced by a second store: vertx-config merges
    // the stores in order, as an application layers its own settings over the file
    Path sock = dir.resolve("elbus.sock");
    ConfigRetriever retriever = ConfigRetriever.create(vertx, new ConfigRetrieverOptions()
        .setIncludeDefaultStores(false)
        .addStore(ConfigFiles.store("conf/elbus.yaml"))
        .addStore(new ConfigStoreOptions().setType("json").setConfig(new JsonObject()
            .put("listeners", config(sock).getJsonArray("listeners")))));
    try {
      JsonObject cfg = retriever.getConfig().await(10, TimeUnit.SECONDS);
      assertThat(cfg.getInteger("queue_size")).isEqualTo(8192);
      String id = vertx.deployVerticle("dev.elbus.ElbusVerticle",
          new DeploymentOptions().setConfig(cfg)).await(20, TimeUnit.SECONDS);
      Broker broker = ElbusVerticle.broker(vertx, id);
      try (RawClient c = RawClient.tcp("127.0.0.1", tcpPort(broker))) {
        assertThat(c.handshake("cli")).isEqualTo(0x01);
        // .broker answers test (core_rpc is on in the shipped file): an RPC reply to call 7
        c.frame(3, 0x12, 0, ".broker", concat(new byte[] {0x01, 7, 0, 0, 0}, utf8("test"),
            new byte[] {0}));
        byte[] reply = c.nextFrame();
        byte[] prefix = concat(new byte[] {0x12}, RawClient.le32(reply.length - 6),
            new byte[] {0}, utf8(".broker"), new byte[] {0, 0x11, 7, 0, 0, 0});
        assertThat(reply).startsWith(prefix);
        assertThat(MsgPack.decodeMap(Arrays.copyOfRange(reply, prefix.length, reply.length)))
            .containsEntry("ok", true);
      }
      vertx.undeploy(id).await(20, TimeUnit.SECONDS);
      assertThat(sock).doesNotExist();
    } finally {
      retriever.close();
    }
  }

  private void assertDeployFails(JsonObject config, String messageStart) {
    assertThat(deployFailure(config).getMessage()).startsWith(messageStart)
        .doesNotContain("\n");
  }

  private Throwable deployFailure(JsonObject config) {
    return vertx.deployVerticle(new ElbusVerticle(), new DeploymentOptions().setConfig(config))
        .transform(ar -> io.vertx.core.Future.succeededFuture(ar.cause()))
        .await();
  }

  /** A broker frame: a direct message from {@code sender}. */
  private static byte[] message(String sender, byte[] payload) {
    byte[] body = concat(utf8(sender), new byte[] {0}, payload);
    return concat(new byte[] {0x12}, RawClient.le32(body.length), new byte[] {0}, body);
  }

  /** The {@code s} of a {@code .broker/warn} publication. */
  private static Object shutdownAnnouncement(byte[] frame) throws IOException {
    assertThat(frame[0]).as("a publication").isEqualTo((byte) 0x01);
    byte[] body = Arrays.copyOfRange(frame, 6, frame.length);
    byte[] prefix = concat(utf8(".broker"), new byte[] {0}, utf8(".broker/warn"), new byte[] {0});
    assertThat(body).startsWith(prefix);
    Map<String, Object> m = MsgPack.decodeMap(Arrays.copyOfRange(body, prefix.length,
        body.length));
    return m.get("s");
  }
}
