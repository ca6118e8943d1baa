package dev.elbus.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.elbus.client.Bind;
import dev.elbus.config.ClusterOptions;
import dev.elbus.config.ListenerOptions;
import dev.elbus.impl.config.ServerConfig;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The server's flags (picocli, {@link Main.Flags}) into the effective {@link ServerConfig}, and
 * the outcome of help, version and bad flags, in-process. ServerIT runs the jar.
 */
class MainTest {
  private static Vertx vertx;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stop() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  /** What one run printed and returned. */
  private record Outcome(int code, String out, String err) {}

  private static Outcome run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Outcome(code, out.toString(StandardCharsets.UTF_8),
        err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void everyListenerFlagReachesTheListenersAndTheDefaults() {
    ServerConfig cfg = Main.parseArgs(new String[] {"-B", "127.0.0.1:7777", "--bind",
        "/tmp/x.sock", "-B", "fifo:/tmp/x.fifo", "-t", "2.5", "--buf-size", "4096", "--buf-ttl",
        "0", "--queue-size", "16", "--write-timeout", "0.25", "--force-register", "-w", "3",
        "-P", "/tmp/x.pid"}, vertx);
    assertThat(cfg.listeners()).extracting(l -> l.getBind().type())
        .containsExactly(Bind.Type.TCP, Bind.Type.UNIX);
    assertThat(cfg.fifos()).containsExactly("/tmp/x.fifo");
    assertThat(cfg.workers()).isEqualTo(3);
    assertThat(cfg.pidFile()).isEqualTo("/tmp/x.pid");
    for (ListenerOptions lo : List.of(cfg.listeners().get(0), cfg.listeners().get(1),
        cfg.defaults())) {
      assertThat(lo.getTimeoutMs()).isEqualTo(2500);
      assertThat(lo.getBufSize()).isEqualTo(4096);
      assertThat(lo.getBufTtlUs()).isZero();
      assertThat(lo.getQueueSize()).isEqualTo(16);
      assertThat(lo.getWriteTimeoutMs()).isEqualTo(250);
      assertThat(lo.isForceRegister()).isTrue();
    }
  }

  @Test
  void clusterFlagsMakeOrChangeTheClusterSection(@TempDir Path dir) throws Exception {
    ServerConfig none = Main.parseArgs(new String[] {"-B", "127.0.0.1:7777"}, vertx);
    assertThat(none.cluster()).isNull();
    ServerConfig cfg = Main.parseArgs(new String[] {"-B", "127.0.0.1:7777", "--cluster-name",
        "plant", "--cluster-host", "10.1.1.1", "--cluster-port", "6701", "--cluster-members",
        "10.1.1.1:6701,10.1.1.2:6701", "--cluster-members", "10.1.1.3", "--cluster-bus-port",
        "6801", "--cluster-node", "north", "--cluster-timeout", "2.5"}, vertx);
    ClusterOptions c = cfg.cluster();
    assertThat(c.getName()).isEqualTo("plant");
    assertThat(c.getHost()).isEqualTo("10.1.1.1");
    assertThat(c.getPort()).isEqualTo(6701);
    assertThat(c.getMembers()).containsExactly("10.1.1.1:6701", "10.1.1.2:6701", "10.1.1.3");
    assertThat(c.getBusPort()).isEqualTo(6801);
    assertThat(c.getNodeName()).isEqualTo("north");
    assertThat(c.getTimeoutMs()).isEqualTo(2500);
    // over the file's section: the flags win, the rest of the section stays
    ServerConfig f = Main.parseArgs(new String[] {"-c", "conf/elbus-cluster.yaml", "-B",
        "127.0.0.1:7777", "--cluster-host", "127.0.0.1", "--cluster-node", "n1"}, vertx);
    assertThat(f.cluster().getHost()).isEqualTo("127.0.0.1");
    assertThat(f.cluster().getNodeName()).isEqualTo("n1");
    assertThat(f.cluster().getMembers()).containsExactly("node1:5701", "node2:5701",
        "node3:5701");
    assertThat(run("-B", "127.0.0.1:1", "--cluster-port", "0").err())
        .isEqualTo("elbusd: --cluster-port: must be 1..65535, got 0\n");
    assertThat(run("-B", "127.0.0.1:1", "--cluster-members", "a:b").err())
        .isEqualTo("elbusd: --cluster-members: member 'a:b' is not HOST:PORT\n");
  }

  @Test
  void withoutFlagsTheDefaultsStay() {
    ServerConfig cfg = Main.parseArgs(new String[] {"-B", "127.0.0.1:7777"}, vertx);
    ListenerOptions plain = new ListenerOptions();
    ListenerOptions lo = cfg.listeners().get(0);
    assertThat(lo.getTimeoutMs()).isEqualTo(plain.getTimeoutMs());
    assertThat(lo.getWriteTimeoutMs()).isEqualTo(ListenerOptions.DEFAULT_WRITE_TIMEOUT_MS);
    assertThat(lo.getQueueSize()).isEqualTo(plain.getQueueSize());
    assertThat(lo.isForceRegister()).isFalse();
    assertThat(cfg.workers()).isZero();
    assertThat(cfg.http()).as("no HTTP port unless asked").isNull();
  }

  @Test
  void httpFlagSetsTheMonitoringEndpointOverTheFile(@TempDir Path dir) throws Exception {
    assertThat(Main.parseArgs(new String[] {"-B", "127.0.0.1:7777", "--http",
        "127.0.0.1:9777"}, vertx).http()).isEqualTo(Bind.tcp("127.0.0.1", 9777));
    Path file = dir.resolve("elbus.yaml");
    Files.writeString(file, "http: 0.0.0.0:9000\nlisteners:\n  - bind: 127.0.0.1:7001\n");
    assertThat(Main.parseArgs(new String[] {"-c", file.toString()}, vertx).http())
        .isEqualTo(Bind.tcp("0.0.0.0", 9000));
    assertThat(Main.parseArgs(new String[] {"-c", file.toString(), "--http=[::1]:9001"}, vertx)
        .http()).isEqualTo(Bind.tcp("::1", 9001));
    // the system property elbus.http is the flag's default (J_JAVA_OPTS of the bench harness)
    System.setProperty("elbus.http", "127.0.0.1:9002");
    try {
      assertThat(Main.parseArgs(new String[] {"-B", "127.0.0.1:7777"}, vertx).http())
          .isEqualTo(Bind.tcp("127.0.0.1", 9002));
      assertThat(Main.parseArgs(new String[] {"-B", "127.0.0.1:7777", "--http",
          "127.0.0.1:9003"}, vertx).http()).isEqualTo(Bind.tcp("127.0.0.1", 9003));
    } finally {
      System.clearProperty("elbus.http");
    }
  }

  @Test
  void flagsOverrideTheFileAndBindReplacesItsListeners(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("elbus.yaml");
    Files.writeString(file, String.join("\n", "workers: 2", "write_timeout: 3",
        "listeners:", "  - bind: 127.0.0.1:7001", "    queue_size: 100",
        "  - bind: 127.0.0.1:7002", ""));
    ServerConfig fromFile = Main.parseArgs(new String[] {"-c", file.toString(),
        "--write-timeout", "0.5", "--timeout", "9"}, vertx);
    assertThat(fromFile.workers()).isEqualTo(2);
    assertThat(fromFile.listeners()).hasSize(2).allSatisfy(l -> {
      assertThat(l.getWriteTimeoutMs()).isEqualTo(500);
      assertThat(l.getTimeoutMs()).isEqualTo(9000);
    });
    assertThat(fromFile.listeners().get(0).getQueueSize()).isEqualTo(100);

    ServerConfig replaced = Main.parseArgs(new String[] {"--config", file.toString(), "-B",
        "127.0.0.1:7003"}, vertx);
    assertThat(replaced.listeners()).singleElement()
        .satisfies(l -> assertThat(l.getBind().port()).isEqualTo(7003))
        .satisfies(l -> assertThat(l.getWriteTimeoutMs()).isEqualTo(3000));
  }

  @Test
  void aRepeatedFlagKeepsItsLastValue() {
    ServerConfig cfg = Main.parseArgs(new String[] {"-B", "127.0.0.1:7777", "-t", "1", "-t",
        "7"}, vertx);
    assertThat(cfg.defaults().getTimeoutMs()).isEqualTo(7000);
  }

  @Test
  void helpListsEveryFlag() {
    Outcome o = run("--help");
    assertThat(o.code()).isZero();
    assertThat(o.err()).isEmpty();
    assertThat(o.out()).startsWith("Usage: elbusd ").contains("-c, --config=FILE",
        "-B, --bind=ADDR", "-P, --pid-file=FILE", "-w, --workers=N", "-t, --timeout=SECONDS",
        "--buf-size=BYTES", "--buf-ttl=MICROS", "--queue-size=N", "--write-timeout=SECONDS",
        "--force-register", "--http=ADDR", "--cluster-name=NAME", "--cluster-host=HOST",
        "--cluster-port=PORT", "--cluster-members=HOST:PORT[,...]", "--cluster-bus-port=PORT",
        "--cluster-node=NAME", "--cluster-timeout=SECONDS", "--verbose", "-V, --version",
        "Exit status");
    assertThat(run("-h").out()).isEqualTo(o.out());
  }

  @Test
  void versionIsTheBuildsVersion() {
    Outcome o = run("--version");
    assertThat(o.code()).isZero();
    assertThat(o.out()).matches("elbusd \\(elbus for the JVM\\) \\d+\\.\\d+\\.\\d+\\S*\n");
  }

  @Test
  void badFlagsExitTwoWithOneLineOnStderr() {
    String[][] cases = {
        {"--nope"},
        {"-B"},
        {"-B", "127.0.0.1:1", "-t", "abc"},
        {"-B", "127.0.0.1:1", "-t", "0"},
        {"-B", "127.0.0.1:1", "--write-timeout", "-1"},
        {"-B", "127.0.0.1:1", "--write-timeout", "86401"},
        {"-B", "127.0.0.1:1", "-w", "x"},
        {"-B", "127.0.0.1:1", "-w", "0"},
        {"-B", "127.0.0.1:1", "--queue-size", "0"},
        {"-B", "127.0.0.1:1", "--buf-size", "0"},
        {"-B", "127.0.0.1:1", "extra"},
        {"-B", "127.0.0.1:1", "@args.txt"},
        {"-B", "nonsense"},
        {},
        {"-c", "/nonexistent/elbus.yaml"},
        {"-B", "127.0.0.1:1", "--http", "9777"},
        {"-B", "127.0.0.1:1", "--http", "h:99999"},
        {"-B", "127.0.0.1:1", "--http"},
    };
    for (String[] args : cases) {
      Outcome o = run(args);
      String what = String.join(" ", args);
      assertThat(o.code()).as(what).isEqualTo(2);
      assertThat(o.out()).as(what).isEmpty();
      assertThat(o.err().split("\n")).as(what).singleElement().asString()
          .startsWith("elbusd: ");
    }
    assertThat(run("-B", "127.0.0.1:1", "--write-timeout", "x").err()).isEqualTo(
        "elbusd: Invalid value for option '--write-timeout': not a number of seconds: 'x'"
            + " (see --help)\n");
    assertThat(run("--nope").err()).isEqualTo("elbusd: Unknown option: '--nope' (see --help)\n");
    assertThat(run("-B", "127.0.0.1:1", "--http", "nonsense").err()).isEqualTo(
        "elbusd: --http must be HOST:PORT (e.g. 127.0.0.1:9777), got 'nonsense'\n");
  }
}
