package dev.elbus.impl.eventbus;

import dev.elbus.eventbus.EventBusHeaders;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryContext;
import io.vertx.core.eventbus.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Flow control for the broker's event-bus deliveries: learns when a consumer has taken a
 * message the broker sent, so that an {@link AddressChannel} keeps at most its window of
 * messages between the broker and the consumer (docs/eventbus.md).
 *
 * <p>The Vert.x event bus gives a sender no back-pressure: a consumer that lags takes messages
 * into its context's task queue without bound, and a paused consumer buffers 1,000 (by default)
 * and then discards every further message with a warning per message. So every message a channel
 * sends carries a {@link EventBusHeaders#FLOW} stamp ({@code CHANNEL:SEQ}), and one inbound
 * interceptor, run by Vert.x on the consumer's context just before the consumer's handler, hands
 * the stamp back to its channel. Messages to other addresses cost the interceptor one map lookup.
 *
 * <p>A clustered event bus runs a remote consumer's interceptors on the remote node, so there the
 * windows are off ({@link #enabled}) and a consumer's own limits apply.
 *
 * <p>Threading: the interceptor runs on consumers' threads; registration on any thread.
 */
public final class FlowControl {
  private static final Logger LOG = LoggerFactory.getLogger(FlowControl.class);

  private final Vertx vertx;
  private final boolean enabled;
  private final AtomicLong ids = new AtomicLong();
  private final ConcurrentHashMap<Long, AddressChannel> channels = new ConcurrentHashMap<>();
  /** Addresses some channel sends to, with the number of such channels. */
  private final ConcurrentHashMap<String, Integer> addresses = new ConcurrentHashMap<>();
  private final Handler<DeliveryContext<Object>> interceptor = this::intercept;
  private volatile boolean installed;

  public FlowControl(Vertx vertx) {
    this.vertx = vertx;
    this.enabled = !vertx.isClustered();
  }

  public Vertx vertx() {
    return vertx;
  }

  /** Whether windows apply (false on a clustered event bus). */
  public boolean enabled() {
    return enabled;
  }

  /**
   * A new channel to {@code address}, owned by the caller's context.
   *
   * @param publish publish to every consumer instead of sending to one
   * @param window messages in flight at most (sent and not yet taken by the consumer)
   * @param label who sends, for log lines
   */
  public AddressChannel channel(String address, boolean publish, int window, String label) {
    if (address == null || address.isEmpty()) {
      throw new IllegalArgumentException("event-bus address must not be empty");
    }
    if (window < 1) {
      throw new IllegalArgumentException("window must be positive: " + window);
    }
    install();
    AddressChannel c = new AddressChannel(this, ids.incrementAndGet(), address, publish, window,
        label);
    channels.put(c.id(), c);
    addresses.merge(address, 1, Integer::sum);
    return c;
  }

  void remove(AddressChannel c) {
    if (channels.remove(c.id(), c)) {
      addresses.computeIfPresent(c.address(), (a, n) -> n == 1 ? null : n - 1);
    }
  }

  private synchronized void install() {
    if (!installed && enabled) {
      vertx.eventBus().addInboundInterceptor(interceptor);
      installed = true;
    }
  }

  /** Removes the interceptor; channels still open stop being flow-controlled. */
  public synchronized void close() {
    if (installed) {
      vertx.eventBus().removeInboundInterceptor(interceptor);
      installed = false;
    }
  }

  private void intercept(DeliveryContext<Object> dc) {
    try {
      Message<Object> m = dc.message();
      if (!addresses.isEmpty() && addresses.containsKey(m.address())) {
        String stamp = m.headers().get(EventBusHeaders.FLOW);
        if (stamp != null) {
          taken(stamp);
        }
      }
    } catch (RuntimeException e) {
      LOG.debug("flow control: bad stamp", e);
    } finally {
      dc.next();
    }
  }

  /** Parses {@code CHANNEL:SEQ} without allocating. */
  private void taken(String stamp) {
    int colon = stamp.indexOf(':');
    if (colon <= 0) {
      return;
    }
    long id = digits(stamp, 0, colon);
    long seq = digits(stamp, colon + 1, stamp.length());
    if (id < 0 || seq < 0) {
      return;
    }
    AddressChannel c = channels.get(id);
    if (c != null) {
      c.taken(seq);
    }
  }

  private static long digits(String s, int from, int to) {
    if (from >= to || to - from > 18) {
      return -1;
    }
    long v = 0;
    for (int i = from; i < to; i++) {
      char ch = s.charAt(i);
      if (ch < '0' || ch > '9') {
        return -1;
      }
      v = v * 10 + (ch - '0');
    }
    return v;
  }

  /** The stamp of message {@code seq} of channel {@code id}. */
  static String stamp(long id, long seq) {
    return id + ":" + seq;
  }
}
