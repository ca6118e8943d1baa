package dev.elbus.it;

import dev.elbus.routing.CloseReason;
import dev.elbus.support.LeakGate;
import dev.elbus.support.RawClient;
import dev.elbus.support.TestBroker;
import dev.elbus.support.Transport;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static dev.elbus.it.Wire.MESSAGE;
import static dev.elbus.it.Wire.NOT_DELIVERED;
import static dev.elbus.it.Wire.NOT_REGISTERED;
import static dev.elbus.it.Wire.OK;
import static dev.elbus.it.Wire.PUBLISH;
import static dev.elbus.it.Wire.SUBSCRIBE;
import static dev.elbus.it.Wire.clientFrame;
import static dev.elbus.it.Wire.expectAck;
import static dev.elbus.it.Wire.expectFrame;
import static dev.elbus.support.RawClient.utf8;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * PROTOCOL.md section 6: a client that does not read is disconnected when its queue overflows,
 * the sender of a direct message gets 77, and other clients keep working without loss.
 */
@ExtendWith(LeakGate.class)
class SlowConsumerIT {
  private static final int BATCH = 32;
  private static final long FLOOD_MS = 30_000;

  private static TestBroker broker() throws Exception {
    return TestBroker.start(1, l -> Wire.QUIET
        .andThen(x -> x.setQueueSize(64).setBufSize(1024)).accept(l));
  }

  /** A queue bounded by bytes only (64 KiB) and a frame count it never reaches. */
  private static TestBroker byteBoundedBroker() throws Exception {
    return TestBroker.start(1, l -> Wire.QUIET
        .andThen(x -> x.setQueueMaxBytes(64 * 1024).setBufSize(1024)).accept(l));
  }

  static Stream<Arguments> variants() {
    List<Arguments> out = new ArrayList<>();
    for (Transport t : Transport.values()) {
      out.add(Arguments.of(t, false));
      out.add(Arguments.of(t, true));
    }
    return out.stream();
  }

  /** A control pair: c1 sends numbered messages to c2, which checks every one arrives in order. */
  private static final class Control {
    final RawClient c1;
    final RawClient c2;
    int sent;

    Control(TestBroker b, Transport t) throws IOException {
      Transport other = t == Transport.TCP ? Transport.UNIX : Transport.TCP;
      c1 = b.registered(other, "ctl1");
      c2 = b.registered(t, "ctl2");
    }

    /** Five QoS 0 messages and one QoS 1; all must arrive, in order. */
    void round() throws IOException {
      int first = sent;
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      for (int i = 0; i < 6; i++) {
        out.writeBytes(clientFrame(sent, MESSAGE, i == 5 ? 1 : 0, "ctl2", utf8("seq " + sent)));
        sent++;
      }
      c1.send(out.toByteArray());
      expectAck(c1, sent - 1, OK);
      for (int i = first; i < sent; i++) {
        expectFrame(c2, Wire.message("ctl1", utf8("seq " + i), false));
      }
    }

    void close() throws IOException {
      c1.close();
      c2.close();
    }
  }

  @ParameterizedTest(name = "{0} bytes-bounded={1}")
  @MethodSource("variants")
  void directMessagesToAReaderThatNeverReads(Transport t, boolean byBytes) throws Exception {
    try (TestBroker b = byBytes ? byteBoundedBroker() : broker()) {
      Control ctl = new Control(b, t);
      try (RawClient slow = b.raw(t).receiveBuffer(128);
           RawClient s = b.registered(t, "sender")) {
        assertThat(slow.handshake("slow")).isEqualTo(OK);
        byte[] payload = new byte[byBytes ? 8000 : 1000];
        List<Integer> codes = new ArrayList<>();
        int op = 0;
        long deadline = System.nanoTime() + FLOOD_MS * 1_000_000;
        // flood slow with acked messages until an ack says it is gone
        flood:
        while (true) {
          assertThat(System.nanoTime()).as("slow consumer still connected after %d frames", op)
              .isLessThan(deadline);
          ByteArrayOutputStream out = new ByteArrayOutputStream();
          int first = op;
          for (int i = 0; i < BATCH; i++) {
            out.writeBytes(clientFrame(op++, MESSAGE, 1, "slow", payload));
          }
          s.send(out.toByteArray());
          for (int i = first; i < op; i++) {
            byte[] ack = Wire.next(s);
            assertThat(ack[0]).isEqualTo((byte) 0xFE);
            int code = ack[5] & 0xFF;
            codes.add(code);
          }
          ctl.round();
          for (int c : codes) {
            if (c != OK) {
              break flood;
            }
          }
        }
        int firstFailure = 0;
        while (codes.get(firstFailure) == OK) {
          firstFailure++;
        }
        // the overflowing frame gets 77; after it, 77 until it is unregistered, then 71
        assertThat(codes.get(firstFailure)).as("first failed ack").isEqualTo(NOT_DELIVERED);
        for (int c : codes.subList(firstFailure, codes.size())) {
          assertThat(c).isIn(NOT_DELIVERED, NOT_REGISTERED);
        }
        Wire.awaitUnregistered(b.broker(), "slow");
        slow.expectClosed(10_000);
        Wire.await(() -> b.broker().stats().closes(CloseReason.SLOW_CONSUMER) >= 1, 5_000,
            "slow consumer counted");
        s.frame(op, MESSAGE, 1, "slow", payload);
        expectAck(s, op, NOT_REGISTERED);
        // the control pair kept working during the episode and still does
        for (int i = 0; i < 20; i++) {
          ctl.round();
        }
        assertThat(b.broker().stats().closes(CloseReason.SLOW_CONSUMER)).isEqualTo(1);
        assertThat(b.broker().router().registry().get("ctl1")).isNotNull();
        assertThat(b.broker().router().registry().get("ctl2")).isNotNull();
        assertThat(b.broker().router().registry().get("sender")).isNotNull();
      } finally {
        ctl.close();
      }
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void subscriberThatNeverReads(Transport t) throws Exception {
    try (TestBroker b = broker()) {
      Control ctl = new Control(b, t);
      try (RawClient slow = b.raw(t).receiveBuffer(128);
           RawClient p = b.registered(t, "publisher");
           RawClient fast = b.registered(t, "fast")) {
        assertThat(slow.handshake("slow")).isEqualTo(OK);
        slow.frame(1, SUBSCRIBE, 1, utf8("load/#"));
        expectAck(slow, 1, OK);
        fast.frame(1, SUBSCRIBE, 1, utf8("load/+"));
        expectAck(fast, 1, OK);
        byte[] payload = new byte[1000];
        int op = 0;
        long deadline = System.nanoTime() + FLOOD_MS * 1_000_000;
        while (b.broker().router().registry().get("slow") != null) {
          assertThat(System.nanoTime()).as("slow subscriber still connected after %d frames", op)
              .isLessThan(deadline);
          ByteArrayOutputStream out = new ByteArrayOutputStream();
          int first = op;
          for (int i = 0; i < BATCH; i++) {
            out.writeBytes(clientFrame(op++, PUBLISH, i == BATCH - 1 ? 1 : 0, "load/x", payload));
          }
          p.send(out.toByteArray());
          // a publication is acked 01 whoever could not take it
          expectAck(p, op - 1, OK);
          // the subscriber that reads gets every one of them
          for (int i = first; i < op; i++) {
            expectFrame(fast, Wire.publication("publisher", "load/x", payload, false));
          }
          ctl.round();
        }
        slow.expectClosed(10_000);
        Wire.await(() -> b.broker().stats().closes(CloseReason.SLOW_CONSUMER) >= 1, 5_000,
            "slow consumer counted");
        for (int i = 0; i < 20; i++) {
          ctl.round();
        }
        assertThat(b.broker().stats().closes(CloseReason.SLOW_CONSUMER)).isEqualTo(1);
        assertThat(b.broker().router().topics().match("load/x")).extracting(s -> s.name())
            .containsExactly("fast");
      } finally {
        ctl.close();
      }
    }
  }
}
