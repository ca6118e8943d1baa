package dev.elbus.examples;

import dev.elbus.Broker;
import dev.elbus.InternalClient;
import dev.elbus.config.ListenerOptions;
import dev.elbus.protocol.QoS;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;

import java.util.List;

/** The README's embedding example, compiled and run by EmbedExampleIT. */
public final class EmbedExample {
  private EmbedExample() {}

  /** Starts a broker on {@code socketPath} and {@code tcp}; returns the in-process client. */
  public static Future<InternalClient> start(Vertx vertx, String socketPath, String tcp) {
    Broker broker = Broker.create(vertx);
    return broker.deploy(List.of(ListenerOptions.of(socketPath), ListenerOptions.of(tcp)))
        .map(deploymentId -> {
          InternalClient app = broker.registerClient("app");
          app.frameHandler(frame -> System.out.println("app got " + frame));
          app.subscribe("sensors/#");
          app.publish("app/status", Buffer.buffer("up"), QoS.PROCESSED);
          return app;
        });
  }

  public static void main(String[] args) {
    Vertx vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true));
    start(vertx, "/tmp/app-elbus.sock", "127.0.0.1:7777")
        .onFailure(e -> {
          System.err.println(e.getMessage());
          vertx.close();
        });
  }
}
