package dev.elbus.support;

import java.util.function.BooleanSupplier;

/** Deadline-bounded polling for integration tests: never an assertion on time. */
public final class Poll {
  private Poll() {}

  /** Polls {@code cond} every {@code everyMs} until it holds; fails after {@code ms}. */
  public static void until(BooleanSupplier cond, long ms, long everyMs, String what)
      throws InterruptedException {
    long deadline = System.nanoTime() + ms * 1_000_000;
    while (!cond.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + ms + " ms: " + what);
      }
      Thread.sleep(everyMs);
    }
  }
}
