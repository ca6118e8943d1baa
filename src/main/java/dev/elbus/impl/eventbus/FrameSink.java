package dev.elbus.impl.eventbus;

import dev.elbus.client.Frame;

/**
 * Where an internal client's frames go besides its Java handler: an event-bus address ({@link
 * AddressChannel}) or the bridge's inbound rules. The client's session calls every method on the
 * client's own Vert.x context, one frame at a time and in order.
 *
 * <p>Flow control: before handing a frame over, the session asks {@link #ready}. A sink that
 * cannot take more keeps {@code wakeUp} and answers {@code false}; the frame and everything
 * after it stay queued in the session (visible as its {@code queue}) until the sink runs {@code
 * wakeUp} (from any thread, once). A sink never blocks.
 */
public interface FrameSink {

  /**
   * Whether {@code frame}, the next frame, may be handed over now. A false answer holds the
   * frame (and every later one) in the client's queue; the next call asks again for the same
   * frame.
   *
   * @param wakeUp to run once when this sink can take frames again, if the answer is false
   */
  boolean ready(Frame frame, Runnable wakeUp);

  /** Takes one frame (its payload is a fresh copy that the sink may keep). */
  void accept(Frame frame);

  /** The client is gone: release resources; no more calls follow. */
  void close();
}
