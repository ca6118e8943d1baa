package dev.elbus.it;

import dev.elbus.routing.CloseReason;
import dev.elbus.support.LeakGate;
import dev.elbus.support.RawClient;
import dev.elbus.support.TestBroker;
import dev.elbus.support.Transport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static dev.elbus.it.Wire.MESSAGE;
import static dev.elbus.it.Wire.PUBLISH;
import static dev.elbus.it.Wire.SUBSCRIBE;
import static dev.elbus.it.Wire.marker;
import static dev.elbus.it.Wire.uniq;
import static dev.elbus.support.RawClient.concat;
import static dev.elbus.support.RawClient.utf8;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * RELIABILITY.md items 6 and 9: a client that dies (FIN or RST) or stalls in the middle of a
 * frame is unregistered, leaves nothing behind, and leaks no buffer.
 */
@ExtendWith(LeakGate.class)
class KillMidFrameIT {
  private static final int ITERATIONS = 25;
  private static TestBroker tb;

  @BeforeAll
  static void start() throws Exception {
    tb = TestBroker.start(1, Wire.QUIET);
  }

  @AfterAll
  static void stop() throws Exception {
    tb.close();
  }

  private static byte[] header(int flags, long len) {
    return ByteBuffer.allocate(9).order(ByteOrder.LITTLE_ENDIAN).putInt(7).put((byte) flags)
        .putInt((int) len).array();
  }

  static Stream<Arguments> kills() {
    List<Arguments> out = new ArrayList<>();
    for (Transport t : Transport.values()) {
      out.add(Arguments.of(t, false));
      out.add(Arguments.of(t, true));
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0} reset={1}")
  @MethodSource("kills")
  void killedMidFrameIsUnregistered(Transport t, boolean reset) throws Exception {
    String ns = uniq("kill");
    String wn = ns + "-witness";
    // the clients of earlier cases are gone (their departures may still be in flight)
    // only the broker's own client .broker stays registered
    int baseline = 1;
    Wire.await(() -> tb.broker().router().registry().size() == baseline, 5_000,
        "registry back to .broker only");
    int baseSubs = tb.broker().router().topics().size();
    // .broker's own .broker/warn subscription
    assertThat(baseSubs).isEqualTo(1);
    try (RawClient witness = tb.registered(t, wn)) {
      long fds = openFds();
      for (int i = 0; i < ITERATIONS; i++) {
        String n = ns + "-" + i;
        RawClient c = tb.registered(t, n);
        // a subscription, then a frame cut short: the header and part of the body
        c.frame(1, SUBSCRIBE, 1, utf8(ns + "/#"));
        Wire.expectAck(c, 1, Wire.OK);
        byte[] partial;
        switch (i % 4) {
          case 0: // a header announcing 1 MiB and 10 bytes of it
            partial = concat(header(MESSAGE, 1 << 20), utf8(wn), new byte[] {0, 1, 2, 3, 4});
            break;
          case 1: // a header only
            partial = header(PUBLISH | 0x40, 100);
            break;
          case 2: // part of a header
            partial = new byte[] {1, 0, 0, 0, MESSAGE};
            break;
          default: // a complete frame, then most of a second one
            byte[] whole = Wire.clientFrame(2, MESSAGE, 0, wn, utf8("last words " + i));
            partial = concat(whole, java.util.Arrays.copyOf(whole, whole.length - 1));
            break;
        }
        c.send(partial);
        if (reset) {
          c.abort();
        } else {
          c.close();
        }
        Wire.awaitUnregistered(tb.broker(), n);
        if (i % 4 == 3) {
          Wire.expectFrame(witness, Wire.message(n, utf8("last words " + i), false));
        }
      }
      // killed during the handshake: nothing registered
      for (int i = 0; i < 4; i++) {
        RawClient c = tb.raw(t);
        c.expect(0xEB, 0x01, 0x00);
        c.send(concat(RawClient.bytes(0xEB, 0x01, 0x00), RawClient.le16(20), utf8(ns + "h")));
        if (reset) {
          c.abort();
        } else {
          c.close();
        }
      }
      marker(witness, wn, witness, wn, 99);
      Wire.await(() -> tb.broker().router().registry().size() == baseline + 1, 5_000,
          "registry back to baseline");
      Wire.await(() -> tb.broker().router().topics().size() == baseSubs + 1, 5_000,
          "subscriptions back to baseline");
      assertThat(tb.broker().router().topics().match(ns + "/x")).isEmpty();
      // both ends of every killed connection live in this JVM: none may stay open (small slack
      // for descriptors the JVM opens on its own)
      Wire.await(() -> openFds() <= fds + 3, 5_000,
          () -> "file descriptors back to baseline " + fds + ": " + openFds());
    }
  }

  /** Open file descriptors of this JVM (Linux). */
  private static long openFds() {
    try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
      return s.count();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void stalledMidFrameIsClosedButIdleClientsAreNot(Transport t) throws Exception {
    try (TestBroker b = TestBroker.start(1, l -> l.setTimeoutMs(500))) {
      try (RawClient idle = b.registered(t, "idle"); RawClient stall = b.registered(t, "stall")) {
        long t0 = System.nanoTime();
        stall.send(concat(header(MESSAGE, 1 << 20), new byte[10]));
        stall.expectClosed(3_000);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertThat(ms).as("closed after %d ms", ms).isGreaterThanOrEqualTo(400);
        Wire.awaitUnregistered(b.broker(), "stall");
        assertThat(b.broker().stats().closes(CloseReason.FRAME_TIMEOUT)).isEqualTo(1);
        // the idle client sent nothing for longer than the timeout and is still served
        Thread.sleep(700);
        marker(idle, "idle", idle, "idle", 1);
        assertThat(b.broker().stats().closes(CloseReason.FRAME_TIMEOUT)).isEqualTo(1);
      }
    }
  }
}
