package app;

import dev.elbus.Broker;
import dev.elbus.ElbusVerticle;
import dev.elbus.InternalClient;
import dev.elbus.ListenerInfo;
import dev.elbus.client.Frame;
import dev.elbus.client.NetworkClient;
import dev.elbus.protocol.QoS;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** An application's view of the elbus dependency: what it brings, and the verticle at work. */
class EmbeddingTest {

  @Test
  void deploysTheVerticleFromJsonAndServesAClient(@TempDir Path dir) throws Exception {
    Path sock = dir.resolve("app-elbus.sock");
    JsonObject config = new JsonObject()
        .put("workers", 1)
        .put("listeners", new JsonArray()
            .add(new JsonObject().put("bind", sock.toString()))
            .add(new JsonObject().put("bind", "127.0.0.1:0")));
    Vertx vertx = Vertx.vertx();
    try {
      String id = vertx.deployVerticle("dev.elbus.ElbusVerticle",
          new DeploymentOptions().setConfig(config)).await(20, TimeUnit.SECONDS);
      Broker broker = ElbusVerticle.broker(vertx, id);
      assertNotNull(broker);
      assertTrue(Files.exists(sock));
      int port = broker.listeners().stream().mapToInt(ListenerInfo::actualPort)
          .filter(p -> p > 0).findFirst().orElseThrow();

      InternalClient app = broker.registerClient("app");
      Promise<Frame> got = Promise.promise();
      app.frameHandler(got::tryComplete);
      NetworkClient c = NetworkClient.connect(vertx, "127.0.0.1:" + port, "sensor1")
          .await(10, TimeUnit.SECONDS);
      c.send("app", Buffer.buffer("21.5"), QoS.PROCESSED).await(10, TimeUnit.SECONDS);
      Frame f = got.future().await(10, TimeUnit.SECONDS);
      assertEquals("sensor1", f.sender());
      assertEquals("21.5", f.payload().toString());

      vertx.undeploy(id).await(20, TimeUnit.SECONDS);
      assertTrue(broker.isClosed());
      assertFalse(Files.exists(sock));
      assertTrue(vertx.deploymentIDs().isEmpty());
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void httpWithoutTheMonitoringLibrariesFailsTheDeploymentWithOneLine(@TempDir Path dir)
      throws Exception {
    JsonObject config = new JsonObject()
        .put("http", "127.0.0.1:0")
        .put("listeners", new JsonArray().add(new JsonObject().put("bind",
            dir.resolve("m.sock").toString())));
    Vertx vertx = Vertx.vertx();
    try {
      Exception e = assertThrows(Exception.class, () -> vertx.deployVerticle(
          "dev.elbus.ElbusVerticle", new DeploymentOptions().setConfig(config))
          .await(20, TimeUnit.SECONDS));
      assertEquals("ElbusVerticle config: http: the monitoring endpoint needs "
          + "io.vertx:vertx-micrometer-metrics, io.micrometer:micrometer-registry-prometheus, "
          + "io.vertx:vertx-health-check on the class path (README, \"Monitoring\")",
          e.getMessage());
      assertTrue(vertx.deploymentIDs().isEmpty());
      assertFalse(Files.exists(dir.resolve("m.sock")));
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void theDependencyBringsNoLoggingBackend() throws Exception {
    String tree = Files.readString(Path.of(System.getProperty("dependency.tree")));
    for (String wanted : new String[] {"io.vertx:vertx-core:jar", "org.msgpack:msgpack-core:jar",
        "org.slf4j:slf4j-api:jar"}) {
      assertTrue(tree.contains(wanted), wanted + " in\n" + tree);
    }
    assertFalse(tree.contains("logback"), "no logback in\n" + tree);
    assertFalse(tree.contains("netty-transport-native-epoll"), "the native transport is optional:\n"
        + tree);
    for (String optional : new String[] {"micrometer", "vertx-micrometer-metrics",
        "vertx-health-check", "prometheus"}) {
      assertFalse(tree.contains(optional), "the monitoring libraries are optional: " + optional
          + " in\n" + tree);
    }
    assertThrows(ClassNotFoundException.class,
        () -> Class.forName("ch.qos.logback.classic.Logger"));
  }
}
