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
import dev.elbus.impl.tls.TlsErrors;
import dev.elbus.protocol.Protocol;
import dev.elbus.rpc.RpcErrorCode;
import dev.elbus.rpc.RpcException;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import org.slf4j.LoggerFactory;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Help;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.UsageMessageSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.UnmatchedArgumentException;

import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
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
 * <p>picocli parses the command line into this class (the global options) and one {@link Leaf}
 * command: {@link BusCommands} (listen, send, publish), {@link RpcCommands} (rpc, broker), {@link
 * Benchmark} and {@link Completion}. Everything is parsed and checked before anything connects.
 */
@Command(name = "elbus", sortOptions = false, versionProvider = CommandLines.Version.class,
    subcommands = {BusCommands.Listen.class, BusCommands.Send.class, BusCommands.Publish.class,
        RpcCommands.Rpc.class, RpcCommands.BrokerMethods.class, Benchmark.class,
        Cli.Completion.class},
    customSynopsis = {"elbus PATH [-n NAME] [--timeout S] COMMAND [ARGS]",
        "elbus completion", "elbus --help | --version"},
    description = {"The elbus client: talks to any elbus broker. PATH is the broker: a path ending "
        + "in .sock, .socket or .ipc, or starting with /, is a Unix socket; tls://HOST:PORT is "
        + "TCP with TLS (see the --tls-* options); anything else HOST:PORT (TCP, IPv6 hosts in "
        + "brackets)."},
    commandListHeading = "%nCommands (elbus PATH COMMAND --help shows one in full):%n",
    footer = {"",
        "k=v params form a MessagePack map; values true/false become booleans, integers",
        "and decimals numbers, anything else strings. No params send empty params.",
        "Payloads are printed as text when they are printable UTF-8, as compact JSON when",
        "they are a MessagePack map or array, else as hex:HEXDIGITS; an empty payload as",
        "(empty). --json prints one JSON document on stdout instead.",
        "",
        "Bash completion: source <(elbus completion)",
        "",
        "Exit status: 0 success, 1 failure (connection, refused operation, RPC error,",
        "timeout), 2 bad arguments; every failure is one line 'elbus: ...' on stderr."})
public final class Cli {
  static final int EXIT_OK = 0;
  static final int EXIT_FAILED = 1;
  static final int EXIT_USAGE = 2;

  /** What a parsed command does once the CLI has a Vert.x; returns the exit code. */
  @FunctionalInterface
  interface Action {
    int run() throws Exception;
  }

  /** A command that runs: it checks its arguments and returns what it does. */
  interface Leaf {
    /**
     * Checks the parsed arguments and returns the action.
     *
     * @throws UsageException (or IllegalArgumentException) for bad arguments
     */
    Action prepare(Cli cli);

    /** Whether the command talks to the broker at PATH (all but {@code completion}). */
    default boolean needsPath() {
      return true;
    }
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

  @Parameters(index = "0", arity = "0..1", paramLabel = "PATH",
      description = "Unix socket path, HOST:PORT or tls://HOST:PORT")
  String path;

  @Option(names = {"-n", "--name"}, paramLabel = "NAME",
      description = "client name (default elbus.cli.<pid>)")
  String name = "elbus.cli." + ProcessHandle.current().pid();

  @Option(names = "--timeout", paramLabel = "S", converter = CommandLines.Seconds.class,
      description = "seconds to wait for the connection, acks and RPC replies (default 5)")
  long timeoutMs = Protocol.DEFAULT_TIMEOUT_MS;

  @Option(names = "--tls-ca", paramLabel = "FILE",
      description = "with tls://: CA certificates (PEM) the broker's certificate must chain to "
          + "(default: the JVM's trusted CAs)")
  String tlsCa;

  @Option(names = "--tls-cert", paramLabel = "FILE",
      description = "with tls://: client certificate (PEM) for a broker that asks for one")
  String tlsCert;

  @Option(names = "--tls-key", paramLabel = "FILE",
      description = "with tls://: the private key (PEM) of --tls-cert")
  String tlsKey;

  @Option(names = "--tls-no-verify-hostname",
      description = "with tls://: do not check that the broker's certificate names the host "
          + "(the certificate must still be trusted and valid)")
  boolean tlsNoVerifyHostname;

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "this help")
  boolean help;

  @Option(names = {"-V", "--version"}, versionHelp = true, description = "the version")
  boolean version;

  /** Event loops the command wants (the benchmark: two per worker). */
  int eventLoops = 2;
  Vertx vertx;
  /** The parser, for commands that describe the command line (completion). */
  private CommandLine commandLine;

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
        return EXIT_OK;
      }
    } catch (IllegalArgumentException | UsageException e) {
      return usageError(e.getMessage());
    } catch (ParameterException e) {
      return usageError(message(e));
    }
    vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true)
        .setEventLoopPoolSize(eventLoops));
    try {
      return action.run();
    } catch (UsageException e) {
      return usageError(e.getMessage());
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

  private int usageError(String message) {
    err.println("elbus: " + message + " (see --help)");
    return EXIT_USAGE;
  }

  /**
   * Parses the command line and checks it; {@code null} means: help or the version was printed.
   *
   * @throws ParameterException, UsageException or IllegalArgumentException for bad arguments
   */
  private Action parse(String[] args) {
    commandLine = commandLine(this, out);
    CommandLine.ParseResult parsed = commandLine.parseArgs(args);
    if (CommandLine.printHelpIfRequested(parsed)) {
      return null;
    }
    List<CommandLine> chain = parsed.asCommandLineList();
    CommandLine last = chain.get(chain.size() - 1);
    Object command = last.getCommand();
    if (!(command instanceof Leaf)) {
      if (path == null) {
        throw new UsageException("missing PATH");
      }
      if (last == commandLine) {
        throw new UsageException("missing COMMAND");
      }
      throw new UsageException(commandName(last) + ": expected "
          + String.join(", ", last.getSubcommands().keySet()));
    }
    Leaf leaf = (Leaf) command;
    if (leaf.needsPath()) {
      if (path == null) {
        throw new UsageException("missing PATH");
      }
      if (name.isEmpty()) {
        throw new UsageException("--name: empty name");
      }
      Bind bind = Bind.parse(path);
      if (bind.type() == Bind.Type.FIFO) {
        throw new UsageException("cannot connect to a FIFO: " + path);
      }
      checkTls(bind);
    }
    return leaf.prepare(this);
  }

  /** The {@code --tls-*} options: only with a tls:// PATH, a key with its certificate, files. */
  private void checkTls(Bind bind) {
    String given = tlsCa != null ? "--tls-ca" : tlsCert != null ? "--tls-cert"
        : tlsKey != null ? "--tls-key" : tlsNoVerifyHostname ? "--tls-no-verify-hostname" : null;
    if (given != null && !bind.isTls()) {
      throw new UsageException(given + " needs a tls://HOST:PORT address, not " + path);
    }
    if ((tlsCert == null) != (tlsKey == null)) {
      throw new UsageException(tlsCert == null ? "--tls-key needs --tls-cert"
          : "--tls-cert needs --tls-key");
    }
    for (String[] f : new String[][] {{"--tls-ca", tlsCa}, {"--tls-cert", tlsCert},
        {"--tls-key", tlsKey}}) {
      if (f[1] != null && !java.nio.file.Files.isReadable(java.nio.file.Path.of(f[1]))) {
        throw new UsageException(f[0] + ": cannot read " + f[1]);
      }
    }
  }

  /**
   * The parser of the whole command line ({@link CommandLines#parser}), help to {@code out};
   * subcommands' synopses start with {@code elbus PATH}, and the command list shows every
   * command with its arguments.
   */
  static CommandLine commandLine(Cli cli, PrintStream out) {
    CommandLine cl = CommandLines.parser(cli);
    addHelpOptions(cl);
    cl.setOut(new PrintWriter(out, true, StandardCharsets.UTF_8));
    cl.getHelpSectionMap().put(UsageMessageSpec.SECTION_KEY_COMMAND_LIST, Cli::commandList);
    return cl;
  }

  /** How subcommands' synopses show the global arguments. */
  private static final String GLOBALS = "PATH [-n NAME] [--timeout S] ";

  /** Every subcommand gets {@code -h, --help} and a synopsis that starts with elbus PATH. */
  private static void addHelpOptions(CommandLine cl) {
    for (CommandLine sub : cl.getSubcommands().values()) {
      sub.getCommandSpec().addOption(OptionSpec.builder("-h", "--help").usageHelp(true)
          .description("this help").build());
      sub.getHelpSectionMap().put(UsageMessageSpec.SECTION_KEY_SYNOPSIS, help -> help.synopsis(
          help.synopsisHeadingLength() + GLOBALS.length()).replaceFirst("^elbus ", "elbus " + GLOBALS));
      addHelpOptions(sub);
    }
  }

  /** The top-level command list: every runnable command with its arguments, then its summary. */
  private static String commandList(Help help) {
    Help.TextTable table = Help.TextTable.forColumns(help.colorScheme(),
        new Help.Column(36, 2, Help.Column.Overflow.SPAN),
        new Help.Column(help.commandSpec().usageMessage().width() - 36, 1,
            Help.Column.Overflow.WRAP));
    addCommands(table, help.commandSpec().commandLine(), help.colorScheme());
    return table.toString();
  }

  private static void addCommands(Help.TextTable table, CommandLine parent,
      Help.ColorScheme scheme) {
    for (CommandLine sub : parent.getSubcommands().values()) {
      CommandSpec spec = sub.getCommandSpec();
      if (!(sub.getCommand() instanceof Leaf)) {
        addCommands(table, sub, scheme);
        continue;
      }
      String synopsis = new Help(spec, scheme).synopsis(0).strip().replaceAll("\\s+", " ")
          .replaceFirst("^elbus ", "").replace(" [-h]", "");
      String[] description = spec.usageMessage().description();
      table.addRowValues(synopsis, description.length == 0 ? "" : description[0]);
    }
  }

  /** A picocli error as one line, in the words of the old parser where it had some. */
  private static String message(ParameterException e) {
    CommandLine where = e.getCommandLine();
    boolean top = where.getParent() == null;
    String prefix = top ? "" : commandName(where) + ": ";
    if (e instanceof UnmatchedArgumentException) {
      List<String> unmatched = ((UnmatchedArgumentException) e).getUnmatched();
      String arg = unmatched.isEmpty() ? "" : unmatched.get(0);
      if (arg.startsWith("-") && arg.length() > 1) {
        return prefix + "unknown option '" + arg + "'";
      }
      if (!where.getSubcommands().isEmpty()) {
        return top ? "unknown command '" + arg + "'"
            : prefix + "unknown subcommand '" + arg + "' (expected "
                + String.join(", ", where.getSubcommands().keySet()) + ")";
      }
      return prefix + "unexpected argument '" + arg + "'";
    }
    return prefix + e.getMessage();
  }

  /** A subcommand's name without {@code elbus}: {@code rpc call}. */
  private static String commandName(CommandLine cl) {
    return cl.getCommandSpec().qualifiedName(" ").replaceFirst("^elbus ", "");
  }

  // ---------------------------------------------------------------- the completion command

  /** {@code completion}: prints the bash completion script. */
  @Command(name = "completion",
      description = "print the bash completion script (see completion --help)",
      footer = {"", "Install it for every shell of a user with",
          "  elbus completion > ~/.local/share/bash-completion/completions/elbus",
          "or system-wide into /etc/bash_completion.d/elbus. It completes commands and",
          "options for the command name elbus (bin/elbus on the PATH)."})
  static final class Completion implements Leaf {
    @Override
    public boolean needsPath() {
      return false;
    }

    @Override
    public Action prepare(Cli cli) {
      String script = AutoComplete.bash("elbus", cli.commandLine);
      return () -> {
        cli.out.print(script);
        return EXIT_OK;
      };
    }
  }

  /** {@code v} within {@code min..max}, else a usage error naming the option. */
  static int range(String option, int v, int min, int max) {
    if (v < min || v > max) {
      throw new UsageException(option + ": must be " + min + ".." + max + ", got " + v);
    }
    return v;
  }

  // ---------------------------------------------------------------- helpers for the commands

  ClientOptions clientOptions() {
    ClientOptions o = new ClientOptions().setTimeoutMs(timeoutMs);
    if (tlsCa != null) {
      o.setTlsCa(tlsCa);
    }
    if (tlsCert != null) {
      o.setTlsCert(tlsCert, tlsKey);
    }
    return o.setTlsHostnameVerification(!tlsNoVerifyHostname);
  }

  /** Connects as {@link #name}; fails with the connection error as one line. */
  NetworkClient connect() throws Exception {
    return connect(null);
  }

  /**
   * Connects as {@link #name}, running {@code init} with the client before its connection opens
   * (where a command that receives sets its frame handler: the broker may deliver the instant
   * the client is registered); fails with the connection error as one line.
   */
  NetworkClient connect(Handler<NetworkClient> init) throws Exception {
    try {
      return await(NetworkClient.connect(vertx, path, name, clientOptions(), init),
          timeoutMs + 1000);
    } catch (ElbusException | Failure e) {
      throw connectFailure(e);
    }
  }

  /** A failed connect as one readable line (socket errors without the transport's details). */
  RuntimeException connectFailure(RuntimeException e) {
    if (e instanceof ElbusException && TlsErrors.isTls(e.getCause())) {
      // the client's message names the address and says why (an untrusted certificate, ...)
      return new Failure(e.getMessage());
    }
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
