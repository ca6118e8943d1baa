package dev.elbus.it;

import dev.elbus.impl.routing.CloseReason;
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
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static dev.elbus.it.Wire.BROADCAST;
import static dev.elbus.it.Wire.MESSAGE;
import static dev.elbus.it.Wire.OK;
import static dev.elbus.it.Wire.PUBLISH;
import static dev.elbus.it.Wire.SUBSCRIBE;
import static dev.elbus.it.Wire.UNSUBSCRIBE;
import static dev.elbus.it.Wire.clientFrame;
import static dev.elbus.it.Wire.expectAck;
import static dev.elbus.it.Wire.expectFrame;
import static dev.elbus.it.Wire.uniq;
import static dev.elbus.support.RawClient.concat;
import static dev.elbus.support.RawClient.utf8;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * PROTOCOL.md section 2: a protocol error closes only the offending connection, promptly; what
 * is not an error (op 0 with QoS bits and a separator, pings with garbage) keeps it open.
 */
@ExtendWith(LeakGate.class)
class ProtocolErrorIT {
  static final int MAX = 65_536;
  private static TestBroker tb;

  @BeforeAll
  static void start() throws Exception {
    tb = TestBroker.start(1, l -> Wire.QUIET.andThen(x -> x.setMaxFrameSize(MAX)).accept(l));
  }

  @AfterAll
  static void stop() throws Exception {
    tb.close();
  }

  /** A header only: op id, flags, declared length. */
  private static byte[] header(int opId, int flags, long len) {
    return ByteBuffer.allocate(9).order(ByteOrder.LITTLE_ENDIAN).putInt(opId).put((byte) flags)
        .putInt((int) len).array();
  }

  private static byte[] raw(int flags, byte[] body) {
    return concat(header(0x55, flags, body.length), body);
  }

  static Stream<Arguments> badFrames() {
    byte[] badUtf8 = {(byte) 0xC3, 0x28};
    List<Object[]> cases = new ArrayList<>();
    cases.add(new Object[] {"unknown op 0x3F", raw(0x3F, utf8("x\0y"))});
    cases.add(new Object[] {"unknown op 0x3F with QoS 1", raw(0x7F, utf8("x\0y"))});
    cases.add(new Object[] {"unknown op 0x20 without body", raw(0x20, new byte[0])});
    cases.add(new Object[] {"publish without 00", raw(PUBLISH | 0x40, utf8("topic only"))});
    cases.add(new Object[] {"publish with empty body", raw(PUBLISH, new byte[0])});
    cases.add(new Object[] {"message without 00", raw(MESSAGE | 0x40, utf8("target only"))});
    cases.add(new Object[] {"broadcast without 00", raw(BROADCAST, utf8("mask.*"))});
    cases.add(new Object[] {"publish invalid UTF-8 topic",
        raw(PUBLISH | 0x40, concat(badUtf8, new byte[] {0, 'p'}))});
    cases.add(new Object[] {"message invalid UTF-8 target",
        raw(MESSAGE | 0x40, concat(new byte[] {(byte) 0xFF}, new byte[] {0, 'p'}))});
    cases.add(new Object[] {"broadcast invalid UTF-8 mask",
        raw(BROADCAST, concat(new byte[] {'a', '.', (byte) 0xED, (byte) 0xA0, (byte) 0x80},
            new byte[] {0, 'p'}))});
    cases.add(new Object[] {"subscribe invalid UTF-8 topic",
        raw(SUBSCRIBE | 0x40, concat(utf8("ok/topic\0"), badUtf8))});
    cases.add(new Object[] {"unsubscribe invalid UTF-8 topic", raw(UNSUBSCRIBE, badUtf8)});
    cases.add(new Object[] {"declared length max+1, header only", header(1, MESSAGE, MAX + 1)});
    cases.add(new Object[] {"declared length max+1 with its body",
        raw(MESSAGE, concat(utf8("x\0"), new byte[MAX - 1]))});
    cases.add(new Object[] {"declared length 0xFFFFFFFF", header(1, PUBLISH, 0xFFFFFFFFL)});
    cases.add(new Object[] {"declared length 0x80000000", header(1, MESSAGE | 0xC0, 0x80000000L)});
    cases.add(new Object[] {"op 0 with QoS 1, body without 00", raw(0x40, utf8("abc"))});
    cases.add(new Object[] {"op 0 with QoS 3, empty body", raw(0xC0, new byte[0])});
    List<Arguments> out = new ArrayList<>();
    for (Transport t : Transport.values()) {
      for (Object[] c : cases) {
        out.add(Arguments.of(t, c[0], c[1]));
      }
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource("badFrames")
  void protocolErrorClosesOnlyTheOffender(Transport t, String what, byte[] bad) throws Exception {
    Transport other = t == Transport.TCP ? Transport.UNIX : Transport.TCP;
    String on = uniq("offender");
    String c1n = uniq("ctl1");
    String c2n = uniq("ctl2");
    long errorsBefore = tb.router().stats().closes(CloseReason.PROTOCOL_ERROR);
    try (RawClient c1 = tb.registered(other, c1n); RawClient c2 = tb.registered(t, c2n);
         RawClient o = tb.registered(t, on)) {
      exchange(c1, c1n, c2, c2n, 0);
      // a valid frame, then the bad one, in one write: the valid one is still processed
      byte[] before = utf8("before");
      try {
        o.send(concat(clientFrame(1, MESSAGE, 0, c2n, before), bad));
      } catch (IOException e) {
        // the broker may close while a large bad frame is still being written
      }
      o.expectClosed(2_000);
      expectFrame(c2, Wire.message(on, before, false));
      Wire.awaitUnregistered(tb.broker(), on);
      Wire.await(() -> tb.router().stats().closes(CloseReason.PROTOCOL_ERROR) > errorsBefore,
          2_000, "protocol error counted");
      // the control pair is unaffected and the offender is gone
      exchange(c1, c1n, c2, c2n, 100);
      c1.frame(999, MESSAGE, 1, on, utf8("gone?"));
      expectAck(c1, 999, Wire.NOT_REGISTERED);
      c2.expectSilence(50);
    }
  }

  /** c1 and c2 exchange 20 QoS 1 messages in both directions; none is lost. */
  private static void exchange(RawClient c1, String c1n, RawClient c2, String c2n, int base)
      throws IOException {
    for (int i = 0; i < 10; i++) {
      byte[] p = utf8("to c2 #" + (base + i));
      c1.frame(base + i, MESSAGE, 1, c2n, p);
      expectAck(c1, base + i, OK);
      expectFrame(c2, Wire.message(c1n, p, false));
      byte[] q = utf8("to c1 #" + (base + i));
      c2.frame(base + i, MESSAGE, 1, c1n, q);
      expectAck(c2, base + i, OK);
      expectFrame(c1, Wire.message(c2n, q, false));
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void opZeroWithQosBitsAndSeparatorIsIgnored(Transport t) throws Exception {
    String n = uniq("op0");
    try (RawClient c = tb.registered(t, n)) {
      long rFrames = tb.router().registry().get(n).rFrames();
      c.send(concat(raw(0x40, utf8("x\0y")), raw(0x80, new byte[] {0}), raw(0xC0, utf8("\0")),
          raw(0xC0, utf8("abc\0def"))));
      // no ack for any of them; the next frames are those of the marker
      Wire.marker(c, n, c, n, 42);
      c.expectSilence(50);
      assertThat(tb.router().registry().get(n).rFrames()).isEqualTo(rFrames + 1);
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void pingWithGarbageIsNineBytesAndNoBody(Transport t) throws Exception {
    String an = uniq("ping-a");
    String bn = uniq("ping-b");
    try (RawClient a = tb.registered(t, an); RawClient b = tb.registered(t, bn)) {
      byte[] msg = clientFrame(3, MESSAGE, 1, bn, utf8("after pings"));
      // garbage in bytes 0-3 and 5-8 (the latter would announce a huge body if it were read)
      a.send(concat(RawClient.hex("11 22 33 44 00 55 66 77 88"),
          RawClient.hex("FF FF FF FF 00 FF FF FF FF"), new byte[9], msg));
      expectAck(a, 3, OK);
      expectFrame(b, Wire.message(an, utf8("after pings"), false));
      // a ping is not answered
      a.send(RawClient.hex("01 00 00 00 00 09 00 00 00"));
      a.expectSilence(150);
      // a ping split over writes, followed by a frame
      a.send(RawClient.hex("AA BB"));
      a.send(RawClient.hex("CC DD 00 01"));
      a.send(concat(RawClient.hex("02 03 04"), clientFrame(4, MESSAGE, 1, bn, utf8("z"))));
      expectAck(a, 4, OK);
      expectFrame(b, Wire.message(an, utf8("z"), false));
    }
  }
}
