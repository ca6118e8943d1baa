package dev.elbus.impl.codec;

import dev.elbus.protocol.Protocol;
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
 * <p>Bytes may arrive split at any offset and many frames may arrive in one chunk. A partial frame
 * is kept in a cumulation buffer that grows only as bytes arrive (a large frame arriving in many
 * chunks is copied O(log n) times, not once per chunk). A listener may call {@link
 * #stop} from inside a callback: decoding ends there and buffered bytes are released.
 *
 * <p>Not thread-safe: one instance per connection.
 */
public final class BrokerStreamDecoder extends StreamDecoder {

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

  private final Listener listener;
  private final int maxFrameSize;
  private State state = State.GREETING;

  public BrokerStreamDecoder(ByteBufAllocator alloc, Listener listener, int maxFrameSize) {
    super(alloc);
    this.listener = listener;
    this.maxFrameSize = maxFrameSize;
  }

  /** Bytes the current unit needs in total (header plus body) when known, else a header's worth. */
  @Override
  int neededBytes(ByteBuf b) {
    switch (state) {
      case GREETING:
        return Protocol.GREETING_SIZE;
      case RESPONSE1:
      case RESPONSE2:
        return 1;
      default:
        break;
    }
    if (b.readableBytes() >= Protocol.BROKER_HEADER_SIZE) {
      int ri = b.readerIndex();
      int type = b.getUnsignedByte(ri);
      if (type == Protocol.FRAME_ACK || type == Protocol.FRAME_NOP) {
        return Protocol.BROKER_HEADER_SIZE;
      }
      long len = b.getUnsignedIntLE(ri + 1);
      return (int) Math.min(Integer.MAX_VALUE, Protocol.BROKER_HEADER_SIZE + len);
    }
    return Protocol.BROKER_HEADER_SIZE;
  }

  @Override
  void decode(ByteBuf b) {
    while (!halted()) {
      switch (state) {
        case GREETING: {
          if (b.readableBytes() < Protocol.GREETING_SIZE) {
            return;
          }
          int greeting = b.readUnsignedByte();
          int version = b.readUnsignedShortLE();
          state = State.RESPONSE1; // before the callback: the listener may stop the decoder
          listener.onGreeting(greeting, version);
          break;
        }
        case RESPONSE1:
        case RESPONSE2: {
          if (!b.isReadable()) {
            return;
          }
          int code = b.readUnsignedByte();
          state = state == State.RESPONSE1 ? State.RESPONSE2 : State.FRAMES;
          listener.onResponse(code);
          break;
        }
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
