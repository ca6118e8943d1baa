package dev.elbus.client;

import dev.elbus.protocol.Protocol;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.WriteBufferWaterMark;
import io.vertx.core.Promise;

/**
 * The outgoing frames of one connection of a {@link NetworkClient}, gathered per event-loop turn:
 * frames are encoded straight into one buffer, which goes to the socket in one write and one
 * flush at the end of the turn (a task queued behind the current one on the connection's event
 * loop), or at once when it holds {@link #WRITE_BATCH} bytes or a realtime frame. A turn that
 * writes one frame costs what writing that frame alone costs; a turn that writes many costs one
 * write and one flush for up to {@link #WRITE_BATCH} bytes of them.
 *
 * <p>It sits in the socket's pipeline just before Vert.x's handler, so that it writes where that
 * handler would (through a TLS handler nearer the head, when there is one) and sees the channel's
 * writability change. The channel's write-buffer water marks are {@code writeQueueMaxSize / 2}
 * and {@code writeQueueMaxSize}.
 *
 * <p>Everything but {@link #isWritable} runs on the connection's event loop.
 */
final class OutboundBuffer extends ChannelInboundHandlerAdapter {
  /** Bytes gathered at most before they are written and flushed within a turn. */
  static final int WRITE_BATCH = 64 * 1024;
  /** Smallest buffer allocated for a turn. */
  private static final int MIN_CAPACITY = 512;
  /** The handler's name in the pipeline. */
  private static final String NAME = "elbus-client-outbound";

  private final Channel channel;
  private final Runnable onWritable;
  private final Runnable endOfTurn = this::endOfTurn;
  private ChannelHandlerContext ctx;
  /** The frames of the current turn not yet handed to the channel; null when none. */
  private ByteBuf out;
  private boolean flushScheduled;
  private boolean discarded;
  /** The capacity of the next turn's buffer: about what the last turn wrote. */
  private int capacityHint = MIN_CAPACITY;

  private OutboundBuffer(Channel channel, Runnable onWritable) {
    this.channel = channel;
    this.onWritable = onWritable;
  }

  /**
   * Puts a buffer into {@code pipeline} before the handler named {@code before} (Vert.x's).
   *
   * @param onWritable run on the event loop when the channel turns writable again
   */
  static OutboundBuffer install(ChannelPipeline pipeline, String before, int writeQueueMaxSize,
      Runnable onWritable) {
    OutboundBuffer b = new OutboundBuffer(pipeline.channel(), onWritable);
    pipeline.channel().config().setWriteBufferWaterMark(
        new WriteBufferWaterMark(writeQueueMaxSize / 2, writeQueueMaxSize));
    pipeline.addBefore(before, NAME, b);
    return b;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (ctx.channel().isWritable()) {
      onWritable.run();
    }
    ctx.fireChannelWritabilityChanged();
  }

  /**
   * The buffer to encode the next frame of {@code bytes} bytes into (at its writer index): this
   * turn's, or a new one when it lacks room (this turn's is then written, to be flushed at the
   * end of the turn). Call {@link #written} after encoding.
   */
  ByteBuf reserve(int bytes) {
    ByteBuf b = out;
    if (b != null && b.writableBytes() >= bytes) {
      return b;
    }
    if (b != null) {
      ctx.write(b, ctx.voidPromise());
    }
    b = out = ctx.alloc().directBuffer(Math.max(bytes, capacityHint));
    if (!flushScheduled) {
      flushScheduled = true;
      ctx.executor().execute(endOfTurn);
    }
    return b;
  }

  /** After a frame was encoded into {@link #reserve}'s buffer: writes now if it is time. */
  void written(boolean flushNow) {
    if (flushNow || out.writerIndex() >= WRITE_BATCH) {
      writeOut();
    }
  }

  /** Appends an encoded frame (its readable bytes; {@code frame} is not released). */
  void append(ByteBuf frame) {
    int n = frame.readableBytes();
    reserve(n).writeBytes(frame, frame.readerIndex(), n);
  }

  /** Writes and flushes what was gathered; completes {@code p} once the socket has taken it. */
  void flush(Promise<Void> p) {
    ByteBuf b = out;
    out = null;
    ctx.writeAndFlush(b != null ? b : Unpooled.EMPTY_BUFFER).addListener(f -> {
      if (f.isSuccess()) {
        p.tryComplete();
      } else {
        p.tryFail(new ElbusException(Protocol.ERR_IO,
            "write failed: " + f.cause().getMessage(), f.cause()));
      }
    });
  }

  /** Writes and flushes what was gathered. */
  void writeOut() {
    ByteBuf b = out;
    if (b != null) {
      out = null;
      int n = b.writerIndex();
      capacityHint = n >= WRITE_BATCH ? WRITE_BATCH + 4096 : Math.max(MIN_CAPACITY, n + (n >> 1));
      ctx.writeAndFlush(b, ctx.voidPromise());
    }
  }

  /** The connection ended: frames not yet written are dropped. */
  void discard() {
    discarded = true;
    if (out != null) {
      out.release();
      out = null;
    }
  }

  /** Whether the channel takes more without exceeding its high water mark; any thread. */
  boolean isWritable() {
    return channel.isWritable();
  }

  private void endOfTurn() {
    flushScheduled = false;
    if (!discarded) {
      writeOut();
    }
  }
}
