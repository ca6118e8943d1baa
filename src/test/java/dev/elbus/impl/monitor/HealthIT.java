package dev.elbus.impl.monitor;

import dev.elbus.Broker;
import dev.elbus.Internals;
import dev.elbus.client.Bind;
import dev.elbus.config.ListenerOptions;
import dev.elbus.impl.core.BrokerImpl;
import dev.elbus.impl.core.Checks;
import dev.elbus.support.Http;
import dev.elbus.support.LeakGate;
import dev.elbus.support.TestBroker;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code GET /health} and {@code GET /ready} answer 200 or 503 with vertx-health-check's JSON at
 * the right moments: not ready before a listener is bound or when the AAA file cannot be loaded
 * at start, ready once bound, still ready (with the problem shown) when a reload of the AAA file
 * fails; not alive when the broker is closed or an event loop of its listeners is blocked; a
 * condition registered by another part (the clustering's) counts.
 */
@ExtendWith(LeakGate.class)
class HealthIT {
  /** The test's Vert.x, closed after it. */
  private Vertx vertx;

  @AfterEach
  void closeVertx() throws Exception {
    if (vertx != null) {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  private static ListenerOptions tcp() {
    return new ListenerOptions().setBind(Bind.tcp("127.0.0.1", 0)).setTimeoutMs(60_000);
  }

  private static String status(HttpResponse<String> r) {
    return Http.json(r).getString("status");
  }

  @Test
  void readyOnceTheListenersAreBoundAndNotAliveOnceClosed() throws Exception {
    vertx = Vertx.vertx();
    Broker broker = Broker.create(vertx);
    Monitor mon = Monitor.start(vertx, Internals.impl(broker), "127.0.0.1", 0)
        .await(10, TimeUnit.SECONDS);
    int port = mon.port();

    HttpResponse<String> ready = Http.get(port, "/ready");
    assertThat(ready.statusCode()).as(ready.body()).isEqualTo(503);
    assertThat(ready.headers().firstValue("content-type")).hasValueSatisfying(
        v -> assertThat(v).startsWith("application/json"));
    assertThat(status(ready)).isEqualTo("DOWN");
    JsonObject listeners = Http.check(ready, "listeners");
    assertThat(listeners.getString("status")).isEqualTo("DOWN");
    assertThat(listeners.getJsonObject("data").getString("reason"))
        .isEqualTo("no listener deployed");
    HttpResponse<String> health = Http.get(port, "/health");
    assertThat(health.statusCode()).as(health.body()).isEqualTo(200);
    assertThat(status(health)).isEqualTo("UP");

    broker.deploy(List.of(tcp())).await(10, TimeUnit.SECONDS);
    ready = Http.get(port, "/ready");
    assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
    assertThat(Http.check(ready, "listeners").getJsonObject("data").getJsonArray("bound")
        .getString(0)).isEqualTo(broker.listeners().get(0).label());
    assertThat(Http.check(Http.get(port, "/health"), "event_loops").getJsonObject("data")
        .getInteger("event_loops")).isEqualTo(broker.options().getWorkers());

    broker.close().await(10, TimeUnit.SECONDS);
    health = Http.get(port, "/health");
    assertThat(health.statusCode()).as(health.body()).isEqualTo(503);
    assertThat(Http.check(health, "broker").getJsonObject("data").getString("reason"))
        .isEqualTo("the broker is closed");
    assertThat(Http.get(port, "/ready").statusCode()).isEqualTo(503);

    // other paths and methods
    assertThat(Http.get(port, "/").statusCode()).isEqualTo(404);
    mon.close().await(10, TimeUnit.SECONDS);
    // refused, or a kept-alive connection of the client closed under it: nothing answers
    assertThatThrownBy(() -> Http.get(port, "/health")).isInstanceOf(java.io.IOException.class);
  }

  @Test
  void anAaaFileThatCannotBeLoadedAtStartKeepsTheBrokerUnready(@TempDir Path dir)
      throws Exception {
    vertx = Vertx.vertx();
    Broker broker = Broker.create(vertx);
    Monitor mon = Monitor.start(vertx, Internals.impl(broker), "127.0.0.1", 0)
        .await(10, TimeUnit.SECONDS);
    int port = mon.port();
    Path aaa = dir.resolve("aaa.yaml");
    ListenerOptions withAaa = tcp().setAaaFile(aaa.toString()).setAaaScanPeriodMs(50);
    assertThatThrownBy(() -> broker.deploy(List.of(withAaa)).await(10, TimeUnit.SECONDS))
        .hasMessageContaining("no such file");
    HttpResponse<String> ready = Http.get(port, "/ready");
    assertThat(ready.statusCode()).as(ready.body()).isEqualTo(503);
    assertThat(Http.check(ready, "aaa").getJsonObject("data").getString("reason"))
        .isEqualTo(aaa + ": cannot read: no such file");
    assertThat(Http.check(ready, "listeners").getJsonObject("data").getString("reason"))
        .isEqualTo("the deployment failed");

    // the file repaired: the next deployment makes it ready
    Files.writeString(aaa, "clients:\n  app: {}\n");
    broker.deploy(List.of(withAaa)).await(10, TimeUnit.SECONDS);
    ready = Http.get(port, "/ready");
    assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
    String label = broker.listeners().get(0).label();
    JsonObject entry = Http.check(ready, "aaa").getJsonObject("data")
        .getJsonObject("listeners").getJsonObject(label);
    assertThat(entry.getString("file")).isEqualTo(aaa.toString());
    assertThat(entry.getInteger("clients")).isEqualTo(1);

    // broken later: the last good policy stays in force and the broker stays ready
    Files.writeString(aaa, "clients: [not, a, map\n");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    do {
      Thread.sleep(50);
      ready = Http.get(port, "/ready");
      entry = Http.check(ready, "aaa").getJsonObject("data").getJsonObject("listeners")
          .getJsonObject(label);
    } while (!entry.containsKey("problem") && System.nanoTime() < deadline);
    assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
    assertThat(entry.getString("problem")).startsWith("the policy in force is kept: ");
    broker.close().await(10, TimeUnit.SECONDS);
    mon.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  void aBlockedListenerEventLoopFailsLiveness() throws Exception {
    vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(4)
        .setBlockedThreadCheckInterval(60_000));
    Broker broker = Broker.create(vertx);
    broker.deploy(List.of(tcp()), 1).await(10, TimeUnit.SECONDS);
    BrokerImpl impl = Internals.impl(broker);
    Context loop = impl.listenerLoops().get(0);
    Thread loopThread = threadOf(loop);
    // the endpoint on another event loop than the listener's
    Context other = ((VertxInternal) vertx).createEventLoopContext();
    while (threadOf(other) == loopThread) {
      other = ((VertxInternal) vertx).createEventLoopContext();
    }
    CompletableFuture<Monitor> started = new CompletableFuture<>();
    other.runOnContext(v -> Monitor.start(vertx, impl, "127.0.0.1", 0)
        .onComplete(ar -> {
          if (ar.succeeded()) {
            started.complete(ar.result());
          } else {
            started.completeExceptionally(ar.cause());
          }
        }));
    Monitor mon = started.get(10, TimeUnit.SECONDS);
    int port = mon.port();
    assertThat(Http.get(port, "/health").statusCode()).isEqualTo(200);

    CompletableFuture<Void> blocked = new CompletableFuture<>();
    loop.runOnContext(v -> {
      blocked.complete(null);
      try {
        Thread.sleep(Monitor.CHECK_TIMEOUT_MS + 1_500);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    blocked.get(10, TimeUnit.SECONDS);
    HttpResponse<String> health = Http.get(port, "/health");
    assertThat(health.statusCode()).as(health.body()).isEqualTo(503);
    assertThat(Http.check(health, "event_loops").getString("status")).isEqualTo("DOWN");
    assertThat(Http.check(health, "broker").getString("status")).isEqualTo("UP");

    Thread.sleep(1_500);
    health = Http.get(port, "/health");
    assertThat(health.statusCode()).as(health.body()).isEqualTo(200);
    broker.close().await(10, TimeUnit.SECONDS);
    mon.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  void aConditionRegisteredByAnotherPartCounts() throws Exception {
    try (TestBroker tb = TestBroker.start()) {
      BrokerImpl impl = Internals.impl(tb.broker());
      Monitor mon = Monitor.start(tb.vertx(), impl, "127.0.0.1", 0).await(10, TimeUnit.SECONDS);
      int port = mon.port();
      assertThat(Http.get(port, "/ready").statusCode()).isEqualTo(200);

      impl.readiness().register("cluster", () -> Future.failedFuture(
          new Checks.NotMet("not joined yet", new JsonObject().put("members", 0))));
      HttpResponse<String> ready = Http.get(port, "/ready");
      assertThat(ready.statusCode()).as(ready.body()).isEqualTo(503);
      JsonObject cluster = Http.check(ready, "cluster");
      assertThat(cluster.getString("status")).isEqualTo("DOWN");
      assertThat(cluster.getJsonObject("data").getString("reason")).isEqualTo("not joined yet");
      assertThat(cluster.getJsonObject("data").getInteger("members")).isZero();

      impl.readiness().register("cluster", () -> Future.succeededFuture(
          new JsonObject().put("members", 3)));
      ready = Http.get(port, "/ready");
      assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
      assertThat(Http.check(ready, "cluster").getJsonObject("data").getInteger("members"))
          .isEqualTo(3);

      impl.readiness().register("cluster", () -> Future.failedFuture(new Checks.NotMet("left")));
      assertThat(Http.get(port, "/ready").statusCode()).isEqualTo(503);
      impl.readiness().unregister("cluster");
      ready = Http.get(port, "/ready");
      assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
      assertThat(Http.json(ready).getJsonArray("checks").size()).isEqualTo(2);
      mon.close().await(10, TimeUnit.SECONDS);
    }
  }

  private static Thread threadOf(Context c) throws Exception {
    CompletableFuture<Thread> t = new CompletableFuture<>();
    c.runOnContext(v -> t.complete(Thread.currentThread()));
    return t.get(10, TimeUnit.SECONDS);
  }
}
