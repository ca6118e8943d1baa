package dev.elbus.impl.codec;

/**
 * A violation of the wire protocol by a peer. It closes that peer's connection only. Thrown
 * rarely (once per offending connection), so it carries a message but no stack trace.
 */
public final class ProtocolException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ProtocolException(String message) {
    super(message, null, false, false);
  }
}
