package dev.elbus.net;

import dev.elbus.protocol.Protocol;
import dev.elbus.routing.ClientKind;
import dev.elbus.routing.CloseReason;
import dev.elbus.routing.Session;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.util.internal.PlatformDependent;

import java.util.Queue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A client registered over a socket. Frames for it are queued by any router thread in a bounded
 * multi-producer queue (frames and bytes) and drained into the channel on the connection's own
 * event loop by its {@link OutboundScheduler}, only while the channel is writable: the queue holds
 * what the socket cannot take yet, and overflowing it disconnects the client (slow consumer,
 * PROTOCOL.md section 6).
 */
final class SocketSession extends Session {
  /** Frames written per drain before yielding the event loop to other work. */
  private static final int DRAIN_BUDGET = 4096;
  /** Frames up to this size are copied into a coalescing buffer when drained. */
  private static final int COALESCE_FRAME = 1024;
  /** Size of a coalescing buffer. */
  private static final int COALESCE_BYTES = 16384;

  private final ClientConnection conn;
  private final ListenerRuntime listener;
  private final ChannelHandlerContext ctx;
  private final OutboundScheduler scheduler;
  private final int queueSize;
  private final long queueMaxBytes;

  private final Queue<ByteBuf> queue = PlatformDependent.newMpscQueue();
  private final AtomicInteger queued = new AtomicInteger();
  private final AtomicLong queuedBytes = new AtomicLong();
  private final AtomicBoolean drainScheduled = new AtomicBoolean();
  /** Set once the connection is closing: nothing more is accepted. */
  private volatile boolean closed;

  SocketSession(String name, ClientKind kind, String source, String port, ClientConnection conn,
      ChannelHandlerContext ctx, OutboundScheduler scheduler, int queueSize, long queueMaxBytes,
      ListenerRuntime listener) {
    super(name, kind, source, port);
    this.listener = listener;
    this.conn = conn;
    this.ctx = ctx;
    this.scheduler = scheduler;
    this.queueSize = queueSize;
    this.queueMaxBytes = queueMaxBytes;
  }

  @Override
  public ListenerRuntime origin() {
    return listener;
  }

  OutboundScheduler scheduler() {
    return scheduler;
  }

  @Override
  public int deliver(ByteBuf frame, boolean realtime) {
    // Every frame, realtime or not, is flushed at the end of the read batch (or task) that
    // produced it: coalescing never outlives one event-loop iteration, well within buf_ttl.
    if (closed) {
      frame.release();
      return Protocol.ERR_NOT_DELIVERED;
    }
    int size = frame.readableBytes();
    int q = queued.incrementAndGet();
    long bytes = queuedBytes.addAndGet(size);
    if (q > queueSize || (bytes > queueMaxBytes && q > 1)) {
      queued.decrementAndGet();
      queuedBytes.addAndGet(-size);
      frame.release();
      conn.disconnect(CloseReason.SLOW_CONSUMER);
      return Protocol.ERR_NOT_DELIVERED;
    }
    queue.offer(frame);
    if (!drainScheduled.get() && drainScheduled.compareAndSet(false, true)) {
      scheduler.schedule(this);
    }
    return Protocol.RESPONSE_OK;
  }

  /**
   * Writes queued frames while the channel is writable, then flushes. Small frames are copied
   * into one buffer of up to {@link #COALESCE_BYTES} (one outbound entry and one iovec instead of
   * one per frame); large ones are written as they are. On the event loop.
   */
  void drain() {
    drainScheduled.set(false);
    if (closed) {
      releaseQueued();
      return;
    }
    io.netty.channel.Channel ch = ctx.channel();
    int budget = DRAIN_BUDGET;
    boolean wrote = false;
    ByteBuf out = null;
    ByteBuf f;
    while (budget-- > 0 && ch.isWritable() && (f = queue.poll()) != null) {
      int n = f.readableBytes();
      queued.decrementAndGet();
      queuedBytes.addAndGet(-n);
      if (n <= COALESCE_FRAME) {
        if (out != null && out.writableBytes() < n) {
          ctx.write(out, ctx.voidPromise());
          out = null;
        }
        if (out == null) {
          out = ctx.alloc().directBuffer(COALESCE_BYTES);
        }
        out.writeBytes(f, f.readerIndex(), n);
        f.release();
      } else {
        if (out != null) {
          ctx.write(out, ctx.voidPromise());
          out = null;
        }
        ctx.write(f, ctx.voidPromise());
      }
      wrote = true;
    }
    if (out != null) {
      ctx.write(out, ctx.voidPromise());
    }
    if (wrote) {
      ctx.flush();
    }
    // budget spent with the socket still writable: continue in a later task; when the socket is
    // full, channelWritabilityChanged resumes the drain
    if (!queue.isEmpty() && ch.isWritable() && drainScheduled.compareAndSet(false, true)) {
      scheduler.schedule(this);
    }
  }

  /** Marks the session closed; frames already queued are released on the event loop. */
  void markClosed() {
    closed = true;
  }

  boolean isClosed() {
    return closed;
  }

  /** Releases every queued frame. On the event loop (the queue's single consumer). */
  void releaseQueued() {
    ByteBuf f;
    while ((f = queue.poll()) != null) {
      queued.decrementAndGet();
      queuedBytes.addAndGet(-f.readableBytes());
      f.release();
    }
  }

  @Override
  public void disconnect(CloseReason reason) {
    conn.disconnect(reason);
  }

  @Override
  public int queued() {
    return Math.max(0, queued.get());
  }

  @Override
  public boolean flushed() {
    if (queued.get() > 0) {
      return false;
    }
    io.netty.channel.ChannelOutboundBuffer ob = ctx.channel().unsafe().outboundBuffer();
    return ob == null || ob.totalPendingWriteBytes() == 0;
  }

  long queuedBytes() {
    return Math.max(0, queuedBytes.get());
  }
}
