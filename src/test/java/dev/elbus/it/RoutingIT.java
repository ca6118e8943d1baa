package dev.elbus.it;

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
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static dev.elbus.it.Wire.BROADCAST;
import static dev.elbus.it.Wire.MESSAGE;
import static dev.elbus.it.Wire.NOT_REGISTERED;
import static dev.elbus.it.Wire.OK;
import static dev.elbus.it.Wire.PUBLISH;
import static dev.elbus.it.Wire.SUBSCRIBE;
import static dev.elbus.it.Wire.UNSUBSCRIBE;
import static dev.elbus.it.Wire.clientFrame;
import static dev.elbus.it.Wire.expectAck;
import static dev.elbus.it.Wire.expectFrame;
import static dev.elbus.it.Wire.marker;
import static dev.elbus.it.Wire.topicsBody;
import static dev.elbus.it.Wire.uniq;
import static dev.elbus.support.RawClient.concat;
import static dev.elbus.support.RawClient.utf8;
import static org.assertj.core.api.Assertions.assertThat;

/** PROTOCOL.md sections 2, 3 and 5 over real sockets: what each receiver gets, byte for byte. */
@ExtendWith(LeakGate.class)
class RoutingIT {
  private static TestBroker tb;

  @BeforeAll
  static void start() throws Exception {
    tb = TestBroker.start(1, Wire.QUIET);
  }

  @AfterAll
  static void stop() throws Exception {
    tb.close();
  }

  /** Subscribes {@code c} with QoS 1 and waits for the ack, so the subscription is in place. */
  private static void subscribe(RawClient c, int opId, String... topics) throws IOException {
    c.send(clientFrame(opId, SUBSCRIBE, 1, topicsBody(topics)));
    expectAck(c, opId, OK);
  }

  private static void unsubscribe(RawClient c, int opId, String... topics) throws IOException {
    c.send(clientFrame(opId, UNSUBSCRIBE, 1, topicsBody(topics)));
    expectAck(c, opId, OK);
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void directMessageIsByteExactWithAcksPerQos(Transport t) throws Exception {
    String an = uniq("dm-a");
    String bn = uniq("dm-b");
    try (RawClient a = tb.registered(t, an); RawClient b = tb.registered(t, bn)) {
      for (int qos = 0; qos < 4; qos++) {
        byte[] payload = concat(utf8("qos" + qos + " "), new byte[] {0, 1, (byte) 0xFF, 0});
        a.frame(0x01020300 + qos, MESSAGE, qos, bn, payload);
        // the exact frame: 12 <len u32> <realtime> sender 00 payload
        byte[] expected = concat(RawClient.bytes(0x12),
            RawClient.le32(an.length() + 1 + payload.length), RawClient.bytes(qos >= 2 ? 1 : 0),
            utf8(an), new byte[] {0}, payload);
        b.expect(expected);
        if ((qos & 1) != 0) {
          a.expect(concat(RawClient.bytes(0xFE), RawClient.le32(0x01020300 + qos),
              RawClient.bytes(0x01)));
        }
      }
      // no ack was sent for QoS 0 and 2: the next thing a gets is the marker's ack
      marker(a, an, b, bn, 77);
      a.expectSilence(100);
      b.expectSilence(100);
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void messageToUnknownTargetIsNotRegistered(Transport t) throws Exception {
    String an = uniq("unk-a");
    String bn = uniq("unk-b");
    try (RawClient a = tb.registered(t, an); RawClient b = tb.registered(t, bn)) {
      a.frame(1, MESSAGE, 1, "nobody-" + an, utf8("x"));
      expectAck(a, 1, NOT_REGISTERED);
      a.frame(2, MESSAGE, 3, "nobody-" + an, utf8("x"));
      expectAck(a, 2, NOT_REGISTERED);
      a.frame(3, MESSAGE, 0, "nobody-" + an, utf8("x"));
      // a name differing only by case or a prefix is another name
      a.frame(4, MESSAGE, 1, bn.toUpperCase(), utf8("x"));
      expectAck(a, 4, NOT_REGISTERED);
      a.frame(5, MESSAGE, 1, bn.substring(0, bn.length() - 1), utf8("x"));
      expectAck(a, 5, NOT_REGISTERED);
      marker(a, an, b, bn, 6);
      b.expectSilence(100);
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void broadcastMasks(Transport t) throws Exception {
    String ns = uniq("bc");
    List<String> names = List.of(ns + ".g1.test.client1", ns + ".g1.test.sub.client2",
        ns + ".g2.other", ns + ".g1");
    String sn = ns + ".sender";
    Map<String, RawClient> clients = new LinkedHashMap<>();
    try (RawClient s = tb.registered(t, sn)) {
      try {
        for (String n : names) {
          clients.put(n, tb.registered(t, n));
        }
        // mask -> the receivers (sender included when it matches)
        Map<String, List<String>> cases = new LinkedHashMap<>();
        cases.put(ns + ".?.test.*", List.of(names.get(0), names.get(1)));
        cases.put(ns + ".*", List.of(names.get(0), names.get(1), names.get(2), names.get(3), sn));
        cases.put(ns + ".g1.test.client1", List.of(names.get(0)));
        cases.put(ns + ".?", List.of(names.get(3), sn));
        cases.put(ns + ".g1.*.client1", List.of(names.get(0), names.get(1))); // as ns.g1.*
        cases.put(ns + ".?.?", List.of(names.get(2)));
        cases.put(ns + ".?.test.?", List.of(names.get(0)));
        cases.put(ns + ".g1.test", List.of()); // literal, nobody has that exact name
        cases.put(ns + ".nobody.*", List.of());
        cases.put("*", List.of(names.get(0), names.get(1), names.get(2), names.get(3), sn));
        Map<String, List<byte[]>> expected = new LinkedHashMap<>();
        for (String n : names) {
          expected.put(n, new ArrayList<>());
        }
        int op = 100;
        for (Map.Entry<String, List<String>> e : cases.entrySet()) {
          byte[] payload = utf8("mask " + e.getKey());
          s.frame(++op, BROADCAST, 1, e.getKey(), payload);
          byte[] frame = Wire.broadcast(sn, payload, false);
          if (e.getValue().contains(sn)) {
            expectFrame(s, frame);
          }
          expectAck(s, op, OK); // 01 even when nothing matched
          for (String r : e.getValue()) {
            if (!r.equals(sn)) {
              expected.get(r).add(frame);
            }
          }
        }
        // QoS 2 (realtime, no ack) to one client
        byte[] rt = utf8("realtime");
        s.frame(++op, BROADCAST, 2, names.get(2), rt);
        expected.get(names.get(2)).add(Wire.broadcast(sn, rt, true));
        for (String n : names) {
          RawClient c = clients.get(n);
          for (byte[] f : expected.get(n)) {
            expectFrame(c, f);
          }
          marker(s, sn, c, n, ++op); // nothing else was delivered to n
        }
      } finally {
        for (RawClient c : clients.values()) {
          c.close();
        }
      }
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void publishSubscribeWildcards(Transport t) throws Exception {
    String ns = uniq("ps");
    String pn = ns + "-pub";
    // subscriber -> its pattern
    Map<String, String> subs = new LinkedHashMap<>();
    subs.put(ns + "-s1", ns + "/+/topic/#");
    subs.put(ns + "-s2", ns + "/a/#");
    subs.put(ns + "-s3", ns + "/+");
    subs.put(ns + "-s4", ns + "/a/#/b"); // behaves as ns/a/#
    subs.put(ns + "-s5", ns + "/a/+/c");
    subs.put(ns + "-s6", "#");
    String[] topics = {ns + "/x/topic/event", ns + "/x/topic/sub/event", ns + "/x/topic",
        ns + "/x/y/topic/event", ns + "/a", ns + "/a/b", ns + "/a/b/c", ns + "/", ns + "/+",
        ns + "/a/x/c", ns + "//topic/e", ns, "/" + ns + "/a/b"};
    Map<String, RawClient> clients = new LinkedHashMap<>();
    try (RawClient p = tb.registered(t, pn)) {
      try {
        int op = 0;
        for (Map.Entry<String, String> e : subs.entrySet()) {
          RawClient c = tb.registered(t, e.getKey());
          clients.put(e.getKey(), c);
          subscribe(c, ++op, e.getValue());
        }
        Map<String, List<byte[]>> expected = new LinkedHashMap<>();
        for (String n : subs.keySet()) {
          expected.put(n, new ArrayList<>());
        }
        for (String topic : topics) {
          byte[] payload = utf8("payload of " + topic);
          p.frame(++op, PUBLISH, 1, topic, payload);
          expectAck(p, op, OK); // also when nobody is subscribed
          for (Map.Entry<String, String> e : subs.entrySet()) {
            if (matches(e.getValue(), topic)) {
              expected.get(e.getKey()).add(Wire.publication(pn, topic, payload, false));
            }
          }
        }
        // spot-check the table above against the spec's own examples
        // x/topic/event, x/topic/sub/event, //topic/e
        assertThat(expected.get(ns + "-s1")).hasSize(3);
        assertThat(expected.get(ns + "-s2")).hasSize(3); // a/b, a/b/c, a/x/c; not a
        assertThat(expected.get(ns + "-s3")).hasSize(3); // a, "", "+"
        assertThat(expected.get(ns + "-s6")).hasSize(topics.length);
        for (Map.Entry<String, RawClient> e : clients.entrySet()) {
          for (byte[] f : expected.get(e.getKey())) {
            expectFrame(e.getValue(), f);
          }
          marker(p, pn, e.getValue(), e.getKey(), ++op);
        }
      } finally {
        for (RawClient c : clients.values()) {
          c.close();
        }
      }
    }
  }

  /** The spec's topic rules, written independently of the broker's Masks class. */
  private static boolean matches(String pattern, String topic) {
    String[] p = pattern.split("/", -1);
    String[] s = topic.split("/", -1);
    for (int i = 0; i < p.length; i++) {
      if (p[i].equals("#")) {
        return s.length > i;
      }
      if (i >= s.length || (!p[i].equals("+") && !p[i].equals(s[i]))) {
        return false;
      }
    }
    return p.length == s.length;
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void oneDeliveryPerSubscriberAndPublisherGetsItsOwn(Transport t) throws Exception {
    String ns = uniq("once");
    String pn = ns + "-pub";
    String sn = ns + "-sub";
    try (RawClient p = tb.registered(t, pn); RawClient s = tb.registered(t, sn)) {
      subscribe(s, 1, ns + "/a/+", ns + "/#", ns + "/a/b", "+/a/b", ns + "/+/b");
      subscribe(p, 2, ns + "/a/b", ns + "/a/#");
      byte[] payload = utf8("once");
      p.frame(3, PUBLISH, 1, ns + "/a/b", payload);
      byte[] f = Wire.publication(pn, ns + "/a/b", payload, false);
      expectFrame(p, f); // its own publication, before the ack
      expectAck(p, 3, OK);
      expectFrame(s, f);
      marker(p, pn, s, sn, 4);
      // realtime publication: realtime byte 1, no ack for QoS 2
      p.frame(5, PUBLISH, 2, ns + "/a/b", payload);
      byte[] rf = Wire.publication(pn, ns + "/a/b", payload, true);
      expectFrame(p, rf);
      expectFrame(s, rf);
      marker(p, pn, s, sn, 6);
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void multiTopicSubscribeAndUnsubscribeNeedsTheIdenticalPattern(Transport t) throws Exception {
    String ns = uniq("mt");
    String pn = ns + "-pub";
    String sn = ns + "-sub";
    String t1 = ns + "/t1";
    String t2 = ns + "/t2";
    String t3 = ns + "/t3/x";
    try (RawClient p = tb.registered(t, pn); RawClient s = tb.registered(t, sn)) {
      subscribe(s, 1, t1, t2, ns + "/t3/#");
      int op = 10;
      List<String> got = new ArrayList<>();
      for (int round = 0; round < 4; round++) {
        switch (round) {
          case 1:
            // not the identical pattern (and an unknown topic): nothing changes
            unsubscribe(s, ++op, ns + "/t3/+", ns + "/t1/#", ns + "/unknown", ns + "/t3/x");
            break;
          case 2:
            unsubscribe(s, ++op, t1, ns + "/t3/#");
            break;
          case 3:
            // subscribing twice is one subscription: one unsubscribe removes it
            subscribe(s, ++op, t1);
            subscribe(s, ++op, t1);
            unsubscribe(s, ++op, t1);
            break;
          default:
            break;
        }
        got.add(round + ":");
        // publish to each topic, then a marker: collect what arrives before the marker
        for (String topic : new String[] {t1, t2, t3}) {
          p.frame(++op, PUBLISH, 0, topic, utf8(topic));
        }
        int mop = ++op;
        byte[] mp = utf8("marker-" + mop);
        p.frame(mop, MESSAGE, 1, sn, mp);
        expectAck(p, mop, OK);
        while (true) {
          byte[] f = Wire.next(s);
          if (java.util.Arrays.equals(f, Wire.message(pn, mp, false))) {
            break;
          }
          boolean known = false;
          for (String topic : new String[] {t1, t2, t3}) {
            if (java.util.Arrays.equals(f, Wire.publication(pn, topic, utf8(topic), false))) {
              got.add(topic.substring(ns.length() + 1));
              known = true;
            }
          }
          assertThat(known).as("unexpected frame %s", Wire.hex(f)).isTrue();
        }
      }
      assertThat(got).containsExactly("0:", "t1", "t2", "t3/x", "1:", "t1", "t2", "t3/x",
          "2:", "t2", "3:", "t2");
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void emptyPayloadsAndEmptyTopic(Transport t) throws Exception {
    String an = uniq("empty-a");
    String bn = uniq("empty-b");
    try (RawClient a = tb.registered(t, an); RawClient b = tb.registered(t, bn)) {
      byte[] none = new byte[0];
      a.frame(1, MESSAGE, 1, bn, none);
      expectAck(a, 1, OK);
      b.expect(concat(RawClient.bytes(0x12), RawClient.le32(an.length() + 1), RawClient.bytes(0),
          utf8(an), new byte[] {0}));
      a.frame(2, BROADCAST, 1, bn, none);
      expectAck(a, 2, OK);
      expectFrame(b, Wire.broadcast(an, none, false));
      String topic = an + "/e";
      subscribe(b, 3, topic);
      a.frame(4, PUBLISH, 1, topic, none);
      expectAck(a, 4, OK);
      expectFrame(b, Wire.publication(an, topic, none, false));
      // an empty subscribe body is the empty topic ""
      b.frame(5, SUBSCRIBE, 1, new byte[0]);
      expectAck(b, 5, OK);
      a.frame(6, PUBLISH, 1, "", none);
      expectAck(a, 6, OK);
      b.expect(concat(RawClient.bytes(0x01), RawClient.le32(an.length() + 2), RawClient.bytes(0),
          utf8(an), new byte[] {0, 0}));
      b.frame(7, UNSUBSCRIBE, 1, new byte[0]);
      expectAck(b, 7, OK);
      marker(a, an, b, bn, 8);
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void everyClientIsSubscribedToBrokerWarn(Transport t) throws Exception {
    String an = uniq("warn-a");
    String bn = uniq("warn-b");
    Transport other = t == Transport.TCP ? Transport.UNIX : Transport.TCP;
    try (RawClient a = tb.registered(t, an); RawClient b = tb.registered(other, bn)) {
      byte[] payload = utf8("warning");
      b.frame(1, PUBLISH, 1, ".broker/warn", payload);
      byte[] f = Wire.publication(bn, ".broker/warn", payload, false);
      expectFrame(b, f);
      expectAck(b, 1, OK);
      expectFrame(a, f);
      // and unsubscribing from it works like any other subscription
      unsubscribe(a, 2, ".broker/warn");
      b.frame(3, PUBLISH, 1, ".broker/warn", payload);
      expectFrame(b, f);
      expectAck(b, 3, OK);
      marker(b, bn, a, an, 4);
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void perSenderOrderingOf100kMessages(Transport t) throws Exception {
    final int n = 100_000;
    final int window = 4_000; // < queue_size: the test, not the broker, paces the sender
    final int batch = 500;
    String an = uniq("ord-a");
    String bn = uniq("ord-b");
    try (RawClient a = tb.registered(t, an); RawClient b = tb.registered(t, bn)) {
      AtomicLong received = new AtomicLong();
      AtomicReference<Throwable> writerError = new AtomicReference<>();
      Thread writer = new Thread(() -> {
        try {
          byte[] target = utf8(bn);
          int frameLen = 9 + target.length + 1 + 4;
          for (int i = 0; i < n; i += batch) {
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (i - received.get() > window) {
              if (System.nanoTime() > deadline) {
                throw new IOException("receiver stalled at " + received.get());
              }
              Thread.sleep(1);
            }
            ByteBuffer buf = ByteBuffer.allocate(batch * frameLen).order(ByteOrder.LITTLE_ENDIAN);
            for (int k = i; k < i + batch; k++) {
              buf.putInt(k).put((byte) MESSAGE).putInt(target.length + 1 + 4).put(target)
                  .put((byte) 0).putInt(k);
            }
            a.send(buf.array());
          }
          // then a QoS 1 frame to sync
          a.send(clientFrame(-1, MESSAGE, 1, bn, utf8("sync")));
        } catch (Throwable e) {
          writerError.set(e);
        }
      }, "ordering-writer");
      writer.start();
      byte[] sender = utf8(an);
      int inLen = 6 + sender.length + 1 + 4;
      int chunk = 1_000;
      for (int i = 0; i < n; i += chunk) {
        byte[] got;
        try {
          got = b.read(chunk * inLen, 20_000);
        } catch (IOException e) {
          throw new AssertionError("at frame " + i + " (writer: " + writerError.get() + ")", e);
        }
        ByteBuffer in = ByteBuffer.wrap(got).order(ByteOrder.LITTLE_ENDIAN);
        for (int k = i; k < i + chunk; k++) {
          int off = (k - i) * inLen;
          // plain checks: an assertion object per frame would dominate the runtime
          if (got[off] != 0x12 || in.getInt(off + 1) != sender.length + 1 + 4 || got[off + 5] != 0
              || in.getInt(off + inLen - 4) != k) {
            throw new AssertionError("frame " + k + " out of order or malformed: "
                + Wire.hex(java.util.Arrays.copyOfRange(got, off, off + inLen)));
          }
        }
        received.addAndGet(chunk);
      }
      writer.join(30_000);
      assertThat(writerError.get()).isNull();
      expectFrame(b, Wire.message(an, utf8("sync"), false));
      expectAck(a, -1, OK);
      b.expectSilence(50);
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void largePayloadsAreDeliveredIntact(Transport t) throws Exception {
    String an = uniq("big-a");
    String bn = uniq("big-b");
    byte[] payload = new byte[1 << 20];
    new Random(42).nextBytes(payload);
    try (RawClient a = tb.registered(t, an); RawClient b = tb.registered(t, bn)) {
      a.frame(1, MESSAGE, 1, bn, payload);
      expectAck(a, 1, OK);
      expectFrame(b, Wire.message(an, payload, false));
      subscribe(b, 2, an + "/big");
      a.frame(3, PUBLISH, 3, an + "/big", payload);
      expectAck(a, 3, OK);
      expectFrame(b, Wire.publication(an, an + "/big", payload, true));
      // a payload just above and at the copy/slice boundaries, in one write
      byte[] p4k = java.util.Arrays.copyOf(payload, 4096);
      byte[] p4k1 = java.util.Arrays.copyOf(payload, 4097);
      a.send(concat(clientFrame(4, MESSAGE, 0, bn, p4k), clientFrame(5, MESSAGE, 0, bn, p4k1)));
      expectFrame(b, Wire.message(an, p4k, false));
      expectFrame(b, Wire.message(an, p4k1, false));
      marker(a, an, b, bn, 6);
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void frameOfExactlyMaxFrameSizeIsDeliveredIntact(Transport t) throws Exception {
    final int max = 100_000;
    try (TestBroker b2 = TestBroker.start(1, l -> Wire.QUIET.andThen(x -> x.setMaxFrameSize(max))
        .accept(l))) {
      String an = "max-a";
      String bn = "max-b";
      try (RawClient a = b2.registered(t, an); RawClient b = b2.registered(t, bn)) {
        byte[] payload = new byte[max - bn.length() - 1];
        new Random(7).nextBytes(payload);
        byte[] frame = clientFrame(1, MESSAGE, 1, bn, payload);
        assertThat(frame.length).isEqualTo(9 + max);
        a.send(frame);
        expectAck(a, 1, OK);
        expectFrame(b, Wire.message(an, payload, false));
        // the same as a publication, split in two writes
        subscribe(b, 2, "t");
        byte[] ppayload = java.util.Arrays.copyOf(payload, max - 2);
        byte[] pf = clientFrame(3, PUBLISH, 1, "t", ppayload);
        a.send(java.util.Arrays.copyOf(pf, 50_000));
        a.send(java.util.Arrays.copyOfRange(pf, 50_000, pf.length));
        expectAck(a, 3, OK);
        expectFrame(b, Wire.publication(an, "t", ppayload, false));
        marker(a, an, b, bn, 4);
      }
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void framesSplitAcrossManyWrites(Transport t) throws Exception {
    String an = uniq("split-a");
    String bn = uniq("split-b");
    try (RawClient a = tb.registered(t, an); RawClient b = tb.registered(t, bn)) {
      subscribe(b, 1, an + "/s");
      byte[] all = concat(
          clientFrame(2, MESSAGE, 1, bn, utf8("one")),
          new byte[9], // a client ping
          clientFrame(3, PUBLISH, 1, an + "/s", utf8("two")),
          clientFrame(4, MESSAGE, 3, bn, new byte[0]),
          clientFrame(5, BROADCAST, 1, bn, utf8("four")));
      for (byte x : all) {
        a.send(new byte[] {x});
        Thread.sleep(1);
      }
      expectAck(a, 2, OK);
      expectAck(a, 3, OK);
      expectAck(a, 4, OK);
      expectAck(a, 5, OK);
      expectFrame(b, Wire.message(an, utf8("one"), false));
      expectFrame(b, Wire.publication(an, an + "/s", utf8("two"), false));
      expectFrame(b, Wire.message(an, new byte[0], true));
      expectFrame(b, Wire.broadcast(an, utf8("four"), false));
      // split at every position of a two-frame stream: first half, pause, second half
      byte[] two = concat(clientFrame(6, MESSAGE, 1, bn, utf8("x")),
          clientFrame(7, MESSAGE, 1, bn, utf8("y")));
      int op = 8;
      for (int cut = 1; cut < two.length; cut += 3) {
        a.send(java.util.Arrays.copyOf(two, cut));
        Thread.sleep(2);
        a.send(java.util.Arrays.copyOfRange(two, cut, two.length));
        expectAck(a, 6, OK);
        expectAck(a, 7, OK);
        expectFrame(b, Wire.message(an, utf8("x"), false));
        expectFrame(b, Wire.message(an, utf8("y"), false));
      }
      marker(a, an, b, bn, op);
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void manyFramesInOneWrite(Transport t) throws Exception {
    String an = uniq("many-a");
    String bn = uniq("many-b");
    final int n = 2_000;
    try (RawClient a = tb.registered(t, an); RawClient b = tb.registered(t, bn)) {
      subscribe(b, -5, an + "/m");
      java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
      for (int i = 0; i < n; i++) {
        byte[] p = utf8("m" + i);
        out.write(i % 2 == 0 ? clientFrame(i, MESSAGE, 1, bn, p)
            : clientFrame(i, PUBLISH, 1, an + "/m", p));
        if (i % 100 == 0) {
          out.write(new byte[9]); // pings in between
        }
      }
      a.send(out.toByteArray());
      for (int i = 0; i < n; i++) {
        byte[] p = utf8("m" + i);
        expectFrame(b, i % 2 == 0 ? Wire.message(an, p, false)
            : Wire.publication(an, an + "/m", p, false));
      }
      for (int i = 0; i < n; i++) {
        expectAck(a, i, OK);
      }
      marker(a, an, b, bn, n);
    }
  }
}
