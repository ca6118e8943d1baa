package dev.elbus.it.rpc;

import static dev.elbus.support.RawClient.brokerFrame;
import static dev.elbus.support.RawClient.bytes;
import static dev.elbus.support.RawClient.concat;
import static dev.elbus.support.RawClient.le32;
import static dev.elbus.support.RawClient.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.elbus.support.RawClient;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessageUnpacker;
import org.msgpack.value.Value;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Byte-level helpers of the RPC integration tests: reading whole broker frames from a {@link
 * RawClient} (broker pings skipped), building RPC requests to {@code .broker} and the exact
 * frames expected back, and decoding MessagePack with msgpack-core directly (not the project's
 * own {@code MsgPack}).
 */
final class RpcWire {
  private RpcWire() {}

  /** Bound of every wait for a frame: generous, the machine is shared and noisy. */
  static final long TIMEOUT_MS = 15_000;
  static final String BROKER = ".broker";
  static final int OP_MESSAGE = 0x12;
  static final int OP_SUBSCRIBE = 0x02;

  static final HexFormat HEX = HexFormat.ofDelimiter(" ");

  /** The next frame from the broker (header and body), skipping broker pings. */
  static byte[] nextFrame(RawClient c) throws IOException {
    long deadline = System.nanoTime() + TIMEOUT_MS * 1_000_000;
    while (true) {
      long left = Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
      byte[] h = c.read(6, left);
      int type = h[0] & 0xFF;
      if (type == 0xFE) {
        return h;
      }
      int len = ByteBuffer.wrap(h, 1, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
      if (type == 0x00 && len == 0 && h[5] == 0) {
        continue; // ping: the deadline still runs
      }
      assertThat(len).as("body length of frame %s", HEX.formatHex(h)).isBetween(0, 1 << 26);
      byte[] body = len == 0 ? new byte[0] : c.read(len, TIMEOUT_MS);
      return concat(h, body);
    }
  }

  /** Acks and other frames read in one exchange, each kind in arrival order. */
  record Exchange(List<byte[]> acks, List<byte[]> others) {
    byte[] other() {
      assertThat(others).hasSize(1);
      return others.get(0);
    }
  }

  /**
   * Reads frames until exactly {@code acks} acks and {@code others} other frames arrived, in any
   * interleaving (an ack and an RPC reply are independent on the wire); fails as soon as one more
   * frame of a kind arrives than expected.
   */
  static Exchange exchange(RawClient c, int acks, int others) throws IOException {
    List<byte[]> a = new ArrayList<>();
    List<byte[]> o = new ArrayList<>();
    while (a.size() < acks || o.size() < others) {
      byte[] f = nextFrame(c);
      if ((f[0] & 0xFF) == 0xFE) {
        assertThat(a.size()).as("unexpected extra ack %s", HEX.formatHex(f)).isLessThan(acks);
        a.add(f);
      } else {
        assertThat(o.size()).as("unexpected extra frame %s", HEX.formatHex(f)).isLessThan(others);
        o.add(f);
      }
    }
    return new Exchange(a, o);
  }

  /** Asserts the acks of an exchange are exactly {@code expected}, in order. */
  static void assertAcks(Exchange x, byte[]... expected) {
    assertThat(x.acks().stream().map(HEX::formatHex).toList())
        .containsExactlyElementsOf(Arrays.stream(expected).map(HEX::formatHex).toList());
  }

  static void assertFrame(byte[] actual, byte[] expected) {
    assertThat(HEX.formatHex(actual)).isEqualTo(HEX.formatHex(expected));
  }

  // ---------------------------------------------------------------- building

  /** An RPC request payload: {@code 01 <call id> method 00 params}. */
  static byte[] request(long callId, String method, byte[] params) {
    return concat(bytes(0x01), le32((int) callId), utf8(method), bytes(0), params);
  }

  /** Sends {@code payload} as a direct message to {@code target}. */
  static void message(RawClient c, int opId, int qos, String target, byte[] payload)
      throws IOException {
    c.frame(opId, OP_MESSAGE, qos, target, payload);
  }

  /** Sends an RPC request to {@code .broker}; returns the body length of the client frame. */
  static int call(RawClient c, int opId, int qos, long callId, String method, byte[] params)
      throws IOException {
    byte[] req = request(callId, method, params);
    message(c, opId, qos, BROKER, req);
    return utf8(BROKER).length + 1 + req.length;
  }

  static byte[] ack(int opId, int code) {
    return concat(bytes(0xFE), le32(opId), bytes(code));
  }

  /** The exact reply frame from {@code .broker}: {@code 12 <len> <rt> .broker 00 11 <id> result}. */
  static byte[] reply(long callId, byte[] result, boolean realtime) {
    return brokerFrame(0x12, realtime, BROKER, null,
        concat(bytes(0x11), le32((int) callId), result));
  }

  /** {@code {"ok": true}}. */
  static final byte[] OK = bytes(0x81, 0xA2, 0x6F, 0x6B, 0xC3);

  // ---------------------------------------------------------------- checking replies

  /**
   * Asserts {@code frame} is a reply from {@code .broker} to {@code callId} (header exact, the
   * length consistent) and returns its result bytes.
   */
  static byte[] replyResult(byte[] frame, long callId, boolean realtime) {
    byte[] prefix = concat(utf8(BROKER), bytes(0), bytes(0x11), le32((int) callId));
    assertHeader(frame, 0x12, realtime);
    assertThat(HEX.formatHex(Arrays.copyOfRange(frame, 6, Math.min(frame.length, 6 + prefix.length))))
        .as("reply body start").isEqualTo(HEX.formatHex(prefix));
    return Arrays.copyOfRange(frame, 6 + prefix.length, frame.length);
  }

  /**
   * Asserts {@code frame} is exactly {@code 12 <len> <rt> .broker 00 12 <callId> <code i16 LE>
   * <data>} with a non-empty UTF-8 data message; returns the data.
   */
  static String assertError(byte[] frame, long callId, int code, boolean realtime) {
    byte[] prefix = concat(utf8(BROKER), bytes(0), bytes(0x12), le32((int) callId),
        bytes(code & 0xFF, (code >>> 8) & 0xFF));
    assertHeader(frame, 0x12, realtime);
    assertThat(HEX.formatHex(Arrays.copyOfRange(frame, 6, Math.min(frame.length, 6 + prefix.length))))
        .as("error reply body start (code %d)", code).isEqualTo(HEX.formatHex(prefix));
    byte[] data = Arrays.copyOfRange(frame, 6 + prefix.length, frame.length);
    String text = new String(data, StandardCharsets.UTF_8);
    assertThat(utf8(text)).as("error data is UTF-8").isEqualTo(data);
    return text;
  }

  /** Type byte, length field equal to the actual body length, realtime byte. */
  static void assertHeader(byte[] frame, int type, boolean realtime) {
    assertThat(frame.length).as("frame %s", HEX.formatHex(frame)).isGreaterThanOrEqualTo(6);
    assertThat(frame[0] & 0xFF).as("frame type of %s", HEX.formatHex(frame)).isEqualTo(type);
    int len = ByteBuffer.wrap(frame, 1, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
    assertThat(len).as("length field").isEqualTo(frame.length - 6);
    assertThat(frame[5]).as("realtime byte").isEqualTo((byte) (realtime ? 1 : 0));
  }

  // ---------------------------------------------------------------- announcements

  /**
   * The exact announcement frame {@code 01 <len> 00 .broker 00 topic 00 <msgpack>}, its map
   * being {@code {s, d, t}} ({@code d} left out when {@code name} is null) in that key order, with
   * {@code t} a u64 ({@code CF} + 8 bytes big-endian).
   */
  static byte[] announcement(String topic, String s, String name, long t) {
    byte[] map = concat(bytes(name == null ? 0x82 : 0x83), str("s"), str(s),
        name == null ? new byte[0] : concat(str("d"), str(name)),
        str("t"), bytes(0xCF), ByteBuffer.allocate(8).putLong(t).array());
    return brokerFrame(0x01, false, BROKER, topic, map);
  }

  /** The {@code t} of an announcement: its last 8 bytes, big-endian. */
  static long announcedTime(byte[] frame) {
    assertThat(frame.length).isGreaterThan(15);
    return ByteBuffer.wrap(frame, frame.length - 8, 8).getLong();
  }

  /**
   * Reads the next frame and asserts it is exactly the announcement {@code s}/{@code name} on
   * {@code topic} with a {@code t} between {@code notBeforeNanos} (minus 2 s of clock slack) and
   * now (plus 2 s).
   */
  static void expectAnnouncement(RawClient c, String topic, String s, String name,
      long notBeforeNanos) throws IOException {
    byte[] f = nextFrame(c);
    long t = announcedTime(f);
    assertFrame(f, announcement(topic, s, name, t));
    assertThat(t).as("t (ns since the epoch)")
        .isBetween(notBeforeNanos - 2_000_000_000L, nowNanos() + 2_000_000_000L);
  }

  static long nowNanos() {
    Instant now = Instant.now();
    return now.getEpochSecond() * 1_000_000_000L + now.getNano();
  }

  /** A MessagePack string (fixstr or str8). */
  static byte[] str(String s) {
    byte[] b = utf8(s);
    if (b.length < 32) {
      return concat(bytes(0xA0 | b.length), b);
    }
    assertThat(b.length).isLessThan(256);
    return concat(bytes(0xD9, b.length), b);
  }

  /** Subscribes {@code c} to {@code topic} with QoS 1 and waits for the ack. */
  static void subscribe(RawClient c, int opId, String topic) throws IOException {
    c.frame(opId, OP_SUBSCRIBE, 1, utf8(topic));
    assertFrame(nextFrame(c), ack(opId, 0x01));
  }

  /** {@code ip:port} of a TCP raw client's local end, as the broker reports it as source. */
  static String source(RawClient c) throws IOException {
    InetSocketAddress a = (InetSocketAddress) c.localAddress();
    return a.getAddress().getHostAddress() + ":" + a.getPort();
  }

  // ---------------------------------------------------------------- MessagePack

  /** Decodes exactly one MessagePack value with msgpack-core (maps keep wire order). */
  static Object unpack(byte[] b) throws IOException {
    try (MessageUnpacker u = MessagePack.newDefaultUnpacker(b)) {
      Value v = u.unpackValue();
      assertThat(u.hasNext()).as("trailing bytes after the MessagePack value").isFalse();
      return toJava(v);
    }
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> unpackMap(byte[] b) throws IOException {
    Object o = unpack(b);
    assertThat(o).as("a MessagePack map").isInstanceOf(Map.class);
    return (Map<String, Object>) o;
  }

  private static Object toJava(Value v) {
    switch (v.getValueType()) {
      case NIL:
        return null;
      case BOOLEAN:
        return v.asBooleanValue().getBoolean();
      case INTEGER:
        assertThat(v.asIntegerValue().isInLongRange()).isTrue();
        return v.asIntegerValue().toLong();
      case FLOAT:
        return v.asFloatValue().toDouble();
      case STRING:
        return v.asStringValue().asString();
      case BINARY:
        return v.asBinaryValue().asByteArray();
      case ARRAY: {
        List<Object> l = new ArrayList<>();
        for (Value e : v.asArrayValue()) {
          l.add(toJava(e));
        }
        return l;
      }
      case MAP: {
        Map<String, Object> m = new LinkedHashMap<>();
        for (Map.Entry<Value, Value> e : v.asMapValue().entrySet()) {
          assertThat(e.getKey().isStringValue()).as("map key %s is a string", e.getKey()).isTrue();
          String k = e.getKey().asStringValue().asString();
          assertThat(m).as("duplicate key %s", k).doesNotContainKey(k);
          m.put(k, toJava(e.getValue()));
        }
        return m;
      }
      default:
        throw new AssertionError("unexpected MessagePack value " + v);
    }
  }
}
