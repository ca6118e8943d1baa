package dev.elbus.eventbus;

import dev.elbus.impl.eventbus.FlowControl;
import dev.elbus.impl.routing.Session;

import java.util.List;

/**
 * A deliberate violation for ArchitectureTest (never used): a public API type whose public
 * signatures name implementation types (a return type, a type argument of a parameter).
 */
public final class ArchFixtureApiExposesImpl {
  private ArchFixtureApiExposesImpl() {}

  public FlowControl flowControl() {
    return null;
  }

  public void sessions(List<Session> sessions) {}

  /** Not public: allowed. */
  Session session() {
    return null;
  }
}
