package dev.elbus.cli;

import dev.elbus.cli.Cli.Action;
import dev.elbus.cli.Cli.Failure;
import dev.elbus.cli.Cli.UsageException;
import dev.elbus.client.Frame;
import dev.elbus.client.FrameKind;
import dev.elbus.client.NetworkClient;
import dev.elbus.protocol.QoS;
import dev.elbus.rpc.KvParams;
import dev.elbus.rpc.MsgPack;
import dev.elbus.rpc.RpcClient;
import dev.elbus.rpc.RpcException;
import dev.elbus.rpc.RpcFrames;
import io.vertx.core.buffer.Buffer;

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

  /** {@code rpc listen | notify TARGET [PAYLOAD] | call0|call TARGET METHOD [k=v ...]}. */
  static Action rpc(Cli cli, List<String> args) {
    if (args.isEmpty()) {
      throw new UsageException("rpc: expected listen, notify, call0 or call");
    }
    String sub = args.get(0);
    List<String> rest = args.subList(1, args.size());
    switch (sub) {
      case "listen":
        if (!rest.isEmpty()) {
          throw new UsageException("rpc listen: unexpected argument '" + rest.get(0) + "'");
        }
        return () -> listen(cli);
      case "notify": {
        if (rest.isEmpty() || rest.size() > 2) {
          throw new UsageException("rpc notify: expected TARGET [PAYLOAD]");
        }
        String target = rest.get(0);
        String text = rest.size() > 1 ? rest.get(1) : null;
        return () -> {
          Buffer payload = BusCommands.payload(cli, text);
          return withRpc(cli, rpc -> {
            Cli.await(rpc.notify(target, payload), cli.timeoutMs);
            return Cli.EXIT_OK;
          });
        };
      }
      case "call0":
      case "call": {
        if (rest.size() < 2) {
          throw new UsageException("rpc " + sub + ": expected TARGET METHOD [k=v ...]");
        }
        String target = rest.get(0);
        String method = rest.get(1);
        Buffer params = params(rest.subList(2, rest.size()));
        if (sub.equals("call0")) {
          return () -> withRpc(cli, rpc -> {
            Cli.await(rpc.call0(target, method, params), cli.timeoutMs);
            return Cli.EXIT_OK;
          });
        }
        return () -> withRpc(cli, rpc -> {
          Buffer result = Cli.await(rpc.call(target, method, params), cli.timeoutMs + 1000);
          printResult(cli.out, result);
          return Cli.EXIT_OK;
        });
      }
      default:
        throw new UsageException("rpc: unknown subcommand '" + sub + "'");
    }
  }

  /** {@code broker test|info|stats|client.list}. */
  static Action broker(Cli cli, List<String> args) {
    if (args.size() != 1) {
      throw new UsageException("broker: expected test, info, stats or client.list");
    }
    String method = args.get(0);
    switch (method) {
      case "test":
        return () -> withRpc(cli, rpc -> {
          Map<String, Object> m = callMap(cli, rpc, method);
          if (!Boolean.TRUE.equals(m.get("ok"))) {
            throw new Failure("broker test failed: " + MsgPack.toJson(m, false));
          }
          cli.out.println("ok");
          return Cli.EXIT_OK;
        });
      case "info":
      case "stats":
        return () -> withRpc(cli, rpc -> {
          for (Map.Entry<String, Object> e : callMap(cli, rpc, method).entrySet()) {
            cli.out.println(e.getKey() + ": " + scalar(e.getValue()));
          }
          return Cli.EXIT_OK;
        });
      case "client.list":
        return () -> withRpc(cli, rpc -> {
          // a reply is bounded in size: follow "more" page by page, "after" the last name
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
          cli.out.print(clientTable(all));
          return Cli.EXIT_OK;
        });
      default:
        throw new UsageException("broker: unknown method '" + method
            + "' (expected test, info, stats or client.list)");
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

  /** A map value for {@code key: value} lines: strings bare, the rest as JSON. */
  private static String scalar(Object v) {
    return v instanceof String ? (String) v : MsgPack.toJson(v, false);
  }

  /** The {@code client.list} entries as an aligned table: text left, numbers right. */
  static String clientTable(List<?> clients) {
    List<String[]> rows = new ArrayList<>();
    rows.add(CLIENT_COLUMNS.toArray(new String[0]));
    for (Object o : clients) {
      Map<?, ?> m = o instanceof Map ? (Map<?, ?>) o : Map.of();
      String[] row = new String[CLIENT_COLUMNS.size()];
      for (int i = 0; i < row.length; i++) {
        Object v = m.get(CLIENT_COLUMNS.get(i));
        row[i] = v == null ? "-" : scalar(v);
      }
      rows.add(row);
    }
    int[] width = new int[CLIENT_COLUMNS.size()];
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
        boolean right = i >= 4;
        String pad = " ".repeat(width[i] - r[i].length());
        line.append(right ? pad + r[i] : r[i] + pad);
      }
      sb.append(line.toString().stripTrailing()).append('\n');
    }
    return sb.toString();
  }

  /** {@code rpc listen}: prints calls and notifications, answers calls with an empty result. */
  private static int listen(Cli cli) throws Exception {
    NetworkClient c = cli.connect();
    PrintStream out = cli.out;
    c.frameHandler(f -> onFrame(c, out, f));
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
