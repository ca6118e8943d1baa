package dev.elbus.server;

import dev.elbus.impl.net.FifoChannel;
import dev.elbus.rpc.MsgPack;
import dev.elbus.support.Http;
import dev.elbus.support.LeakGate;
import dev.elbus.support.RawClient;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.elbus.support.RawClient.brokerFrame;
import static dev.elbus.support.RawClient.concat;
import static dev.elbus.support.RawClient.utf8;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The stand-alone server as a separate process (the fat jar, run as the README and the Docker
 * image run it): listeners, FIFO line forms, pid file, SIGTERM behaviour, start-up errors.
 */
@ExtendWith(LeakGate.class)
class ServerIT {

  @Test
  void servesSocketsFifoAndShutsDownCleanlyOnSigterm(@TempDir Path dir) throws Exception {
    Path sock = dir.resolve("elbus.sock");
    Path fifo = dir.resolve("elbus.fifo");
    Path pid = dir.resolve("elbusd.pid");
    int port = ServerProcess.freePort();
    try (ServerProcess srv = ServerProcess.start("-B", sock.toString(), "-B", "127.0.0.1:" + port,
        "-B", "fifo:" + fifo, "-P", pid.toString(), "-w", "1", "-t", "60")) {
      assertThat(srv.awaitLine("elbus broker started", 30_000)).as(srv.output().toString()).isTrue();
      assertThat(Files.readString(pid).trim()).isEqualTo(Long.toString(srv.pid()));
      assertThat(FifoChannel.isFifo(fifo)).isTrue();
      assertThat(java.nio.file.attribute.PosixFilePermissions.toString(
          Files.getPosixFilePermissions(fifo))).isEqualTo("rw--w--w-");

      try (RawClient unix = RawClient.unix(sock); RawClient tcp = RawClient.tcp("127.0.0.1", port)) {
        assertThat(unix.handshake("u1")).isEqualTo(1);
        assertThat(tcp.handshake("t1")).isEqualTo(1);
        unix.frame(1, 0x02, 1, utf8("news/#")).expectAck(1, 1);

        // the four FIFO line forms, a malformed line in between, writers coming and going
        writeFifo(fifo, "u1 hello world\n");
        unix.expect(brokerFrame(0x12, false, ".broker", null, utf8("hello world")));
        writeFifo(fifo, "=news/a some news\nnot-a-command\n");
        unix.expect(brokerFrame(0x01, false, ".broker", "news/a", utf8("some news")));
        writeFifo(fifo, "u1 .ping me\n");
        unix.expect(brokerFrame(0x12, false, ".broker", null, concat(new byte[] {0},
            utf8("ping me"))));
        writeFifo(fifo, "u1 :do x=1 flag=true ratio=2.5 who=me\n");
        byte[] params = MsgPack.encode(MsgPack.map("x", 1L, "flag", true, "ratio", 2.5,
            "who", "me"));
        unix.expect(brokerFrame(0x12, false, ".broker", null, concat(
            new byte[] {0x01, 0, 0, 0, 0}, utf8("do"), new byte[] {0}, params)));
        writeFifo(fifo, "? to every one-part name\n");
        unix.expect(brokerFrame(0x13, false, ".broker", null, utf8("to every one-part name")));
        tcp.expect(brokerFrame(0x13, false, ".broker", null, utf8("to every one-part name")));
        assertThat(srv.awaitLine("skipped malformed line 'not-a-command'", 5_000)).isTrue();

        srv.terminate();
        byte[] head = tcp.read(6);
        assertThat(head[0]).isEqualTo((byte) 0x01);
        int len = (head[1] & 0xFF) | (head[2] & 0xFF) << 8;
        byte[] body = tcp.read(len);
        byte[] prefix = concat(utf8(".broker"), new byte[] {0}, utf8(".broker/warn"), new byte[] {0});
        assertThat(body).startsWith(prefix);
        Map<String, Object> m = MsgPack.decodeMap(java.util.Arrays.copyOfRange(body, prefix.length,
            body.length));
        assertThat(m.get("s")).isEqualTo("shutdown");
        tcp.expectClosed(10_000);
        assertThat(srv.awaitExit(20_000)).isEqualTo(0);
      }
      assertThat(sock).doesNotExist();
      assertThat(fifo).doesNotExist();
      assertThat(pid).doesNotExist();
    }
  }

  @Test
  void theDockerImageCommandLineServesItsConfiguration(@TempDir Path dir) throws Exception {
    // the image runs: java -XX:+ExitOnOutOfMemoryError -jar elbus.jar -c /etc/elbus/elbus.yaml
    // with conf/elbus-docker.yaml; here with its paths moved to a temp dir and free ports
    int port = ServerProcess.freePort();
    int http = ServerProcess.freePort();
    Path sock = dir.resolve("elbus.sock");
    String conf = Files.readString(Path.of("conf", "elbus-docker.yaml"))
        .replace("/var/run/elbus/elbus.sock", sock.toString())
        .replace("0.0.0.0:7777", "127.0.0.1:" + port)
        .replace("0.0.0.0:9777", "127.0.0.1:" + http);
    assertThat(conf).contains("http: 127.0.0.1:" + http);
    Path cfg = dir.resolve("elbus.yaml");
    Files.writeString(cfg, conf);
    try (ServerProcess srv = ServerProcess.start(List.of("-XX:+ExitOnOutOfMemoryError"), "-c",
        cfg.toString())) {
      assertThat(srv.awaitLine("elbus broker started", 30_000)).as(srv.output().toString()).isTrue();
      try (RawClient unix = RawClient.unix(sock); RawClient tcp = RawClient.tcp("127.0.0.1", port)) {
        assertThat(unix.handshake("a")).isEqualTo(1);
        assertThat(tcp.handshake("b")).isEqualTo(1);
        tcp.frame(2, 0x12, 1, "a", utf8("x")).expectAck(2, 1);
        unix.expect(brokerFrame(0x12, false, "b", null, utf8("x")));
        // the image's HEALTHCHECK, as the Dockerfile has it, against the running broker
        assertThat(healthCheck(http)).as("health check exit status").isZero();
        Http.Metrics m = Http.metrics(http);
        assertThat(m.value("elbus_clients", "listener", "127.0.0.1:" + port, "kind", "tcp"))
            .isEqualTo(1);
        assertThat(m.value("elbus_received_frames_total")).isEqualTo(1);
        // Vert.x's meters beside the broker's (its net server's are off: they would read 0)
        assertThat(m.has("vertx_http_server_requests_total")).as(m.text()).isTrue();
        assertThat(m.text()).doesNotContain("vertx_net_server");
        assertThat(m.has("process_files_open_files")).isTrue();
        assertThat(Http.get(http, "/ready").statusCode()).isEqualTo(200);
      }
      srv.terminate();
      assertThat(srv.awaitExit(20_000)).isEqualTo(0);
      assertThat(healthCheck(http)).as("health check of a stopped broker").isNotZero();
      assertThat(srv.output()).noneMatch(l -> l.contains("WARN") || l.contains("ERROR"));
    }
  }

  /**
   * The Dockerfile's HEALTHCHECK asks {@code /health} in bash alone: healthy on 200, unhealthy on
   * 503 (here from a stand-in that answers only that) or when nothing listens.
   */
  @Test
  void theHealthCheckCommandFailsOn503AndWhenNothingListens() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      HttpServer unhealthy = vertx.createHttpServer()
          .requestHandler(r -> r.response().setStatusCode(r.path().equals("/health") ? 503 : 404)
              .end("{\"status\":\"DOWN\"}"))
          .listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);
      assertThat(healthCheck(unhealthy.actualPort())).isNotZero();
      int free = ServerProcess.freePort();
      assertThat(healthCheck(free)).isNotZero();
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  /**
   * Runs the Dockerfile's HEALTHCHECK command (its exec-form array, with the image's port 9777
   * replaced by {@code port}) and returns its exit status.
   */
  static int healthCheck(int port) throws Exception {
    String dockerfile = Files.readString(Path.of("Dockerfile")).replace("\\\n", " ");
    Matcher cmd = Pattern
        .compile("(?m)^HEALTHCHECK .*?CMD (\\[.*\\])$").matcher(dockerfile);
    assertThat(cmd.find()).as("HEALTHCHECK in the Dockerfile").isTrue();
    List<String> argv = new ArrayList<>();
    for (Object o : new JsonArray(cmd.group(1))) {
      argv.add(((String) o).replace("/9777", "/" + port));
    }
    assertThat(String.join(" ", argv)).contains("/dev/tcp/127.0.0.1/" + port + " ");
    Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
    if (!p.waitFor(15, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("health check still running after 15 s");
    }
    return p.exitValue();
  }

  /**
   * SIGTERM ends the JVM normally, so its own shutdown hooks run after the broker's: here the
   * one that writes a flight recording started with {@code -XX:StartFlightRecording} (a halt
   * would leave an empty file).
   */
  @Test
  void sigtermLetsTheJvmShutdownHooksRun(@TempDir Path dir) throws Exception {
    Path recording = dir.resolve("broker.jfr");
    int port = ServerProcess.freePort();
    try (ServerProcess srv = ServerProcess.start(
        List.of("-XX:StartFlightRecording=filename=" + recording),
        "-B", "127.0.0.1:" + port, "-w", "1")) {
      assertThat(srv.awaitLine("elbus broker started", 30_000)).as(srv.output().toString()).isTrue();
      srv.terminate();
      assertThat(srv.awaitExit(20_000)).as(srv.output().toString()).isEqualTo(0);
    }
    assertThat(recording).exists();
    assertThat(Files.size(recording)).as("flight recording written at exit").isGreaterThan(0);
  }

  @Test
  void theDefaultConfigurationParses(@TempDir Path dir) throws Exception {
    // conf/elbus.yaml as shipped, with its listeners replaced by -B (flags override the file)
    int port = ServerProcess.freePort();
    try (ServerProcess srv = ServerProcess.start("-c", "conf/elbus.yaml", "-B",
        dir.resolve("x.sock").toString(), "-B", "127.0.0.1:" + port, "-w", "1")) {
      assertThat(srv.awaitLine("elbus broker started", 30_000)).as(srv.output().toString()).isTrue();
      srv.terminate();
      assertThat(srv.awaitExit(20_000)).isEqualTo(0);
    }
  }

  @Test
  void badFlagsGiveOneLineAndNonZeroExit() throws Exception {
    for (String[] args : List.of(new String[] {"--nope"}, new String[] {"-B", "nonsense"},
        new String[] {"-B", "127.0.0.1:1", "-t", "abc"}, new String[] {},
        new String[] {"-c", "/nonexistent/elbus.yaml"})) {
      try (ServerProcess srv = ServerProcess.start(args)) {
        int code = srv.awaitExit(30_000);
        assertThat(code).as(String.join(" ", args)).isNotZero().isNotEqualTo(-1);
        assertThat(srv.output()).as(String.join(" ", args)).hasSize(1);
        assertThat(srv.output().get(0)).startsWith("elbusd: ");
      }
    }
  }

  @Test
  void portInUseIsAClearStartupError() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1,
        java.net.InetAddress.getByName("127.0.0.1"))) {
      try (ServerProcess srv = ServerProcess.start("-B", "127.0.0.1:" + taken.getLocalPort())) {
        assertThat(srv.awaitExit(30_000)).isEqualTo(1);
        assertThat(String.join("\n", srv.output())).contains("elbusd: cannot start")
            .containsIgnoringCase("address already in use").doesNotContain("\tat ");
      }
    }
  }

  @Test
  void badConfigFileNamesFileAndEntry(@TempDir Path dir) throws Exception {
    Path cfg = dir.resolve("bad.yaml");
    Files.writeString(cfg, "listeners:\n  - bind: 127.0.0.1:0\n    queue_size: -3\n");
    try (ServerProcess srv = ServerProcess.start("-c", cfg.toString())) {
      assertThat(srv.awaitExit(30_000)).isEqualTo(2);
      assertThat(srv.output()).hasSize(1);
      assertThat(srv.output().get(0)).contains(cfg.toString()).contains("listeners[0]")
          .contains("queue_size");
    }
  }

  private static void writeFifo(Path fifo, String text) throws IOException {
    try (OutputStream o = Files.newOutputStream(fifo)) {
      o.write(text.getBytes(StandardCharsets.UTF_8));
    }
  }

  /**
   * Issue 17: bin/elbusd runs the JVM with -XX:+ExitOnOutOfMemoryError, so a broker that runs
   * out of heap exits (status 3) for its supervisor to restart it, instead of staying up with
   * dead event loops. Here a 48 MiB heap, the per-client limits lifted, and one client that
   * subscribes until the heap is gone.
   */
  @Test
  void theScriptExitsWhenTheHeapRunsOut(@TempDir Path dir) throws Exception {
    Path sock = dir.resolve("elbus.sock");
    Path conf = dir.resolve("elbus.yaml");
    Files.writeString(conf, "max_subscriptions: 2000000000\nmax_subscription_bytes: "
        + Long.MAX_VALUE + "\nlisteners:\n  - bind: " + sock + "\n");
    try (ServerProcess srv = ServerProcess.startScript("-Xmx48m", "-c", conf.toString(), "-w",
        "1", "-t", "60")) {
      assertThat(srv.awaitLine("elbus broker started", 30_000)).as(srv.output().toString())
          .isTrue();
      long sent = 0;
      try (RawClient c = RawClient.unix(sock)) {
        assertThat(c.handshake("hog")).isEqualTo(1);
        StringBuilder sb = new StringBuilder();
        for (int frame = 0; frame < 100_000; frame++) {
          sb.setLength(0);
          for (int i = 0; i < 1000; i++) {
            sb.append(i == 0 ? "" : "\0").append("plant/area/sensor-").append(sent++);
          }
          c.frame(frame, 0x02, 0, utf8(sb.toString()));
        }
      } catch (IOException e) {
        // the broker went away mid-flood: expected
      }
      assertThat(srv.awaitExit(60_000)).as("exit status (%s patterns sent): %s", sent,
          srv.output()).isEqualTo(3);
      assertThat(srv.output()).anyMatch(l -> l.contains("Terminating due to "
          + "java.lang.OutOfMemoryError"));
    }
  }
}
