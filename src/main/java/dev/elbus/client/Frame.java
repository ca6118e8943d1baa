package dev.elbus.client;

import dev.elbus.impl.codec.Buffers;
import dev.elbus.impl.codec.ProtocolException;
import dev.elbus.impl.codec.Utf8;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.vertx.core.buffer.Buffer;

/** A message, broadcast or publication received by a client. Immutable. */
public final class Frame {
  private final FrameKind kind;
  private final String sender;
  private final String topic;
  private final Buffer payload;
  private final boolean realtime;

  public Frame(FrameKind kind, String sender, String topic, Buffer payload, boolean realtime) {
    this.kind = kind;
    this.sender = sender;
    this.topic = topic;
    this.payload = payload;
    this.realtime = realtime;
  }

  /**
   * Parses a broker frame body ({@code sender 00 payload}, or {@code sender 00 topic 00 payload}
   * for a publication), copying the payload.
   *
   * @throws ProtocolException when the body is malformed
   */
  public static Frame parse(int type, boolean realtime, ByteBuf body) {
    return parse(type, realtime, body, null);
  }

  /**
   * {@link #parse(int, boolean, ByteBuf)} with a connection's {@link Names}: a sender or topic
   * equal to the previous frame's is not decoded again.
   */
  static Frame parse(int type, boolean realtime, ByteBuf body, Names names) {
    FrameKind kind = FrameKind.of(type);
    if (kind == null) {
      throw new ProtocolException("unknown frame type 0x" + Integer.toHexString(type));
    }
    int start = body.readerIndex();
    int end = body.writerIndex();
    int z = body.indexOf(start, end, (byte) 0);
    if (z < 0) {
      throw new ProtocolException("frame without a sender separator");
    }
    String sender = names != null ? names.sender.decode(body, start, z - start)
        : Utf8.decode(body, start, z - start);
    String topic = null;
    int p = z + 1;
    if (kind == FrameKind.PUBLISH) {
      int z2 = body.indexOf(p, end, (byte) 0);
      if (z2 < 0) {
        throw new ProtocolException("publication without a topic separator");
      }
      topic = names != null ? names.topic.decode(body, p, z2 - p) : Utf8.decode(body, p, z2 - p);
      p = z2 + 1;
    }
    if (sender == null || (kind == FrameKind.PUBLISH && topic == null)) {
      throw new ProtocolException("frame sender or topic is not valid UTF-8");
    }
    return new Frame(kind, sender, topic, Buffers.copyOf(body, p, end - p), realtime);
  }

  /**
   * The sender and topic last decoded on one connection (a stream of frames mostly repeats
   * them): decoded again only when the bytes differ. Not thread-safe: one per connection.
   */
  static final class Names {
    final Last sender = new Last();
    final Last topic = new Last();

    /** One remembered string and its bytes. */
    static final class Last {
      private ByteBuf bytes = Unpooled.EMPTY_BUFFER;
      private String string = "";

      String decode(ByteBuf b, int index, int len) {
        if (len == bytes.readableBytes() && ByteBufUtil.equals(b, index, bytes, 0, len)) {
          return string;
        }
        String s = Utf8.decode(b, index, len);
        if (s != null && len <= 1024) {
          byte[] copy = new byte[len];
          b.getBytes(index, copy);
          bytes = Unpooled.wrappedBuffer(copy);
          string = s;
        }
        return s;
      }
    }
  }

  public FrameKind kind() {
    return kind;
  }

  /** The full name of the sender (with its {@code %%} suffix for a secondary). */
  public String sender() {
    return sender;
  }

  /** The sender's primary name (the part before {@code %%}). */
  public String primarySender() {
    int i = sender.indexOf("%%");
    return i < 0 ? sender : sender.substring(0, i);
  }

  /** The topic of a publication, {@code null} otherwise. */
  public String topic() {
    return topic;
  }

  public Buffer payload() {
    return payload;
  }

  /** The frame was sent with a realtime QoS. */
  public boolean realtime() {
    return realtime;
  }

  @Override
  public String toString() {
    return kind + " from " + sender + (topic != null ? " on " + topic : "") + ", "
        + payload.length() + " bytes" + (realtime ? ", realtime" : "");
  }
}
