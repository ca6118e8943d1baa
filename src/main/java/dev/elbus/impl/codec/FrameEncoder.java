package dev.elbus.impl.codec;

import dev.elbus.protocol.Protocol;
import dev.elbus.protocol.QoS;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;

/**
 * Builds frames at their exact size (sections 1-3). Broker frames are encoded once and the same
 * bytes are written to every receiver, so nothing here may be mutated after it is returned.
 */
public final class FrameEncoder {
  private FrameEncoder() {}

  /**
   * Payloads up to this size are copied into the outgoing frame; larger ones are referenced as a
   * retained slice of the read buffer (a slice pins its whole read chunk, a copy of a small payload
   * is cheaper than that).
   */
  public static final int COPY_THRESHOLD = 4096;

  /** The broker's greeting: {@code EB 01 00}. */
  public static ByteBuf greeting(ByteBufAllocator alloc) {
    ByteBuf b = alloc.buffer(Protocol.GREETING_SIZE);
    b.writeByte(Protocol.GREETING).writeShortLE(Protocol.VERSION);
    return b;
  }

  /** A one-byte handshake response (OK or an error code). */
  public static ByteBuf response(ByteBufAllocator alloc, int code) {
    return alloc.buffer(1).writeByte(code);
  }

  /** An ack: {@code FE <op id u32> <code>}, six bytes. */
  public static ByteBuf ack(ByteBufAllocator alloc, int opId, int code) {
    return writeAck(alloc.buffer(Protocol.BROKER_HEADER_SIZE), opId, code);
  }

  /** Writes an ack ({@link #ack}) at the writer index of {@code out}, which has room for it. */
  public static ByteBuf writeAck(ByteBuf out, int opId, int code) {
    return out.writeByte(Protocol.FRAME_ACK).writeIntLE(opId).writeByte(code);
  }

  /** The broker ping: six zero bytes. */
  public static ByteBuf ping(ByteBufAllocator alloc) {
    return alloc.buffer(Protocol.BROKER_HEADER_SIZE).writeZero(Protocol.BROKER_HEADER_SIZE);
  }

  /**
   * A broker-to-client frame whose body is {@code sender 00 rest}, where {@code rest} is the
   * {@code len} bytes of {@code src} at {@code index}: for a message or broadcast the payload, for
   * a publication {@code topic 00 payload} (which is exactly the tail of the client's publish
   * frame, so the topic is not re-encoded).
   */
  public static ByteBuf deliver(ByteBufAllocator alloc, int type, byte[] sender, ByteBuf src,
      int index, int len, boolean realtime) {
    int bodyLen = sender.length + 1 + len;
    int headLen = Protocol.BROKER_HEADER_SIZE + sender.length + 1;
    if (len <= COPY_THRESHOLD) {
      ByteBuf b = alloc.buffer(headLen + len);
      writeHead(b, type, bodyLen, realtime, sender);
      b.writeBytes(src, index, len);
      return b;
    }
    ByteBuf head = alloc.buffer(headLen);
    writeHead(head, type, bodyLen, realtime, sender);
    CompositeByteBuf c = alloc.compositeBuffer(2);
    c.addComponents(true, head, src.retainedSlice(index, len));
    return c;
  }

  /**
   * A publication built from parts (used by internal clients, which have no client frame to reuse):
   * {@code sender 00 topic 00 payload}.
   */
  public static ByteBuf publication(ByteBufAllocator alloc, byte[] sender, byte[] topic,
      ByteBuf payload, boolean realtime) {
    int plen = payload.readableBytes();
    int bodyLen = sender.length + 1 + topic.length + 1 + plen;
    ByteBuf b = alloc.buffer(Protocol.BROKER_HEADER_SIZE + bodyLen);
    writeHead(b, Protocol.FRAME_PUBLISH, bodyLen, realtime, sender);
    b.writeBytes(topic).writeByte(0).writeBytes(payload, payload.readerIndex(), plen);
    return b;
  }

  /**
   * A publication whose topic and payload are separate ranges of {@code src} (publish-for, where
   * the receiver sits between them): {@code sender 00 topic 00 payload}.
   */
  public static ByteBuf publication(ByteBufAllocator alloc, byte[] sender, ByteBuf src,
      int topicIndex, int topicLen, int payloadIndex, int payloadLen, boolean realtime) {
    int bodyLen = sender.length + 1 + topicLen + 1 + payloadLen;
    ByteBuf b = alloc.buffer(Protocol.BROKER_HEADER_SIZE + bodyLen);
    writeHead(b, Protocol.FRAME_PUBLISH, bodyLen, realtime, sender);
    b.writeBytes(src, topicIndex, topicLen).writeByte(0).writeBytes(src, payloadIndex, payloadLen);
    return b;
  }

  private static void writeHead(ByteBuf b, int type, int bodyLen, boolean realtime, byte[] sender) {
    b.writeByte(type).writeIntLE(bodyLen).writeByte(realtime ? 1 : 0);
    b.writeBytes(sender).writeByte(0);
  }

  /** The client's echo of the greeting: {@code EB 01 00} (the client side of section 1). */
  public static ByteBuf clientHello(ByteBufAllocator alloc) {
    return greeting(alloc);
  }

  /** The client name as the handshake sends it: u16 length, then the name bytes (section 1). */
  public static ByteBuf clientName(ByteBufAllocator alloc, byte[] name) {
    ByteBuf b = alloc.buffer(2 + name.length);
    b.writeShortLE(name.length).writeBytes(name);
    return b;
  }

  /**
   * A client frame: {@code op id, flags, length, target 00 payload} (section 2). {@code target}
   * may be {@code null} for frames whose body is only {@code payload} (subscribe lists).
   */
  public static ByteBuf clientFrame(ByteBufAllocator alloc, int opId, int op, QoS qos,
      byte[] target, ByteBuf payload) {
    int plen = payload == null ? 0 : payload.readableBytes();
    int bodyLen = (target == null ? 0 : target.length + 1) + plen;
    ByteBuf b = alloc.buffer(Protocol.CLIENT_HEADER_SIZE + bodyLen);
    b.writeIntLE(opId).writeByte(op | (qos.bits() << Protocol.QOS_SHIFT)).writeIntLE(bodyLen);
    if (target != null) {
      b.writeBytes(target).writeByte(0);
    }
    if (plen > 0) {
      b.writeBytes(payload, payload.readerIndex(), plen);
    }
    return b;
  }

  /**
   * A client frame whose body is a {@code 00}-separated list (subscribe / unsubscribe topics,
   * section 2). {@code items} must not be empty.
   */
  public static ByteBuf clientList(ByteBufAllocator alloc, int opId, int op, QoS qos,
      byte[][] items) {
    ByteBuf b = alloc.buffer(Protocol.CLIENT_HEADER_SIZE + listBodySize(items));
    writeList(b, opId, op | (qos.bits() << Protocol.QOS_SHIFT), items);
    return b;
  }

  /** The body size of a list frame of {@code items}: the items and a separator between each two. */
  public static int listBodySize(byte[][] items) {
    int bodyLen = items.length - 1;
    for (byte[] item : items) {
      bodyLen += item.length;
    }
    return bodyLen;
  }

  /** Writes a list frame (see {@link #clientList}) with the flags byte {@code flags} to {@code dst}. */
  public static void writeList(ByteBuf dst, int opId, int flags, byte[][] items) {
    dst.writeIntLE(opId).writeByte(flags).writeIntLE(listBodySize(items));
    for (int i = 0; i < items.length; i++) {
      if (i > 0) {
        dst.writeByte(0);
      }
      dst.writeBytes(items[i]);
    }
  }

  /**
   * The size of a client frame {@code key 00 [extra 00] payload} from its parts' sizes in bytes
   * ({@code extraLen} -1 for none): see {@link #writeKeyed}.
   */
  public static int keyedSize(int keyLen, int extraLen, int payloadLen) {
    return Protocol.CLIENT_HEADER_SIZE + keyLen + 1 + (extraLen < 0 ? 0 : extraLen + 1)
        + payloadLen;
  }

  /**
   * Writes a client frame whose body is {@code key 00 payload}, or {@code key 00 extra 00
   * payload} (publish-for: the receiver between topic and payload), to {@code dst}, encoding the
   * strings as UTF-8 in place (no intermediate array). {@code keyLen} and {@code extraLen} are
   * their UTF-8 sizes ({@link ByteBufUtil#utf8Bytes}; {@code extra} {@code null} and {@code
   * extraLen} -1 for none); the payload is the readable bytes of {@code payload}, whose indexes
   * are left unchanged.
   */
  public static void writeKeyed(ByteBuf dst, int opId, int flags, CharSequence key, int keyLen,
      CharSequence extra, int extraLen, ByteBuf payload) {
    int plen = payload.readableBytes();
    int bodyLen = keyedSize(keyLen, extraLen, plen) - Protocol.CLIENT_HEADER_SIZE;
    dst.ensureWritable(Protocol.CLIENT_HEADER_SIZE + bodyLen);
    dst.writeIntLE(opId).writeByte(flags).writeIntLE(bodyLen);
    ByteBufUtil.reserveAndWriteUtf8(dst, key, keyLen);
    dst.writeByte(0);
    if (extra != null) {
      ByteBufUtil.reserveAndWriteUtf8(dst, extra, extraLen);
      dst.writeByte(0);
    }
    if (plen > 0) {
      dst.writeBytes(payload, payload.readerIndex(), plen);
    }
  }

  /** A client ping: nine zero bytes. */
  public static ByteBuf clientPing(ByteBufAllocator alloc) {
    return writeClientPing(alloc.buffer(Protocol.CLIENT_HEADER_SIZE));
  }

  /** Writes a client ping (nine zero bytes) to {@code dst}; returns {@code dst}. */
  public static ByteBuf writeClientPing(ByteBuf dst) {
    return dst.writeZero(Protocol.CLIENT_HEADER_SIZE);
  }
}
