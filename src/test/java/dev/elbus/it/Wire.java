package dev.elbus.it;

import dev.elbus.Broker;
import dev.elbus.Internals;
import dev.elbus.config.ListenerOptions;
import dev.elbus.support.RawClient;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

import static dev.elbus.support.RawClient.concat;
import static dev.elbus.support.RawClient.le32;
import static dev.elbus.support.RawClient.utf8;

/**
 * Wire-level helpers shared by the integration tests: client op codes, exact broker frames, a
 * frame reader that skips broker pings, and deadline-bounded waits. Nothing here uses the
 * project's codec.
 */
final class Wire {
  private Wire() {}

  static final int PUBLISH = 0x01;
  static final int SUBSCRIBE = 0x02;
  static final int UNSUBSCRIBE = 0x03;
  static final int MESSAGE = 0x12;
  static final int BROADCAST = 0x13;

  static final int T_PUBLISH = 0x01;
  static final int T_MESSAGE = 0x12;
  static final int T_BROADCAST = 0x13;

  static final int OK = 0x01;
  static final int NOT_REGISTERED = 0x71;
  static final int DATA = 0x72;
  static final int NOT_SUPPORTED = 0x75;
  static final int BUSY = 0x76;
  static final int NOT_DELIVERED = 0x77;

  /**
   * Listener settings for tests that do not exercise timeouts: a long timeout, so that broker
   * pings (sent every timeout) never interleave with the bytes a test expects.
   */
  static final Consumer<ListenerOptions> QUIET = l -> l.setTimeoutMs(60_000);

  private static final AtomicInteger SEQ = new AtomicInteger();

  /** A name prefix unique in this JVM, so that tests sharing a broker never see each other. */
  static String uniq(String base) {
    return base + SEQ.incrementAndGet();
  }

  static String hex(byte[] b) {
    return HexFormat.ofDelimiter(" ").formatHex(b);
  }

  /** {@code FE <opId u32> <code>}. */
  static byte[] ack(int opId, int code) {
    return concat(new byte[] {(byte) 0xFE}, le32(opId), new byte[] {(byte) code});
  }

  static byte[] message(String sender, byte[] payload, boolean realtime) {
    return RawClient.brokerFrame(T_MESSAGE, realtime, sender, null, payload);
  }

  static byte[] broadcast(String sender, byte[] payload, boolean realtime) {
    return RawClient.brokerFrame(T_BROADCAST, realtime, sender, null, payload);
  }

  static byte[] publication(String sender, String topic, byte[] payload, boolean realtime) {
    return RawClient.brokerFrame(T_PUBLISH, realtime, sender, topic, payload);
  }

  /** A client frame header + body as one byte array. */
  static byte[] clientFrame(int opId, int op, int qos, byte[] body) {
    ByteBuffer h = ByteBuffer.allocate(9 + body.length).order(ByteOrder.LITTLE_ENDIAN);
    h.putInt(opId).put((byte) (op | (qos << 6))).putInt(body.length).put(body);
    return h.array();
  }

  static byte[] clientFrame(int opId, int op, int qos, String target, byte[] payload) {
    return clientFrame(opId, op, qos, concat(utf8(target), new byte[] {0}, payload));
  }

  /** Subscribe (or unsubscribe) frame with {@code 00}-separated topics. */
  static byte[] topicsBody(String... topics) {
    return utf8(String.join("\0", topics));
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
    if (!java.util.Arrays.equals(expected, got)) {
      throw new AssertionError("expected " + shortHex(expected) + "\n but got " + shortHex(got));
    }
  }

  static void expectAck(RawClient c, int opId, int code) throws IOException {
    expectFrame(c, ack(opId, code));
  }

  static String shortHex(byte[] b) {
    if (b.length <= 96) {
      return hex(b);
    }
    return HexFormat.ofDelimiter(" ").formatHex(b, 0, 64) + " ... (" + b.length + " bytes)";
  }

  /** Polls {@code cond} with short sleeps until it holds or {@code ms} pass. */
  static void await(BooleanSupplier cond, long ms, String what) throws InterruptedException {
    await(cond, ms, () -> what);
  }

  /** As {@link #await(BooleanSupplier, long, String)}, the message built when it fails. */
  static void await(BooleanSupplier cond, long ms, java.util.function.Supplier<String> what)
      throws InterruptedException {
    long deadline = System.nanoTime() + ms * 1_000_000;
    while (!cond.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + ms + " ms: " + what.get());
      }
      Thread.sleep(10);
    }
  }

  static void awaitUnregistered(Broker b, String name) throws InterruptedException {
    await(() -> Internals.router(b).registry().get(name) == null, 5_000, name + " unregistered");
  }

  static void awaitRegistered(Broker b, String name) throws InterruptedException {
    await(() -> Internals.router(b).registry().get(name) != null, 5_000, name + " registered");
  }

  /**
   * Proves that nothing else is pending for {@code to} from {@code from}: {@code from} sends a
   * direct marker with QoS 1, which must be the very next frame {@code to} receives (frames from
   * one sender to one receiver keep their order) and the very next frame {@code from} gets back.
   */
  static void marker(RawClient from, String fromName, RawClient to, String toName, int opId)
      throws IOException {
    byte[] payload = utf8("marker-" + opId);
    from.send(clientFrame(opId, MESSAGE, 1, toName, payload));
    if (from == to) {
      // the message and its ack: delivery is queued before the ack
      expectFrame(to, message(fromName, payload, false));
      expectAck(from, opId, OK);
      return;
    }
    expectAck(from, opId, OK);
    expectFrame(to, message(fromName, payload, false));
  }
}
