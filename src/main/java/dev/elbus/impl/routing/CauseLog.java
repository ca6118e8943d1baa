package dev.elbus.impl.routing;

import org.slf4j.Logger;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Logs unexpected failures with their stack trace at most once per cause: the first failure of a
 * kind (its exception class and the frame that threw it) is logged with the whole trace, later
 * ones as one line naming the cause. A stack overflow's trace is 1,024 frames (about 62 KB);
 * a client able to trigger one repeatedly must not be able to fill the log with them.
 *
 * <p>Thread-safe. The set of causes seen is bounded ({@link #MAX_CAUSES}); past it every failure
 * is logged as one line.
 */
public final class CauseLog {
  /** Distinct causes remembered at most. */
  static final int MAX_CAUSES = 1024;
  private static final Set<String> SEEN = ConcurrentHashMap.newKeySet();

  private CauseLog() {}

  /**
   * Logs {@code message} at ERROR with {@code t}: with its stack trace the first time this cause
   * is seen in this JVM, else as one line.
   */
  public static void error(Logger log, String message, Throwable t) {
    if (firstTime(t)) {
      log.error(message, t);
    } else {
      log.error("{}: {} (stack trace logged at its first occurrence)", message, summary(t));
    }
  }

  /** True the first time the cause of {@code t} is seen (and while fewer are remembered). */
  static boolean firstTime(Throwable t) {
    return SEEN.size() < MAX_CAUSES && SEEN.add(key(t));
  }

  /** The exception class and the frame that threw it. */
  static String key(Throwable t) {
    StackTraceElement[] st = t.getStackTrace();
    return t.getClass().getName() + (st.length > 0 ? " at " + st[0] : "");
  }

  /** {@code Class: message at frame}, one line. */
  public static String summary(Throwable t) {
    StackTraceElement[] st = t.getStackTrace();
    String m = t.getMessage();
    return t.getClass().getName() + (m != null ? ": " + firstLine(m) : "")
        + (st.length > 0 ? " at " + st[0] : "");
  }

  private static String firstLine(String m) {
    int nl = m.indexOf('\n');
    String l = nl < 0 ? m : m.substring(0, nl);
    return l.length() <= 200 ? l : l.substring(0, 200) + "...";
  }
}
