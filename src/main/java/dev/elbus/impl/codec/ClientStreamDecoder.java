package dev.elbus.impl.codec;

import dev.elbus.protocol.Protocol;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * Resumable decoder of the byte stream a client sends to the broker (sections 1-2).
 *
 * <pre>
 *   HELLO      EB 01 00                       greeting echo (3 bytes)
 *   NAME_LEN   LL LL                          u16 name length
 *   NAME       name bytes
 *   FRAMES     +--------+-------+--------+---------------+
 *              | op id  | flags | length | body          |   repeated
 *              | u32 LE | u8    | u32 LE | length bytes  |
 *              +--------+-------+--------+---------------+
 *              flags 0x00 = ping: exactly 9 bytes, no body whatever length says
 * </pre>
 *
 * <p>Bytes may arrive split at any offset and many frames may arrive in one chunk. Complete frames
 * are handed to the {@link Listener} as a buffer, an index and a length, valid only during the
 * callback (a listener that keeps bytes must copy or retain them). A partial frame is kept in a
 * cumulation buffer that grows only as bytes actually arrive: a declared length is checked against
 * {@code maxFrameSize} when the header is complete, before anything is reserved for the body.
 *
 * <p>Not thread-safe: one instance per connection, used on that connection's event loop.
 */
public final class ClientStreamDecoder extends StreamDecoder {

  /** Receives the decoded handshake steps and frames. */
  public interface Listener {
    /**
     * The client's greeting echo.
     *
     * @return {@code false} to stop decoding (the connection is being closed)
     */
    boolean onHello(int greeting, int version);

    /** The client's name bytes (a slice). {@code false} stops decoding. */
    boolean onName(ByteBuf name);

    /** A ping (flags byte 0). {@code false} stops decoding. */
    boolean onPing();

    /**
     * A frame: its body is the {@code len} bytes of {@code buf} at {@code index}, valid for the
     * duration of the call (no slice is made per frame: the hot path allocates nothing here).
     * The listener must not change {@code buf}'s indexes.
     *
     * @return {@code false} to stop decoding
     */
    boolean onFrame(int opId, int flags, ByteBuf buf, int index, int len);
  }

  private enum State { HELLO, NAME_LEN, NAME, FRAMES }

  private final Listener listener;
  private final int maxFrameSize;
  private final int maxNameLength;

  // accessed only on the connection's event loop
  private State state = State.HELLO;
  private int nameLength;

  public ClientStreamDecoder(ByteBufAllocator alloc, Listener listener, int maxFrameSize,
      int maxNameLength) {
    super(alloc);
    this.listener = listener;
    this.maxFrameSize = maxFrameSize;
    this.maxNameLength = maxNameLength;
  }

  /** True once the handshake (greeting and name) is complete. */
  public boolean inFrames() {
    return state == State.FRAMES;
  }

  /** Bytes the current unit needs in total (header plus body) when known, else a header's worth. */
  @Override
  int neededBytes(ByteBuf b) {
    if (state == State.FRAMES && b.readableBytes() >= Protocol.CLIENT_HEADER_SIZE) {
      int ri = b.readerIndex();
      if (b.getByte(ri + 4) == 0) {
        return Protocol.CLIENT_HEADER_SIZE;
      }
      long len = b.getUnsignedIntLE(ri + 5);
      return (int) Math.min(Integer.MAX_VALUE, Protocol.CLIENT_HEADER_SIZE + len);
    }
    if (state == State.NAME) {
      return nameLength;
    }
    return Protocol.CLIENT_HEADER_SIZE;
  }

  @Override
  void decode(ByteBuf b) {
    while (!halted()) {
      switch (state) {
        case HELLO: {
          if (b.readableBytes() < Protocol.GREETING_SIZE) {
            return;
          }
          int greeting = b.readUnsignedByte();
          int version = b.readUnsignedShortLE();
          if (!listener.onHello(greeting, version)) {
            stop();
            return;
          }
          state = State.NAME_LEN;
          break;
        }
        case NAME_LEN: {
          if (b.readableBytes() < 2) {
            return;
          }
          nameLength = b.readUnsignedShortLE();
          if (nameLength > maxNameLength) {
            throw new ProtocolException("client name of " + nameLength + " bytes exceeds the limit of "
                + maxNameLength);
          }
          state = State.NAME;
          break;
        }
        case NAME: {
          if (b.readableBytes() < nameLength) {
            return;
          }
          ByteBuf name = b.slice(b.readerIndex(), nameLength);
          b.skipBytes(nameLength);
          if (!listener.onName(name)) {
            stop();
            return;
          }
          state = State.FRAMES;
          break;
        }
        case FRAMES: {
          int readable = b.readableBytes();
          if (readable < Protocol.CLIENT_HEADER_SIZE) {
            return;
          }
          int ri = b.readerIndex();
          int flags = b.getUnsignedByte(ri + 4);
          if (flags == 0) {
            b.skipBytes(Protocol.CLIENT_HEADER_SIZE);
            if (!listener.onPing()) {
              stop();
              return;
            }
            break;
          }
          long len = b.getUnsignedIntLE(ri + 5);
          if (len > maxFrameSize) {
            throw new ProtocolException("frame body of " + len + " bytes exceeds max_frame_size "
                + maxFrameSize);
          }
          // in long: with max_frame_size near Integer.MAX_VALUE, header + body overflows an int
          if (readable < Protocol.CLIENT_HEADER_SIZE + len) {
            return;
          }
          int total = Protocol.CLIENT_HEADER_SIZE + (int) len;
          int opId = b.getIntLE(ri);
          b.readerIndex(ri + total);
          if (!listener.onFrame(opId, flags, b, ri + Protocol.CLIENT_HEADER_SIZE, (int) len)) {
            stop();
            return;
          }
          break;
        }
        default:
          return;
      }
    }
  }
}
