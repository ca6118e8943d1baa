package dev.elbus.impl.net;

import dev.elbus.impl.codec.FrameEncoder;
import dev.elbus.impl.routing.ClientKind;
import dev.elbus.impl.routing.CloseReason;
import dev.elbus.impl.routing.Session;
import dev.elbus.protocol.Protocol;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.util.internal.PlatformDependent;

import java.util.Queue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A client registered over a socket. Frames for it are queued by any router thread in a
 * multi-producer queue and handed to the channel on the connection's own event loop by its
 * {@link OutboundScheduler}, while the channel is writable: the queue holds what the socket cannot
 * take yet.
 *
 * <p>The bound (PROTOCOL.md section 6, docs/protocol-notes.md "Slow consumers"): a slow consumer is
 * a client that does not read. A frame that arrives while more than {@code queue_size} frames wait
 * and the socket has taken no bytes for {@code write_timeout} drops the client; so does a frame
 * that would make the queue hold more than {@code queue_max_bytes} (each frame counted with {@link
 * #FRAME_OVERHEAD}), which bounds the memory of a client that reads, but slower than it is sent
 * to. While a read batch keeps queueing frames for a session, they are handed to the socket every
 * {@link #EARLY_FRAMES} frames or {@code 2^}{@link #EARLY_BYTES_SHIFT} bytes rather than only when
 * the batch ends, so a burst waits in the socket, not here.
 */
final class SocketSession extends Session {
  /** Frames written per drain before yielding the event loop to other work. */
  private static final int DRAIN_BUDGET = 4096;
  /** While a drain is pending, every this many queued frames hand the queue to the socket. */
  static final int EARLY_FRAMES = 256;
  /** ... and every 2^this many queued bytes (256 KiB). */
  static final int EARLY_BYTES_SHIFT = 18;
  private static final int FRAME_OVERHEAD = QUEUED_FRAME_OVERHEAD;
  /** Frames up to this size are copied into a coalescing buffer when drained. */
  private static final int COALESCE_FRAME = 1024;
  /** Size of a coalescing buffer. */
  private static final int COALESCE_BYTES = 16384;

  private final ClientConnection conn;
  private final ListenerRuntime listener;
  private final ChannelHandlerContext ctx;
  /** Where coalescing buffers come from: the router's allocator. */
  private final ByteBufAllocator alloc;
  private final OutboundScheduler scheduler;
  private final int queueSize;
  private final long queueMaxBytes;
  private final long writeTimeoutNanos;

  private final Queue<ByteBuf> queue = PlatformDependent.newMpscQueue();
  private final AtomicInteger queued = new AtomicInteger();
  private final AtomicLong queuedBytes = new AtomicLong();
  /** A {@link #drain} is pending (the session sits in a scheduler's list or task). */
  private final AtomicBoolean drainScheduled = new AtomicBoolean();
  // accessed only on the event loop
  /** {@link #write} is running: a nested call (from a flush) only asks it to go on. */
  private boolean writing;
  private boolean writeAgain;
  /** Frames were written to the channel and not flushed yet (by an early, non-flushing write). */
  private boolean unflushed;
  /**
   * Small frames copied here by the same-loop fast path ({@link #append}), not yet written to the
   * channel; the next {@link #write} writes them first (it may add queued frames to it).
   */
  private ByteBuf coalescing;
  /** Set once the connection is closing: nothing more is accepted. */
  private volatile boolean closed;
  /** When the channel last stopped being writable ({@link System#nanoTime}), 0 while writable. */
  private volatile long unwritableSince;
  /** Why this client was dropped as a slow consumer, for the log line. */
  private volatile String dropDetail;

  SocketSession(String name, ClientKind kind, String source, String port, ClientConnection conn,
      ChannelHandlerContext ctx, OutboundScheduler scheduler, ListenerRuntime listener,
      ByteBufAllocator alloc) {
    super(name, kind, source, port);
    this.alloc = alloc;
    this.listener = listener;
    this.conn = conn;
    this.ctx = ctx;
    this.scheduler = scheduler;
    this.queueSize = listener.options().getQueueSize();
    this.queueMaxBytes = listener.options().getQueueMaxBytes();
    this.writeTimeoutNanos = listener.options().getWriteTimeoutMs() * 1_000_000;
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
    int n = frame.readableBytes();
    if (n <= COALESCE_FRAME && appendable()) {
      append(frame, n);
      return Protocol.RESPONSE_OK;
    }
    int size = n + FRAME_OVERHEAD;
    int q = queued.incrementAndGet();
    long bytes = queuedBytes.addAndGet(size);
    if ((bytes > queueMaxBytes && q > 1) || (q > queueSize && stalled())) {
      queued.decrementAndGet();
      queuedBytes.addAndGet(-size);
      frame.release();
      if (dropDetail == null) {
        dropDetail = bytes > queueMaxBytes && q > 1
            ? "queue would exceed " + queueMaxBytes + " bytes (queue_max_bytes)"
            : q - 1 + " frames queued and the socket took nothing for "
                + (System.nanoTime() - unwritableSince) / 1_000_000 + " ms (queue_size "
                + queueSize + ", write_timeout " + writeTimeoutNanos / 1_000_000 + " ms)";
      }
      conn.disconnect(CloseReason.SLOW_CONSUMER);
      return Protocol.ERR_NOT_DELIVERED;
    }
    queue.offer(frame);
    if (!drainScheduled.get() && drainScheduled.compareAndSet(false, true)) {
      scheduler.schedule(this);
    } else if ((q & (EARLY_FRAMES - 1)) == 0
        || (bytes >>> EARLY_BYTES_SHIFT) != ((bytes - size) >>> EARLY_BYTES_SHIFT)) {
      // a drain is pending and the queue keeps growing (one read batch can hold thousands of
      // frames): give the socket what it takes now, so that a reader is never dropped for a burst
      scheduler.hurry(this);
    }
    return Protocol.RESPONSE_OK;
  }

  /**
   * The same-loop fast path: on this session's own event loop, with nothing queued and the channel
   * writable (so the socket takes what comes), a small frame is copied straight into the
   * coalescing buffer, without a queue slot, counters or a reference kept; the pending drain at
   * the end of the batch writes and flushes it. Frames from this loop stay in order with the
   * queued ones: this path is taken only while the queue is empty, and a drain writes the
   * coalescing buffer before anything it takes from the queue. A full buffer goes to the channel
   * at once, and when that fills the channel it is flushed, as an early drain would.
   */
  private void append(ByteBuf frame, int n) {
    ByteBuf out = room(n);
    int at = out.writerIndex();
    frame.getBytes(frame.readerIndex(), out, at, n);
    out.writerIndex(at + n);
    frame.release();
    scheduleDrain();
  }

  /**
   * The ack takes the fast path of {@link #append} without a buffer of its own: on this
   * session's loop, with nothing queued and the channel writable, its six bytes are written
   * straight into the coalescing buffer.
   */
  @Override
  public int deliverAck(ByteBufAllocator frameAlloc, int opId, int code, boolean realtime) {
    if (closed || !appendable()) {
      return super.deliverAck(frameAlloc, opId, code, realtime);
    }
    FrameEncoder.writeAck(room(Protocol.BROKER_HEADER_SIZE), opId, code);
    scheduleDrain();
    return Protocol.RESPONSE_OK;
  }

  /**
   * The coalescing buffer with room for {@code n} more bytes: a full one goes to the channel
   * first (flushed when that fills the channel), and a new one is made when there is none.
   */
  private ByteBuf room(int n) {
    ByteBuf out = coalescing;
    if (out != null && out.writableBytes() < n) {
      coalescing = null;
      ctx.write(out, ctx.voidPromise());
      unflushed = true;
      out = null;
      if (!ctx.channel().isWritable()) {
        unflushed = false;
        ctx.flush(); // may make it writable again, and writabilityChanged writes the queue
      }
    }
    if (out == null) {
      out = alloc.directBuffer(COALESCE_BYTES);
      coalescing = out;
    }
    return out;
  }

  /** The fast path's condition: this session's loop, nothing queued, the channel writable. */
  private boolean appendable() {
    return queued.get() == 0 && scheduler.loop().inEventLoop() && ctx.channel().isWritable();
  }

  private void scheduleDrain() {
    if (!drainScheduled.get() && drainScheduled.compareAndSet(false, true)) {
      scheduler.schedule(this);
    }
  }

  /** The socket has taken no bytes for write_timeout (it is not writable since then). */
  private boolean stalled() {
    long since = unwritableSince;
    return since != 0 && System.nanoTime() - since >= writeTimeoutNanos;
  }

  /**
   * The channel's writability changed (on the event loop): a channel that became writable took
   * bytes (the peer reads) and writing resumes; one that filled starts the write_timeout clock.
   */
  void writabilityChanged(boolean writable) {
    if (writable) {
      unwritableSince = 0;
      if (!closed) {
        write(true);
      }
    } else if (unwritableSince == 0) {
      unwritableSince = System.nanoTime() | 1; // never 0
    }
  }

  /** Why the client was dropped as a slow consumer ({@code null}: it was not). */
  String dropDetail() {
    return dropDetail;
  }

  /** The pending drain: writes what the channel takes and flushes. On the event loop. */
  void drain() {
    drainScheduled.set(false);
    if (closed) {
      releaseQueued();
      return;
    }
    write(true);
  }

  /**
   * Hands queued frames to the channel while a drain is still pending (the read batch goes on),
   * flushing only when the channel fills; the pending drain flushes the rest. On the event loop.
   */
  void drainEarly() {
    if (!closed) {
      write(false);
    }
  }

  /**
   * Writes queued frames while the channel is writable. Small frames are copied into one buffer
   * of up to {@link #COALESCE_BYTES} (one outbound entry and one iovec instead of one per frame);
   * large ones are written as they are. Flushes at the end ({@code flushAtEnd}) or whenever the
   * channel fills; a flush that lets the kernel take everything makes the channel writable again
   * (Netty reports it from inside the flush), and writing continues here rather than in a nested
   * call. On the event loop.
   */
  private void write(boolean flushAtEnd) {
    if (writing) {
      writeAgain = true;
      return;
    }
    writing = true;
    try {
      io.netty.channel.Channel ch = ctx.channel();
      int budget = DRAIN_BUDGET;
      do {
        writeAgain = false;
        // what the fast path coalesced goes first; queued frames may join it
        ByteBuf out = coalescing;
        coalescing = null;
        if (out != null) {
          unflushed = true;
        }
        ByteBuf f;
        while (budget > 0 && ch.isWritable() && (f = queue.poll()) != null) {
          budget--;
          int n = f.readableBytes();
          queued.decrementAndGet();
          queuedBytes.addAndGet(-(n + FRAME_OVERHEAD));
          if (n <= COALESCE_FRAME) {
            if (out != null && out.writableBytes() < n) {
              ctx.write(out, ctx.voidPromise());
              out = null;
            }
            if (out == null) {
              out = alloc.directBuffer(COALESCE_BYTES);
            }
            // the frame copies itself out: with Netty's adaptive buffers that is a plain memory
            // copy, while out.writeBytes(f) would make a ByteBuffer view of f for every frame
            int at = out.writerIndex();
            f.getBytes(f.readerIndex(), out, at, n);
            out.writerIndex(at + n);
            f.release();
          } else {
            if (out != null) {
              ctx.write(out, ctx.voidPromise());
              out = null;
            }
            // the frame may be shared with other receivers (Session.deliver): the write moves the
            // reader index of a duplicate, which takes over this reference
            ctx.write(f.duplicate(), ctx.voidPromise());
          }
          unflushed = true;
        }
        if (out != null) {
          ctx.write(out, ctx.voidPromise());
        }
        if (unflushed && (flushAtEnd || !ch.isWritable())) {
          unflushed = false;
          ctx.flush();
        }
      } while (writeAgain && budget > 0);
    } finally {
      writing = false;
    }
    // budget spent with the socket still writable: continue in a later task; when the socket is
    // full, channelWritabilityChanged resumes the writing
    if (!queue.isEmpty() && ctx.channel().isWritable() && drainScheduled.compareAndSet(false, true)) {
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
    if (coalescing != null) {
      coalescing.release();
      coalescing = null;
    }
    ByteBuf f;
    while ((f = queue.poll()) != null) {
      queued.decrementAndGet();
      queuedBytes.addAndGet(-(f.readableBytes() + FRAME_OVERHEAD));
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
    if (queued.get() > 0 || drainScheduled.get()) {
      return false; // queued, or coalesced by the fast path and not yet written
    }
    io.netty.channel.ChannelOutboundBuffer ob = ctx.channel().unsafe().outboundBuffer();
    return ob == null || ob.totalPendingWriteBytes() == 0;
  }
}
