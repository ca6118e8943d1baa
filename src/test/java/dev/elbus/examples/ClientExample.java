package dev.elbus.examples;

import dev.elbus.client.ClientOptions;
import dev.elbus.client.Frame;
import dev.elbus.client.NetworkClient;
import dev.elbus.protocol.QoS;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;

import java.util.List;

/** The README's Java client example, compiled and run by ClientExampleIT. */
public final class ClientExample {
  private ClientExample() {}

  /**
   * Connects to the broker at {@code path} as {@code plc1}, reconnecting when the connection is
   * lost; frames go to {@code onFrame}, state changes are printed.
   */
  public static Future<NetworkClient> start(Vertx vertx, String path, Handler<Frame> onFrame) {
    ClientOptions o = new ClientOptions()
        .setReconnect(true)                 // off by default
        .setReconnectDelayMs(100)           // the first retry 50-100 ms after the loss,
        .setReconnectMaxDelayMs(5_000)      // doubling up to 2.5-5 s
        .setReconnectAttempts(0);           // 0: retry until closed
    return NetworkClient.connect(vertx, path, "plc1", o, c -> c   // before the handshake:
            .frameHandler(onFrame)                                 // nothing is missed
            .stateHandler(s -> System.out.println("plc1: " + s)))  // CONNECTED, DISCONNECTED...
        .compose(c -> c.subscribe(List.of("sensors/#"), QoS.PROCESSED)  // restored on reconnect
            .compose(v -> c.publish("plc1/status", Buffer.buffer("up"), QoS.PROCESSED))
            .map(c));
  }

  public static void main(String[] args) {
    Vertx vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true));
    start(vertx, args.length > 0 ? args[0] : "/tmp/elbus.sock",
        f -> System.out.println("plc1 got " + f))
        .onFailure(e -> {
          System.err.println(e.getMessage());
          vertx.close();
        });
  }
}
