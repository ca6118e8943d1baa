package dev.elbus.client;

import dev.elbus.protocol.Protocol;
import dev.elbus.protocol.QoS;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;

import java.util.List;

/**
 * An elbus client: over a socket ({@link NetworkClient}) or in-process ({@code
 * Broker.registerClient}). Every operation returns a Future that completes when the broker has
 * processed it (QoS with an ack) or when it has been handed to the transport (QoS without an
 * ack); a refused operation fails the Future with an {@link ElbusException} carrying the code.
 */
public interface ElbusClient {

  /** This client's full name. */
  String name();

  /** Sends a direct message to the client named {@code target}. */
  Future<Void> send(String target, Buffer payload, QoS qos);

  /** Broadcasts to every client whose name matches {@code mask} ({@code ?} / {@code *}). */
  Future<Void> broadcast(String mask, Buffer payload, QoS qos);

  /** Publishes to {@code topic}. */
  Future<Void> publish(String topic, Buffer payload, QoS qos);

  /** Subscribes to topic patterns ({@code +} / {@code #}), all in one frame. */
  Future<Void> subscribe(List<String> topics, QoS qos);

  /** Removes subscriptions, all in one frame. */
  Future<Void> unsubscribe(List<String> topics, QoS qos);

  /**
   * Excludes topic patterns (BUS/RT, PROTOCOL.md section 15): publications matching any of them
   * are not delivered to this client even when a subscription matches.
   */
  default Future<Void> exclude(List<String> topics, QoS qos) {
    return Future.failedFuture(new ElbusException(Protocol.ERR_NOT_SUPPORTED,
        "exclude is not supported by " + getClass().getSimpleName()));
  }

  /** Removes exclusions. */
  default Future<Void> unexclude(List<String> topics, QoS qos) {
    return Future.failedFuture(new ElbusException(Protocol.ERR_NOT_SUPPORTED,
        "unexclude is not supported by " + getClass().getSimpleName()));
  }

  /**
   * Publishes to {@code topic} for the subscribers whose primary name is {@code receiver} only
   * (BUS/RT publish-for, section 15); they receive an ordinary publication.
   */
  default Future<Void> publishFor(String topic, String receiver, Buffer payload, QoS qos) {
    return Future.failedFuture(new ElbusException(Protocol.ERR_NOT_SUPPORTED,
        "publish-for is not supported by " + getClass().getSimpleName()));
  }

  default Future<Void> subscribe(String topic) {
    return subscribe(List.of(topic), QoS.PROCESSED);
  }

  default Future<Void> unsubscribe(String topic) {
    return unsubscribe(List.of(topic), QoS.PROCESSED);
  }

  /** Sets the handler of incoming messages, broadcasts and publications. */
  ElbusClient frameHandler(Handler<Frame> handler);

  /** Whether the client is connected / registered. */
  boolean isConnected();

  /** Disconnects (unregisters). */
  Future<Void> close();
}
