package dev.elbus.support;

/** Topics and patterns of many levels, for the tests of deep input. */
public final class Deep {
  private Deep() {}

  /** {@code first} followed by {@code levels - 1} copies of {@code "/" + next}. */
  public static String levels(String first, String next, int levels) {
    StringBuilder sb = new StringBuilder(first.length() + (next.length() + 1) * levels);
    sb.append(first);
    for (int i = 1; i < levels; i++) {
      sb.append('/').append(next);
    }
    return sb.toString();
  }
}
