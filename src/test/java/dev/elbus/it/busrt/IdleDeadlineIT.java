package dev.elbus.it.busrt;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.elbus.impl.routing.CloseReason;
import dev.elbus.support.LeakGate;
import dev.elbus.support.RawClient;
import dev.elbus.support.TestBroker;
import dev.elbus.support.Transport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.List;

import static dev.elbus.it.busrt.BusRt.marker;
import static dev.elbus.it.busrt.BusRt.uniq;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The optional idle deadline (PROTOCOL.md section 6, BUS/RT-style liveness): with {@code
 * setIdleTimeoutMs} a registered client that sends nothing, not even a ping, is closed, logged and
 * counted as {@code idle_timeout}; a client that pings stays. Off by default: a silent client
 * then only receives the broker's pings and stays connected.
 */
@ExtendWith(LeakGate.class)
class IdleDeadlineIT {
  /** Idle deadline of 1 s; a long listener timeout, so the broker pings nobody here. */
  private static TestBroker idle;
  /** Defaults except a short listener timeout, so the broker pings every 500 ms. */
  private static TestBroker dflt;
  private static ListAppender<ILoggingEvent> log;
  private static Logger connLog;

  private static final byte[] PING = new byte[9];
  /** How long the pinging / silent clients are watched. */
  private static final long WATCH_MS = 3_000;

  @BeforeAll
  static void start() throws Exception {
    connLog = (Logger) LoggerFactory.getLogger("dev.elbus.impl.net.ClientConnection");
    log = new ListAppender<>();
    log.setContext(connLog.getLoggerContext());
    log.start();
    connLog.addAppender(log);
    idle = TestBroker.start(1, l -> l.setTimeoutMs(60_000).setIdleTimeoutMs(1_000));
    dflt = TestBroker.start(1, l -> l.setTimeoutMs(500));
  }

  @AfterAll
  static void stop() throws Exception {
    connLog.detachAppender(log);
    try {
      idle.close();
    } finally {
      dflt.close();
    }
  }

  private static List<ILoggingEvent> idleLogs(String name) {
    synchronized (log.list) {
      return log.list.stream()
          .filter(e -> e.getFormattedMessage().startsWith("client " + name + " ("))
          .filter(e -> e.getFormattedMessage().contains("disconnected: idle_timeout"))
          .toList();
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void aSilentClientIsClosedAndAPingingOneStays(Transport t) throws Exception {
    String silentName = uniq("silent");
    String pingerName = uniq("pinger");
    long before = idle.router().stats().closes(CloseReason.IDLE_TIMEOUT);
    try (RawClient silent = idle.registered(t, silentName);
         RawClient pinger = idle.registered(t, pingerName)) {
      long end = System.nanoTime() + WATCH_MS * 1_000_000;
      while (System.nanoTime() < end) {
        pinger.send(PING);
        Thread.sleep(300);
      }
      // the silent one was closed (long ago; the bound is generous), the pinger was not
      silent.expectClosed(5_000);
      BusRt.awaitUnregistered(idle.broker(), silentName);
      assertThat(idle.router().registry().get(pingerName)).isNotNull();
      marker(pinger, pingerName, pinger, pingerName, 1);
      BusRt.await(() -> idle.router().stats().closes(CloseReason.IDLE_TIMEOUT) == before + 1,
          5_000, "one idle_timeout close counted");
      BusRt.await(() -> idleLogs(silentName).size() == 1, 5_000, "the close logged once");
      ILoggingEvent e = idleLogs(silentName).get(0);
      assertThat(e.getLevel()).isEqualTo(Level.WARN);
      assertThat(e.getFormattedMessage()).contains("idle deadline 1000 ms");
      assertThat(idleLogs(pingerName)).isEmpty();
    }
    BusRt.awaitUnregistered(idle.broker(), pingerName);
    // the pinger left by itself: not counted as idle
    assertThat(idle.router().stats().closes(CloseReason.IDLE_TIMEOUT)).isEqualTo(before + 1);
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void anyFrameCountsAsInput(Transport t) throws Exception {
    String name = uniq("talker");
    long before = idle.router().stats().closes(CloseReason.IDLE_TIMEOUT);
    try (RawClient c = idle.registered(t, name)) {
      for (int i = 0; i < 5; i++) {
        // a QoS-0 message to itself: input for the broker, no ack
        c.frame(100 + i, BusRt.MESSAGE, 0, name, RawClient.utf8("m" + i));
        BusRt.expectFrame(c, BusRt.message(name, RawClient.utf8("m" + i), false));
        Thread.sleep(300);
      }
      marker(c, name, c, name, 1);
    }
    BusRt.awaitUnregistered(idle.broker(), name);
    assertThat(idle.router().stats().closes(CloseReason.IDLE_TIMEOUT)).isEqualTo(before);
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void offByDefaultASilentClientStaysAndOnlyGetsBrokerPings(Transport t) throws Exception {
    String name = uniq("quiet");
    try (RawClient c = dflt.registered(t, name)) {
      int pings = 0;
      long end = System.nanoTime() + WATCH_MS * 1_000_000;
      while (true) {
        long left = (end - System.nanoTime()) / 1_000_000;
        if (left <= 0) {
          break;
        }
        byte[] h;
        try {
          h = c.read(6, left);
        } catch (IOException timedOut) {
          // nothing more within the watch period; a close would have been reported as such
          assertThat(timedOut.getMessage()).startsWith("timed out");
          break;
        }
        assertThat(BusRt.hex(h)).isEqualTo("00 00 00 00 00 00");
        pings++;
      }
      assertThat(pings).as("broker pings in %d ms at a 500 ms interval", WATCH_MS)
          .isGreaterThanOrEqualTo(1);
      assertThat(dflt.router().registry().get(name)).isNotNull();
      marker(c, name, c, name, 1);
    }
    assertThat(dflt.router().stats().closes(CloseReason.IDLE_TIMEOUT)).isZero();
    assertThat(idleLogs(name)).isEmpty();
  }
}
