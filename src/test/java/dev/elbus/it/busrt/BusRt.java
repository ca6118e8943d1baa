package dev.elbus.it.busrt;

import dev.elbus.Broker;
import dev.elbus.Internals;
import dev.elbus.config.ListenerOptions;
import dev.elbus.support.RawClient;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

import static dev.elbus.support.RawClient.concat;
import static dev.elbus.support.RawClient.le32;
import static dev.elbus.support.RawClient.utf8;

/**
 * Wire-level helpers of the BUS/RT integration tests (PROTOCOL.md section 15): op codes, exact
 * broker frames, a frame reader that skips broker pings, RPC frames to {@code .broker}, the
 * {@code .broker/info} announcement bytes and deadline-bounded waits. The frames are built here
 * byte by byte, not with the project's codec.
 */
final class BusRt {
  private BusRt() {}

  // client operations (section 2 and 15)
  static final int PUBLISH = 0x01;
  static final int SUBSCRIBE = 0x02;
  static final int UNSUBSCRIBE = 0x03;
  static final int EXCLUDE = 0x04;
  static final int UNEXCLUDE = 0x05;
  static final int PUBLISH_FOR = 0x06;
  static final int MESSAGE = 0x12;

  // broker frame types (section 3)
  static final int T_PUBLISH = 0x01;
  static final int T_MESSAGE = 0x12;

  // result codes (section 4)
  static final int OK = 0x01;
  static final int BUSY = 0x76;
  static final int ACCESS = 0x79;

  /** A long listener timeout: no broker ping interleaves with the bytes a test expects. */
  static final Consumer<ListenerOptions> QUIET = l -> l.setTimeoutMs(60_000);

  private static final AtomicInteger SEQ = new AtomicInteger();

  /** A name unique in this JVM, so that tests sharing a broker never see each other. */
  static String uniq(String base) {
    return base + SEQ.incrementAndGet();
  }

  static String hex(byte[] b) {
    return HexFormat.ofDelimiter(" ").formatHex(b);
  }

  static String shortHex(byte[] b) {
    if (b.length <= 128) {
      return hex(b);
    }
    return HexFormat.ofDelimiter(" ").formatHex(b, 0, 96) + " ... (" + b.length + " bytes)";
  }

  /** {@code 00}-separated topics (subscribe, unsubscribe, exclude, unexclude bodies). */
  static byte[] topics(String... topics) {
    return utf8(String.join("\0", topics));
  }

  /** A publish-for body: {@code topic 00 receiver 00 payload}. */
  static byte[] publishForBody(String topic, String receiver, byte[] payload) {
    return concat(utf8(topic), new byte[] {0}, utf8(receiver), new byte[] {0}, payload);
  }

  /** {@code FE <opId u32> <code>}. */
  static byte[] ack(int opId, int code) {
    return concat(new byte[] {(byte) 0xFE}, le32(opId), new byte[] {(byte) code});
  }

  /** {@code 01 <len u32> <rt> sender 00 topic 00 payload}. */
  static byte[] publication(String sender, String topic, byte[] payload, boolean realtime) {
    return RawClient.brokerFrame(T_PUBLISH, realtime, sender, topic, payload);
  }

  /** {@code 12 <len u32> <rt> sender 00 payload}. */
  static byte[] message(String sender, byte[] payload, boolean realtime) {
    return RawClient.brokerFrame(T_MESSAGE, realtime, sender, null, payload);
  }

  /** Reads the next broker frame (header and body), skipping broker pings. */
  static byte[] next(RawClient c) throws IOException {
    return next(c, RawClient.TIMEOUT_MS);
  }

  static byte[] next(RawClient c, long timeoutMs) throws IOException {
    return c.nextFrame(timeoutMs);
  }

  /** The next frame (pings skipped) must be exactly {@code expected}. */
  static void expectFrame(RawClient c, byte[] expected) throws IOException {
    byte[] got = next(c);
    if (!Arrays.equals(expected, got)) {
      throw new AssertionError("expected " + shortHex(expected) + "\n but got " + shortHex(got));
    }
  }

  static void expectAck(RawClient c, int opId, int code) throws IOException {
    expectFrame(c, ack(opId, code));
  }

  /**
   * Proves that nothing else is pending for {@code to} from {@code from}: {@code from} sends a
   * direct marker with QoS 1, which must be the very next frame {@code to} receives (frames from
   * one sender to one receiver keep their order) and the very next frame {@code from} gets back.
   */
  static void marker(RawClient from, String fromName, RawClient to, String toName, int opId)
      throws IOException {
    byte[] payload = utf8("marker-" + opId);
    from.frame(opId, MESSAGE, 1, toName, payload);
    if (from == to) {
      expectFrame(to, message(fromName, payload, false));
      expectAck(from, opId, OK);
      return;
    }
    expectAck(from, opId, OK);
    expectFrame(to, message(fromName, payload, false));
  }

  /** Polls {@code cond} with short sleeps until it holds or {@code ms} pass. */
  static void await(BooleanSupplier cond, long ms, String what) throws InterruptedException {
    long deadline = System.nanoTime() + ms * 1_000_000;
    while (!cond.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + ms + " ms: " + what);
      }
      Thread.sleep(10);
    }
  }

  static void awaitUnregistered(Broker b, String name) throws InterruptedException {
    await(() -> Internals.router(b).registry().get(name) == null, 5_000, name + " unregistered");
  }

  // ---------------------------------------------------------------- RPC (section 9)

  /** An RPC request payload: {@code 01 <call id u32> method 00 params}. */
  static byte[] rpcRequest(int callId, String method, byte[] params) {
    return concat(new byte[] {0x01}, le32(callId), utf8(method), new byte[] {0}, params);
  }

  static byte[] le16(int v) {
    return RawClient.le16(v);
  }

  // ---------------------------------------------------------------- MessagePack bytes

  /** A MessagePack string as elbus (rmp) writes it: fixstr, str8 or str16. */
  static byte[] mpStr(String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    byte[] h;
    if (b.length < 32) {
      h = new byte[] {(byte) (0xA0 | b.length)};
    } else if (b.length < 256) {
      h = new byte[] {(byte) 0xD9, (byte) b.length};
    } else {
      h = new byte[] {(byte) 0xDA, (byte) (b.length >>> 8), (byte) b.length};
    }
    return concat(h, b);
  }

  /** A u64 as MessagePack {@code cf} + 8 bytes big-endian. */
  static byte[] mpU64(long v) {
    return concat(new byte[] {(byte) 0xCF},
        ByteBuffer.allocate(8).order(ByteOrder.BIG_ENDIAN).putLong(v).array());
  }

  /** The exact payload of {@code {"s": event, "d": name, "t": t}} (section 8). */
  static byte[] announcement(String event, String name, long t) {
    return concat(new byte[] {(byte) 0x83}, mpStr("s"), mpStr(event), mpStr("d"), mpStr(name),
        mpStr("t"), mpU64(t));
  }
}
