package dev.elbus.rpc;

import dev.elbus.client.ElbusClient;
import dev.elbus.client.ElbusException;
import dev.elbus.client.Frame;
import dev.elbus.client.FrameKind;
import dev.elbus.impl.codec.RpcFrames;
import dev.elbus.protocol.QoS;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The RPC layer of PROTOCOL.md section 9 on top of any {@link ElbusClient} (network or
 * in-process): calls with replies, calls without ({@code call0}), notifications, and method
 * handlers that answer other clients' calls.
 *
 * <p>The RpcClient installs itself as the client's frame handler. Direct messages are RPC frames
 * ({@link RpcFrames}); one that does not parse is logged at warn and dropped. Broadcasts and
 * publications are never RPC frames (section 9): they go unchanged to the optional {@link
 * #frameHandler}. Over a {@code NetworkClient}, make it (and register its methods) in the
 * {@code init} of {@code NetworkClient.connect}: calls that arrive the instant the client is
 * registered then find it in place.
 *
 * <p><b>Calls.</b> Each call gets a u32 call id from a counter that wraps and skips 0 (0 means
 * "no reply wanted") and ids still pending. The Future of {@link #call} completes with the reply's
 * result, or fails with an {@link RpcException}: the code and data of an error reply; {@code
 * -32000 - C} when sending the request fails with result code {@code C} (e.g. {@code -32113} for
 * an unknown target, 0x71); {@link RpcErrorCode#BUS_TIMEOUT} ({@code -32120}) when no reply came
 * within the timeout (default {@value #DEFAULT_TIMEOUT_MS} ms); {@link RpcErrorCode#BUS_IO}
 * ({@code -32115}) when the RpcClient is closed first. A reply for a call id that is not pending
 * (late, or never asked) is logged at debug and dropped. Requests go out with QoS 1 unless
 * another QoS is given.
 *
 * <p><b>Handling.</b> A request for a method with a registered {@link RpcHandler} is answered
 * with its result; an unknown method with {@link RpcErrorCode#METHOD_NOT_FOUND}; a handler that
 * throws or fails with an {@link RpcException} with that exception's code and data, with any
 * other exception with {@link RpcErrorCode#INTERNAL} and the message as UTF-8 data. Replies are
 * direct messages to the request's sender with QoS 1, or QoS 3 ({@code REALTIME_PROCESSED}) when
 * the request arrived realtime. A request with call id 0 is handled but never answered, not even
 * with an error.
 *
 * <p><b>Threading.</b> Calls, notifications and registrations may come from any thread; pending
 * calls and handlers live in concurrent maps. Handlers, the notification handler and the frame
 * handler run on the thread that delivers the client's frames (its Vert.x context) and must not
 * block. A call's Future completes on the thread that delivers the reply, on a Vert.x timer
 * thread for a timeout, or on the caller's thread when sending fails at once. Timeouts use
 * {@link Vertx#setTimer}.
 */
public final class RpcClient {
  private static final Logger LOG = LoggerFactory.getLogger(RpcClient.class);

  /** Default time to wait for a reply, in milliseconds. */
  public static final long DEFAULT_TIMEOUT_MS = 5_000;

  private final Vertx vertx;
  private final ElbusClient client;
  private final ConcurrentMap<Long, Pending> pending = new ConcurrentHashMap<>();
  private final ConcurrentMap<String, RpcHandler> handlers = new ConcurrentHashMap<>();
  /** Last call id issued, as an unsigned 32-bit value. */
  private final AtomicInteger lastCallId = new AtomicInteger();
  private volatile long timeoutMs = DEFAULT_TIMEOUT_MS;
  private volatile Handler<RpcEvent> notificationHandler;
  private volatile Handler<Frame> frameHandler;
  private volatile boolean closed;

  /** A call waiting for its reply. */
  private static final class Pending {
    final Promise<Buffer> promise = Promise.promise();
    /** The timeout timer, -1 until it is set. */
    volatile long timerId = -1;
  }

  /**
   * Wraps {@code client} and installs this RpcClient as its frame handler.
   *
   * @param vertx used for call timeouts only
   */
  public RpcClient(Vertx vertx, ElbusClient client) {
    this.vertx = vertx;
    this.client = client;
    client.frameHandler(this::onFrame);
  }

  /** The wrapped client. */
  public ElbusClient client() {
    return client;
  }

  /** The wrapped client's full name. */
  public String name() {
    return client.name();
  }

  /**
   * Sets the time to wait for a reply, for calls started after this; 0 or less waits forever.
   */
  public RpcClient timeout(long millis) {
    this.timeoutMs = millis;
    return this;
  }

  /** The time to wait for a reply, in milliseconds. */
  public long timeout() {
    return timeoutMs;
  }

  /** Registers the handler of {@code method}, replacing any previous one; {@code null} removes. */
  public RpcClient handler(String method, RpcHandler handler) {
    if (handler == null) {
      handlers.remove(method);
    } else {
      handlers.put(method, handler);
    }
    return this;
  }

  /** Sets the handler of RPC notifications ({@code null}: they are dropped). */
  public RpcClient notificationHandler(Handler<RpcEvent> handler) {
    this.notificationHandler = handler;
    return this;
  }

  /** Sets the handler of broadcasts and publications ({@code null}: they are dropped). */
  public RpcClient frameHandler(Handler<Frame> handler) {
    this.frameHandler = handler;
    return this;
  }

  /** Number of calls waiting for a reply. */
  public int pendingCalls() {
    return pending.size();
  }

  // ---------------------------------------------------------------- outgoing

  /** Calls {@code method} of {@code target} with QoS 1 and waits for the reply. */
  public Future<Buffer> call(String target, String method, Buffer params) {
    return call(target, method, params, QoS.PROCESSED);
  }

  /** Calls {@code method} of {@code target}, sending the request with {@code qos}. */
  public Future<Buffer> call(String target, String method, Buffer params, QoS qos) {
    return call(target, method, params, qos, timeoutMs);
  }

  /**
   * Calls {@code method} of {@code target} and waits up to {@code timeoutMillis} (0 or less:
   * forever) for the reply.
   *
   * @return the reply's result; fails with an {@link RpcException} (see the class comment), or
   *     with an {@link IllegalArgumentException} when {@code method} contains a NUL character
   */
  public Future<Buffer> call(String target, String method, Buffer params, QoS qos,
      long timeoutMillis) {
    if (closed) {
      return Future.failedFuture(closedException());
    }
    if (method.indexOf('\0') >= 0) {
      return Future.failedFuture(new IllegalArgumentException("method contains a NUL character"));
    }
    Pending p = new Pending();
    long id = register(p);
    Future<Void> sent = send(target, RpcFrames.request(id, method, params), qos);
    sent.onFailure(e -> {
      if (pending.remove(id, p)) {
        cancelTimer(p);
        p.promise.tryFail(sendFailure(target, e));
      }
    });
    if (timeoutMillis > 0) {
      long timer = vertx.setTimer(timeoutMillis, t -> {
        if (pending.remove(id, p)) {
          p.promise.tryFail(new RpcException(RpcErrorCode.BUS_TIMEOUT, "no reply from " + target
              + " to " + method + " (call " + id + ") in " + timeoutMillis + " ms"));
        }
      });
      p.timerId = timer;
      if (pending.get(id) != p) {
        // completed while the timer was being set
        vertx.cancelTimer(timer);
      }
    }
    if (closed && pending.remove(id, p)) {
      // close() ran concurrently and may have missed this call
      cancelTimer(p);
      p.promise.tryFail(closedException());
    }
    return p.promise.future();
  }

  /**
   * Calls {@code method} of {@code target} with call id 0: no reply is wanted or awaited. The
   * Future reports only the sending of the request (QoS 1: the broker's ack).
   */
  public Future<Void> call0(String target, String method, Buffer params) {
    return call0(target, method, params, QoS.PROCESSED);
  }

  /** {@link #call0(String, String, Buffer)} with the given QoS. */
  public Future<Void> call0(String target, String method, Buffer params, QoS qos) {
    if (closed) {
      return Future.failedFuture(closedException());
    }
    if (method.indexOf('\0') >= 0) {
      return Future.failedFuture(new IllegalArgumentException("method contains a NUL character"));
    }
    return mapSendFailure(target, send(target, RpcFrames.request(0, method, params), qos));
  }

  /** Sends an RPC notification ({@code 00 payload}) to {@code target} with QoS 1. */
  public Future<Void> notify(String target, Buffer payload) {
    return notify(target, payload, QoS.PROCESSED);
  }

  /** Sends an RPC notification with the given QoS. */
  public Future<Void> notify(String target, Buffer payload, QoS qos) {
    if (closed) {
      return Future.failedFuture(closedException());
    }
    return mapSendFailure(target, send(target, RpcFrames.notification(payload), qos));
  }

  /**
   * Fails every pending call with {@link RpcErrorCode#BUS_IO} ("rpc client closed"), refuses
   * further calls the same way, and closes the wrapped client.
   */
  public Future<Void> close() {
    closed = true;
    for (Long id : pending.keySet()) {
      Pending p = pending.remove(id);
      if (p != null) {
        cancelTimer(p);
        p.promise.tryFail(closedException());
      }
    }
    return client.close();
  }

  /** Test hook: sets the last call id issued, so the next call uses {@code last + 1} (wrapping). */
  void setLastCallId(long last) {
    lastCallId.set((int) last);
  }

  private long register(Pending p) {
    while (true) {
      long id = Integer.toUnsignedLong(lastCallId.incrementAndGet());
      if (id != 0 && pending.putIfAbsent(id, p) == null) {
        return id;
      }
    }
  }

  private Future<Void> send(String target, Buffer frame, QoS qos) {
    try {
      return client.send(target, frame, qos);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  private Future<Void> mapSendFailure(String target, Future<Void> sent) {
    return sent.recover(e -> Future.failedFuture(sendFailure(target, e)));
  }

  /** Section 9: a bus error with result code C is reported as -32000 - C. */
  private static RpcException sendFailure(String target, Throwable e) {
    if (e instanceof RpcException) {
      return (RpcException) e;
    }
    if (e instanceof ElbusException) {
      int code = ((ElbusException) e).code();
      if (code >= 0 && code <= 0xFF) {
        return new RpcException(RpcErrorCode.bus(code),
            "sending to " + target + " failed: " + e.getMessage());
      }
    }
    return new RpcException(RpcErrorCode.BUS_IO, "sending to " + target + " failed: " + e, e);
  }

  private static RpcException closedException() {
    return new RpcException(RpcErrorCode.BUS_IO, "rpc client closed");
  }

  private void cancelTimer(Pending p) {
    long t = p.timerId;
    if (t >= 0) {
      vertx.cancelTimer(t);
    }
  }

  // ---------------------------------------------------------------- incoming

  private void onFrame(Frame f) {
    try {
      if (f.kind() != FrameKind.MESSAGE) {
        // section 9: broadcasts and publications are never RPC frames
        Handler<Frame> h = frameHandler;
        if (h != null) {
          h.handle(f);
        }
        return;
      }
      RpcFrames.Parsed parsed = RpcFrames.parse(f.payload());
      if (parsed instanceof RpcFrames.Request r) {
        onRequest(f, r);
      } else if (parsed instanceof RpcFrames.Reply r) {
        complete(f, r.callId(), r.result(), null);
      } else if (parsed instanceof RpcFrames.ErrorReply r) {
        complete(f, r.callId(), null, new RpcException(r.code(), r.data()));
      } else if (parsed instanceof RpcFrames.Notification n) {
        onNotification(f, n);
      } else if (parsed instanceof RpcFrames.Invalid inv) {
        LOG.warn("{}: dropped a direct message from {}: {}", name(), f.sender(), inv.reason());
        if (inv.callId() > 0) {
          // a malformed request whose call id could be read: its sender is answered
          respond(new RpcEvent(f.sender(), null, null, f.realtime(), inv.callId()),
              Future.failedFuture(new RpcException(RpcErrorCode.INVALID_REQUEST, inv.reason())));
        }
      }
    } catch (RuntimeException e) {
      LOG.warn("{}: handling {} failed", name(), f, e);
    }
  }

  private void complete(Frame f, long callId, Buffer result, RpcException error) {
    Pending p = pending.remove(callId);
    if (p == null) {
      LOG.debug("{}: dropped a reply from {} for call {}, which is not pending", name(),
          f.sender(), callId);
      return;
    }
    cancelTimer(p);
    if (error == null) {
      p.promise.tryComplete(result);
    } else {
      p.promise.tryFail(error);
    }
  }

  private void onNotification(Frame f, RpcFrames.Notification n) {
    Handler<RpcEvent> h = notificationHandler;
    if (h == null) {
      LOG.debug("{}: no notification handler, dropped a notification from {}", name(),
          f.sender());
      return;
    }
    h.handle(new RpcEvent(f.sender(), null, n.payload(), f.realtime(), 0));
  }

  private void onRequest(Frame f, RpcFrames.Request r) {
    RpcEvent ev = new RpcEvent(f.sender(), r.method(), r.params(), f.realtime(), r.callId());
    RpcHandler h = handlers.get(r.method());
    if (h == null) {
      respond(ev, Future.failedFuture(RpcException.methodNotFound(r.method())));
      return;
    }
    Future<Buffer> result;
    try {
      result = h.handle(ev);
      if (result == null) {
        result = Future.succeededFuture();
      }
    } catch (Exception e) {
      result = Future.failedFuture(e);
    }
    result.onComplete(ar -> respond(ev, ar));
  }

  private void respond(RpcEvent ev, AsyncResult<Buffer> ar) {
    RpcException error = ar.failed() ? toRpcException(ev, ar.cause()) : null;
    if (ev.callId() == 0) {
      // section 9: call id 0 wants no reply, not even an error
      if (error != null) {
        LOG.debug("{}: {} failed, no reply wanted: {}", name(), ev, error.getMessage());
      }
      return;
    }
    Buffer frame = error == null ? RpcFrames.reply(ev.callId(), ar.result())
        : RpcFrames.error(ev.callId(), error.code(), error.data());
    // section 9: replies go with QoS 1, or 3 when the request arrived realtime
    QoS qos = ev.realtime() ? QoS.REALTIME_PROCESSED : QoS.PROCESSED;
    send(ev.sender(), frame, qos).onFailure(e ->
        LOG.debug("{}: reply to {} (call {}) not delivered: {}", name(), ev.sender(),
            ev.callId(), e.getMessage()));
  }

  private RpcException toRpcException(RpcEvent ev, Throwable t) {
    if (t instanceof RpcException) {
      return (RpcException) t;
    }
    // the caller gets the message; the stack trace is for debugging the handler
    LOG.warn("{}: handler of {} failed: {}", name(), ev.method(), t.toString());
    LOG.debug("{}: handler of {} failed", name(), ev.method(), t);
    String msg = t.getMessage();
    return new RpcException(RpcErrorCode.INTERNAL, msg != null ? msg : t.getClass().getName());
  }

  @Override
  public String toString() {
    return "RpcClient(" + name() + ", " + pending.size() + " pending, timeout " + timeoutMs
        + " ms)";
  }
}
