package dev.elbus.it;

import ch.qos.logback.classic.Level;
import dev.elbus.aaa.AaaPolicy;
import dev.elbus.aaa.ClientAcl;
import dev.elbus.client.Bind;
import dev.elbus.impl.net.ListenerRuntime;
import dev.elbus.impl.routing.CloseReason;
import dev.elbus.impl.routing.Limit;
import dev.elbus.rpc.MsgPack;
import dev.elbus.support.BrokerMemory;
import dev.elbus.support.Figures;
import dev.elbus.support.LeakGate;
import dev.elbus.support.LogCapture;
import dev.elbus.support.RawClient;
import dev.elbus.support.TestBroker;
import dev.elbus.support.Transport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static dev.elbus.it.Wire.DATA;
import static dev.elbus.it.Wire.MESSAGE;
import static dev.elbus.it.Wire.OK;
import static dev.elbus.it.Wire.PUBLISH;
import static dev.elbus.it.Wire.SUBSCRIBE;
import static dev.elbus.it.Wire.clientFrame;
import static dev.elbus.it.Wire.expectAck;
import static dev.elbus.it.Wire.expectFrame;
import static dev.elbus.it.Wire.publication;
import static dev.elbus.it.Wire.uniq;
import static dev.elbus.support.RawClient.concat;
import static dev.elbus.support.RawClient.le32;
import static dev.elbus.support.RawClient.utf8;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 17, the eight hostile-client scenarios, each against a broker with two event loops and
 * the default limits, while two healthy clients (TCP and Unix socket) each make a QoS 1 round trip
 * to themselves every 20 ms. Each scenario checks that the broker refuses or bounds the input, no
 * StackOverflowError or internal_error appears, the healthy clients' p99 stays within a generous
 * bound (the figure is printed: {@code HOSTILE} lines; the target is 50 ms, this machine is
 * noisy), and the broker's heap after the attacker leaves is back within 10 % of where it started.
 *
 * <p>Scaled down here; the reliability profile runs the issue's full sizes ({@code
 * -Delbus.hostile.full=true}). Scenario 8's other parts: {@code CoreRpcIT
 * .malformedRequestWithACallIdGetsInvalidRequest} (-32600), {@code ConnectionLifecycleIT} (handshake
 * slots, accept pacing, AAA through connections), {@code ReRegistrationIT} (re-registration race).
 */
@ExtendWith(LeakGate.class)
class HostileClientsIT {
  private static final boolean FULL = Boolean.getBoolean("elbus.hostile.full");
  private static final long MIB = 1024 * 1024;
  /** The p99 bound asserted (the target is 50 ms, printed). */
  private static final double P99_BOUND_MS = 1_000;
  private static final int EXCLUDE = 0x04;
  private static final int PUBLISH_FOR = 0x06;
  private static final int ACCESS = 0x79;

  private static TestBroker tb;
  private List<Healthy> healthy;
  private LogCapture log;
  private long heapBefore;
  private long internalErrorsBefore;

  @BeforeAll
  static void start() throws Exception {
    tb = TestBroker.start(2, Wire.QUIET);
  }

  @AfterAll
  static void stop() throws Exception {
    tb.close();
  }

  @BeforeEach
  void healthyClients() throws Exception {
    heap(); // settle what the previous scenario left to collect
    log = LogCapture.on("dev.elbus");
    healthy = List.of(new Healthy(tb, Transport.TCP), new Healthy(tb, Transport.UNIX));
    Thread.sleep(300); // warm: a few round trips before the baseline
    heapBefore = heap();
    internalErrorsBefore = tb.router().stats().closes(CloseReason.INTERNAL_ERROR);
  }

  @AfterEach
  void closeHealthy() throws Exception {
    for (Healthy h : healthy) {
      h.close();
    }
    log.close();
  }

  /**
   * Incremented as {@link #heap} starts and as it ends (odd while it forces collections): the
   * healthy clients do not count a round trip that overlaps a full collection the test itself
   * forced in the broker's JVM (a pause of up to 100 ms that no attacker caused).
   */
  private static final java.util.concurrent.atomic.AtomicLong FORCED_GC =
      new java.util.concurrent.atomic.AtomicLong();

  /** Heap in use after full collections: the smallest of three readings. */
  private static long heap() throws InterruptedException {
    FORCED_GC.incrementAndGet();
    try {
      long min = Long.MAX_VALUE;
      for (int i = 0; i < 3; i++) {
        min = Math.min(min, BrokerMemory.heapUsedAfterGc());
        Thread.sleep(20);
      }
      return min;
    } finally {
      FORCED_GC.incrementAndGet();
    }
  }

  /**
   * The common checks after the attacker left: healthy p99, no internal error, no stack
   * overflow logged, heap back within 10 %.
   */
  private void verdict(String scenario) throws Exception {
    List<String> p99s = new ArrayList<>();
    for (Healthy h : healthy) {
      h.stop();
      double[] s = h.stats();
      Figures.print("HOSTILE %s healthy %s: %d round trips, p50 %.2f ms, p99 %.2f ms, max %.2f ms"
          + " (at JVM uptime %.3f s; %d overlapping a forced GC not counted)%n", scenario,
          h.transport, (long) s[0], s[1], s[2], s[3], h.slowestAtMs / 1000.0, h.skipped);
      p99s.add(String.format("%.1f", s[2]));
      assertThat(h.failure).as("healthy %s failure", h.transport).isNull();
      assertThat(s[0]).as("round trips").isGreaterThan(0);
      assertThat(s[2]).as("p99 of the healthy %s client (ms)", h.transport)
          .isLessThan(P99_BOUND_MS);
    }
    assertThat(tb.router().stats().closes(CloseReason.INTERNAL_ERROR))
        .as("internal errors").isEqualTo(internalErrorsBefore);
    assertThat(log.events()).as("no stack overflow logged").noneMatch(e ->
        e.getFormattedMessage().contains("StackOverflowError") || (e.getThrowableProxy() != null
            && e.getThrowableProxy().getClassName().contains("StackOverflowError")));
    assertThat(log.aboveWarn()).as("errors logged").isEmpty();
    // the captured log events are the test's own heap (thousands of refusals in the full run)
    log.clear();
    long after = heap();
    Figures.print("HOSTILE %s heap before %s, after the attacker left %s (%+.1f %%)%n", scenario,
        BrokerMemory.mib(heapBefore), BrokerMemory.mib(after),
        100.0 * (after - heapBefore) / heapBefore);
    assertThat(after).as("heap after the attacker left, before: %s", BrokerMemory.mib(heapBefore))
        .isLessThan(heapBefore + heapBefore / 10);
  }

  private static byte[] frame(int opId, int op, int qos, byte[] body) {
    return clientFrame(opId, op, qos, body);
  }

  private static String repeat(String first, String next, int levels) {
    return dev.elbus.support.Deep.levels(first, next, levels);
  }

  private static double ms(long t0) {
    return (System.nanoTime() - t0) / 1e6;
  }

  // ---------------------------------------------------------------- 1. deep patterns

  /**
   * Scenario 1: one subscribe frame of {@code r0} and 8,000,000 (here 200,000) slashes, and an
   * exclusion of 20,000 levels: refused with 72 on arrival, nothing stored. With the level limit
   * lifted (a second broker), such patterns are stored and removed again by loops: the client's
   * departure unregisters everything and is announced once.
   */
  @Test
  void deepPatternsAreRefusedOrWalkedWithoutRecursion() throws Exception {
    int levels = FULL ? 8_000_000 : 200_000;
    String n = uniq("deep");
    long refused = tb.router().stats().refused(Limit.TOPIC_LEVELS);
    try (RawClient c = tb.registered(Transport.TCP, n)) {
      long t0 = System.nanoTime();
      c.send(frame(1, SUBSCRIBE, 1, utf8(repeat("r0", "", levels))));
      expectAck(c, 1, DATA);
      Figures.print("HOSTILE 1 a pattern of %d levels (%d bytes) refused in %.1f ms%n", levels,
          levels + 1, ms(t0));
      c.send(frame(2, EXCLUDE, 1, utf8(repeat("x", "", 20_000))));
      expectAck(c, 2, DATA);
      assertThat(tb.router().stats().refused(Limit.TOPIC_LEVELS) - refused).isEqualTo(2);
    }
    Wire.awaitUnregistered(tb.broker(), n);

    // the limit lifted: stored, matched and removed by loops (several clients in the full run)
    int lifted = FULL ? 1_000_000 : 100_000;
    try (TestBroker open = TestBroker.start(2, l -> Wire.QUIET.accept(
        l.setMaxTopicLevels(Integer.MAX_VALUE).setMaxWildcardLevels(Integer.MAX_VALUE)))) {
      try (RawClient watcher = open.registered(Transport.UNIX, "watcher")) {
        watcher.send(frame(1, SUBSCRIBE, 1, utf8(".broker/info")));
        expectAck(watcher, 1, OK);
        int clients = FULL ? 4 : 1;
        for (int k = 0; k < clients; k++) {
          String d = "deep-" + k;
          try (RawClient c = open.registered(Transport.TCP, d);
              RawClient sec = open.registered(Transport.TCP, d + "%%s")) {
            Wire.next(watcher); // reg
            long t0 = System.nanoTime();
            c.send(frame(1, SUBSCRIBE, 1, utf8(repeat("r0", "", lifted) + "/#")));
            assertThat(Wire.next(c, 60_000)).isEqualTo(Wire.ack(1, OK));
            c.send(frame(2, EXCLUDE, 1, utf8(repeat("x", "+", lifted))));
            assertThat(Wire.next(c, 60_000)).isEqualTo(Wire.ack(2, OK));
            String topic = repeat("r0", "", lifted) + "/t";
            c.send(frame(3, PUBLISH, 1, concat(utf8(topic), new byte[] {0}, utf8("p"))));
            assertThat(Wire.next(c, 60_000)).isEqualTo(publication(d, topic, utf8("p"), false));
            assertThat(Wire.next(c, 60_000)).isEqualTo(Wire.ack(3, OK));
            Figures.print("HOSTILE 1 limit lifted: patterns of %d levels stored and matched in "
                + "%.0f ms%n", lifted, ms(t0));
            c.close();
            sec.expectClosed(10_000);
          }
          byte[] unreg = Wire.next(watcher, 10_000);
          assertThat(new String(unreg, StandardCharsets.ISO_8859_1)).contains("unreg")
              .contains(d);
          Wire.awaitUnregistered(open.broker(), d);
          Wire.awaitUnregistered(open.broker(), d + "%%s");
        }
        watcher.expectSilence(200);
        assertThat(open.router().topics().size()).as("watcher's two, .broker's one")
            .isEqualTo(3);
      }
      assertThat(open.router().stats().closes(CloseReason.INTERNAL_ERROR)).isZero();
    }
    verdict("1");
  }

  // ---------------------------------------------------------------- 2. AAA escape

  /**
   * Scenario 2: on an AAA listener {@code plc1} (publish only to {@code plc1/#}) and its
   * secondary connect; {@code plc1} sends an exclusion of 20,000 levels (refused: 72) and closes:
   * the secondary is dropped with it. Then, with the limit lifted so the exclusion is stored,
   * the same: still dropped. Removing {@code plc1} from the AAA policy drops both connections,
   * and a sniffer on {@code #} receives nothing from them.
   */
  @Test
  void theAaaScenarioDropsTheSecondary() throws Exception {
    AaaPolicy policy = AaaPolicy.builder()
        .client("plc1", ClientAcl.builder().publish(ClientAcl.Rule.only("plc1/#")).build())
        .client("sniffer", ClientAcl.ALLOW_ALL).build();
    for (int maxLevels : new int[] {dev.elbus.config.ListenerOptions.DEFAULT_MAX_TOPIC_LEVELS,
        Integer.MAX_VALUE}) {
      try (TestBroker aaa = TestBroker.start(2, l -> Wire.QUIET.accept(
          l.setAaa(policy).setMaxTopicLevels(maxLevels)));
          RawClient sniffer = aaa.registered(Transport.UNIX, "sniffer")) {
        sniffer.send(frame(1, SUBSCRIBE, 1, utf8("#")));
        expectAck(sniffer, 1, OK);
        RawClient plc = aaa.registered(Transport.TCP, "plc1");
        RawClient sec = aaa.registered(Transport.TCP, "plc1%%z");
        plc.send(frame(1, EXCLUDE, 1, utf8(repeat("x", "", 20_000))));
        expectAck(plc, 1, maxLevels == Integer.MAX_VALUE ? OK : DATA);
        plc.close();
        sec.expectClosed(5_000);
        sec.close();
        Wire.awaitUnregistered(aaa.broker(), "plc1%%z");
        // both connect again; the policy loses plc1: both are dropped
        plc = aaa.registered(Transport.TCP, "plc1");
        sec = aaa.registered(Transport.UNIX, "plc1%%z");
        ListenerRuntime tcp = null;
        ListenerRuntime unix = null;
        for (ListenerRuntime l : aaa.listeners()) {
          if (l.bind().type() == Bind.Type.TCP) {
            tcp = l;
          } else {
            unix = l;
          }
        }
        AaaPolicy without = AaaPolicy.builder().client("sniffer", ClientAcl.ALLOW_ALL).build();
        // the secondary's listener first: the primary's removal would drop it as primary_gone
        int dropped = aaa.broker().setAaa(unix.label(), without)
            + aaa.broker().setAaa(tcp.label(), without);
        assertThat(dropped).isEqualTo(2);
        plc.expectClosed(5_000);
        sec.expectClosed(5_000);
        plc.close();
        sec.close();
        // the sniffer saw announcements only: every frame to it is from .broker
        sniffer.send(frame(2, PUBLISH, 1, concat(utf8("end"), new byte[] {0})));
        while (true) {
          byte[] f = Wire.next(sniffer);
          if ((f[0] & 0xFF) == 0xFE) {
            assertThat(f).isEqualTo(Wire.ack(2, OK));
            break;
          }
          String sender = senderOf(f);
          assertThat(sender).as("a frame to the sniffer").isIn(".broker", "sniffer");
        }
        assertThat(aaa.router().stats().closes(CloseReason.INTERNAL_ERROR)).isZero();
      }
    }
    verdict("2");
  }

  private static String senderOf(byte[] frame) {
    int z = 6;
    while (frame[z] != 0) {
      z++;
    }
    return new String(frame, 6, z - 6, StandardCharsets.UTF_8);
  }

  // ---------------------------------------------------------------- 3. long dotted names

  /**
   * Scenario 3: clients named {@code NNNNNN.a.a.a...} (65,535 bytes, 32,765 parts) are refused
   * with 72 (more than 128 name parts). Names of 65,535 bytes with few parts are accepted, and
   * what one costs the heap is printed.
   */
  @Test
  void longDottedNamesAreRefusedAndLongNamesCostTheirSize() throws Exception {
    registerLongNames();
    verdict("3");
  }

  private void registerLongNames() throws Exception {
    int dotted = FULL ? 3_400 : 200;
    long refused = tb.router().stats().refused(Limit.NAME_PARTS);
    String tail = ".a".repeat((65_535 - 6) / 2);
    long t0 = System.nanoTime();
    for (int i = 0; i < dotted; i++) {
      try (RawClient c = tb.raw(i % 2 == 0 ? Transport.TCP : Transport.UNIX)) {
        assertThat(c.handshake(String.format("%06d", i) + tail)).isEqualTo(DATA);
      }
    }
    Figures.print("HOSTILE 3 %d dotted names of %d bytes refused in %.0f ms%n", dotted,
        6 + tail.length(), ms(t0));
    assertThat(tb.router().stats().refused(Limit.NAME_PARTS) - refused).isEqualTo(dotted);
    // long names with few parts: registered; their cost is their size
    int n = FULL ? 300 : 50;
    List<RawClient> cs = new ArrayList<>();
    long before = heap();
    try {
      for (int i = 0; i < n; i++) {
        cs.add(tb.registered(Transport.UNIX, String.format("%06d.", i)
            + "a".repeat(65_535 - 7)));
      }
      long with = heap();
      Figures.print("HOSTILE 3 %d clients with 65,535-byte names: heap %+.1f KiB per client%n",
          n, (with - before) / 1024.0 / n);
      assertThat((with - before) / n).as("bytes per client").isLessThan(512 * 1024);
    } finally {
      for (RawClient c : cs) {
        c.close();
      }
      cs.clear(); // the test's own client objects must not count as broker heap
    }
    Wire.await(() -> tb.router().registry().size() <= 3, 10_000, "all left");
  }

  // ---------------------------------------------------------------- 4. large topics

  /**
   * Scenario 4: publications to 4,096 distinct 1 MiB topics (here 256 of 256 KiB) and to 16 MiB
   * topics: the match cache keeps no long topic, the heap stays flat.
   */
  @Test
  void theMatchCacheKeepsNoLargeTopic() throws Exception {
    publishLargeTopics();
    verdict("4");
  }

  /** The attack, in a method of its own: nothing of the test's own stays reachable after it. */
  private void publishLargeTopics() throws Exception {
    int topics = FULL ? 4_096 : 256;
    int size = FULL ? 1 << 20 : 256 << 10;
    String n = uniq("big");
    try (RawClient c = tb.registered(Transport.UNIX, n)) {
      c.send(frame(1, SUBSCRIBE, 1, utf8(n + "-sub/#")));
      expectAck(c, 1, OK);
      byte[] filler = new byte[size - 16];
      Arrays.fill(filler, (byte) 'x');
      long t0 = System.nanoTime();
      for (int i = 0; i < topics; i++) {
        byte[] topic = concat(utf8(String.format("%010d-", i)), filler);
        c.send(frame(10 + i, PUBLISH, 1, concat(topic, new byte[] {0}, utf8("p"))));
        expectAck(c, 10 + i, OK);
      }
      int huge = FULL ? 16 : 2;
      byte[] big = new byte[16 << 20];
      Arrays.fill(big, (byte) 'y');
      for (int i = 0; i < huge; i++) {
        big[0] = (byte) ('a' + i);
        c.send(frame(1_000_000 + i, PUBLISH, 1, concat(big, new byte[] {0})));
        expectAck(c, 1_000_000 + i, OK);
      }
      big = null;
      filler = null;
      long mid = heap();
      Figures.print("HOSTILE 4 %d topics of %d KiB and %d of 16 MiB published in %.0f ms; heap "
          + "%s (before %s)%n", topics, size >> 10, huge, ms(t0), BrokerMemory.mib(mid),
          BrokerMemory.mib(heapBefore));
      assertThat(mid).as("heap with the client still connected")
          .isLessThan(heapBefore + heapBefore / 10);
    }
  }

  // ---------------------------------------------------------------- 5. wildcard blow-up

  /**
   * Scenario 5: one client subscribes every a/+ mix at depth 16 (65,536 patterns, 1.1 MB of
   * frames): past max_wildcard_levels the patterns are refused, so a lookup walks a bounded
   * trie; then 2,000 (here 500) pipelined publications to distinct topics that all match.
   */
  @Test
  void aWildcardBlowUpIsBoundedPerClient() throws Exception {
    String n = uniq("mix");
    long refused = tb.router().stats().refused(Limit.WILDCARD_LEVELS);
    int pubs = FULL ? 2_000 : 500;
    try (RawClient c = tb.registered(Transport.TCP, n);
        RawClient churn = tb.registered(Transport.UNIX, n + "-churn")) {
      double before = pipelined(c, churn, n, pubs, 10_000);
      long t0 = System.nanoTime();
      int opId = 1;
      for (int batch = 0; batch < 65_536 / 1_024; batch++) {
        StringBuilder sb = new StringBuilder();
        for (int k = 0; k < 1_024; k++) {
          int mix = batch * 1_024 + k;
          sb.append(k == 0 ? "" : "\0").append(n);
          for (int i = 1; i < 16; i++) {
            sb.append((mix >> i & 1) == 1 ? "/+" : "/a");
          }
        }
        c.send(frame(opId, SUBSCRIBE, 1, utf8(sb.toString())));
        String ack = Wire.hex(Wire.next(c));
        assertThat(ack).isIn(Wire.hex(Wire.ack(opId, OK)), Wire.hex(Wire.ack(opId, DATA)));
        opId++;
      }
      long accepted = tb.router().registry().get(n).subscriptions().size() - 1;
      Figures.print("HOSTILE 5 65,536 a/+ patterns sent in %.0f ms: %d accepted, %d refused "
          + "(max_wildcard_levels)%n", ms(t0), accepted,
          tb.router().stats().refused(Limit.WILDCARD_LEVELS) - refused);
      // the all-'a' pattern is plain (no wildcard level): it costs no wildcard level
      assertThat(accepted).isLessThanOrEqualTo(
          dev.elbus.config.ListenerOptions.DEFAULT_MAX_WILDCARD_LEVELS / 16 + 1);
      double with = pipelined(c, churn, n, pubs, 20_000);
      Figures.print("HOSTILE 5 %d pipelined publications to distinct topics (every lookup misses "
          + "the cache; fastest of 3 rounds): %.1f us each without the patterns, %.1f us with "
          + "them%n", pubs, before, with);
    }
    verdict("5");
  }

  /**
   * Sends {@code pubs} publications to distinct topics of 16 levels under {@code n} in one write
   * and waits for their acks, three times: microseconds per publication in the fastest round
   * (the first runs colder code). Before each round {@code churn} adds and removes a wildcard
   * pattern, so that every lookup misses the cache (the same topics each time).
   */
  private static double pipelined(RawClient c, RawClient churn, String n, int pubs, int firstOp)
      throws IOException {
    ByteBuffer all = ByteBuffer.allocate(pubs * 128);
    double best = Double.MAX_VALUE;
    for (int round = 0; round < 3; round++) {
      int op = firstOp + round * (pubs + 2);
      churn.send(frame(op, SUBSCRIBE, 1, utf8(n + "/churn/+")));
      expectAck(churn, op, OK);
      churn.send(frame(op + 1, Wire.UNSUBSCRIBE, 1, utf8(n + "/churn/+")));
      expectAck(churn, op + 1, OK);
      all.clear();
      for (int i = 0; i < pubs; i++) {
        String topic = n + "/a".repeat(14) + "/t" + i;
        all.put(frame(op + 2 + i, PUBLISH, 1, concat(utf8(topic), new byte[] {0})));
      }
      long p0 = System.nanoTime();
      c.send(Arrays.copyOf(all.array(), all.position()));
      int acks = 0;
      while (acks < pubs) {
        byte[] f = Wire.next(c, 30_000);
        if ((f[0] & 0xFF) == 0xFE) {
          acks++;
        }
      }
      best = Math.min(best, ms(p0) * 1000 / pubs);
    }
    return best;
  }

  // ---------------------------------------------------------------- 6. client.list

  /**
   * Scenario 6: with 300 (here 80) clients of 65,535-byte names, ten pipelined {@code
   * client.list} calls: each reply is at most about 1 MiB ({@code more: true}), and paging with
   * {@code after} lists every client.
   */
  @Test
  void clientListRepliesAreBounded() throws Exception {
    listManyLongNames();
    verdict("6");
  }

  private void listManyLongNames() throws Exception {
    int n = FULL ? 300 : 80;
    String ns = uniq("list");
    List<RawClient> cs = new ArrayList<>();
    double registering = uptime();
    double listing = 0;
    double paging = 0;
    double closing = 0;
    try {
      for (int i = 0; i < n; i++) {
        cs.add(tb.registered(Transport.UNIX, String.format("%s-%04d.", ns, i)
            + "a".repeat(65_535 - ns.length() - 6)));
      }
      listing = uptime();
      try (RawClient c = tb.registered(Transport.TCP, ns + "-caller")) {
        ByteBuffer calls = ByteBuffer.allocate(10 * 128);
        for (int i = 1; i <= 10; i++) {
          calls.put(frame(i, MESSAGE, 0, concat(utf8(".broker"), new byte[] {0},
              rpcRequest(i, "client.list", new byte[0]))));
        }
        long t0 = System.nanoTime();
        c.send(Arrays.copyOf(calls.array(), calls.position()));
        long biggest = 0;
        for (int i = 1; i <= 10; i++) {
          byte[] f = Wire.next(c, 30_000);
          biggest = Math.max(biggest, f.length);
          Map<String, Object> m = replyMap(f);
          assertThat(m.get("more")).isEqualTo(true);
        }
        Figures.print("HOSTILE 6 10 pipelined client.list with %d clients of 65,535-byte names: "
            + "%.0f ms, largest reply %s%n", n, ms(t0), BrokerMemory.mib(biggest));
        assertThat(biggest).isLessThan(MIB + 2 * 65_536 + 4_096);
        paging = uptime();
        // every client, page by page
        List<Object> names = new ArrayList<>();
        String after = null;
        for (int page = 0; page < 100; page++) {
          byte[] params = MsgPack.encode(after == null ? MsgPack.map("filter", "^" + ns + "-0")
              : MsgPack.map("filter", "^" + ns + "-0", "after", after));
          c.send(frame(100 + page, MESSAGE, 0, concat(utf8(".broker"), new byte[] {0},
              rpcRequest(100 + page, "client.list", params))));
          Map<String, Object> m = replyMap(Wire.next(c, 30_000));
          for (Object e : (List<?>) m.get("clients")) {
            names.add(((Map<?, ?>) e).get("name"));
          }
          if (!Boolean.TRUE.equals(m.get("more"))) {
            break;
          }
          after = (String) names.get(names.size() - 1);
        }
        assertThat(names).hasSize(n);
      }
    } finally {
      closing = uptime();
      for (RawClient c : cs) {
        c.close();
      }
      cs.clear(); // the test's own client objects must not count as broker heap
    }
    Wire.await(() -> tb.router().registry().size() <= 3, 10_000, "all left");
    Figures.print("HOSTILE 6 phases (JVM uptime, s): registering %.3f, ten calls %.3f, paging "
        + "%.3f, leaving %.3f-%.3f%n", registering, listing, paging, closing, uptime());
  }

  /** JVM uptime in seconds (where the healthy clients' slowest round trip is reported). */
  private static double uptime() {
    return java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime() / 1000.0;
  }

  private static byte[] rpcRequest(int callId, String method, byte[] params) {
    return concat(new byte[] {0x01}, le32(callId), utf8(method), new byte[] {0}, params);
  }

  /** The result map of a {@code .broker} reply frame {@code 12 .. .broker 00 11 <id> map}. */
  private static Map<String, Object> replyMap(byte[] frame) {
    int z = 6 + ".broker".length();
    assertThat(frame[z + 1]).as("an RPC reply").isEqualTo((byte) 0x11);
    return MsgPack.decodeMap(Arrays.copyOfRange(frame, z + 6, frame.length));
  }

  /** The error code and message of a {@code .broker} error reply. */
  private static String errorReply(byte[] frame, int code) {
    int z = 6 + ".broker".length();
    assertThat(frame[z + 1]).as("an RPC error reply").isEqualTo((byte) 0x12);
    int got = ByteBuffer.wrap(frame, z + 6, 2).order(ByteOrder.LITTLE_ENDIAN).getShort();
    assertThat(got).isEqualTo(code);
    return new String(frame, z + 8, frame.length - z - 8, StandardCharsets.UTF_8);
  }

  // ---------------------------------------------------------------- 7. stack overflows

  /**
   * Scenario 7: {@code client.list} filters {@code (a|a)*$} and {@code (a|aa)*b} against a
   * 30,000-character name overflow the regex engine's stack: the caller gets -32602 and keeps
   * its connection. A 10,000-level topic and subscription: refused (72) by default; with the
   * limit lifted, matched by loops and delivered.
   */
  @Test
  void stackOverflowsAreRpcErrorsOrNeverHappen() throws Exception {
    String ns = uniq("sof");
    try (RawClient victim = tb.registered(Transport.UNIX, ns + "-" + "a".repeat(30_000));
        RawClient c = tb.registered(Transport.TCP, ns + "-caller")) {
      int id = 1;
      for (String filter : new String[] {"(a|a)*$", "(a|aa)*b"}) {
        for (int i = 0; i < 3; i++) {
          c.send(frame(id, MESSAGE, 0, concat(utf8(".broker"), new byte[] {0},
              rpcRequest(id, "client.list", MsgPack.encode(MsgPack.map("filter", filter))))));
          String msg = errorReply(Wire.next(c, 30_000), -32602);
          assertThat(msg).startsWith("client.list: filter");
          Figures.print("HOSTILE 7 filter %s: -32602 %s%n", filter, msg);
          id++;
        }
      }
      Wire.marker(c, ns + "-caller", victim, ns + "-" + "a".repeat(30_000), 99);
      String deep = repeat("d", "x", 10_000);
      c.send(frame(100, SUBSCRIBE, 1, utf8(deep)));
      expectAck(c, 100, DATA);
      c.send(frame(101, PUBLISH, 1, concat(utf8(deep), new byte[] {0})));
      expectAck(c, 101, DATA);
    }
    try (TestBroker open = TestBroker.start(1, l -> Wire.QUIET.accept(
        l.setMaxTopicLevels(Integer.MAX_VALUE).setMaxWildcardLevels(Integer.MAX_VALUE)));
        RawClient c = open.registered(Transport.TCP, "deep")) {
      String deep = repeat("d", "x", 10_000);
      c.send(frame(1, SUBSCRIBE, 1, utf8(repeat("d", "+", 10_000))));
      expectAck(c, 1, OK);
      c.send(frame(2, PUBLISH, 1, concat(utf8(deep), new byte[] {0}, utf8("p"))));
      expectFrame(c, publication("deep", deep, utf8("p"), false));
      expectAck(c, 2, OK);
      assertThat(open.router().stats().closes(CloseReason.INTERNAL_ERROR)).isZero();
    }
    verdict("7");
  }

  // ---------------------------------------------------------------- 8. the smaller ones

  /**
   * Scenario 8 over sockets: an RPC request whose method is invalid UTF-8 gets -32600; a flood of
   * silent sockets (10,050 in the full run) holds at most max_handshakes connections while a new
   * client registers; publish-for needs the p2p right to the receiver.
   */
  @Test
  void theSmallerOnes() throws Exception {
    String n = uniq("small");
    try (RawClient c = tb.registered(Transport.TCP, n)) {
      c.send(frame(1, MESSAGE, 0, concat(utf8(".broker"), new byte[] {0},
          RawClient.hex("01 07 00 00 00 FF FE 00"))));
      assertThat(errorReply(Wire.next(c), -32600)).contains("not valid UTF-8");
    }
    floodSilentSockets(n);
    publishForNeedsP2p();
    verdict("8");
  }

  /**
   * Silent sockets against the defaults (max_handshakes 2,048; past 64 in their handshake,
   * accepts paced at 1,000 a second), then a new client.
   */
  private void floodSilentSockets(String n) throws Exception {
    int silent = FULL ? 10_050 : 3_000;
    ListenerRuntime tcp = null;
    for (ListenerRuntime l : tb.listeners()) {
      if (l.bind().type() == Bind.Type.TCP) {
        tcp = l;
      }
    }
    // plain sockets (a RawClient opens a selector each): the flood costs this JVM little
    List<java.nio.channels.SocketChannel> flood = new ArrayList<>();
    java.net.InetSocketAddress addr = new java.net.InetSocketAddress("127.0.0.1", tb.port());
    ByteBuffer sink = ByteBuffer.allocate(64);
    long maxOpen = 0;
    try {
      long t0 = System.nanoTime();
      for (int i = 0; i < silent; i++) {
        java.nio.channels.SocketChannel ch = java.nio.channels.SocketChannel.open(addr);
        ch.configureBlocking(false);
        flood.add(ch);
        if (i % 500 == 499) {
          // reap what the broker closed, so this JVM stays within its descriptors
          flood.removeIf(ch2 -> closedByBroker(ch2, sink));
          maxOpen = Math.max(maxOpen, tcp.connections());
        }
      }
      double floodMs = ms(t0);
      long r0 = System.nanoTime();
      // the new client waits in the accept queue behind the silent sockets, at handshake_rate
      try (RawClient fresh = tb.raw(Transport.TCP)) {
        assertThat(fresh.handshake(n + "-fresh", 60_000)).isEqualTo(0x01);
        Wire.marker(fresh, n + "-fresh", fresh, n + "-fresh", 1);
      }
      Figures.print("HOSTILE 8 %d silent sockets in %.0f ms: at most %d connections open, %d "
          + "closed for newer ones, accepts paused %d times; a new client registered in %.1f "
          + "ms%n", silent, floodMs, maxOpen,
          tb.router().stats().closes(CloseReason.MAX_HANDSHAKES),
          tb.router().stats().acceptPauses(), ms(r0));
      assertThat(tb.router().stats().acceptPauses()).as("accepts paused").isPositive();
      assertThat(tcp.handshakes()).isLessThanOrEqualTo(
          dev.elbus.config.ListenerOptions.DEFAULT_MAX_HANDSHAKES);
    } finally {
      for (java.nio.channels.SocketChannel ch : flood) {
        ch.close();
      }
      flood.clear(); // the test's own client objects must not count as broker heap
    }
    final ListenerRuntime l = tcp;
    Wire.await(() -> l.handshakes() == 0, 10_000, "handshakes released");
  }

  /** Publish-for against the p2p right, over sockets. */
  private void publishForNeedsP2p() throws Exception {
    AaaPolicy policy = AaaPolicy.builder()
        .client("pub", ClientAcl.builder().p2p(ClientAcl.Rule.only("hmi")).build())
        .client("plc", ClientAcl.ALLOW_ALL).client("hmi", ClientAcl.ALLOW_ALL).build();
    try (TestBroker aaa = TestBroker.start(1, x -> Wire.QUIET.accept(x.setAaa(policy)));
        RawClient pub = aaa.registered(Transport.TCP, "pub");
        RawClient plc = aaa.registered(Transport.UNIX, "plc");
        RawClient hmi = aaa.registered(Transport.UNIX, "hmi")) {
      for (RawClient r : new RawClient[] {plc, hmi}) {
        r.send(frame(1, SUBSCRIBE, 1, utf8("cmd/#")));
        expectAck(r, 1, OK);
      }
      pub.send(frame(2, PUBLISH_FOR, 1, concat(utf8("cmd/go"), new byte[] {0}, utf8("plc"),
          new byte[] {0}, utf8("x"))));
      expectAck(pub, 2, ACCESS);
      pub.send(frame(3, PUBLISH_FOR, 1, concat(utf8("cmd/go"), new byte[] {0}, utf8("hmi"),
          new byte[] {0}, utf8("y"))));
      expectAck(pub, 3, OK);
      expectFrame(hmi, publication("pub", "cmd/go", utf8("y"), false));
      plc.expectSilence(200);
    }
  }

  /** Reads what arrived (the greeting); true, and closed, once the broker has closed it. */
  private static boolean closedByBroker(java.nio.channels.SocketChannel ch, ByteBuffer sink) {
    try {
      int r;
      do {
        sink.clear();
        r = ch.read(sink);
      } while (r > 0);
      if (r < 0) {
        ch.close();
        return true;
      }
      return false;
    } catch (IOException e) {
      try {
        ch.close();
      } catch (IOException ignored) {
        // closing anyway
      }
      return true;
    }
  }

  // ---------------------------------------------------------------- legitimate volume

  /**
   * Hundreds of thousands of plain subscriptions of one client work with the default limits;
   * what a subscription and a trie level cost the heap is printed (the per-client memory bound
   * of docs/reliability.md is made of these figures).
   */
  @Test
  void hundredsOfThousandsOfPlainSubscriptionsWork() throws Exception {
    subscribeMany();
    verdict("subscriptions");
  }

  private void subscribeMany() throws Exception {
    int plain = 300_000;
    String n = uniq("many");
    try (RawClient c = tb.registered(Transport.UNIX, n)) {
      long before = heap();
      long t0 = System.nanoTime();
      int opId = 1;
      for (int base = 0; base < plain; base += 1_000) {
        StringBuilder sb = new StringBuilder();
        for (int i = base; i < base + 1_000; i++) {
          sb.append(i == base ? "" : "\0").append(String.format("%s/area%03d/sensor%07d/value",
              n, i % 1000, i));
        }
        c.send(frame(opId, SUBSCRIBE, 1, utf8(sb.toString())));
        expectAck(c, opId++, OK);
      }
      double subMs = ms(t0);
      long withPlain = heap();
      // wildcard patterns up to max_wildcard_levels: 1,024 patterns of 4 levels
      for (int base = 0; base < 1_024; base += 256) {
        StringBuilder sb = new StringBuilder();
        for (int i = base; i < base + 256; i++) {
          sb.append(i == base ? "" : "\0").append(n).append("/w").append(i).append("/+/#");
        }
        c.send(frame(opId, SUBSCRIBE, 1, utf8(sb.toString())));
        expectAck(c, opId++, OK);
      }
      long withWild = heap();
      String topic = String.format("%s/area%03d/sensor%07d/value", n, 123, 299_123);
      c.send(frame(opId, PUBLISH, 1, concat(utf8(topic), new byte[] {0}, utf8("v"))));
      expectFrame(c, publication(n, topic, utf8("v"), false));
      expectAck(c, opId, OK);
      int length = topic.length();
      Figures.print("HOSTILE subscriptions %d plain subscriptions of %d bytes in %.0f ms: heap "
          + "%.0f bytes per subscription; 1,024 wildcard patterns (4,096 levels): %.0f bytes per "
          + "level%n", plain, length, subMs, (withPlain - before) / (double) plain,
          (withWild - withPlain) / 4096.0);
      assertThat(tb.router().stats().refused(Limit.SUBSCRIPTIONS)
          + tb.router().stats().refused(Limit.SUBSCRIPTION_BYTES)).isZero();
    }
    Wire.awaitUnregistered(tb.broker(), n);
    Wire.await(() -> tb.router().topics().size() < 10, 10_000, "patterns removed");
  }

  // ---------------------------------------------------------------- the healthy client

  /**
   * A client that publishes to its own topic with QoS 1 every 20 ms and times each round trip
   * (publication and ack received), on its own thread.
   */
  static final class Healthy implements AutoCloseable {
    final Transport transport;
    private final RawClient c;
    private final String name;
    private final Thread thread;
    private final List<Double> latencies = new ArrayList<>();
    /** Round trips not counted: they overlapped a collection {@link #heap} forced. */
    volatile int skipped;
    /** JVM uptime (ms) at the start of the slowest round trip counted. */
    private volatile long slowestAtMs;
    private double slowest;
    private volatile boolean stop;
    volatile Throwable failure;

    Healthy(TestBroker tb, Transport t) throws IOException {
      this.transport = t;
      this.name = uniq("healthy-" + t.name().toLowerCase());
      this.c = tb.registered(t, name);
      c.send(frame(1, SUBSCRIBE, 1, utf8(name + "/rt")));
      expectAck(c, 1, OK);
      this.thread = new Thread(this::run, name);
      thread.setDaemon(true);
      thread.start();
    }

    private void run() {
      byte[] payload = utf8("ping");
      byte[] expected = publication(name, name + "/rt", payload, false);
      int op = 2;
      try {
        while (!stop) {
          long gc = FORCED_GC.get();
          long t0 = System.nanoTime();
          c.send(frame(op, PUBLISH, 1, concat(utf8(name + "/rt"), new byte[] {0}, payload)));
          byte[] f1 = Wire.next(c, 10_000);
          byte[] f2 = Wire.next(c, 10_000);
          if (!Arrays.equals(f1, expected) || !Arrays.equals(f2, Wire.ack(op, OK))) {
            throw new AssertionError("round trip " + op + ": " + Wire.shortHex(f1) + " / "
                + Wire.shortHex(f2));
          }
          if (gc % 2 == 0 && FORCED_GC.get() == gc) {
            double ms = (System.nanoTime() - t0) / 1e6;
            synchronized (latencies) {
              latencies.add(ms);
            }
            if (ms > slowest) {
              slowest = ms;
              slowestAtMs = java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime()
                  - (long) ms;
            }
          } else {
            skipped++;
          }
          op++;
          Thread.sleep(20);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (Throwable e) {
        if (!stop) {
          failure = e;
        }
      }
    }

    void stop() throws InterruptedException {
      stop = true;
      thread.join(15_000);
    }

    /** Count, p50, p99, max (ms). */
    double[] stats() {
      double[] l;
      synchronized (latencies) {
        l = latencies.stream().mapToDouble(Double::doubleValue).sorted().toArray();
      }
      if (l.length == 0) {
        return new double[] {0, 0, 0, 0};
      }
      return new double[] {l.length, l[l.length / 2], l[(int) Math.min(l.length - 1,
          Math.ceil(l.length * 0.99) - 1)], l[l.length - 1]};
    }

    @Override
    public void close() throws Exception {
      stop();
      c.close();
    }
  }
}
