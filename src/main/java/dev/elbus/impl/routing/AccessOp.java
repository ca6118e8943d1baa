package dev.elbus.impl.routing;

/**
 * What a client was refused by AAA (PROTOCOL.md section 11): counted per operation in the broker
 * stats ({@link BrokerStats#countDenied}) and shown by the metrics as {@link #key()}.
 */
public enum AccessOp {
  /** The registration: the name is not in the AAA map, or the host is not allowed. */
  REGISTER("register"),
  /** A direct message to a client the sender may not message (p2p). */
  MESSAGE("message"),
  /** A broadcast to a mask the sender may not broadcast to. */
  BROADCAST("broadcast"),
  /** A publication to a topic the sender may not publish to. */
  PUBLISH("publish"),
  /** A publish-for (BUS/RT) the sender may not make: its topic or its receiver. */
  PUBLISH_FOR("publish_for"),
  /** A subscription to a pattern the client may not subscribe to (one per pattern). */
  SUBSCRIBE("subscribe");

  private final String key;

  AccessOp(String key) {
    this.key = key;
  }

  /** The operation's name in the metrics. */
  public String key() {
    return key;
  }
}
