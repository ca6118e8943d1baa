package dev.elbus.impl.cluster;

import dev.elbus.impl.codec.Buffers;
import dev.elbus.impl.routing.Completion;
import dev.elbus.protocol.Protocol;
import io.netty.buffer.ByteBuf;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * The data path to one other node: batches of frames sent as event-bus requests to the node's
 * inbox, each answered once the node has routed it (with the codes of its acked direct
 * messages). The Vert.x event bus writes to its connection without regard to the peer's pace,
 * so a window bounds the bytes in flight; batches beyond it wait here, in order, up to {@code
 * queue_max_bytes}, and past that are refused (their acked messages get {@code 77}).
 *
 * <p>Order: batches are admitted into the window under this link's monitor, in the order they
 * were submitted, and handed to the event bus in that order by one thread at a time (the one
 * that finds nobody handing over, outside the monitor: it takes the batches others admit
 * meanwhile too); the event bus keeps one connection per node and the inbox one consumer, so
 * frames from one sender to one node arrive in order. A request the event bus fails at once (no
 * handler: the node's inbox is gone) is answered inside the hand-over without nesting: the
 * batches it lets into the window are handed over by the same loop.
 *
 * <p>Thread-safe; the acks are completed outside the monitor, on the thread that got the answer
 * (the context of the thread that handed the batch over).
 */
final class Link {
  private static final Logger LOG = LoggerFactory.getLogger(Link.class);

  final String node;
  private final String address;
  private final Vertx vertx;
  private final DeliveryOptions delivery;
  private final long window;
  private final long queueMax;
  private final ClusterStats stats;

  // guarded by this
  private final ArrayDeque<Batch> waiting = new ArrayDeque<>();
  private final LinkedHashSet<Batch> inFlight = new LinkedHashSet<>();
  /** In flight (counted in the window) but not handed to the event bus yet, in order. */
  private final ArrayDeque<Batch> admitted = new ArrayDeque<>();
  /** A thread is handing {@link #admitted} to the event bus. */
  private boolean handing;
  private long waitingBytes;
  private long inFlightBytes;
  private boolean closed;
  private boolean refusing;

  Link(String node, Vertx vertx, long timeoutMs, long window, long queueMax, ClusterStats stats) {
    this.node = node;
    this.address = ClusterNode.inbox(node);
    this.vertx = vertx;
    this.delivery = new DeliveryOptions().setSendTimeout(timeoutMs);
    this.window = window;
    this.queueMax = queueMax;
    this.stats = stats;
  }

  /** A batch of frames for this link, written by one thread, then {@link #submit submitted}. */
  static final class Batch {
    final ByteBuf buf;
    /** The acks of the batch's acked entries, in order (the reply's codes follow it). */
    List<Completion> acks;
    int frames;
    /** Its size, once admitted into the window. */
    long bytes;

    Batch(ByteBuf buf) {
      this.buf = buf;
    }

    void ack(Completion c) {
      if (acks == null) {
        acks = new ArrayList<>(4);
      }
      acks.add(c);
    }
  }

  /** Sends {@code b} now, or queues it behind the window, or refuses it when the queue is full. */
  void submit(Batch b) {
    long bytes = b.buf.readableBytes();
    int refusedCode = 0;
    synchronized (this) {
      if (closed) {
        refusedCode = Protocol.ERR_CLIENT_NOT_REGISTERED; // the node is gone, and its names
      } else if (waiting.isEmpty() && (inFlight.isEmpty() || inFlightBytes + bytes <= window)) {
        admit(b, bytes);
      } else if (waitingBytes + bytes > queueMax && !waiting.isEmpty()) {
        refusedCode = Protocol.ERR_NOT_DELIVERED;
        if (!refusing) {
          refusing = true;
          LOG.warn("cluster: node {} is not keeping up: {} bytes wait for it (queue_max_bytes);"
              + " frames for it are refused (acked messages get 77) until it catches up", node,
              waitingBytes);
        }
      } else {
        waiting.add(b);
        waitingBytes += bytes;
      }
    }
    if (refusedCode != 0) {
      stats.refused.add(b.frames);
      completeAll(b, refusedCode);
    } else {
      handOver();
    }
  }

  /** Counts {@code b} in the window, to be handed over (under the monitor). */
  private void admit(Batch b, long bytes) {
    b.bytes = bytes;
    inFlight.add(b);
    inFlightBytes += bytes;
    admitted.add(b);
  }

  /**
   * Hands the admitted batches to the event bus, in order, unless another thread (or this one,
   * further up the stack) is doing it: it takes them. Outside the monitor.
   */
  private void handOver() {
    synchronized (this) {
      if (handing || admitted.isEmpty()) {
        return;
      }
      handing = true;
    }
    while (true) {
      Batch b;
      synchronized (this) {
        b = admitted.poll();
        if (b == null) {
          handing = false;
          return;
        }
      }
      stats.batchesOut.increment();
      stats.framesOut.add(b.frames);
      stats.bytesOut.add(b.bytes);
      Future<Message<Buffer>> reply;
      try {
        reply = vertx.eventBus().request(address, Buffers.buffer(b.buf), delivery);
      } catch (RuntimeException e) {
        reply = Future.failedFuture(e); // the event bus is closed
      }
      // may run at once (the event bus failed it): answered() hands nothing over then
      reply.onComplete(ar -> answered(b, ar));
    }
  }

  private void answered(Batch b, AsyncResult<Message<Buffer>> ar) {
    synchronized (this) {
      if (!inFlight.remove(b)) {
        return; // failed by close() already
      }
      inFlightBytes -= b.bytes;
      Batch next;
      while ((next = waiting.peek()) != null && !closed
          && (inFlight.isEmpty() || inFlightBytes + next.buf.readableBytes() <= window)) {
        waiting.poll();
        long n = next.buf.readableBytes();
        waitingBytes -= n;
        admit(next, n);
      }
      if (refusing && waitingBytes <= queueMax / 2) {
        refusing = false;
        LOG.info("cluster: node {} caught up ({} bytes waiting)", node, waitingBytes);
      }
    }
    handOver();
    if (b.acks == null) {
      if (ar.failed()) {
        logFailure(ar.cause());
      }
      return;
    }
    if (ar.succeeded()) {
      ByteBuf codes = Buffers.byteBuf(ar.result().body());
      for (int i = 0; i < b.acks.size(); i++) {
        int code = i < codes.readableBytes() ? codes.getUnsignedByte(codes.readerIndex() + i)
            : Protocol.ERR_OTHER;
        b.acks.get(i).complete(code);
      }
    } else {
      logFailure(ar.cause());
      completeAll(b, failureCode(ar.cause()));
    }
  }

  /**
   * The ack of a message whose batch got no answer: {@code 71} when the node has no inbox any
   * more (it is leaving: the message was not delivered, and its names go), else {@code 78}.
   */
  static int failureCode(Throwable t) {
    if (t instanceof ReplyException && ((ReplyException) t).failureType()
        == ReplyFailure.NO_HANDLERS) {
      return Protocol.ERR_CLIENT_NOT_REGISTERED;
    }
    return Protocol.ERR_TIMEOUT;
  }

  private void logFailure(Throwable t) {
    stats.failedBatches.increment();
    LOG.debug("cluster: a batch to node {} got no answer: {}", node, t.toString());
  }

  private static void completeAll(Batch b, int code) {
    if (b.acks != null) {
      for (Completion c : b.acks) {
        c.complete(code);
      }
    }
  }

  /**
   * The node left: every batch in flight or waiting is failed ({@code 78} for those in flight,
   * whose fate is unknown; {@code 71} for those never sent), and later submissions are refused.
   */
  void close() {
    List<Batch> sent;
    List<Batch> unsent;
    synchronized (this) {
      closed = true;
      inFlight.removeAll(admitted);
      sent = new ArrayList<>(inFlight);
      unsent = new ArrayList<>(admitted);
      unsent.addAll(waiting);
      inFlight.clear();
      admitted.clear();
      waiting.clear();
      inFlightBytes = 0;
      waitingBytes = 0;
    }
    for (Batch b : sent) {
      completeAll(b, Protocol.ERR_TIMEOUT);
    }
    for (Batch b : unsent) {
      completeAll(b, Protocol.ERR_CLIENT_NOT_REGISTERED);
    }
  }

  /** Bytes in flight and waiting (for stats). */
  synchronized long[] backlog() {
    return new long[] {inFlightBytes, waitingBytes};
  }
}
