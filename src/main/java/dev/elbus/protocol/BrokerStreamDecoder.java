package dev.elbus.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * Resumable decoder of the byte stream the broker sends to a client (sections 1 and 3), used by
 * the Java client and by tests.
 *
 * <pre>
 *   GREETING   EB 01 00                 then one result byte after the echo, one after the name
 *   FRAMES     +------+---------------+------+-------------+
 *              | type | length / opid | flag | body        |
 *              | u8   | u32 LE        | u8   | length bytes|   (no body for ack 0xFE and ping 0x00)
 *              +------+---------------+------+-------------+
 * </pre>
 *
 * <p>Not thread-safe: one instance per connection.
 */
public final class BrokerStreamDecoder {

  /** Receives decoded broker output. */
  public interface Listener {
    void onGreeting(int greeting, int version);

    /** A one-byte handshake response (after the echo, and after the name). */
    void onResponse(int code);

    void onPing();

    void onAck(int opId, int code);

    /**
     * A message, broadcast or publication. {@code body} is a slice valid during the call: {@code
     * sender 00 payload} or {@code sender 00 topic 00 payload}.
     */
    void onFrame(int type, boolean realtime, ByteBuf body);
  }

  private enum State { GREETING, RESPONSE1, RESPONSE2, FRAMES }

  private final ByteBufAllocator alloc;
  private final Listener listener;
  private final int maxFrameSize;
  private State state = State.GREETING;
  private ByteBuf cumulation;

  public BrokerStreamDecoder(ByteBufAllocator alloc, Listener listener, int maxFrameSize) {
    this.alloc = alloc;
    this.listener = listener;
    this.maxFrameSize = maxFrameSize;
  }

  /** Decodes a chunk; takes ownership of {@code in}. */
  public void feed(ByteBuf in) {
    ByteBuf b;
    if (cumulation == null) {
      b = in;
    } else {
      // append to the cumulation, growing it geometrically: copying everything buffered on
      // every read made a large frame arriving in small reads quadratic
      b = cumulation;
      cumulation = null;
      try {
        int n = in.readableBytes();
        if (b.writableBytes() < n) {
          int readable = b.readableBytes();
          ByteBuf bigger = alloc.buffer(
              (int) Math.min(Integer.MAX_VALUE, Math.max(readable + (long) n, 2L * readable)));
          bigger.writeBytes(b, b.readerIndex(), readable);
          b.release();
          b = bigger;
        }
        b.writeBytes(in);
      } finally {
        in.release();
      }
    }
    try {
      decode(b);
      if (b.isReadable()) {
        if (b == in) {
          cumulation = alloc.buffer(b.readableBytes()).writeBytes(b);
        } else {
          cumulation = b;
          b = null;
        }
      }
    } finally {
      if (b != null) {
        b.release();
      }
    }
  }

  /** Releases buffered bytes. */
  public void release() {
    if (cumulation != null) {
      cumulation.release();
      cumulation = null;
    }
  }

  private void decode(ByteBuf b) {
    while (true) {
      switch (state) {
        case GREETING:
          if (b.readableBytes() < Protocol.GREETING_SIZE) {
            return;
          }
          listener.onGreeting(b.readUnsignedByte(), b.readUnsignedShortLE());
          state = State.RESPONSE1;
          break;
        case RESPONSE1:
        case RESPONSE2:
          if (!b.isReadable()) {
            return;
          }
          int code = b.readUnsignedByte();
          state = state == State.RESPONSE1 ? State.RESPONSE2 : State.FRAMES;
          listener.onResponse(code);
          break;
        case FRAMES: {
          if (b.readableBytes() < Protocol.BROKER_HEADER_SIZE) {
            return;
          }
          int ri = b.readerIndex();
          int type = b.getUnsignedByte(ri);
          if (type == Protocol.FRAME_ACK) {
            b.skipBytes(Protocol.BROKER_HEADER_SIZE);
            listener.onAck(b.getIntLE(ri + 1), b.getUnsignedByte(ri + 5));
            break;
          }
          if (type == Protocol.FRAME_NOP) {
            b.skipBytes(Protocol.BROKER_HEADER_SIZE);
            listener.onPing();
            break;
          }
          long len = b.getUnsignedIntLE(ri + 1);
          if (len > maxFrameSize) {
            throw new ProtocolException("broker frame of " + len + " bytes exceeds " + maxFrameSize);
          }
          if (b.readableBytes() < Protocol.BROKER_HEADER_SIZE + len) {
            return;
          }
          boolean realtime = b.getByte(ri + 5) != 0;
          ByteBuf body = b.slice(ri + Protocol.BROKER_HEADER_SIZE, (int) len);
          b.readerIndex(ri + Protocol.BROKER_HEADER_SIZE + (int) len);
          listener.onFrame(type, realtime, body);
          break;
        }
        default:
          return;
      }
    }
  }
}
