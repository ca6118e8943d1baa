package dev.elbus.impl.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * The byte accumulation both stream decoders share: complete units are decoded straight from the
 * chunk that was read (their bytes handed on without a copy); only a partial unit is kept, in a
 * cumulation buffer that takes from the next chunks just the bytes that unit lacks. The buffer
 * grows as bytes actually arrive (doubling, at least 64 KiB, never beyond the announced unit size
 * unless more has arrived), so one header announcing a huge length reserves nothing, and a large
 * frame arriving in many reads is copied O(log n) times. Bytes are never compacted in place: what
 * a listener is handed stays valid for its call.
 *
 * <p>A listener may {@link #pause} decoding from inside a callback: the decoder then keeps what
 * follows (this chunk's rest and whatever is fed until {@link #resume}) and decodes it, in order,
 * when resumed. The caller stops reading meanwhile; what is kept is at most what it had read.
 *
 * <p>Not thread-safe: one instance per connection, used on its thread.
 */
abstract class StreamDecoder {
  /** Smallest buffer allocated for a partial unit. */
  private static final int MIN_BUFFER = 65536;

  private final ByteBufAllocator alloc;
  private ByteBuf cumulation;
  /** True while {@link #feed} runs: {@link #stop} then only flags, and the feed releases. */
  private boolean decoding;
  private boolean stopped;
  private boolean paused;

  StreamDecoder(ByteBufAllocator alloc) {
    this.alloc = alloc;
  }

  /** Decodes every complete unit at the reader index of {@code b}, consuming its bytes. */
  abstract void decode(ByteBuf b);

  /**
   * Bytes the unit at the reader index of {@code b} needs in total, when its header says so, else
   * a header's worth: sizes the cumulation buffer.
   */
  abstract int neededBytes(ByteBuf b);

  /**
   * Decodes a chunk. Takes ownership of {@code in} (it is released, or its unread bytes are kept).
   * Input fed after {@link #stop} is released unread.
   *
   * @throws ProtocolException when the stream violates the protocol; the decoder is then stopped
   *     and the connection must be closed
   */
  public final void feed(ByteBuf in) {
    if (stopped) {
      in.release();
      return;
    }
    decoding = true;
    try {
      // a partial unit is completed with just the bytes it lacks; the rest of the chunk is then
      // decoded where it is (in streaming, a read ends mid-frame nearly every time: copying only
      // the tail of that frame, not the whole next read, keeps the copy to one frame per read)
      while (cumulation != null && in.isReadable() && !halted()) {
        int lacking = neededBytes(cumulation) - cumulation.readableBytes();
        append(in, Math.min(Math.max(lacking, 1), in.readableBytes()));
        decodeKept();
      }
      if (cumulation == null && !halted()) {
        decode(in);
      }
      if (in.isReadable() && !stopped) {
        // a partial unit, or what follows a pause
        if (cumulation == null) {
          cumulation = copyRemainder(in);
        } else {
          append(in, in.readableBytes());
        }
      }
    } catch (RuntimeException e) {
      throw failed(e);
    } finally {
      decoding = false;
      in.release();
    }
  }

  /**
   * Stops decoding after the unit being handed to the listener, keeping what follows until
   * {@link #resume}. Called from a listener's callback (or between feeds).
   */
  public final void pause() {
    paused = true;
  }

  public final boolean isPaused() {
    return paused;
  }

  /**
   * Decodes what was kept since {@link #pause}, unless the listener pauses again (or stops). Not
   * from a listener's callback.
   *
   * @throws ProtocolException as {@link #feed}
   */
  public final void resume() {
    if (decoding) {
      throw new IllegalStateException("resume() from inside a decoding callback");
    }
    if (!paused) {
      return;
    }
    paused = false;
    if (stopped || cumulation == null) {
      return;
    }
    decoding = true;
    try {
      decodeKept();
    } catch (RuntimeException e) {
      throw failed(e);
    } finally {
      decoding = false;
    }
  }

  /** Stops (releasing at once) after {@code e} escaped decoding; returns it to be thrown. */
  private RuntimeException failed(RuntimeException e) {
    decoding = false;
    stop();
    return e;
  }

  /** Decodes the cumulation, releasing it once it is used up (or decoding stopped). */
  private void decodeKept() {
    decode(cumulation);
    if (!cumulation.isReadable() || stopped) {
      cumulation.release();
      cumulation = null;
    }
  }

  /** True when the decode loops must return: stopped, or paused. */
  final boolean halted() {
    return stopped || paused;
  }

  /** Stops decoding and releases buffered bytes (at the end of a running feed). Idempotent. */
  public void stop() {
    stopped = true;
    if (!decoding && cumulation != null) {
      cumulation.release();
      cumulation = null;
    }
  }

  public final boolean isStopped() {
    return stopped;
  }

  /**
   * True when part of a unit (a frame, or a handshake step) has arrived and the rest has not
   * (never while paused: what is kept then may be whole units).
   */
  public final boolean hasPartialInput() {
    return !paused && cumulation != null && cumulation.isReadable();
  }

  private ByteBuf copyRemainder(ByteBuf in) {
    int n = in.readableBytes();
    ByteBuf c = alloc.buffer(Math.max(n, Math.min(neededBytes(in), MIN_BUFFER)));
    c.writeBytes(in, in.readerIndex(), n);
    in.skipBytes(n);
    return c;
  }

  /** Moves {@code n} bytes of {@code in} to the end of the cumulation, growing it as needed. */
  private void append(ByteBuf in, int n) {
    if (cumulation.writableBytes() < n) {
      int readable = cumulation.readableBytes();
      int needed = neededBytes(cumulation);
      long doubled = Math.max(2L * cumulation.capacity(), MIN_BUFFER);
      int cap = (int) Math.max(readable + (long) n, Math.min(needed, doubled));
      ByteBuf bigger = alloc.buffer(cap);
      bigger.writeBytes(cumulation, cumulation.readerIndex(), readable);
      cumulation.release();
      cumulation = bigger;
    }
    cumulation.writeBytes(in, n);
  }
}
