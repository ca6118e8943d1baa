package dev.elbus.impl.monitor;

import dev.elbus.InternalClient;
import dev.elbus.Internals;
import dev.elbus.aaa.AaaPolicy;
import dev.elbus.aaa.ClientAcl;
import dev.elbus.config.InternalClientOptions;
import dev.elbus.impl.net.ListenerRuntime;
import dev.elbus.support.Http;
import dev.elbus.support.Http.Metrics;
import dev.elbus.support.LeakGate;
import dev.elbus.support.RawClient;
import dev.elbus.support.TestBroker;
import dev.elbus.support.Transport;
import io.vertx.core.eventbus.MessageConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static dev.elbus.support.RawClient.bytes;
import static dev.elbus.support.RawClient.concat;
import static dev.elbus.support.RawClient.le32;
import static dev.elbus.support.RawClient.utf8;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code GET /metrics} of a real broker (TCP and Unix listeners, raw clients) moves with its
 * traffic: registrations, frames and bytes in and out, disconnects, refusals by code and by limit,
 * AAA denials, {@code .broker} calls, internal clients' queues and refused frames, and a dropped
 * slow consumer. The counters are compared as differences between two scrapes, to the frame and
 * the byte (PROTOCOL.md section 6, as {@code StatsIT} counts them).
 */
@ExtendWith(LeakGate.class)
class MetricsIT {
  private static final int PUBLISH = 0x01;
  private static final int SUBSCRIBE = 0x02;
  private static final int MESSAGE = 0x12;
  private static final int BROADCAST = 0x13;
  private static final Consumer<dev.elbus.config.ListenerOptions> QUIET =
      l -> l.setTimeoutMs(60_000);

  private static Monitor monitor(TestBroker tb) throws Exception {
    return Monitor.start(tb.vertx(), Internals.impl(tb.broker()), "127.0.0.1", 0)
        .await(10, TimeUnit.SECONDS);
  }

  private static String label(TestBroker tb, Transport t) {
    for (ListenerRuntime l : tb.listeners()) {
      if ((t == Transport.TCP) == (l.bind().type() == dev.elbus.client.Bind.Type.TCP)) {
        return l.label();
      }
    }
    throw new AssertionError("no listener for " + t);
  }

  /** Scrapes until {@code check} holds (gauges read a walk of the clients up to 10 ms old). */
  private static Metrics until(int port, java.util.function.Predicate<Metrics> check)
      throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    Metrics m = Http.metrics(port);
    while (!check.test(m) && System.nanoTime() < deadline) {
      Thread.sleep(20);
      m = Http.metrics(port);
    }
    return m;
  }

  private static double delta(Metrics after, Metrics before, String name, String... labels) {
    return after.value(name, labels) - before.value(name, labels);
  }

  /** Each row: the expected difference, the series' name, its labels ({@code k, v, ...}). */
  private static void expectDeltas(Metrics after, Metrics before, Object[][] rows) {
    for (Object[] r : rows) {
      String[] labels = new String[r.length - 2];
      System.arraycopy(r, 2, labels, 0, labels.length);
      assertThat(delta(after, before, (String) r[1], labels))
          .as("%s %s", r[1], String.join(",", labels))
          .isEqualTo(((Integer) r[0]).doubleValue());
    }
  }

  /** An RPC call frame to {@code .broker}: {@code 01 id method 00 params}. */
  private static void callBroker(RawClient c, int opId, int callId, String method)
      throws IOException {
    c.frame(opId, MESSAGE, 0, ".broker", concat(bytes(0x01), le32(callId), utf8(method),
        bytes(0)));
  }

  @Test
  void trafficMovesTheSeries() throws Exception {
    try (TestBroker tb = TestBroker.start(1, QUIET)) {
      Monitor mon = monitor(tb);
      int port = mon.port();
      String tcp = label(tb, Transport.TCP);
      String unix = label(tb, Transport.UNIX);
      Metrics before = Http.metrics(port);
      assertThat(before.value("elbus_clients", "listener", tcp, "kind", "tcp")).isZero();
      assertThat(before.value("elbus_clients", "listener", unix, "kind", "local_ipc")).isZero();
      assertThat(before.value("elbus_uptime_seconds")).isGreaterThanOrEqualTo(0);
      // Micrometer's JVM meters are served beside the broker's
      assertThat(before.has("jvm_memory_used_bytes")).as(before.text()).isTrue();

      try (RawClient a = tb.registered(Transport.TCP, "m.a");
           RawClient b = tb.registered(Transport.UNIX, "m.b")) {
        b.frame(1, SUBSCRIBE, 1, utf8("t/#")).expectAck(1, 0x01);                  // 3 bytes
        a.frame(2, PUBLISH, 1, "t/x", utf8("hello")).expectAck(2, 0x01);           // 9 bytes
        b.nextFrame();
        a.frame(3, MESSAGE, 1, "m.b", utf8("hi")).expectAck(3, 0x01);              // 6 bytes
        b.nextFrame();
        Metrics m = until(port, x -> x.value("elbus_clients", "listener", tcp, "kind", "tcp") == 1
            && x.value("elbus_clients", "listener", unix, "kind", "local_ipc") == 1);
        assertThat(m.value("elbus_clients", "listener", tcp, "kind", "tcp")).isEqualTo(1);
        assertThat(m.value("elbus_clients", "listener", unix, "kind", "local_ipc")).isEqualTo(1);
        assertThat(m.value("elbus_connections", "listener", tcp, "kind", "tcp")).isEqualTo(1);
        assertThat(m.value("elbus_handshakes", "listener", tcp, "kind", "tcp")).isZero();
        assertThat(delta(m, before, "elbus_registrations_total", "kind", "tcp")).isEqualTo(1);
        assertThat(delta(m, before, "elbus_registrations_total", "kind", "local_ipc"))
            .isEqualTo(1);
        assertThat(delta(m, before, "elbus_received_frames_total")).isEqualTo(3);
        assertThat(delta(m, before, "elbus_received_bytes_total")).isEqualTo(3 + 9 + 6);
        // three acks of 6 bytes, the publication and the message to b
        assertThat(delta(m, before, "elbus_sent_frames_total")).isEqualTo(5);
        assertThat(delta(m, before, "elbus_sent_bytes_total")).isEqualTo(3 * 6 + 9 + 6);

        // .broker RPC: a method it answers and one it does not know
        callBroker(a, 4, 7, "test");
        a.nextFrame();
        callBroker(a, 5, 8, "no.such.method");
        a.nextFrame();
        m = Http.metrics(port);
        assertThat(delta(m, before, "elbus_core_calls_total", "method", "test", "result", "ok"))
            .isEqualTo(1);
        assertThat(delta(m, before, "elbus_core_calls_total", "method", "other", "result",
            "error")).isEqualTo(1);
        assertThat(delta(m, before, "elbus_core_calls_total", "method", "test", "result",
            "error")).isZero();

        a.close();
        m = until(port, x -> x.value("elbus_clients", "listener", tcp, "kind", "tcp") == 0
            && x.value("elbus_disconnects_total", "reason", "peer_closed") > 0);
        assertThat(m.value("elbus_clients", "listener", tcp, "kind", "tcp")).isZero();
        assertThat(m.value("elbus_connections", "listener", tcp, "kind", "tcp")).isZero();
        assertThat(delta(m, before, "elbus_disconnects_total", "reason", "peer_closed"))
            .isEqualTo(1);
      }
      mon.close().await(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void turnsEndedByTheTurnBudgetAreCounted() throws Exception {
    // turn_budget 0: each .broker call ends its connection's turn
    try (TestBroker tb = TestBroker.start(1, QUIET.andThen(l -> l.setTurnBudgetUs(0)))) {
      Monitor mon = monitor(tb);
      int port = mon.port();
      Metrics before = Http.metrics(port);
      long yields = tb.router().stats().yields();
      try (RawClient a = tb.registered(Transport.TCP, "m.turns")) {
        java.io.ByteArrayOutputStream calls = new java.io.ByteArrayOutputStream();
        for (int i = 1; i <= 3; i++) {
          byte[] body = concat(utf8(".broker"), bytes(0), bytes(0x01), le32(i), utf8("test"),
              bytes(0));
          calls.write(concat(le32(i), bytes(MESSAGE), le32(body.length), body));
        }
        a.send(calls.toByteArray());
        for (int i = 1; i <= 3; i++) {
          a.nextFrame();
        }
        long counted = tb.router().stats().yields() - yields;
        assertThat(counted).isGreaterThanOrEqualTo(2);
        Metrics m = Http.metrics(port);
        assertThat(delta(m, before, "elbus_turns_yielded_total")).isEqualTo((double) counted);
        assertThat(tb.broker().stats().turnsYielded()).isEqualTo(yields + counted);
      }
      mon.close().await(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void acceptsPausedByTheHandshakeRateAreCounted() throws Exception {
    // past one connection in its handshake, 20 a second: silent sockets pause the accepts
    try (TestBroker tb = TestBroker.start(1, QUIET.andThen(l -> l.setHandshakeBurst(1)
        .setHandshakeRate(20)))) {
      Monitor mon = monitor(tb);
      int port = mon.port();
      Metrics before = Http.metrics(port);
      long pauses = tb.router().stats().acceptPauses();
      java.util.List<RawClient> silent = new java.util.ArrayList<>();
      try {
        // the listener's first connection puts the pacer in place
        silent.add(tb.raw(Transport.TCP));
        silent.get(0).expect(0xEB, 0x01, 0x00);
        for (int i = 0; i < 10; i++) {
          silent.add(tb.raw(Transport.TCP));
        }
        Metrics m = until(port, x -> delta(x, before, "elbus_accepts_paused_total") >= 2);
        long counted = tb.router().stats().acceptPauses() - pauses;
        assertThat(delta(m, before, "elbus_accepts_paused_total")).isBetween(2.0,
            (double) counted);
        assertThat(tb.broker().stats().acceptsPaused()).isGreaterThanOrEqualTo(pauses + counted);
      } finally {
        for (RawClient c : silent) {
          c.close();
        }
      }
      mon.close().await(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void refusedHandshakesAndInputAreCountedByCodeAndLimit() throws Exception {
    try (TestBroker tb = TestBroker.start(1, QUIET.andThen(l -> l.setMaxNameParts(3)
        .setMaxTopicLevels(4)))) {
      Monitor mon = monitor(tb);
      int port = mon.port();
      Metrics before = Http.metrics(port);
      try (RawClient holder = tb.registered(Transport.TCP, "dup");
           RawClient second = tb.raw(Transport.UNIX);
           RawClient oldVersion = tb.raw(Transport.TCP);
           RawClient parts = tb.raw(Transport.TCP)) {
        assertThat(second.handshake("dup")).isEqualTo(0x76);
        oldVersion.expect(0xEB, 0x01, 0x00);
        oldVersion.send(0xEB, 0x02, 0x00);
        oldVersion.expect(0x75);
        assertThat(parts.handshake("a.b.c.d")).isEqualTo(0x72);
        holder.frame(1, SUBSCRIBE, 1, utf8("a/b/c/d/e")).expectAck(1, 0x72);
        Metrics m = until(port, x -> x.value("elbus_disconnects_total", "reason",
            "registration_refused") - before.value("elbus_disconnects_total", "reason",
            "registration_refused") >= 3);
        expectDeltas(m, before, new Object[][] {
            {1, "elbus_registrations_refused_total", "code", "busy"},
            {1, "elbus_registrations_refused_total", "code", "not_supported"},
            {1, "elbus_registrations_refused_total", "code", "data_error"},
            {0, "elbus_registrations_refused_total", "code", "access_denied"},
            {3, "elbus_disconnects_total", "reason", "registration_refused"},
            {1, "elbus_limit_refusals_total", "limit", "name_parts"},
            {1, "elbus_limit_refusals_total", "limit", "topic_levels"},
            {1, "elbus_registrations_total", "kind", "tcp"}});
      }
      mon.close().await(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void aaaDenialsAreCountedByOperation() throws Exception {
    AaaPolicy policy = AaaPolicy.builder()
        .client("ok", ClientAcl.ALLOW_ALL)
        .client("limited", ClientAcl.builder()
            .p2p(ClientAcl.Rule.deny())
            .publish(ClientAcl.Rule.only("mine/#"))
            .subscribe(ClientAcl.Rule.only("mine/#"))
            .broadcast(ClientAcl.Rule.deny())
            .build())
        .build();
    try (TestBroker tb = TestBroker.start(1, QUIET.andThen(l -> l.setAaa(policy)))) {
      Monitor mon = monitor(tb);
      int port = mon.port();
      Metrics before = Http.metrics(port);
      try (RawClient ok = tb.registered(Transport.TCP, "ok");
           RawClient limited = tb.registered(Transport.UNIX, "limited");
           RawClient stranger = tb.raw(Transport.TCP)) {
        assertThat(stranger.handshake("stranger")).isEqualTo(0x79);
        limited.frame(1, PUBLISH, 1, "other/x", utf8("p")).expectAck(1, 0x79);
        limited.frame(2, PUBLISH, 1, "mine/x", utf8("p")).expectAck(2, 0x01);
        limited.frame(3, MESSAGE, 1, "ok", utf8("m")).expectAck(3, 0x79);
        limited.frame(4, BROADCAST, 1, "*", utf8("b")).expectAck(4, 0x79);
        // one frame, two patterns: one denied
        limited.frame(5, SUBSCRIBE, 1, concat(utf8("mine/a"), bytes(0), utf8("other/#")))
            .expectAck(5, 0x79);
        Metrics m = Http.metrics(port);
        expectDeltas(m, before, new Object[][] {
            {1, "elbus_aaa_denials_total", "operation", "register"},
            {1, "elbus_aaa_denials_total", "operation", "publish"},
            {1, "elbus_aaa_denials_total", "operation", "message"},
            {1, "elbus_aaa_denials_total", "operation", "broadcast"},
            {1, "elbus_aaa_denials_total", "operation", "subscribe"},
            {0, "elbus_aaa_denials_total", "operation", "publish_for"},
            {1, "elbus_registrations_refused_total", "code", "access_denied"}});
        ok.expectSilence(50);
      }
      mon.close().await(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void anInternalClientsQueueAndRefusedFramesHaveTheirOwnSeries() throws Exception {
    try (TestBroker tb = TestBroker.start(1, QUIET)) {
      Monitor mon = monitor(tb);
      int port = mon.port();
      Metrics before = Http.metrics(port);
      // one frame in flight to a paused event-bus consumer, 8 queued, the rest refused
      InternalClient slow = tb.broker().registerClient("slow.app", new InternalClientOptions()
          .setQueueSize(8).setWindow(1));
      MessageConsumer<Object> consumer = tb.vertx().eventBus().consumer("elbus.client.slow.app",
          msg -> { });
      consumer.pause();
      slow.subscribe(List.of("q/#"), dev.elbus.protocol.QoS.PROCESSED)
          .await(10, TimeUnit.SECONDS);
      Metrics m = until(port, x -> x.find("elbus_internal_client_queued_frames", "client",
          "slow.app") != null);
      assertThat(m.value("elbus_internal_client_queued_frames", "client", "slow.app")).isZero();
      try (RawClient pub = tb.registered(Transport.TCP, "pub")) {
        for (int i = 0; i < 50; i++) {
          pub.frame(i, PUBLISH, 0, "q/x", le32(i));
        }
        // acked once routed: every publication before it was offered to slow.app
        pub.frame(99, MESSAGE, 1, "nobody", utf8("sync")).expectAck(99, 0x71);
      }
      long dropped = slow.dropped();
      assertThat(dropped).as("frames refused at the bound").isGreaterThan(30);
      m = until(port, x -> x.value("elbus_internal_client_queued_frames", "client", "slow.app")
          >= 1 && x.value("elbus_queued_frames_max", "kind", "internal") >= 1);
      assertThat(m.value("elbus_internal_client_queued_frames", "client", "slow.app"))
          .isBetween(1.0, 8.0);
      assertThat(m.value("elbus_internal_client_dropped_frames_total", "client", "slow.app"))
          .isEqualTo(dropped);
      assertThat(delta(m, before, "elbus_internal_dropped_frames_total")).isEqualTo(dropped);
      assertThat(m.value("elbus_queued_frames_max", "kind", "internal")).isBetween(1.0, 8.0);
      assertThat(m.value("elbus_queued_frames", "kind", "internal")).isGreaterThanOrEqualTo(1);
      assertThat(m.value("elbus_clients", "listener", "internal", "kind", "internal"))
          .isGreaterThanOrEqualTo(2); // .broker and slow.app

      // gone: its own series go, the broker-wide count stays
      slow.close().await(10, TimeUnit.SECONDS);
      consumer.unregister();
      m = until(port, x -> x.find("elbus_internal_client_queued_frames", "client",
          "slow.app") == null);
      assertThat(m.find("elbus_internal_client_queued_frames", "client", "slow.app")).isNull();
      assertThat(m.find("elbus_internal_client_dropped_frames_total", "client", "slow.app"))
          .isNull();
      assertThat(delta(m, before, "elbus_internal_dropped_frames_total")).isEqualTo(dropped);
      mon.close().await(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void aDroppedSlowConsumerIsCounted() throws Exception {
    try (TestBroker tb = TestBroker.start(1, QUIET.andThen(l -> l.setQueueMaxBytes(64 * 1024)
        .setBufSize(1024)))) {
      Monitor mon = monitor(tb);
      int port = mon.port();
      Metrics before = Http.metrics(port);
      try (RawClient slow = tb.registered(Transport.TCP, "slow").receiveBuffer(4096);
           RawClient pub = tb.registered(Transport.UNIX, "pub")) {
        slow.frame(1, SUBSCRIBE, 1, utf8("flood/#")).expectAck(1, 0x01);
        byte[] payload = new byte[32 * 1024];
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        int sent = 0;
        // the subscriber reads nothing: past 64 KiB queued in the broker it is dropped
        while (tb.router().registry().get("slow") != null && System.nanoTime() < deadline) {
          pub.frame(sent, PUBLISH, 0, "flood/x", payload);
          if (++sent % 64 == 0) {
            pub.frame(1_000_000 + sent, MESSAGE, 1, "nobody", utf8("sync"))
                .expectAck(1_000_000 + sent, 0x71);
          }
        }
        assertThat(tb.router().registry().get("slow")).as("dropped after %d frames", sent)
            .isNull();
        Metrics m = until(port, x -> x.value("elbus_disconnects_total", "reason",
            "slow_consumer") > before.value("elbus_disconnects_total", "reason",
            "slow_consumer"));
        assertThat(delta(m, before, "elbus_disconnects_total", "reason", "slow_consumer"))
            .isEqualTo(1);
        assertThat(m.value("elbus_clients", "listener", label(tb, Transport.TCP), "kind", "tcp"))
            .isZero();
      }
      mon.close().await(10, TimeUnit.SECONDS);
    }
  }
}
