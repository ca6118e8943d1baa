package dev.elbus.cli;

import dev.elbus.cli.Cli.Action;
import dev.elbus.cli.Cli.Failure;
import dev.elbus.cli.Cli.UsageException;
import dev.elbus.client.ClientOptions;
import dev.elbus.protocol.QoS;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code benchmark [-w WORKERS] [--payload-size N] [-i ITERS]}: runs the seven stages of
 * PROTOCOL.md section 14 against any elbus broker and prints iterations/s per stage. Each stage
 * connects fresh clients ({@link BenchWorker}), starts them together, measures the wall time
 * from the first operation of any worker to the last ack / receipt / reply of all, and closes
 * them before the next stage.
 */
final class Benchmark {
  static final int DEFAULT_WORKERS = 1;
  static final int DEFAULT_PAYLOAD = 100;
  static final int DEFAULT_ITERS = 100_000;
  /** Upper bound of the default warm-up (a tenth of the iterations). */
  static final int MAX_DEFAULT_WARMUP = 100_000;
  private static final long POLL_MS = 100;

  /** The stages, in the order they run. */
  enum Stage {
    SEND_NO("send.qos.no", Kind.SEND, QoS.NO, false),
    SEND_PROCESSED("send.qos.processed", Kind.SEND, QoS.PROCESSED, false),
    SEND_RECV_NO("send+recv.qos.no", Kind.SEND, QoS.NO, true),
    SEND_RECV_PROCESSED("send+recv.qos.processed", Kind.SEND, QoS.PROCESSED, true),
    RPC_CALL("rpc.call", Kind.CALL, QoS.PROCESSED, false),
    RPC_CALL_HANDLE("rpc.call+handle", Kind.CALL_SELF, QoS.PROCESSED, false),
    RPC_CALL0("rpc.call0", Kind.CALL0, QoS.PROCESSED, false);

    /** What a stage's workers do. */
    enum Kind { SEND, CALL, CALL_SELF, CALL0 }

    final String label;
    final Kind kind;
    final QoS qos;
    final boolean send;
    /** The measured time ends when the receivers have every message. */
    final boolean waitReceived;

    Stage(String label, Kind kind, QoS qos, boolean waitReceived) {
      this.label = label;
      this.kind = kind;
      this.qos = qos;
      this.send = kind == Kind.SEND;
      this.waitReceived = waitReceived;
    }
  }

  private final Cli cli;
  private final int workers;
  private final int payloadSize;
  private final long iters;
  private final long warmup;
  private final boolean progress = System.console() != null;

  private Benchmark(Cli cli, int workers, int payloadSize, long iters, long warmup) {
    this.cli = cli;
    this.workers = workers;
    this.payloadSize = payloadSize;
    this.iters = iters;
    this.warmup = warmup;
  }

  static Action parse(Cli cli, List<String> args) {
    int workers = DEFAULT_WORKERS;
    int payload = DEFAULT_PAYLOAD;
    int iters = DEFAULT_ITERS;
    int warmup = -1;
    for (int i = 0; i < args.size(); i++) {
      String a = args.get(i);
      String v = null;
      if (a.equals("-w") || a.equals("--workers") || a.equals("--payload-size")
          || a.equals("-i") || a.equals("--iters") || a.equals("--warmup")) {
        if (i + 1 >= args.size()) {
          throw new UsageException(a + " needs a value");
        }
        v = args.get(++i);
      }
      switch (a) {
        case "-w":
        case "--workers":
          workers = Cli.intValue(v, a, 1, 1000);
          break;
        case "--payload-size":
          payload = Cli.intValue(v, a, 0, 16 * 1024 * 1024);
          break;
        case "-i":
        case "--iters":
          iters = Cli.intValue(v, a, 1, Integer.MAX_VALUE);
          break;
        case "--warmup":
          warmup = Cli.intValue(v, a, 0, Integer.MAX_VALUE);
          break;
        default:
          throw new UsageException("benchmark: unexpected argument '" + a + "'");
      }
    }
    if (iters < workers) {
      throw new UsageException("benchmark: fewer iterations (" + iters + ") than workers ("
          + workers + ")");
    }
    if (warmup < 0) {
      warmup = Math.min(MAX_DEFAULT_WARMUP, iters / 10);
    }
    if (warmup > 0 && warmup < workers) {
      warmup = workers;
    }
    cli.eventLoops = Math.max(2, 2 * workers);
    Benchmark b = new Benchmark(cli, workers, payload, iters, warmup);
    return b::run;
  }

  private int run() throws Exception {
    PrintStream out = cli.out;
    out.printf(Locale.ROOT, "benchmark of %s: %d worker%s, payload %d bytes, %d iterations"
        + " per stage, %d warm-up%n", cli.path, workers, workers == 1 ? "" : "s", payloadSize,
        iters, warmup);
    int w = 0;
    for (Stage s : Stage.values()) {
      w = Math.max(w, s.label.length());
    }
    String fmt = "%-" + w + "s  %12s%n";
    out.printf(Locale.ROOT, fmt, "stage", "iters/s");
    out.flush();
    for (Stage s : Stage.values()) {
      if (warmup > 0) {
        runStage(s, warmup, true);
      }
      double rate = runStage(s, iters, false);
      out.printf(Locale.ROOT, fmt, s.label, String.format(Locale.ROOT, "%.0f", rate));
      out.flush();
    }
    return Cli.EXIT_OK;
  }

  /**
   * Runs {@code iters} iterations of one stage with fresh clients (named {@code
   * NAME.bench[.warmup].STAGE.N}); returns iterations per second.
   */
  private double runStage(Stage s, long iters, boolean warm) throws Exception {
    byte[] bytes = new byte[payloadSize];
    for (int i = 0; i < bytes.length; i++) {
      bytes[i] = (byte) ('a' + i % 26);
    }
    Buffer payload = Buffer.buffer(bytes);
    ClientOptions opts = cli.clientOptions();
    List<BenchWorker> ws = new ArrayList<>();
    try {
      for (int i = 0; i < workers; i++) {
        long n = iters / workers + (i < iters % workers ? 1 : 0);
        ws.add(new BenchWorker(cli.vertx, s, cli.name + ".bench." + (warm ? "warmup." : "")
            + s.label + "." + (i + 1), n, payload));
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
      if (s.send && !s.waitReceived) {
        drain(s, iters, ws);
      }
      return iters * 1e9 / Math.max(1, end - start);
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
        throw new Failure(label + ": stalled, no progress for "
            + TimeUnit.NANOSECONDS.toSeconds(stallNanos) + " s");
      }
      showProgress(label, issued, iters);
    }
  }

  /** After a send stage that does not wait for receipts: lets the receivers catch up. */
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
