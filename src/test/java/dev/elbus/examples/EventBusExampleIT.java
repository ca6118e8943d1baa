package dev.elbus.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.elbus.client.Frame;
import dev.elbus.client.NetworkClient;
import dev.elbus.protocol.QoS;
import dev.elbus.rpc.MsgPack;
import dev.elbus.rpc.RpcClient;
import dev.elbus.support.LeakGate;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** Runs the README's event-bus example and talks to it as a network client. */
@ExtendWith(LeakGate.class)
class EventBusExampleIT {

  @Test
  void servesRpcAndAnswersBridgedReadings(@TempDir Path dir) throws Exception {
    Vertx vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true));
    try {
      Path sock = dir.resolve("app.sock");
      vertx.deployVerticle(new EventBusExample(sock.toString(), "127.0.0.1:0"))
          .await(20, TimeUnit.SECONDS);
      NetworkClient sensor = NetworkClient.connect(vertx, sock.toString(), "sensor1")
          .await(10, TimeUnit.SECONDS);
      RpcClient rpc = new RpcClient(vertx, sensor);
      LinkedBlockingQueue<Frame> alerts = new LinkedBlockingQueue<>();
      rpc.frameHandler(alerts::add);
      // the RPC method served by the internal client
      Buffer r = rpc.call("calc", "add", MsgPack.encodeBuffer(MsgPack.map("a", 2, "b", 40)))
          .await(10, TimeUnit.SECONDS);
      assertThat(MsgPack.decodeMap(r)).containsEntry("sum", 42L);
      // the bridged topic, consumed on the event bus: 21.5 is quiet, 31.5 raises an alert
      sensor.subscribe("alerts/#").await(10, TimeUnit.SECONDS);
      sensor.publish("sensors/s1/temp", Buffer.buffer("21.5"), QoS.PROCESSED)
          .await(10, TimeUnit.SECONDS);
      sensor.publish("sensors/s2/temp", Buffer.buffer("31.5"), QoS.PROCESSED)
          .await(10, TimeUnit.SECONDS);
      Frame alert = alerts.poll(10, TimeUnit.SECONDS);
      assertThat(alert).isNotNull();
      assertThat(alert.sender()).isEqualTo("calc");
      assertThat(alert.topic()).isEqualTo("alerts/s2");
      assertThat(alert.payload().toString()).isEqualTo("s2: 31.5 > 30");
      sensor.close().await(10, TimeUnit.SECONDS);
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }
}
