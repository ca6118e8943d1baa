package dev.elbus.reliability;

import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Deadline-bounded polling for the long-tier tests. */
final class Await {
  private Await() {}

  /** Polls {@code cond} every 20 ms until it holds or {@code ms} pass. */
  static void until(BooleanSupplier cond, long ms, Supplier<String> what)
      throws InterruptedException {
    long deadline = System.nanoTime() + ms * 1_000_000;
    while (!cond.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + ms + " ms: " + what.get());
      }
      Thread.sleep(20);
    }
  }

  /** Milliseconds since {@code t0} (a {@link System#nanoTime} value). */
  static long msSince(long t0) {
    return (System.nanoTime() - t0) / 1_000_000;
  }
}
