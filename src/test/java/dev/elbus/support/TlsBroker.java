package dev.elbus.support;

import dev.elbus.Broker;
import dev.elbus.ListenerInfo;
import dev.elbus.config.BrokerOptions;
import dev.elbus.config.ListenerOptions;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real broker with the listeners a TLS test needs (TLS and plain TCP listeners side by side,
 * each on an ephemeral port of 127.0.0.1), on its own Vert.x with the native transport. Close it
 * after the test.
 */
public final class TlsBroker implements AutoCloseable {
  private final Vertx vertx;
  private final Broker broker;

  private TlsBroker(int workers, List<ListenerOptions> listeners) throws Exception {
    this.vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true)
        .setEventLoopPoolSize(Math.max(2, workers)));
    this.broker = Broker.create(vertx, new BrokerOptions().setWorkers(workers));
    try {
      broker.deploy(listeners, workers).await(20, TimeUnit.SECONDS);
    } catch (Exception e) {
      vertx.close().await(10, TimeUnit.SECONDS);
      throw e;
    }
  }

  /** Deploys {@code listeners} with {@code workers} event loops. */
  public static TlsBroker start(int workers, ListenerOptions... listeners) throws Exception {
    return new TlsBroker(workers, List.of(listeners));
  }

  public Vertx vertx() {
    return vertx;
  }

  public Broker broker() {
    return broker;
  }

  /** The actual port of the {@code i}-th listener given to {@link #start}. */
  public int port(int i) {
    List<ListenerInfo> ls = broker.listeners();
    return ls.get(i).actualPort();
  }

  /** {@code tls://127.0.0.1:PORT} of the {@code i}-th listener. */
  public String tls(int i) {
    return "tls://127.0.0.1:" + port(i);
  }

  /** {@code 127.0.0.1:PORT} of the {@code i}-th listener. */
  public String plain(int i) {
    return "127.0.0.1:" + port(i);
  }

  /** Connections closed for {@code reason} (a {@code stats} disconnect key) so far. */
  public long closes(String reason) {
    return broker.stats().disconnects(reason);
  }

  @Override
  public void close() throws Exception {
    try {
      broker.close().await(10, TimeUnit.SECONDS);
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }
}
