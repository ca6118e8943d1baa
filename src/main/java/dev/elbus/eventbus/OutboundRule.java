package dev.elbus.eventbus;

import dev.elbus.protocol.QoS;

/**
 * A bridge rule from the event bus to elbus: every {@link io.vertx.core.buffer.Buffer} message
 * to the event-bus {@code address} is published to {@code topic}, or sent as a direct message to
 * the client {@code target} (exactly one of the two), with {@code qos}, by the bridge's internal
 * client {@code client} ({@code null}: the bridge's default client). A message sent with {@code
 * request} gets the result as its reply (empty Buffer, or a failure with the elbus result code).
 *
 * @param address event-bus address consumed
 * @param topic elbus topic to publish to, or {@code null}
 * @param target client to send to, or {@code null}
 * @param qos QoS of the elbus operation ({@code null}: 1, processed)
 * @param client internal client name, or {@code null}
 */
public record OutboundRule(String address, String topic, String target, QoS qos, String client) {

  public OutboundRule {
    if (address == null || address.isEmpty()) {
      throw new IllegalArgumentException("event-bus address is missing");
    }
    if ((topic == null) == (target == null)) {
      throw new IllegalArgumentException("exactly one of topic and target is required");
    }
    if ((topic != null && topic.indexOf('\0') >= 0)
        || (target != null && (target.isEmpty() || target.indexOf('\0') >= 0))) {
      throw new IllegalArgumentException("topic or target contains a NUL character or is empty");
    }
    if (qos == null) {
      qos = QoS.PROCESSED;
    }
    if (client != null) {
      BridgeOptions.checkClientName(client);
    }
  }

  /** Publishes messages of {@code address} to {@code topic}. */
  public static OutboundRule toTopic(String address, String topic, QoS qos) {
    return new OutboundRule(address, topic, null, qos, null);
  }

  /** Sends messages of {@code address} to the client {@code target}. */
  public static OutboundRule toClient(String address, String target, QoS qos) {
    return new OutboundRule(address, null, target, qos, null);
  }

  /** This rule under the internal client {@code name}. */
  public OutboundRule withClient(String name) {
    return new OutboundRule(address, topic, target, qos, name);
  }
}
