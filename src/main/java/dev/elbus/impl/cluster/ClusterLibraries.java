package dev.elbus.impl.cluster;

/**
 * Whether cluster mode's optional dependency ({@code io.vertx:vertx-hazelcast}, with Hazelcast)
 * is on the class path. Refers to none of its classes, so it loads without them ({@link
 * ClusterNode} and {@link HazelcastSetup} do not).
 */
public final class ClusterLibraries {
  private ClusterLibraries() {}

  /**
   * {@code null} when vertx-hazelcast is present, else a sentence saying it is missing (for the
   * one-line error of a configuration with a {@code cluster} section).
   */
  public static String missing() {
    try {
      Class.forName("io.vertx.spi.cluster.hazelcast.HazelcastClusterManager", false,
          ClusterLibraries.class.getClassLoader());
      Class.forName("com.hazelcast.core.HazelcastInstance", false,
          ClusterLibraries.class.getClassLoader());
      return null;
    } catch (ClassNotFoundException | LinkageError e) {
      return "cluster mode needs io.vertx:vertx-hazelcast on the class path (docs/cluster.md)";
    }
  }
}
