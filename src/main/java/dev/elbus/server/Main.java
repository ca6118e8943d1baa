package dev.elbus.server;

import ch.qos.logback.classic.Level;
import dev.elbus.ElbusVerticle;
import dev.elbus.cli.CommandLines;
import dev.elbus.client.Bind;
import dev.elbus.impl.config.ConfigFiles;
import dev.elbus.impl.config.ServerConfig;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The stand-alone broker, compatible with elbusd's flags (PROTOCOL.md section 13):
 * {@code java -jar elbus.jar [-c conf/elbus.yaml] [-B ADDR ...] [options]}. Flags override the
 * configuration file; {@code -B} flags replace the file's listeners. The flags are parsed by
 * picocli ({@link Flags}); bad flags print one line and exit 2. The result is the configuration
 * file's JSON with the flags applied, which the server deploys {@link ElbusVerticle} with: the
 * same configuration path as an embedding application's.
 */
public final class Main {
  private static final Logger LOG = LoggerFactory.getLogger(Main.class);

  /** Exit status for bad flags or a bad configuration file. */
  static final int EXIT_USAGE = 2;

  private Main() {}

  public static void main(String[] args) {
    int code = run(args);
    if (code != 0) {
      System.exit(code);
    }
  }

  /** The command line: elbusd's flags and the configuration file. */
  @Command(name = "elbusd", sortOptions = false, mixinStandardHelpOptions = true,
      versionProvider = CommandLines.Version.class,
      customSynopsis = "elbusd [-c FILE] [-B ADDR]... [OPTIONS]",
      description = {"The elbus broker. Flags override the configuration file; -B replaces its",
          "listeners (a FIFO too). Without -B the file must name at least one listener."},
      footer = {"", "conf/elbus.yaml documents every key of the configuration file. SIGTERM or",
          "SIGINT announce the shutdown on .broker/warn, remove the socket, FIFO and pid",
          "files and exit 0.", "",
          "Exit status: 0 after a signal or --help, 1 when the broker cannot start,",
          "2 for bad flags or a bad configuration file."})
  static final class Flags {
    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
        description = "configuration file (YAML, or JSON by .json extension)")
    String configFile;

    @Option(names = {"-B", "--bind"}, paramLabel = "ADDR",
        description = {"listen on ADDR (repeatable): a Unix socket when ADDR ends in .sock, "
            + ".socket or .ipc or starts with /; fifo:PATH is a FIFO command channel; anything "
            + "else is HOST:PORT (TCP)"})
    List<String> binds = new ArrayList<>();

    @Option(names = {"-P", "--pid-file"}, paramLabel = "FILE",
        description = "write the process id to FILE (removed on exit)")
    String pidFile;

    @Option(names = {"-w", "--workers"}, paramLabel = "N",
        description = "event loops serving the listeners (1..1024; default: number of cores)")
    Integer workers;

    @Option(names = {"-t", "--timeout"}, paramLabel = "SECONDS", converter = CommandLines.Seconds.class,
        description = "handshake deadline, ping interval, stall limit (default 5)")
    Long timeoutMs;

    @Option(names = "--buf-size", paramLabel = "BYTES",
        description = "socket write buffer (default 16384)")
    Integer bufSize;

    @Option(names = "--buf-ttl", paramLabel = "MICROS",
        description = "upper bound of write coalescing (default 10)")
    Long bufTtlUs;

    @Option(names = "--queue-size", paramLabel = "N",
        description = "frames waiting for a client whose socket takes nothing for "
            + "--write-timeout before it is dropped as a slow consumer (default 8192)")
    Integer queueSize;

    @Option(names = "--write-timeout", paramLabel = "SECONDS", converter = CommandLines.Seconds.class,
        description = "how long a client's socket may take nothing while --queue-size frames "
            + "wait for it (default 1)")
    Long writeTimeoutMs;

    @Option(names = "--http", paramLabel = "ADDR", defaultValue = "${sys:elbus.http}",
        description = "serve /metrics (Prometheus), /health and /ready over HTTP on HOST:PORT "
            + "(default: off; the system property elbus.http sets it too)")
    String http;

    @Option(names = "--force-register",
        description = "a new client with a taken name replaces the old one (BUS/RT)")
    boolean forceRegister;

    @Option(names = "--cluster-name", paramLabel = "NAME",
        description = "cluster mode (docs/cluster.md): join the cluster NAME (cluster.name)")
    String clusterName;

    @Option(names = "--cluster-host", paramLabel = "HOST",
        description = "cluster mode: address of this node's cluster traffic (cluster.host)")
    String clusterHost;

    @Option(names = "--cluster-port", paramLabel = "PORT",
        description = "cluster mode: this node's Hazelcast member port (cluster.port)")
    Integer clusterPort;

    @Option(names = "--cluster-members", paramLabel = "HOST:PORT[,...]", split = ",",
        description = "cluster mode: the members to join, repeatable (cluster.members)")
    List<String> clusterMembers = new ArrayList<>();

    @Option(names = "--cluster-bus-port", paramLabel = "PORT",
        description = "cluster mode: this node's event-bus port, 0: any (cluster.bus_port)")
    Integer clusterBusPort;

    @Option(names = "--cluster-node", paramLabel = "NAME",
        description = "cluster mode: this node's name in client.list and stats (cluster.node)")
    String clusterNode;

    @Option(names = "--cluster-timeout", paramLabel = "SECONDS",
        converter = CommandLines.Seconds.class,
        description = "cluster mode: how long a node waits for another's answer; an acked "
            + "message without one gets 78 (cluster.timeout, default 5)")
    Long clusterTimeoutMs;

    @Option(names = "--verbose", description = "debug logging (twice: trace)")
    boolean[] verbose = new boolean[0];

    /**
     * The effective configuration as JSON (the schema of {@code conf/elbus.yaml}): the file (if
     * any), then the flags over it. A listener flag sets its key at the top level and removes it
     * from every listener entry; {@code -B} replaces the listeners (a FIFO too).
     *
     * @throws IllegalArgumentException for a bad value or configuration file, one line
     */
    JsonObject json(Vertx vertx) {
      JsonObject json = configFile == null ? new JsonObject()
          : ConfigFiles.read(vertx, configFile);
      // the file as it is first, so that its errors name its own entries
      ServerConfig.parse(json, source());
      if (timeoutMs != null) {
        override(json, "timeout", timeoutMs / 1000.0);
      }
      if (bufSize != null) {
        override(json, "buf_size", checked("--buf-size", bufSize, 1, Integer.MAX_VALUE));
      }
      if (bufTtlUs != null) {
        override(json, "buf_ttl", checked("--buf-ttl", bufTtlUs, 0, Integer.MAX_VALUE));
      }
      if (queueSize != null) {
        override(json, "queue_size", checked("--queue-size", queueSize, 1, Integer.MAX_VALUE));
      }
      if (writeTimeoutMs != null) {
        override(json, "write_timeout", writeTimeoutMs / 1000.0);
      }
      if (forceRegister) {
        override(json, "force_register", true);
      }
      if (http != null) {
        try {
          ServerConfig.parse(new JsonObject().put("http", http), "--http");
        } catch (IllegalArgumentException e) {
          // the flag's error, not the file's
          throw new IllegalArgumentException(e.getMessage().replace("--http: http", "--http"));
        }
        json.put("http", http);
      }
      if (!binds.isEmpty()) {
        JsonArray listeners = new JsonArray();
        for (String b : binds) {
          Bind.parse(b); // a bad address is the flag's error, not the file's
          listeners.add(new JsonObject().put("bind", b));
        }
        json.put("listeners", listeners);
        json.remove("fifo");
      }
      if (workers != null) {
        json.put("workers", checked("--workers", workers, 1, 1024));
      }
      cluster(json);
      if (pidFile != null) {
        json.put("pid_file", pidFile);
      }
      if (ServerConfig.parse(json, source()).listeners().isEmpty()) {
        throw new IllegalArgumentException(
            "no listener: give -B ADDR or a config file with listeners");
      }
      return json;
    }

    /** The effective configuration, parsed (what {@link ElbusVerticle} makes of the JSON). */
    ServerConfig config(Vertx vertx) {
      return ServerConfig.parse(json(vertx), source());
    }

    private String source() {
      return configFile == null ? "command line" : configFile;
    }

    /** The cluster flags over the file's {@code cluster:} section (any of them creates it). */
    private void cluster(JsonObject json) {
      if (clusterName == null && clusterHost == null && clusterPort == null
          && clusterMembers.isEmpty() && clusterBusPort == null && clusterNode == null
          && clusterTimeoutMs == null) {
        return;
      }
      JsonObject c = json.getValue("cluster") instanceof JsonObject ? json.getJsonObject("cluster")
          : new JsonObject();
      json.put("cluster", c);
      if (clusterName != null) {
        c.put("name", clusterName);
      }
      if (clusterHost != null) {
        c.put("host", clusterHost);
      }
      if (clusterPort != null) {
        c.put("port", checked("--cluster-port", clusterPort, 1, 65535));
      }
      if (!clusterMembers.isEmpty()) {
        JsonArray members = new JsonArray();
        for (String m : clusterMembers) {
          members.add(ServerConfig.member(m.trim(), "--cluster-members: "));
        }
        c.put("members", members);
      }
      if (clusterBusPort != null) {
        c.put("bus_port", checked("--cluster-bus-port", clusterBusPort, 0, 65535));
      }
      if (clusterNode != null) {
        c.put("node", clusterNode);
      }
      if (clusterTimeoutMs != null) {
        c.put("timeout", clusterTimeoutMs / 1000.0);
      }
    }

    private static void override(JsonObject json, String key, Object value) {
      json.put(key, value);
      if (json.getValue("listeners") instanceof JsonArray) {
        for (Object l : json.getJsonArray("listeners")) {
          if (l instanceof JsonObject) {
            ((JsonObject) l).remove(key);
          }
        }
      }
    }

    private static int checked(String flag, long v, long min, long max) {
      if (v < min || v > max) {
        throw new IllegalArgumentException(flag + ": must be " + min + ".." + max + ", got " + v);
      }
      return (int) v;
    }
  }

  /**
   * The flags parsed into the effective configuration.
   *
   * @throws ParameterException for flags picocli rejects
   * @throws IllegalArgumentException for a bad value or configuration file
   */
  static ServerConfig parseArgs(String[] args, Vertx vertx) {
    Flags flags = new Flags();
    CommandLines.parser(flags).parseArgs(args);
    return flags.config(vertx);
  }

  static int run(String[] args) {
    return run(args, System.out, System.err);
  }

  /** Parses, then starts the server; returns 0 when it runs (or after help), 1 or 2 otherwise. */
  static int run(String[] args, PrintStream out, PrintStream err) {
    Flags flags = new Flags();
    CommandLine cl = CommandLines.parser(flags);
    try {
      cl.parseArgs(args);
    } catch (ParameterException e) {
      err.println("elbusd: " + e.getMessage() + " (see --help)");
      return EXIT_USAGE;
    }
    if (cl.isUsageHelpRequested() || cl.isVersionHelpRequested()) {
      PrintWriter w = new PrintWriter(out, true, StandardCharsets.UTF_8);
      if (cl.isUsageHelpRequested()) {
        cl.usage(w);
      } else {
        cl.printVersionHelp(w);
      }
      w.flush();
      return 0;
    }
    if (flags.verbose.length > 0) {
      ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger("dev.elbus"))
          .setLevel(flags.verbose.length > 1 ? Level.TRACE : Level.DEBUG);
    }
    JsonObject config;
    Vertx boot = Vertx.vertx();
    try {
      config = flags.json(boot);
    } catch (IllegalArgumentException e) {
      err.println("elbusd: " + e.getMessage());
      return EXIT_USAGE;
    } finally {
      boot.close();
    }
    Server server = new Server(config);
    int workers = server.workers();
    try {
      server.start();
    } catch (Exception e) {
      err.println("elbusd: cannot start: " + rootMessage(e));
      server.stop();
      return 1;
    }
    // SIGTERM / SIGINT: announce the shutdown, flush, remove our files, exit 0. A normal exit,
    // not a halt, so the JVM's own shutdown hooks run too (e.g. a -XX:StartFlightRecording
    // recording is written); the hook below finds the server already stopped.
    Runnable onSignal = () -> {
      server.stop();
      System.exit(0);
    };
    for (String sig : new String[] {"TERM", "INT"}) {
      sun.misc.Signal.handle(new sun.misc.Signal(sig), s -> onSignal.run());
    }
    Runtime.getRuntime().addShutdownHook(new Thread(server::stop, "elbus-shutdown"));
    LOG.info("elbus broker started ({} worker{}, native transport: {})", workers,
        workers == 1 ? "" : "s", server.nativeTransport());
    return 0;
  }

  static String rootMessage(Throwable e) {
    Throwable c = e;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    return c.getMessage() != null ? c.getMessage() : c.toString();
  }
}
