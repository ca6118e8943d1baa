package dev.elbus.cli;

import dev.elbus.cli.Benchmark.Stage;
import dev.elbus.client.ClientOptions;
import dev.elbus.client.ElbusException;
import dev.elbus.client.NetworkClient;
import dev.elbus.protocol.Protocol;
import dev.elbus.rpc.RpcClient;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One benchmark worker: its own client (and, for the send stages, a receiver client), each on its
 * own event-loop context, issuing {@link #total} operations of one {@link Stage}.
 *
 * <p>The worker runs entirely on its client's context, so every operation goes straight to the
 * socket without a thread hop. It keeps at most {@link #WINDOW} operations outstanding: a send
 * is outstanding until the receiver has it (and, with QoS 1, until its ack), a call until its
 * reply or ack. When the window is full the worker parks and is woken once the outstanding count
 * falls to half the window, by the receiver (another thread) or by an ack / reply callback.
 *
 * <p>Threading: {@link #issued} and {@link #completed} are written on the worker's context only;
 * they are volatile so that the main thread can read them for the progress display and the stall
 * check. {@link #received} is written on the receiver's context.
 */
final class BenchWorker {
  /** Most operations a worker keeps outstanding (well below the broker's 8192-frame queue). */
  static final int WINDOW = 1024;
  /** The method each worker of {@code rpc.call+handle} serves and calls on itself. */
  static final String SELF_METHOD = "benchmark.handle";
  static final String BROKER_METHOD = "benchmark.test";

  private final Vertx vertx;
  private final Stage stage;
  final String name;
  final long total;
  private final Buffer payload;
  private final ContextInternal ctx;
  private final ContextInternal receiverCtx;

  private NetworkClient client;
  private NetworkClient receiver;
  private RpcClient rpc;
  private volatile boolean closing;

  volatile long issued;
  volatile long completed;
  final AtomicLong received = new AtomicLong();
  private final AtomicBoolean parked = new AtomicBoolean();
  private volatile long wakeAt;

  /** Times (System.nanoTime) of the first operation, the last ack / reply / write, the last
   *  receipt, and the end of this worker's measurement. */
  volatile long startNanos;
  private volatile long completedNanos;
  private volatile long receivedNanos;
  private boolean finished;
  volatile long endNanos;
  private final Promise<Void> done = Promise.promise();

  BenchWorker(Vertx vertx, Stage stage, String name, long total, Buffer payload) {
    this.vertx = vertx;
    this.stage = stage;
    this.name = name;
    this.total = total;
    this.payload = payload;
    VertxInternal vi = (VertxInternal) vertx;
    this.ctx = vi.createEventLoopContext();
    this.receiverCtx = stage.send ? vi.createEventLoopContext() : null;
  }

  /** The receiver's name (send stages). */
  String receiverName() {
    return name + ".r";
  }

  /** Connects the receiver (send stages) and then the worker's client, each on its context. */
  Future<Void> connect(String path, ClientOptions opts) {
    Future<Void> r = !stage.send ? Future.succeededFuture()
        : on(receiverCtx, () -> NetworkClient.connect(vertx, path, receiverName(), opts)
            .onSuccess(c -> {
              receiver = c;
              c.frameHandler(f -> onReceived());
              c.closeHandler(v -> lost(receiverName() + " was disconnected"
                  + " (dropped by the broker as a slow consumer?)"));
            })).mapEmpty();
    return r.compose(v -> on(ctx, () -> NetworkClient.connect(vertx, path, name, opts)
        .onSuccess(c -> {
          client = c;
          if (!stage.send) {
            rpc = new RpcClient(vertx, c).timeout(0);
            rpc.handler(SELF_METHOD, e -> Future.succeededFuture(e.params()));
          }
          c.closeHandler(x -> lost(name + " was disconnected"));
        }))).mapEmpty();
  }

  private static <T> Future<T> on(ContextInternal c, java.util.function.Supplier<Future<T>> f) {
    Promise<T> p = Promise.promise();
    c.runOnContext(v -> f.get().onComplete(p));
    return p.future();
  }

  /** Starts issuing; completes when the stage's end condition holds for this worker. */
  Future<Void> start() {
    ctx.runOnContext(v -> pump());
    return done.future();
  }

  /** Whether the worker failed; its cause. */
  Throwable failure() {
    return done.future().cause();
  }

  boolean isDone() {
    return done.future().isComplete();
  }

  /** Operations that count as progress, for the display and the stall check. */
  long progress() {
    return issued + completed + received.get();
  }

  /** The outstanding count is measured against this: receipts and/or completions. */
  private long confirmed() {
    if (stage.send) {
      long r = received.get();
      return stage.qos.needsAck() ? Math.min(r, completed) : r;
    }
    return completed;
  }

  /** Issues operations while the window allows; parks otherwise. On the context. */
  private void pump() {
    while (!done.future().isComplete()) {
      while (issued < total && issued - confirmed() < WINDOW) {
        if (issued == 0) {
          startNanos = System.nanoTime();
        }
        issueOne();
      }
      if (issued >= total) {
        return;
      }
      wakeAt = issued - WINDOW / 2;
      parked.set(true);
      if (confirmed() < wakeAt || !parked.compareAndSet(true, false)) {
        return; // a receipt or completion will wake us
      }
    }
  }

  private void issueOne() {
    long n = ++issued;
    switch (stage.kind) {
      case SEND: {
        Future<Void> f = client.send(receiverName(), payload, stage.qos);
        if (stage.qos.needsAck()) {
          f.onComplete(this::onCompleted);
        } else if (n == total) {
          f.onComplete(this::onLastWritten);
        }
        break;
      }
      case CALL:
        rpc.call(RpcCommands.BROKER, BROKER_METHOD, payload).onComplete(this::onReply);
        break;
      case CALL_SELF:
        rpc.call(name, SELF_METHOD, payload).onComplete(this::onReply);
        break;
      default: // CALL0
        rpc.call0(RpcCommands.BROKER, BROKER_METHOD, payload).onComplete(this::onCompleted);
    }
  }

  private void onReply(AsyncResult<Buffer> ar) {
    if (ar.succeeded() && ar.result().length() != payload.length()) {
      fail(new IllegalStateException(name + ": a reply has " + ar.result().length()
          + " bytes, expected the " + payload.length() + " sent"));
      return;
    }
    onCompleted(ar);
  }

  /** An ack or a reply arrived. On the context. */
  private void onCompleted(AsyncResult<?> ar) {
    if (ar.failed()) {
      fail(ar.cause());
      return;
    }
    long c = ++completed;
    if (c == total) {
      completedNanos = System.nanoTime();
      checkFinished();
    } else if (c >= wakeAt && parked.get() && confirmed() >= wakeAt
        && parked.compareAndSet(true, false)) {
      pump();
    }
  }

  private void onLastWritten(AsyncResult<Void> ar) {
    if (ar.failed()) {
      fail(ar.cause());
      return;
    }
    completedNanos = System.nanoTime();
    checkFinished();
  }

  /** A message reached the receiver. On the receiver's context. */
  private void onReceived() {
    long r = received.incrementAndGet();
    if (r == total) {
      receivedNanos = System.nanoTime();
      if (stage.waitReceived) {
        ctx.runOnContext(v -> checkFinished());
      }
    } else if (r >= wakeAt && parked.get() && confirmed() >= wakeAt
        && parked.compareAndSet(true, false)) {
      ctx.runOnContext(v -> pump());
    }
  }

  /** Completes the worker when the stage's end condition holds. On the context. */
  private void checkFinished() {
    if (finished) {
      return;
    }
    boolean sentAll = stage.kind != Stage.Kind.SEND || stage.qos.needsAck()
        ? completed == total : completedNanos != 0;
    if (!sentAll || (stage.waitReceived && received.get() < total)) {
      return;
    }
    finished = true;
    endNanos = stage.waitReceived ? Math.max(completedNanos, receivedNanos) : completedNanos;
    done.tryComplete();
  }

  private void fail(Throwable t) {
    String m = t instanceof ElbusException
        ? t.getMessage() + String.format(" (0x%02x)", ((ElbusException) t).code())
        : Cli.oneLine(t);
    done.tryFail(new Cli.Failure(stage.label + ": " + name + ": " + m));
  }

  private void lost(String what) {
    if (!closing) {
      fail(new ElbusException(Protocol.ERR_IO, what));
    }
  }

  /** Closes the worker's clients; completes when both sockets are closed. */
  Future<Void> close() {
    closing = true;
    Future<Void> a = rpc != null ? rpc.close()
        : client != null ? client.close() : Future.succeededFuture();
    Future<Void> b = receiver != null ? receiver.close() : Future.succeededFuture();
    return Future.join(a, b).mapEmpty();
  }
}
