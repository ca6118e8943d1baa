package dev.elbus.client;

import dev.elbus.Broker;
import dev.elbus.impl.routing.Session;

/**
 * A deliberate violation for ArchitectureTest (never used): the client depending on the broker's
 * routing core and on the broker's API root.
 */
final class ArchFixtureClientUsesBrokerInternals {
  Session session;
  Broker broker;
}
