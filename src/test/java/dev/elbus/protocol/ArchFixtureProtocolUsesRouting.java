package dev.elbus.protocol;

import dev.elbus.impl.routing.Router;

/**
 * A deliberate violation for ArchitectureTest (never used): the protocol package depending on
 * the routing core, which depends on the protocol (a package cycle too).
 */
final class ArchFixtureProtocolUsesRouting {
  Router router;
}
