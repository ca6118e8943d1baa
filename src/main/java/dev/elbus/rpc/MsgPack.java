package dev.elbus.rpc;

import io.vertx.core.buffer.Buffer;
import org.msgpack.core.ExtensionTypeHeader;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessageFormat;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessagePackException;
import org.msgpack.core.MessageUnpacker;
import org.msgpack.value.ValueType;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * MessagePack helpers on {@code org.msgpack.core}: RPC params and results are MessagePack by
 * convention (PROTOCOL.md section 9), the broker's announcements and core RPC results are
 * MessagePack maps with string keys (sections 8 and 10).
 *
 * <p><b>Encoding</b> ({@link #encode}) takes a tree of: {@code Map} with {@code String} keys
 * (iteration order kept), {@code List} / any {@code Collection} / {@code Object[]} (array), {@code
 * String} (str), {@code byte[]} and {@link Buffer} (bin), {@code Boolean}, {@code
 * Byte/Short/Integer/Long} (the smallest int format; non-negative values use the unsigned formats,
 * so a positive long above 2^32 is {@code CF} + u64, as a Rust {@code u64} is), {@link BigInteger}
 * in {@code [-2^63, 2^64)} (for u64 values above {@code Long.MAX_VALUE}), {@code Float} (float
 * 32), {@code Double} (float 64), {@link Ext} and {@code null} (nil). Anything else is an {@link
 * IllegalArgumentException}.
 *
 * <p><b>Decoding</b> ({@link #decode}) gives the same kinds of tree: map to {@code
 * LinkedHashMap<String, Object>} (wire order), array to {@code ArrayList}, int to {@code Long}
 * (a u64 above {@code Long.MAX_VALUE} to {@link BigInteger}), float 32/64 to {@code Double}, str
 * to {@code String} (malformed UTF-8 replaced by U+FFFD, as msgpack-java does), bin to {@code
 * byte[]}, ext to {@link Ext}, nil to {@code null}. The input must hold exactly one value; a
 * truncated value, trailing bytes, a map key that is not a string, the reserved byte {@code C1}
 * or nesting deeper than {@value #MAX_DEPTH} give a {@link DecodeException}. Declared lengths are
 * checked against the input before anything is allocated, so a hostile header cannot make the
 * decoder reserve memory it does not have.
 *
 * <p><b>JSON</b> ({@link #toJson}) renders a decoded tree for display (CLI): binary as a
 * standard base64 string (RFC 4648 with padding), an {@link Ext} as {@code {"ext": TYPE,
 * "data": BASE64}}, non-finite floats as the strings {@code "NaN"}, {@code "Infinity"}, {@code
 * "-Infinity"}.
 *
 * <p>Threading: stateless; safe from any thread (each call uses its own packer / unpacker).
 */
public final class MsgPack {
  private MsgPack() {}

  /** Deepest nesting of arrays and maps {@link #decode} accepts. */
  public static final int MAX_DEPTH = 512;

  private static final BigInteger U64_LIMIT = BigInteger.ONE.shiftLeft(64);
  private static final BigInteger I64_MIN = BigInteger.valueOf(Long.MIN_VALUE);

  /** A MessagePack extension value (type -128..127 and its raw data). */
  public record Ext(byte type, byte[] data) {}

  /** What a params payload is, for the check order of section 10. */
  public enum ParamsKind {
    /** No bytes at all. */
    EMPTY,
    /** Exactly one MessagePack map with no entries. */
    EMPTY_MAP,
    /** Exactly one MessagePack map with entries (keys of any type). */
    MAP,
    /** Anything else: another type, malformed or truncated MessagePack, trailing bytes. */
    NOT_MAP
  }

  /** Input that is not the MessagePack the caller required. */
  public static final class DecodeException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public DecodeException(String message) {
      super(message);
    }

    public DecodeException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  // ---------------------------------------------------------------- encoding

  /**
   * Encodes a value tree (see the class comment for the accepted types).
   *
   * @throws IllegalArgumentException for an unsupported type, a non-string map key, or an
   *     integer out of the MessagePack range
   */
  public static byte[] encode(Object value) {
    try (MessageBufferPacker p = MessagePack.newDefaultBufferPacker()) {
      pack(p, value, 0);
      return p.toByteArray();
    } catch (IOException e) {
      // a buffer packer writes to memory only
      throw new IllegalStateException("MessagePack encoding failed", e);
    }
  }

  /** {@link #encode} into a Vert.x {@link Buffer}. */
  public static Buffer encodeBuffer(Object value) {
    return Buffer.buffer(encode(value));
  }

  /**
   * A {@code LinkedHashMap} of alternating keys and values, for building payloads: {@code
   * map("ok", true)}.
   *
   * @throws IllegalArgumentException on an odd count or a key that is not a string
   */
  public static Map<String, Object> map(Object... keysAndValues) {
    if (keysAndValues.length % 2 != 0) {
      throw new IllegalArgumentException("map() needs key/value pairs");
    }
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      if (!(keysAndValues[i] instanceof String)) {
        throw new IllegalArgumentException("map key is not a string: " + keysAndValues[i]);
      }
      m.put((String) keysAndValues[i], keysAndValues[i + 1]);
    }
    return m;
  }

  /**
   * Strings longer than this are encoded with {@code String.getBytes} (a copy for ASCII) and
   * written as one payload: msgpack-core encodes them through a {@code CharsetEncoder} into a
   * fresh buffer of three bytes per character, five times slower (a {@code client.list} page of
   * 16 names of 65,535 bytes: 2.2 ms).
   */
  private static final int LONG_STRING = 512;

  private static void packString(MessageBufferPacker p, String s) throws IOException {
    if (s.length() <= LONG_STRING) {
      p.packString(s);
      return;
    }
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    p.packRawStringHeader(b.length);
    p.writePayload(b);
  }

  private static void pack(MessageBufferPacker p, Object v, int depth) throws IOException {
    if (depth > MAX_DEPTH) {
      throw new IllegalArgumentException("value nested deeper than " + MAX_DEPTH);
    }
    if (v == null) {
      p.packNil();
    } else if (v instanceof String) {
      packString(p, (String) v);
    } else if (v instanceof Boolean) {
      p.packBoolean((Boolean) v);
    } else if (v instanceof Long || v instanceof Integer || v instanceof Short
        || v instanceof Byte) {
      p.packLong(((Number) v).longValue());
    } else if (v instanceof BigInteger) {
      BigInteger b = (BigInteger) v;
      if (b.compareTo(I64_MIN) < 0 || b.compareTo(U64_LIMIT) >= 0) {
        throw new IllegalArgumentException("integer out of MessagePack range: " + b);
      }
      p.packBigInteger(b);
    } else if (v instanceof Double) {
      p.packDouble((Double) v);
    } else if (v instanceof Float) {
      p.packFloat((Float) v);
    } else if (v instanceof byte[]) {
      byte[] b = (byte[]) v;
      p.packBinaryHeader(b.length);
      p.writePayload(b);
    } else if (v instanceof Buffer) {
      byte[] b = ((Buffer) v).getBytes();
      p.packBinaryHeader(b.length);
      p.writePayload(b);
    } else if (v instanceof Map) {
      Map<?, ?> m = (Map<?, ?>) v;
      p.packMapHeader(m.size());
      for (Map.Entry<?, ?> e : m.entrySet()) {
        if (!(e.getKey() instanceof String)) {
          throw new IllegalArgumentException("map key is not a string: " + e.getKey());
        }
        p.packString((String) e.getKey());
        pack(p, e.getValue(), depth + 1);
      }
    } else if (v instanceof Collection) {
      Collection<?> c = (Collection<?>) v;
      p.packArrayHeader(c.size());
      for (Object o : c) {
        pack(p, o, depth + 1);
      }
    } else if (v instanceof Object[]) {
      Object[] a = (Object[]) v;
      p.packArrayHeader(a.length);
      for (Object o : a) {
        pack(p, o, depth + 1);
      }
    } else if (v instanceof Ext) {
      Ext x = (Ext) v;
      p.packExtensionTypeHeader(x.type(), x.data().length);
      p.writePayload(x.data());
    } else {
      throw new IllegalArgumentException("cannot encode " + v.getClass().getName()
          + " as MessagePack");
    }
  }

  // ---------------------------------------------------------------- decoding

  /**
   * Decodes exactly one value (see the class comment for the resulting types).
   *
   * @throws DecodeException on empty, malformed or truncated input, trailing bytes, a
   *     non-string map key or too deep nesting
   */
  public static Object decode(byte[] bytes) {
    if (bytes.length == 0) {
      throw new DecodeException("no MessagePack value: empty input");
    }
    try (MessageUnpacker u = MessagePack.newDefaultUnpacker(bytes)) {
      Object v = unpack(u, bytes.length, 0);
      if (u.hasNext()) {
        throw new DecodeException((bytes.length - u.getTotalReadBytes())
            + " trailing byte(s) after the MessagePack value");
      }
      return v;
    } catch (IOException | MessagePackException e) {
      throw new DecodeException("malformed MessagePack: " + e.getMessage(), e);
    }
  }

  /** {@link #decode(byte[])} of a Vert.x {@link Buffer}. */
  public static Object decode(Buffer bytes) {
    return decode(bytes.getBytes());
  }

  /**
   * Decodes a map with string keys. Empty input is an empty map (params "none").
   *
   * @throws DecodeException when the input is not exactly one map with string keys
   */
  @SuppressWarnings("unchecked")
  public static Map<String, Object> decodeMap(byte[] bytes) {
    if (bytes.length == 0) {
      return new LinkedHashMap<>();
    }
    Object v = decode(bytes);
    if (!(v instanceof Map)) {
      throw new DecodeException("expected a MessagePack map, got " + typeName(v));
    }
    return (Map<String, Object>) v;
  }

  /** {@link #decodeMap(byte[])} of a Vert.x {@link Buffer}. */
  public static Map<String, Object> decodeMap(Buffer bytes) {
    return decodeMap(bytes.getBytes());
  }

  private static Object unpack(MessageUnpacker u, int total, int depth) throws IOException {
    if (depth > MAX_DEPTH) {
      throw new DecodeException("MessagePack nested deeper than " + MAX_DEPTH);
    }
    MessageFormat f = u.getNextFormat();
    if (f == MessageFormat.NEVER_USED) {
      throw new DecodeException("reserved byte 0xc1 at offset " + u.getTotalReadBytes());
    }
    ValueType t = f.getValueType();
    switch (t) {
      case NIL:
        u.unpackNil();
        return null;
      case BOOLEAN:
        return u.unpackBoolean();
      case INTEGER:
        if (f == MessageFormat.UINT64) {
          BigInteger b = u.unpackBigInteger();
          return b.bitLength() < 64 ? (Object) b.longValue() : b;
        }
        return u.unpackLong();
      case FLOAT:
        return u.unpackDouble();
      case STRING: {
        int n = checkLength(u, u.unpackRawStringHeader(), total);
        return new String(u.readPayload(n), StandardCharsets.UTF_8);
      }
      case BINARY: {
        int n = checkLength(u, u.unpackBinaryHeader(), total);
        return u.readPayload(n);
      }
      case ARRAY: {
        int n = u.unpackArrayHeader();
        List<Object> list = new ArrayList<>(Math.min(n, remaining(u, total)));
        for (int i = 0; i < n; i++) {
          list.add(unpack(u, total, depth + 1));
        }
        return list;
      }
      case MAP: {
        int n = u.unpackMapHeader();
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
          MessageFormat kf = u.getNextFormat();
          if (kf == MessageFormat.NEVER_USED || kf.getValueType() != ValueType.STRING) {
            throw new DecodeException("map key at offset " + u.getTotalReadBytes()
                + " is not a string (" + kf + ")");
          }
          String key = (String) unpack(u, total, depth + 1);
          map.put(key, unpack(u, total, depth + 1));
        }
        return map;
      }
      case EXTENSION: {
        ExtensionTypeHeader h = u.unpackExtensionTypeHeader();
        int n = checkLength(u, h.getLength(), total);
        return new Ext(h.getType(), u.readPayload(n));
      }
      default:
        throw new DecodeException("unsupported MessagePack type " + t);
    }
  }

  private static int remaining(MessageUnpacker u, int total) {
    return (int) Math.max(0, total - u.getTotalReadBytes());
  }

  private static int checkLength(MessageUnpacker u, int n, int total) {
    if (n < 0 || n > remaining(u, total)) {
      throw new DecodeException("truncated MessagePack: " + Integer.toUnsignedString(n)
          + " bytes declared at offset " + u.getTotalReadBytes() + ", "
          + remaining(u, total) + " left");
    }
    return n;
  }

  // ---------------------------------------------------------------- params checks (section 10)

  /**
   * Classifies a params payload without building a tree: empty, exactly one empty map, exactly
   * one non-empty map (keys of any type), or anything else. Never throws.
   */
  public static ParamsKind paramsKind(byte[] bytes) {
    if (bytes.length == 0) {
      return ParamsKind.EMPTY;
    }
    try (MessageUnpacker u = MessagePack.newDefaultUnpacker(bytes)) {
      MessageFormat f = u.getNextFormat();
      if (f == MessageFormat.NEVER_USED || f.getValueType() != ValueType.MAP) {
        return ParamsKind.NOT_MAP;
      }
      int n = u.unpackMapHeader();
      if (n < 0) {
        return ParamsKind.NOT_MAP;
      }
      for (int i = 0; i < n; i++) {
        u.skipValue(); // key
        u.skipValue(); // value
      }
      if (u.hasNext()) {
        return ParamsKind.NOT_MAP;
      }
      return n == 0 ? ParamsKind.EMPTY_MAP : ParamsKind.MAP;
    } catch (IOException | MessagePackException e) {
      return ParamsKind.NOT_MAP;
    }
  }

  /** {@link #paramsKind(byte[])} of a Vert.x {@link Buffer}. */
  public static ParamsKind paramsKind(Buffer bytes) {
    return paramsKind(bytes == null ? new byte[0] : bytes.getBytes());
  }

  /**
   * Section 10's first check: the payload is empty or exactly one MessagePack map (else the
   * broker answers -32700).
   */
  public static boolean isMapOrEmpty(byte[] bytes) {
    return paramsKind(bytes) != ParamsKind.NOT_MAP;
  }

  /** {@link #isMapOrEmpty(byte[])} of a Vert.x {@link Buffer}. */
  public static boolean isMapOrEmpty(Buffer bytes) {
    return paramsKind(bytes) != ParamsKind.NOT_MAP;
  }

  /**
   * Section 10's "none" params: an empty payload or an empty map (a non-empty map to a method
   * without params gives -32602).
   */
  public static boolean isNoParams(Buffer bytes) {
    ParamsKind k = paramsKind(bytes);
    return k == ParamsKind.EMPTY || k == ParamsKind.EMPTY_MAP;
  }

  // ---------------------------------------------------------------- JSON

  /** Compact JSON of a decoded tree (see the class comment for binary and ext). */
  public static String toJson(Object tree) {
    return toJson(tree, false);
  }

  /** JSON of a decoded tree; {@code pretty} indents by two spaces, one entry per line. */
  public static String toJson(Object tree, boolean pretty) {
    StringBuilder sb = new StringBuilder();
    json(sb, tree, pretty, 0);
    return sb.toString();
  }

  private static void json(StringBuilder sb, Object v, boolean pretty, int indent) {
    if (v == null) {
      sb.append("null");
    } else if (v instanceof String) {
      quote(sb, (String) v);
    } else if (v instanceof Boolean || v instanceof Long || v instanceof Integer
        || v instanceof Short || v instanceof Byte || v instanceof BigInteger) {
      sb.append(v);
    } else if (v instanceof Double || v instanceof Float) {
      double d = ((Number) v).doubleValue();
      if (Double.isFinite(d)) {
        sb.append(v);
      } else {
        quote(sb, Double.isNaN(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
      }
    } else if (v instanceof byte[]) {
      quote(sb, Base64.getEncoder().encodeToString((byte[]) v));
    } else if (v instanceof Buffer) {
      quote(sb, Base64.getEncoder().encodeToString(((Buffer) v).getBytes()));
    } else if (v instanceof Ext) {
      Ext x = (Ext) v;
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("ext", (long) x.type());
      m.put("data", x.data());
      json(sb, m, pretty, indent);
    } else if (v instanceof Map) {
      Map<?, ?> m = (Map<?, ?>) v;
      if (m.isEmpty()) {
        sb.append("{}");
        return;
      }
      sb.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> e : m.entrySet()) {
        if (!first) {
          sb.append(',');
        }
        first = false;
        newline(sb, pretty, indent + 1);
        quote(sb, String.valueOf(e.getKey()));
        sb.append(pretty ? ": " : ":");
        json(sb, e.getValue(), pretty, indent + 1);
      }
      newline(sb, pretty, indent);
      sb.append('}');
    } else if (v instanceof Collection || v instanceof Object[]) {
      Collection<?> c = v instanceof Collection ? (Collection<?>) v : List.of((Object[]) v);
      if (c.isEmpty()) {
        sb.append("[]");
        return;
      }
      sb.append('[');
      boolean first = true;
      for (Object o : c) {
        if (!first) {
          sb.append(',');
        }
        first = false;
        newline(sb, pretty, indent + 1);
        json(sb, o, pretty, indent + 1);
      }
      newline(sb, pretty, indent);
      sb.append(']');
    } else {
      quote(sb, v.toString());
    }
  }

  private static void newline(StringBuilder sb, boolean pretty, int indent) {
    if (pretty) {
      sb.append('\n');
      for (int i = 0; i < indent; i++) {
        sb.append("  ");
      }
    }
  }

  private static void quote(StringBuilder sb, String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"': sb.append("\\\""); break;
        case '\\': sb.append("\\\\"); break;
        case '\n': sb.append("\\n"); break;
        case '\r': sb.append("\\r"); break;
        case '\t': sb.append("\\t"); break;
        case '\b': sb.append("\\b"); break;
        case '\f': sb.append("\\f"); break;
        default:
          if (c < 0x20 || c == 0x2028 || c == 0x2029) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
      }
    }
    sb.append('"');
  }

  private static String typeName(Object v) {
    if (v == null) {
      return "nil";
    } else if (v instanceof List) {
      return "an array";
    } else if (v instanceof String) {
      return "a string";
    } else if (v instanceof byte[]) {
      return "binary";
    } else if (v instanceof Boolean) {
      return "a boolean";
    } else if (v instanceof Double) {
      return "a float";
    } else if (v instanceof Ext) {
      return "an extension value";
    }
    return "an integer";
  }
}
