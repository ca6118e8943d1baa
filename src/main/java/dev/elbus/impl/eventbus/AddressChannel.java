package dev.elbus.impl.eventbus;

import dev.elbus.client.Frame;
import dev.elbus.client.FrameKind;
import dev.elbus.eventbus.EventBusHeaders;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageProducer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Delivers frames to one event-bus address as {@link Buffer} messages (the payload) with the
 * headers of {@link EventBusHeaders}: {@code send} (point-to-point, one consumer) or {@code
 * publish} (every consumer). At most {@code window} messages are in flight (sent and not yet
 * taken by a consumer, as {@link FlowControl} reports); past that {@link #ready} answers false
 * and the frames wait in the client's queue.
 *
 * <ul>
 *   <li>No consumer: the event bus refuses the message (NO_HANDLERS); the frame is dropped, as an
 *       event-bus message without a consumer is, and counted in {@link #dropped}.
 *   <li>A consumer that takes nothing (paused) for {@value #STALL_MS} ms: one more message is
 *       let through per {@value #STALL_MS} ms. This is how a channel notices that the consumer
 *       went away with messages it never took, or that a new one registered; a paused consumer's
 *       own buffer (1,000 by default) fills only that slowly.
 *   <li>Publish mode with several consumers: the window follows the fastest consumer.
 * </ul>
 *
 * <p>Threading: {@link #ready}, {@link #accept} and {@link #close} run on the owning client's
 * context; {@link #taken} on consumers' threads.
 */
public final class AddressChannel implements FrameSink {
  private static final Logger LOG = LoggerFactory.getLogger(AddressChannel.class);
  /** How long a full window waits for the consumer before letting one message through. */
  static final long STALL_MS = 1_000;

  private final FlowControl flow;
  private final long id;
  private final String address;
  private final boolean publish;
  private final int window;
  private final String label;
  private final MessageProducer<Buffer> producer;
  /** Sequence number of the last message sent (owner context writes; consumers read). */
  private volatile long sent;
  /** Highest sequence number a consumer took (or that the event bus refused). */
  private final AtomicLong taken = new AtomicLong();
  /** Set while the owner waits for room. */
  private final AtomicReference<Runnable> waiter = new AtomicReference<>();
  private final AtomicLong dropped = new AtomicLong();
  private long stallTimer = -1;
  private boolean probe;
  private boolean noConsumer;
  private volatile boolean closed;
  private volatile String origin;

  AddressChannel(FlowControl flow, long id, String address, boolean publish, int window,
      String label) {
    this.flow = flow;
    this.id = id;
    this.address = address;
    this.publish = publish;
    this.window = window;
    this.label = label;
    this.producer = publish ? flow.vertx().eventBus().publisher(address)
        : flow.vertx().eventBus().sender(address);
  }

  long id() {
    return id;
  }

  /** The event-bus address. */
  public String address() {
    return address;
  }

  /** Whether messages are published (every consumer) rather than sent (one consumer). */
  public boolean isPublish() {
    return publish;
  }

  /** Adds the header {@link EventBusHeaders#ORIGIN} with {@code id} to every message. */
  public AddressChannel origin(String id) {
    this.origin = id;
    return this;
  }

  /** Messages sent and not yet taken by a consumer. */
  public long inFlight() {
    return Math.max(0, sent - taken.get());
  }

  /** Frames dropped because the address had no consumer. */
  public long dropped() {
    return dropped.get();
  }

  @Override
  public boolean ready(Frame frame, Runnable wakeUp) {
    return ready(wakeUp);
  }

  /** {@link #ready(Frame, Runnable)} for any frame. */
  public boolean ready(Runnable wakeUp) {
    if (closed || !flow.enabled() || probe || sent - taken.get() < window) {
      return true;
    }
    waiter.set(wakeUp);
    // taken() may have advanced between the check and the set: look again
    if (sent - taken.get() < window && waiter.compareAndSet(wakeUp, null)) {
      return true;
    }
    if (stallTimer < 0) {
      stallTimer = flow.vertx().setTimer(STALL_MS, t -> stalled());
    }
    return false;
  }

  /** The consumer took nothing for a while: let one message through. */
  private void stalled() {
    stallTimer = -1;
    Runnable w = waiter.getAndSet(null);
    if (w != null && !closed) {
      LOG.debug("{}: the consumer of {} took nothing for {} ms ({} in flight); probing",
          label, address, STALL_MS, inFlight());
      probe = true;
      w.run();
    }
  }

  @Override
  public void accept(Frame f) {
    if (closed) {
      return;
    }
    // the next message spends a probe
    probe = false;
    long seq = sent + 1;
    sent = seq;
    DeliveryOptions o = new DeliveryOptions()
        .addHeader(EventBusHeaders.KIND, kind(f.kind()))
        .addHeader(EventBusHeaders.SENDER, f.sender());
    if (f.topic() != null) {
      o.addHeader(EventBusHeaders.TOPIC, f.topic());
    }
    o.addHeader(EventBusHeaders.REALTIME, f.realtime() ? "true" : "false")
        .addHeader(EventBusHeaders.FLOW, FlowControl.stamp(id, seq));
    String org = origin;
    if (org != null) {
      o.addHeader(EventBusHeaders.ORIGIN, org);
    }
    producer.deliveryOptions(o);
    producer.write(f.payload()).onComplete(ar -> {
      if (ar.succeeded()) {
        noConsumer = false;
        return;
      }
      // nobody will take this message, nor any earlier one still in flight
      taken(seq);
      dropped.incrementAndGet();
      if (ar.cause() instanceof ReplyException
          && ((ReplyException) ar.cause()).failureType() == ReplyFailure.NO_HANDLERS) {
        if (!noConsumer) {
          noConsumer = true;
          LOG.debug("{}: no consumer on {}; frames for it are dropped", label, address);
        }
      } else {
        LOG.debug("{}: event-bus delivery to {} failed: {}", label, address, ar.cause().toString());
      }
    });
  }

  /** A consumer took message {@code seq} (any thread). */
  void taken(long seq) {
    long t;
    do {
      t = taken.get();
      if (seq <= t) {
        break;
      }
    } while (!taken.compareAndSet(t, seq));
    Runnable w = waiter.get();
    // wake the owner when half the window is free: one wake-up per half window, not per message
    if (w != null && sent - taken.get() <= window / 2 && waiter.compareAndSet(w, null)) {
      w.run();
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    flow.remove(this);
    if (stallTimer >= 0) {
      flow.vertx().cancelTimer(stallTimer);
      stallTimer = -1;
    }
    Runnable w = waiter.getAndSet(null);
    if (w != null) {
      w.run();
    }
    producer.close();
  }

  static String kind(FrameKind k) {
    switch (k) {
      case MESSAGE:
        return EventBusHeaders.KIND_MESSAGE;
      case BROADCAST:
        return EventBusHeaders.KIND_BROADCAST;
      default:
        return EventBusHeaders.KIND_PUBLISH;
    }
  }

  @Override
  public String toString() {
    return (publish ? "publish to " : "send to ") + address + " (" + inFlight() + " in flight)";
  }
}
