package dev.elbus.impl.net;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.internal.PlatformDependent;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Queue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Per-event-loop scheduling of socket writes, so that a read batch costs one flush per touched
 * socket and one task (one wakeup) per other event loop, never one per message (nats-server's
 * {@code flushClients}).
 *
 * <p>While a connection on this loop processes a read batch ({@link #beginBatch} ..
 * {@link #endBatch}), sessions that received frames are only recorded. At the end of the batch
 * the sessions of this loop are drained (written and flushed once each) and those of other loops
 * are handed to their loop's scheduler in one go; that loop drains them in a single task. Outside
 * a batch (timers, internal clients, other threads) a session is handed over at once.
 *
 * <p>Everything except {@link #offerRemote} is accessed only on this scheduler's event loop.
 */
final class OutboundScheduler {
  private static final FastThreadLocal<OutboundScheduler> CURRENT = new FastThreadLocal<>();

  private final EventLoop loop;
  // accessed only on this event loop
  private final ArrayDeque<SocketSession> local = new ArrayDeque<>();
  private final ArrayList<SocketSession> foreign = new ArrayList<>();
  private int batchDepth;
  private boolean localTaskPending;
  // written by any thread
  private final Queue<SocketSession> remote = PlatformDependent.newMpscQueue();
  private final AtomicBoolean remoteTaskPending = new AtomicBoolean();

  private final Runnable drainLocal = this::drainLocalTask;
  private final Runnable drainRemote = this::drainRemoteTask;

  private OutboundScheduler(EventLoop loop) {
    this.loop = loop;
  }

  /** The scheduler of {@code loop}; must be called on that loop. */
  static OutboundScheduler forLoop(EventLoop loop) {
    assert loop.inEventLoop();
    OutboundScheduler s = CURRENT.get();
    if (s == null) {
      s = new OutboundScheduler(loop);
      CURRENT.set(s);
    }
    return s;
  }

  EventLoop loop() {
    return loop;
  }

  /** Marks the start of a read batch on this loop. */
  void beginBatch() {
    batchDepth++;
  }

  /** Ends a read batch: flushes this loop's touched sessions, hands the others over. */
  void endBatch() {
    if (--batchDepth > 0) {
      return;
    }
    drainLocalNow();
    if (!foreign.isEmpty()) {
      for (int i = 0, n = foreign.size(); i < n; i++) {
        SocketSession s = foreign.get(i);
        s.scheduler().offerRemote(s);
      }
      foreign.clear();
    }
  }

  /**
   * Arranges for {@code s} (a session of this scheduler's loop whose drain flag the caller just
   * set) to be drained. Callable from any thread.
   */
  void schedule(SocketSession s) {
    if (loop.inEventLoop()) {
      local.add(s);
      if (batchDepth == 0 && !localTaskPending) {
        localTaskPending = true;
        loop.execute(drainLocal);
      }
      return;
    }
    OutboundScheduler current = CURRENT.getIfExists();
    if (current != null && current.batchDepth > 0 && current.loop.inEventLoop()) {
      current.foreign.add(s);
    } else {
      offerRemote(s);
    }
  }

  /**
   * {@code s} (a session of this scheduler's loop) has a drain pending and keeps receiving frames:
   * on its own loop its frames are handed to the socket at once, from another thread its loop is
   * asked to drain now instead of when the producer's read batch ends. Callable from any thread.
   */
  void hurry(SocketSession s) {
    if (loop.inEventLoop()) {
      s.drainEarly();
    } else {
      offerRemote(s);
    }
  }

  private void offerRemote(SocketSession s) {
    remote.offer(s);
    if (!remoteTaskPending.get() && remoteTaskPending.compareAndSet(false, true)) {
      try {
        loop.execute(drainRemote);
      } catch (java.util.concurrent.RejectedExecutionException e) {
        // the loop is shutting down: nothing will be written; frames are released on close
        remoteTaskPending.set(false);
      }
    }
  }

  private void drainLocalTask() {
    localTaskPending = false;
    drainLocalNow();
  }

  private void drainLocalNow() {
    SocketSession s;
    while ((s = local.poll()) != null) {
      s.drain();
    }
  }

  private void drainRemoteTask() {
    remoteTaskPending.set(false);
    SocketSession s;
    while ((s = remote.poll()) != null) {
      s.drain();
    }
  }
}
