package dev.elbus.eventbus;

import dev.elbus.protocol.Masks;

/**
 * A bridge rule from elbus to the event bus: publications matching the topic {@code mask} (MQTT
 * syntax, as a subscription) are forwarded to the event-bus {@code address}, by {@code mode}:
 * {@link Mode#PUBLISH} to every consumer or {@link Mode#SEND} to one. The bridge's internal
 * client {@code client} ({@code null}: the bridge's default client) holds the subscription.
 *
 * @param mask topic pattern, e.g. {@code sensors/#}
 * @param address event-bus address
 * @param mode publish (default) or send
 * @param client internal client name, or {@code null}
 */
public record InboundRule(String mask, String address, Mode mode, String client) {

  /** How a matching publication reaches the event bus. */
  public enum Mode {
    /** {@code EventBus.publish}: every consumer of the address. */
    PUBLISH,
    /** {@code EventBus.send}: one consumer (point-to-point). */
    SEND
  }

  public InboundRule {
    if (mask == null || mask.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("topic mask is missing or contains a NUL character");
    }
    if (address == null || address.isEmpty()) {
      throw new IllegalArgumentException("event-bus address is missing");
    }
    if (mode == null) {
      mode = Mode.PUBLISH;
    }
    if (client != null) {
      BridgeOptions.checkClientName(client);
    }
  }

  /** Publishes matching publications to every consumer of {@code address}. */
  public static InboundRule publish(String mask, String address) {
    return new InboundRule(mask, address, Mode.PUBLISH, null);
  }

  /** Sends matching publications to one consumer of {@code address}. */
  public static InboundRule send(String mask, String address) {
    return new InboundRule(mask, address, Mode.SEND, null);
  }

  /** This rule under the internal client {@code name}. */
  public InboundRule withClient(String name) {
    return new InboundRule(mask, address, mode, name);
  }

  /** Whether {@code topic} matches this rule's mask. */
  public boolean matches(String topic) {
    return Masks.topicMatches(mask, topic);
  }
}
