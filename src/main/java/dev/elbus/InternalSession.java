package dev.elbus;

import dev.elbus.client.Frame;
import dev.elbus.protocol.Protocol;
import dev.elbus.routing.ClientKind;
import dev.elbus.routing.CloseReason;
import dev.elbus.routing.Router;
import dev.elbus.routing.Session;
import io.netty.buffer.ByteBuf;
import io.netty.util.internal.PlatformDependent;
import io.vertx.core.Context;
import io.vertx.core.Handler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Queue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An in-process client's session: frames are queued (unbounded: an internal client is never
 * disconnected for being slow, and a router thread never waits for it) and handed to the
 * client's handler on its Vert.x context, in order, one task per burst. A queue that grows past
 * {@link #WARN_QUEUED} frames is logged, once per crossing.
 */
final class InternalSession extends Session {
  private static final Logger LOG = LoggerFactory.getLogger(InternalSession.class);
  /** Backlog past which a slow internal consumer is reported. */
  static final int WARN_QUEUED = 65_536;

  private final Router router;
  private final Context context;
  private final Queue<ByteBuf> queue = PlatformDependent.newMpscQueue();
  private final AtomicInteger queued = new AtomicInteger();
  private final AtomicBoolean scheduled = new AtomicBoolean();
  private volatile Handler<Frame> handler;
  private volatile boolean closed;
  private boolean warned;

  InternalSession(String name, Router router, Context context) {
    super(name, ClientKind.INTERNAL, null, null);
    this.router = router;
    this.context = context;
  }

  void handler(Handler<Frame> h) {
    this.handler = h;
  }

  @Override
  public int deliver(ByteBuf frame, boolean realtime) {
    if (closed) {
      frame.release();
      return Protocol.ERR_NOT_DELIVERED;
    }
    queue.offer(frame);
    int q = queued.incrementAndGet();
    if (q == WARN_QUEUED) {
      LOG.warn("internal client {} is falling behind: {} frames queued", name(), q);
    }
    if (!scheduled.get() && scheduled.compareAndSet(false, true)) {
      context.runOnContext(v -> drain());
    }
    return Protocol.RESPONSE_OK;
  }

  private void drain() {
    scheduled.set(false);
    ByteBuf f;
    while ((f = queue.poll()) != null) {
      queued.decrementAndGet();
      try {
        if (closed) {
          continue;
        }
        int type = f.getUnsignedByte(f.readerIndex());
        if (type == Protocol.FRAME_NOP || type == Protocol.FRAME_ACK) {
          continue;
        }
        boolean rt = f.getByte(f.readerIndex() + 5) != 0;
        Frame frame = Frame.parse(type, rt,
            f.slice(f.readerIndex() + Protocol.BROKER_HEADER_SIZE,
                f.readableBytes() - Protocol.BROKER_HEADER_SIZE));
        Handler<Frame> h = handler;
        if (h != null) {
          h.handle(frame);
        }
      } catch (RuntimeException e) {
        LOG.warn("internal client {}: frame handler failed", name(), e);
      } finally {
        f.release();
      }
    }
  }

  @Override
  public void disconnect(CloseReason reason) {
    if (!closed) {
      closed = true;
      router.unregister(this);
      router.stats().countClose(reason);
      LOG.info("internal client {} disconnected: {}", name(), reason.key());
      if (!scheduled.get() && scheduled.compareAndSet(false, true)) {
        context.runOnContext(v -> drain());
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
}
