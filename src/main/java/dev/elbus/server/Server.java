package dev.elbus.server;

import dev.elbus.ElbusVerticle;
import dev.elbus.impl.cluster.HazelcastSetup;
import dev.elbus.impl.config.ServerConfig;
import dev.elbus.impl.monitor.Monitor;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The stand-alone server's lifecycle: its Vert.x, the {@link ElbusVerticle} deployed with the
 * effective configuration, and the pid file. {@link #stop} undeploys the verticle (which
 * announces the shutdown, lets it flush, closes every client and removes the socket and FIFO
 * files), closes Vert.x and removes the pid file.
 */
final class Server {
  private static final Logger LOG = LoggerFactory.getLogger(Server.class);

  private final JsonObject config;
  private final ServerConfig cfg;
  private final VertxOptions vertxOptions;
  /** Set by {@link #start}: clustered in cluster mode. */
  private volatile Vertx vertx;
  private String deploymentId;
  private Path pidFile;
  private boolean stopped;

  /** {@code config} is valid ({@link Main#parseArgs} checked it). */
  Server(JsonObject config) {
    this.config = config;
    this.cfg = ServerConfig.parse(config, "configuration");
    int workers = cfg.effectiveWorkers();
    this.vertxOptions = new VertxOptions().setPreferNativeTransport(true)
        .setEventLoopPoolSize(Math.max(workers, 2 * Runtime.getRuntime().availableProcessors()));
  }

  int workers() {
    return cfg.effectiveWorkers();
  }

  boolean nativeTransport() {
    return vertx != null && vertx.isNativeTransportEnabled();
  }

  /** Whether the broker runs as a node of a cluster. */
  boolean clustered() {
    return cfg.cluster() != null;
  }

  /**
   * Starts Vert.x (clustered in cluster mode: the Hazelcast member joins first), deploys the
   * broker verticle, writes the pid file.
   */
  void start() throws Exception {
    // with the monitoring endpoint, Vert.x's own meters are published too (README, "Monitoring")
    if (cfg.cluster() == null) {
      vertx = cfg.http() == null ? Vertx.vertx(vertxOptions)
          : Monitor.vertxWithMetrics(vertxOptions);
    } else {
      vertx = HazelcastSetup.clusteredVertx(cfg.cluster(), vertxOptions, cfg.http() == null
          ? VertxBuilder::with : Monitor::withMetrics).await(60, TimeUnit.SECONDS);
    }
    deploymentId = vertx.deployVerticle(new ElbusVerticle(),
        new DeploymentOptions().setConfig(config)).await(30, TimeUnit.SECONDS);
    if (cfg.pidFile() != null) {
      Path pid = Path.of(cfg.pidFile());
      try {
        Files.writeString(pid, ProcessHandle.current().pid() + "\n", StandardCharsets.US_ASCII);
      } catch (IOException e) {
        throw new IOException("cannot write pid file " + pid + ": " + e.getMessage(), e);
      }
      pidFile = pid;
    }
  }

  /** Shuts down once: undeploy (shutdown announcement, flush, close), remove the pid file. */
  synchronized void stop() {
    if (stopped) {
      return;
    }
    stopped = true;
    LOG.info("shutting down");
    if (deploymentId != null) {
      try {
        vertx.undeploy(deploymentId).await(10, TimeUnit.SECONDS);
      } catch (Exception e) {
        LOG.warn("shutdown: {}", Main.rootMessage(e));
      }
    }
    try {
      if (vertx != null) {
        // in cluster mode this leaves the cluster: the other nodes release this node's names
        vertx.close().await(20, TimeUnit.SECONDS);
      }
    } catch (Exception e) {
      LOG.warn("shutdown: {}", Main.rootMessage(e));
    }
    if (pidFile != null) {
      try {
        Files.deleteIfExists(pidFile);
      } catch (IOException e) {
        LOG.warn("cannot remove {}: {}", pidFile, e.getMessage());
      }
    }
  }
}
