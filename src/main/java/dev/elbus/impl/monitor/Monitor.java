package dev.elbus.impl.monitor;

import dev.elbus.impl.core.BrokerImpl;
import dev.elbus.impl.core.Checks;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmCompilationMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmHeapPressureMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmInfoMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.CheckResult;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MetricsDomain;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.VertxPrometheusOptions;
import io.vertx.micrometer.backends.BackendRegistries;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A broker's monitoring endpoint (the {@code http:} setting): an HTTP server with {@code GET
 * /metrics} (Prometheus text format: the broker's {@link BrokerMeters}, and the Vert.x and JVM
 * meters), {@code GET /health} (liveness) and {@code GET /ready} (readiness), the last two JSON
 * from vertx-health-check over the broker's {@link Checks}, answered 200 or 503.
 *
 * <p>The registry: when Vert.x was started with Micrometer metrics whose default registry is (or
 * holds) a Prometheus one, the broker's meters join it and {@code /metrics} serves it, with
 * Vert.x's meters; otherwise the monitor keeps a registry of its own with the broker's and the
 * JVM's meters (a Vert.x started without metrics has none to give). Scrapes run on a worker
 * thread, never on an event loop.
 *
 * <p>Needs the optional dependencies {@code vertx-micrometer-metrics}, {@code
 * micrometer-registry-prometheus} and {@code vertx-health-check}: check {@link
 * MonitorLibraries#missing()} before this class is loaded.
 */
public final class Monitor {
  private static final Logger LOG = LoggerFactory.getLogger(Monitor.class);
  /** A check that has not answered by then fails (a blocked event loop, say). */
  static final long CHECK_TIMEOUT_MS = 2_000;
  static final String TEXT_FORMAT = "text/plain; version=0.0.4; charset=utf-8";

  private final Vertx vertx;
  private final BrokerImpl broker;
  private final BrokerMeters meters;
  /** Where the broker's meters are (Vert.x's registry or {@link #own}). */
  private final MeterRegistry registry;
  private final PrometheusMeterRegistry scraped;
  /** The monitor's own registry, {@code null} when Vert.x's serves. */
  private final PrometheusMeterRegistry own;
  private final List<MeterBinder> binders = new ArrayList<>();
  /** What {@link #binders} registered (removed from Vert.x's registry on close). */
  private final List<Meter> added = new ArrayList<>();
  private final HealthChecks liveness;
  private final HealthChecks readiness;
  private final Set<String> livenessNames = new HashSet<>();
  private final Set<String> readinessNames = new HashSet<>();
  private HttpServer server;

  private Monitor(Vertx vertx, BrokerImpl broker) {
    this.vertx = vertx;
    this.broker = broker;
    MeterRegistry vx = vertx.isMetricsEnabled() ? BackendRegistries.getDefaultNow() : null;
    PrometheusMeterRegistry prom = prometheusIn(vx);
    // a second broker on the same Vert.x: its meters would have the first one's names and tags
    if (prom != null && vx.find("elbus.uptime").meter() == null) {
      registry = vx;
      scraped = prom;
      own = null;
    } else {
      own = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
      registry = own;
      scraped = own;
      binders.addAll(List.of(new ClassLoaderMetrics(), new JvmMemoryMetrics(),
          new JvmGcMetrics(), new JvmHeapPressureMetrics(), new JvmThreadMetrics(),
          new JvmCompilationMetrics(), new JvmInfoMetrics(), new ProcessorMetrics(),
          new UptimeMetrics()));
    }
    if (registry.find("process.files.open").meter() == null) {
      binders.add(new FileDescriptorMetrics());
    }
    Set<Meter> before = new HashSet<>(registry.getMeters());
    binders.forEach(b -> b.bindTo(registry));
    for (Meter m : registry.getMeters()) {
      if (!before.contains(m)) {
        added.add(m);
      }
    }
    meters = new BrokerMeters(broker, Tags.empty());
    meters.bindTo(registry);
    liveness = HealthChecks.create(vertx);
    readiness = HealthChecks.create(vertx);
  }

  /** {@code r} if it is a Prometheus registry, or the first Prometheus one a composite holds. */
  private static PrometheusMeterRegistry prometheusIn(MeterRegistry r) {
    if (r instanceof PrometheusMeterRegistry) {
      return (PrometheusMeterRegistry) r;
    }
    if (r instanceof CompositeMeterRegistry) {
      for (MeterRegistry c : ((CompositeMeterRegistry) r).getRegistries()) {
        PrometheusMeterRegistry p = prometheusIn(c);
        if (p != null) {
          return p;
        }
      }
    }
    return null;
  }

  /**
   * Starts the endpoint for {@code broker} on {@code host:port} (port 0: an ephemeral one, see
   * {@link #port()}).
   *
   * @return the running monitor; fails when the address cannot be bound (nothing is left then)
   */
  public static Future<Monitor> start(Vertx vertx, BrokerImpl broker, String host, int port) {
    Monitor m;
    try {
      m = new Monitor(vertx, broker);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    HttpServer s = vertx.createHttpServer(new HttpServerOptions().setHost(host).setPort(port)
        .setIdleTimeout(60));
    s.requestHandler(m::handle);
    return s.listen().map(x -> {
      m.server = x;
      LOG.info("monitoring on http://{}:{} (/metrics, /health, /ready)",
          host.indexOf(':') >= 0 ? "[" + host + "]" : host, x.actualPort());
      return m;
    }).recover(e -> {
      m.release();
      return Future.failedFuture(new IllegalStateException("http " + host + ":" + port
          + ": cannot listen: " + e.getMessage(), e));
    });
  }

  /**
   * Vert.x with Micrometer metrics published to a Prometheus registry (and the JVM's meters):
   * what the stand-alone server runs on when {@code http} is set, so that {@code /metrics}
   * serves Vert.x's own meters too.
   */
  public static Vertx vertxWithMetrics(VertxOptions options) {
    return withMetrics(Vertx.builder(), options).build();
  }

  /**
   * {@code builder} with {@code options} and Vert.x's own meters, as {@link #vertxWithMetrics}
   * (the server's clustered Vert.x is built from it in cluster mode).
   */
  public static io.vertx.core.VertxBuilder withMetrics(io.vertx.core.VertxBuilder builder,
      VertxOptions options) {
    // Vert.x's net server meters would read 0 bytes: the broker reads and writes its sockets
    // ahead of Vert.x's handler (docs/architecture.md, "Hot path"); elbus_* count them instead
    MicrometerMetricsOptions metrics = new MicrometerMetricsOptions()
        .setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true))
        .setJvmMetricsEnabled(true)
        .addDisabledMetricsCategory(MetricsDomain.NET_SERVER);
    metrics.setEnabled(true);
    return builder.with(new VertxOptions(options).setMetricsOptions(metrics))
        .withMetrics(new MicrometerMetricsFactory());
  }

  /** The port the endpoint listens on. */
  public int port() {
    return server.actualPort();
  }

  /** The registry {@code /metrics} serves. */
  public PrometheusMeterRegistry registry() {
    return scraped;
  }

  private void handle(HttpServerRequest req) {
    String path = req.path();
    if (!path.equals("/metrics") && !path.equals("/health") && !path.equals("/ready")) {
      req.response().setStatusCode(404).putHeader(HttpHeaders.CONTENT_TYPE, "text/plain")
          .end("not found: " + path.substring(0, Math.min(path.length(), 200))
          + " (try /metrics, /health or /ready)\n");
      return;
    }
    if (req.method() != HttpMethod.GET && req.method() != HttpMethod.HEAD) {
      req.response().setStatusCode(405).putHeader(HttpHeaders.ALLOW, "GET, HEAD").end();
      return;
    }
    req.response().putHeader(HttpHeaders.CACHE_CONTROL, "no-store");
    if (path.equals("/metrics")) {
      vertx.executeBlocking(() -> meters.scrape(scraped::scrape), false).onComplete(ar -> {
        if (ar.succeeded()) {
          req.response().putHeader(HttpHeaders.CONTENT_TYPE, TEXT_FORMAT).end(ar.result());
        } else {
          LOG.warn("/metrics: the scrape failed", ar.cause());
          req.response().setStatusCode(500).end();
        }
      });
    } else if (path.equals("/health")) {
      answer(req, liveness, livenessNames, broker.liveness());
    } else {
      answer(req, readiness, readinessNames, broker.readiness());
    }
  }

  /** Evaluates {@code checks} through vertx-health-check: 200 when every one holds, else 503. */
  private static void answer(HttpServerRequest req, HealthChecks hc, Set<String> names,
      Checks checks) {
    sync(hc, names, checks);
    hc.checkStatus().onComplete(ar -> {
      CheckResult r = ar.succeeded() ? ar.result() : CheckResult.from("elbus", ar.cause());
      JsonObject body = r.toJson();
      req.response().setStatusCode(CheckResult.isUp(r) ? 200 : 503)
          .putHeader(HttpHeaders.CONTENT_TYPE, "application/json; charset=utf-8")
          .end(body.encodePrettily() + "\n");
    });
  }

  /**
   * Makes the procedures of {@code hc} those of {@code checks} now (they may have been added or
   * removed since the last request); each looks its check up when it runs.
   */
  private static synchronized void sync(HealthChecks hc, Set<String> names, Checks checks) {
    Map<String, Checks.Check> now = checks.all();
    for (String n : List.copyOf(names)) {
      if (!now.containsKey(n)) {
        hc.unregister(n);
        names.remove(n);
      }
    }
    for (String n : now.keySet()) {
      if (names.add(n)) {
        hc.register(n, CHECK_TIMEOUT_MS, p -> {
          Checks.Check c = checks.all().get(n);
          Future<JsonObject> f;
          try {
            f = c == null ? Future.failedFuture(new Checks.NotMet("removed")) : c.check();
          } catch (RuntimeException e) {
            f = Future.failedFuture(e);
          }
          f.onComplete(ar -> {
            if (ar.succeeded()) {
              p.tryComplete(ar.result() == null ? Status.OK() : Status.OK(ar.result()));
            } else if (ar.cause() instanceof Checks.NotMet) {
              p.tryComplete(Status.KO(((Checks.NotMet) ar.cause()).data()));
            } else {
              p.tryComplete(Status.KO(new JsonObject().put("reason",
                  String.valueOf(ar.cause()))));
            }
          });
        });
      }
    }
  }

  /** Stops the endpoint, removes the broker's meters from the registry and releases its own. */
  public Future<Void> close() {
    HttpServer s = server;
    Future<Void> closed = s == null ? Future.succeededFuture() : s.close();
    return closed.eventually(() -> {
      release();
      return Future.succeededFuture();
    });
  }

  private void release() {
    meters.close();
    for (MeterBinder b : binders) {
      if (b instanceof AutoCloseable) {
        try {
          ((AutoCloseable) b).close();
        } catch (Exception e) {
          LOG.debug("closing {}", b, e);
        }
      }
    }
    if (own != null) {
      own.close();
    } else {
      added.forEach(registry::remove);
    }
  }
}
