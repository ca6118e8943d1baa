package dev.elbus;

import dev.elbus.client.ElbusClient;
import dev.elbus.client.ElbusException;
import dev.elbus.client.Frame;
import dev.elbus.protocol.Protocol;
import dev.elbus.protocol.QoS;
import dev.elbus.routing.CloseReason;
import dev.elbus.routing.Router;
import dev.elbus.routing.Session;
import dev.elbus.rpc.RpcClient;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A handle on an in-process client registered with {@link Broker#registerClient}. Operations are
 * routed synchronously on the calling thread (any thread), with the same semantics and result
 * codes as a network client's acked operations; a name or topic containing a NUL character fails
 * with {@code ERR_DATA} (0x72) and reaches nobody. Incoming frames reach the {@link
 * #frameHandler} and the client's event-bus {@link #address} on the context that registered the
 * client; in RPC mode ({@link #rpc}) direct messages go to the client's {@link RpcClient}
 * instead (docs/eventbus.md).
 */
public final class InternalClient implements ElbusClient {
  private final Session session;
  private final Router router;

  InternalClient(Session session, Router router) {
    this.session = session;
    this.router = router;
  }

  @Override
  public String name() {
    return session.name();
  }

  @Override
  public Future<Void> send(String target, Buffer payload, QoS qos) {
    return keyed(target, "target", payload, qos, router::message);
  }

  @Override
  public Future<Void> broadcast(String mask, Buffer payload, QoS qos) {
    return keyed(mask, "mask", payload, qos, router::broadcast);
  }

  /** A routing call of the shape of {@link Router#message} and {@link Router#broadcast}. */
  private interface KeyedRoute {
    int route(Session from, String key, ByteBuf src, int index, int len, boolean realtime,
        int statBytes);
  }

  private Future<Void> keyed(String key, String what, Buffer payload, QoS qos, KeyedRoute r) {
    if (isClosed()) {
      return closed();
    }
    if (bad(key)) {
      return badInput(what);
    }
    ByteBuf p = bytes(payload);
    int stat = utf8Len(key) + 1 + p.readableBytes();
    session.countRead(stat);
    router.stats().countRead(stat);
    return result(r.route(session, key, p, p.readerIndex(), p.readableBytes(), qos.isRealtime(),
        stat));
  }

  @Override
  public Future<Void> publish(String topic, Buffer payload, QoS qos) {
    if (isClosed()) {
      return closed();
    }
    if (bad(topic)) {
      return badInput("topic");
    }
    ByteBuf p = bytes(payload);
    byte[] t = topic.getBytes(StandardCharsets.UTF_8);
    ByteBuf tail = router.alloc().buffer(t.length + 1 + p.readableBytes());
    try {
      tail.writeBytes(t).writeByte(0).writeBytes(p, p.readerIndex(), p.readableBytes());
      int stat = tail.readableBytes();
      session.countRead(stat);
      router.stats().countRead(stat);
      return result(router.publish(session, topic, tail, 0, stat, qos.isRealtime(), stat));
    } finally {
      tail.release();
    }
  }

  @Override
  public Future<Void> subscribe(List<String> topics, QoS qos) {
    // internal clients have no AAA rights: a subscription is never refused
    return eachTopic(topics, router::subscribe);
  }

  @Override
  public Future<Void> unsubscribe(List<String> topics, QoS qos) {
    return eachTopic(topics, router::unsubscribe);
  }

  @Override
  public Future<Void> exclude(List<String> topics, QoS qos) {
    return eachTopic(topics, router::exclude);
  }

  @Override
  public Future<Void> unexclude(List<String> topics, QoS qos) {
    return eachTopic(topics, router::unexclude);
  }

  private Future<Void> eachTopic(List<String> topics,
      java.util.function.BiConsumer<Session, String> op) {
    if (isClosed()) {
      return closed();
    }
    if (badList(topics)) {
      return badInput("topic");
    }
    countList(topics);
    for (String t : topics) {
      op.accept(session, t);
    }
    return Future.succeededFuture();
  }

  @Override
  public Future<Void> publishFor(String topic, String receiver, Buffer payload, QoS qos) {
    if (bad(topic) || bad(receiver)) {
      return badInput("topic or receiver");
    }
    if (isClosed()) {
      return closed();
    }
    ByteBuf p = bytes(payload);
    byte[] t = topic.getBytes(StandardCharsets.UTF_8);
    byte[] r = receiver.getBytes(StandardCharsets.UTF_8);
    ByteBuf body = router.alloc().buffer(t.length + 1 + r.length + 1 + p.readableBytes());
    try {
      body.writeBytes(t).writeByte(0).writeBytes(r).writeByte(0)
          .writeBytes(p, p.readerIndex(), p.readableBytes());
      int stat = body.readableBytes();
      session.countRead(stat);
      router.stats().countRead(stat);
      return result(router.publishFor(session, topic, receiver, body, 0, t.length,
          t.length + 1 + r.length + 1, p.readableBytes(), qos.isRealtime(), stat));
    } finally {
      body.release();
    }
  }

  private static boolean bad(String s) {
    return s == null || s.indexOf('\0') >= 0;
  }

  private static boolean badList(List<String> topics) {
    if (topics == null) {
      return true;
    }
    for (String t : topics) {
      if (bad(t)) {
        return true;
      }
    }
    return false;
  }

  private static Future<Void> badInput(String what) {
    return Future.failedFuture(new ElbusException(Protocol.ERR_DATA,
        what + " is missing or contains a NUL character"));
  }

  private void countList(List<String> topics) {
    int n = Math.max(0, topics.size() - 1);
    for (String t : topics) {
      n += utf8Len(t);
    }
    session.countRead(n);
    router.stats().countRead(n);
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
  public InternalClient frameHandler(Handler<Frame> handler) {
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

  private static Future<Void> result(int code) {
    return code == Protocol.RESPONSE_OK ? Future.succeededFuture()
        : Future.failedFuture(new ElbusException(code));
  }

  private static ByteBuf bytes(Buffer b) {
    if (b == null) {
      return Unpooled.EMPTY_BUFFER;
    }
    return ((BufferInternal) b).getByteBuf();
  }

  private static int utf8Len(String s) {
    return s.getBytes(StandardCharsets.UTF_8).length;
  }

  /** The client as its RpcClient sees it: the frame handler it installs is the RPC slot. */
  private final class RpcView implements ElbusClient {
    private final InternalSession s;

    RpcView(InternalSession s) {
      this.s = s;
    }

    @Override
    public String name() {
      return InternalClient.this.name();
    }

    @Override
    public Future<Void> send(String target, Buffer payload, QoS qos) {
      return InternalClient.this.send(target, payload, qos);
    }

    @Override
    public Future<Void> broadcast(String mask, Buffer payload, QoS qos) {
      return InternalClient.this.broadcast(mask, payload, qos);
    }

    @Override
    public Future<Void> publish(String topic, Buffer payload, QoS qos) {
      return InternalClient.this.publish(topic, payload, qos);
    }

    @Override
    public Future<Void> subscribe(List<String> topics, QoS qos) {
      return InternalClient.this.subscribe(topics, qos);
    }

    @Override
    public Future<Void> unsubscribe(List<String> topics, QoS qos) {
      return InternalClient.this.unsubscribe(topics, qos);
    }

    @Override
    public ElbusClient frameHandler(Handler<Frame> handler) {
      s.rpcHandler(handler);
      return this;
    }

    @Override
    public boolean isConnected() {
      return InternalClient.this.isConnected();
    }

    @Override
    public Future<Void> close() {
      return InternalClient.this.close();
    }
  }
}
