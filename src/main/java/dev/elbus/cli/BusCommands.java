package dev.elbus.cli;

import dev.elbus.cli.Cli.Action;
import dev.elbus.cli.Cli.Failure;
import dev.elbus.cli.Cli.Leaf;
import dev.elbus.client.Frame;
import dev.elbus.client.NetworkClient;
import dev.elbus.protocol.QoS;
import dev.elbus.rpc.MsgPack;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * The plain bus commands of the CLI: {@code listen}, {@code send}, {@code publish}; and how
 * payloads are printed ({@link #render}).
 */
final class BusCommands {
  private BusCommands() {}

  /**
   * {@code listen [-t TOPIC]... [-x TOPIC]...}: prints every incoming frame until interrupted;
   * {@code -x} excludes topics (BUS/RT exclude, PROTOCOL.md section 15).
   */
  @Command(name = "listen", description = {
      "print incoming frames until interrupted, one a line: KIND SENDER [TOPIC] PAYLOAD"})
  static final class Listen implements Leaf {
    @Option(names = {"-t", "--topic"}, paramLabel = "TOPIC",
        description = "subscribe to TOPIC (repeatable; MQTT wildcards + and #)")
    List<String> topics = new ArrayList<>();

    @Option(names = {"-x", "--exclude"}, paramLabel = "TOPIC",
        description = "exclude matching publications (repeatable; BUS/RT brokers)")
    List<String> excluded = new ArrayList<>();

    @Override
    public Action prepare(Cli cli) {
      return listen(cli, topics, excluded);
    }
  }

  /** A command with an optional PAYLOAD after its TARGET or TOPIC (send, publish, rpc notify). */
  abstract static class WithPayload implements Leaf {
    @Parameters(index = "1", arity = "0..1", paramLabel = "PAYLOAD",
        description = "the payload as UTF-8 (default: all of stdin)")
    String payload;
  }

  /** {@code send TARGET [PAYLOAD]}. */
  @Command(name = "send", description = {"direct message with QoS 1 (a TARGET with * or ? is a "
      + "broadcast mask); PAYLOAD is read from stdin when omitted"})
  static final class Send extends WithPayload {
    @Parameters(index = "0", paramLabel = "TARGET", description = "the receiver's name or mask")
    String target;

    @Override
    public Action prepare(Cli cli) {
      return send(cli, target, payload, false);
    }
  }

  /** {@code publish TOPIC [PAYLOAD]}. */
  @Command(name = "publish",
      description = {"publication with QoS 1; PAYLOAD is read from stdin when omitted"})
  static final class Publish extends WithPayload {
    @Parameters(index = "0", paramLabel = "TOPIC", description = "the topic")
    String topic;

    @Override
    public Action prepare(Cli cli) {
      return send(cli, topic, payload, true);
    }
  }

  static Action listen(Cli cli, List<String> topics, List<String> excluded) {
    return () -> {
      PrintStream out = cli.out;
      NetworkClient c = cli.connect(n -> n.frameHandler(f -> print(out, f)));
      return untilInterrupted(cli, c, () -> {
        if (!excluded.isEmpty()) {
          try {
            Cli.await(c.exclude(excluded, QoS.PROCESSED), cli.timeoutMs);
          } catch (Exception e) {
            throw new Failure("exclude " + String.join(", ", excluded) + " failed: "
                + Cli.busError(e));
          }
        }
        if (!topics.isEmpty()) {
          try {
            Cli.await(c.subscribe(topics, QoS.PROCESSED), cli.timeoutMs);
          } catch (Exception e) {
            throw new Failure("subscribe to " + String.join(", ", topics) + " failed: "
                + Cli.busError(e));
          }
        }
        cli.err.println("listening as " + c.name() + (topics.isEmpty() ? ""
            : " on " + String.join(", ", topics)) + "; interrupt to stop");
      });
    };
  }

  /**
   * Runs {@code setup}, then blocks until the thread is interrupted (exit 0) or the connection
   * ends (exit 1); closes the client either way.
   */
  static int untilInterrupted(Cli cli, NetworkClient c, SetupStep setup) throws Exception {
    CountDownLatch closed = new CountDownLatch(1);
    c.closeHandler(v -> closed.countDown());
    try {
      setup.run();
      closed.await();
      throw new Failure("connection to " + cli.path + " closed");
    } catch (InterruptedException e) {
      return Cli.EXIT_OK;
    } finally {
      closeQuietly(c);
      cli.out.flush();
    }
  }

  /** A step run before waiting for the interrupt. */
  @FunctionalInterface
  interface SetupStep {
    void run() throws Exception;
  }

  /**
   * {@code send TARGET [PAYLOAD]} / {@code publish TOPIC [PAYLOAD]} with QoS 1; a send TARGET
   * with {@code *} or {@code ?} is a broadcast. Exit 0 on the ack, 1 with the code otherwise.
   */
  static Action send(Cli cli, String target, String text, boolean publish) {
    String what = publish ? "publish" : "send";
    boolean broadcast = !publish && (target.indexOf('*') >= 0 || target.indexOf('?') >= 0);
    return () -> {
      Buffer payload = payload(cli, text);
      NetworkClient c = cli.connect();
      try {
        Future<Void> f = publish ? c.publish(target, payload, QoS.PROCESSED)
            : broadcast ? c.broadcast(target, payload, QoS.PROCESSED)
            : c.send(target, payload, QoS.PROCESSED);
        Cli.await(f, cli.timeoutMs);
      } catch (Failure e) {
        throw new Failure((broadcast ? "broadcast" : what) + " to " + target + " failed: no ack: "
            + e.getMessage());
      } catch (Exception e) {
        throw new Failure((broadcast ? "broadcast" : what) + " to " + target + " failed: "
            + Cli.busError(e));
      } finally {
        closeQuietly(c);
      }
      return Cli.EXIT_OK;
    };
  }

  /** The payload argument as UTF-8, or all of stdin when it is {@code null}. */
  static Buffer payload(Cli cli, String text) throws IOException {
    return text != null ? Buffer.buffer(text.getBytes(StandardCharsets.UTF_8))
        : Buffer.buffer(cli.in.readAllBytes());
  }

  static void closeQuietly(NetworkClient c) {
    try {
      Cli.await(c.close(), 5_000);
    } catch (Exception e) {
      // closing anyway
    }
  }

  /** Prints {@code KIND SENDER [TOPIC] PAYLOAD} for an incoming frame. */
  private static void print(PrintStream out, Frame f) {
    StringBuilder sb = new StringBuilder();
    sb.append(f.kind().name().toLowerCase(Locale.ROOT)).append(' ').append(f.sender());
    if (f.topic() != null) {
      sb.append(' ').append(f.topic());
    }
    sb.append(' ').append(render(f.payload()));
    out.println(sb);
    out.flush();
  }

  /**
   * A payload for display: its text when it is printable UTF-8, compact JSON when it is a
   * MessagePack map or array, else {@code hex:} and its bytes in hex; {@code (empty)} when empty.
   */
  static String render(Buffer payload) {
    if (payload == null || payload.length() == 0) {
      return "(empty)";
    }
    byte[] bytes = payload.getBytes();
    String text = printable(bytes);
    if (text != null) {
      return text;
    }
    Object tree = decodeStructure(bytes);
    if (tree != null) {
      return MsgPack.toJson(tree, false);
    }
    return "hex:" + HexFormat.of().formatHex(bytes);
  }

  /** The bytes as MessagePack when they are exactly one map or array, else {@code null}. */
  static Object decodeStructure(byte[] bytes) {
    try {
      Object tree = MsgPack.decode(bytes);
      return tree instanceof Map || tree instanceof List ? tree : null;
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** Whether and how a payload shows as text: see {@link dev.elbus.impl.codec.Utf8#printable}. */
  static String printable(byte[] bytes) {
    return dev.elbus.impl.codec.Utf8.printable(bytes);
  }

}
