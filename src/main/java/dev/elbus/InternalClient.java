package dev.elbus;

import dev.elbus.client.ElbusClient;
import dev.elbus.client.ElbusException;
import dev.elbus.client.Frame;
import dev.elbus.protocol.Protocol;
import dev.elbus.protocol.QoS;
import dev.elbus.routing.CloseReason;
import dev.elbus.routing.Router;
import dev.elbus.routing.Session;
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
 * codes as a network client's acked operations; incoming frames reach the {@link #frameHandler}
 * on the context that registered the client.
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
    if (isClosed()) {
      return closed();
    }
    ByteBuf p = bytes(payload);
    int stat = utf8Len(target) + 1 + p.readableBytes();
    session.countRead(stat);
    router.stats().countRead(stat);
    return result(router.message(session, target, p, p.readerIndex(), p.readableBytes(),
        qos.isRealtime(), stat));
  }

  @Override
  public Future<Void> broadcast(String mask, Buffer payload, QoS qos) {
    if (isClosed()) {
      return closed();
    }
    ByteBuf p = bytes(payload);
    int stat = utf8Len(mask) + 1 + p.readableBytes();
    session.countRead(stat);
    router.stats().countRead(stat);
    return result(router.broadcast(session, mask, p, p.readerIndex(), p.readableBytes(),
        qos.isRealtime(), stat));
  }

  @Override
  public Future<Void> publish(String topic, Buffer payload, QoS qos) {
    if (isClosed()) {
      return closed();
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
    if (isClosed()) {
      return closed();
    }
    countList(topics);
    for (String t : topics) {
      router.subscribe(session, t);
    }
    return Future.succeededFuture();
  }

  @Override
  public Future<Void> unsubscribe(List<String> topics, QoS qos) {
    if (isClosed()) {
      return closed();
    }
    countList(topics);
    for (String t : topics) {
      router.unsubscribe(session, t);
    }
    return Future.succeededFuture();
  }

  @Override
  public Future<Void> exclude(List<String> topics, QoS qos) {
    if (isClosed()) {
      return closed();
    }
    countList(topics);
    for (String t : topics) {
      router.exclude(session, t);
    }
    return Future.succeededFuture();
  }

  @Override
  public Future<Void> unexclude(List<String> topics, QoS qos) {
    if (isClosed()) {
      return closed();
    }
    countList(topics);
    for (String t : topics) {
      router.unexclude(session, t);
    }
    return Future.succeededFuture();
  }

  @Override
  public Future<Void> publishFor(String topic, String receiver, Buffer payload, QoS qos) {
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
}
