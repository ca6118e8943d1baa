package dev.elbus.examples;

import dev.elbus.Broker;
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

/** Runs the README's verticle example and publishes to its in-process client over a socket. */
@ExtendWith(LeakGate.class)
class VerticleExampleIT {

  @Test
  void theVerticleServesSocketClientsAndTheHandlesClient(@TempDir Path dir) throws Exception {
    Vertx vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true));
    try {
      Path sock = dir.resolve("app.sock");
      Broker broker = VerticleExample.deploy(vertx, sock.toString(), "127.0.0.1:0")
          .await(20, TimeUnit.SECONDS);
      assertThat(broker.listeners()).hasSize(2);
      // the TCP listener runs conf/aaa.yaml's policy, the Unix socket none
      assertThat(broker.listeners().get(0).aaa()).isNull();
      assertThat(broker.listeners().get(1).aaa()).isNotNull();
      try (RawClient c = RawClient.unix(sock)) {
        assertThat(c.handshake("sensor1")).isEqualTo(0x01);
        c.frame(1, 0x01, 1, "sensors/t1", RawClient.utf8("21.5")).expectAck(1, 0x01);
      }
      assertThat(broker.clients()).filteredOn(ci -> ci.name().equals("app"))
          .singleElement().satisfies(ci -> assertThat(ci.wFrames()).isEqualTo(1));
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }
}
