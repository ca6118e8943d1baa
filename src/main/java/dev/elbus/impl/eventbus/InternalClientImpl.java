package dev.elbus.impl.eventbus;

import dev.elbus.client.ElbusClient;
import dev.elbus.client.ElbusException;
import dev.elbus.client.Frame;
import dev.elbus.impl.codec.Buffers;
import dev.elbus.impl.routing.ClientOps;
import dev.elbus.impl.routing.CloseReason;
import dev.elbus.impl.routing.Completion;
import dev.elbus.impl.routing.Router;
import dev.elbus.impl.routing.Session;
import dev.elbus.protocol.Protocol;
import dev.elbus.protocol.QoS;
import dev.elbus.rpc.RpcClient;
import io.vertx.core.Future;
import io.vertx.core.Context;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;

import java.util.List;

/**
 * An in-process client: any {@link Session} registered by the broker itself (an {@link
 * InternalSession}, or the core client {@code .broker}) driven through the {@link ElbusClient}
 * API. Operations are routed synchronously on the calling thread (any thread), with the same
 * semantics and result codes as a network client's acked operations; a name or topic containing
 * a NUL character fails with {@code ERR_DATA} (0x72) and reaches nobody. The public handle is
 * {@code dev.elbus.InternalClient}; the bridge and the broker's event-bus address use this class
 * directly.
 */
public final class InternalClientImpl implements ElbusClient {
  private final Session session;
  private final Router router;
  private final ClientOps ops;

  /** A handle on {@code session}, an in-process client whose operations count as received. */
  public InternalClientImpl(Session session, Router router) {
    this(session, router, ClientOps.of(router, session));
  }

  private InternalClientImpl(Session session, Router router, ClientOps ops) {
    this.session = session;
    this.router = router;
    this.ops = ops;
  }

  /**
   * A handle on the broker's own client {@code .broker}: what it sends is the broker's, not
   * received from a client, so not counted in {@code r_frames} / {@code r_bytes}.
   */
  public static InternalClientImpl core(Session core, Router router) {
    return new InternalClientImpl(core, router, ClientOps.uncounted(router, core));
  }

  @Override
  public String name() {
    return session.name();
  }

  @Override
  public Future<Void> send(String target, Buffer payload, QoS qos) {
    if (isClosed()) {
      return closed();
    }
    if (router.remote() == null) {
      return result(ops.message(target, Buffers.byteBuf(payload), qos.isRealtime()), "target");
    }
    Later later = new Later("target");
    int code = ops.message(target, Buffers.byteBuf(payload), qos.isRealtime(), later);
    return code == Router.PENDING ? later.promise.future() : result(code, "target");
  }

  @Override
  public Future<Void> broadcast(String mask, Buffer payload, QoS qos) {
    return isClosed() ? closed()
        : result(ops.broadcast(mask, Buffers.byteBuf(payload), qos.isRealtime()), "mask");
  }

  @Override
  public Future<Void> publish(String topic, Buffer payload, QoS qos) {
    return isClosed() ? closed()
        : result(ops.publish(topic, Buffers.byteBuf(payload), qos.isRealtime()), "topic");
  }

  @Override
  public Future<Void> publishFor(String topic, String receiver, Buffer payload, QoS qos) {
    return isClosed() ? closed() : result(ops.publishFor(topic, receiver,
        Buffers.byteBuf(payload), qos.isRealtime()), "topic or receiver");
  }

  /** {@inheritDoc} Internal clients have no AAA rights: a subscription is never refused. */
  @Override
  public Future<Void> subscribe(List<String> topics, QoS qos) {
    if (isClosed()) {
      return closed();
    }
    if (router.remote() == null) {
      return result(ops.subscribe(topics), "topic");
    }
    Later later = new Later("topic");
    int code = ops.subscribe(topics, later);
    return code == Router.PENDING ? later.promise.future() : result(code, "topic");
  }

  @Override
  public Future<Void> unsubscribe(List<String> topics, QoS qos) {
    return isClosed() ? closed() : result(ops.unsubscribe(topics), "topic");
  }

  @Override
  public Future<Void> exclude(List<String> topics, QoS qos) {
    return isClosed() ? closed() : result(ops.exclude(topics), "topic");
  }

  @Override
  public Future<Void> unexclude(List<String> topics, QoS qos) {
    return isClosed() ? closed() : result(ops.unexclude(topics), "topic");
  }

  private boolean isClosed() {
    return !router.registry().isRegistered(session);
  }

  /**
   * {@inheritDoc}
   *
   * @throws UnsupportedOperationException on the handle of the broker's own {@code .broker}
   *     client, whose incoming frames are the core RPC requests
   */
  @Override
  public InternalClientImpl frameHandler(Handler<Frame> handler) {
    if (!(session instanceof InternalSession)) {
      throw new UnsupportedOperationException(name() + " has no frame handler");
    }
    ((InternalSession) session).handler(handler);
    return this;
  }

  /**
   * This client's RPC layer, created on first use. From then on the client is in RPC mode:
   * direct messages to it are RPC frames handled by this RpcClient (its method handlers answer
   * requests, replies complete its calls), while broadcasts and publications still go to the
   * {@link #frameHandler} and the event-bus {@link #address}. Every handle of the client gets the
   * same RpcClient. Closing it closes the client.
   *
   * @throws UnsupportedOperationException on the handle of the broker's own {@code .broker}
   */
  public RpcClient rpc() {
    if (!(session instanceof InternalSession)) {
      throw new UnsupportedOperationException(name() + " has no RPC layer");
    }
    InternalSession s = (InternalSession) session;
    return s.rpc(x -> new RpcClient(s.context().owner(), new RpcView(s)));
  }

  /** Whether the client is in RPC mode (see {@link #rpc}). */
  public boolean isRpc() {
    return session instanceof InternalSession && ((InternalSession) session).hasRpc();
  }

  /** The event-bus address the client's frames are delivered to, or {@code null} when none. */
  public String address() {
    return session instanceof InternalSession ? ((InternalSession) session).address() : null;
  }

  @Override
  public boolean isConnected() {
    return !isClosed();
  }

  @Override
  public Future<Void> close() {
    session.disconnect(CloseReason.FORCED);
    return Future.succeededFuture();
  }

  /** Frames queued for this client's handler and not yet handled. */
  public int queued() {
    return session.queued();
  }

  /**
   * Frames this client refused because its queue was full (overflow policy {@code REFUSE},
   * docs/eventbus.md "Slow consumers"); they reached neither its handler nor its address.
   */
  public long dropped() {
    return session.dropped();
  }

  private Future<Void> closed() {
    return Future.failedFuture(new ElbusException(Protocol.ERR_CLIENT_NOT_REGISTERED,
        "internal client " + name() + " is closed"));
  }

  /** The future of an operation's code; {@code 72} is a field the grammar cannot carry. */
  private static Future<Void> result(int code, String what) {
    if (code == Protocol.RESPONSE_OK) {
      return Future.succeededFuture();
    }
    return Future.failedFuture(failure(code, what));
  }

  /**
   * A result that comes later (from another node of a cluster), completed on the caller's Vert.x
   * context when it had one.
   */
  private static final class Later implements Completion {
    final Promise<Void> promise = Promise.promise();
    private final Context context = Vertx.currentContext();
    private final String what;

    Later(String what) {
      this.what = what;
    }

    @Override
    public void complete(int code) {
      if (context != null && Vertx.currentContext() != context) {
        context.runOnContext(v -> settle(code));
      } else {
        settle(code);
      }
    }

    private void settle(int code) {
      if (code == Protocol.RESPONSE_OK) {
        promise.tryComplete();
      } else {
        promise.tryFail(failure(code, what));
      }
    }
  }

  private static ElbusException failure(int code, String what) {
    return code == Protocol.ERR_DATA
        ? new ElbusException(code, what + " is missing or contains a NUL character")
        : new ElbusException(code);
  }

  /** The client as its RpcClient sees it: the frame handler it installs is the RPC slot. */
  private final class RpcView implements ElbusClient {
    private final InternalSession s;

    RpcView(InternalSession s) {
      this.s = s;
    }

    @Override
    public String name() {
      return InternalClientImpl.this.name();
    }

    @Override
    public Future<Void> send(String target, Buffer payload, QoS qos) {
      return InternalClientImpl.this.send(target, payload, qos);
    }

    @Override
    public Future<Void> broadcast(String mask, Buffer payload, QoS qos) {
      return InternalClientImpl.this.broadcast(mask, payload, qos);
    }

    @Override
    public Future<Void> publish(String topic, Buffer payload, QoS qos) {
      return InternalClientImpl.this.publish(topic, payload, qos);
    }

    @Override
    public Future<Void> subscribe(List<String> topics, QoS qos) {
      return InternalClientImpl.this.subscribe(topics, qos);
    }

    @Override
    public Future<Void> unsubscribe(List<String> topics, QoS qos) {
      return InternalClientImpl.this.unsubscribe(topics, qos);
    }

    @Override
    public ElbusClient frameHandler(Handler<Frame> handler) {
      s.rpcHandler(handler);
      return this;
    }

    @Override
    public boolean isConnected() {
      return InternalClientImpl.this.isConnected();
    }

    @Override
    public Future<Void> close() {
      return InternalClientImpl.this.close();
    }
  }
}
