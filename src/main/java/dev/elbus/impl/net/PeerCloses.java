package dev.elbus.impl.net;

import dev.elbus.impl.routing.CauseLog;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.FastThreadLocal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Per-event-loop queue of the closes of connections whose peer went away (the end of its input,
 * a reset), run a bounded time per turn. Closing a registered client (the socket, its session
 * unregistered, {@code unreg} announced) takes 50-300 µs, a client with a long name more; when
 * hundreds of clients leave at once their ends of input arrive in one I/O poll, and closing them
 * all there held the loop's other connections for tens of milliseconds (docs/reliability.md,
 * "Turns"). Here the closes run from a task scheduled with no delay, which Netty runs once the
 * loop has handled the rest of the I/O that was ready; once a task has taken {@link
 * #BUDGET_NANOS}, the rest waits for the next one, after a new I/O poll, so the loop serves its
 * other connections' input in between.
 *
 * <p>Accessed only on its event loop.
 */
final class PeerCloses {
  private static final Logger LOG = LoggerFactory.getLogger(PeerCloses.class);
  private static final FastThreadLocal<PeerCloses> CURRENT = new FastThreadLocal<>();
  /** Time one task may spend on closes before the rest waits for the next I/O poll. */
  static final long BUDGET_NANOS = TimeUnit.MILLISECONDS.toNanos(2);

  private final EventLoop loop;
  private final ArrayDeque<Runnable> closes = new ArrayDeque<>();
  private boolean scheduled;

  private PeerCloses(EventLoop loop) {
    this.loop = loop;
  }

  /** The queue of {@code loop}; must be called on that loop. */
  static PeerCloses forLoop(EventLoop loop) {
    assert loop.inEventLoop();
    PeerCloses p = CURRENT.get();
    if (p == null) {
      p = new PeerCloses(loop);
      CURRENT.set(p);
    }
    return p;
  }

  /** Runs {@code close} in a later task of this loop (once the ready I/O is handled). */
  void add(Runnable close) {
    closes.add(close);
    if (!scheduled) {
      schedule();
    }
  }

  private void schedule() {
    try {
      loop.schedule(this::drain, 0, TimeUnit.NANOSECONDS);
      scheduled = true;
    } catch (RejectedExecutionException e) {
      drainAll(); // the loop is shutting down: close now
    }
  }

  private void drain() {
    scheduled = false;
    long start = System.nanoTime();
    try {
      Runnable c;
      while ((c = closes.poll()) != null) {
        run(c);
        if (System.nanoTime() - start > BUDGET_NANOS) {
          break;
        }
      }
    } finally {
      // also after an Error escaping a close: the others must not wait for the next peer close
      if (!scheduled && !closes.isEmpty()) {
        schedule();
      }
    }
  }

  private void drainAll() {
    Runnable c;
    while ((c = closes.poll()) != null) {
      run(c);
    }
  }

  private static void run(Runnable close) {
    try {
      close.run();
    } catch (RuntimeException | StackOverflowError e) {
      // each close is exception-safe on its own path (ClientConnection); one failing must not
      // keep the others queued (its stack trace logged once per cause)
      CauseLog.error(LOG, "closing a connection whose peer left failed", e);
    }
  }
}
