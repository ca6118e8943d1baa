package dev.elbus;

import dev.elbus.impl.cluster.ClusterLibraries;
import dev.elbus.impl.cluster.HazelcastSetup;
import dev.elbus.impl.config.ServerConfig;
import dev.elbus.impl.monitor.Monitor;
import dev.elbus.impl.monitor.MonitorLibraries;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.LocalMap;
import io.vertx.core.shareddata.Shareable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The elbus broker as a verticle, configured by {@link #config()} in the schema of {@code
 * conf/elbus.yaml} as JSON (the stand-alone server reads that file into the same JSON and deploys
 * this verticle):
 *
 * <pre>{@code
 * JsonObject config = new JsonObject()
 *     .put("workers", 2)
 *     .put("listeners", new JsonArray()
 *         .add(new JsonObject().put("bind", "/tmp/app-elbus.sock"))
 *         .add(new JsonObject().put("bind", "127.0.0.1:7777")));
 * vertx.deployVerticle(new ElbusVerticle(), new DeploymentOptions().setConfig(config));
 * // or by name, e.g. with vertx-config's ConfigRetriever feeding the config:
 * vertx.deployVerticle("dev.elbus.ElbusVerticle", new DeploymentOptions().setConfig(config));
 * }</pre>
 *
 * <p>Deploying it starts the listeners (one listener verticle per event loop, {@code workers} of
 * them), the core client {@code .broker}, the event-bus address and bridge of {@code bridge:},
 * the AAA watchers and the FIFO channels. A configuration error fails the deployment with the
 * server's one-line message ({@code ElbusVerticle config: listeners[0]: 'bind' is required}); so
 * does a listener that cannot bind or an AAA file that cannot be loaded, and nothing is left
 * running then. Undeploying it announces the shutdown on {@code .broker/warn}, closes every
 * listener and client, and removes the socket files and FIFOs. {@code pid_file} is the
 * stand-alone server's and ignored here.
 *
 * <p>With {@code http: HOST:PORT} it also serves {@code GET /metrics} (Prometheus), {@code
 * /health} and {@code /ready} there (README, "Monitoring"; {@link #httpPort()}); that needs the
 * optional dependencies {@code io.vertx:vertx-micrometer-metrics}, {@code
 * io.micrometer:micrometer-registry-prometheus} and {@code io.vertx:vertx-health-check}, and
 * without them the deployment fails with one line naming them. Without {@code http} no HTTP port
 * is opened.
 *
 * <p>Deploy one instance: the broker runs its own listener verticles, one per worker. {@link
 * #broker()} (or {@link #broker(Vertx, String)} for a deployment by name) is the {@link Broker}
 * handle of the running broker, for in-process clients, AAA policies and statistics.
 */
public final class ElbusVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(ElbusVerticle.class);
  /** The source named in configuration errors. */
  static final String CONFIG_SOURCE = "ElbusVerticle config";
  /** Local map of the running brokers by deployment id (see {@link #broker(Vertx, String)}). */
  private static final String BROKERS = "dev.elbus.ElbusVerticle.brokers";

  private volatile Broker broker;
  /** The monitoring endpoint ({@code http:}), {@code null} when there is none. */
  private volatile Monitor monitor;

  /** A verticle that runs the broker its deployment's configuration describes. */
  public ElbusVerticle() {}

  /**
   * The broker of this verticle: set while {@code start()} runs, once the configuration is
   * valid; {@code null} before.
   */
  public Broker broker() {
    return broker;
  }

  /**
   * The broker of the {@code ElbusVerticle} deployed on {@code vertx} as {@code deploymentId}
   * (the id its deployment future returned), for a verticle deployed by name; {@code null} when
   * there is no such deployment (or it is not started yet, or undeployed).
   */
  public static Broker broker(Vertx vertx, String deploymentId) {
    Handle h = brokers(vertx).get(deploymentId);
    return h == null ? null : h.broker;
  }

  /**
   * A clustered Vert.x for cluster mode (docs/cluster.md), made from the {@code cluster:}
   * section of {@code config} (the schema of {@code conf/elbus.yaml}): a Hazelcast member on
   * {@code cluster.host}:{@code cluster.port} that joins {@code cluster.members} over TCP, with
   * the event bus on {@code cluster.bus_host}:{@code cluster.bus_port}. Deploy this verticle with
   * the same configuration on it. An application may cluster its Vert.x itself instead (with
   * {@code vertx-hazelcast}'s {@code HazelcastClusterManager}); the verticle then joins that
   * cluster and the section's Hazelcast settings are not used. Needs {@code
   * io.vertx:vertx-hazelcast} on the class path (the stand-alone server has it).
   *
   * @param options the Vert.x options to start from (the event-bus host and port are set)
   * @return the clustered Vert.x; fails for a configuration without a {@code cluster:} section
   *     or with an error in it (one line, as a deployment would), or when the member cannot
   *     start (its port in use)
   */
  public static Future<Vertx> clusteredVertx(JsonObject config, VertxOptions options) {
    ServerConfig cfg;
    try {
      cfg = ServerConfig.parse(config, CONFIG_SOURCE);
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    if (cfg.cluster() == null) {
      return Future.failedFuture(new IllegalArgumentException(CONFIG_SOURCE
          + ": no cluster section"));
    }
    if (ClusterLibraries.missing() != null) {
      return Future.failedFuture(new IllegalStateException(CONFIG_SOURCE + ": cluster: "
          + ClusterLibraries.missing()));
    }
    return HazelcastSetup.clusteredVertx(cfg.cluster(), options);
  }

  private static LocalMap<String, Handle> brokers(Vertx vertx) {
    return vertx.sharedData().getLocalMap(BROKERS);
  }

  @Override
  public Future<?> start() {
    if (context.getInstanceCount() > 1) {
      return Future.failedFuture(new IllegalArgumentException(CONFIG_SOURCE + ": deploy one "
          + "instance of ElbusVerticle (" + context.getInstanceCount() + " requested): 'workers' "
          + "sets the event loops serving the listeners"));
    }
    ServerConfig cfg;
    try {
      cfg = ServerConfig.parse(config(), CONFIG_SOURCE);
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    if (cfg.pidFile() != null) {
      LOG.info("pid_file {} ignored: it is the stand-alone server's", cfg.pidFile());
    }
    if (cfg.http() != null && MonitorLibraries.missing() != null) {
      return Future.failedFuture(new IllegalStateException(CONFIG_SOURCE + ": http: "
          + MonitorLibraries.missing()));
    }
    if (cfg.cluster() != null && ClusterLibraries.missing() != null) {
      return Future.failedFuture(new IllegalStateException(CONFIG_SOURCE + ": cluster: "
          + ClusterLibraries.missing()));
    }
    Broker b = Broker.create(vertx, cfg.brokerOptions());
    broker = b;
    // the monitor first: /ready answers 503 until the listeners are bound
    Future<?> started = cfg.http() == null ? Future.succeededFuture()
        : Monitor.start(vertx, b.impl(), cfg.http().host(), cfg.http().port())
            .onSuccess(m -> monitor = m);
    started = started.compose(x -> b.deploy(cfg.listeners(), cfg.effectiveWorkers()));
    if (!cfg.bridge().options().isEmpty()) {
      started = started.compose(id -> b.bridge(cfg.bridge().options())
          .recover(e -> Future.failedFuture(new IllegalStateException("the event-bus bridge: "
              + rootMessage(e)))));
    }
    for (String fifo : cfg.fifos()) {
      started = started.compose(x -> b.impl().openFifo(fifo));
    }
    return started
        .onSuccess(x -> brokers(vertx).put(context.deploymentID(), new Handle(b)))
        .recover(e -> b.close().eventually(this::closeMonitor)
            .transform(x -> Future.failedFuture(e)));
  }

  @Override
  public Future<?> stop() {
    brokers(vertx).remove(context.deploymentID());
    Broker b = broker;
    return (b == null ? Future.succeededFuture() : b.close()).eventually(this::closeMonitor);
  }

  /**
   * The port of the monitoring endpoint ({@code http:}) once started, {@code -1} when there is
   * none.
   */
  public int httpPort() {
    Monitor m = monitor;
    return m == null ? -1 : m.port();
  }

  private Future<Void> closeMonitor() {
    Monitor m = monitor;
    monitor = null;
    return m == null ? Future.succeededFuture() : m.close();
  }

  private static String rootMessage(Throwable e) {
    Throwable c = e;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    return c.getMessage() != null ? c.getMessage() : c.toString();
  }

  /** A broker in the local map: shared as itself (the map copies only what is not shareable). */
  private static final class Handle implements Shareable {
    final Broker broker;

    Handle(Broker broker) {
      this.broker = broker;
    }
  }
}
