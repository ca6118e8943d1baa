package dev.elbus.cli;

import dev.elbus.cli.Cli.Action;
import dev.elbus.cli.Cli.Failure;
import dev.elbus.cli.Cli.Leaf;
import dev.elbus.client.Frame;
import dev.elbus.client.FrameKind;
import dev.elbus.client.NetworkClient;
import dev.elbus.impl.codec.RpcFrames;
import dev.elbus.protocol.QoS;
import dev.elbus.rpc.KvParams;
import dev.elbus.rpc.MsgPack;
import dev.elbus.rpc.RpcClient;
import dev.elbus.rpc.RpcException;
import io.vertx.core.buffer.Buffer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The RPC commands of the CLI: {@code rpc listen|notify|call0|call} and {@code broker
 * test|info|stats|client.list} (the {@code .broker} core methods, PROTOCOL.md section 10).
 */
final class RpcCommands {
  static final String BROKER = ".broker";

  /** The columns of {@code client.list} (section 10), in order. */
  static final List<String> CLIENT_COLUMNS = List.of("name", "kind", "source", "port",
      "r_frames", "r_bytes", "w_frames", "w_bytes", "queue", "instances");

  private RpcCommands() {}

  /** {@code rpc listen|notify|call0|call}. */
  @Command(name = "rpc", description = "RPC commands (PROTOCOL.md section 9)",
      subcommands = {RpcListen.class, Notify.class, Call0.class, Call.class})
  static final class Rpc {}

  /** {@code rpc listen}. */
  @Command(name = "listen", description = {"print incoming RPC calls and notifications; calls "
      + "get an empty result"})
  static final class RpcListen implements Leaf {
    @Override
    public Action prepare(Cli cli) {
      return () -> listen(cli);
    }
  }

  /** {@code rpc notify TARGET [PAYLOAD]}. */
  @Command(name = "notify",
      description = "RPC notification (PAYLOAD is read from stdin when omitted)")
  static final class Notify extends BusCommands.WithPayload {
    @Parameters(index = "0", paramLabel = "TARGET", description = "the receiver")
    String target;

    @Override
    public Action prepare(Cli cli) {
      return () -> {
        Buffer p = BusCommands.payload(cli, payload);
        return withRpc(cli, rpc -> {
          Cli.await(rpc.notify(target, p), cli.timeoutMs);
          return Cli.EXIT_OK;
        });
      };
    }
  }

  /** What {@code rpc call0} and {@code rpc call} take. */
  abstract static class CallArgs implements Leaf {
    @Parameters(index = "0", paramLabel = "TARGET", description = "the client to call")
    String target;

    @Parameters(index = "1", paramLabel = "METHOD", description = "the method")
    String method;

    @Parameters(index = "2..*", paramLabel = "k=v",
        description = "params: a MessagePack map of these (none: empty params)")
    List<String> params = new ArrayList<>();
  }

  /** {@code rpc call0 TARGET METHOD [k=v ...]}. */
  @Command(name = "call0", description = "RPC call with no reply wanted")
  static final class Call0 extends CallArgs {
    @Override
    public Action prepare(Cli cli) {
      Buffer p = params(params);
      return () -> withRpc(cli, rpc -> {
        Cli.await(rpc.call0(target, method, p), cli.timeoutMs);
        return Cli.EXIT_OK;
      });
    }
  }

  /** {@code rpc call [--json] TARGET METHOD [k=v ...]}. */
  @Command(name = "call", description = {"RPC call; prints the reply (MessagePack as JSON)"})
  static final class Call extends CallArgs {
    @Option(names = "--json", description = "print the reply as one JSON document: MessagePack "
        + "as JSON, an empty reply as null, other bytes as a base64 string")
    boolean json;

    @Override
    public Action prepare(Cli cli) {
      Buffer p = params(params);
      return () -> withRpc(cli, rpc -> {
        Buffer result = Cli.await(rpc.call(target, method, p), cli.timeoutMs + 1000);
        if (json) {
          cli.out.println(jsonResult(result));
        } else {
          printResult(cli.out, result);
        }
        return Cli.EXIT_OK;
      });
    }
  }

  /** {@code broker test|info|stats|client.list}. */
  @Command(name = "broker", description = ".broker core methods (PROTOCOL.md section 10)",
      subcommands = {BrokerTest.class, BrokerInfo.class, BrokerStats.class,
          BrokerClientList.class})
  static final class BrokerMethods {}

  /**
   * A {@code .broker} method without params (the command's name), printed as {@code key: value}
   * lines unless {@link #print} says otherwise, or with --json as its reply.
   */
  abstract static class BrokerMethod implements Leaf {
    @Option(names = "--json", description = "print the reply as one JSON document")
    boolean json;

    @Spec
    CommandSpec spec;

    /** Prints the reply as text; returns the exit code. */
    int print(Cli cli, Map<String, Object> reply) {
      for (Map.Entry<String, Object> e : reply.entrySet()) {
        cli.out.println(e.getKey() + ": " + scalar(e.getValue()));
      }
      return Cli.EXIT_OK;
    }

    /** The method's reply; {@code client.list} follows its pages. */
    Map<String, Object> fetch(Cli cli, RpcClient rpc, String method) throws Exception {
      return callMap(cli, rpc, method);
    }

    @Override
    public Action prepare(Cli cli) {
      String method = spec.name();
      return () -> withRpc(cli, rpc -> {
        Map<String, Object> reply = fetch(cli, rpc, method);
        if (!json) {
          return print(cli, reply);
        }
        cli.out.println(MsgPack.toJson(reply, true));
        return Cli.EXIT_OK;
      });
    }
  }

  /** {@code broker test}: exit 0 when .broker answers {@code {ok: true}}. */
  @Command(name = "test", description = ".broker test; exit 0 when it answers {ok: true}")
  static final class BrokerTest extends BrokerMethod {
    @Override
    int print(Cli cli, Map<String, Object> reply) {
      if (!Boolean.TRUE.equals(reply.get("ok"))) {
        throw new Failure("broker test failed: " + MsgPack.toJson(reply, false));
      }
      cli.out.println("ok");
      return Cli.EXIT_OK;
    }
  }

  /** {@code broker info}. */
  @Command(name = "info", description = ".broker info as 'key: value' lines")
  static final class BrokerInfo extends BrokerMethod {}

  /** {@code broker stats}. */
  @Command(name = "stats", description = ".broker stats as 'key: value' lines")
  static final class BrokerStats extends BrokerMethod {}

  /** {@code broker client.list}: every page (a reply is bounded in size), as one list. */
  @Command(name = "client.list", description = "connected clients as a table")
  static final class BrokerClientList extends BrokerMethod {
    @Override
    Map<String, Object> fetch(Cli cli, RpcClient rpc, String method) throws Exception {
      // follow "more" page by page, "after" the last name
      List<Object> all = new java.util.ArrayList<>();
      Buffer params = Buffer.buffer();
      for (int page = 0; page < MAX_PAGES; page++) {
        Map<String, Object> m = callMap(cli, rpc, method, params);
        Object clients = m.get("clients");
        if (!(clients instanceof List)) {
          throw new Failure("client.list: the reply has no clients array");
        }
        List<?> l = (List<?>) clients;
        all.addAll(l);
        if (!Boolean.TRUE.equals(m.get("more")) || l.isEmpty()
            || !(l.get(l.size() - 1) instanceof Map)) {
          break;
        }
        Object last = ((Map<?, ?>) l.get(l.size() - 1)).get("name");
        params = MsgPack.encodeBuffer(MsgPack.map("after", String.valueOf(last)));
      }
      Map<String, Object> out = new java.util.LinkedHashMap<>();
      out.put("clients", all);
      return out;
    }

    @Override
    int print(Cli cli, Map<String, Object> reply) {
      Object clients = reply.get("clients");
      if (!(clients instanceof List)) {
        throw new Failure("client.list: the reply has no clients array");
      }
      cli.out.print(clientTable((List<?>) clients));
      return Cli.EXIT_OK;
    }
  }

  /** k=v words as a MessagePack map; none: empty params. */
  static Buffer params(List<String> words) {
    if (words.isEmpty()) {
      return Buffer.buffer();
    }
    return MsgPack.encodeBuffer(KvParams.parse(words));
  }

  /** Something to do with a connected RpcClient. */
  @FunctionalInterface
  interface RpcTask {
    int run(RpcClient rpc) throws Exception;
  }

  /** Connects, runs {@code task} with an RpcClient (timeout: --timeout), closes. */
  static int withRpc(Cli cli, RpcTask task) throws Exception {
    NetworkClient c = cli.connect();
    RpcClient rpc = new RpcClient(cli.vertx, c).timeout(cli.timeoutMs);
    try {
      return task.run(rpc);
    } finally {
      try {
        Cli.await(rpc.close(), 5_000);
      } catch (Exception e) {
        // closing anyway
      }
    }
  }

  /** Calls a {@code .broker} method without params; its result must be a MessagePack map. */
  private static Map<String, Object> callMap(Cli cli, RpcClient rpc, String method)
      throws Exception {
    return callMap(cli, rpc, method, Buffer.buffer());
  }

  /** Pages of {@code client.list} the CLI reads at most (a broker that always says "more"). */
  private static final int MAX_PAGES = 10_000;

  private static Map<String, Object> callMap(Cli cli, RpcClient rpc, String method,
      Buffer params) throws Exception {
    Buffer result = Cli.await(rpc.call(BROKER, method, params), cli.timeoutMs + 1000);
    try {
      return MsgPack.decodeMap(result);
    } catch (IllegalArgumentException e) {
      throw new Failure(method + ": the reply is not a MessagePack map: " + e.getMessage());
    }
  }

  /** Prints a call result: MessagePack as pretty JSON, else as {@link BusCommands#render}. */
  static void printResult(PrintStream out, Buffer result) {
    if (result == null || result.length() == 0) {
      return;
    }
    Object tree;
    try {
      tree = MsgPack.decode(result);
    } catch (IllegalArgumentException e) {
      out.println(BusCommands.render(result));
      return;
    }
    out.println(MsgPack.toJson(tree, true));
  }

  /**
   * A call result as one JSON document: MessagePack as JSON, an empty result as {@code null},
   * bytes that are not MessagePack as a base64 string (as MessagePack binaries are shown).
   */
  static String jsonResult(Buffer result) {
    if (result == null || result.length() == 0) {
      return "null";
    }
    try {
      return MsgPack.toJson(MsgPack.decode(result), true);
    } catch (IllegalArgumentException e) {
      return MsgPack.toJson(result.getBytes(), false);
    }
  }

  /** A map value for {@code key: value} lines: strings bare, the rest as JSON. */
  private static String scalar(Object v) {
    return v instanceof String ? (String) v : MsgPack.toJson(v, false);
  }

  /**
   * The {@code client.list} entries as an aligned table: text left, numbers right. A broker in
   * cluster mode names each entry's node: then a last column {@code node}.
   */
  static String clientTable(List<?> clients) {
    List<String> columns = new ArrayList<>(CLIENT_COLUMNS);
    for (Object o : clients) {
      if (o instanceof Map && ((Map<?, ?>) o).containsKey("node")) {
        columns.add("node");
        break;
      }
    }
    List<String[]> rows = new ArrayList<>();
    rows.add(columns.toArray(new String[0]));
    for (Object o : clients) {
      Map<?, ?> m = o instanceof Map ? (Map<?, ?>) o : Map.of();
      String[] row = new String[columns.size()];
      for (int i = 0; i < row.length; i++) {
        Object v = m.get(columns.get(i));
        row[i] = v == null ? "-" : scalar(v);
      }
      rows.add(row);
    }
    int[] width = new int[columns.size()];
    for (String[] r : rows) {
      for (int i = 0; i < r.length; i++) {
        width[i] = Math.max(width[i], r[i].length());
      }
    }
    StringBuilder sb = new StringBuilder();
    for (String[] r : rows) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < r.length; i++) {
        if (i > 0) {
          line.append("  ");
        }
        boolean right = i >= 4 && i < CLIENT_COLUMNS.size();
        String pad = " ".repeat(width[i] - r[i].length());
        line.append(right ? pad + r[i] : r[i] + pad);
      }
      sb.append(line.toString().stripTrailing()).append('\n');
    }
    return sb.toString();
  }

  /** {@code rpc listen}: prints calls and notifications, answers calls with an empty result. */
  private static int listen(Cli cli) throws Exception {
    PrintStream out = cli.out;
    // the handler is in place before the registration: a call sent the instant the name is
    // registered is answered, not lost (the caller would time out)
    NetworkClient c = cli.connect(n -> n.frameHandler(f -> onFrame(n, out, f)));
    return BusCommands.untilInterrupted(cli, c,
        () -> cli.err.println("listening for RPC as " + c.name() + "; interrupt to stop"));
  }

  private static void onFrame(NetworkClient c, PrintStream out, Frame f) {
    if (f.kind() != FrameKind.MESSAGE) {
      // section 9: broadcasts and publications are never RPC frames
      out.println(f.kind().name().toLowerCase(java.util.Locale.ROOT) + " " + f.sender()
          + (f.topic() != null ? " " + f.topic() : "") + " " + BusCommands.render(f.payload()));
      out.flush();
      return;
    }
    RpcFrames.Parsed p = RpcFrames.parse(f.payload());
    String line;
    if (p instanceof RpcFrames.Notification n) {
      line = "notification " + f.sender() + " " + BusCommands.render(n.payload());
    } else if (p instanceof RpcFrames.Request r) {
      line = (r.callId() == 0 ? "call0 " : "call ") + f.sender() + " " + r.method() + " "
          + BusCommands.render(r.params());
      if (r.callId() != 0) {
        QoS qos = f.realtime() ? QoS.REALTIME_PROCESSED : QoS.PROCESSED;
        c.send(f.sender(), RpcFrames.reply(r.callId(), Buffer.buffer()), qos);
      }
    } else if (p instanceof RpcFrames.Reply r) {
      line = "reply " + f.sender() + " (call " + r.callId() + ") " + BusCommands.render(r.result());
    } else if (p instanceof RpcFrames.ErrorReply r) {
      line = "error " + f.sender() + " (call " + r.callId() + ") "
          + new RpcException(r.code(), r.data()).getMessage();
    } else {
      line = "invalid " + f.sender() + " " + ((RpcFrames.Invalid) p).reason() + ": "
          + BusCommands.render(f.payload());
    }
    out.println(line);
    out.flush();
  }
}
