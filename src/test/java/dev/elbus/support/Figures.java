package dev.elbus.support;

/**
 * Prints a measured figure to stdout (the test's report file) as one write, so that log lines of
 * other threads cannot end up in the middle of it ({@code printf} writes piecewise).
 */
public final class Figures {
  private Figures() {}

  /** {@code String.format(format, args)}, printed at once. */
  public static void print(String format, Object... args) {
    System.out.print(String.format(format, args));
    System.out.flush();
  }
}
