package dev.elbus.impl.net;

import dev.elbus.support.Figures;
import dev.elbus.support.LeakGate;
import dev.elbus.support.RawClient;
import dev.elbus.support.TestBroker;
import dev.elbus.support.Transport;
import io.netty.channel.EventLoop;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static dev.elbus.support.RawClient.le16;
import static dev.elbus.support.RawClient.utf8;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 17, scenario 8: a client that closes its connection and registers the same name again
 * at once gets {@code 01}, not {@code 76}, even when the broker reads the new name before the
 * old connection's close. The full-size run (5,000 re-registrations per transport) is in the
 * reliability profile ({@code -Delbus.reregistrations}).
 */
@ExtendWith(LeakGate.class)
class ReRegistrationIT {
  private static final int ITERATIONS = Integer.getInteger("elbus.reregistrations", 1_000);

  /** Handshake up to the name: greeting, echo, OK. */
  private static void greet(RawClient c) throws Exception {
    c.expect(0xEB, 0x01, 0x00);
    c.send(0xEB, 0x01, 0x00);
    c.expect(0x01);
  }

  private static byte[] frame(int opId, int op, int qos, byte[] body) {
    ByteBuffer h = ByteBuffer.allocate(9 + body.length).order(ByteOrder.LITTLE_ENDIAN);
    h.putInt(opId).put((byte) (op | (qos << 6))).putInt(body.length).put(body);
    return h.array();
  }

  /**
   * Deterministic: with the event loop held, the new connection's name arrives before the old
   * connection's close, so the loop reads the name first. Frames the client pipelines after its
   * name are held and routed once it is registered.
   */
  @ParameterizedTest
  @EnumSource(Transport.class)
  void aNameReadBeforeTheOldCloseIsRegistered(Transport t) throws Exception {
    try (TestBroker tb = TestBroker.start(1, l -> l.setTimeoutMs(60_000))) {
      RawClient old = tb.registered(t, "x");
      EventLoop loop = ((SocketSession) tb.router().registry().get("x")).scheduler()
          .loop();
      try (RawClient fresh = tb.raw(t)) {
        greet(fresh);
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        loop.execute(() -> {
          held.countDown();
          try {
            release.await(10, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });
        assertThat(held.await(5, TimeUnit.SECONDS)).isTrue();
        // the name, and frames pipelined after it, then the old connection's close
        fresh.send(le16(1), utf8("x"));
        fresh.send(frame(1, 0x02, 1, utf8("x/t")));
        fresh.send(frame(2, 0x01, 1, RawClient.concat(utf8("x/t"), new byte[] {0}, utf8("p"))));
        Thread.sleep(20);
        old.close();
        Thread.sleep(20);
        release.countDown();
        fresh.expect(0x01);
        fresh.expectAck(1, 0x01);
        fresh.expect(RawClient.brokerFrame(0x01, false, "x", "x/t", utf8("p")));
        fresh.expectAck(2, 0x01);
      }
    }
  }

  /** A name that stays taken is still refused with 76, after the wait. */
  @ParameterizedTest
  @EnumSource(Transport.class)
  void aNameThatStaysTakenIsRefused(Transport t) throws Exception {
    try (TestBroker tb = TestBroker.start(1, l -> l.setTimeoutMs(60_000));
        RawClient holder = tb.registered(t, "y");
        RawClient second = tb.raw(t)) {
      long t0 = System.nanoTime();
      assertThat(second.handshake("y")).isEqualTo(0x76);
      double ms = (System.nanoTime() - t0) / 1e6;
      second.expectClosed(5_000);
      Figures.print("REREG %s taken name refused after %.1f ms%n", t, ms);
      assertThat(ms).isGreaterThanOrEqualTo(ClientConnection.REGISTRATION_RETRIES);
      holder.send(frame(1, 0x02, 1, utf8("y/t")));
      holder.expectAck(1, 0x01);
    }
  }

  /** Close and register again at once, many times, over two event loops. */
  @ParameterizedTest
  @EnumSource(Transport.class)
  void immediateReRegistrationsAreNeverRefused(Transport t) throws Exception {
    try (TestBroker tb = TestBroker.start(2, l -> l.setTimeoutMs(60_000))) {
      int busy = 0;
      java.util.List<String> codes = new java.util.ArrayList<>();
      long t0 = System.nanoTime();
      RawClient c = tb.registered(t, "z");
      for (int i = 0; i < ITERATIONS; i++) {
        c.close();
        c = tb.raw(t);
        int code = c.handshake("z");
        if (code != 0x01) {
          busy++;
          codes.add("iteration " + i + ": 0x" + Integer.toHexString(code));
          c.close();
          c = tb.registered(t, "z" + i);
        }
      }
      c.close();
      Figures.print("REREG %s %d immediate re-registrations in %.0f ms: %d refused%n", t,
          ITERATIONS, (System.nanoTime() - t0) / 1e6, busy);
      assertThat(busy).as("refusals: %s", codes).isZero();
    }
  }
}
