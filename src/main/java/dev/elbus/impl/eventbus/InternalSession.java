package dev.elbus.impl.eventbus;

import dev.elbus.client.Frame;
import dev.elbus.client.FrameKind;
import dev.elbus.config.InternalClientOptions.Overflow;
import dev.elbus.config.InternalClientOptions;
import dev.elbus.impl.routing.ClientKind;
import dev.elbus.impl.routing.CloseReason;
import dev.elbus.impl.routing.Router;
import dev.elbus.impl.routing.Session;
import dev.elbus.protocol.Protocol;
import dev.elbus.rpc.RpcClient;
import io.netty.buffer.ByteBuf;
import io.netty.util.internal.PlatformDependent;
import io.vertx.core.Context;
import io.vertx.core.Handler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Queue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;

/**
 * An in-process client's session: frames are queued and handed over on the client's Vert.x
 * context, in order, one task per burst: direct messages to the RPC layer when the client is in
 * RPC mode, every other frame to the Java handler and to the sink (the client's event-bus address,
 * or the bridge). A sink that cannot take more (its consumer lags) stops the hand-over and the
 * frames wait here.
 *
 * <p>The queue is bounded in frames and bytes ({@link InternalClientOptions}); a router thread
 * never waits for it. A frame past the bound is refused (the client counts it as dropped, a direct
 * sender gets 77) or disconnects the client, by its {@link Overflow} policy. A refusal episode is
 * logged once when it starts and once when the queue has fallen below half of its bound again.
 */
final class InternalSession extends Session {
  private static final Logger LOG = LoggerFactory.getLogger(InternalSession.class);

  private final Router router;
  private final Context context;
  private final String address;
  private final FrameSink sink;
  private final Queue<ByteBuf> queue = PlatformDependent.newMpscQueue();
  private final AtomicInteger queued = new AtomicInteger();
  private final AtomicLong queuedBytes = new AtomicLong();
  private final AtomicBoolean scheduled = new AtomicBoolean();
  private final int queueSize;
  private final long queueMaxBytes;
  private final Overflow overflow;
  /** Frames refused at the bound (REFUSE policy). */
  private final LongAdder dropped = new LongAdder();
  /** A refusal was logged and the queue has not fallen below half its bound since. */
  private final AtomicBoolean full = new AtomicBoolean();
  /** {@link #dropped} when the current refusal episode started. */
  private volatile long droppedAtEpisode;
  /** The sink refused a frame and will wake the drain: new frames need not schedule it. */
  private volatile boolean sinkBlocked;
  private final Runnable wakeUp = this::wakeUp;
  private volatile Handler<Frame> handler;
  private volatile Handler<Frame> rpcHandler;
  private volatile RpcClient rpc;
  private volatile boolean closed;
  /** Guards {@link #disconnect}: the first caller does the work. */
  private final AtomicBoolean closing = new AtomicBoolean();
  /** What overflowed, for the slow-consumer log line. */
  private volatile String slowDetail;
  private boolean sinkClosed;
  /** The head frame, parsed, that the sink refused (touched on the client's context only). */
  private Frame held;

  /** {@code options} has its bounds and policy set ({@link InternalClientOptions#withDefaults}). */
  InternalSession(String name, Router router, Context context, String address, FrameSink sink,
      InternalClientOptions options) {
    super(name, ClientKind.INTERNAL, null, null);
    this.router = router;
    this.context = context;
    this.address = address;
    this.sink = sink;
    this.queueSize = options.getQueueSize();
    this.queueMaxBytes = options.getQueueMaxBytes();
    this.overflow = options.getOverflow();
  }

  void handler(Handler<Frame> h) {
    this.handler = h;
  }

  /** Sets the RPC layer's handler: from now on direct messages go to it only. */
  void rpcHandler(Handler<Frame> h) {
    this.rpcHandler = h;
  }

  /** The client's RpcClient, created by {@code factory} on first use. */
  synchronized RpcClient rpc(Function<InternalSession, RpcClient> factory) {
    if (rpc == null) {
      rpc = factory.apply(this);
    }
    return rpc;
  }

  boolean hasRpc() {
    return rpcHandler != null;
  }

  Context context() {
    return context;
  }

  /** The event-bus address frames go to, or {@code null}. */
  String address() {
    return address;
  }

  @Override
  public int deliver(ByteBuf frame, boolean realtime) {
    if (closed) {
      frame.release();
      return Protocol.ERR_NOT_DELIVERED;
    }
    int size = frame.readableBytes() + QUEUED_FRAME_OVERHEAD;
    int q = queued.incrementAndGet();
    long bytes = queuedBytes.addAndGet(size);
    if (q > queueSize || (bytes > queueMaxBytes && q > 1)) {
      queued.decrementAndGet();
      queuedBytes.addAndGet(-size);
      frame.release();
      overflow(q - 1, bytes - size);
      return Protocol.ERR_NOT_DELIVERED;
    }
    queue.offer(frame);
    if (!sinkBlocked && !scheduled.get() && scheduled.compareAndSet(false, true)) {
      context.runOnContext(v -> drain());
    }
    return Protocol.RESPONSE_OK;
  }

  /** A frame found the queue full ({@code q} frames, {@code bytes} bytes): apply the policy. */
  private void overflow(int q, long bytes) {
    if (overflow == Overflow.DISCONNECT) {
      if (slowDetail == null) {
        slowDetail = q + " frames, " + bytes + " bytes queued; bound " + queueSize + " frames, "
            + queueMaxBytes + " bytes";
      }
      disconnect(CloseReason.SLOW_CONSUMER);
      return;
    }
    dropped.increment();
    router.stats().countDropped();
    if (!full.get() && full.compareAndSet(false, true)) {
      droppedAtEpisode = dropped.sum() - 1;
      LOG.warn("internal client {} is not keeping up: {} frames, {} bytes queued (bound {} frames,"
          + " {} bytes); refusing frames until it catches up", name(), q, bytes, queueSize,
          queueMaxBytes);
    }
  }

  private void wakeUp() {
    sinkBlocked = false;
    schedule();
  }

  private void schedule() {
    if (!scheduled.get() && scheduled.compareAndSet(false, true)) {
      context.runOnContext(v -> drain());
    }
  }

  private void drain() {
    scheduled.set(false);
    if (full.get() && queued.get() <= queueSize / 2 && queuedBytes.get() <= queueMaxBytes / 2) {
      full.set(false);
      LOG.info("internal client {} caught up: {} frames queued, {} frames refused", name(),
          queued.get(), dropped.sum() - droppedAtEpisode);
    }
    while (true) {
      Frame frame = held;
      if (frame == null) {
        ByteBuf f = queue.poll();
        if (f == null) {
          break;
        }
        queuedBytes.addAndGet(-(f.readableBytes() + QUEUED_FRAME_OVERHEAD));
        try {
          frame = parse(f);
        } finally {
          f.release();
        }
        if (frame == null) {
          queued.decrementAndGet();
          continue;
        }
      }
      held = null;
      if (closed) {
        queued.decrementAndGet();
        continue;
      }
      boolean toRpc = frame.kind() == FrameKind.MESSAGE && rpcHandler != null;
      if (sink != null && !toRpc) {
        sinkBlocked = true;
        if (!sink.ready(frame, wakeUp)) {
          held = frame; // still counted as queued; the sink runs wakeUp when it has room
          return;
        }
        sinkBlocked = false;
      }
      queued.decrementAndGet();
      if (toRpc) {
        handle(rpcHandler, frame, "RPC layer");
      } else {
        handle(handler, frame, "frame handler");
        if (sink != null) {
          try {
            sink.accept(frame);
          } catch (RuntimeException e) {
            LOG.warn("internal client {}: delivering a frame failed", name(), e);
          }
        }
      }
    }
    if (closed && sink != null && !sinkClosed) {
      sinkClosed = true;
      sink.close();
    }
  }

  /** The frame of a queued broker frame; {@code null} for pings, acks and malformed frames. */
  private Frame parse(ByteBuf f) {
    int type = f.getUnsignedByte(f.readerIndex());
    if (closed || type == Protocol.FRAME_NOP || type == Protocol.FRAME_ACK) {
      return null;
    }
    try {
      boolean rt = f.getByte(f.readerIndex() + 5) != 0;
      return Frame.parse(type, rt, f.slice(f.readerIndex() + Protocol.BROKER_HEADER_SIZE,
          f.readableBytes() - Protocol.BROKER_HEADER_SIZE));
    } catch (RuntimeException e) {
      LOG.warn("internal client {}: dropped a malformed frame", name(), e);
      return null;
    }
  }

  private void handle(Handler<Frame> h, Frame frame, String what) {
    if (h == null) {
      return;
    }
    try {
      h.handle(frame);
    } catch (RuntimeException e) {
      LOG.warn("internal client {}: {} failed", name(), what, e);
    }
  }

  @Override
  public void disconnect(CloseReason reason) {
    if (closing.compareAndSet(false, true)) {
      closed = true;
      router.unregister(this);
      router.stats().countClose(reason);
      if (reason == CloseReason.SLOW_CONSUMER) {
        LOG.warn("internal client {} disconnected: slow_consumer ({})", name(), slowDetail);
      } else {
        LOG.info("internal client {} disconnected: {}", name(), reason.key());
      }
      // drain releases what is queued and closes the sink, on the client's context
      sinkBlocked = false;
      schedule();
      RpcClient r = rpc;
      if (r != null) {
        r.close();
      }
    }
  }

  boolean isClosed() {
    return closed;
  }

  @Override
  public int queued() {
    return Math.max(0, queued.get());
  }

  @Override
  public long dropped() {
    return dropped.sum();
  }
}
