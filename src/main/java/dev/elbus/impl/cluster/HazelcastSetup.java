package dev.elbus.impl.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.config.SplitBrainProtectionConfig;
import com.hazelcast.core.HazelcastInstance;
import dev.elbus.config.ClusterOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.spi.cluster.ClusterManager;
import io.vertx.spi.cluster.hazelcast.ConfigUtil;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;

/**
 * The clustered Vert.x of cluster mode (docs/cluster.md, "Configuration"): a Hazelcast member
 * that joins over TCP (never multicast) on the configured interface, with timings chosen so
 * that joins take a fraction of a second and a dead member is noticed within the configured
 * bound, and its logging through SLF4J.
 */
public final class HazelcastSetup {
  /** The names map: name -> "NODEID/TOKEN" of its holder. */
  static final String NAMES_MAP = "elbus.names";
  /** The split-brain protection of {@link #NAMES_MAP} ({@code cluster.quorum}). */
  static final String QUORUM = "elbus-names-quorum";

  private HazelcastSetup() {}

  /**
   * Hazelcast's own logging goes through SLF4J from its first line: its logger factory reads
   * this system property once, when the first Hazelcast class logs, before any {@code Config}
   * is seen. Called before anything of Hazelcast is touched.
   */
  static void slf4jLogging() {
    if (System.getProperty("hazelcast.logging.type") == null) {
      System.setProperty("hazelcast.logging.type", "slf4j");
    }
  }

  /** A clustered Vert.x, a member of the cluster {@code o} describes. */
  public static Future<Vertx> clusteredVertx(ClusterOptions o, VertxOptions base) {
    return clusteredVertx(o, base, VertxBuilder::with);
  }

  /**
   * A clustered Vert.x, a member of the cluster {@code o} describes; {@code setup} hands the
   * options to the builder (and may add to it: the server's metrics).
   */
  public static Future<Vertx> clusteredVertx(ClusterOptions o, VertxOptions base,
      BiFunction<VertxBuilder, VertxOptions, VertxBuilder> setup) {
    Config config;
    String host;
    try {
      slf4jLogging();
      host = address(o.getHost());
      config = config(o, host);
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    VertxOptions vo = new VertxOptions(base).setEventBusOptions(new EventBusOptions(
        base.getEventBusOptions()).setHost(o.getBusHost() != null ? o.getBusHost() : host)
        .setPort(o.getBusPort()));
    return setup.apply(Vertx.builder(), vo)
        .withClusterManager(new HazelcastClusterManager(config)).buildClustered();
  }

  /** The Hazelcast configuration of a member of the cluster {@code o} describes. */
  static Config config(ClusterOptions o, String host) {
    // vertx-hazelcast's default-cluster.xml: the maps and multimap Vert.x itself uses
    Config c = ConfigUtil.loadConfig();
    c.setClusterName(o.getName());
    c.setProperty("hazelcast.logging.type", "slf4j");
    c.setProperty("hazelcast.phone.home.enabled", "false");
    c.setProperty("hazelcast.health.monitoring.level", "OFF");
    c.setProperty("hazelcast.socket.bind.any", "false");
    // join at once (the default waits 5 s, and up to 20, for more members starting together)
    c.setProperty("hazelcast.wait.seconds.before.join", "0");
    c.setProperty("hazelcast.max.wait.seconds.before.join", "0");
    c.setProperty("hazelcast.heartbeat.interval.seconds", String.valueOf(o.getHeartbeatSeconds()));
    c.setProperty("hazelcast.max.no.heartbeat.seconds",
        String.valueOf(o.getMaxNoHeartbeatSeconds()));
    c.setProperty("hazelcast.merge.first.run.delay.seconds", String.valueOf(o.getMergeSeconds()));
    c.setProperty("hazelcast.merge.next.run.delay.seconds", String.valueOf(o.getMergeSeconds()));
    c.setProperty("hazelcast.graceful.shutdown.max.wait", "10");
    // a call to a member that died unnoticed fails after this rather than 60 s
    c.setProperty("hazelcast.operation.call.timeout.millis",
        String.valueOf(Math.max(2_000, o.getTimeoutMs())));
    NetworkConfig n = c.getNetworkConfig();
    n.setPort(o.getPort()).setPortAutoIncrement(false);
    n.getInterfaces().setEnabled(true).setInterfaces(List.of(host));
    JoinConfig j = n.getJoin();
    j.getMulticastConfig().setEnabled(false);
    j.getAutoDetectionConfig().setEnabled(false);
    List<String> members = new ArrayList<>(o.getMembers());
    if (members.isEmpty()) {
      members.add(host + ":" + o.getPort());
    }
    // 1 s per absent member at start; 0 would be one attempt only (joins then hang)
    j.getTcpIpConfig().setEnabled(true).setMembers(members).setConnectionTimeoutSeconds(1);
    if (o.getQuorum() > 0) {
      c.addSplitBrainProtectionConfig(new SplitBrainProtectionConfig(QUORUM, true,
          o.getQuorum()));
      c.getMapConfig(NAMES_MAP).setSplitBrainProtectionName(QUORUM);
    }
    return c;
  }

  /** {@code host} as the IP address Hazelcast binds (its interface list takes addresses only). */
  static String address(String host) {
    try {
      return InetAddress.getByName(host).getHostAddress();
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("cluster host " + host + " does not resolve", e);
    }
  }

  /**
   * The Hazelcast member of a clustered Vert.x.
   *
   * @throws IllegalStateException when {@code vertx} is not clustered, or not with Hazelcast
   */
  static HazelcastInstance hazelcast(Vertx vertx) {
    if (!vertx.isClustered()) {
      throw new IllegalStateException("cluster mode needs a clustered Vert.x: the server makes "
          + "one from the cluster section; an application makes one with "
          + "ElbusVerticle.clusteredVertx or its own HazelcastClusterManager");
    }
    ClusterManager cm = ((VertxInternal) vertx).clusterManager();
    if (!(cm instanceof HazelcastClusterManager)) {
      throw new IllegalStateException("cluster mode needs Vert.x clustered with Hazelcast "
          + "(vertx-hazelcast), not " + cm.getClass().getName());
    }
    return ((HazelcastClusterManager) cm).getHazelcastInstance();
  }
}
