package dev.elbus.impl.net;

import dev.elbus.aaa.AaaPolicy;
import dev.elbus.aaa.ClientAcl;
import dev.elbus.client.Bind;
import dev.elbus.impl.routing.CloseReason;
import dev.elbus.impl.routing.Session;
import dev.elbus.support.Figures;
import dev.elbus.support.LeakGate;
import dev.elbus.support.RawClient;
import dev.elbus.support.TestBroker;
import dev.elbus.support.Transport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

import static dev.elbus.support.RawClient.utf8;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A connection's life against its session's (issue 17): handshake slots, an AAA reload that
 * reaches clients through their connections, and an unregistration that completes whatever one
 * of its steps throws.
 */
@ExtendWith(LeakGate.class)
class ConnectionLifecycleIT {

  private static ListenerRuntime listener(TestBroker tb, Transport t) {
    for (ListenerRuntime l : tb.listeners()) {
      if ((l.bind().type() == Bind.Type.TCP) == (t == Transport.TCP)) {
        return l;
      }
    }
    throw new AssertionError("no " + t + " listener");
  }

  private static void await(BooleanSupplier cond, long ms, String what)
      throws InterruptedException {
    long deadline = System.nanoTime() + ms * 1_000_000;
    while (!cond.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + ms + " ms: " + what);
      }
      Thread.sleep(5);
    }
  }

  private static byte[] frame(int opId, int op, int qos, byte[] body) {
    ByteBuffer h = ByteBuffer.allocate(9 + body.length).order(ByteOrder.LITTLE_ENDIAN);
    h.putInt(opId).put((byte) (op | (qos << 6))).putInt(body.length).put(body);
    return h.array();
  }

  /** A QoS 1 publication to {@code topic}, which {@code c} subscribed: delivered, then acked. */
  private static void roundTrip(RawClient c, String name, String topic, int opId)
      throws IOException {
    c.send(frame(opId, 0x01, 1, RawClient.concat(utf8(topic), new byte[] {0}, utf8("p"))));
    c.expect(RawClient.brokerFrame(0x01, false, name, topic, utf8("p")));
    c.expectAck(opId, 0x01);
  }

  /**
   * Issue 17, scenario 8: sockets that never complete a handshake hold at most {@code
   * max_handshakes} connections; each new one closes the oldest of them, so registered clients
   * keep working and a new client still registers while the flood goes on.
   */
  @ParameterizedTest
  @EnumSource(Transport.class)
  void silentSocketsHoldAtMostMaxHandshakesAndNeverLockClientsOut(Transport t) throws Exception {
    int maxHandshakes = 10;
    int silent = 200;
    try (TestBroker tb = TestBroker.start(2, l -> l.setTimeoutMs(60_000).setMaxConnections(100)
        .setMaxHandshakes(maxHandshakes))) {
      ListenerRuntime l = listener(tb, t);
      List<RawClient> flood = new ArrayList<>();
      try (RawClient a = tb.registered(t, "a")) {
        a.send(frame(1, 0x02, 1, utf8("a/t")));
        a.expectAck(1, 0x01);
        long t0 = System.nanoTime();
        for (int i = 0; i < silent; i++) {
          flood.add(tb.raw(t));
          if (i % 20 == 19) {
            // the broker accepts asynchronously: let it take every silent socket so far, so that
            // none of them arrives during the new client's handshake (ten newer connections
            // during a handshake would close it as the oldest: with the default of 2,048 that
            // takes 2,048 connections within a few round trips)
            int opened = i + 1;
            await(() -> l.handshakes() + tb.router().stats().closes(CloseReason.MAX_HANDSHAKES)
                >= opened, 5_000, "silent sockets accepted");
            int open = l.connections();
            assertThat(l.handshakes()).as("handshake slots").isLessThanOrEqualTo(maxHandshakes);
            assertThat(open).as("connections").isLessThanOrEqualTo(100);
            // a new client gets in while the silent ones keep coming
            long r0 = System.nanoTime();
            try (RawClient b = tb.registered(t, "b" + i)) {
              b.send(frame(1, 0x02, 1, utf8("b/" + i)));
              b.expectAck(1, 0x01);
              roundTrip(b, "b" + i, "b/" + i, 2);
            }
            Figures.print("HANDSHAKE-SLOTS %s after %d silent sockets: a new client registered in "
                + "%.2f ms, %d handshakes, %d connections open%n", t, i + 1,
                (System.nanoTime() - r0) / 1e6, l.handshakes(), open);
            roundTrip(a, "a", "a/t", 2 + i);
          }
        }
        Figures.print("HANDSHAKE-SLOTS %s: %d silent sockets in %.0f ms; closed for newer ones: "
            + "%d%n", t, silent, (System.nanoTime() - t0) / 1e6,
            tb.router().stats().closes(CloseReason.MAX_HANDSHAKES));
        await(() -> l.handshakes() <= maxHandshakes, 5_000, "handshakes bounded");
        assertThat(tb.router().stats().closes(CloseReason.MAX_HANDSHAKES))
            .isGreaterThanOrEqualTo(silent - maxHandshakes);
        // all but the newest silent sockets were closed by the broker
        int closed = 0;
        for (RawClient c : flood.subList(0, silent - maxHandshakes - 10)) {
          c.expectClosed(5_000);
          closed++;
        }
        assertThat(closed).isEqualTo(silent - maxHandshakes - 10);
      } finally {
        for (RawClient c : flood) {
          c.close();
        }
      }
      await(() -> l.connections() == 0 && l.handshakes() == 0, 5_000, "all released");
    }
  }

  /**
   * Issue 17, scenario 8: past {@code handshake_burst} connections in their handshake, a listener
   * accepts at {@code handshake_rate}. The silent sockets wait in the kernel's accept queue
   * (connected from their side), a registered client keeps working, and a new client gets in
   * behind them, at the pace; with the rate 0 nothing is paced.
   */
  @ParameterizedTest
  @EnumSource(Transport.class)
  void pastTheHandshakeBurstAcceptsArePaced(Transport t) throws Exception {
    int burst = 4;
    int rate = 50;
    int silent = 100;
    for (boolean paced : new boolean[] {true, false}) {
      try (TestBroker tb = TestBroker.start(2, l -> l.setTimeoutMs(60_000)
          .setHandshakeBurst(burst).setHandshakeRate(paced ? rate : 0))) {
        ListenerRuntime l = listener(tb, t);
        long pauses = tb.router().stats().acceptPauses();
        List<RawClient> flood = new ArrayList<>();
        try (RawClient a = tb.registered(t, "a")) {
          a.send(frame(1, 0x02, 1, utf8("a/t")));
          a.expectAck(1, 0x01);
          long t0 = System.nanoTime();
          for (int i = 0; i < silent; i++) {
            flood.add(tb.raw(t));
          }
          roundTrip(a, "a", "a/t", 2);
          try (RawClient b = tb.raw(t)) {
            assertThat(b.handshake("b", 30_000)).isEqualTo(0x01);
            roundTrip(a, "a", "a/t", 3);
          }
          double ms = (System.nanoTime() - t0) / 1e6;
          await(() -> l.connections() == silent + 1, 10_000, "silent sockets accepted");
          long paused = tb.router().stats().acceptPauses() - pauses;
          Figures.print("ACCEPT-PACING %s rate %d: %d silent sockets, then a new client "
              + "registered after %.0f ms; accepts paused %d times%n", t, paced ? rate : 0,
              silent, ms, paused);
          if (paced) {
            // the connections past the burst book 1/50 s each: the new one, behind them in the
            // accept queue, waits for most of them (less the pauses' slack of 5 ms each)
            assertThat(ms).isGreaterThan(1_000);
            assertThat(paused).isPositive();
          } else {
            assertThat(paused).isZero();
          }
          assertThat(tb.broker().stats().acceptsPaused()).isEqualTo(pauses + paused);
        } finally {
          for (RawClient c : flood) {
            c.close();
          }
        }
        await(() -> l.connections() == 0 && l.handshakes() == 0, 5_000, "all released");
      }
    }
  }

  /**
   * Issue 17, scenario 2: an AAA reload finds the clients of a listener through their
   * connections. A client whose session is no longer in the registry (as after an
   * unregistration that stopped halfway) but whose socket is open is still disconnected when its
   * entry is removed, and its secondary with it.
   */
  @ParameterizedTest
  @EnumSource(Transport.class)
  void anAaaReloadReachesAClientMissingFromTheRegistry(Transport t) throws Exception {
    AaaPolicy policy = AaaPolicy.builder()
        .client("plc1", ClientAcl.builder().publish(ClientAcl.Rule.only("plc1/#")).build())
        .client("sniffer", ClientAcl.ALLOW_ALL).build();
    try (TestBroker tb = TestBroker.start(1, l -> l.setTimeoutMs(60_000).setAaa(policy));
        RawClient plc = tb.registered(t, "plc1");
        RawClient sec = tb.registered(t, "plc1%%z");
        RawClient sniffer = tb.registered(t, "sniffer")) {
      sniffer.send(frame(1, 0x02, 1, utf8("#")));
      sniffer.expectAck(1, 0x01);
      Session zombie = tb.router().registry().get("plc1");
      Session zombieSec = tb.router().registry().get("plc1%%z");
      // what a failed unregistration used to leave: gone from the registry, socket open
      tb.router().registry().unregister(zombie);
      assertThat(tb.router().registry().get("plc1%%z")).isNull();
      ListenerRuntime l = listener(tb, t);
      assertThat(l.sessions()).contains(zombie, zombieSec);
      int dropped = tb.broker().setAaa(l.label(), AaaPolicy.builder()
          .client("sniffer", ClientAcl.ALLOW_ALL).build());
      assertThat(dropped).isEqualTo(2);
      plc.expectClosed(5_000);
      sec.expectClosed(5_000);
      // the client sees the close as the broker closes the socket, a moment before the
      // broker's cleanup has run
      await(() -> !l.sessions().contains(zombie) && !l.sessions().contains(zombieSec), 5_000,
          "connections gone from the listener");
      // the sniffer saw nothing from either
      sniffer.send(frame(2, 0x01, 1, RawClient.concat(utf8("x"), new byte[] {0})));
      sniffer.expect(RawClient.brokerFrame(0x01, false, "sniffer", "x", new byte[0]));
      sniffer.expectAck(2, 0x01);
    }
  }

  /**
   * Whatever a step of a connection's unregistration throws (here the announcement of the
   * departure), the client is gone: its name, its subscriptions, its secondary.
   */
  @ParameterizedTest
  @EnumSource(Transport.class)
  void aClosedClientIsGoneWhateverItsUnregistrationThrows(Transport t) throws Exception {
    try (TestBroker tb = TestBroker.start(2, l -> l.setTimeoutMs(60_000))) {
      tb.router().registrationListener((s, reg) -> {
        if (!reg) {
          throw new IllegalStateException("announcement failed (test)");
        }
      });
      RawClient sec;
      try (RawClient a = tb.registered(t, "a")) {
        a.send(frame(1, 0x02, 1, utf8("a/#")));
        a.expectAck(1, 0x01);
        a.send(frame(2, 0x04, 1, utf8("a/x")));
        a.expectAck(2, 0x01);
        sec = tb.registered(t, "a%%1");
        sec.send(frame(1, 0x02, 1, utf8("s/#")));
        sec.expectAck(1, 0x01);
      }
      try {
        sec.expectClosed(5_000);
      } finally {
        sec.close();
      }
      await(() -> tb.router().registry().get("a") == null
          && tb.router().registry().get("a%%1") == null
          && tb.router().topics().match("a/1").length == 0
          && tb.router().topics().match("s/1").length == 0
          && listener(tb, t).connections() == 0, 5_000, "everything of a gone");
      assertThat(tb.router().topics().size()).as(".broker/warn of .broker only")
          .isEqualTo(1);
    }
  }
}
