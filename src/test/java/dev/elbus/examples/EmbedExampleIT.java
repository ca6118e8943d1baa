package dev.elbus.examples;

import dev.elbus.InternalClient;
import dev.elbus.support.LeakGate;
import dev.elbus.support.RawClient;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Runs the README's embedding example and talks to it over its Unix socket. */
@ExtendWith(LeakGate.class)
class EmbedExampleIT {

  @Test
  void embeddedBrokerServesSocketClientsAndTheInProcessClient(@TempDir Path dir) throws Exception {
    Vertx vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true));
    try {
      Path sock = dir.resolve("app.sock");
      InternalClient app = EmbedExample.start(vertx, sock.toString(), "127.0.0.1:0")
          .await(20, TimeUnit.SECONDS);
      assertThat(app.isConnected()).isTrue();
      try (RawClient c = RawClient.unix(sock)) {
        assertThat(c.handshake("sensor1")).isEqualTo(0x01);
        // message to the in-process client, QoS 1: acked with 01
        c.frame(5, 0x12, 1, "app", RawClient.utf8("hi"));
        c.expectAck(5, 0x01);
      }
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }
}
