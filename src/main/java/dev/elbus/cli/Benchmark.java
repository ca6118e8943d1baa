package dev.elbus.cli;

import dev.elbus.cli.Cli.Action;
import dev.elbus.cli.Cli.Failure;
import dev.elbus.cli.Cli.Leaf;
import dev.elbus.cli.Cli.UsageException;
import dev.elbus.client.ClientOptions;
import dev.elbus.protocol.QoS;
import dev.elbus.rpc.MsgPack;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code benchmark [-w WORKERS] [--payload-size N] [-i ITERS] [--warmup N] [--paced] [--json]}:
 * runs the seven stages of the upstream {@code elbus} CLI's benchmark (PROTOCOL.md section 14)
 * against any elbus broker and prints iterations/s per stage. Each stage connects fresh clients
 * ({@link BenchWorker}), one per worker, starts them together, measures the wall time from the
 * first operation of any worker to the last ack / receipt / reply / write of all, and closes them
 * before the next stage.
 *
 * <p>The stages mean what upstream's mean, so their figures compare with the elbus README's:
 * {@code send.qos.*} send to {@code <worker>-null}, a name nobody holds (the broker parses the
 * frame and discards it; QoS 1 is acked with 0x71), {@code send+recv.qos.*} send to the worker
 * itself and read its own frames, {@code rpc.call} calls {@code .broker benchmark.test} (an echo),
 * {@code rpc.call+handle} calls the worker's own {@code benchmark.selftest}, {@code rpc.call0}
 * calls method {@code test} of {@code <worker>-null} without a reply. Acked operations and calls
 * wait for their ack or reply before the next (one in flight per worker, as upstream); QoS 0 sends
 * are streamed. With {@code --paced} the variant this CLI had before runs instead ({@code
 * paced.*}): up to {@value BenchWorker#WINDOW} operations in flight per worker, sends to a
 * separate receiver client.
 */
@Command(name = "benchmark", sortOptions = false,
    description = "measure the broker: the seven stages of the elbus CLI's benchmark",
    footer = {"",
        "Stages, as the elbus CLI's (each worker is one client W, named",
        "NAME.STAGE-N; the figure is iterations/s of wall time from the first send",
        "to the last write, ack, receipt or reply of all workers):",
        "  send.qos.no              QoS 0 sends to W-null, a name nobody holds",
        "                           (the broker parses and discards the frames),",
        "                           until the last is written",
        "  send.qos.processed       QoS 1 (realtime) sends to W-null, each waiting",
        "                           for its ack (0x71: not registered)",
        "  send+recv.qos.no         QoS 0 sends to W itself, until W has read them all",
        "  send+recv.qos.processed  QoS 1 sends to W itself, each waiting for its ack",
        "  rpc.call                 calls of .broker benchmark.test (echoes the params)",
        "  rpc.call+handle          W calls its own method benchmark.selftest",
        "  rpc.call0                calls of method test of W-null with no reply",
        "                           wanted (until the QoS 1 ack)",
        "Acked sends and calls have one in flight per worker, as in the elbus CLI; QoS 0",
        "sends stream, paced by the client's write queue (at most 512 KiB not yet taken",
        "by the socket per worker) and, for send+recv.qos.no, at most 65536 (less with",
        "big payloads) not yet read back.",
        "",
        "--paced runs this CLI's earlier variant instead, stages named paced.*: each",
        "worker keeps up to 1024 operations outstanding, its sends go to a receiver",
        "client W.r, and a QoS 0 sender waits until the receiver is less than 1024",
        "messages behind, so that the receiver's queue never overflows; rpc.call0",
        "calls .broker benchmark.test. It measures pipelined throughput.",
        "",
        "Every stage runs an untimed warm-up first with other clients (NAME.warmup.*),",
        "so that the JIT of this JVM client has compiled the hot path. A broker drops",
        "a client whose socket takes nothing for its write timeout while queue_size",
        "frames wait (a slow consumer): the stage then fails with that message.",
        "On a terminal the running stage shows its progress on stderr."})
final class Benchmark implements Leaf {
  static final int DEFAULT_WORKERS = 1;
  static final int DEFAULT_PAYLOAD = 100;
  static final int DEFAULT_ITERS = 100_000;
  /** Upper bound of the default warm-up (a tenth of the iterations). */
  static final int MAX_DEFAULT_WARMUP = 100_000;
  private static final long POLL_MS = 100;

  /** Where a stage's operations go. */
  enum Target {
    /** {@code <worker>-null}: a name nobody holds. */
    NULL,
    /** The worker itself. */
    SELF,
    /** The worker's receiver client {@code <worker>.r} (paced sends). */
    RECEIVER,
    /** {@code .broker}. */
    BROKER
  }

  /** The stages, in the order they run: the elbus CLI's seven, then the paced variant's. */
  enum Stage {
    SEND_NO("send.qos.no", Kind.SEND, QoS.NO, Target.NULL, false),
    SEND_PROCESSED("send.qos.processed", Kind.SEND, QoS.REALTIME_PROCESSED, Target.NULL, false),
    SEND_RECV_NO("send+recv.qos.no", Kind.SEND, QoS.NO, Target.SELF, true),
    SEND_RECV_PROCESSED("send+recv.qos.processed", Kind.SEND, QoS.REALTIME_PROCESSED,
        Target.SELF, true),
    RPC_CALL("rpc.call", Kind.CALL, QoS.REALTIME_PROCESSED, Target.BROKER, false),
    RPC_CALL_HANDLE("rpc.call+handle", Kind.CALL, QoS.REALTIME_PROCESSED, Target.SELF, false),
    RPC_CALL0("rpc.call0", Kind.CALL0, QoS.REALTIME_PROCESSED, Target.NULL, false),
    PACED_SEND_NO("paced.send.qos.no", Kind.SEND, QoS.NO, Target.RECEIVER, false),
    PACED_SEND_PROCESSED("paced.send.qos.processed", Kind.SEND, QoS.PROCESSED, Target.RECEIVER,
        false),
    PACED_SEND_RECV_NO("paced.send+recv.qos.no", Kind.SEND, QoS.NO, Target.RECEIVER, true),
    PACED_SEND_RECV_PROCESSED("paced.send+recv.qos.processed", Kind.SEND, QoS.PROCESSED,
        Target.RECEIVER, true),
    PACED_RPC_CALL("paced.rpc.call", Kind.CALL, QoS.PROCESSED, Target.BROKER, false),
    PACED_RPC_CALL_HANDLE("paced.rpc.call+handle", Kind.CALL, QoS.PROCESSED, Target.SELF, false),
    PACED_RPC_CALL0("paced.rpc.call0", Kind.CALL0, QoS.PROCESSED, Target.BROKER, false);

    /** What a stage's workers do. */
    enum Kind { SEND, CALL, CALL0 }

    final String label;
    final Kind kind;
    final QoS qos;
    final Target target;
    /** The measured time ends when every message has been read by its receiver. */
    final boolean waitReceived;
    final boolean paced;

    Stage(String label, Kind kind, QoS qos, Target target, boolean waitReceived) {
      this.label = label;
      this.kind = kind;
      this.qos = qos;
      this.target = target;
      this.waitReceived = waitReceived;
      this.paced = label.startsWith("paced.");
    }

    /** Whether someone reads the stage's messages (and counts them). */
    boolean hasReceipts() {
      return kind == Kind.SEND && (target == Target.SELF || target == Target.RECEIVER);
    }

    /** Whether each operation completes with an ack or a reply (else: once written). */
    boolean acked() {
      return kind != Kind.SEND || qos.needsAck();
    }

    /** The seven stages of one variant. */
    static List<Stage> of(boolean paced) {
      return Arrays.stream(values()).filter(s -> s.paced == paced).toList();
    }
  }

  @Option(names = {"-w", "--workers"}, paramLabel = "N", converter = CommandLines.Count.class,
      description = "workers, each its own client, sending in parallel in each stage "
          + "(default " + DEFAULT_WORKERS + ")")
  int workers = DEFAULT_WORKERS;

  @Option(names = "--payload-size", paramLabel = "N", converter = CommandLines.Count.class,
      description = "bytes of each message / RPC params (default " + DEFAULT_PAYLOAD + ")")
  int payloadSize = DEFAULT_PAYLOAD;

  @Option(names = {"-i", "--iters"}, paramLabel = "N", converter = CommandLines.Count.class,
      description = "iterations per stage, split between the workers (default "
          + DEFAULT_ITERS + ")")
  int iters = DEFAULT_ITERS;

  @Option(names = "--warmup", paramLabel = "N", converter = CommandLines.Count.class,
      description = "untimed iterations before each stage (default: a tenth of --iters, at "
          + "most " + MAX_DEFAULT_WARMUP + "; 0: none)")
  Integer warmupOption;

  @Option(names = "--paced", description = "run the paced variant (see below)")
  boolean paced;

  @Option(names = "--json", description = "print the result as one JSON document")
  boolean json;

  private Cli cli;
  private long warmup;
  private final boolean progress = System.console() != null;

  @Override
  public Action prepare(Cli cli) {
    Cli.range("--workers", workers, 1, 1000);
    Cli.range("--payload-size", payloadSize, 0, 16 * 1024 * 1024);
    Cli.range("--iters", iters, 1, Integer.MAX_VALUE);
    if (iters < workers) {
      throw new UsageException("benchmark: fewer iterations (" + iters + ") than workers ("
          + workers + ")");
    }
    int w = warmupOption == null ? Math.min(MAX_DEFAULT_WARMUP, iters / 10)
        : Cli.range("--warmup", warmupOption, 0, Integer.MAX_VALUE);
    this.warmup = w > 0 && w < workers ? workers : w;
    this.cli = cli;
    cli.eventLoops = Math.max(2, 2 * workers);
    return this::run;
  }

  private int run() throws Exception {
    PrintStream out = cli.out;
    List<Stage> stages = Stage.of(paced);
    int w = "stage".length();
    for (Stage s : stages) {
      w = Math.max(w, s.label.length());
    }
    String fmt = "%-" + w + "s  %12s%n";
    if (!json) {
      out.printf(Locale.ROOT, "benchmark of %s: %d worker%s, payload %d bytes, %d iterations"
          + " per stage, %d warm-up%s%n", cli.path, workers, workers == 1 ? "" : "s",
          payloadSize, iters, warmup, paced ? ", paced" : "");
      out.printf(Locale.ROOT, fmt, "stage", "iters/s");
      out.flush();
    }
    List<Map<String, Object>> results = new ArrayList<>();
    for (Stage s : stages) {
      if (warmup > 0) {
        runStage(s, warmup, true);
      }
      long nanos = runStage(s, iters, false);
      double rate = iters * 1e9 / nanos;
      if (json) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("stage", s.label);
        r.put("iters", (long) iters);
        r.put("seconds", nanos / 1e9);
        r.put("iters_per_s", Math.round(rate));
        results.add(r);
      } else {
        out.printf(Locale.ROOT, fmt, s.label, String.format(Locale.ROOT, "%.0f", rate));
        out.flush();
      }
    }
    if (json) {
      Map<String, Object> doc = new LinkedHashMap<>();
      doc.put("broker", cli.path);
      doc.put("variant", paced ? "paced" : "elbus");
      doc.put("workers", (long) workers);
      doc.put("payload_size", (long) payloadSize);
      doc.put("iters", (long) iters);
      doc.put("warmup", warmup);
      doc.put("stages", results);
      out.println(MsgPack.toJson(doc, true));
    }
    return Cli.EXIT_OK;
  }

  /**
   * Runs {@code iters} iterations of one stage with fresh clients (named {@code
   * NAME[.warmup].STAGE-N}); returns the measured wall time in nanoseconds.
   */
  private long runStage(Stage s, long iters, boolean warm) throws Exception {
    byte[] bytes = new byte[payloadSize];
    Arrays.fill(bytes, (byte) 0xEE);
    Buffer payload = Buffer.buffer(bytes);
    ClientOptions opts = cli.clientOptions();
    List<BenchWorker> ws = new ArrayList<>();
    try {
      for (int i = 0; i < workers; i++) {
        long n = iters / workers + (i < iters % workers ? 1 : 0);
        ws.add(new BenchWorker(cli.vertx, s, cli.name + (warm ? ".warmup." : ".") + s.label
            + "-" + (i + 1), n, payload));
      }
      List<Future<Void>> connects = new ArrayList<>();
      for (BenchWorker bw : ws) {
        connects.add(bw.connect(cli.path, opts));
      }
      try {
        Cli.await(Future.all(connects), 2 * cli.timeoutMs + 1000);
      } catch (RuntimeException e) {
        throw cli.connectFailure(e);
      }
      List<Future<Void>> dones = new ArrayList<>();
      for (BenchWorker bw : ws) {
        dones.add(bw.start());
      }
      String label = warm ? s.label + " (warm-up)" : s.label;
      waitFor(label, iters, Future.all(dones), ws);
      long start = Long.MAX_VALUE;
      long end = 0;
      for (BenchWorker bw : ws) {
        start = Math.min(start, bw.startNanos);
        end = Math.max(end, bw.endNanos);
      }
      if (s.hasReceipts() && !s.waitReceived) {
        drain(s, iters, ws);
      }
      return Math.max(1, end - start);
    } finally {
      clearProgress();
      List<Future<Void>> closes = new ArrayList<>();
      for (BenchWorker bw : ws) {
        closes.add(bw.close());
      }
      try {
        Cli.await(Future.join(closes), 10_000);
      } catch (Exception e) {
        // the next stage uses other names; Vert.x closes the rest at exit
      }
    }
  }

  /**
   * Waits for {@code all}, showing progress on a terminal; fails when a worker fails or nothing
   * moves for the stall limit (twice --timeout, at least 10 s).
   */
  private void waitFor(String label, long iters, Future<?> all, List<BenchWorker> ws)
      throws Exception {
    long stallNanos = TimeUnit.MILLISECONDS.toNanos(Math.max(10_000, 2 * cli.timeoutMs));
    long last = -1;
    long lastMove = System.nanoTime();
    while (true) {
      try {
        all.toCompletionStage().toCompletableFuture().get(POLL_MS, TimeUnit.MILLISECONDS);
        return;
      } catch (java.util.concurrent.ExecutionException e) {
        for (BenchWorker bw : ws) {
          if (bw.failure() != null) {
            throw bw.failure() instanceof Exception ? (Exception) bw.failure()
                : new Failure(Cli.oneLine(bw.failure()));
          }
        }
        throw new Failure(label + ": " + Cli.oneLine(e.getCause()));
      } catch (TimeoutException e) {
        // still running
      }
      long p = 0;
      long issued = 0;
      for (BenchWorker bw : ws) {
        p += bw.progress();
        issued += bw.issued;
      }
      long now = System.nanoTime();
      if (p != last) {
        last = p;
        lastMove = now;
      } else if (now - lastMove > stallNanos) {
        StringBuilder state = new StringBuilder();
        for (BenchWorker bw : ws) {
          state.append(state.length() == 0 ? "" : "; ").append(bw.state());
        }
        throw new Failure(label + ": stalled, no progress for "
            + TimeUnit.NANOSECONDS.toSeconds(stallNanos) + " s (" + state + ")");
      }
      showProgress(label, issued, iters);
    }
  }

  /** After a paced send stage that does not wait for receipts: lets the receivers catch up. */
  private void drain(Stage s, long iters, List<BenchWorker> ws) throws Exception {
    long stallNanos = TimeUnit.MILLISECONDS.toNanos(Math.max(10_000, 2 * cli.timeoutMs));
    long last = -1;
    long lastMove = System.nanoTime();
    while (true) {
      long got = 0;
      for (BenchWorker bw : ws) {
        if (bw.failure() != null) {
          throw new Failure(Cli.oneLine(bw.failure()));
        }
        got += bw.received.get();
      }
      if (got >= iters) {
        return;
      }
      long now = System.nanoTime();
      if (got != last) {
        last = got;
        lastMove = now;
      } else if (now - lastMove > stallNanos) {
        throw new Failure(s.label + ": receivers got " + got + " of " + iters + " messages");
      }
      Thread.sleep(5);
    }
  }

  private void showProgress(String label, long done, long iters) {
    if (progress) {
      cli.err.printf(Locale.ROOT, "\r%s  %d%% (%d/%d)", label, done * 100 / iters, done, iters);
      cli.err.flush();
    }
  }

  private void clearProgress() {
    if (progress) {
      cli.err.print("\r" + " ".repeat(70) + "\r");
      cli.err.flush();
    }
  }
}
