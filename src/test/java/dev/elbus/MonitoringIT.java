package dev.elbus;

import dev.elbus.support.Http;
import dev.elbus.support.LeakGate;
import dev.elbus.support.RawClient;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.VertxPrometheusOptions;
import io.vertx.micrometer.backends.BackendRegistries;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import static dev.elbus.support.RawClient.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The monitoring endpoint of {@link ElbusVerticle} ({@code http:}): off by default (no HTTP port
 * at all), on with {@code http: HOST:PORT}, gone with the verticle; the broker's meters in Vert.x's
 * own registry when Vert.x runs Micrometer metrics, in an application's registry through {@link
 * ElbusMeters}; bad values and an address in use fail the deployment with one line.
 */
@ExtendWith(LeakGate.class)
class MonitoringIT {
  /** The test's Vert.x, closed after it. */
  private Vertx vertx;

  @AfterEach
  void closeVertx() throws Exception {
    if (vertx != null) {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  private static JsonObject config(Path sock) {
    return new JsonObject().put("workers", 1).put("timeout", 60)
        .put("listeners", new JsonArray().add(new JsonObject().put("bind", sock.toString())));
  }

  private static String deploy(Vertx vertx, ElbusVerticle v, JsonObject config) throws Exception {
    return vertx.deployVerticle(v, new DeploymentOptions().setConfig(config))
        .await(20, TimeUnit.SECONDS);
  }

  /**
   * The TCP ports this process listens on: the listening sockets of {@code /proc/net/tcp*} whose
   * inode is one of this process's file descriptors.
   */
  static Set<Integer> listeningPorts() throws IOException {
    Set<String> inodes = new HashSet<>();
    try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
      for (Path fd : fds) {
        try {
          String l = Files.readSymbolicLink(fd).toString();
          if (l.startsWith("socket:[")) {
            inodes.add(l.substring(8, l.length() - 1));
          }
        } catch (IOException e) {
          // closed meanwhile
        }
      }
    }
    Set<Integer> ports = new TreeSet<>();
    for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
      List<String> lines = Files.readAllLines(Path.of(table));
      for (String line : lines.subList(1, lines.size())) {
        String[] c = line.trim().split("\\s+");
        if (c[3].equals("0A") && inodes.contains(c[9])) {
          ports.add(Integer.parseInt(c[1].substring(c[1].indexOf(':') + 1), 16));
        }
      }
    }
    return ports;
  }

  @Test
  void withoutHttpNoPortIsOpenedAndWithItOneIs(@TempDir Path dir) throws Exception {
    vertx = Vertx.vertx();
    Set<Integer> before = listeningPorts();
    ElbusVerticle plain = new ElbusVerticle();
    String id = deploy(vertx, plain, config(dir.resolve("a.sock")));
    assertThat(plain.httpPort()).isEqualTo(-1);
    try (RawClient c = RawClient.unix(dir.resolve("a.sock"))) {
      assertThat(c.handshake("client")).isEqualTo(0x01);
    }
    assertThat(listeningPorts()).as("TCP ports listened on without http").isEqualTo(before);
    vertx.undeploy(id).await(20, TimeUnit.SECONDS);

    // the same check sees the endpoint's port when http is set
    ElbusVerticle monitored = new ElbusVerticle();
    id = deploy(vertx, monitored, config(dir.resolve("b.sock")).put("http", "127.0.0.1:0"));
    int port = monitored.httpPort();
    Set<Integer> expected = new TreeSet<>(before);
    expected.add(port);
    assertThat(listeningPorts()).isEqualTo(expected);
    assertThat(Http.get(port, "/ready").statusCode()).isEqualTo(200);
    Http.Metrics m = Http.metrics(port);
    assertThat(m.value("elbus_clients", "listener", dir.resolve("b.sock").toString(), "kind",
        "local_ipc")).isZero();
    assertThat(m.has("jvm_memory_used_bytes")).isTrue();
    // a Vert.x without metrics has no meters of its own to give
    assertThat(m.text()).doesNotContain("vertx_");

    vertx.undeploy(id).await(20, TimeUnit.SECONDS);
    assertThat(listeningPorts()).isEqualTo(before);
    assertThatThrownBy(() -> Http.get(port, "/health")).isInstanceOf(ConnectException.class);
  }

  @Test
  void withVertxMicrometerMetricsTheBrokersMetersJoinVertxsRegistry(@TempDir Path dir)
      throws Exception {
    MicrometerMetricsOptions metrics = new MicrometerMetricsOptions()
        .setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true));
    metrics.setEnabled(true);
    vertx = Vertx.builder().with(new VertxOptions().setMetricsOptions(metrics))
        .withMetrics(new MicrometerMetricsFactory()).build();
    MeterRegistry registry = BackendRegistries.getDefaultNow();
    ElbusVerticle v = new ElbusVerticle();
    String id = deploy(vertx, v, config(dir.resolve("m.sock")).put("http", "127.0.0.1:0"));
    assertThat(registry.find("elbus.uptime").gauge()).isNotNull();
    Http.get(v.httpPort(), "/health");
    Http.Metrics m = Http.metrics(v.httpPort());
    assertThat(m.has("vertx_http_server_requests_total")).as(m.text()).isTrue();
    assertThat(m.find("elbus_uptime_seconds")).isNotNull();
    vertx.undeploy(id).await(20, TimeUnit.SECONDS);
    // the registry outlives the broker: its meters went with it, Vert.x's stay
    assertThat(registry.getMeters()).noneMatch(x -> x.getId().getName().startsWith("elbus."));
    assertThat(registry.find("vertx.http.server.requests").meters()).isNotEmpty();
  }

  @Test
  void anApplicationBindsTheMetersToItsOwnRegistry(@TempDir Path dir) throws Exception {
    vertx = Vertx.vertx();
    ElbusVerticle v = new ElbusVerticle();
    deploy(vertx, v, config(dir.resolve("app.sock")));
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    ElbusMeters meters = new ElbusMeters(v.broker(), Tags.of("broker", "main"));
    meters.bindTo(registry);
    assertThatThrownBy(() -> meters.bindTo(new SimpleMeterRegistry()))
        .isInstanceOf(IllegalStateException.class);
    double before = registry.get("elbus.received.frames").tag("broker", "main")
        .functionCounter().count();
    try (RawClient c = RawClient.unix(dir.resolve("app.sock"))) {
      assertThat(c.handshake("client")).isEqualTo(0x01);
      c.frame(1, 0x12, 1, "nobody", utf8("x")).expectAck(1, 0x71);
      assertThat(registry.get("elbus.received.frames").functionCounter().count() - before)
          .isEqualTo(1);
      assertThat(registry.get("elbus.clients").tag("kind", "local_ipc").gauge().value())
          .isEqualTo(1);
    }
    meters.close();
    assertThat(registry.getMeters().stream().map(Meter::getId).map(Meter.Id::getName))
        .noneMatch(n -> n.startsWith("elbus."));
  }

  @Test
  void badHttpValuesFailTheDeploymentWithOneLine(@TempDir Path dir) throws Exception {
    vertx = Vertx.vertx();
    Object[][] cases = {
        {"nonsense", "ElbusVerticle config: http must be HOST:PORT (e.g. 127.0.0.1:9777), "
            + "got 'nonsense'"},
        {"127.0.0.1:70000", "ElbusVerticle config: http port out of range 0-65535, got "
            + "'127.0.0.1:70000'"},
        {"/tmp/monitor.sock", "ElbusVerticle config: http must be HOST:PORT (e.g. "
            + "127.0.0.1:9777), got '/tmp/monitor.sock'"},
        {9777, "ElbusVerticle config: http must be HOST:PORT (e.g. 127.0.0.1:9777), got "
            + "'9777'"}};
    for (Object[] c : cases) {
      assertThatThrownBy(() -> deploy(vertx, new ElbusVerticle(),
          config(dir.resolve("x.sock")).put("http", c[0])))
          .hasMessage((String) c[1]);
    }
    assertThat(vertx.deploymentIDs()).isEmpty();
  }

  @Test
  void anHttpAddressInUseFailsTheDeploymentAndLeavesNothing(@TempDir Path dir)
      throws Exception {
    vertx = Vertx.vertx();
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Set<Integer> before = listeningPorts();
      int port = taken.getLocalPort();
      Path sock = dir.resolve("busy.sock");
      assertThatThrownBy(() -> deploy(vertx, new ElbusVerticle(),
          config(sock).put("http", "127.0.0.1:" + port)))
          .hasMessageStartingWith("http 127.0.0.1:" + port + ": cannot listen: ");
      assertThat(sock).doesNotExist();
      assertThat(vertx.deploymentIDs()).isEmpty();
      assertThat(listeningPorts()).isEqualTo(before);
    }
  }
}
