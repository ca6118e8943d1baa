package dev.elbus.impl.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.buffer.impl.BufferImpl;
import io.vertx.core.internal.buffer.BufferInternal;

/**
 * Between Vert.x {@link Buffer}s and Netty {@link ByteBuf}s without a copy. Vert.x 5 offers this
 * only through its non-public {@code BufferInternal}; this class is the one place of the broker
 * and client that uses it (docs/architecture.md, "Non-public Vert.x APIs").
 */
public final class Buffers {
  private Buffers() {}

  /**
   * The bytes of {@code b} as a {@link ByteBuf} (Vert.x's own: a slice sharing its bytes; not to
   * be released by the caller). {@code null} is the empty buffer.
   */
  public static ByteBuf byteBuf(Buffer b) {
    return b == null ? Unpooled.EMPTY_BUFFER : ((BufferInternal) b).getByteBuf();
  }

  /**
   * The bytes of {@code b} as its own {@link ByteBuf}, without the slice {@link #byteBuf} makes
   * (the client's hot path: nothing allocated per payload). Only to be read, with absolute
   * indexes: the caller must neither change its indexes nor release it. {@code null} is the
   * empty buffer.
   */
  public static ByteBuf unwrap(Buffer b) {
    if (b instanceof BufferImpl) {
      return ((BufferImpl) b).byteBuf();
    }
    return byteBuf(b);
  }

  /**
   * A new {@link Buffer} holding a copy of the {@code len} bytes of {@code src} at {@code index}
   * (one copy: {@code Buffer.buffer(byte[])} would copy the array once more).
   */
  public static Buffer copyOf(ByteBuf src, int index, int len) {
    Buffer b = BufferInternal.buffer(len);
    if (b instanceof BufferImpl) {
      ((BufferImpl) b).byteBuf().writeBytes(src, index, len);
      return b;
    }
    byte[] bytes = new byte[len];
    src.getBytes(index, bytes);
    return b.appendBytes(bytes);
  }

  /** A {@link Buffer} over {@code b}'s readable bytes (no copy; it takes {@code b}'s reference). */
  public static Buffer buffer(ByteBuf b) {
    return BufferInternal.buffer(b);
  }
}
