package dev.elbus.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.elbus.support.TestBroker;
import dev.elbus.support.Transport;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Shared helpers of the {@link NetworkClient} integration tests, and their lifecycle as a JUnit
 * extension ({@code @RegisterExtension static final ClientTestSupport clients = new
 * ClientTestSupport(TestBroker::start);}): the broker and a Vert.x instance for the clients are
 * started before the class's tests, the clients a test connected are closed after it, and
 * everything is closed after the class (before {@code LeakGate}, registered earlier, checks).
 */
final class ClientTestSupport implements BeforeAllCallback, AfterEachCallback, AfterAllCallback {
  /** Bound of every wait in these tests: generous, the machine is shared. */
  static final long TIMEOUT_S = 20;

  private final Callable<TestBroker> start;
  Vertx vertx;
  private TestBroker broker;
  private final List<NetworkClient> clients = new ArrayList<>();

  ClientTestSupport(Callable<TestBroker> start) {
    this.start = start;
  }

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    broker = start.call();
    vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true)
        .setEventLoopPoolSize(2));
  }

  @Override
  public void afterEach(ExtensionContext context) throws Exception {
    closeClients();
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    try {
      closeClients();
    } finally {
      try {
        vertx.close().await(TIMEOUT_S, TimeUnit.SECONDS);
      } finally {
        broker.close();
      }
    }
  }

  TestBroker broker() {
    return broker;
  }

  /** The connect path of the test broker over {@code t}, as a user would pass it. */
  String path(Transport t) {
    return t == Transport.TCP ? "127.0.0.1:" + broker.port() : broker.socket().toString();
  }

  NetworkClient connect(Transport t, String name) throws Exception {
    return connect(t, name, new ClientOptions());
  }

  NetworkClient connect(Transport t, String name, ClientOptions o) throws Exception {
    return track(await(NetworkClient.connect(vertx, path(t), name, o)));
  }

  /** Closes {@code c} with the others at the end of the test. */
  NetworkClient track(NetworkClient c) {
    synchronized (clients) {
      clients.add(c);
    }
    return c;
  }

  /** Closes every client connected so far. */
  void closeClients() throws Exception {
    List<NetworkClient> cs;
    synchronized (clients) {
      cs = new ArrayList<>(clients);
      clients.clear();
    }
    for (NetworkClient c : cs) {
      await(c.close());
    }
  }

  static <T> T await(Future<T> f) throws Exception {
    return f.await(TIMEOUT_S, TimeUnit.SECONDS);
  }

  /** Waits for {@code f} to fail with an {@link ElbusException} and returns its code. */
  static int failureCode(Future<?> f) {
    Throwable t = catchThrowable(() -> await(f));
    assertThat(t).isInstanceOf(ElbusException.class);
    return ((ElbusException) t).code();
  }

  /** Collects a client's incoming frames. */
  static final class Inbox {
    private final BlockingQueue<Frame> frames = new LinkedBlockingQueue<>();

    static Inbox of(NetworkClient c) {
      Inbox in = new Inbox();
      c.frameHandler(in.frames::add);
      return in;
    }

    /** The next frame, failing the test if none arrives in time. */
    Frame next() throws InterruptedException {
      Frame f = frames.poll(TIMEOUT_S, TimeUnit.SECONDS);
      assertThat(f).as("a frame within %d s", TIMEOUT_S).isNotNull();
      return f;
    }
  }
}
