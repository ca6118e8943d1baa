package dev.elbus.server;

import ch.qos.logback.classic.Level;
import dev.elbus.ElbusVerticle;
import dev.elbus.client.Bind;
import dev.elbus.impl.config.ConfigFiles;
import dev.elbus.impl.config.ServerConfig;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

/**
 * The stand-alone broker, compatible with elbusd's flags (PROTOCOL.md section 13):
 * {@code java -jar elbus.jar [-c conf/elbus.yaml] [-B ADDR ...] [options]}. Flags override the
 * configuration file; {@code -B} flags replace the file's listeners. The result is the JSON
 * configuration the server deploys {@link ElbusVerticle} with: the same path as an embedding
 * application's.
 */
public final class Main {
  private static final Logger LOG = LoggerFactory.getLogger(Main.class);

  static final String USAGE = String.join("\n",
      "usage: elbusd [-c FILE] -B ADDR [-B ADDR ...] [options]",
      "",
      "  -c, --config FILE      configuration file (YAML, or JSON by .json extension);",
      "                         flags below override it, -B replaces its listeners",
      "  -B, --bind ADDR        listen on ADDR (repeatable): a path ending in .sock, .socket,",
      "                         .ipc or starting with / is a Unix socket; fifo:PATH is a FIFO",
      "                         command channel; anything else is HOST:PORT (TCP)",
      "  -P, --pid-file FILE    write the process id to FILE (removed on exit)",
      "  -w, --workers N        event loops serving the listeners (default: number of cores)",
      "  -t, --timeout SECONDS  handshake deadline, ping interval, stall limit (default 5)",
      "      --buf-size BYTES   socket write buffer (default 16384)",
      "      --buf-ttl MICROS   upper bound of write coalescing (default 10)",
      "      --queue-size N     frames queued per client before it is dropped (default 8192)",
      "      --force-register   a new client with a taken name replaces the old one (BUS/RT)",
      "      --verbose          debug logging (twice: trace)",
      "  -h, --help             this help");

  private Main() {}

  public static void main(String[] args) {
    int code = run(args);
    if (code != 0) {
      System.exit(code);
    }
  }

  /**
   * The effective configuration of a command line: the configuration file as JSON (the tree
   * vertx-config reads, the schema of {@code conf/elbus.yaml}) with the flags applied to it.
   * This JSON is what the server deploys {@link ElbusVerticle} with.
   *
   * @throws IllegalArgumentException for a bad flag or file, with a one-line message
   */
  static JsonObject parseArgs(String[] args, Vertx vertx) {
    String configFile = null;
    List<String> binds = new ArrayList<>();
    List<String[]> overrides = new ArrayList<>();
    String pidFile = null;
    Integer workers = null;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "-c":
        case "--config":
          configFile = value(args, ++i, a);
          break;
        case "-B":
        case "--bind":
          binds.add(value(args, ++i, a));
          break;
        case "-P":
        case "--pid-file":
          pidFile = value(args, ++i, a);
          break;
        case "-w":
        case "--workers":
          workers = intValue(value(args, ++i, a), a, 1, 1024);
          break;
        case "-t":
        case "--timeout":
        case "--buf-size":
        case "--buf-ttl":
        case "--queue-size":
          overrides.add(new String[] {a, value(args, ++i, a)});
          break;
        case "--verbose":
          break;
        case "--force-register":
          overrides.add(new String[] {a, "true"});
          break;
        default:
          throw new IllegalArgumentException("unknown option '" + a + "' (see --help)");
      }
    }
    JsonObject json = configFile == null ? new JsonObject() : ConfigFiles.read(vertx, configFile);
    String source = configFile == null ? "command line" : configFile;
    // validate the file as it is, so that its errors name its own entries
    ServerConfig.parse(json, source);
    for (String[] o : overrides) {
      applyOverride(json, o[0], o[1]);
    }
    if (!binds.isEmpty()) {
      for (String b : binds) {
        Bind.parse(b); // a bad address is the flag's error
      }
      JsonArray listeners = new JsonArray();
      binds.forEach(b -> listeners.add(new JsonObject().put("bind", b)));
      json.put("listeners", listeners);
      json.remove("fifo");
    }
    if (workers != null) {
      json.put("workers", workers);
    }
    if (pidFile != null) {
      json.put("pid_file", pidFile);
    }
    if (ServerConfig.parse(json, source).listeners().isEmpty()) {
      throw new IllegalArgumentException("no listener: give -B ADDR or a config file with listeners");
    }
    return json;
  }

  /**
   * Sets the setting of {@code flag} at the top level of {@code json} and removes it from every
   * listener: a flag overrides the file for every listener.
   */
  private static void applyOverride(JsonObject json, String flag, String v) {
    String key;
    Object value;
    switch (flag) {
      case "-t":
      case "--timeout": {
        double t;
        try {
          t = Double.parseDouble(v);
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException(flag + ": not a number: '" + v + "'");
        }
        if (!(t > 0) || t > 86_400) {
          throw new IllegalArgumentException(flag + ": must be more than 0 and at most 86400 "
              + "seconds: '" + v + "'");
        }
        key = "timeout";
        value = t;
        break;
      }
      case "--buf-size":
        key = "buf_size";
        value = intValue(v, flag, 1, Integer.MAX_VALUE);
        break;
      case "--buf-ttl":
        key = "buf_ttl";
        value = intValue(v, flag, 0, Integer.MAX_VALUE);
        break;
      case "--force-register":
        key = "force_register";
        value = true;
        break;
      default:
        key = "queue_size";
        value = intValue(v, flag, 1, Integer.MAX_VALUE);
    }
    json.put(key, value);
    if (json.getValue("listeners") instanceof JsonArray) {
      for (Object l : json.getJsonArray("listeners")) {
        if (l instanceof JsonObject) {
          ((JsonObject) l).remove(key);
        }
      }
    }
  }

  static int run(String[] args) {
    int verbose = 0;
    for (String a : args) {
      if (a.equals("-h") || a.equals("--help")) {
        System.out.println(USAGE);
        return 0;
      }
      if (a.equals("--verbose")) {
        verbose++;
      }
    }
    if (verbose > 0) {
      ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger("dev.elbus"))
          .setLevel(verbose > 1 ? Level.TRACE : Level.DEBUG);
    }
    JsonObject config;
    Vertx boot = Vertx.vertx();
    try {
      config = parseArgs(args, boot);
    } catch (IllegalArgumentException e) {
      System.err.println("elbusd: " + e.getMessage());
      return 2;
    } finally {
      boot.close();
    }
    Server server = new Server(config);
    try {
      server.start();
    } catch (Exception e) {
      System.err.println("elbusd: cannot start: " + rootMessage(e));
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
    int workers = server.workers();
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

  private static String value(String[] args, int i, String flag) {
    if (i >= args.length) {
      throw new IllegalArgumentException(flag + " needs a value");
    }
    return args[i];
  }

  private static int intValue(String v, String flag, int min, int max) {
    try {
      int n = Integer.parseInt(v);
      if (n < min || n > max) {
        throw new IllegalArgumentException(flag + ": must be " + min + ".." + max + ", got " + v);
      }
      return n;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(flag + ": not an integer: '" + v + "'");
    }
  }
}
