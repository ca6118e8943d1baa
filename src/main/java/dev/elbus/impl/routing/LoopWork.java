package dev.elbus.impl.routing;

/**
 * Tells the connection whose frame is being routed on this thread that the frame was expensive
 * (a {@code .broker} call, a topic looked up past the match cache), so that it checks its turn's
 * time budget after this frame rather than after its next few (docs/reliability.md, "Turns"). A
 * connection reads a clock only every few frames; a single frame that builds a megabyte reply
 * would otherwise be followed by the next ones of the same read in the same turn.
 *
 * <p>One instance per thread. Set from anywhere on the thread; read and cleared only by the
 * connection whose frames the thread is routing. A mark set by work outside any connection's
 * frame (a timer, an event-bus client) at worst makes the next frame of a connection on that
 * thread read the clock once.
 */
public final class LoopWork {
  private static final ThreadLocal<LoopWork> CURRENT = ThreadLocal.withInitial(LoopWork::new);

  private boolean heavy;

  private LoopWork() {}

  /** This thread's instance. */
  public static LoopWork current() {
    return CURRENT.get();
  }

  /** Marks the frame being routed on this thread as expensive. */
  public static void markHeavy() {
    CURRENT.get().heavy = true;
  }

  /** True when a frame was marked expensive since the last call; clears the mark. */
  public boolean takeHeavy() {
    if (heavy) {
      heavy = false;
      return true;
    }
    return false;
  }
}
