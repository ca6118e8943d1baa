package dev.elbus.examples;

import dev.elbus.Broker;
import dev.elbus.InternalClient;
import dev.elbus.config.InternalClientOptions;
import dev.elbus.config.ListenerOptions;
import dev.elbus.eventbus.BridgeOptions;
import dev.elbus.eventbus.EventBusHeaders;
import dev.elbus.eventbus.InboundRule;
import dev.elbus.rpc.MsgPack;
import dev.elbus.rpc.RpcHandler;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;

import java.util.List;
import java.util.Map;

/**
 * The README's event-bus example, compiled and run by EventBusExampleIT: a verticle that embeds
 * the broker, serves the RPC method {@code calc.add} through an internal client, and consumes
 * the bridged topic {@code sensors/+/temp} on the event bus, answering a reading above 30 with a
 * publication on {@code alerts/<sensor>} through the broker's address {@code elbus.broker}.
 */
public final class EventBusExample extends VerticleBase {
  private final String socketPath;
  private final String tcp;
  private Broker broker;

  public EventBusExample(String socketPath, String tcp) {
    this.socketPath = socketPath;
    this.tcp = tcp;
  }

  @Override
  public Future<?> start() {
    broker = Broker.create(vertx);
    return broker.deploy(List.of(ListenerOptions.of(socketPath), ListenerOptions.of(tcp)))
        .compose(deploymentId -> {
          // an RPC service: network clients call calc.add {a, b} -> {sum}
          InternalClient calc = broker.registerClient("calc",
              new InternalClientOptions().setEventBus(false));
          calc.rpc().handler("add", RpcHandler.sync(e -> {
            Map<String, Object> p = e.paramsMap();
            long sum = ((Number) p.get("a")).longValue() + ((Number) p.get("b")).longValue();
            return MsgPack.encodeBuffer(MsgPack.map("sum", sum));
          }));
          // a bridged topic, consumed on the event bus
          vertx.eventBus().<Buffer>consumer("app.temperatures", this::onTemperature);
          return broker.bridge(new BridgeOptions()
              .addInbound(InboundRule.publish("sensors/+/temp", "app.temperatures")));
        });
  }

  private void onTemperature(Message<Buffer> m) {
    String sensor = m.headers().get(EventBusHeaders.TOPIC).split("/")[1];
    double celsius = Double.parseDouble(m.body().toString());
    if (celsius > 30) {
      // publish as the internal client calc, without its handle
      vertx.eventBus().request("elbus.broker",
          Buffer.buffer(sensor + ": " + celsius + " > 30"), new DeliveryOptions()
              .addHeader(EventBusHeaders.OP, "publish")
              .addHeader(EventBusHeaders.CLIENT, "calc")
              .addHeader(EventBusHeaders.TOPIC, "alerts/" + sensor))
          .onFailure(e -> System.err.println("alert not published: " + e.getMessage()));
    }
  }

  @Override
  public Future<?> stop() {
    return broker.close();
  }

  public static void main(String[] args) {
    Vertx vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true));
    vertx.deployVerticle(new EventBusExample("/tmp/app-elbus.sock", "127.0.0.1:7777"))
        .onFailure(e -> {
          System.err.println(e.getMessage());
          vertx.close();
        });
  }
}
