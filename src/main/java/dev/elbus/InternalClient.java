package dev.elbus;

import dev.elbus.client.ElbusClient;
import dev.elbus.client.Frame;
import dev.elbus.impl.eventbus.InternalClientImpl;
import dev.elbus.protocol.QoS;
import dev.elbus.rpc.RpcClient;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;

import java.util.List;

/**
 * A handle on an in-process client registered with {@link Broker#registerClient}. Operations are
 * routed synchronously on the calling thread (any thread), with the same semantics and result
 * codes as a network client's acked operations; a name or topic containing a NUL character fails
 * with {@code ERR_DATA} (0x72) and reaches nobody. Incoming frames reach the {@link
 * #frameHandler} and the client's event-bus {@link #address} on the context that registered the
 * client; in RPC mode ({@link #rpc}) direct messages go to the client's {@link RpcClient}
 * instead (docs/eventbus.md). Several handles of one client are equivalent.
 */
public final class InternalClient implements ElbusClient {
  private final InternalClientImpl impl;

  InternalClient(InternalClientImpl impl) {
    this.impl = impl;
  }

  @Override
  public String name() {
    return impl.name();
  }

  @Override
  public Future<Void> send(String target, Buffer payload, QoS qos) {
    return impl.send(target, payload, qos);
  }

  @Override
  public Future<Void> broadcast(String mask, Buffer payload, QoS qos) {
    return impl.broadcast(mask, payload, qos);
  }

  @Override
  public Future<Void> publish(String topic, Buffer payload, QoS qos) {
    return impl.publish(topic, payload, qos);
  }

  @Override
  public Future<Void> subscribe(List<String> topics, QoS qos) {
    return impl.subscribe(topics, qos);
  }

  @Override
  public Future<Void> unsubscribe(List<String> topics, QoS qos) {
    return impl.unsubscribe(topics, qos);
  }

  @Override
  public Future<Void> exclude(List<String> topics, QoS qos) {
    return impl.exclude(topics, qos);
  }

  @Override
  public Future<Void> unexclude(List<String> topics, QoS qos) {
    return impl.unexclude(topics, qos);
  }

  @Override
  public Future<Void> publishFor(String topic, String receiver, Buffer payload, QoS qos) {
    return impl.publishFor(topic, receiver, payload, qos);
  }

  /**
   * {@inheritDoc}
   *
   * @throws UnsupportedOperationException on the handle of the broker's own {@code .broker}
   *     client, whose incoming frames are the core RPC requests
   */
  @Override
  public InternalClient frameHandler(Handler<Frame> handler) {
    impl.frameHandler(handler);
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
    return impl.rpc();
  }

  /** Whether the client is in RPC mode (see {@link #rpc}). */
  public boolean isRpc() {
    return impl.isRpc();
  }

  /** The event-bus address the client's frames are delivered to, or {@code null} when none. */
  public String address() {
    return impl.address();
  }

  @Override
  public boolean isConnected() {
    return impl.isConnected();
  }

  /** Unregisters the client (its departure is announced); its queued frames are released. */
  @Override
  public Future<Void> close() {
    return impl.close();
  }

  /** Frames queued for this client's handler and not yet handled. */
  public int queued() {
    return impl.queued();
  }

  /**
   * Frames this client refused because its queue was full (overflow policy {@code REFUSE},
   * docs/eventbus.md "Slow consumers"); they reached neither its handler nor its address.
   */
  public long dropped() {
    return impl.dropped();
  }

  @Override
  public String toString() {
    return impl.name();
  }
}
