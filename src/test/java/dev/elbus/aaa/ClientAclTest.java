package dev.elbus.aaa;

import dev.elbus.aaa.ClientAcl.Rule;
import dev.elbus.protocol.Masks;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.List;
import java.util.Random;

import static dev.elbus.aaa.CidrTest.ip;
import static dev.elbus.aaa.CidrTest.mapped;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ClientAclTest {

  @Test
  void defaultsAllowEverythingFromEveryAddress() throws Exception {
    ClientAcl a = ClientAcl.ALLOW_ALL;
    assertThat(a.hostAllowed(ip("10.1.2.3"))).isTrue();
    assertThat(a.hostAllowed(ip("2001:db8::1"))).isTrue();
    assertThat(a.hostAllowed(mapped(1, 2, 3, 4))).isTrue();
    assertThat(a.canSendTo("anyone")).isTrue();
    assertThat(a.canPublish("any/topic")).isTrue();
    assertThat(a.canSubscribe("#")).isTrue();
    assertThat(a.canBroadcast("*")).isTrue();
    assertThat(a.p2p().isAny()).isTrue();
    assertThat(a.toJson().encode()).isEqualTo("{}");
    assertThatThrownBy(() -> a.hostAllowed(null)).isInstanceOf(NullPointerException.class);
  }

  @Test
  void hostsAllow() throws Exception {
    ClientAcl a = ClientAcl.builder().hostsAllow("127.0.0.1/32", "::1/128", "10.0.0.0/8").build();
    assertThat(a.hostAllowed(ip("127.0.0.1"))).isTrue();
    assertThat(a.hostAllowed(ip("::1"))).isTrue();
    assertThat(a.hostAllowed(ip("10.200.0.1"))).isTrue();
    assertThat(a.hostAllowed(mapped(10, 200, 0, 1))).isTrue();
    assertThat(a.hostAllowed(ip("127.0.0.2"))).isFalse();
    assertThat(a.hostAllowed(ip("::2"))).isFalse();
    assertThat(a.hostAllowed(mapped(127, 0, 0, 2))).isFalse();
    assertThat(a.hostsAllow()).extracting(Cidr::toString)
        .containsExactly("127.0.0.1/32", "::1/128", "10.0.0.0/8");
    assertThat(ClientAcl.builder().hostsAllow("10.0.0.0/8").build().hostAllowed(ip("::1")))
        .isFalse();
  }

  @Test
  void denied() {
    ClientAcl a = ClientAcl.builder().p2p(Rule.deny()).publish(Rule.deny())
        .subscribe(Rule.deny()).broadcast(Rule.deny()).build();
    assertThat(a.canSendTo("x")).isFalse();
    assertThat(a.canPublish("x")).isFalse();
    assertThat(a.canSubscribe("x")).isFalse();
    assertThat(a.canBroadcast("x")).isFalse();
    assertThat(a.toString()).isEqualTo(
        "{\"deny_p2p\":true,\"deny_publish\":true,\"deny_subscribe\":true,\"deny_broadcast\":true}");
  }

  @Test
  void p2pTargetIsALiteralName() {
    ClientAcl a = ClientAcl.builder().p2p(Rule.only("ui.*", "historian", "?.svc")).build();
    assertThat(a.canSendTo("ui.main")).isTrue();
    assertThat(a.canSendTo("ui.a.b")).isTrue();
    assertThat(a.canSendTo("ui")).isFalse();
    assertThat(a.canSendTo("historian")).isTrue();
    assertThat(a.canSendTo("historian%%1")).isFalse();
    assertThat(a.canSendTo("historian.x")).isFalse();
    assertThat(a.canSendTo("g1.svc")).isTrue();
    assertThat(a.canSendTo("g1.svc%%2")).isFalse();
    assertThat(a.canSendTo("g1.g2.svc")).isFalse();
    // wildcard characters in a target are plain characters
    assertThat(a.canSendTo("?.svc")).isTrue();
    assertThat(a.canSendTo("*")).isFalse();
    assertThat(ClientAcl.builder().p2p(Rule.only("a.b")).build().canSendTo("a.?")).isFalse();
  }

  @Test
  void publishTopicIsLiteral() {
    ClientAcl a = ClientAcl.builder().publish(Rule.only("plc1/#", "a/+", "x/b")).build();
    assertThat(a.canPublish("plc1/temp")).isTrue();
    assertThat(a.canPublish("plc1/temp/1")).isTrue();
    assertThat(a.canPublish("plc1")).isFalse();
    assertThat(a.canPublish("a/b")).isTrue();
    assertThat(a.canPublish("a/#")).isTrue(); // the level "#" is a plain level under a/+
    assertThat(a.canPublish("a/b/c")).isFalse();
    assertThat(a.canPublish("x/b")).isTrue();
    assertThat(a.canPublish("x/+")).isFalse(); // "+" is not "b"
    assertThat(a.canPublish("#")).isFalse();
    assertThat(a.canPublish("+/b")).isFalse();
    ClientAcl lit = ClientAcl.builder().publish(Rule.only("a+")).build();
    assertThat(lit.canPublish("a+")).isTrue();
    assertThat(lit.canPublish("ab")).isFalse();
  }

  @Test
  void subscribeAndBroadcastUseContainment() {
    ClientAcl a = ClientAcl.builder().subscribe(Rule.only("news/#", "+/x"))
        .broadcast(Rule.only("worker.*")).build();
    assertThat(a.canSubscribe("news/+")).isTrue();
    assertThat(a.canSubscribe("news/a/#")).isTrue();
    assertThat(a.canSubscribe("news/x")).isTrue();
    assertThat(a.canSubscribe("q/x")).isTrue();
    assertThat(a.canSubscribe("+/x")).isTrue();
    assertThat(a.canSubscribe("#")).isFalse();
    assertThat(a.canSubscribe("news")).isFalse();
    assertThat(a.canSubscribe("#/x")).isFalse();
    assertThat(a.canSubscribe("+/y")).isFalse();
    assertThat(a.canBroadcast("worker.?")).isTrue();
    assertThat(a.canBroadcast("worker.*")).isTrue();
    assertThat(a.canBroadcast("worker.a.b")).isTrue();
    assertThat(a.canBroadcast("*")).isFalse();
    assertThat(a.canBroadcast("?.x")).isFalse();
    assertThat(a.canBroadcast("worker")).isFalse();
  }

  @Test
  void fullWildcardAllowsEverythingAndEmptyListNothing() {
    ClientAcl a = ClientAcl.builder().subscribe(Rule.only("a/b", "#"))
        .publish(Rule.only("#/x")).broadcast(Rule.only("x", "*.y")).p2p(Rule.only()).build();
    assertThat(a.subscribe().isAny()).isTrue();
    assertThat(a.canSubscribe("#")).isTrue();
    assertThat(a.publish().isAny()).isTrue(); // #/x is #
    assertThat(a.canPublish("q")).isTrue();
    assertThat(a.broadcast().isAny()).isTrue();
    assertThat(a.canBroadcast("*")).isTrue();
    assertThat(a.p2p().isDenied()).isTrue();
    assertThat(a.canSendTo("x")).isFalse();
    assertThat(a).isEqualTo(ClientAcl.builder().p2p(Rule.deny()).build());
    // "#" is not the full wildcard for names, nor "*" for topics
    ClientAcl b = ClientAcl.builder().p2p(Rule.only("#")).publish(Rule.only("*")).build();
    assertThat(b.canSendTo("x")).isFalse();
    assertThat(b.canPublish("x")).isFalse();
    assertThat(b.canPublish("*")).isTrue();
  }

  @Test
  void masksWithNulAreRefused() {
    assertThatThrownBy(() -> Rule.only("a\0b"))
        .hasMessage("mask 'a\\u0000b' contains a NUL character");
  }

  @Test
  void literalChecksAgreeWithTheBrokerMatchers() {
    Random r = new Random(77);
    String[] topicLevels = {"a", "b", "", "+", "#"};
    String[] nameParts = {"a", "b", "", "?", "*"};
    for (int n = 0; n < 3000; n++) {
      List<String> tm = List.of(random(r, topicLevels, '/'), random(r, topicLevels, '/'));
      List<String> nm = List.of(random(r, nameParts, '.'), random(r, nameParts, '.'));
      ClientAcl a = ClientAcl.builder().publish(Rule.only(tm)).p2p(Rule.only(nm)).build();
      String topic = random(r, topicLevels, '/');
      String name = random(r, nameParts, '.');
      boolean pub = tm.stream().anyMatch(m -> Masks.topicMatches(m, topic));
      boolean p2p = nm.stream().anyMatch(m -> Masks.nameMatches(m, name));
      assertThat(a.canPublish(topic)).as(tm + " publish " + topic).isEqualTo(pub);
      assertThat(a.canSendTo(name)).as(nm + " send to " + name).isEqualTo(p2p);
      boolean sub = tm.stream().anyMatch(m -> ClientAcl.topicMaskCovers(m, topic));
      ClientAcl s = ClientAcl.builder().subscribe(Rule.only(tm)).build();
      assertThat(s.canSubscribe(topic)).as(tm + " subscribe " + topic).isEqualTo(sub);
    }
  }

  private static String random(Random r, String[] alphabet, char sep) {
    StringBuilder sb = new StringBuilder();
    int n = 1 + r.nextInt(4);
    for (int i = 0; i < n; i++) {
      sb.append(i == 0 ? "" : String.valueOf(sep)).append(alphabet[r.nextInt(alphabet.length)]);
    }
    return sb.toString();
  }

  @Test
  void equalityIsSemantic() throws Exception {
    ClientAcl a = ClientAcl.builder().hostsAllow("10.0.0.0/8", "::1")
        .p2p(Rule.only("ui.*", "historian")).subscribe(Rule.only("cmd/#")).build();
    ClientAcl b = ClientAcl.builder().hostsAllow("::1/128", "10.1.0.0/8", "10.0.0.0/8")
        .p2p(Rule.only("historian", "ui.*", "historian")).subscribe(Rule.only("cmd/#")).build();
    assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
    assertThat(a).isNotEqualTo(ClientAcl.builder().hostsAllow("10.0.0.0/8", "::1")
        .p2p(Rule.only("ui.*")).subscribe(Rule.only("cmd/#")).build());
    assertThat(a).isNotEqualTo(ClientAcl.builder().hostsAllow("10.0.0.0/8")
        .p2p(Rule.only("ui.*", "historian")).subscribe(Rule.only("cmd/#")).build());
    assertThat(a).isNotEqualTo(ClientAcl.builder().hostsAllow("10.0.0.0/8", "::1")
        .p2p(Rule.only("ui.*", "historian")).subscribe(Rule.only("cmd/+")).build());
    assertThat(ClientAcl.builder().publish(Rule.only("a")).build())
        .isNotEqualTo(ClientAcl.builder().subscribe(Rule.only("a")).build());
    assertThat(ClientAcl.builder().build()).isEqualTo(ClientAcl.ALLOW_ALL);
    assertThat(Rule.only("a", "b")).isEqualTo(Rule.only("b", "a"));
    assertThat(Rule.only("a").toString()).isEqualTo("[a]");
    assertThat(Rule.any()).hasToString("any").isNotEqualTo(Rule.deny());
    assertThat(a.toString()).isEqualTo("{\"hosts_allow\":[\"10.0.0.0/8\",\"::1/128\"],"
        + "\"allow_p2p_to\":[\"ui.*\",\"historian\"],\"allow_subscribe_to\":[\"cmd/#\"]}");
    InetAddress unused = ip("::1");
    assertThat(a.hostAllowed(unused)).isTrue();
  }
}
