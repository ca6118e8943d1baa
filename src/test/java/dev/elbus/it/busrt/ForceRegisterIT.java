package dev.elbus.it.busrt;

import dev.elbus.InternalClient;
import dev.elbus.impl.routing.CloseReason;
import dev.elbus.rpc.MsgPack;
import dev.elbus.support.LeakGate;
import dev.elbus.support.RawClient;
import dev.elbus.support.TestBroker;
import dev.elbus.support.Transport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Instant;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static dev.elbus.it.busrt.BusRt.BUSY;
import static dev.elbus.it.busrt.BusRt.OK;
import static dev.elbus.it.busrt.BusRt.PUBLISH;
import static dev.elbus.it.busrt.BusRt.SUBSCRIBE;
import static dev.elbus.it.busrt.BusRt.expectAck;
import static dev.elbus.it.busrt.BusRt.marker;
import static dev.elbus.it.busrt.BusRt.topics;
import static dev.elbus.it.busrt.BusRt.uniq;
import static dev.elbus.support.RawClient.utf8;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * BUS/RT force-register over real sockets: off by default (a taken name gets 76); on a listener
 * with {@code setForceRegister(true)} a new primary with a taken name replaces the old network
 * client, whose socket and secondaries are closed, and {@code .broker/info} announces the old
 * client's {@code unreg} before the new one's {@code reg}.
 */
@ExtendWith(LeakGate.class)
class ForceRegisterIT {
  private static TestBroker plain;
  private static TestBroker force;

  @BeforeAll
  static void start() throws Exception {
    plain = TestBroker.start(1, BusRt.QUIET);
    force = TestBroker.start(2, l -> BusRt.QUIET.andThen(o -> o.setForceRegister(true))
        .accept(l));
  }

  @AfterAll
  static void stop() throws Exception {
    try {
      plain.close();
    } finally {
      force.close();
    }
  }

  private static Transport other(Transport t) {
    return t == Transport.TCP ? Transport.UNIX : Transport.TCP;
  }

  private static long nowNanos() {
    Instant now = Instant.now();
    return now.getEpochSecond() * 1_000_000_000L + now.getNano();
  }

  /**
   * The next frame of {@code w} must be the {@code .broker/info} publication {@code {"s": event,
   * "d": name, "t": T}}, byte for byte, with a plausible wall-clock T; returns T.
   */
  private static long expectAnnouncement(RawClient w, String event, String name, long notBefore)
      throws Exception {
    byte[] f = BusRt.next(w);
    byte[] prefix = RawClient.concat(utf8(".broker"), new byte[] {0}, utf8(".broker/info"),
        new byte[] {0});
    assertThat(f.length).as("announcement frame %s", BusRt.shortHex(f))
        .isGreaterThan(6 + prefix.length);
    byte[] payload = Arrays.copyOfRange(f, 6 + prefix.length, f.length);
    Map<String, Object> m = MsgPack.decodeMap(payload);
    assertThat(m.keySet()).as("keys of %s", m).containsExactly("s", "d", "t");
    assertThat(m.get("s")).isEqualTo(event);
    assertThat(m.get("d")).isEqualTo(name);
    assertThat(m.get("t")).isInstanceOf(Long.class);
    long t = (Long) m.get("t");
    // wall-clock nanoseconds: sanity bounds only (a second of slack either side)
    assertThat(t).isBetween(notBefore - 1_000_000_000L, nowNanos() + 1_000_000_000L);
    assertThat(BusRt.hex(f)).isEqualTo(BusRt.hex(BusRt.publication(".broker", ".broker/info",
        BusRt.announcement(event, name, t), false)));
    return t;
  }

  private static RawClient watcher(TestBroker b, Transport t, String name) throws Exception {
    RawClient w = b.registered(t, name);
    w.frame(1, SUBSCRIBE, 1, topics(".broker/info"));
    expectAck(w, 1, OK);
    return w;
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void offByDefaultATakenNameGets76(Transport t) throws Exception {
    String n = uniq("plain");
    try (RawClient a = plain.registered(t, n); RawClient a1 = plain.registered(t, n + "%%1")) {
      try (RawClient b = plain.raw(other(t))) {
        assertThat(b.handshake(n)).isEqualTo(BUSY);
        b.expectClosed(5_000);
      }
      try (RawClient b = plain.raw(t)) {
        assertThat(b.handshake(n + "%%1")).isEqualTo(BUSY);
        b.expectClosed(5_000);
      }
      // the registered ones are untouched
      marker(a, n, a1, n + "%%1", 2);
      marker(a1, n + "%%1", a, n, 3);
    }
    assertThat(plain.router().stats().closes(CloseReason.REPLACED)).isZero();
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void aNewClientTakesTheNameOver(Transport t) throws Exception {
    String n = uniq("fr");
    String wn = uniq("watch");
    long replacedBefore = force.router().stats().closes(CloseReason.REPLACED);
    long goneBefore = force.router().stats().closes(CloseReason.PRIMARY_GONE);
    try (RawClient w = watcher(force, t, wn)) {
      long start = nowNanos();
      RawClient old = force.registered(t, n);
      RawClient old1 = force.registered(other(t), n + "%%1");
      RawClient old2 = force.registered(t, n + "%%2");
      try (old; old1; old2) {
        expectAnnouncement(w, "reg", n, start);
        old.frame(2, SUBSCRIBE, 1, topics(n + "/#"));
        expectAck(old, 2, OK);

        long before = nowNanos();
        try (RawClient neu = force.registered(other(t), n)) {
          long unreg = expectAnnouncement(w, "unreg", n, before);
          long reg = expectAnnouncement(w, "reg", n, before);
          assertThat(unreg).isLessThanOrEqualTo(reg);
          old.expectClosed(5_000);
          old1.expectClosed(5_000);
          old2.expectClosed(5_000);
          BusRt.awaitUnregistered(force.broker(), n + "%%1");
          BusRt.awaitUnregistered(force.broker(), n + "%%2");
          BusRt.await(() -> force.router().stats().closes(CloseReason.REPLACED)
              >= replacedBefore + 1, 5_000, "one close counted as replaced");
          BusRt.await(() -> force.router().stats().closes(CloseReason.PRIMARY_GONE)
              >= goneBefore + 2, 5_000, "two secondaries closed as primary_gone");
          assertThat(force.router().registry().get(n).kind().wireName())
              .isEqualTo(other(t) == Transport.TCP ? "tcp" : "local_ipc");

          // the new client works and inherits nothing (the old subscription is gone)
          w.frame(3, PUBLISH, 1, n + "/x", utf8("to the old subscription"));
          expectAck(w, 3, OK);
          marker(w, wn, neu, n, 4);
          // the departure was announced once: the marker is the watcher's next frame
          marker(neu, n, w, wn, 5);

          // secondaries never take over: a taken secondary name still gets 76
          try (RawClient s1 = force.registered(t, n + "%%1")) {
            try (RawClient dup = force.raw(other(t))) {
              assertThat(dup.handshake(n + "%%1")).isEqualTo(BUSY);
              dup.expectClosed(5_000);
            }
            try (RawClient orphan = force.raw(t)) {
              assertThat(orphan.handshake(uniq("nobody") + "%%1")).isEqualTo(0x71);
              orphan.expectClosed(5_000);
            }
            marker(neu, n, s1, n + "%%1", 6);
            marker(s1, n + "%%1", neu, n, 7);
          }
        }
        expectAnnouncement(w, "unreg", n, before);
        BusRt.awaitUnregistered(force.broker(), n);
      }
      marker(w, wn, w, wn, 8);
    }
    assertThat(force.router().stats().closes(CloseReason.REPLACED)).isEqualTo(replacedBefore + 1);
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void aHalfOpenClientIsReplaced(Transport t) throws Exception {
    String n = uniq("half");
    String wn = uniq("watch");
    try (RawClient w = watcher(force, t, wn)) {
      long start = nowNanos();
      // registered, then silent: it neither reads nor writes nor closes
      try (RawClient stale = force.registered(t, n)) {
        expectAnnouncement(w, "reg", n, start);
        try (RawClient neu = force.registered(t, n)) {
          expectAnnouncement(w, "unreg", n, start);
          expectAnnouncement(w, "reg", n, start);
          stale.expectClosed(5_000);
          marker(neu, n, w, wn, 2);
          marker(w, wn, neu, n, 3);
          // and the replacement can be replaced in turn, from the other transport
          try (RawClient third = force.registered(other(t), n)) {
            expectAnnouncement(w, "unreg", n, start);
            expectAnnouncement(w, "reg", n, start);
            neu.expectClosed(5_000);
            marker(third, n, w, wn, 4);
          }
          expectAnnouncement(w, "unreg", n, start);
        }
      }
      BusRt.awaitUnregistered(force.broker(), n);
      marker(w, wn, w, wn, 5);
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void internalClientsAreNeverReplaced(Transport t) throws Exception {
    String n = uniq("internal");
    InternalClient ic = force.broker().registerClient(n);
    try {
      try (RawClient c = force.raw(t)) {
        assertThat(c.handshake(n)).isEqualTo(BUSY);
        c.expectClosed(5_000);
      }
      assertThat(force.router().registry().get(n)).isNotNull();
      assertThat(ic.isConnected()).isTrue();
    } finally {
      ic.close().await(5, TimeUnit.SECONDS);
    }
  }
}
