package dev.elbus.impl.routing;

import com.hazelcast.core.HazelcastInstance;

/**
 * A deliberate violation for ArchitectureTest (never used): Hazelcast outside the cluster
 * package.
 */
final class ArchFixtureRoutingUsesHazelcast {
  HazelcastInstance hazelcast;
}
