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
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;

import static dev.elbus.it.Wire.BUSY;
import static dev.elbus.it.Wire.DATA;
import static dev.elbus.it.Wire.NOT_REGISTERED;
import static dev.elbus.it.Wire.NOT_SUPPORTED;
import static dev.elbus.it.Wire.OK;
import static dev.elbus.it.Wire.uniq;
import static dev.elbus.support.RawClient.concat;
import static dev.elbus.support.RawClient.le16;
import static dev.elbus.support.RawClient.utf8;
import static org.assertj.core.api.Assertions.assertThat;

/** PROTOCOL.md section 1 over real sockets, byte for byte. */
@ExtendWith(LeakGate.class)
class HandshakeIT {
  private static final long CLOSE_MS = 3_000;
  private static TestBroker tb;

  @BeforeAll
  static void start() throws Exception {
    tb = TestBroker.start(1, Wire.QUIET);
  }

  @AfterAll
  static void stop() throws Exception {
    tb.close();
  }

  /** Connects, expects the greeting, echoes it, expects OK, then sends the raw name bytes. */
  private static RawClient sendName(Transport t, byte[] name) throws IOException {
    RawClient c = tb.raw(t);
    c.expect(0xEB, 0x01, 0x00);
    c.send(0xEB, 0x01, 0x00);
    c.expect(0x01);
    c.send(le16(name.length), name);
    return c;
  }

  private static void refusedName(Transport t, byte[] name, int code) throws IOException {
    try (RawClient c = sendName(t, name)) {
      c.expect(code);
      c.expectClosed(CLOSE_MS);
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void greetingIsSentFirstAndNothingElse(Transport t) throws Exception {
    try (RawClient c = tb.raw(t)) {
      c.expect(0xEB, 0x01, 0x00);
      c.expectSilence(200);
      c.send(0xEB, 0x01, 0x00);
      c.expect(0x01);
      c.expectSilence(100);
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void wrongGreetingByteOrVersionIsNotSupported(Transport t) throws Exception {
    int[][] bad = {{0xEA, 0x01, 0x00}, {0x00, 0x01, 0x00}, {0xEB, 0x02, 0x00}, {0xEB, 0x00, 0x00},
        {0xEB, 0x01, 0x01}};
    for (int[] hello : bad) {
      try (RawClient c = tb.raw(t)) {
        c.expect(0xEB, 0x01, 0x00);
        c.send(hello);
        c.expect(NOT_SUPPORTED);
        c.expectClosed(CLOSE_MS);
      }
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void invalidNamesAreRefusedWithDataError(Transport t) throws Exception {
    refusedName(t, new byte[0], DATA);
    refusedName(t, utf8(".broker"), DATA);
    refusedName(t, utf8(".x"), DATA);
    refusedName(t, new byte[] {'a', (byte) 0xC3, 0x28}, DATA); // broken 2-byte sequence
    refusedName(t, new byte[] {(byte) 0xFF, 'x'}, DATA);
    refusedName(t, new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, DATA); // lone surrogate
    refusedName(t, new byte[] {'a', 0, 'b'}, DATA);
    refusedName(t, new byte[] {0}, DATA);
    refusedName(t, utf8("%%x"), DATA); // secondary with an empty primary name
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void validUtf8NameIsAccepted(Transport t) throws Exception {
    String name = uniq("\u00fcml\u00e4ut-\u65e5\u672c-\uD83D\uDE00-");
    try (RawClient c = tb.registered(t, name)) {
      Wire.marker(c, name, c, name, 1);
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void duplicateNameIsBusyAndTheFirstClientStays(Transport t) throws Exception {
    String name = uniq("dup");
    try (RawClient first = tb.registered(t, name)) {
      for (Transport other : Transport.values()) {
        try (RawClient second = tb.raw(other)) {
          assertThat(second.handshake(name)).isEqualTo(BUSY);
          second.expectClosed(CLOSE_MS);
        }
      }
      Wire.marker(first, name, first, name, 7);
      assertThat(tb.router().registry().get(name)).isNotNull();
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void secondaryWithoutPrimaryIsNotRegistered(Transport t) throws Exception {
    String p = uniq("noprim");
    refusedName(t, utf8(p + "%%1"), NOT_REGISTERED);
    assertThat(tb.router().registry().get(p + "%%1")).isNull();
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void secondaryWithPrimaryRegistersAndDuplicateSecondaryIsBusy(Transport t) throws Exception {
    String p = uniq("prim");
    try (RawClient primary = tb.registered(t, p);
         RawClient sec = tb.raw(t)) {
      assertThat(sec.handshake(p + "%%1")).isEqualTo(OK);
      try (RawClient dup = tb.raw(t)) {
        assertThat(dup.handshake(p + "%%1")).isEqualTo(BUSY);
        dup.expectClosed(CLOSE_MS);
      }
      // the primary part is what precedes the first %%: a different suffix is another secondary
      try (RawClient other = tb.raw(t)) {
        assertThat(other.handshake(p + "%%2")).isEqualTo(OK);
        assertThat(tb.router().registry().get(p + "%%2").primary().name()).isEqualTo(p);
      }
      Wire.marker(primary, p, sec, p + "%%1", 3);
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void pipelinedHandshakeWorks(Transport t) throws Exception {
    String name = uniq("pipe");
    byte[] n = utf8(name);
    byte[] payload = utf8("hi");
    try (RawClient c = tb.raw(t)) {
      // greeting echo, name and a first frame in one write, before reading anything
      c.send(concat(RawClient.bytes(0xEB, 0x01, 0x00), le16(n.length), n,
          Wire.clientFrame(9, Wire.MESSAGE, 1, name, payload)));
      c.expect(0xEB, 0x01, 0x00, 0x01, 0x01);
      Wire.expectFrame(c, Wire.message(name, payload, false));
      Wire.expectAck(c, 9, OK);
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void silentSocketIsClosedAfterTheHandshakeTimeout(Transport t) throws Exception {
    try (TestBroker b = TestBroker.start(1, l -> l.setTimeoutMs(500))) {
      long before = b.router().stats().closes(CloseReason.HANDSHAKE_TIMEOUT);
      long t0 = System.nanoTime();
      try (RawClient c = b.raw(t)) {
        c.expect(0xEB, 0x01, 0x00);
        c.expectClosed(3_000);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertThat(ms).as("closed after %d ms", ms).isGreaterThanOrEqualTo(400);
      }
      Wire.await(() -> b.router().stats().closes(CloseReason.HANDSHAKE_TIMEOUT) > before, 3_000,
          "handshake timeout counted");
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void stalledHandshakeIsClosed(Transport t) throws Exception {
    try (TestBroker b = TestBroker.start(1, l -> l.setTimeoutMs(500))) {
      // greeting echo only
      long t0 = System.nanoTime();
      try (RawClient c = b.raw(t)) {
        c.expect(0xEB, 0x01, 0x00);
        c.send(0xEB, 0x01);
        c.expectClosed(3_000);
        assertThat((System.nanoTime() - t0) / 1_000_000).isGreaterThanOrEqualTo(400);
      }
      // partial name: length 10, 3 bytes, then silence
      t0 = System.nanoTime();
      try (RawClient c = b.raw(t)) {
        c.expect(0xEB, 0x01, 0x00);
        c.send(0xEB, 0x01, 0x00);
        c.expect(0x01);
        c.send(concat(le16(10), utf8("abc")));
        c.expectClosed(3_000);
        assertThat((System.nanoTime() - t0) / 1_000_000).isGreaterThanOrEqualTo(400);
      }
      // only the broker's own client .broker is registered
      assertThat(b.router().registry().size()).isEqualTo(1);
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void tricklingHandshakeHasOneOverallDeadline(Transport t) throws Exception {
    try (TestBroker b = TestBroker.start(1, l -> l.setTimeoutMs(500))) {
      byte[] all = concat(RawClient.bytes(0xEB, 0x01, 0x00), le16(20),
          utf8("abcdefghijklmnopqrst"));
      long t0 = System.nanoTime();
      try (RawClient c = b.raw(t)) {
        c.expect(0xEB, 0x01, 0x00);
        // one byte every 100 ms: each step is quick, the whole handshake would take 2.3 s
        for (byte x : all) {
          try {
            c.send(new byte[] {x});
          } catch (IOException e) {
            break; // closed by the broker
          }
          if ((System.nanoTime() - t0) / 1_000_000 > 3_000) {
            break;
          }
          Thread.sleep(100);
        }
        c.expectClosed(3_000);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        // a per-step deadline would let the handshake complete (after ~2.3 s) and stay open
        assertThat(ms).as("closed after %d ms", ms).isGreaterThanOrEqualTo(400);
      }
      assertThat(b.router().registry().get("abcdefghijklmnopqrst")).isNull();
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void registeredClientIsPingedAndNotTimedOut(Transport t) throws Exception {
    try (TestBroker b = TestBroker.start(1, l -> l.setTimeoutMs(300))) {
      String name = uniq("pinged");
      try (RawClient c = b.registered(t, name)) {
        // the broker pings every timeout: six zero bytes
        c.expect(new byte[6]);
        c.expect(new byte[6]);
        // still registered and working after several timeouts without sending anything
        Wire.marker(c, name, c, name, 5);
      }
    }
  }
}
