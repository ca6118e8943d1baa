package dev.elbus.client;

import dev.elbus.protocol.Protocol;

/** A failed elbus operation, carrying the result code of PROTOCOL.md section 4. */
public class ElbusException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final int code;

  public ElbusException(int code) {
    this(code, Protocol.codeName(code));
  }

  public ElbusException(int code, String message) {
    super(message, null, false, false);
    this.code = code;
  }

  /** A failure with an underlying cause (e.g. the I/O error behind a {@code 73}). */
  public ElbusException(int code, String message, Throwable cause) {
    super(message, cause, false, false);
    this.code = code;
  }

  /** The result code (e.g. 0x71 not registered, 0x79 access denied). */
  public int code() {
    return code;
  }
}
