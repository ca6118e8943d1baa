package dev.elbus;

import dev.elbus.impl.core.BrokerImpl;
import dev.elbus.impl.net.ListenerRuntime;
import dev.elbus.impl.routing.Router;

import java.util.List;

/**
 * The implementation behind a {@link Broker}, for tests that look at the routing core, the
 * listeners' runtime state or the event-bus plumbing. Production code has no public way there:
 * the public API exposes no implementation type (ArchitectureTest).
 */
public final class Internals {
  private Internals() {}

  public static BrokerImpl impl(Broker b) {
    return b.impl();
  }

  public static Router router(Broker b) {
    return b.impl().router();
  }

  public static List<ListenerRuntime> listeners(Broker b) {
    return b.impl().listeners();
  }

  /**
   * Stops the Hazelcast member of a clustered Vert.x at once, without leaving the cluster: the
   * other members find out as they would of a killed process.
   */
  public static void hazelcastTerminate(io.vertx.core.Vertx vertx) {
    io.vertx.core.spi.cluster.ClusterManager cm =
        ((io.vertx.core.internal.VertxInternal) vertx).clusterManager();
    ((io.vertx.spi.cluster.hazelcast.HazelcastClusterManager) cm).getHazelcastInstance()
        .getLifecycleService().terminate();
  }
}
