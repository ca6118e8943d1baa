package dev.elbus.support;

import dev.elbus.Broker;
import dev.elbus.Internals;
import dev.elbus.client.Bind;
import dev.elbus.config.BrokerOptions;
import dev.elbus.config.ListenerOptions;
import dev.elbus.impl.net.ListenerRuntime;
import dev.elbus.impl.routing.Router;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A real broker for integration tests: its own Vert.x (native transport), a TCP listener on
 * 127.0.0.1 with an ephemeral port and a Unix socket in a fresh temporary directory. Reports the
 * actual addresses. Close it after the test.
 */
public final class TestBroker implements AutoCloseable {
  private final Vertx vertx;
  private final Broker broker;
  private final Path dir;
  private final Path socket;
  private final int port;

  private TestBroker(int instances, Consumer<ListenerOptions> customize, BrokerOptions bopts)
      throws Exception {
    this.dir = Files.createTempDirectory("elbus-test");
    this.socket = dir.resolve("elbus.sock");
    this.vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true)
        .setEventLoopPoolSize(Math.max(2, instances)));
    this.broker = Broker.create(vertx, bopts.setWorkers(instances));
    ListenerOptions tcp = new ListenerOptions().setBind(Bind.tcp("127.0.0.1", 0));
    ListenerOptions unix = new ListenerOptions().setBind(Bind.unix(socket.toString()));
    customize.accept(tcp);
    customize.accept(unix);
    broker.deploy(List.of(tcp, unix), instances).await(20, TimeUnit.SECONDS);
    int p = -1;
    for (ListenerRuntime l : Internals.listeners(broker)) {
      if (l.bind().type() == Bind.Type.TCP) {
        p = l.actualPort();
      }
    }
    this.port = p;
  }

  /** One verticle instance, default listener options. */
  public static TestBroker start() throws Exception {
    return start(1, l -> { });
  }

  public static TestBroker start(int instances) throws Exception {
    return start(instances, l -> { });
  }

  /** {@code customize} is applied to both listeners' options before deployment. */
  public static TestBroker start(int instances, Consumer<ListenerOptions> customize)
      throws Exception {
    return new TestBroker(instances, customize, new BrokerOptions());
  }

  public static TestBroker start(int instances, Consumer<ListenerOptions> customize,
      BrokerOptions options) throws Exception {
    return new TestBroker(instances, customize, options);
  }

  public Vertx vertx() {
    return vertx;
  }

  public Broker broker() {
    return broker;
  }

  /** The broker's routing core (registry, topic index, counters). */
  public Router router() {
    return Internals.router(broker);
  }

  /** The broker's listeners as the connections see them. */
  public List<ListenerRuntime> listeners() {
    return Internals.listeners(broker);
  }

  public int port() {
    return port;
  }

  public Path socket() {
    return socket;
  }

  /** A raw byte-level connection over {@code t} (not yet handshaken). */
  public RawClient raw(Transport t) throws IOException {
    return RawClient.open(t, port, socket);
  }

  /** A raw connection that completed the handshake as {@code name} (registration asserted OK). */
  public RawClient registered(Transport t, String name) throws IOException {
    return raw(t).registerAs(name, "");
  }

  @Override
  public void close() throws Exception {
    try {
      broker.close().await(10, TimeUnit.SECONDS);
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
      Files.deleteIfExists(socket);
      Files.deleteIfExists(dir);
    }
  }
}
