package dev.elbus.impl.core;

import ch.qos.logback.classic.Level;
import io.vertx.core.internal.ContextInternal;

/**
 * A deliberate violation for ArchitectureTest (never used): a class that is not on the list
 * using a non-public Vert.x API, and library code using the logging backend and Micrometer.
 */
final class ArchFixtureInternalApis {
  ContextInternal context;
  Level level;
  io.micrometer.core.instrument.Counter counter;
}
