package dev.elbus.it.aaa;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import dev.elbus.support.RawClient;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;

import static dev.elbus.support.RawClient.concat;
import static dev.elbus.support.RawClient.le32;
import static dev.elbus.support.RawClient.utf8;

/**
 * Byte-level helpers of the AAA integration tests: client op codes, exact broker frames, a frame
 * reader that skips broker pings, deadline-bounded waits, atomic / in-place file writes and a log
 * capture to wait for the broker's own reports. Nothing here uses the project's codec.
 */
final class AaaWire {
  private AaaWire() {}

  static final int PUBLISH = 0x01;
  static final int SUBSCRIBE = 0x02;
  static final int UNSUBSCRIBE = 0x03;
  static final int MESSAGE = 0x12;
  static final int BROADCAST = 0x13;

  static final int OK = 0x01;
  static final int NOT_REGISTERED = 0x71;
  static final int DATA = 0x72;
  static final int ACCESS = 0x79;

  /** A bound for events that normally take milliseconds; never a lower bound. */
  static final long EVENT_MS = 10_000;

  static String hex(byte[] b) {
    return b.length <= 96 ? HexFormat.ofDelimiter(" ").formatHex(b)
        : HexFormat.ofDelimiter(" ").formatHex(b, 0, 64) + " ... (" + b.length + " bytes)";
  }

  /** {@code FE <opId u32> <code>}. */
  static byte[] ack(int opId, int code) {
    return concat(new byte[] {(byte) 0xFE}, le32(opId), new byte[] {(byte) code});
  }

  static byte[] message(String sender, byte[] payload) {
    return RawClient.brokerFrame(0x12, false, sender, null, payload);
  }

  static byte[] broadcast(String sender, byte[] payload) {
    return RawClient.brokerFrame(0x13, false, sender, null, payload);
  }

  static byte[] publication(String sender, String topic, byte[] payload) {
    return RawClient.brokerFrame(0x01, false, sender, topic, payload);
  }

  /** The {@code 00}-separated topics of a subscribe / unsubscribe body. */
  static byte[] topics(String... topics) {
    return utf8(String.join("\0", topics));
  }

  /** Reads the next broker frame (header and body), skipping broker pings. */
  static byte[] next(RawClient c) throws IOException {
    return next(c, RawClient.TIMEOUT_MS);
  }

  static byte[] next(RawClient c, long timeoutMs) throws IOException {
    return c.nextFrame(timeoutMs);
  }

  /** The sender of a delivered frame (message, broadcast, publication); null for an ack. */
  static String sender(byte[] frame) {
    if ((frame[0] & 0xFF) == 0xFE) {
      return null;
    }
    int end = 6;
    while (end < frame.length && frame[end] != 0) {
      end++;
    }
    return new String(frame, 6, end - 6, StandardCharsets.UTF_8);
  }

  /** The next frame (pings skipped) must be exactly {@code expected}. */
  static void expectFrame(RawClient c, byte[] expected) throws IOException {
    byte[] got = next(c);
    if (!Arrays.equals(expected, got)) {
      throw new AssertionError("expected " + hex(expected) + "\n but got " + hex(got));
    }
  }

  static void expectAck(RawClient c, int opId, int code) throws IOException {
    expectFrame(c, ack(opId, code));
  }

  /**
   * Reads frames until {@code marker} arrives and returns those before it that {@code keep}
   * accepts (the others, e.g. broker announcements, are dropped).
   */
  static List<byte[]> until(RawClient c, byte[] marker, Predicate<byte[]> keep)
      throws IOException {
    List<byte[]> out = new ArrayList<>();
    while (true) {
      byte[] f = next(c);
      if (Arrays.equals(f, marker)) {
        return out;
      }
      if (keep.test(f)) {
        out.add(f);
      }
    }
  }

  /** Polls {@code cond} with short sleeps until it holds or {@code ms} pass. */
  static void await(BooleanSupplier cond, long ms, String what) throws InterruptedException {
    long deadline = System.nanoTime() + ms * 1_000_000;
    while (!cond.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + ms + " ms waiting for " + what);
      }
      Thread.sleep(2);
    }
  }

  /** Replaces {@code file} atomically: writes a sibling temporary file, then renames it. */
  static void writeAtomically(Path file, String text) throws IOException {
    Path tmp = Files.createTempFile(file.getParent(), ".aaa", ".tmp");
    Files.writeString(tmp, text);
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  /** Rewrites {@code file} in place (truncate, then write), as a simple editor does. */
  static void writeInPlace(Path file, String text) throws IOException {
    Files.writeString(file, text);
  }

  /** Captures the events of some loggers while open, to wait on what the broker reports. */
  static final class LogCapture extends AppenderBase<ILoggingEvent> implements AutoCloseable {
    private final List<Logger> loggers = new ArrayList<>();
    final List<ILoggingEvent> events = new CopyOnWriteArrayList<>();

    /** Captures the loggers of these names (class names, as the broker's loggers use). */
    LogCapture(String... names) {
      for (String n : names) {
        loggers.add((Logger) LoggerFactory.getLogger(n));
      }
      setContext(loggers.get(0).getLoggerContext());
      start();
      loggers.forEach(l -> l.addAppender(this));
    }

    @Override
    protected void append(ILoggingEvent e) {
      events.add(e);
    }

    /** Events at {@code level} whose formatted message contains every one of {@code parts}. */
    long count(ch.qos.logback.classic.Level level, String... parts) {
      return events.stream().filter(e -> e.getLevel() == level
          && Arrays.stream(parts).allMatch(p -> e.getFormattedMessage().contains(p))).count();
    }

    String dump() {
      StringBuilder sb = new StringBuilder();
      events.forEach(e -> sb.append(e.getLevel()).append(' ').append(e.getFormattedMessage())
          .append('\n'));
      return sb.toString();
    }

    @Override
    public void close() {
      loggers.forEach(l -> l.detachAppender(this));
      stop();
    }
  }
}
