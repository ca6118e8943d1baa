package dev.elbus.it.aaa;

import ch.qos.logback.classic.Level;
import dev.elbus.impl.net.ListenerRuntime;
import dev.elbus.impl.routing.CloseReason;
import dev.elbus.support.LeakGate;
import dev.elbus.support.RawClient;
import dev.elbus.support.TestBroker;
import dev.elbus.support.Transport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import static dev.elbus.it.aaa.AaaWire.ACCESS;
import static dev.elbus.it.aaa.AaaWire.EVENT_MS;
import static dev.elbus.it.aaa.AaaWire.OK;
import static dev.elbus.it.aaa.AaaWire.PUBLISH;
import static dev.elbus.it.aaa.AaaWire.SUBSCRIBE;
import static dev.elbus.it.aaa.AaaWire.expectAck;
import static dev.elbus.support.RawClient.utf8;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Hot reload of a watched AAA file on disk (PROTOCOL.md section 11): a changed or removed entry
 * disconnects exactly its clients; a malformed file (syntax error, invalid content) keeps the
 * policy in force, is reported, and disturbs no one; a repaired file applies again. Files are
 * replaced atomically (temporary file + rename) and also rewritten in place.
 *
 * <p>Every wait is on an event (a socket closing, a registration answer, the broker's report of a
 * bad file) with a generous upper bound; nothing asserts how fast a reload is.
 */
@ExtendWith(LeakGate.class)
class AaaHotReloadIT {
  /** Base policy: a may publish only to a/#; the others have every right. */
  static final String V0 = """
      # test policy
      clients:
        a:
          allow_publish_to: ["a/#"]
        b: {}
        c: {}
        sub: {}
      """;
  /** a may also publish to x. */
  static final String V1_A_CHANGED = """
      clients:
        a:
          allow_publish_to: ["a/#", "x"]
        b: {}
        c: {}
        sub: {}
      """;
  /** a is gone. */
  static final String V1_A_REMOVED = """
      clients:
        b: {}
        c: {}
        sub: {}
      """;
  /** Rights of a and b as in V0, written differently; c changed (nobody is connected as c). */
  static final String V0_REWRITTEN = """
      clients:
        sub: {}
        c: {deny_p2p: true}
        b: {allow_publish_to: ["#"]}
        a: {allow_publish_to: ["a/#", "a/#"]}
      """;
  /** YAML syntax error; had it applied, a would have changed and newguy would be admitted. */
  static final String BROKEN_SYNTAX = """
      clients:
        a: {allow_publish_to: ["a/#", "x"
        b: {}
        newguy: {}
      """;
  /** Parses, but c's network is not a CIDR; a changed and newguy added as well. */
  static final String BROKEN_CIDR = """
      clients:
        a: {allow_publish_to: ["a/#", "x"]}
        b: {}
        c: {hosts_allow: [10.0.0/8]}
        sub: {}
        newguy: {}
      """;

  enum Write { ATOMIC, IN_PLACE }

  @TempDir
  Path dir;
  private Path file;
  private TestBroker broker;
  private final List<RawClient> open = new ArrayList<>();

  @AfterEach
  void stop() throws Exception {
    for (RawClient c : open) {
      c.close();
    }
    if (broker != null) {
      broker.close();
    }
  }

  private void start(String policy) throws Exception {
    file = dir.resolve("aaa.yaml");
    AaaWire.writeAtomically(file, policy);
    broker = TestBroker.start(1, l -> l.setAaaFile(file.toString()).setAaaScanPeriodMs(200)
        .setTimeoutMs(60_000));
  }

  private void write(Write how, String text) throws IOException {
    if (how == Write.ATOMIC) {
      AaaWire.writeAtomically(file, text);
    } else {
      AaaWire.writeInPlace(file, text);
    }
  }

  private RawClient connect(Transport t, String name) throws Exception {
    AaaWire.await(() -> broker.router().registry().get(name) == null, EVENT_MS,
        name + " to be unregistered");
    RawClient c = broker.registered(t, name);
    open.add(c);
    return c;
  }

  /** A registration attempt's answer; a refused socket must then be closed. */
  private int register(Transport t, String name) throws Exception {
    AaaWire.await(() -> broker.router().registry().get(name) == null, EVENT_MS,
        name + " to be unregistered");
    RawClient c = broker.raw(t);
    open.add(c);
    int code = c.handshake(name);
    if (code != OK) {
      c.expectClosed(EVENT_MS);
    }
    return code;
  }

  private static void publish(RawClient c, int opId, String topic, int code) throws IOException {
    c.frame(opId, PUBLISH, 1, topic, utf8("x"));
    expectAck(c, opId, code);
  }

  static Stream<Arguments> modes() {
    List<Arguments> out = new ArrayList<>();
    for (Write w : Write.values()) {
      for (Transport t : Transport.values()) {
        out.add(Arguments.of(w, t));
      }
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0} write, {1}")
  @MethodSource("modes")
  void changedEntryDisconnectsOnlyItsClient(Write how, Transport t) throws Exception {
    start(V0);
    RawClient a = connect(t, "a");
    RawClient as = connect(t, "a%%1");
    RawClient b = connect(t, "b");
    publish(a, 1, "x", ACCESS);
    long access = broker.router().stats().closes(CloseReason.ACCESS);

    write(how, V1_A_CHANGED);
    a.expectClosed(EVENT_MS);
    as.expectClosed(EVENT_MS);
    publish(b, 1, "x", OK);
    assertThat(broker.router().registry().get("b")).isNotNull();
    AaaWire.await(() -> broker.router().stats().closes(CloseReason.ACCESS) == access + 2,
        EVENT_MS, "closes(ACCESS) == +2");

    // a comes back with its new rights
    RawClient a2 = connect(t, "a");
    publish(a2, 2, "x", OK);
    publish(a2, 3, "y", ACCESS);
    publish(b, 2, "y", OK);
  }

  @ParameterizedTest(name = "{0} write, {1}")
  @MethodSource("modes")
  void removedEntryDisconnectsAndIsRefused(Write how, Transport t) throws Exception {
    start(V0);
    RawClient a = connect(t, "a");
    RawClient c = connect(t, "c");

    write(how, V1_A_REMOVED);
    a.expectClosed(EVENT_MS);
    assertThat(register(t, "a")).isEqualTo(ACCESS);
    assertThat(register(t, "a%%1")).isEqualTo(ACCESS);
    publish(c, 1, "y", OK);

    // re-admitted once the entry is back
    write(how, V0);
    long deadline = System.nanoTime() + EVENT_MS * 1_000_000;
    int code;
    while ((code = register(t, "a")) != OK && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(code).as("registration of a after its entry came back").isEqualTo(OK);
    publish(c, 2, "y", OK);
  }

  @Test
  void equalPolicyWrittenDifferentlyDisconnectsNobody() throws Exception {
    start(V0);
    RawClient a = connect(Transport.UNIX, "a");
    RawClient b = connect(Transport.TCP, "b");
    try (AaaWire.LogCapture log = new AaaWire.LogCapture("dev.elbus.impl.core.AaaWatcher")) {
      // a and b have equal entries, c (nobody connected as c) changed: the reload is logged
      write(Write.ATOMIC, V0_REWRITTEN);
      AaaWire.await(() -> log.count(Level.INFO, "reloaded", "0 clients disconnected") >= 2,
          EVENT_MS, "both listeners to reload: " + log.dump());
    }
    publish(a, 1, "a/1", OK);
    publish(a, 2, "x", ACCESS);
    publish(b, 1, "x", OK);
  }

  /**
   * Malformed edits while an unaffected client streams QoS 1 publications: the old policy stays in
   * force (clients stay, allowed names still register, denied operations are still denied, names
   * only the bad file lists are refused), the stream loses nothing; the repaired file applies.
   */
  @Test
  void malformedEditsKeepThePolicyAndTheStream() throws Exception {
    start(V0);
    RawClient a = connect(Transport.TCP, "a");
    RawClient b = connect(Transport.UNIX, "b");
    RawClient sub = connect(Transport.UNIX, "sub");
    sub.frame(1, SUBSCRIBE, 1, utf8("stream"));
    expectAck(sub, 1, OK);
    List<String> labels = new ArrayList<>();
    for (ListenerRuntime l : broker.listeners()) {
      labels.add(l.label());
    }

    QosStream stream = new QosStream(b, sub);
    stream.start();
    try (AaaWire.LogCapture log = new AaaWire.LogCapture("dev.elbus.impl.core.AaaWatcher")) {
      stream.awaitProgress(100);

      // 1. a YAML syntax error, written in place
      write(Write.IN_PLACE, BROKEN_SYNTAX);
      for (String label : labels) {
        AaaWire.await(() -> log.count(Level.ERROR, label, file.toString(), "kept") >= 1,
            EVENT_MS, "the broker to report the bad file for " + label + ": " + log.dump());
      }
      oldPolicyStillInForce(a, 10);
      stream.awaitProgress(100);

      // 2. valid YAML with an invalid entry, replaced atomically
      write(Write.ATOMIC, BROKEN_CIDR);
      for (String label : labels) {
        AaaWire.await(() -> log.count(Level.ERROR, label, "clients.c.hosts_allow[0]") >= 1,
            EVENT_MS, "the broker to report the bad entry for " + label + ": " + log.dump());
      }
      oldPolicyStillInForce(a, 20);
      stream.awaitProgress(100);

      // 3. repaired (a changed): applies, a is disconnected, the stream goes on
      write(Write.ATOMIC, V1_A_CHANGED);
      a.expectClosed(EVENT_MS);
      stream.awaitProgress(100);
    }
    int n = stream.finish();
    assertThat(n).isGreaterThan(300);
    RawClient a2 = connect(Transport.TCP, "a");
    publish(a2, 1, "x", OK);
  }

  /**
   * A broken file is reported once per listener and problem, not once per scan, and without the
   * retriever's own stack trace. (The window only makes the check more or less sensitive: a slow
   * machine that scans less often cannot make it fail.)
   */
  @Test
  void brokenFileIsReportedOncePerProblem() throws Exception {
    start(V0);
    RawClient a = connect(Transport.UNIX, "a");
    List<String> labels = new ArrayList<>();
    for (ListenerRuntime l : broker.listeners()) {
      labels.add(l.label());
    }
    try (AaaWire.LogCapture log = new AaaWire.LogCapture("dev.elbus.impl.core.AaaWatcher",
        "io.vertx.config.impl.ConfigRetrieverImpl")) {
      write(Write.IN_PLACE, BROKEN_SYNTAX);
      for (String label : labels) {
        AaaWire.await(() -> log.count(Level.ERROR, label, "line 2, column") >= 1, EVENT_MS,
            "the report for " + label + ": " + log.dump());
      }
      // about six scan periods of a file that stays broken
      long until = System.nanoTime() + 1_200_000_000L;
      while (System.nanoTime() < until) {
        Thread.sleep(50);
      }
      // another problem is reported again, once
      write(Write.ATOMIC, BROKEN_CIDR);
      for (String label : labels) {
        AaaWire.await(() -> log.count(Level.ERROR, label, "clients.c.hosts_allow[0]") >= 1,
            EVENT_MS, "the report for " + label + ": " + log.dump());
      }
      write(Write.ATOMIC, V1_A_CHANGED);
      a.expectClosed(EVENT_MS);
      for (String label : labels) {
        assertThat(log.count(Level.ERROR, label, "line 2, column")).as(log.dump()).isEqualTo(1);
        assertThat(log.count(Level.ERROR, label, "clients.c.hosts_allow[0]")).as(log.dump())
            .isEqualTo(1);
      }
      assertThat(log.count(Level.ERROR)).as(log.dump()).isEqualTo(2L * labels.size());
    }
  }

  /** A deleted file (e.g. mid-way through an editor's save) keeps the policy; it is reported. */
  @Test
  void deletedFileKeepsThePolicy() throws Exception {
    start(V0);
    RawClient a = connect(Transport.TCP, "a");
    try (AaaWire.LogCapture log = new AaaWire.LogCapture("dev.elbus.impl.core.AaaWatcher")) {
      java.nio.file.Files.delete(file);
      AaaWire.await(() -> log.count(Level.ERROR, "cannot read: no such file") >= 2, EVENT_MS,
          "both listeners to report the missing file: " + log.dump());
    }
    publish(a, 1, "a/1", OK);
    publish(a, 2, "x", ACCESS);
    assertThat(register(Transport.UNIX, "newguy")).isEqualTo(ACCESS);
    assertThat(register(Transport.TCP, "c")).isEqualTo(OK);
    // back, changed: applies
    write(Write.ATOMIC, V1_A_CHANGED);
    a.expectClosed(EVENT_MS);
  }

  private void oldPolicyStillInForce(RawClient a, int op) throws Exception {
    publish(a, op, "a/ok", OK);
    publish(a, op + 1, "x", ACCESS);
    RawClient c = connect(Transport.TCP, "c");
    publish(c, 1, "x", OK);
    c.close();
    assertThat(register(Transport.TCP, "newguy")).isEqualTo(ACCESS);
    assertThat(register(Transport.UNIX, "newguy")).isEqualTo(ACCESS);
  }

  /**
   * {@code from} publishes QoS 1 to {@code stream} as fast as acks come back, checking each ack;
   * {@code to} (subscribed) checks every publication arrives once, in order.
   */
  static final class QosStream {
    private final RawClient from;
    private final RawClient to;
    private final AtomicInteger sent = new AtomicInteger();
    private final AtomicInteger received = new AtomicInteger();
    private final AtomicReference<Throwable> error = new AtomicReference<>();
    private volatile boolean stop;
    private Thread pub;
    private Thread rcv;

    QosStream(RawClient from, RawClient to) {
      this.from = from;
      this.to = to;
    }

    private static final byte[] END = utf8("end");

    static byte[] payload(int i) {
      return utf8("seq " + i);
    }

    void start() {
      pub = new Thread(() -> {
        try {
          for (int i = 1; !stop; i++) {
            from.frame(i, PUBLISH, 1, "stream", payload(i));
            expectAck(from, i, OK);
            sent.set(i);
          }
        } catch (Throwable e) {
          error.compareAndSet(null, e);
        }
      }, "qos1-publisher");
      rcv = new Thread(() -> {
        try {
          byte[] end = AaaWire.publication("b", "stream", END);
          for (int i = 1; ; i++) {
            byte[] f = AaaWire.next(to, EVENT_MS);
            if (java.util.Arrays.equals(f, end)) {
              return;
            }
            byte[] want = AaaWire.publication("b", "stream", payload(i));
            if (!java.util.Arrays.equals(f, want)) {
              throw new AssertionError("publication " + i + ": expected " + AaaWire.hex(want)
                  + " but got " + AaaWire.hex(f));
            }
            received.set(i);
          }
        } catch (Throwable e) {
          error.compareAndSet(null, e);
        }
      }, "qos1-subscriber");
      pub.start();
      rcv.start();
    }

    /** Waits until {@code more} further publications were acked. */
    void awaitProgress(int more) throws InterruptedException {
      int target = sent.get() + more;
      AaaWire.await(() -> sent.get() >= target || error.get() != null, EVENT_MS,
          "the QoS 1 stream to make progress");
      check();
    }

    /** Stops publishing; every acked publication must have been delivered. */
    int finish() throws Exception {
      stop = true;
      pub.join(EVENT_MS);
      from.frame(0, PUBLISH, 0, "stream", END);
      rcv.join(EVENT_MS);
      check();
      assertThat(pub.isAlive() || rcv.isAlive()).as("stream threads finished").isFalse();
      assertThat(received.get()).as("publications delivered").isEqualTo(sent.get());
      return sent.get();
    }

    private void check() {
      if (error.get() != null) {
        throw new AssertionError("QoS 1 stream failed after " + sent.get() + " acks, "
            + received.get() + " deliveries", error.get());
      }
    }
  }
}
