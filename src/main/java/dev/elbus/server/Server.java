package dev.elbus.server;

import dev.elbus.Broker;
import dev.elbus.BrokerOptions;
import dev.elbus.ListenerOptions;
import dev.elbus.config.Bind;
import dev.elbus.config.ServerConfig;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The stand-alone server's lifecycle: Vert.x, the broker and its listeners, FIFO channels and the
 * pid file; {@link #stop} announces the shutdown, lets it flush, and removes the socket, FIFO and
 * pid files.
 */
final class Server {
  private static final Logger LOG = LoggerFactory.getLogger(Server.class);

  private final ServerConfig cfg;
  private final int workers;
  private final Vertx vertx;
  private final Broker broker;
  private final List<FifoChannel> fifos = new ArrayList<>();
  private final List<Path> ownedFiles = new ArrayList<>();
  private boolean stopped;

  Server(ServerConfig cfg, int workers) {
    this.cfg = cfg;
    this.workers = workers;
    this.vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true)
        .setEventLoopPoolSize(Math.max(workers, 2 * Runtime.getRuntime().availableProcessors())));
    this.broker = Broker.create(vertx, new BrokerOptions().setWorkers(workers)
        .setCoreRpc(cfg.coreRpc()).setEventBusAddress(cfg.bridge().brokerAddress())
        .setInternalClients(cfg.internalClients()));
  }

  boolean nativeTransport() {
    return vertx.isNativeTransportEnabled();
  }

  Broker broker() {
    return broker;
  }

  /** Deploys the listeners, opens the FIFOs, writes the pid file. */
  void start() throws Exception {
    broker.deploy(cfg.listeners(), workers).await(30, TimeUnit.SECONDS);
    if (!cfg.bridge().options().isEmpty()) {
      try {
        broker.bridge(cfg.bridge().options()).await(30, TimeUnit.SECONDS);
      } catch (Exception e) {
        throw new IllegalStateException("the event-bus bridge: " + Main.rootMessage(e), e);
      }
    }
    for (ListenerOptions l : cfg.listeners()) {
      if (l.getBind().type() == Bind.Type.UNIX) {
        ownedFiles.add(Path.of(l.getBind().path()));
      }
    }
    for (String f : cfg.fifos()) {
      FifoChannel c = new FifoChannel(Path.of(f), broker.coreClient());
      c.start();
      fifos.add(c);
    }
    if (cfg.pidFile() != null) {
      Path pid = Path.of(cfg.pidFile());
      try {
        Files.writeString(pid, ProcessHandle.current().pid() + "\n", StandardCharsets.US_ASCII);
      } catch (IOException e) {
        throw new IOException("cannot write pid file " + pid + ": " + e.getMessage(), e);
      }
      ownedFiles.add(pid);
    }
  }

  /** Shuts down once: shutdown announcement, flush, close, remove files. Idempotent. */
  synchronized void stop() {
    if (stopped) {
      return;
    }
    stopped = true;
    LOG.info("shutting down");
    fifos.forEach(FifoChannel::stop);
    try {
      broker.close().await(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.warn("shutdown: {}", Main.rootMessage(e));
    }
    try {
      vertx.close().await(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.warn("shutdown: {}", Main.rootMessage(e));
    }
    for (Path p : ownedFiles) {
      try {
        Files.deleteIfExists(p);
      } catch (IOException e) {
        LOG.warn("cannot remove {}: {}", p, e.getMessage());
      }
    }
  }
}
