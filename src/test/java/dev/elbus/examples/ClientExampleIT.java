package dev.elbus.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.elbus.client.ClientOptions;
import dev.elbus.client.Frame;
import dev.elbus.client.NetworkClient;
import dev.elbus.protocol.QoS;
import dev.elbus.support.LeakGate;
import dev.elbus.support.TestBroker;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Runs the README's Java client example against a real broker: the client's subscription gets
 * a publication, and its first publication reaches a subscriber.
 */
@ExtendWith(LeakGate.class)
class ClientExampleIT {

  @Test
  void theExampleClientSubscribesAndPublishes() throws Exception {
    Vertx vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true));
    try (TestBroker broker = TestBroker.start()) {
      String path = broker.socket().toString();
      BlockingQueue<Frame> watcherIn = new LinkedBlockingQueue<>();
      NetworkClient watcher = NetworkClient.connect(vertx, path, "watcher",
          new ClientOptions(), c -> c.frameHandler(watcherIn::add))
          .await(20, TimeUnit.SECONDS);
      watcher.subscribe(List.of("plc1/status"), QoS.PROCESSED).await(20, TimeUnit.SECONDS);

      BlockingQueue<Frame> in = new LinkedBlockingQueue<>();
      NetworkClient plc = ClientExample.start(vertx, path, in::add).await(20, TimeUnit.SECONDS);
      Frame status = watcherIn.poll(20, TimeUnit.SECONDS);
      assertThat(status).isNotNull();
      assertThat(status.payload().toString()).isEqualTo("up");

      watcher.publish("sensors/t1", Buffer.buffer("21.5"), QoS.PROCESSED)
          .await(20, TimeUnit.SECONDS);
      Frame f = in.poll(20, TimeUnit.SECONDS);
      assertThat(f).isNotNull();
      assertThat(f.topic()).isEqualTo("sensors/t1");
      assertThat(f.payload().toString()).isEqualTo("21.5");
      plc.close().await(20, TimeUnit.SECONDS);
      watcher.close().await(20, TimeUnit.SECONDS);
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }
}
