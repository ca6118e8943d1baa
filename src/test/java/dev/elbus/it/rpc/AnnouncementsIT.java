package dev.elbus.it.rpc;

import static dev.elbus.it.rpc.RpcWire.expectAnnouncement;
import static dev.elbus.it.rpc.RpcWire.nowNanos;
import static dev.elbus.it.rpc.RpcWire.subscribe;
import static org.assertj.core.api.Assertions.assertThat;

import dev.elbus.InternalClient;
import dev.elbus.client.ElbusException;
import dev.elbus.protocol.QoS;
import dev.elbus.support.LeakGate;
import dev.elbus.support.RawClient;
import dev.elbus.support.TestBroker;
import dev.elbus.support.Transport;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.concurrent.TimeUnit;

/**
 * The broker's announcements (PROTOCOL.md section 8), byte-exact, seen by a raw subscriber of
 * {@code .broker/info}: {@code {s: reg|unreg, d: NAME, t}} for primaries on every way in and out,
 * none for secondaries, exactly one {@code unreg} for a slow consumer; and {@code {s: shutdown,
 * t}} on {@code .broker/warn} before the broker closes a client's socket. Each test has a broker
 * of its own, so the subscriber sees nothing but the test's own clients.
 */
@ExtendWith(LeakGate.class)
class AnnouncementsIT {
  private static final String INFO = ".broker/info";
  private static final String WARN = ".broker/warn";
  private static final long CLOSE_MS = 15_000;

  /** A raw client subscribed to {@code .broker/info}. */
  private static RawClient subscriber(TestBroker b, Transport t) throws Exception {
    return subscriber(b, t, "sub");
  }

  private static RawClient subscriber(TestBroker b, Transport t, String name) throws Exception {
    RawClient s = b.registered(t, name);
    subscribe(s, 1, INFO);
    return s;
  }

  private static void expectReg(RawClient sub, String name, long since) throws Exception {
    expectAnnouncement(sub, INFO, "reg", name, since);
  }

  private static void expectUnreg(RawClient sub, String name, long since) throws Exception {
    expectAnnouncement(sub, INFO, "unreg", name, since);
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void regAndUnregOnClose(Transport t) throws Exception {
    try (TestBroker b = TestBroker.start(); RawClient sub = subscriber(b, Transport.TCP)) {
      long t0 = nowNanos();
      RawClient c = b.registered(t, "joiner");
      expectReg(sub, "joiner", t0);
      long t1 = nowNanos();
      c.close();
      expectUnreg(sub, "joiner", t1);
      // the subscriber on the other transport sees the same
      long t2 = nowNanos();
      try (RawClient sub2 = subscriber(b, Transport.UNIX, "sub2")) {
        expectReg(sub, "sub2", t2);
        try (RawClient c2 = b.registered(t, "joiner.two")) {
          expectReg(sub, "joiner.two", t2);
          expectReg(sub2, "joiner.two", t2);
        }
        expectUnreg(sub, "joiner.two", t2);
        expectUnreg(sub2, "joiner.two", t2);
      }
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void unregOnKill(Transport t) throws Exception {
    try (TestBroker b = TestBroker.start(); RawClient sub = subscriber(b, t)) {
      long t0 = nowNanos();
      RawClient c = b.registered(t, "victim");
      expectReg(sub, "victim", t0);
      c.abort(); // RST on TCP
      expectUnreg(sub, "victim", t0);
      markerIsNext(b, sub, t);
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void unregOnForceDisconnect(Transport t) throws Exception {
    try (TestBroker b = TestBroker.start(); RawClient sub = subscriber(b, t)) {
      long t0 = nowNanos();
      try (RawClient c = b.registered(t, "forced")) {
        expectReg(sub, "forced", t0);
        assertThat(b.broker().forceDisconnect("forced")).isTrue();
        expectUnreg(sub, "forced", t0);
        c.expectClosed(CLOSE_MS);
      }
      assertThat(b.broker().forceDisconnect("forced")).isFalse();
      markerIsNext(b, sub, t);
    }
  }

  @Test
  void internalClientRegAndUnreg() throws Exception {
    try (TestBroker b = TestBroker.start(); RawClient sub = subscriber(b, Transport.UNIX)) {
      long t0 = nowNanos();
      InternalClient c = b.broker().registerClient("inproc");
      expectReg(sub, "inproc", t0);
      c.close();
      expectUnreg(sub, "inproc", t0);
      InternalClient d = b.broker().registerClient("inproc2");
      expectReg(sub, "inproc2", t0);
      assertThat(b.broker().forceDisconnect("inproc2")).isTrue();
      expectUnreg(sub, "inproc2", t0);
      assertThat(d.isConnected()).isFalse();
      markerIsNext(b, sub, Transport.TCP);
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void noAnnouncementsForSecondaries(Transport t) throws Exception {
    Transport other = t == Transport.TCP ? Transport.UNIX : Transport.TCP;
    try (TestBroker b = TestBroker.start(); RawClient sub = subscriber(b, t)) {
      long t0 = nowNanos();
      try (RawClient p = b.registered(t, "prim")) {
        expectReg(sub, "prim", t0);
        RawClient s1 = b.registered(other, "prim%%1");
        RawClient s2 = b.registered(t, "prim%%2");
        // the next announcement is the marker's reg, not one for prim%%1 / prim%%2
        try (RawClient m1 = b.registered(other, "marker1")) {
          expectReg(sub, "marker1", t0);
        }
        expectUnreg(sub, "marker1", t0);
        s1.close();
        assertThat(b.broker().forceDisconnect("prim%%2")).isTrue();
        s2.expectClosed(CLOSE_MS);
        s2.close();
        awaitGone(b, "prim%%1");
        try (RawClient m2 = b.registered(other, "marker2")) {
          expectReg(sub, "marker2", t0);
        }
        expectUnreg(sub, "marker2", t0);
        // a secondary of an internal client is not announced either
        InternalClient ip = b.broker().registerClient("iprim");
        expectReg(sub, "iprim", t0);
        InternalClient is = b.broker().registerClient("iprim%%1");
        is.close();
        ip.close();
        expectUnreg(sub, "iprim", t0);
      }
      // the primary's own departure is announced (its secondaries, none left, are not)
      expectUnreg(sub, "prim", t0);
      markerIsNext(b, sub, other);
    }
  }

  /** Only the primary's unreg when a primary leaves with its secondaries still connected. */
  @ParameterizedTest
  @EnumSource(Transport.class)
  void primaryLeavingWithSecondariesIsOneUnreg(Transport t) throws Exception {
    try (TestBroker b = TestBroker.start(); RawClient sub = subscriber(b, t)) {
      long t0 = nowNanos();
      RawClient p = b.registered(t, "boss");
      expectReg(sub, "boss", t0);
      try (RawClient s1 = b.registered(t, "boss%%a");
          RawClient s2 = b.registered(Transport.UNIX, "boss%%b")) {
        p.close();
        expectUnreg(sub, "boss", t0);
        s1.expectClosed(CLOSE_MS);
        s2.expectClosed(CLOSE_MS);
      }
      markerIsNext(b, sub, t);
    }
  }

  /**
   * A client that stops reading is dropped when its queue overflows: its departure is announced
   * exactly once (section 6, "one unreg").
   */
  @ParameterizedTest
  @EnumSource(Transport.class)
  void slowConsumerDropIsOneUnreg(Transport t) throws Exception {
    try (TestBroker b = TestBroker.start(1, l -> l.setQueueSize(16));
        RawClient sub = subscriber(b, Transport.TCP)) {
      long t0 = nowNanos();
      RawClient slow = b.registered(t, "slow").receiveBuffer(4096);
      expectReg(sub, "slow", t0);
      InternalClient flooder = b.broker().registerClient("flooder");
      expectReg(sub, "flooder", t0);
      Buffer payload = Buffer.buffer(new byte[32 * 1024]);
      int code = 0;
      for (int i = 0; i < 20_000 && code == 0; i++) {
        Future<Void> f = flooder.send("slow", payload, QoS.PROCESSED);
        if (f.failed()) {
          assertThat(f.cause()).isInstanceOf(ElbusException.class);
          code = ((ElbusException) f.cause()).code();
        }
      }
      assertThat(code).as("result of the send that overflowed the queue").isEqualTo(0x77);
      expectUnreg(sub, "slow", t0);
      slow.expectClosed(CLOSE_MS);
      slow.close();
      // sends after the drop: not registered, and no second unreg
      assertThat(((ElbusException) flooder.send("slow", payload, QoS.PROCESSED).cause()).code())
          .isEqualTo(0x71);
      flooder.close();
      expectUnreg(sub, "flooder", t0);
      markerIsNext(b, sub, t);
    }
  }

  /** Registers a fresh client and expects its reg as the subscriber's very next frame. */
  private static void markerIsNext(TestBroker b, RawClient sub, Transport t) throws Exception {
    long t0 = nowNanos();
    try (RawClient m = b.registered(t, "marker")) {
      expectReg(sub, "marker", t0);
    }
  }

  private static void awaitGone(TestBroker b, String name) throws Exception {
    long deadline = System.nanoTime() + CLOSE_MS * 1_000_000;
    while (b.router().registry().get(name) != null) {
      assertThat(System.nanoTime()).as("%s unregistered", name).isLessThan(deadline);
      Thread.sleep(10);
    }
  }

  // ---------------------------------------------------------------- shutdown

  @ParameterizedTest
  @EnumSource(Transport.class)
  void shutdownAnnouncedOnWarnBeforeTheSocketCloses(Transport t) throws Exception {
    try (TestBroker b = TestBroker.start()) {
      RawClient c = b.registered(t, "listener");
      RawClient d = b.registered(t == Transport.TCP ? Transport.UNIX : Transport.TCP, "other");
      long t0 = nowNanos();
      Future<Void> closing = b.broker().close();
      expectAnnouncement(c, WARN, "shutdown", null, t0);
      expectAnnouncement(d, WARN, "shutdown", null, t0);
      c.expectClosed(CLOSE_MS);
      d.expectClosed(CLOSE_MS);
      closing.await(CLOSE_MS, TimeUnit.MILLISECONDS);
      c.close();
      d.close();
    }
  }
}
