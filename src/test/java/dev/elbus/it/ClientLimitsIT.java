package dev.elbus.it;

import ch.qos.logback.classic.Level;
import dev.elbus.impl.routing.BrokerStats;
import dev.elbus.impl.routing.Limit;
import dev.elbus.support.LeakGate;
import dev.elbus.support.LogCapture;
import dev.elbus.support.RawClient;
import dev.elbus.support.TestBroker;
import dev.elbus.support.Transport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static dev.elbus.it.Wire.BROADCAST;
import static dev.elbus.it.Wire.DATA;
import static dev.elbus.it.Wire.OK;
import static dev.elbus.it.Wire.PUBLISH;
import static dev.elbus.it.Wire.SUBSCRIBE;
import static dev.elbus.it.Wire.UNSUBSCRIBE;
import static dev.elbus.it.Wire.clientFrame;
import static dev.elbus.it.Wire.expectAck;
import static dev.elbus.it.Wire.expectFrame;
import static dev.elbus.it.Wire.publication;
import static dev.elbus.it.Wire.topicsBody;
import static dev.elbus.it.Wire.uniq;
import static dev.elbus.support.RawClient.utf8;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The per-client limits where the input arrives (issue 17): levels of topics and patterns,
 * parts of names and broadcast masks, and the per-client totals of subscriptions and exclusions.
 * Each refusal is answered 72, the rest of the frame applies, the connection stays, and the
 * refusal is counted per limit and logged once per client and limit. Small limits here; the
 * defaults are checked in {@code HostileClientsIT}.
 */
@ExtendWith(LeakGate.class)
class ClientLimitsIT {
  private static final int EXCLUDE = 0x04;
  private static final int PUBLISH_FOR = 0x06;
  private static TestBroker tb;

  @BeforeAll
  static void start() throws Exception {
    tb = TestBroker.start(1, l -> Wire.QUIET.accept(l.setMaxTopicLevels(8).setMaxNameParts(4)
        .setMaxSubscriptions(6).setMaxSubscriptionBytes(4096).setMaxWildcardLevels(6)));
  }

  @AfterAll
  static void stop() throws Exception {
    tb.close();
  }

  private static long refused(Limit l) {
    return tb.router().stats().refused(l);
  }

  private static String levels(String prefix, int n) {
    return prefix + "/x".repeat(n - 1);
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void topicsAndPatternsOfTooManyLevelsAreRefusedWith72(Transport t) throws Exception {
    String n = uniq("levels");
    long before = refused(Limit.TOPIC_LEVELS);
    try (LogCapture log = LogCapture.on("dev.elbus.impl.routing.Router");
        RawClient c = tb.registered(t, n)) {
      // the allowed pattern of the frame is subscribed, the deep one refused: one ack, 72
      c.send(clientFrame(1, SUBSCRIBE, 1, topicsBody(levels(n, 8), levels(n, 9))));
      expectAck(c, 1, DATA);
      c.send(clientFrame(2, EXCLUDE, 1, topicsBody(levels(n + "/e", 20_000))));
      expectAck(c, 2, DATA);
      // publications: the deep one is refused, the one of 8 levels delivered
      c.send(clientFrame(3, PUBLISH, 1, levels(n, 9), utf8("deep")));
      expectAck(c, 3, DATA);
      c.send(clientFrame(4, PUBLISH, 1, levels(n, 8), utf8("ok")));
      expectFrame(c, publication(n, levels(n, 8), utf8("ok"), false));
      expectAck(c, 4, OK);
      c.send(clientFrame(5, PUBLISH_FOR, 1, RawClient.concat(utf8(levels(n, 500_000)),
          new byte[] {0}, utf8(n), new byte[] {0}, utf8("p"))));
      expectAck(c, 5, DATA);
      // unsubscribing a pattern that cannot be subscribed is not an error
      c.send(clientFrame(6, UNSUBSCRIBE, 1, topicsBody(levels(n, 9), levels(n, 8))));
      expectAck(c, 6, OK);
      assertThat(refused(Limit.TOPIC_LEVELS) - before).isEqualTo(4);
      assertThat(log.matching(Level.WARN, "max_topic_levels 8")).as("logged once").hasSize(1);
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void namesAndBroadcastMasksOfTooManyPartsAreRefusedWith72(Transport t) throws Exception {
    String n = uniq("parts");
    long before = refused(Limit.NAME_PARTS);
    try (RawClient bad = tb.raw(t)) {
      assertThat(bad.handshake(n + ".a.b.c.d")).isEqualTo(DATA);
      bad.expectClosed(5_000);
    }
    try (RawClient c = tb.registered(t, n + ".a.b")) {
      c.send(clientFrame(1, BROADCAST, 1, n + ".?.?.?.?", utf8("x")));
      expectAck(c, 1, DATA);
      c.send(clientFrame(2, BROADCAST, 1, n + ".*", utf8("y")));
      expectFrame(c, Wire.broadcast(n + ".a.b", utf8("y"), false));
      expectAck(c, 2, OK);
    }
    assertThat(refused(Limit.NAME_PARTS) - before).isEqualTo(2);
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void perClientTotalsAreBounded(Transport t) throws Exception {
    String n = uniq("totals");
    BrokerStats s = tb.router().stats();
    long count = s.refused(Limit.SUBSCRIPTIONS);
    long wild = s.refused(Limit.WILDCARD_LEVELS);
    long bytes = s.refused(Limit.SUBSCRIPTION_BYTES);
    try (RawClient c = tb.registered(t, n)) {
      // .broker/warn is one of the 6 patterns allowed
      c.send(clientFrame(1, SUBSCRIBE, 1, topicsBody(n + "/1", n + "/2", n + "/+/x")));
      expectAck(c, 1, OK);
      // wildcard levels: n/+/x costs 2, +/+/+/+/+ would make 7 of 6
      c.send(clientFrame(2, EXCLUDE, 1, topicsBody("+/+/+/+/+")));
      expectAck(c, 2, DATA);
      // count: the third is the seventh pattern
      c.send(clientFrame(3, EXCLUDE, 1, topicsBody(n + "/+/+", n + "/3", n + "/6")));
      expectAck(c, 3, DATA);
      c.send(clientFrame(4, UNSUBSCRIBE, 1, topicsBody(n + "/1", n + "/2")));
      expectAck(c, 4, OK);
      // bytes: 4,096 in all
      c.send(clientFrame(5, SUBSCRIBE, 1, topicsBody(n + "/" + "b".repeat(4090))));
      expectAck(c, 5, DATA);
      c.send(clientFrame(6, SUBSCRIBE, 1, topicsBody(n + "/4")));
      expectAck(c, 6, OK);
      c.send(clientFrame(7, PUBLISH, 1, n + "/4", utf8("z")));
      expectFrame(c, publication(n, n + "/4", utf8("z"), false));
      expectAck(c, 7, OK);
    }
    assertThat(s.refused(Limit.WILDCARD_LEVELS) - wild).isEqualTo(1);
    assertThat(s.refused(Limit.SUBSCRIPTIONS) - count).isEqualTo(1);
    assertThat(s.refused(Limit.SUBSCRIPTION_BYTES) - bytes).isEqualTo(1);
  }
}
