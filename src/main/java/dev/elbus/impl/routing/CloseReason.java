package dev.elbus.impl.routing;

/**
 * Every reason the broker closes a client connection. Each close is logged once with the client
 * name and counted per reason in the broker stats ({@link #key()}).
 */
public enum CloseReason {
  /** The peer closed the connection or it failed (reset, broken pipe). */
  PEER_CLOSED("peer_closed"),
  /** The peer broke the protocol (unknown op, missing separator, bad UTF-8, oversized frame). */
  PROTOCOL_ERROR("protocol_error"),
  /** The handshake did not complete within the listener timeout. */
  HANDSHAKE_TIMEOUT("handshake_timeout"),
  /** A frame started but its remaining bytes did not arrive within the listener timeout. */
  FRAME_TIMEOUT("frame_timeout"),
  /** The client sent nothing for longer than the listener's idle deadline. */
  IDLE_TIMEOUT("idle_timeout"),
  /**
   * The TLS handshake of a TLS listener failed (a plain-text client, an untrusted or expired
   * certificate, no client certificate where one is required) or a TLS record was bad.
   */
  TLS("tls"),
  /** The handshake was refused (bad greeting or version, bad name, busy, not registered). */
  REGISTRATION_REFUSED("registration_refused"),
  /** AAA refused the client, or its rights changed and it must re-register. */
  ACCESS("access"),
  /** The client's outgoing queue overflowed. */
  SLOW_CONSUMER("slow_consumer"),
  /** The primary of this secondary client went away. */
  PRIMARY_GONE("primary_gone"),
  /** The embedding application or an operator disconnected the client. */
  FORCED("forced"),
  /** Another client took the name over (force-register). */
  REPLACED("replaced"),
  /** The listener has reached its connection limit. */
  MAX_CONNECTIONS("max_connections"),
  /**
   * The listener had {@code max_handshakes} connections in their handshake when a new one came:
   * the oldest of them was closed to make room.
   */
  MAX_HANDSHAKES("max_handshakes"),
  /**
   * A bug: an unexpected exception escaped the connection code. Logged with its stack trace; the
   * fuzz tests require this count to stay 0.
   */
  INTERNAL_ERROR("internal_error"),
  /** The broker is shutting down. */
  SHUTDOWN("shutdown");

  private final String key;

  CloseReason(String key) {
    this.key = key;
  }

  /** The key of this reason's counter in {@code stats}. */
  public String key() {
    return key;
  }
}
