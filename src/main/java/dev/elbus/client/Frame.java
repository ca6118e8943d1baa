package dev.elbus.client;

import dev.elbus.impl.codec.ProtocolException;
import dev.elbus.impl.codec.Utf8;
import io.netty.buffer.ByteBuf;
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
    String sender = Utf8.decode(body, start, z - start);
    String topic = null;
    int p = z + 1;
    if (kind == FrameKind.PUBLISH) {
      int z2 = body.indexOf(p, end, (byte) 0);
      if (z2 < 0) {
        throw new ProtocolException("publication without a topic separator");
      }
      topic = Utf8.decode(body, p, z2 - p);
      p = z2 + 1;
    }
    if (sender == null || (kind == FrameKind.PUBLISH && topic == null)) {
      throw new ProtocolException("frame sender or topic is not valid UTF-8");
    }
    byte[] bytes = new byte[end - p];
    body.getBytes(p, bytes);
    return new Frame(kind, sender, topic, Buffer.buffer(bytes), realtime);
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
