package dev.elbus.examples;

import dev.elbus.Broker;
import dev.elbus.ElbusVerticle;
import dev.elbus.InternalClient;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/** The README's verticle example ("Embedding"), compiled and run by VerticleExampleIT. */
public final class VerticleExample {
  private VerticleExample() {}

  /** Deploys the broker on {@code socket} and {@code tcp}; returns its handle. */
  public static Future<Broker> deploy(Vertx vertx, String socket, String tcp) {
    JsonObject config = new JsonObject()             // the schema of conf/elbus.yaml
        .put("workers", 2)
        .put("listeners", new JsonArray()
            .add(new JsonObject().put("bind", socket))
            .add(new JsonObject().put("bind", tcp).put("aaa", "conf/aaa.yaml")));
    ElbusVerticle elbus = new ElbusVerticle();
    return vertx.deployVerticle(elbus, new DeploymentOptions().setConfig(config))
        .map(deploymentId -> {
          Broker broker = elbus.broker();            // or ElbusVerticle.broker(vertx, deploymentId)
          InternalClient app = broker.registerClient("app");
          app.subscribe("sensors/#");
          return broker;
        });
  }
}
