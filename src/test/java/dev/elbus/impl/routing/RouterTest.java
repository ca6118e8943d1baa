package dev.elbus.impl.routing;

import dev.elbus.aaa.AccessRights;
import dev.elbus.impl.codec.FrameEncoder;
import dev.elbus.protocol.Protocol;
import dev.elbus.support.LeakGate;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** Routing of messages, broadcasts and publications, registration and counters (no sockets). */
@ExtendWith(LeakGate.class)
class RouterTest {
  private final ClientRegistry registry = new ClientRegistry();
  private final TopicIndex topics = new TopicIndex();
  private final BrokerStats stats = new BrokerStats();
  private final Router router = new Router(registry, topics, stats,
      UnpooledByteBufAllocator.DEFAULT);
  private final List<TestSession> sessions = new ArrayList<>();
  private final List<ByteBuf> sources = new ArrayList<>();
  private final List<String> announcements = new ArrayList<>();

  RouterTest() {
    router.registrationListener((s, reg) -> announcements.add((reg ? "reg " : "unreg ") + s.name()));
  }

  private TestSession session(String name) {
    TestSession s = new TestSession(name);
    s.unregisterOnDisconnect = router;
    sessions.add(s);
    return s;
  }

  private TestSession registered(String name) {
    TestSession s = session(name);
    assertThat(router.register(s)).isEqualTo(Protocol.RESPONSE_OK);
    return s;
  }

  /** A read buffer holding {@code body} after some unrelated bytes (as in a real read). */
  private ByteBuf src(byte[] body) {
    ByteBuf b = UnpooledByteBufAllocator.DEFAULT.heapBuffer(body.length + 16);
    b.writeBytes(new byte[] {9, 9, 9, 9, 9, 9, 9, 9, 9}).writeBytes(body).writeByte(7);
    b.skipBytes(9);
    sources.add(b);
    return b;
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** A broker frame written out by hand: type, u32 LE body length, realtime byte, body. */
  private static byte[] frame(int type, boolean realtime, byte[]... body) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int len = 0;
    for (byte[] p : body) {
      len += p.length;
    }
    b.write(type);
    b.write(len);
    b.write(len >>> 8);
    b.write(len >>> 16);
    b.write(len >>> 24);
    b.write(realtime ? 1 : 0);
    for (byte[] p : body) {
      b.write(p, 0, p.length);
    }
    return b.toByteArray();
  }

  @AfterEach
  void everythingReleased() {
    for (ByteBuf s : sources) {
      assertThat(s.refCnt()).as("read buffer back to its single owner").isEqualTo(1);
      s.release();
    }
    for (TestSession s : sessions) {
      assertThat(s.allReleased()).as("frames handed to %s released", s.name()).isTrue();
    }
  }

  // ------------------------------------------------------------------ publish

  private int publish(Session from, String topic, byte[] payload, boolean realtime) {
    byte[] body = concat(ascii(topic + "\0"), payload);
    ByteBuf src = src(body);
    return router.publish(from, topic, src, src.readerIndex(), body.length, realtime, body.length);
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] c = new byte[a.length + b.length];
    System.arraycopy(a, 0, c, 0, a.length);
    System.arraycopy(b, 0, c, a.length, b.length);
    return c;
  }

  @Test
  void publicationReachesEachMatchingSubscriberOnceWithTheExactBytes() {
    TestSession a = registered("a");
    TestSession b = registered("b");
    TestSession c = registered("c");
    TestSession pub = registered("pub");
    for (String p : new String[] {"x/+", "x/#", "x/y", "+/+"}) {
      router.subscribe(a, p);
    }
    router.subscribe(b, "#");
    router.subscribe(c, "x/z");
    router.subscribe(pub, "+/y"); // the publisher receives its own publication

    assertThat(publish(pub, "x/y", ascii("PAYLOAD"), true)).isEqualTo(Protocol.RESPONSE_OK);

    byte[] expected = frame(0x01, true, ascii("pub\0x/y\0PAYLOAD"));
    for (TestSession s : List.of(a, b, pub)) {
      assertThat(s.frames).as(s.name()).hasSize(1);
      assertThat(s.frames.get(0)).as(s.name()).isEqualTo(expected);
      assertThat(s.realtime).containsExactly(true);
    }
    assertThat(c.frames).isEmpty();
  }

  @Test
  void publicationCounters() {
    List<TestSession> subs = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      TestSession s = registered("s" + i);
      router.subscribe(s, "t/+");
      router.subscribe(s, "t/#");
      subs.add(s);
    }
    TestSession other = registered("other");
    TestSession pub = registered("pub");
    byte[] payload = new byte[100];
    publish(pub, "t/1", payload, false);
    int bodyLen = "t/1\0".length() + 100;
    assertThat(stats.wFrames()).isEqualTo(5);
    assertThat(stats.wBytes()).isEqualTo(5L * bodyLen);
    for (TestSession s : subs) {
      assertThat(s.wFrames()).isEqualTo(1);
      assertThat(s.wBytes()).isEqualTo(bodyLen);
    }
    assertThat(other.wFrames()).isZero();
    assertThat(pub.wFrames()).isZero();
    assertThat(pub.rFrames()).as("reads are counted by the connection, not the router").isZero();
    assertThat(stats.rFrames()).isZero();
  }

  @Test
  void publicationWithoutSubscribersIsOk() {
    TestSession pub = registered("pub");
    assertThat(publish(pub, "nobody/listens", ascii("x"), false)).isEqualTo(Protocol.RESPONSE_OK);
    assertThat(pub.frames).isEmpty();
    assertThat(stats.wFrames()).isZero();
  }

  @Test
  void largePublicationSharesTheReadBufferAndReleasesIt() {
    TestSession a = registered("a");
    TestSession b = registered("b");
    router.subscribe(a, "big");
    router.subscribe(b, "big");
    byte[] payload = new byte[FrameEncoder.COPY_THRESHOLD * 3];
    new Random(1).nextBytes(payload);
    publish(a, "big", payload, false);
    byte[] expected = frame(0x01, false, ascii("a\0big\0"), payload);
    assertThat(a.frames).containsExactly(expected);
    assertThat(b.frames).containsExactly(expected);
    // everythingReleased: the source is back to refCnt 1 and every frame is released
  }

  @Test
  void subscriberThatCannotTakeTheFrameIsNotCounted() {
    TestSession a = registered("a");
    TestSession slow = registered("slow");
    router.subscribe(a, "t");
    router.subscribe(slow, "t");
    slow.result = Protocol.ERR_NOT_DELIVERED;
    assertThat(publish(a, "t", ascii("p"), false)).isEqualTo(Protocol.RESPONSE_OK);
    assertThat(a.frames).hasSize(1);
    assertThat(slow.handed).hasSize(1);
    assertThat(slow.wFrames()).isZero();
    assertThat(stats.wFrames()).isEqualTo(1);
  }

  @Test
  void wildcardCharactersInAPublishedTopicArePlain() {
    TestSession exact = registered("exact");
    TestSession literal = registered("literal");
    router.subscribe(exact, "a/b");
    router.subscribe(literal, "a/+");
    publish(exact, "a/+", ascii(""), false);
    assertThat(exact.frames).isEmpty();
    assertThat(literal.frames).containsExactly(frame(0x01, false, ascii("exact\0a/+\0")));
  }

  // ------------------------------------------------------------------ direct messages

  private int message(Session from, String target, byte[] payload, boolean realtime) {
    byte[] body = concat(ascii(target + "\0"), payload);
    ByteBuf src = src(body);
    int t = target.getBytes(StandardCharsets.UTF_8).length + 1;
    return router.message(from, target, src, src.readerIndex() + t, payload.length, realtime,
        body.length);
  }

  @Test
  void directMessage() {
    TestSession from = registered("from");
    TestSession to = registered("to");
    TestSession sec = registered("to%%1");
    assertThat(message(from, "to", ascii("hi"), false)).isEqualTo(Protocol.RESPONSE_OK);
    assertThat(to.frames).containsExactly(frame(0x12, false, ascii("from\0hi")));
    assertThat(to.wFrames()).isEqualTo(1);
    assertThat(to.wBytes()).isEqualTo("to\0hi".length());
    assertThat(sec.frames).isEmpty();

    assertThat(message(from, "to%%1", ascii(""), true)).isEqualTo(Protocol.RESPONSE_OK);
    assertThat(sec.frames).containsExactly(frame(0x12, true, ascii("from\0")));
    assertThat(sec.realtime).containsExactly(true);
    assertThat(to.frames).hasSize(1);
    assertThat(stats.wFrames()).isEqualTo(2);
  }

  @Test
  void directMessageToAnUnknownTargetIs71() {
    TestSession from = registered("from");
    assertThat(message(from, "nobody", ascii("hi"), false))
        .isEqualTo(Protocol.ERR_CLIENT_NOT_REGISTERED).isEqualTo(0x71);
    assertThat(message(from, "fro", ascii("hi"), false)).isEqualTo(0x71);
    assertThat(message(from, "from.x", ascii("hi"), false)).isEqualTo(0x71);
    assertThat(from.frames).isEmpty();
    assertThat(stats.wFrames()).isZero();
  }

  @Test
  void directMessageNotDeliveredIs77() {
    TestSession from = registered("from");
    TestSession full = registered("full");
    full.result = Protocol.ERR_NOT_DELIVERED;
    assertThat(message(from, "full", new byte[FrameEncoder.COPY_THRESHOLD + 1], false))
        .isEqualTo(0x77);
    assertThat(full.handed).hasSize(1);
    assertThat(full.wFrames()).isZero();
    assertThat(stats.wFrames()).isZero();
  }

  @Test
  void directMessageToAnUnregisteredClientIs71() {
    TestSession from = registered("from");
    TestSession gone = registered("gone");
    router.unregister(gone);
    assertThat(message(from, "gone", ascii("x"), false)).isEqualTo(0x71);
    assertThat(gone.handed).isEmpty();
  }

  // ------------------------------------------------------------------ broadcasts

  private int broadcast(Session from, String mask, byte[] payload) {
    byte[] body = concat(ascii(mask + "\0"), payload);
    ByteBuf src = src(body);
    int m = mask.getBytes(StandardCharsets.UTF_8).length + 1;
    return router.broadcast(from, mask, src, src.readerIndex() + m, payload.length, false,
        body.length);
  }

  @Test
  void broadcastReachesMatchingNamesIncludingTheSender() {
    TestSession me = registered("g1.test.me");
    TestSession c1 = registered("g1.test.client1");
    TestSession c2 = registered("g1.test.subgroup.client2");
    TestSession g2 = registered("g2.test.x");
    TestSession other = registered("g1.other");
    TestSession bare = registered("test");
    byte[] payload = new byte[FrameEncoder.COPY_THRESHOLD + 100];
    new Random(2).nextBytes(payload);
    assertThat(broadcast(me, "?.test.*", payload)).isEqualTo(Protocol.RESPONSE_OK);
    byte[] expected = frame(0x13, false, ascii("g1.test.me\0"), payload);
    for (TestSession s : List.of(me, c1, c2, g2)) {
      assertThat(s.frames).as(s.name()).containsExactly(expected);
      assertThat(s.wFrames()).isEqualTo(1);
      assertThat(s.wBytes()).isEqualTo("?.test.*\0".length() + payload.length);
    }
    assertThat(other.frames).isEmpty();
    assertThat(bare.frames).isEmpty();
    assertThat(stats.wFrames()).isEqualTo(4);
  }

  @Test
  void broadcastMasks() {
    TestSession a = registered("a");
    TestSession ab = registered("a.b");
    TestSession abSec = registered("a.b%%0");
    TestSession abc = registered("a.b.c");
    broadcast(a, "a.?", ascii("1"));
    broadcast(a, "a.*", ascii("2"));
    broadcast(a, "a.*.c", ascii("3"));
    broadcast(a, "a.b", ascii("4"));
    broadcast(a, "*", ascii("5"));
    assertThat(broadcast(a, "nobody.*", ascii("6"))).isEqualTo(Protocol.RESPONSE_OK);
    assertThat(payloads(a)).containsExactly("5");
    assertThat(payloads(ab)).containsExactly("1", "2", "3", "4", "5");
    assertThat(payloads(abSec)).containsExactly("1", "2", "3", "5");
    assertThat(payloads(abc)).containsExactly("2", "3", "5");
  }

  private static List<String> payloads(TestSession s) {
    List<String> out = new ArrayList<>();
    for (byte[] f : s.frames) {
      assertThat(f[0]).isEqualTo((byte) 0x13);
      String body = new String(f, 6, f.length - 6, StandardCharsets.UTF_8);
      out.add(body.substring(body.indexOf('\0') + 1));
    }
    return out;
  }

  // ------------------------------------------------------------------ acks

  @Test
  void ackIsCountedAsOneFrameOfSixBytes() {
    TestSession s = registered("s");
    router.ack(s, 0x04030201, Protocol.ERR_CLIENT_NOT_REGISTERED, true);
    assertThat(s.frames).containsExactly(new byte[] {(byte) 0xFE, 1, 2, 3, 4, 0x71});
    assertThat(s.realtime).containsExactly(true);
    assertThat(s.wFrames()).isEqualTo(1);
    assertThat(s.wBytes()).isEqualTo(6);
    assertThat(stats.wBytes()).isEqualTo(6);
    s.result = Protocol.ERR_NOT_DELIVERED;
    router.ack(s, 1, 1, false);
    assertThat(s.wFrames()).isEqualTo(1);
  }

  // ------------------------------------------------------------------ registration

  @Test
  void registrationCodes() {
    TestSession a = registered("a");
    TestSession dup = session("a");
    assertThat(router.register(dup)).isEqualTo(Protocol.ERR_BUSY).isEqualTo(0x76);
    TestSession orphan = session("b%%1");
    assertThat(router.register(orphan)).isEqualTo(Protocol.ERR_CLIENT_NOT_REGISTERED)
        .isEqualTo(0x71);
    TestSession sec = session("a%%1");
    assertThat(router.register(sec)).isEqualTo(Protocol.RESPONSE_OK);
    assertThat(router.register(session("a%%1"))).isEqualTo(0x76);
    assertThat(router.register(session("a%%1%%2"))).isEqualTo(Protocol.RESPONSE_OK);

    assertThat(registry.get("a")).isSameAs(a);
    assertThat(registry.get("a%%1")).isSameAs(sec);
    assertThat(registry.get("b%%1")).isNull();
    assertThat(sec.primary()).isSameAs(a);
    assertThat(a.secondaryCount()).isEqualTo(2);
    assertThat(announcements).containsExactly("reg a");
    // refused clients are not subscribed to anything
    assertThat(dup.subscriptions()).isEmpty();
    assertThat(orphan.subscriptions()).isEmpty();
  }

  @Test
  void everyClientIsSubscribedToBrokerWarnOnRegistration() {
    TestSession a = registered("a");
    TestSession sec = registered("a%%x");
    TestSession refused = session("a");
    router.register(refused);
    assertThat(a.subscriptions()).containsExactly(Protocol.TOPIC_WARN);
    assertThat(sec.subscriptions()).containsExactly(Protocol.TOPIC_WARN);
    assertThat(topics.match(".broker/warn")).containsExactlyInAnyOrder(a, sec);
  }

  @Test
  void unregisterRemovesSubscriptionsAndIsAnnouncedOnce() {
    TestSession a = registered("a");
    TestSession b = registered("b");
    router.subscribe(a, "x/#");
    router.subscribe(a, "y");
    router.subscribe(b, "y");
    router.unregister(a);
    assertThat(a.subscriptions()).isEmpty();
    assertThat(topics.match("y")).containsExactly(b);
    assertThat(topics.match("x/1")).isEmpty();
    assertThat(topics.match(".broker/warn")).containsExactly(b);
    assertThat(registry.get("a")).isNull();
    router.unregister(a);
    assertThat(announcements).containsExactly("reg a", "reg b", "unreg a");
    // the name is free again
    TestSession again = registered("a");
    assertThat(registry.get("a")).isSameAs(again);
  }

  @Test
  void unregisteringAStaleSessionDoesNotRemoveTheNewOne() {
    TestSession old = registered("a");
    router.unregister(old);
    TestSession current = registered("a");
    router.unregister(old);
    assertThat(registry.get("a")).isSameAs(current);
    assertThat(topics.match(".broker/warn")).containsExactly(current);
  }

  @Test
  void secondariesAreRemovedAndDisconnectedWhenThePrimaryLeaves() {
    TestSession a = registered("a");
    TestSession s1 = registered("a%%1");
    TestSession s2 = registered("a%%2");
    TestSession other = registered("ab");
    router.subscribe(s1, "news/#");
    router.unregister(a);
    assertThat(s1.disconnects).containsExactly(CloseReason.PRIMARY_GONE);
    assertThat(s2.disconnects).containsExactly(CloseReason.PRIMARY_GONE);
    assertThat(other.disconnects).isEmpty();
    assertThat(registry.get("a")).isNull();
    assertThat(registry.get("a%%1")).isNull();
    assertThat(registry.get("a%%2")).isNull();
    assertThat(registry.get("ab")).isSameAs(other);
    assertThat(a.secondaryCount()).isZero();
    // the secondaries unregister themselves on disconnect (as SocketSession and InternalSession
    // do): their subscriptions are gone too, and no departure is announced for them
    assertThat(topics.match("news/1")).isEmpty();
    assertThat(topics.match(".broker/warn")).containsExactly(other);
    assertThat(announcements).containsExactly("reg a", "reg ab", "unreg a");
    // a new secondary of the departed primary is refused
    assertThat(router.register(session("a%%3"))).isEqualTo(0x71);
  }

  @Test
  void secondaryLeavingAloneKeepsThePrimary() {
    TestSession a = registered("a");
    TestSession s1 = registered("a%%1");
    router.unregister(s1);
    assertThat(registry.get("a")).isSameAs(a);
    assertThat(a.secondaryCount()).isZero();
    assertThat(a.disconnects).isEmpty();
    assertThat(announcements).containsExactly("reg a");
  }

  @Test
  void subscriptionsAreSetsOfIdenticalPatternStrings() {
    TestSession a = registered("a");
    router.subscribe(a, "a/#");
    router.subscribe(a, "a/#");
    assertThat(topics.size()).isEqualTo(2); // a/# and .broker/warn
    router.subscribe(a, "a/#/b"); // a different string, the same trie node
    router.unsubscribe(a, "a/#");
    assertThat(topics.match("a/x")).containsExactly(a);
    router.unsubscribe(a, "a/+"); // not subscribed: not an error
    router.unsubscribe(a, "a/#/b");
    assertThat(topics.match("a/x")).isEmpty();
    assertThat(a.subscriptions()).containsExactly(Protocol.TOPIC_WARN);
  }

  @Test
  void subscribeAfterUnregisterLeavesNothingBehind() {
    TestSession a = registered("a");
    router.unregister(a);
    router.subscribe(a, "late/#");
    assertThat(a.subscriptions()).isEmpty();
    assertThat(topics.match("late/x")).isEmpty();
    assertThat(topics.size()).isZero();
  }

  // ---------------------------------------------------------------- issue 17

  /** A session whose disconnect throws (a transport failing as it is closed). */
  private TestSession failing(String name) {
    TestSession s = new TestSession(name) {
      @Override
      public void disconnect(CloseReason reason) {
        super.disconnect(reason);
        throw new IllegalStateException("transport failed while closing " + name);
      }
    };
    sessions.add(s);
    assertThat(router.register(s)).isEqualTo(Protocol.RESPONSE_OK);
    return s;
  }

  /**
   * Whatever fails during an unregistration (a secondary's close, the announcement), the client,
   * its subscriptions and exclusions and its secondaries (with theirs) are gone, and the
   * departure is announced once.
   */
  @Test
  void unregistrationCompletesWhateverAStepThrows() {
    TestSession a = registered("a");
    TestSession sec = failing("a%%1");
    router.subscribe(a, "a/#");
    router.exclude(a, "a/x");
    router.subscribe(sec, "s/+");
    router.exclude(sec, "s/1");
    router.registrationListener((s, reg) -> {
      announcements.add((reg ? "reg " : "unreg ") + s.name());
      throw new IllegalStateException("announcement failed");
    });
    try (dev.elbus.support.LogCapture log = dev.elbus.support.LogCapture.on(Router.class)) {
      router.unregister(a);
      router.unregister(a);
      assertThat(log.matching(ch.qos.logback.classic.Level.ERROR, "a step of its unregistration"))
          .hasSize(1);
    }
    assertThat(registry.get("a")).isNull();
    assertThat(registry.get("a%%1")).isNull();
    assertThat(sec.disconnects).containsExactly(CloseReason.PRIMARY_GONE);
    assertThat(a.subscriptions()).isEmpty();
    assertThat(sec.subscriptions()).isEmpty();
    assertThat(topics.size()).isZero();
    assertThat(topics.match("s/2")).isEmpty();
    assertThat(announcements).containsExactly("reg a", "unreg a");
  }

  private TestSession limited(String name, ClientLimits l) {
    TestSession s = session(name);
    s.limits(l);
    assertThat(router.register(s)).isEqualTo(Protocol.RESPONSE_OK);
    return s;
  }

  @Test
  void patternsBeyondTheClientLimitsAreRefusedWith72AndCounted() {
    // .broker/warn counts too: 14 bytes (length + 1), no wildcard
    TestSession a = limited("a", new ClientLimits(4, 22, 3, 2, 8));
    assertThat(router.subscribe(a, "a/b/c/d/e")).isEqualTo(Protocol.ERR_DATA);
    assertThat(stats.refused(Limit.TOPIC_LEVELS)).isEqualTo(1);
    assertThat(router.subscribe(a, "+/b")).isEqualTo(Protocol.RESPONSE_OK); // 18 bytes, 2 levels
    assertThat(router.subscribe(a, "+/b")).as("already there: free").isEqualTo(Protocol.RESPONSE_OK);
    assertThat(router.exclude(a, "+/+")).as("wildcard levels 2 + 2").isEqualTo(Protocol.ERR_DATA);
    assertThat(stats.refused(Limit.WILDCARD_LEVELS)).isEqualTo(1);
    assertThat(router.subscribe(a, "long1")).as("bytes 18 + 6").isEqualTo(Protocol.ERR_DATA);
    assertThat(stats.refused(Limit.SUBSCRIPTION_BYTES)).isEqualTo(1);
    assertThat(router.exclude(a, "c")).isEqualTo(Protocol.RESPONSE_OK); // 3 patterns, 20 bytes
    assertThat(router.subscribe(a, "d")).as("count").isEqualTo(Protocol.ERR_DATA);
    assertThat(stats.refused(Limit.SUBSCRIPTIONS)).isEqualTo(1);
    assertThat(topics.match("z/b")).containsExactly(a);
    assertThat(topics.match("d")).isEmpty();
    // removing frees what the pattern held
    router.unsubscribe(a, "+/b");
    router.unexclude(a, "c");
    assertThat(router.exclude(a, "+/+")).isEqualTo(Protocol.RESPONSE_OK);
    assertThat(router.subscribe(a, "d")).isEqualTo(Protocol.RESPONSE_OK);
    assertThat(stats.refusedCounts()).containsEntry("topic_levels", 1L)
        .containsEntry("subscriptions", 1L);
  }

  @Test
  void aRefusalIsLoggedOncePerClientAndLimit() {
    ClientLimits l = new ClientLimits(2, 1 << 20, 100, 100, 8);
    TestSession a = limited("a", l);
    TestSession b = limited("b", l);
    try (dev.elbus.support.LogCapture log = dev.elbus.support.LogCapture.on(Router.class)) {
      for (int i = 0; i < 5; i++) {
        router.subscribe(a, "x/y/z" + i);
        router.exclude(b, "x/y/z" + i);
      }
      assertThat(log.matching(ch.qos.logback.classic.Level.WARN, "max_topic_levels 2"))
          .hasSize(2);
    }
    assertThat(stats.refused(Limit.TOPIC_LEVELS)).isEqualTo(10);
  }

  /** Hundreds of thousands of plain subscriptions of one client fit the default limits. */
  @Test
  void threeHundredThousandPlainSubscriptionsFitTheDefaultLimits() {
    TestSession a = limited("a", ClientLimits.of(dev.elbus.config.ListenerOptions.of("127.0.0.1:1")));
    for (int i = 0; i < 300_000; i++) {
      assertThat(router.subscribe(a, "plant/area" + (i % 100) + "/sensor" + i + "/value"))
          .isEqualTo(Protocol.RESPONSE_OK);
    }
    assertThat(topics.match("plant/area7/sensor12307/value")).containsExactly(a);
    assertThat(stats.refusedCounts().values()).containsOnly(0L);
    router.unregister(a);
    assertThat(topics.size()).isZero();
  }

  /**
   * Publish-for is a publication addressed to one client: the sender's p2p rights must allow the
   * receiver, as its publish rights must allow the topic.
   */
  @Test
  void publishForNeedsThePublishAndTheP2pRights() {
    TestSession pub = registered("pub");
    TestSession plc = registered("plc");
    TestSession hmi = registered("hmi");
    router.subscribe(plc, "cmd/#");
    router.subscribe(hmi, "cmd/#");
    pub.rights(new AccessRights() {
      @Override
      public boolean canSendTo(String target) {
        return target.equals("hmi");
      }

      @Override
      public boolean canPublish(String topic) {
        return topic.startsWith("cmd/");
      }

      @Override
      public boolean canSubscribe(String pattern) {
        return false;
      }

      @Override
      public boolean canBroadcast(String mask) {
        return false;
      }
    });
    byte[] body = ascii("cmd/go\0plc\0x");
    ByteBuf b = src(body);
    int ri = b.readerIndex();
    assertThat(router.publishFor(pub, "cmd/go", "plc", b, ri, 6, ri + 11, 1, false, body.length))
        .isEqualTo(Protocol.ERR_ACCESS);
    assertThat(router.publishFor(pub, "cmd/go", "hmi", b, ri, 6, ri + 11, 1, false, body.length))
        .isEqualTo(Protocol.RESPONSE_OK);
    assertThat(router.publishFor(pub, "other", "hmi", b, ri, 6, ri + 11, 1, false, body.length))
        .isEqualTo(Protocol.ERR_ACCESS);
    assertThat(plc.frames).isEmpty();
    assertThat(hmi.frames).hasSize(1);
  }

  @Test
  void broadcastMatchesNamesInPlace() {
    TestSession deep = registered("g." + "a.".repeat(5000) + "z");
    TestSession other = registered("g.b");
    ByteBuf b = src(ascii("x"));
    router.broadcast(other, "g.*", b, b.readerIndex(), 1, false, 5);
    router.broadcast(other, "g." + "?.".repeat(5000) + "z", b, b.readerIndex(), 1, false, 5);
    router.broadcast(other, "g.?", b, b.readerIndex(), 1, false, 5);
    assertThat(deep.frames).hasSize(2);
    assertThat(other.frames).hasSize(2);
  }
}
