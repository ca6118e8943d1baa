package dev.elbus.impl.config;

import dev.elbus.client.Bind;
import dev.elbus.config.ClusterOptions;
import dev.elbus.config.ListenerOptions;
import dev.elbus.config.TlsOptions;
import dev.elbus.impl.routing.ClientLimits;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The server configuration file (RELIABILITY.md item 8): the shipped files parse, and every
 * malformed input gives one clear error naming the file and the entry.
 */
class ServerConfigTest {
  private static Vertx vertx;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stop() {
    vertx.close();
  }

  @Test
  void shippedConfigurationsParse() {
    ServerConfig c = ServerConfig.parse(ConfigFiles.read(vertx, "conf/elbus.yaml"),
        "conf/elbus.yaml");
    assertThat(c.listeners()).extracting(l -> l.getBind().toString())
        .containsExactly("/tmp/elbus.sock", "127.0.0.1:7777");
    ListenerOptions l = c.listeners().get(1);
    assertThat(l.getTimeoutMs()).isEqualTo(5000);
    assertThat(l.getQueueSize()).isEqualTo(8192);
    assertThat(l.getBufSize()).isEqualTo(16384);
    assertThat(l.getMaxFrameSize()).isEqualTo(64 * 1024 * 1024);
    assertThat(l.getAaaFile()).isNull();
    assertThat(c.coreRpc()).isTrue();
    // the file states the defaults
    ListenerOptions dflt = new ListenerOptions();
    assertThat(ClientLimits.of(l)).isEqualTo(ClientLimits.of(dflt));
    assertThat(l.getMaxHandshakes()).isEqualTo(ListenerOptions.DEFAULT_MAX_HANDSHAKES);
    assertThat(l.getHandshakeBurst()).isEqualTo(ListenerOptions.DEFAULT_HANDSHAKE_BURST);
    assertThat(l.getHandshakeRate()).isEqualTo(ListenerOptions.DEFAULT_HANDSHAKE_RATE);
    assertThat(c.listeners().get(0).getHandshakeRate()).as("Unix socket").isZero();
    ServerConfig d = ServerConfig.parse(ConfigFiles.read(vertx, "conf/elbus-docker.yaml"),
        "conf/elbus-docker.yaml");
    assertThat(d.listeners()).extracting(x -> x.getBind().toString())
        .containsExactly("/var/run/elbus/elbus.sock", "0.0.0.0:7777");
    // the image serves /metrics, /health and /ready (its HEALTHCHECK asks /health); the default
    // configuration opens no HTTP port
    assertThat(d.http()).isEqualTo(Bind.tcp("0.0.0.0", 9777));
    assertThat(c.http()).isNull();
  }

  @Test
  void httpIsAHostAndPort() {
    assertThat(ServerConfig.parse(new JsonObject("{\"http\": \"127.0.0.1:9777\"}"), "t.yaml")
        .http()).isEqualTo(Bind.tcp("127.0.0.1", 9777));
    assertThat(ServerConfig.parse(new JsonObject("{\"http\": \"[::1]:0\"}"), "t.yaml").http())
        .isEqualTo(Bind.tcp("::1", 0));
    assertThat(ServerConfig.parse(new JsonObject("{\"http\": null}"), "t.yaml").http()).isNull();
    assertThat(ServerConfig.parse(new JsonObject("{}"), "t.yaml").http()).isNull();
  }

  @Test
  void listenerSettingsOverrideTheDefaults() {
    ServerConfig c = ServerConfig.parse(new JsonObject("{\"timeout\": 2, \"queue_size\": 10,"
        + "\"listeners\": [{\"bind\": \"a.sock\"}, {\"bind\": \"h:1\", \"queue_size\": 20,"
        + "\"aaa\": \"x.yaml\", \"idle_timeout\": 1.5, \"force_register\": true},"
        + "{\"bind\": \"fifo:/tmp/f\"}]}"), "t.yaml");
    assertThat(c.listeners()).hasSize(2);
    assertThat(c.listeners().get(0).getQueueSize()).isEqualTo(10);
    assertThat(c.listeners().get(0).getTimeoutMs()).isEqualTo(2000);
    assertThat(c.listeners().get(1).getQueueSize()).isEqualTo(20);
    assertThat(c.listeners().get(1).getAaaFile()).isEqualTo("x.yaml");
    assertThat(c.listeners().get(1).getIdleTimeoutMs()).isEqualTo(1500);
    assertThat(c.listeners().get(1).isForceRegister()).isTrue();
    assertThat(c.fifos()).containsExactly("/tmp/f");
  }

  @Test
  void clientLimits() {
    ServerConfig c = ServerConfig.parse(new JsonObject("{\"max_topic_levels\": 16,"
        + "\"max_subscriptions\": 5, \"listeners\": [{\"bind\": \"a.sock\"}, {\"bind\": "
        + "\"h:1\", \"max_subscription_bytes\": 4096, \"max_wildcard_levels\": 0,"
        + "\"max_name_parts\": 3}]}"), "t.yaml");
    assertThat(ClientLimits.of(c.listeners().get(0)))
        .isEqualTo(new ClientLimits(16,
            ListenerOptions.DEFAULT_MAX_SUBSCRIPTION_BYTES, 5,
            ListenerOptions.DEFAULT_MAX_WILDCARD_LEVELS, ListenerOptions.DEFAULT_MAX_NAME_PARTS));
    assertThat(ClientLimits.of(c.listeners().get(1)))
        .isEqualTo(new ClientLimits(16, 4096, 5, 0, 3));
    ServerConfig h = ServerConfig.parse(new JsonObject("{\"max_handshakes\": 7}"), "t.yaml");
    assertThat(h.defaults().getMaxHandshakes()).isEqualTo(7);
  }

  @Test
  void turnBudget() {
    ServerConfig c = ServerConfig.parse(new JsonObject("{\"turn_budget\": 500, \"listeners\": "
        + "[{\"bind\": \"a.sock\"}, {\"bind\": \"h:1\", \"turn_budget\": 0}]}"), "t.yaml");
    assertThat(c.listeners().get(0).getTurnBudgetUs()).isEqualTo(500);
    assertThat(c.listeners().get(1).getTurnBudgetUs()).isZero();
    assertThat(ServerConfig.parse(new JsonObject("{}"), "t.yaml").defaults().getTurnBudgetUs())
        .isEqualTo(ListenerOptions.DEFAULT_TURN_BUDGET_US).isEqualTo(5_000);
  }

  @Test
  void handshakePacing() {
    ServerConfig c = ServerConfig.parse(new JsonObject("{\"handshake_rate\": 300, "
        + "\"handshake_burst\": 8, \"listeners\": [{\"bind\": \"a.sock\"}, {\"bind\": \"h:1\", "
        + "\"handshake_rate\": 0}]}"), "t.yaml");
    assertThat(c.listeners().get(0).getHandshakeRate()).isEqualTo(300);
    assertThat(c.listeners().get(0).getHandshakeBurst()).isEqualTo(8);
    assertThat(c.listeners().get(1).getHandshakeRate()).isZero();
    assertThat(c.listeners().get(1).getHandshakeBurst()).isEqualTo(8);
    ListenerOptions d = ServerConfig.parse(new JsonObject("{}"), "t.yaml").defaults();
    assertThat(d.getHandshakeRate()).isEqualTo(ListenerOptions.DEFAULT_HANDSHAKE_RATE)
        .isEqualTo(1_000);
    assertThat(d.getHandshakeBurst()).isEqualTo(ListenerOptions.DEFAULT_HANDSHAKE_BURST)
        .isEqualTo(64);
    // not set: 1,000 on a TCP listener, not paced on a Unix socket
    ServerConfig k = ServerConfig.parse(new JsonObject("{\"listeners\": [{\"bind\": \"a.sock\"}, "
        + "{\"bind\": \"h:1\"}, {\"bind\": \"b.sock\", \"handshake_rate\": 5}]}"), "t.yaml");
    assertThat(k.listeners()).extracting(ListenerOptions::getHandshakeRate)
        .containsExactly(0, 1_000, 5);
  }

  @Test
  void writeTimeoutAndInternalClientBounds() {
    ServerConfig c = ServerConfig.parse(new JsonObject("{\"write_timeout\": 0.25,"
        + "\"listeners\": [{\"bind\": \"a.sock\"}, {\"bind\": \"h:1\", \"write_timeout\": 3}],"
        + "\"internal_clients\": {\"queue_size\": 100, \"queue_max_bytes\": 4096,"
        + "\"overflow\": \"disconnect\"}}"), "t.yaml");
    assertThat(c.listeners().get(0).getWriteTimeoutMs()).isEqualTo(250);
    assertThat(c.listeners().get(1).getWriteTimeoutMs()).isEqualTo(3000);
    assertThat(c.internalClients().getQueueSize()).isEqualTo(100);
    assertThat(c.internalClients().getQueueMaxBytes()).isEqualTo(4096);
    assertThat(c.internalClients().getOverflow())
        .isEqualTo(dev.elbus.config.InternalClientOptions.Overflow.DISCONNECT);
    ServerConfig d = ServerConfig.parse(new JsonObject("{}"), "t.yaml");
    assertThat(d.defaults().getWriteTimeoutMs()).isEqualTo(1000);
    assertThat(d.internalClients().getQueueSize()).isZero(); // the broker's default applies
  }

  @Test
  void theClusterSection() {
    ServerConfig c = ServerConfig.parse(ConfigFiles.read(vertx, "conf/elbus-cluster.yaml"),
        "conf/elbus-cluster.yaml");
    ClusterOptions o = c.brokerOptions().getCluster();
    assertThat(o.getName()).isEqualTo("elbus");
    assertThat(o.getPort()).isEqualTo(5701);
    assertThat(o.getBusPort()).isEqualTo(5801);
    assertThat(o.getMembers()).containsExactly("node1:5701", "node2:5701", "node3:5701");
    assertThat(o.getMaxNoHeartbeatSeconds()).isEqualTo(10);
    assertThat(o.getTimeoutMs()).isEqualTo(5000);
    // absent: a single broker; every key
    assertThat(ServerConfig.parse(new JsonObject(), "t").brokerOptions().getCluster()).isNull();
    ClusterOptions all = ServerConfig.parse(new JsonObject("{\"cluster\": {\"name\": \"c\", "
        + "\"host\": \"10.0.0.1\", \"port\": 6000, \"members\": [\"10.0.0.2\", \"[::1]:6001\"], "
        + "\"node\": \"a\", \"bus_host\": \"10.0.0.9\", \"bus_port\": 6100, \"heartbeat\": 2, "
        + "\"max_no_heartbeat\": 7, \"merge\": 3, \"quorum\": 2, \"timeout\": 0.5, "
        + "\"window\": 1000, \"queue_max_bytes\": 2000}}"), "t").cluster();
    assertThat(List.of(all.getName(), all.getHost(), all.getPort(), all.getMembers(),
        all.getNodeName(), all.getBusHost(), all.getBusPort(), all.getHeartbeatSeconds(),
        all.getMaxNoHeartbeatSeconds(), all.getMergeSeconds(), all.getQuorum(),
        all.getTimeoutMs(), all.getWindowBytes(), all.getQueueMaxBytes())).containsExactly("c",
        "10.0.0.1", 6000, List.of("10.0.0.2", "[::1]:6001"), "a", "10.0.0.9", 6100, 2, 7, 3, 2,
        500L, 1000L, 2000L);
  }

  @Test
  void tlsIsPerTcpListener() {
    ServerConfig c = ServerConfig.parse(new JsonObject("{\"listeners\": [{\"bind\": \"h:1\"},"
        + "{\"bind\": \"h:2\", \"tls\": {\"cert\": \"s.pem\", \"key\": \"s.key\"}},"
        + "{\"bind\": \"h:3\", \"tls\": {\"cert\": \"s.pem\", \"key\": \"s.key\", \"ca\": \"ca.pem\","
        + "\"client_auth\": \"required\", \"name_from_cn\": true, \"scan_period\": 0.5}}]}"),
        "t.yaml");
    assertThat(c.listeners().get(0).getTls()).isNull();
    TlsOptions plain = c.listeners().get(1).getTls();
    assertThat(plain.getCert()).isEqualTo("s.pem");
    assertThat(plain.getKey()).isEqualTo("s.key");
    assertThat(plain.getCa()).isNull();
    assertThat(plain.getClientAuth()).isEqualTo(TlsOptions.ClientAuth.NONE);
    assertThat(plain.isNameFromCn()).isFalse();
    assertThat(plain.getScanPeriodMs()).isEqualTo(TlsOptions.DEFAULT_SCAN_PERIOD_MS);
    TlsOptions mutual = c.listeners().get(2).getTls();
    assertThat(mutual.getCa()).isEqualTo("ca.pem");
    assertThat(mutual.getClientAuth()).isEqualTo(TlsOptions.ClientAuth.REQUIRED);
    assertThat(mutual.isNameFromCn()).isTrue();
    assertThat(mutual.getScanPeriodMs()).isEqualTo(500);
    // a copy of the options is a deep copy
    ListenerOptions copy = new ListenerOptions(c.listeners().get(2));
    copy.getTls().setCert("other.pem");
    assertThat(mutual.getCert()).isEqualTo("s.pem");
    // Unix sockets refuse TLS programmatically too, in either order
    assertThatThrownBy(() -> ListenerOptions.of("/tmp/x.sock").setTls(plain))
        .hasMessageContaining("tls is for TCP listeners");
    assertThatThrownBy(() -> new ListenerOptions().setTls(plain)
        .setBind(dev.elbus.client.Bind.unix("/tmp/x.sock")))
        .hasMessageContaining("tls is for TCP listeners");
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "{\"workerz\": 1}|t.yaml: unknown key 'workerz'",
      "{\"workers\": \"x\"}|t.yaml: workers must be an integer, got 'x'",
      "{\"queue_size\": -3}|t.yaml: queue_size must be 1..2147483647, got -3",
      "{\"listeners\": [{\"bind\": \"h:1\", \"buf_size\": 0}]}|t.yaml: listeners[0]: buf_size must be 1..2147483647, got 0",
      "{\"listeners\": [{\"bind\": \"h:1\", \"colour\": 1}]}|t.yaml: listeners[0]: unknown key 'colour'",
      "{\"listeners\": [{\"timeout\": 1}]}|t.yaml: listeners[0]: 'bind' is required",
      "{\"listeners\": [{\"bind\": \"nonsense\"}]}|t.yaml: listeners[0]: bind 'nonsense': expected HOST:PORT",
      "{\"listeners\": [{\"bind\": \"h:99999\"}]}|t.yaml: listeners[0]: bind 'h:99999': port out of range 0-65535",
      "{\"listeners\": {\"bind\": \"h:1\"}}|t.yaml: listeners must be a list",
      "{\"core_rpc\": \"yes\"}|t.yaml: core_rpc must be true or false, got 'yes'",
      "{\"timeout\": 0}|t.yaml: timeout must be more than 0 and at most 86400 seconds, got 0.0",
      "{\"listeners\": [{\"bind\": \"h:1\", \"aaa\": 3}]}|t.yaml: listeners[0]: aaa must be the path of an AAA file, got '3'",
      "{\"listeners\": [{\"bind\": \"h:1\", \"force_register\": 1}]}|t.yaml: listeners[0]: force_register must be true or false, got '1'",
      "{\"max_topic_levels\": 0}|t.yaml: max_topic_levels must be 1..2147483647, got 0",
      "{\"listeners\": [{\"bind\": \"h:1\", \"max_wildcard_levels\": -1}]}|t.yaml: listeners[0]: max_wildcard_levels must be 0..2147483647, got -1",
      "{\"max_subscription_bytes\": 1.5}|t.yaml: max_subscription_bytes must be an integer, got '1.5'",
      "{\"turn_budget\": -1}|t.yaml: turn_budget must be 0..1000000, got -1",
      "{\"listeners\": [{\"bind\": \"h:1\", \"turn_budget\": 1000001}]}|t.yaml: listeners[0]: turn_budget must be 0..1000000, got 1000001",
      "{\"handshake_rate\": -1}|t.yaml: handshake_rate must be 0..2147483647, got -1",
      "{\"listeners\": [{\"bind\": \"h:1\", \"handshake_burst\": 1.5}]}|t.yaml: listeners[0]: handshake_burst must be an integer, got '1.5'",
      "{\"write_timeout\": 0}|t.yaml: write_timeout must be more than 0 and at most 86400 seconds, got 0.0",
      "{\"internal_clients\": 3}|t.yaml: internal_clients must be a map",
      "{\"internal_clients\": {\"size\": 3}}|t.yaml: internal_clients: unknown key 'size'",
      "{\"internal_clients\": {\"queue_size\": 0}}|t.yaml: internal_clients: queue_size must be 1..2147483647, got 0",
      "{\"internal_clients\": {\"overflow\": \"block\"}}|t.yaml: internal_clients: overflow must be refuse or disconnect, got 'block'",
      "{\"cluster\": 1}|t.yaml: cluster must be a map",
      "{\"cluster\": {\"nodes\": 1}}|t.yaml: cluster: unknown key 'nodes'",
      "{\"cluster\": {\"port\": 0}}|t.yaml: cluster: port must be 1..65535, got 0",
      "{\"cluster\": {\"members\": \"a:1\"}}|t.yaml: cluster: members must be a list of HOST:PORT",
      "{\"cluster\": {\"members\": [\"a:x\"]}}|t.yaml: cluster: member 'a:x' is not HOST:PORT",
      "{\"cluster\": {\"name\": \"\"}}|t.yaml: cluster: name must be a non-empty string, got ''",
      "{\"cluster\": {\"quorum\": 1}}|t.yaml: cluster: quorum must be 0 (off) or at least 2, got 1",
      "{\"cluster\": {\"timeout\": 0}}|t.yaml: cluster: timeout must be more than 0 and at most 86400 seconds, got 0.0",
      "{\"cluster\": {\"heartbeat\": 5, \"max_no_heartbeat\": 5}}|t.yaml: cluster: max_no_heartbeat (5) must be more than heartbeat (5)",
      "{\"cluster\": {\"bus_port\": 70000}}|t.yaml: cluster: bus_port must be 0..65535, got 70000",
      "{\"http\": \"localhost\"}|t.yaml: http must be HOST:PORT (e.g. 127.0.0.1:9777), got 'localhost'",
      "{\"http\": \":9777\"}|t.yaml: http must be HOST:PORT (e.g. 127.0.0.1:9777), got ':9777'",
      "{\"http\": \"[]:9777\"}|t.yaml: http must be HOST:PORT (e.g. 127.0.0.1:9777), got '[]:9777'",
      "{\"http\": \"h:x\"}|t.yaml: http must be HOST:PORT (e.g. 127.0.0.1:9777), got 'h:x'",
      "{\"http\": \"h:65536\"}|t.yaml: http port out of range 0-65535, got 'h:65536'",
      "{\"http\": \"/run/elbus/http.sock\"}|t.yaml: http must be HOST:PORT (e.g. 127.0.0.1:9777), got '/run/elbus/http.sock'",
      "{\"http\": \"fifo:/x\"}|t.yaml: http must be HOST:PORT (e.g. 127.0.0.1:9777), got 'fifo:/x'",
      "{\"http\": 9777}|t.yaml: http must be HOST:PORT (e.g. 127.0.0.1:9777), got '9777'",
      "{\"http\": true}|t.yaml: http must be HOST:PORT (e.g. 127.0.0.1:9777), got 'true'",
      "{\"listeners\": [{\"bind\": \"a.sock\", \"tls\": {\"cert\": \"c\", \"key\": \"k\"}}]}|t.yaml: listeners[0]: tls is for TCP listeners; a.sock is a Unix socket",
      "{\"listeners\": [{\"bind\": \"h:1\", \"tls\": {\"cert\": \"c\"}}]}|t.yaml: listeners[0]: tls: key (a PEM file) is required",
      "{\"listeners\": [{\"bind\": \"h:1\", \"tls\": {\"key\": \"k\"}}]}|t.yaml: listeners[0]: tls: cert (a PEM file) is required",
      "{\"listeners\": [{\"bind\": \"h:1\", \"tls\": true}]}|t.yaml: listeners[0]: tls must be a map with cert and key",
      "{\"listeners\": [{\"bind\": \"h:1\", \"tls\": {\"cert\": \"c\", \"key\": \"k\", \"certs\": 1}}]}|t.yaml: listeners[0]: tls: unknown key 'certs'",
      "{\"listeners\": [{\"bind\": \"h:1\", \"tls\": {\"cert\": 3, \"key\": \"k\"}}]}|t.yaml: listeners[0]: tls: cert must be the path of a PEM file, got '3'",
      "{\"listeners\": [{\"bind\": \"h:1\", \"tls\": {\"cert\": \"c\", \"key\": \"k\", \"client_auth\": \"yes\"}}]}|t.yaml: listeners[0]: tls: client_auth must be none, request or required, got 'yes'",
      "{\"listeners\": [{\"bind\": \"h:1\", \"tls\": {\"cert\": \"c\", \"key\": \"k\", \"name_from_cn\": true}}]}|t.yaml: listeners[0]: tls: name_from_cn needs client_auth: required",
      "{\"listeners\": [{\"bind\": \"h:1\", \"tls\": {\"cert\": \"c\", \"key\": \"k\", \"client_auth\": \"request\", \"name_from_cn\": true}}]}|t.yaml: listeners[0]: tls: name_from_cn needs client_auth: required",
      "{\"listeners\": [{\"bind\": \"h:1\", \"tls\": {\"cert\": \"c\", \"key\": \"k\", \"name_from_cn\": \"yes\"}}]}|t.yaml: listeners[0]: tls: name_from_cn must be true or false, got 'yes'",
      "{\"listeners\": [{\"bind\": \"h:1\", \"tls\": {\"cert\": \"c\", \"key\": \"k\", \"scan_period\": 0}}]}|t.yaml: listeners[0]: tls: scan_period must be more than 0 and at most 86400 seconds, got 0.0",
      "{\"listeners\": [{\"bind\": \"tls://h:1\"}]}|t.yaml: listeners[0]: bind 'tls://h:1': a listener gets TLS from its tls: {cert, key} settings",
      "{\"tls\": {\"cert\": \"c\", \"key\": \"k\"}}|t.yaml: tls is set per listener (listeners[N].tls), not at the top level",
  })
  void malformedSettingsNameFileAndEntry(String json, String message) {
    assertThatThrownBy(() -> ServerConfig.parse(new JsonObject(json), "t.yaml"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith(message)
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
  }

  @Test
  void unreadableOrBrokenFilesNameTheFile(@TempDir Path dir) throws Exception {
    assertThatThrownBy(() -> ConfigFiles.read(vertx, dir.resolve("none.yaml").toString()))
        .hasMessage(dir.resolve("none.yaml") + ": no such file");
    Path syntax = dir.resolve("syntax.yaml");
    Files.writeString(syntax, "listeners: [\n  - bind: x\n");
    assertThatThrownBy(() -> ConfigFiles.read(vertx, syntax.toString()))
        .hasMessageStartingWith(syntax + ": cannot parse: ");
    Path truncated = dir.resolve("truncated.yaml");
    Files.writeString(truncated, "listeners:\n  - bind: \"/tmp/x.so");
    assertThatThrownBy(() -> ConfigFiles.read(vertx, truncated.toString()))
        .hasMessageStartingWith(truncated + ": cannot parse: ");
    Path json = dir.resolve("bad.json");
    Files.writeString(json, "{\"workers\": ");
    assertThatThrownBy(() -> ConfigFiles.read(vertx, json.toString()))
        .hasMessageStartingWith(json + ": cannot parse: ");
  }
}
