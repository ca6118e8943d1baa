package dev.elbus.impl.cluster;

import dev.elbus.impl.codec.Buffers;
import dev.elbus.impl.routing.Completion;
import dev.elbus.protocol.Protocol;
import io.netty.buffer.ByteBuf;
import io.vertx.core.AsyncResult;
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
 * <p>Order: batches are handed to the event bus under this link's monitor, in the order they
 * were submitted; the event bus keeps one connection per node and the inbox one consumer, so
 * frames from one sender to one node arrive in order.
 *
 * <p>Thread-safe; the acks are completed outside the monitor.
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
        send(b, bytes);
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
    }
  }

  /** Under the monitor. */
  private void send(Batch b, long bytes) {
    inFlight.add(b);
    inFlightBytes += bytes;
    stats.batchesOut.increment();
    stats.framesOut.add(b.frames);
    stats.bytesOut.add(bytes);
    vertx.eventBus().<Buffer>request(address, Buffers.buffer(b.buf), delivery)
        .onComplete(ar -> answered(b, bytes, ar));
  }

  private void answered(Batch b, long bytes, AsyncResult<Message<Buffer>> ar) {
    synchronized (this) {
      if (!inFlight.remove(b)) {
        return; // failed by close() already
      }
      inFlightBytes -= bytes;
      Batch next;
      while ((next = waiting.peek()) != null && !closed
          && (inFlight.isEmpty() || inFlightBytes + next.buf.readableBytes() <= window)) {
        waiting.poll();
        long n = next.buf.readableBytes();
        waitingBytes -= n;
        send(next, n);
      }
      if (refusing && waitingBytes <= queueMax / 2) {
        refusing = false;
        LOG.info("cluster: node {} caught up ({} bytes waiting)", node, waitingBytes);
      }
    }
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
      sent = new ArrayList<>(inFlight);
      unsent = new ArrayList<>(waiting);
      inFlight.clear();
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
