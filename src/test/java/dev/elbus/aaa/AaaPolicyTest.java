package dev.elbus.aaa;

import dev.elbus.aaa.ClientAcl.Rule;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AaaPolicyTest {
  private static final ClientAcl PLC = ClientAcl.builder().hostsAllow("10.0.0.0/8")
      .publish(Rule.only("plc1/#")).build();
  private static final ClientAcl NO_P2P = ClientAcl.builder().p2p(Rule.deny()).build();

  @Test
  void lookupByPrimaryAndFullName() {
    AaaPolicy p = AaaPolicy.builder().client("plc1", PLC).client("ui", ClientAcl.ALLOW_ALL)
        .build();
    assertThat(p.get("plc1")).isSameAs(PLC);
    assertThat(p.get("ui")).isSameAs(ClientAcl.ALLOW_ALL);
    assertThat(p.get("plc2")).isNull();
    assertThat(p.get("plc1%%x")).isNull();
    assertThat(p.forClient("plc1")).isSameAs(PLC);
    assertThat(p.forClient("plc1%%x")).isSameAs(PLC);
    assertThat(p.forClient("plc1%%x%%y")).isSameAs(PLC);
    assertThat(p.forClient("plc1x")).isNull();
    assertThat(p.forClient("%%plc1")).isNull();
    assertThat(AaaPolicy.primaryName("a.b%%c")).isEqualTo("a.b");
    assertThat(AaaPolicy.primaryName("a.b")).isEqualTo("a.b");
    assertThat(p.names()).containsExactly("plc1", "ui");
    assertThat(p.size()).isEqualTo(2);
    assertThat(AaaPolicy.EMPTY.get("plc1")).isNull();
    assertThat(AaaPolicy.EMPTY.size()).isZero();
  }

  @Test
  void builderRejectsBadNamesAndLaterEntryWins() {
    assertThatThrownBy(() -> AaaPolicy.builder().client("", PLC))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("client name '' is empty");
    assertThatThrownBy(() -> AaaPolicy.builder().client(".broker", PLC))
        .hasMessage("client name '.broker' starts with '.' (reserved for the broker's internal "
            + "clients)");
    assertThatThrownBy(() -> AaaPolicy.builder().client("a%%b", PLC))
        .hasMessage("client name 'a%%b' contains '%%' (a secondary client uses its primary's "
            + "entry)");
    assertThatThrownBy(() -> AaaPolicy.builder().client("a\0", PLC))
        .hasMessage("client name 'a\\u0000' contains a NUL character");
    assertThatThrownBy(() -> AaaPolicy.builder().client("a", null))
        .isInstanceOf(NullPointerException.class);
    AaaPolicy p = AaaPolicy.builder().client("a", PLC).client("a", NO_P2P).client("b", PLC)
        .remove("b").build();
    assertThat(p.entries()).containsOnlyKeys("a").containsEntry("a", NO_P2P);
  }

  @Test
  void equalityAndChangedOrRemoved() {
    AaaPolicy old = AaaPolicy.builder()
        .client("same", PLC)
        .client("changed", PLC)
        .client("removed", PLC)
        .client("rebuilt", ClientAcl.builder().p2p(Rule.only("a", "b")).build())
        .client("explicitAny", ClientAcl.ALLOW_ALL)
        .build();
    AaaPolicy newer = AaaPolicy.builder()
        .client("rebuilt", ClientAcl.builder().p2p(Rule.only("b", "a", "a")).build())
        .client("same", ClientAcl.builder().publish(Rule.only("plc1/#"))
            .hostsAllow("10.1.2.3/8").build())
        .client("changed", NO_P2P)
        .client("added", PLC)
        // covers every address too, but equality is structural beyond the documented
        // normalisations: an extra disconnect, never a missed one
        .client("explicitAny", ClientAcl.builder().hostsAllow("::/0", "0.0.0.0/0").build())
        .build();
    assertThat(old.changedOrRemoved(newer)).containsExactly("changed", "explicitAny", "removed");
    assertThat(newer.changedOrRemoved(old)).containsExactly("added", "changed", "explicitAny");
    assertThat(old.changedOrRemoved(old)).isEmpty();
    assertThat(old.changedOrRemoved(AaaPolicy.EMPTY)).containsExactlyElementsOf(old.names());
    assertThat(AaaPolicy.EMPTY.changedOrRemoved(old)).isEmpty();
    assertThat(old).isNotEqualTo(newer);

    AaaPolicy reordered = AaaPolicy.builder()
        .client("explicitAny", ClientAcl.ALLOW_ALL)
        .client("rebuilt", ClientAcl.builder().p2p(Rule.only("b", "a")).build())
        .client("removed", PLC).client("changed", PLC).client("same", PLC).build();
    assertThat(reordered).isEqualTo(old).hasSameHashCodeAs(old);
    assertThat(reordered.names()).containsExactlyElementsOf(old.names()); // sorted
    assertThat(old.changedOrRemoved(reordered)).isEmpty();
  }

  @Test
  void toJsonRoundTrips() {
    AaaPolicy p = AaaPolicy.builder()
        .client("plc1", ClientAcl.builder().hostsAllow("127.0.0.1", "::1", "10.0.0.0/8")
            .p2p(Rule.only("ui.*", "historian")).publish(Rule.only("plc1/#"))
            .subscribe(Rule.only("cmd/plc1/#")).broadcast(Rule.only("plc.*")).build())
        .client("ro", ClientAcl.builder().p2p(Rule.deny()).publish(Rule.only()).build())
        .client("ui", ClientAcl.ALLOW_ALL)
        .build();
    assertThat(p.toJson().encode()).isEqualTo("{\"clients\":{"
        + "\"plc1\":{\"hosts_allow\":[\"127.0.0.1/32\",\"::1/128\",\"10.0.0.0/8\"],"
        + "\"allow_p2p_to\":[\"ui.*\",\"historian\"],\"allow_publish_to\":[\"plc1/#\"],"
        + "\"allow_subscribe_to\":[\"cmd/plc1/#\"],\"allow_broadcast_to\":[\"plc.*\"]},"
        + "\"ro\":{\"deny_p2p\":true,\"deny_publish\":true},"
        + "\"ui\":{}}}");
    AaaPolicy back = AaaParser.parse(p.toJson(), "x").policy();
    assertThat(back).isEqualTo(p);
    assertThat(p.changedOrRemoved(back)).isEmpty();
    assertThat(AaaPolicy.EMPTY.toJson().encode()).isEqualTo("{\"clients\":{}}");
    assertThat(AaaParser.parse(AaaPolicy.EMPTY.toJson(), "x").policy())
        .isEqualTo(AaaPolicy.EMPTY);
  }

  @Test
  void entriesAreUnmodifiable() {
    AaaPolicy p = AaaPolicy.builder().client("a", PLC).build();
    assertThatThrownBy(() -> p.entries().put("b", PLC))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> p.changedOrRemoved(AaaPolicy.EMPTY).add("x"))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> PLC.hostsAllow().add(Cidr.parse("1.2.3.4")))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> PLC.publish().masks().add("x"))
        .isInstanceOf(UnsupportedOperationException.class);
  }
}
