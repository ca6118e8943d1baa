package dev.elbus.client;

import dev.elbus.support.LeakGate;
import dev.elbus.support.TestBroker;
import dev.elbus.support.Transport;
import io.vertx.core.Vertx;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.ref.WeakReference;
import java.lang.reflect.Field;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A closed {@link NetworkClient} leaves nothing behind in the Vert.x instance: its NetClient can
 * be collected. Vert.x 5.0.x keeps every NetClient made by {@code vertx.createNetClient}
 * reachable after {@code close()} (eclipse-vertx/vert.x#6311), which leaked about 1.3 KB per
 * connection of an application that reconnects (found by the soak, RELIABILITY.md item 14).
 */
@ExtendWith(LeakGate.class)
class NetworkClientReleaseIT {
  @ParameterizedTest
  @EnumSource(Transport.class)
  void closedClientsNetClientIsCollectable(Transport t) throws Exception {
    try (TestBroker b = TestBroker.start()) {
      Vertx vertx = Vertx.vertx();
      try {
        String path = t == Transport.TCP ? "127.0.0.1:" + b.port() : b.socket().toString();
        WeakReference<Object> netClient = connectAndClose(vertx, path);
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (netClient.get() != null && System.nanoTime() < deadline) {
          System.gc();
          Thread.sleep(50);
        }
        assertThat(netClient.get()).as("the NetClient of a closed client is still reachable")
            .isNull();
      } finally {
        vertx.close().await(10, TimeUnit.SECONDS);
      }
    }
  }

  /** Connects, closes, and returns a weak reference to the client's NetClient. */
  private static WeakReference<Object> connectAndClose(Vertx vertx, String path)
      throws Exception {
    NetworkClient c = NetworkClient.connect(vertx, path, "release-probe")
        .await(10, TimeUnit.SECONDS);
    Field f = NetworkClient.class.getDeclaredField("netClient");
    f.setAccessible(true);
    Object nc = f.get(c);
    // Vert.x wraps the client it registers (CleanableNetClient): follow unwrap() to the client
    // itself, the object its close future would keep
    while (true) {
      java.lang.reflect.Method unwrap;
      try {
        unwrap = nc.getClass().getMethod("unwrap");
      } catch (NoSuchMethodException e) {
        break;
      }
      Object inner = unwrap.invoke(nc);
      if (inner == null || inner == nc) {
        break;
      }
      nc = inner;
    }
    WeakReference<Object> ref = new WeakReference<>(nc);
    nc = null;
    assertThat(ref.get()).isNotNull();
    c.close().await(10, TimeUnit.SECONDS);
    c.closeFuture().await(10, TimeUnit.SECONDS);
    return ref;
  }
}
