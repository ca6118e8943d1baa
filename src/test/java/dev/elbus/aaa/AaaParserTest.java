package dev.elbus.aaa;

import dev.elbus.aaa.ClientAcl.Rule;
import dev.elbus.impl.config.ConfigFiles;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.yaml.snakeyaml.Yaml;

import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static dev.elbus.aaa.CidrTest.ip;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AaaParserTest {
  private static final String SRC = "conf/aaa.yaml";

  /** The errors of a JSON text. */
  private static List<String> errors(String json) {
    AaaParser.Result r = AaaParser.parse(new JsonObject(json), SRC);
    assertThat(r.isOk()).as("expected errors for %s", json).isFalse();
    return r.errors();
  }

  /** The errors of a YAML text, read the way SnakeYAML gives it (raw nested maps). */
  private static AaaParser.Result yaml(String text) {
    Map<String, Object> m = new Yaml().load(text);
    return AaaParser.parse(m == null ? null : new JsonObject(m), SRC);
  }

  @Test
  void topLevelErrors() {
    assertThat(errors("{}")).containsExactly(
        "conf/aaa.yaml: 'clients' is missing (write 'clients: {}' to admit nobody)");
    assertThat(AaaParser.parse(null, SRC).errors()).containsExactly(
        "conf/aaa.yaml: 'clients' is missing (write 'clients: {}' to admit nobody)");
    assertThat(errors("{\"clients\": [\"a\"]}")).containsExactly(
        "conf/aaa.yaml: clients: must be a map of client names to entries, got [\"a\"]");
    assertThat(errors("{\"clients\": null}")).containsExactly(
        "conf/aaa.yaml: clients: must be a map of client names to entries, got null");
    assertThat(errors("{\"clients\": \"plc1\"}")).containsExactly(
        "conf/aaa.yaml: clients: must be a map of client names to entries, got 'plc1'");
    assertThat(errors("{\"clients\": {}, \"client\": {}, \"aaa\": 1}")).containsExactly(
        "conf/aaa.yaml: unknown key 'client'", "conf/aaa.yaml: unknown key 'aaa'");
  }

  @Test
  void emptyClientsAdmitsNobody() {
    AaaParser.Result r = AaaParser.parse(new JsonObject("{\"clients\": {}}"), SRC);
    assertThat(r.isOk()).isTrue();
    assertThat(r.errors()).isEmpty();
    assertThat(r.policy()).isEqualTo(AaaPolicy.EMPTY);
    assertThat(r.policy().get("anyone")).isNull();
  }

  @Test
  void badClientNames() {
    assertThat(errors("{\"clients\": {\"\": {}, \".broker\": {}, \"a%%b\": {}, \"x\\u0000\": {},"
        + " \"ok\": {}, \"%%\": {}}}")).containsExactly(
        "conf/aaa.yaml: clients: client name '' is empty",
        "conf/aaa.yaml: clients: client name '.broker' starts with '.' (reserved for the "
            + "broker's internal clients)",
        "conf/aaa.yaml: clients: client name 'a%%b' contains '%%' (a secondary client uses its "
            + "primary's entry)",
        "conf/aaa.yaml: clients: client name 'x\\u0000' contains a NUL character",
        "conf/aaa.yaml: clients: client name '%%' contains '%%' (a secondary client uses its "
            + "primary's entry)");
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', quoteCharacter = '~', value = {
      "null|null", "\"all\"|'all'", "[]|[]", "true|true", "5|5"})
  void entryMustBeAMap(String value, String shown) {
    assertThat(errors("{\"clients\": {\"plc1\": " + value + "}}")).containsExactly(
        "conf/aaa.yaml: clients.plc1: must be a map ({} for an entry with every right), got "
            + shown);
  }

  @Test
  void unknownClientKeys() {
    assertThat(errors("{\"clients\": {\"plc1\": {\"alow_p2p_to\": [], \"deny\": true,"
        + " \"allow_p2p_to\": []}}}")).containsExactly(
        "conf/aaa.yaml: clients.plc1: unknown key 'alow_p2p_to'",
        "conf/aaa.yaml: clients.plc1: unknown key 'deny'");
  }

  @Test
  void hostsAllowErrors() {
    assertThat(errors("{\"clients\": {\"plc1\": {\"hosts_allow\": \"10.0.0.0/8\"}}}"))
        .containsExactly("conf/aaa.yaml: clients.plc1.hosts_allow: must be a list of CIDR "
            + "networks, got '10.0.0.0/8'");
    assertThat(errors("{\"clients\": {\"plc1\": {\"hosts_allow\": null}}}"))
        .containsExactly("conf/aaa.yaml: clients.plc1.hosts_allow: must be a list of CIDR "
            + "networks, got null");
    assertThat(errors("{\"clients\": {\"plc1\": {\"hosts_allow\": [10, \"1.2.3.4\", [1]]}}}"))
        .containsExactly(
            "conf/aaa.yaml: clients.plc1.hosts_allow[0]: must be a string, got 10",
            "conf/aaa.yaml: clients.plc1.hosts_allow[2]: must be a string, got [1]");
    assertThat(errors("{\"clients\": {\"plc1\": {\"hosts_allow\": [\"127.0.0.1/32\","
        + " \"10.0.0/8\", \"::1/129\", \"localhost\"]}}}")).containsExactly(
        "conf/aaa.yaml: clients.plc1.hosts_allow[1]: '10.0.0/8' is not a CIDR network",
        "conf/aaa.yaml: clients.plc1.hosts_allow[2]: '::1/129' is not a CIDR network: prefix "
            + "length must be 0-128",
        "conf/aaa.yaml: clients.plc1.hosts_allow[3]: 'localhost' is not a CIDR network: host "
            + "names are not resolved, write an address");
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "p2p|client-name masks", "publish|topic masks", "subscribe|topic masks",
      "broadcast|client-name masks"})
  void allowListErrors(String right, String what) {
    String key = "allow_" + right + "_to";
    assertThat(errors("{\"clients\": {\"plc1\": {\"" + key + "\": \"a.*\"}}}")).containsExactly(
        "conf/aaa.yaml: clients.plc1." + key + ": must be a list of " + what + ", got 'a.*'");
    assertThat(errors("{\"clients\": {\"plc1\": {\"" + key + "\": {\"a\": 1}}}}"))
        .containsExactly("conf/aaa.yaml: clients.plc1." + key + ": must be a list of " + what
            + ", got {\"a\":1}");
    assertThat(errors("{\"clients\": {\"plc1\": {\"" + key + "\": [\"a\", false, null]}}}"))
        .containsExactly(
            "conf/aaa.yaml: clients.plc1." + key + "[1]: must be a string, got false",
            "conf/aaa.yaml: clients.plc1." + key + "[2]: must be a string, got null");
    assertThat(errors("{\"clients\": {\"plc1\": {\"" + key + "\": [\"a\", \"b\\u0000\"]}}}"))
        .containsExactly("conf/aaa.yaml: clients.plc1." + key
            + "[1]: mask 'b\\u0000' contains a NUL character");
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {"p2p", "publish", "subscribe", "broadcast"})
  void denyErrors(String right) {
    String deny = "deny_" + right;
    String allow = "allow_" + right + "_to";
    for (String[] bad : new String[][] {{"\"yes\"", "'yes'"}, {"1", "1"}, {"null", "null"},
        {"[true]", "[true]"}}) {
      assertThat(errors("{\"clients\": {\"plc1\": {\"" + deny + "\": " + bad[0] + "}}}"))
          .containsExactly("conf/aaa.yaml: clients.plc1." + deny + ": must be true or false, got "
              + bad[1]);
    }
    assertThat(errors("{\"clients\": {\"plc1\": {\"" + deny + "\": true, \"" + allow
        + "\": [\"x\"]}}}")).containsExactly("conf/aaa.yaml: clients.plc1: " + deny
            + ": true contradicts the non-empty " + allow);
    // not contradictions
    AaaParser.Result r = AaaParser.parse(new JsonObject("{\"clients\": {\"a\": {\"" + deny
        + "\": true, \"" + allow + "\": []}, \"b\": {\"" + deny + "\": false, \"" + allow
        + "\": [\"x\"]}, \"c\": {\"" + deny + "\": false}}}"), SRC);
    assertThat(r.errors()).isEmpty();
    ClientAcl a = r.policy().get("a");
    ClientAcl b = r.policy().get("b");
    assertThat(a).isEqualTo(r.policy().get("a"));
    assertThat(a.toJson().getBoolean(deny)).isTrue();
    assertThat(b.toJson().getJsonArray(allow).getList()).containsExactly("x");
    assertThat(r.policy().get("c")).isEqualTo(ClientAcl.ALLOW_ALL);
  }

  @Test
  void everyErrorIsReportedAndPolicyRefused() {
    AaaParser.Result r = AaaParser.parse(new JsonObject("{\"extra\": 1, \"clients\": {"
        + "\"a\": {\"hosts_allow\": [\"x\"]}, \"good\": {}, \"b\": {\"deny_p2p\": 0}}}"), SRC);
    assertThat(r.isOk()).isFalse();
    assertThat(r.errors()).containsExactly(
        "conf/aaa.yaml: unknown key 'extra'",
        "conf/aaa.yaml: clients.a.hosts_allow[0]: 'x' is not a CIDR network: host names are not "
            + "resolved, write an address",
        "conf/aaa.yaml: clients.b.deny_p2p: must be true or false, got 0");
    assertThatThrownBy(r::policy).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(r::orElseThrow).isInstanceOf(IllegalArgumentException.class)
        .hasMessage(String.join("\n", r.errors()));
    assertThatThrownBy(() -> AaaParser.parseOrThrow(new JsonObject(), "f.yaml"))
        .hasMessage("f.yaml: 'clients' is missing (write 'clients: {}' to admit nobody)");
  }

  @Test
  void yamlTreesAsSnakeYamlGivesThem() throws Exception {
    AaaParser.Result r = yaml("clients:\n"
        + "  plc1:\n"
        + "    hosts_allow: [127.0.0.1/32, \"::1/128\", 10.0.0.0/8]\n"
        + "    allow_p2p_to: [\"ui.*\", historian]\n"
        + "    deny_broadcast: yes\n" // YAML 1.1 boolean
        + "  1: {}\n");
    assertThat(r.errors()).isEmpty();
    ClientAcl plc1 = r.policy().get("plc1");
    assertThat(plc1.hostAllowed(ip("10.9.8.7"))).isTrue();
    assertThat(plc1.hostAllowed(ip("11.9.8.7"))).isFalse();
    assertThat(plc1.canSendTo("ui.main")).isTrue();
    assertThat(plc1.canSendTo("other")).isFalse();
    assertThat(plc1.canBroadcast("ui.*")).isFalse();
    assertThat(r.policy().get("1")).isEqualTo(ClientAcl.ALLOW_ALL);

    assertThat(yaml("clients:\n  ui:\n").errors()).containsExactly(
        "conf/aaa.yaml: clients.ui: must be a map ({} for an entry with every right), got null");
    assertThat(yaml("clients:\n  ui:\n    hosts_allow:\n").errors()).containsExactly(
        "conf/aaa.yaml: clients.ui.hosts_allow: must be a list of CIDR networks, got null");
    assertThat(yaml("").errors()).containsExactly(
        "conf/aaa.yaml: 'clients' is missing (write 'clients: {}' to admit nobody)");
    assertThat(yaml("clients:\n  plc1:\n    allow_publish_to: plc1/#\n").errors())
        .containsExactly("conf/aaa.yaml: clients.plc1.allow_publish_to: must be a list of topic "
            + "masks, got 'plc1/#'");
    assertThat(yaml("clients:\n  \"a\\nb.\": {hosts_allow: [\"1.2.3.4/\\t\"]}\n").errors())
        .containsExactly("conf/aaa.yaml: clients.a\\u000ab..hosts_allow[0]: '1.2.3.4/\\u0009' is "
            + "not a CIDR network");
  }

  @Test
  void exampleFileParses() throws Exception {
    Vertx vertx = Vertx.vertx();
    JsonObject viaVertx;
    try {
      viaVertx = ConfigFiles.read(vertx, "conf/aaa.yaml");
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
    AaaPolicy p = AaaParser.parse(viaVertx, "conf/aaa.yaml").orElseThrow();
    Map<String, Object> raw;
    try (Reader in = Files.newBufferedReader(Path.of("conf/aaa.yaml"))) {
      raw = new Yaml().load(in);
    }
    assertThat(AaaParser.parse(new JsonObject(raw), "conf/aaa.yaml").policy()).isEqualTo(p);

    assertThat(p.names()).containsExactly("historian", "plc1", "ui.main");
    ClientAcl plc1 = p.forClient("plc1%%poller");
    assertThat(plc1).isEqualTo(ClientAcl.builder()
        .hostsAllow("127.0.0.1/32", "::1/128", "10.0.0.0/8")
        .p2p(Rule.only("ui.*", "historian")).publish(Rule.only("plc1/#"))
        .subscribe(Rule.only("cmd/plc1/#")).broadcast(Rule.only("plc.*")).build());
    // the claims of the file's comments
    assertThat(plc1.canSendTo("historian%%1")).isFalse();
    assertThat(plc1.canPublish("plc1/temp")).isTrue();
    assertThat(plc1.canPublish("plc1")).isFalse();
    assertThat(plc1.canSubscribe("cmd/plc1/+")).isTrue();
    assertThat(plc1.canSubscribe("cmd/plc1/#")).isTrue();
    assertThat(plc1.canSubscribe("cmd/#")).isFalse();
    assertThat(plc1.canSubscribe("+/plc1/x")).isFalse();
    assertThat(plc1.canBroadcast("plc.?")).isTrue();
    assertThat(plc1.canBroadcast("plc.a.b")).isTrue();
    assertThat(plc1.canBroadcast("*")).isFalse();
    ClientAcl ui = p.get("ui.main");
    assertThat(ui.hostAllowed(ip("192.168.1.20"))).isTrue();
    assertThat(ui.hostAllowed(ip("fd12::1"))).isTrue();
    assertThat(ui.hostAllowed(ip("127.0.0.1"))).isFalse();
    assertThat(ui.canSendTo("plc1")).isFalse();
    assertThat(ui.canPublish("x")).isFalse();
    assertThat(ui.canBroadcast("x")).isFalse();
    assertThat(ui.canSubscribe("plc1/+")).isTrue();
    assertThat(ui.canSubscribe("plc1/status")).isTrue();
    assertThat(ui.canSubscribe("#")).isFalse();
    assertThat(p.get("historian")).isEqualTo(ClientAcl.ALLOW_ALL);
    assertThat(AaaParser.parse(p.toJson(), "again").policy()).isEqualTo(p);
  }
}
