package dev.elbus.cli;

import dev.elbus.cli.Benchmark.Stage;
import dev.elbus.cli.Benchmark.Target;
import dev.elbus.client.ClientOptions;
import dev.elbus.client.ElbusException;
import dev.elbus.client.NetworkClient;
import dev.elbus.protocol.Protocol;
import dev.elbus.rpc.RpcClient;
import dev.elbus.rpc.RpcErrorCode;
import dev.elbus.rpc.RpcException;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One benchmark worker: its own client (and, for the paced send stages, a receiver client), each
 * on its own event-loop context, issuing {@link #total} operations of one {@link Stage}.
 *
 * <p>The worker runs entirely on its client's context, so every operation goes straight into the
 * client's outgoing buffer without a thread hop. An operation completes when the client accepts
 * it (sends without an ack; the last one when {@link NetworkClient#flush} says the socket took
 * it) or when its ack or reply arrives; a message to a receiver (the worker itself or its
 * receiver client) is also counted when it is read. The worker keeps at most {@link #ackWindow}
 * operations uncompleted, at most {@link #receiptWindow} messages unread and, sending without an
 * ack, no more than the client's write queue holds ({@link NetworkClient#writeQueueFull}); when
 * any of them is full it parks and is woken once the count falls to half the window (or the
 * write queue drains), by an ack / reply / drain callback or by the receiver (another thread in
 * the paced stages). It also yields the event loop after {@link #BATCH} operations in a row, so
 * that the socket's input is read in between.
 *
 * <p>Threading: {@link #issued} and {@link #completed} are written on the worker's context only;
 * they are volatile so that the main thread can read them for the progress display and the stall
 * check. {@link #received} is written on the receiving client's context.
 */
final class BenchWorker {
  /** Most operations a paced worker keeps outstanding (well below a broker's queue_size). */
  static final int WINDOW = 1024;
  /** Fewest messages a send+recv.qos.no worker may keep unread. */
  static final int MIN_UNREAD = 1024;
  /** Most messages a send+recv.qos.no worker keeps unread (fewer with big payloads). */
  static final int MAX_UNREAD = 65_536;
  /** Bytes the unread messages of one worker may take at most (with 64 bytes per frame). */
  static final long MAX_UNREAD_BYTES = 32L << 20;
  /** Operations issued in one event-loop task before the worker yields. */
  static final int BATCH = 256;
  /** The method each worker of {@code rpc.call+handle} serves and calls on itself. */
  static final String SELF_METHOD = "benchmark.selftest";
  static final String BROKER_METHOD = "benchmark.test";
  /** The method {@code rpc.call0} calls on {@code <worker>-null}. */
  static final String NULL_METHOD = "test";

  private final Vertx vertx;
  private final Stage stage;
  final String name;
  final long total;
  private final Buffer payload;
  private final long ackWindow;
  private final long receiptWindow;
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
  /** Sends without an ack, paced by the client's write queue. */
  private final boolean streaming;
  /** {@link #targetName}, computed once. */
  private final String target;
  private final Handler<AsyncResult<Void>> completion = this::onCompleted;

  /** Times (System.nanoTime) of the first operation, the last completion, the last receipt,
   *  and the end of this worker's measurement. */
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
    if (stage.paced) {
      this.ackWindow = WINDOW;
      this.receiptWindow = stage.hasReceipts() ? WINDOW : Long.MAX_VALUE;
    } else {
      this.ackWindow = stage.acked() ? 1 : Long.MAX_VALUE;
      this.receiptWindow = !stage.hasReceipts() ? Long.MAX_VALUE
          : Math.max(MIN_UNREAD, Math.min(MAX_UNREAD,
              MAX_UNREAD_BYTES / (payload.length() + 64)));
    }
    this.streaming = stage.kind == Stage.Kind.SEND && !stage.qos.needsAck();
    this.target = target();
    VertxInternal vi = (VertxInternal) vertx;
    this.ctx = vi.createEventLoopContext();
    this.receiverCtx = stage.target == Target.RECEIVER ? vi.createEventLoopContext() : null;
  }

  /** The name a stage's operations go to. */
  String targetName() {
    return target;
  }

  private String target() {
    switch (stage.target) {
      case NULL:
        return name + "-null";
      case SELF:
        return name;
      case RECEIVER:
        return name + ".r";
      default:
        return RpcCommands.BROKER;
    }
  }

  /** Connects the receiver (paced sends) and then the worker's client, each on its context. */
  Future<Void> connect(String path, ClientOptions opts) {
    Future<Void> r = receiverCtx == null ? Future.succeededFuture()
        : on(receiverCtx, () -> NetworkClient.connect(vertx, path, targetName(), opts, c -> {
          c.frameHandler(f -> onReceived());
          c.closeHandler(v -> lost(targetName() + " was disconnected"
              + " (dropped by the broker as a slow consumer?)"));
        }).onSuccess(c -> receiver = c)).mapEmpty();
    return r.compose(v -> on(ctx, () -> NetworkClient.connect(vertx, path, name, opts, c -> {
      if (stage.kind != Stage.Kind.SEND) {
        rpc = new RpcClient(vertx, c).timeout(0);
        rpc.handler(SELF_METHOD, e -> Future.succeededFuture(e.params()));
      } else if (stage.target == Target.SELF) {
        c.frameHandler(f -> onReceived());
      }
      c.drainHandler(x -> wake());
      c.closeHandler(x -> lost(name + " was disconnected"
          + (stage.target == Target.SELF ? " (dropped by the broker as a slow consumer?)"
              : "")));
    }).onSuccess(c -> client = c))).mapEmpty();
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

  /** Operations that count as progress, for the display and the stall check. */
  long progress() {
    return issued + completed + received.get();
  }

  /** The counters, for a stall report. */
  String state() {
    return name + ": issued " + issued + ", completed " + completed + ", received "
        + received.get() + (parked.get() ? ", parked" : "");
  }

  /** Whether both windows and the write queue have room for another operation. */
  private boolean room() {
    return issued - completed < ackWindow && issued - received.get() < receiptWindow
        && !(streaming && client.writeQueueFull());
  }

  /** Whether a parked worker may go on: both windows have fallen to half, the queue drained. */
  private boolean resumable() {
    return issued - completed <= ackWindow / 2 && issued - received.get() <= receiptWindow / 2
        && !(streaming && client.writeQueueFull());
  }

  /** Issues operations while the windows allow; parks or yields otherwise. On the context. */
  private void pump() {
    int batch = 0;
    while (!done.future().isComplete()) {
      while (issued < total && room()) {
        if (issued == 0) {
          startNanos = System.nanoTime();
        }
        issueOne();
        if (++batch == BATCH && issued < total) {
          ctx.runOnContext(v -> pump());
          return;
        }
      }
      if (issued >= total) {
        return;
      }
      parked.set(true);
      if (!resumable() || !parked.compareAndSet(true, false)) {
        return; // a completion or receipt will wake us
      }
    }
  }

  /** Resumes a parked worker when its windows allow; from any thread. */
  private void wake() {
    if (parked.get() && resumable() && parked.compareAndSet(true, false)) {
      if (ctx.inThread()) {
        pump();
      } else {
        ctx.runOnContext(v -> pump());
      }
    }
  }

  private void issueOne() {
    issued++;
    switch (stage.kind) {
      case SEND:
        Future<Void> f = client.send(target, payload, stage.qos);
        if (!streaming) {
          f.onComplete(completion);
        } else if (issued < total || f.failed()) {
          onCompleted(f); // accepted (nothing to wait for), or refused
        } else {
          client.flush().onComplete(completion); // the last: until the socket took all
        }
        break;
      case CALL:
        rpc.call(target, stage.target == Target.SELF ? SELF_METHOD : BROKER_METHOD, payload,
            stage.qos).onComplete(this::onReply);
        break;
      default: // CALL0
        rpc.call0(target, stage.target == Target.NULL ? NULL_METHOD : BROKER_METHOD, payload,
            stage.qos).onComplete(completion);
    }
  }

  private void onReply(AsyncResult<Buffer> ar) {
    if (ar.succeeded() && !payload.equals(ar.result())) {
      fail(new IllegalStateException(name + ": a reply has " + ar.result().length()
          + " bytes that differ from the " + payload.length() + " sent"));
      return;
    }
    onCompleted(ar);
  }

  /** A write, an ack or a reply. On the context. */
  private void onCompleted(AsyncResult<?> ar) {
    if (ar.failed() && !(stage.target == Target.NULL && notRegistered(ar.cause()))) {
      fail(ar.cause());
      return;
    }
    long c = ++completed;
    if (c == total) {
      completedNanos = System.nanoTime();
      checkFinished();
    } else {
      wake();
    }
  }

  /** The broker's answer to an acked frame for {@code <worker>-null}: not registered. */
  private static boolean notRegistered(Throwable t) {
    return t instanceof ElbusException
        && ((ElbusException) t).code() == Protocol.ERR_CLIENT_NOT_REGISTERED
        || t instanceof RpcException && ((RpcException) t).code() == RpcErrorCode.BUS_NOT_REGISTERED;
  }

  /** A message reached its receiver: the worker itself or its receiver client. */
  private void onReceived() {
    long r = received.incrementAndGet();
    if (r == total) {
      receivedNanos = System.nanoTime();
      if (stage.waitReceived) {
        if (ctx.inThread()) {
          checkFinished();
        } else {
          ctx.runOnContext(v -> checkFinished());
        }
      }
    } else {
      wake();
    }
  }

  /** Completes the worker when the stage's end condition holds. On the context. */
  private void checkFinished() {
    if (finished || completed < total || (stage.waitReceived && received.get() < total)) {
      return;
    }
    finished = true;
    endNanos = stage.waitReceived ? Math.max(completedNanos, receivedNanos) : completedNanos;
    done.tryComplete();
  }

  private void fail(Throwable t) {
    String m = t instanceof ElbusException
        ? t.getMessage() + String.format(" (0x%02x)", ((ElbusException) t).code())
        : t instanceof RpcException ? Cli.rpcError((RpcException) t) : Cli.oneLine(t);
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
