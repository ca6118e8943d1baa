package dev.elbus.it;

import dev.elbus.client.ClientOptions;
import dev.elbus.client.Frame;
import dev.elbus.client.NetworkClient;
import dev.elbus.config.ListenerOptions;
import dev.elbus.config.TlsOptions;
import dev.elbus.protocol.QoS;
import dev.elbus.support.LeakGate;
import dev.elbus.support.RawClient;
import dev.elbus.support.TestBroker;
import dev.elbus.support.TestCerts;
import dev.elbus.support.TlsBroker;
import dev.elbus.support.Transport;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.elbus.it.Wire.MESSAGE;
import static dev.elbus.it.Wire.OK;
import static dev.elbus.it.Wire.PUBLISH;
import static dev.elbus.it.Wire.SUBSCRIBE;
import static dev.elbus.it.Wire.T_MESSAGE;
import static dev.elbus.it.Wire.clientFrame;
import static dev.elbus.it.Wire.publication;
import static dev.elbus.it.Wire.uniq;
import static dev.elbus.support.RawClient.concat;
import static dev.elbus.support.RawClient.le32;
import static dev.elbus.support.RawClient.utf8;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A connection's turn ends when its frames have taken {@code turn_budget}: the rest of what it
 * read waits in its decoder while the event loop serves the others, and is routed later. With a
 * budget of 0 every check ends the turn (every 16 frames and after every {@code .broker} call),
 * so these bursts cross hundreds of turns, with frames cut by the pauses and reads arriving
 * while paused; every frame must still be routed once, whole and in order, on TCP, on Unix
 * sockets and behind TLS.
 */
@ExtendWith(LeakGate.class)
class TurnBudgetIT {
  /** {@code .broker}'s reply to {@code test}: {@code {"ok": true}}. */
  private static final byte[] OK_MAP = RawClient.hex("81 A2 6F 6B C3");

  private static TestBroker tb;

  @TempDir
  static Path dir;

  @BeforeAll
  static void start() throws Exception {
    tb = TestBroker.start(1, o -> Wire.QUIET.accept(o.setTurnBudgetUs(0)));
  }

  @AfterAll
  static void stop() throws Exception {
    tb.close();
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void aBurstCrossingManyTurnsArrivesWholeAndInOrder(Transport t) throws Exception {
    String n = uniq("turns-" + t.name().toLowerCase());
    try (RawClient w = tb.registered(t, n); RawClient r = tb.registered(other(t), n + "-reader")) {
      for (RawClient c : List.of(w, r)) {
        c.send(clientFrame(1, SUBSCRIBE, 1, utf8(n + "/#")));
        Wire.expectAck(c, 1, OK);
      }
      long yields = tb.router().stats().yields();
      int frames = 4_000;
      ByteArrayOutputStream burst = new ByteArrayOutputStream();
      List<byte[]> toWriter = new ArrayList<>();
      List<byte[]> toReader = new ArrayList<>();
      for (int i = 2; i < frames + 2; i++) {
        if (i % 50 == 0) {
          // a .broker call (QoS 0: only its reply comes back)
          burst.write(testCall(i));
          toWriter.add(RawClient.brokerFrame(T_MESSAGE, false, ".broker", null,
              concat(new byte[] {0x11}, le32(i), OK_MAP)));
          continue;
        }
        String topic = n + "/t" + (i % 7);
        // every 500th a frame of 200 KiB: pauses fall inside frames and reads keep arriving
        byte[] payload = i % 500 == 3 ? new byte[200 * 1024] : utf8("p" + i);
        payload[0] = (byte) i;
        burst.write(clientFrame(i, PUBLISH, 1, concat(utf8(topic), new byte[] {0}, payload)));
        byte[] pub = publication(n, topic, payload, false);
        toWriter.add(pub);
        toWriter.add(Wire.ack(i, OK));
        toReader.add(pub);
      }
      w.send(burst.toByteArray());
      for (int i = 0; i < toWriter.size(); i++) {
        byte[] got = Wire.next(w, 30_000);
        assertThat(Arrays.equals(got, toWriter.get(i))).as("frame %d of %d to the writer: %s",
            i, toWriter.size(), Wire.shortHex(got)).isTrue();
      }
      for (int i = 0; i < toReader.size(); i++) {
        byte[] got = Wire.next(r, 30_000);
        assertThat(Arrays.equals(got, toReader.get(i))).as("publication %d of %d to the reader: "
            + "%s", i, toReader.size(), Wire.shortHex(got)).isTrue();
      }
      w.expectSilence(100);
      r.expectSilence(0);
      // a turn ends every 16 frames of a read and after each call
      assertThat(tb.router().stats().yields() - yields).isGreaterThanOrEqualTo(frames / 32);
    }
  }

  /**
   * A client that sends a burst and closes at once: what it sent before the close is routed even
   * though most of it waited for later turns when the close arrived (the CLI benchmark's QoS 0
   * stages do exactly this), and the client is unregistered after.
   */
  @ParameterizedTest
  @EnumSource(Transport.class)
  void aBurstSentRightBeforeTheCloseIsRoutedWhole(Transport t) throws Exception {
    String n = uniq("turns-close-" + t.name().toLowerCase());
    try (RawClient r = tb.registered(other(t), n + "-reader")) {
      try (RawClient w = tb.registered(t, n)) {
        w.send(messagesTo(n + "-reader", 3_000));
      }
      expectMessages(r, n, 3_000);
      r.expectSilence(100);
      Wire.awaitUnregistered(tb.broker(), n);
    }
  }

  /**
   * A client that pipelines calls, shuts its sending side down and reads until the end: every
   * reply arrives before the broker closes (the calls wait for later turns when the end of input
   * arrives; the connection stays open until they are answered).
   */
  @ParameterizedTest
  @EnumSource(Transport.class)
  void aHalfCloseGetsEveryReplyBeforeTheClose(Transport t) throws Exception {
    String n = uniq("turns-half-" + t.name().toLowerCase());
    int calls = 500;
    ByteArrayOutputStream burst = new ByteArrayOutputStream();
    for (int i = 1; i <= calls; i++) {
      burst.write(testCall(i));
    }
    try (RawClient c = tb.registered(t, n)) {
      c.send(burst.toByteArray());
      c.shutdownOutput();
      for (int i = 1; i <= calls; i++) {
        byte[] got = Wire.next(c, 30_000);
        assertThat(Arrays.equals(got, RawClient.brokerFrame(T_MESSAGE, false, ".broker", null,
            concat(new byte[] {0x11}, le32(i), OK_MAP)))).as("reply %d of %d: %s", i, calls,
            Wire.shortHex(got)).isTrue();
      }
      c.expectClosed(5_000);
    }
    Wire.awaitUnregistered(tb.broker(), n);
  }

  /**
   * A client whose close is a reset (it left a reply unread) right after a burst: what the broker
   * had read before the reset is still routed, as it was when a turn had no time bound.
   */
  @ParameterizedTest
  @EnumSource(Transport.class)
  void aBurstBeforeAResetIsRoutedWhole(Transport t) throws Exception {
    String n = uniq("turns-rst-" + t.name().toLowerCase());
    try (RawClient r = tb.registered(other(t), n + "-reader")) {
      try (RawClient w = tb.registered(t, n)) {
        // a call whose reply is never read: closing with unread input resets the connection
        w.send(testCall(1));
        Thread.sleep(100);
        w.send(messagesTo(n + "-reader", 1_000));
      }
      expectMessages(r, n, 1_000);
      Wire.awaitUnregistered(tb.broker(), n);
    }
  }

  /**
   * Hundreds of clients whose input ends at once (they close together): their closes, queued
   * and worked off a share of the loop's time at a time (PeerCloses), lose none of them; each is
   * unregistered and announced exactly once, and a registered client of the same loop gets its
   * round trip meanwhile. (How long the others wait is printed by HostileClientsIT, scenario 6.)
   */
  @ParameterizedTest
  @EnumSource(Transport.class)
  void hundredsClosingAtOnceAreEachUnregisteredAndAnnouncedOnce(Transport t) throws Exception {
    String n = uniq("turns-leave-" + t.name().toLowerCase());
    int count = 400;
    try (RawClient watcher = tb.registered(other(t), n + "-watcher");
         RawClient stay = tb.registered(t, n + "-stay")) {
      watcher.send(clientFrame(1, SUBSCRIBE, 1, utf8(".broker/info")));
      watcher.expectAck(1, OK);
      stay.send(clientFrame(1, SUBSCRIBE, 1, utf8(n + "/rt")));
      stay.expectAck(1, OK);
      List<RawClient> leaving = new ArrayList<>();
      java.util.Set<String> names = new java.util.HashSet<>();
      for (int i = 0; i < count; i++) {
        String name = String.format("%s-%04d.%s", n, i, "x".repeat(4_000));
        leaving.add(tb.registered(t, name));
        names.add(name);
      }
      byte[] prefix = concat(utf8(".broker"), new byte[] {0}, utf8(".broker/info"),
          new byte[] {0});
      for (int i = 0; i < count; i++) {
        watcher.nextFrame(); // their reg announcements
      }
      for (RawClient c : leaving) {
        c.close();
      }
      // a round trip while the closes are being worked off
      stay.send(clientFrame(2, PUBLISH, 1, concat(utf8(n + "/rt"), new byte[] {0}, utf8("p"))));
      assertThat(stay.nextFrame()).isEqualTo(publication(n + "-stay", n + "/rt", utf8("p"), false));
      stay.expectAck(2, OK);
      java.util.Set<String> gone = new java.util.HashSet<>();
      for (int i = 0; i < count; i++) {
        byte[] f = watcher.nextFrame();
        byte[] body = Arrays.copyOfRange(f, 6, f.length);
        assertThat(Arrays.copyOf(body, prefix.length)).isEqualTo(prefix);
        java.util.Map<String, Object> a = dev.elbus.rpc.MsgPack.decodeMap(
            Arrays.copyOfRange(body, prefix.length, body.length));
        assertThat(a.get("s")).isEqualTo("unreg");
        assertThat(gone.add((String) a.get("d"))).as("announced once: %s", a.get("d")).isTrue();
      }
      assertThat(gone).isEqualTo(names);
      watcher.expectSilence(200);
      for (String name : names) {
        Wire.awaitUnregistered(tb.broker(), name);
      }
    }
  }

  /** A {@code .broker} {@code test} call with QoS 0 and call id {@code id} (op id the same). */
  private static byte[] testCall(int id) {
    return clientFrame(id, MESSAGE, 0, concat(utf8(".broker"), new byte[] {0},
        new byte[] {0x01}, le32(id), utf8("test"), new byte[] {0}));
  }

  private static Transport other(Transport t) {
    return t == Transport.TCP ? Transport.UNIX : Transport.TCP;
  }

  /** {@code frames} QoS 0 messages {@code m1, m2, ...} to {@code target}, as one write. */
  private static byte[] messagesTo(String target, int frames) throws java.io.IOException {
    ByteArrayOutputStream burst = new ByteArrayOutputStream();
    for (int i = 1; i <= frames; i++) {
      burst.write(clientFrame(i, MESSAGE, 0, concat(utf8(target), new byte[] {0},
          utf8("m" + i))));
    }
    return burst.toByteArray();
  }

  /** The messages of {@link #messagesTo} from {@code sender}, byte-exact and in order. */
  private static void expectMessages(RawClient r, String sender, int frames) throws Exception {
    for (int i = 1; i <= frames; i++) {
      byte[] got = Wire.next(r, 30_000);
      assertThat(Arrays.equals(got, Wire.message(sender, utf8("m" + i), false)))
          .as("message %d of %d: %s", i, frames, Wire.shortHex(got)).isTrue();
    }
  }

  /** The same through TLS, a Java client pipelining its publications. */
  @Test
  void behindTlsTooWithTheJavaClient() throws Exception {
    TestCerts certs = TestCerts.create(dir);
    TestCerts.Issued server = certs.server("server");
    Vertx vertx = Vertx.vertx();
    try (TlsBroker b = TlsBroker.start(1, ListenerOptions.of("127.0.0.1:0").setTurnBudgetUs(0)
        .setTls(new TlsOptions().setCert(server.cert().toString())
            .setKey(server.key().toString())))) {
      NetworkClient c = NetworkClient.connect(vertx, b.tls(0), "turns-tls",
          new ClientOptions().setTlsCa(certs.caPem().toString())).await(20, TimeUnit.SECONDS);
      List<Frame> got = new ArrayList<>();
      c.frameHandler(f -> {
        synchronized (got) {
          got.add(f);
        }
      });
      c.subscribe(List.of("tls/#"), QoS.PROCESSED).await(20, TimeUnit.SECONDS);
      long yields = b.broker().stats().turnsYielded();
      int frames = 20_000;
      List<Future<Void>> acks = new ArrayList<>();
      for (int i = 0; i < frames; i++) {
        acks.add(c.publish("tls/" + (i % 5), Buffer.buffer("p" + i), QoS.PROCESSED));
      }
      Future.all(acks).await(60, TimeUnit.SECONDS);
      Wire.await(() -> {
        synchronized (got) {
          return got.size() >= frames;
        }
      }, 30_000, "all publications back");
      synchronized (got) {
        assertThat(got).hasSize(frames);
        for (int i = 0; i < frames; i++) {
          assertThat(got.get(i).topic()).isEqualTo("tls/" + (i % 5));
          assertThat(got.get(i).payload().toString()).isEqualTo("p" + i);
        }
      }
      assertThat(b.broker().stats().turnsYielded() - yields).isGreaterThanOrEqualTo(frames / 32);
      c.close().await(20, TimeUnit.SECONDS);
      Wire.awaitUnregistered(b.broker(), "turns-tls"); // its end of input closes it here
    } finally {
      vertx.close().await(20, TimeUnit.SECONDS);
    }
  }
}
