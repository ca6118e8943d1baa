package dev.elbus.impl.net;

import dev.elbus.config.ListenerOptions;
import dev.elbus.impl.routing.BrokerStats;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.AttributeKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Paces a listener's accepts while more than {@code handshake_burst} of its connections are in
 * their handshake ({@link ListenerOptions#getHandshakeRate}). A handler at the head of the
 * listening socket's pipeline, before Netty's acceptor: it sees each connection as it is
 * accepted, on the listener's acceptor thread. Past the burst each accepted connection books
 * {@code 1 / handshake_rate} seconds; once the bookings run more than {@link #SLACK_NANOS} ahead
 * of the clock, the listening socket stops accepting until they are all due. The connections
 * behind wait in the kernel's accept queue (and, once it is full, retry their connect), so a flood of
 * sockets costs the event loops only the connections accepted at the pace, and the registered
 * clients keep their turns (docs/reliability.md, scenario 8).
 *
 * <p>Vert.x does not expose a server's listening channel: the first connection accepted from it
 * {@linkplain #installOn installs} the pacer through {@code Channel.parent()}, so the accepts
 * are paced from the first connection after that one (a listener's first burst of connects
 * reaches the pacer a few connections in).
 */
@ChannelHandler.Sharable
final class AcceptPacer extends ChannelInboundHandlerAdapter {
  private static final Logger LOG = LoggerFactory.getLogger(AcceptPacer.class);
  /**
   * How far ahead of the clock the bookings may run before accepting stops, until they are all
   * due: a paced flood is accepted in batches of about {@code handshake_rate} x this, not with a
   * timer per connection.
   */
  static final long SLACK_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

  private final ListenerRuntime listener;
  private final BrokerStats stats;
  /**
   * Connections this pacer let through that have not reached their event loop yet ({@link
   * #arrived}) nor closed: each is marked with {@link #IN_TRANSIT} until one of the two.
   */
  private final AtomicInteger inTransit = new AtomicInteger();
  private static final AttributeKey<Boolean> IN_TRANSIT =
      AttributeKey.valueOf(AcceptPacer.class, "inTransit");
  /** The listening channel the pacer was last installed on (the check before the install). */
  private volatile Channel installedOn;

  // only on the listening channel's event loop (the acceptor thread)
  /** When the next paced connection is due (nanoTime). */
  private long due = System.nanoTime();
  /** Accepting is off until a scheduled resume. */
  private boolean paused;
  private long lastLog = System.nanoTime() - 120_000_000_000L;

  AcceptPacer(ListenerRuntime listener, BrokerStats stats) {
    this.listener = listener;
    this.stats = stats;
  }

  /**
   * Puts this pacer at the head of {@code server}'s pipeline unless it is there already. Any
   * thread; the pipeline is changed on the listening channel's own event loop.
   */
  void installOn(Channel server) {
    if (installedOn == server) {
      return;
    }
    installedOn = server;
    try {
      server.eventLoop().execute(() -> {
        if (server.isOpen() && server.pipeline().get(AcceptPacer.class) == null) {
          server.pipeline().addFirst("elbus-accept-pacer", this);
        }
      });
    } catch (RejectedExecutionException e) {
      // the listener is closing: nothing left to pace
    }
  }

  /**
   * {@code child} reached its event loop (or closed before it did): it no longer counts as in
   * transit. Any thread; once per connection whatever calls it.
   */
  void arrived(Channel child) {
    if (child.attr(IN_TRANSIT).getAndSet(null) != null) {
      inTransit.decrementAndGet();
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object accepted) {
    try {
      if (accepted instanceof Channel) {
        Channel child = (Channel) accepted;
        child.attr(IN_TRANSIT).set(Boolean.TRUE);
        inTransit.incrementAndGet();
        // a connection Vert.x closes before it reaches a handler (an instance undeploying)
        child.closeFuture().addListener(f -> arrived(child));
      }
      pace(ctx.channel());
    } finally {
      ctx.fireChannelRead(accepted);
    }
  }

  /**
   * Books one accepted connection; pauses {@code server}'s accepts when they run ahead. The
   * connections in their handshake are those that took a slot and those accepted here that have
   * not reached their event loop yet (so that a burst already in the accept queue is paced from
   * its first connections past the burst, not once the event loops have caught up with it).
   */
  private void pace(Channel server) {
    ListenerOptions o = listener.options();
    int rate = o.getHandshakeRate();
    if (rate == 0 || listener.handshakes() + inTransit.get() <= o.getHandshakeBurst()) {
      return;
    }
    long now = System.nanoTime();
    due = Math.max(due, now) + 1_000_000_000L / rate;
    long ahead = due - now;
    if (ahead <= SLACK_NANOS || paused) {
      return;
    }
    try {
      server.eventLoop().schedule(() -> {
        paused = false;
        server.config().setAutoRead(true);
      }, ahead, TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      return; // the listener is closing
    }
    paused = true;
    // stops the read loop of the listening socket after this connection
    server.config().setAutoRead(false);
    stats.countAcceptPause();
    if (now - lastLog > 60_000_000_000L) {
      lastLog = now;
      LOG.warn("listener {}: more than handshake_burst {} connections in their handshake: "
          + "accepting at most handshake_rate {} new connections a second (logged at most once "
          + "a minute, counted as accepts_paused)", listener.label(), o.getHandshakeBurst(),
          rate);
    }
  }
}
