package dev.elbus.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import dev.elbus.client.Bind;
import dev.elbus.client.ClientOptions;
import dev.elbus.client.ElbusException;
import dev.elbus.client.NetworkClient;
import dev.elbus.protocol.Protocol;
import dev.elbus.rpc.RpcErrorCode;
import dev.elbus.rpc.RpcException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import org.slf4j.LoggerFactory;

import java.io.InputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The {@code elbus} client CLI (PROTOCOL.md section 14): {@code elbus PATH [-n NAME] [--timeout S]
 * COMMAND ...}. {@link #main} runs it as a process; {@link #run} runs it in-process (tests) with
 * the given streams and returns the exit code: 0 on success, 1 when the bus operation failed
 * (connection, refusal, RPC error, timeout), 2 for bad arguments. Every failure is one line
 * {@code elbus: ...} on the error stream.
 *
 * <p>Commands are parsed completely before anything connects: {@link BusCommands} (listen, send,
 * publish), {@link RpcCommands} (rpc, broker) and {@link Benchmark}.
 */
public final class Cli {
  static final int EXIT_OK = 0;
  static final int EXIT_FAILED = 1;
  static final int EXIT_USAGE = 2;

  static final String USAGE = String.join("\n",
      "usage: elbus PATH [-n NAME] [--timeout S] COMMAND [ARGS]",
      "",
      "PATH is the broker: a path ending in .sock, .socket, .ipc or starting with / is a Unix",
      "socket, anything else HOST:PORT (TCP, IPv6 hosts in brackets).",
      "",
      "options:",
      "  -n, --name NAME    client name (default elbus.cli.<pid>)",
      "      --timeout S    seconds to wait for the connection, acks and RPC replies (default 5)",
      "  -h, --help         this help",
      "",
      "commands:",
      "  listen [-t TOPIC]... [-x TOPIC]...",
      "                              print incoming frames until interrupted, one a line:",
      "                              KIND SENDER [TOPIC] PAYLOAD; -t subscribes to TOPIC",
      "                              (repeatable, MQTT wildcards + and #); -x (--exclude)",
      "                              excludes matching publications (BUS/RT brokers)",
      "  send TARGET [PAYLOAD]       direct message with QoS 1 (a TARGET with * or ? is a",
      "                              broadcast mask); PAYLOAD is read from stdin when omitted",
      "  publish TOPIC [PAYLOAD]     publication with QoS 1; PAYLOAD from stdin when omitted",
      "  rpc listen                  print incoming RPC calls and notifications; calls get an",
      "                              empty result",
      "  rpc notify TARGET [PAYLOAD]  RPC notification (PAYLOAD from stdin when omitted)",
      "  rpc call0 TARGET METHOD [k=v ...]  RPC call with no reply wanted",
      "  rpc call TARGET METHOD [k=v ...]   RPC call; prints the reply (MessagePack as JSON)",
      "  broker test                 .broker test; exit 0 when it answers {ok: true}",
      "  broker info|stats           .broker info / stats as 'key: value' lines",
      "  broker client.list          connected clients as a table",
      "  benchmark [-w N] [--payload-size N] [-i N] [--warmup N]",
      "                              measure the broker, see below",
      "",
      "k=v params form a MessagePack map; values true/false become booleans, integers and",
      "decimals numbers, anything else strings. No params send empty params.",
      "Payloads are printed as text when they are printable UTF-8, as compact JSON when they",
      "are a MessagePack map or array, else as hex:HEXDIGITS; an empty payload as (empty).",
      "",
      "benchmark options:",
      "  -w, --workers N        clients sending in parallel in each stage (default "
          + Benchmark.DEFAULT_WORKERS + ")",
      "      --payload-size N   bytes of each message / RPC params (default "
          + Benchmark.DEFAULT_PAYLOAD + ")",
      "  -i, --iters N          iterations per stage, split between the workers (default "
          + Benchmark.DEFAULT_ITERS + ")",
      "      --warmup N         untimed iterations run before each stage, so that the JIT of",
      "                         this JVM client has compiled the hot path (default: a tenth",
      "                         of --iters, at most " + Benchmark.MAX_DEFAULT_WARMUP
          + "; 0: none)",
      "benchmark stages, each printed as iterations/s of wall time from the first send to the",
      "last ack, receipt or reply:",
      "  send.qos.no               direct messages with QoS 0 to a receiver client (until",
      "                            the last one is written)",
      "  send.qos.processed        the same with QoS 1 (until the last ack)",
      "  send+recv.qos.no          QoS 0, until the receiver has every message",
      "  send+recv.qos.processed   QoS 1, until every ack and message has arrived",
      "  rpc.call                  calls of .broker benchmark.test (echoes the params)",
      "  rpc.call+handle           each worker calls a method of its own and answers it",
      "  rpc.call0                 calls of .broker benchmark.test with no reply wanted",
      "                            (until the last QoS 1 ack)",
      "Each worker is its own client NAME.bench.STAGE.N (NAME.bench.warmup.STAGE.N while",
      "warming up); send stages add a receiver client named the same + .r. Clients are",
      "closed after each stage. QoS 0 has no flow control, and a broker disconnects a",
      "receiver whose queue (8192 frames by default) overflows as a slow consumer; so each",
      "worker keeps at most " + BenchWorker.WINDOW
          + " operations outstanding: a sender waits until its receiver",
      "is less than " + BenchWorker.WINDOW
          + " messages behind, acked sends and calls wait for their acks and",
      "replies. On a terminal the running stage shows its progress on stderr.",
      "",
      "exit status: 0 success, 1 failure (connection, refused operation, RPC error, timeout),",
      "2 bad arguments.");

  /** What a parsed command does once the CLI has a Vert.x; returns the exit code. */
  @FunctionalInterface
  interface Action {
    int run() throws Exception;
  }

  /** Bad arguments: exit 2 with the message. */
  static final class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
      super(message, null, false, false);
    }
  }

  /** A failed operation: exit 1 with the message. */
  static final class Failure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Failure(String message) {
      super(message, null, false, false);
    }
  }

  final PrintStream out;
  final PrintStream err;
  final InputStream in;
  String path;
  String name = "elbus.cli." + ProcessHandle.current().pid();
  long timeoutMs = Protocol.DEFAULT_TIMEOUT_MS;
  /** Event loops the command wants (the benchmark: two per worker). */
  int eventLoops = 2;
  Vertx vertx;

  private Cli(PrintStream out, PrintStream err, InputStream in) {
    this.out = out;
    this.err = err;
    this.in = in;
  }

  public static void main(String[] args) {
    System.setProperty("vertx.disableDnsResolver", "true");
    logToStderr();
    int code = run(args, System.out, System.err, System.in);
    System.out.flush();
    System.exit(code);
  }

  /**
   * Runs the CLI with the given streams.
   *
   * @return the exit code: 0 success, 1 failure, 2 bad arguments
   */
  public static int run(String[] args, PrintStream out, PrintStream err, InputStream in) {
    return new Cli(out, err, in).execute(args);
  }

  private int execute(String[] args) {
    Action action;
    try {
      action = parse(args);
      if (action == null) {
        out.println(USAGE);
        return EXIT_OK;
      }
      Bind bind = Bind.parse(path);
      if (bind.type() == Bind.Type.FIFO) {
        throw new UsageException("cannot connect to a FIFO: " + path);
      }
    } catch (IllegalArgumentException | UsageException e) {
      err.println("elbus: " + e.getMessage() + " (see --help)");
      return EXIT_USAGE;
    }
    vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true)
        .setEventLoopPoolSize(eventLoops));
    try {
      return action.run();
    } catch (UsageException e) {
      err.println("elbus: " + e.getMessage() + " (see --help)");
      return EXIT_USAGE;
    } catch (Failure | ElbusException e) {
      err.println("elbus: " + e.getMessage());
      return EXIT_FAILED;
    } catch (RpcException e) {
      err.println("elbus: " + rpcError(e));
      return EXIT_FAILED;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      err.println("elbus: interrupted");
      return EXIT_FAILED;
    } catch (Exception e) {
      err.println("elbus: " + oneLine(e));
      return EXIT_FAILED;
    } finally {
      try {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      } catch (Exception e) {
        // exiting anyway
      }
      out.flush();
    }
  }

  /** Parses the global options and the command; {@code null} means: print the help. */
  private Action parse(String[] args) {
    int i = 0;
    String command = null;
    for (; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "-h":
        case "--help":
          return null;
        case "-n":
        case "--name":
          name = value(args, ++i, a);
          if (name.isEmpty()) {
            throw new UsageException(a + ": empty name");
          }
          break;
        case "--timeout":
          timeoutMs = seconds(value(args, ++i, a), a);
          break;
        default:
          if (a.startsWith("-") && a.length() > 1) {
            throw new UsageException("unknown option '" + a + "'");
          }
          if (path == null) {
            path = a;
          } else {
            command = a;
          }
      }
      if (command != null) {
        i++;
        break;
      }
    }
    if (path == null) {
      throw new UsageException("missing PATH");
    }
    if (command == null) {
      throw new UsageException("missing COMMAND");
    }
    List<String> rest = new ArrayList<>(Arrays.asList(args).subList(i, args.length));
    if (!rest.isEmpty() && (rest.get(0).equals("-h") || rest.get(0).equals("--help"))) {
      return null;
    }
    switch (command) {
      case "listen":
        return BusCommands.listen(this, rest);
      case "send":
        return BusCommands.send(this, rest, false);
      case "publish":
        return BusCommands.send(this, rest, true);
      case "rpc":
        return RpcCommands.rpc(this, rest);
      case "broker":
        return RpcCommands.broker(this, rest);
      case "benchmark":
        return Benchmark.parse(this, rest);
      default:
        throw new UsageException("unknown command '" + command + "'");
    }
  }

  // ---------------------------------------------------------------- helpers for the commands

  ClientOptions clientOptions() {
    return new ClientOptions().setTimeoutMs(timeoutMs);
  }

  /** Connects as {@link #name}; fails with the connection error as one line. */
  NetworkClient connect() throws Exception {
    try {
      return await(NetworkClient.connect(vertx, path, name, clientOptions()), timeoutMs + 1000);
    } catch (ElbusException | Failure e) {
      throw connectFailure(e);
    }
  }

  /** A failed connect as one readable line (socket errors without the transport's details). */
  RuntimeException connectFailure(RuntimeException e) {
    if (e instanceof ElbusException && ((ElbusException) e).code() == Protocol.ERR_IO
        && e.getCause() != null) {
      return new Failure("cannot connect to " + path + ": " + connectError(e.getCause()));
    }
    if (e instanceof Failure) {
      return new Failure("cannot connect to " + path + ": " + e.getMessage());
    }
    return e;
  }

  /** The reason a socket connect failed, without the transport's decorations. */
  private static String connectError(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    String m = String.valueOf(c.getMessage());
    if (m.contains("Connection refused")) {
      return "connection refused";
    }
    if (m.contains("No such file") || c instanceof java.io.FileNotFoundException) {
      return "no such socket file";
    }
    if (m.contains("Permission denied")) {
      return "permission denied";
    }
    return c.getMessage() != null ? oneLine(c) : c.getClass().getSimpleName();
  }

  /**
   * Waits for {@code f} up to {@code ms} milliseconds and returns its value; rethrows its failure
   * (an Exception as is), {@link Failure} on timeout.
   */
  static <T> T await(Future<T> f, long ms) throws Exception {
    try {
      return f.toCompletionStage().toCompletableFuture().get(ms, TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof Exception) {
        throw (Exception) c;
      }
      throw e;
    } catch (TimeoutException e) {
      throw new Failure("timed out after " + ms + " ms");
    }
  }

  /** {@code rpc error CODE: MESSAGE} for an RPC error. */
  static String rpcError(RpcException e) {
    String data = e.dataAsString();
    return "rpc error " + e.code() + ": " + (data.isEmpty() ? RpcErrorCode.name(e.code()) : data);
  }

  /** A bus failure as {@code MESSAGE (0xCC)}. */
  static String busError(Throwable t) {
    if (t instanceof ElbusException) {
      ElbusException e = (ElbusException) t;
      return e.getMessage() + String.format(" (0x%02x)", e.code());
    }
    return oneLine(t);
  }

  static String oneLine(Throwable t) {
    String m = t.getMessage();
    String s = m == null ? t.toString() : m;
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }

  static String value(String[] args, int i, String flag) {
    if (i >= args.length) {
      throw new UsageException(flag + " needs a value");
    }
    return args[i];
  }

  static long seconds(String v, String flag) {
    double t;
    try {
      t = Double.parseDouble(v);
    } catch (NumberFormatException e) {
      throw new UsageException(flag + ": not a number: '" + v + "'");
    }
    if (!(t > 0) || t > Integer.MAX_VALUE / 1000.0) {
      throw new UsageException(flag + ": must be a positive number of seconds: '" + v + "'");
    }
    return Math.max(1, Math.round(t * 1000));
  }

  static int intValue(String v, String flag, int min, int max) {
    try {
      int n = Integer.parseInt(v.replace("_", ""));
      if (n < min || n > max) {
        throw new UsageException(flag + ": must be " + min + ".." + max + ", got " + v);
      }
      return n;
    } catch (NumberFormatException e) {
      throw new UsageException(flag + ": not an integer: '" + v + "'");
    }
  }

  /** Process mode: library logs go to stderr, warnings and errors only. */
  private static void logToStderr() {
    if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext)) {
      return;
    }
    LoggerContext lc = (LoggerContext) LoggerFactory.getILoggerFactory();
    ch.qos.logback.classic.Logger root = lc.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    root.detachAndStopAllAppenders();
    PatternLayoutEncoder enc = new PatternLayoutEncoder();
    enc.setContext(lc);
    enc.setPattern("elbus: %level %logger{0}: %msg%n");
    enc.start();
    ConsoleAppender<ILoggingEvent> a = new ConsoleAppender<>();
    a.setContext(lc);
    a.setTarget("System.err");
    a.setEncoder(enc);
    a.start();
    root.addAppender(a);
    root.setLevel(Level.WARN);
    lc.getLogger("dev.elbus").setLevel(Level.WARN);
  }
}
