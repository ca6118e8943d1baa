package dev.elbus.impl.codec;

import io.vertx.core.buffer.Buffer;

import java.nio.charset.StandardCharsets;

/**
 * Codec of the RPC layer carried inside direct-message payloads (PROTOCOL.md section 9).
 *
 * <pre>
 * 00                                      notification: payload
 * 01 &lt;call id u32 LE&gt; method 00 params    request (call id 0: no reply wanted)
 * 11 &lt;call id u32 LE&gt; result              reply
 * 12 &lt;call id u32 LE&gt; &lt;code i16 LE&gt; data  error reply
 * </pre>
 *
 * <p>Encoding returns a fresh heap {@link Buffer}. {@link #parse} never throws: a malformed
 * payload gives an {@link Invalid} with the reason. Parsed parts are copies, independent of the
 * input buffer. Only direct messages carry RPC frames; broadcasts and publications never do.
 *
 * <p>Threading: stateless; safe from any thread.
 */
public final class RpcFrames {
  private RpcFrames() {}

  /** First byte of a notification. */
  public static final int NOTIFICATION = 0x00;
  /** First byte of a request. */
  public static final int REQUEST = 0x01;
  /** First byte of a reply. */
  public static final int REPLY = 0x11;
  /** First byte of an error reply. */
  public static final int ERROR = 0x12;

  /** Largest call id: call ids are u32. */
  public static final long MAX_CALL_ID = 0xFFFF_FFFFL;

  /** Size of type byte + call id, the shortest request / reply. */
  private static final int ID_HEADER = 5;
  /** Size of type byte + call id + error code, the shortest error reply. */
  private static final int ERROR_HEADER = 7;

  /** A parsed RPC payload: one of the records below. */
  public sealed interface Parsed permits Notification, Request, Reply, ErrorReply, Invalid {}

  /** A notification ({@code 0x00}): the payload after the type byte. */
  public record Notification(Buffer payload) implements Parsed {}

  /** A request ({@code 0x01}); {@code callId} 0 means no reply is wanted. */
  public record Request(long callId, String method, Buffer params) implements Parsed {}

  /** A reply ({@code 0x11}). */
  public record Reply(long callId, Buffer result) implements Parsed {}

  /** An error reply ({@code 0x12}). */
  public record ErrorReply(long callId, short code, Buffer data) implements Parsed {}

  /**
   * A payload that is not a valid RPC frame, with a human-readable reason. {@code callId} is the
   * call id of a malformed request whose id could be read (a request with no method terminator
   * or a method that is not valid UTF-8), so that its sender can be answered -32600; otherwise
   * -1.
   */
  public record Invalid(String reason, long callId) implements Parsed {
    /** An invalid payload without a call id. */
    public Invalid(String reason) {
      this(reason, -1);
    }
  }

  /** Encodes a notification: {@code 00 payload}. */
  public static Buffer notification(Buffer payload) {
    Buffer p = orEmpty(payload);
    return Buffer.buffer(1 + p.length()).appendByte((byte) NOTIFICATION).appendBuffer(p);
  }

  /**
   * Encodes a request: {@code 01 <call id> method 00 params}.
   *
   * @param callId 0..2^32-1; 0 asks for no reply
   * @throws IllegalArgumentException when the call id is out of range or the method contains a
   *     {@code 00} byte (it would end the method early)
   */
  public static Buffer request(long callId, String method, Buffer params) {
    checkCallId(callId);
    if (method.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("method name contains a NUL character");
    }
    byte[] m = method.getBytes(StandardCharsets.UTF_8);
    Buffer p = orEmpty(params);
    return Buffer.buffer(ID_HEADER + m.length + 1 + p.length())
        .appendByte((byte) REQUEST)
        .appendUnsignedIntLE(callId)
        .appendBytes(m)
        .appendByte((byte) 0)
        .appendBuffer(p);
  }

  /**
   * Encodes a reply: {@code 11 <call id> result}.
   *
   * @throws IllegalArgumentException when the call id is out of range
   */
  public static Buffer reply(long callId, Buffer result) {
    checkCallId(callId);
    Buffer r = orEmpty(result);
    return Buffer.buffer(ID_HEADER + r.length())
        .appendByte((byte) REPLY)
        .appendUnsignedIntLE(callId)
        .appendBuffer(r);
  }

  /**
   * Encodes an error reply: {@code 12 <call id> <code i16> data}.
   *
   * @throws IllegalArgumentException when the call id is out of range
   */
  public static Buffer error(long callId, short code, Buffer data) {
    checkCallId(callId);
    Buffer d = orEmpty(data);
    return Buffer.buffer(ERROR_HEADER + d.length())
        .appendByte((byte) ERROR)
        .appendUnsignedIntLE(callId)
        .appendShortLE(code)
        .appendBuffer(d);
  }

  /**
   * Parses a direct-message payload as an RPC frame. Never throws; a malformed payload (empty,
   * too short for its kind, a request without the {@code 00} after the method, a method that is
   * not valid UTF-8, an unknown first byte) gives an {@link Invalid}, with the call id when one was
   * read.
   */
  public static Parsed parse(Buffer payload) {
    if (payload == null || payload.length() == 0) {
      return new Invalid("empty RPC payload");
    }
    int len = payload.length();
    int type = payload.getUnsignedByte(0);
    switch (type) {
      case NOTIFICATION:
        return new Notification(payload.getBuffer(1, len));
      case REQUEST: {
        if (len < ID_HEADER + 1) {
          return new Invalid("request too short: " + len + " bytes");
        }
        long id = payload.getUnsignedIntLE(1);
        int z = indexOfZero(payload, ID_HEADER, len);
        if (z < 0) {
          return new Invalid("request " + id + " without a method terminator", id);
        }
        String method = Utf8.decode(payload.getBytes(ID_HEADER, z));
        if (method == null) {
          return new Invalid("request " + id + ": method name is not valid UTF-8", id);
        }
        return new Request(id, method, payload.getBuffer(z + 1, len));
      }
      case REPLY:
        if (len < ID_HEADER) {
          return new Invalid("reply too short: " + len + " bytes");
        }
        return new Reply(payload.getUnsignedIntLE(1), payload.getBuffer(ID_HEADER, len));
      case ERROR:
        if (len < ERROR_HEADER) {
          return new Invalid("error reply too short: " + len + " bytes");
        }
        return new ErrorReply(payload.getUnsignedIntLE(1), payload.getShortLE(ID_HEADER),
            payload.getBuffer(ERROR_HEADER, len));
      default:
        return new Invalid(String.format("unknown RPC frame type 0x%02x", type));
    }
  }

  private static int indexOfZero(Buffer b, int from, int to) {
    for (int i = from; i < to; i++) {
      if (b.getByte(i) == 0) {
        return i;
      }
    }
    return -1;
  }

  private static void checkCallId(long callId) {
    if (callId < 0 || callId > MAX_CALL_ID) {
      throw new IllegalArgumentException("call id out of u32 range: " + callId);
    }
  }

  private static Buffer orEmpty(Buffer b) {
    return b == null ? Buffer.buffer() : b;
  }
}
