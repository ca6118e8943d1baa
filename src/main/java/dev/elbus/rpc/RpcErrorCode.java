package dev.elbus.rpc;

import dev.elbus.protocol.Protocol;

/**
 * Error codes of RPC error replies (PROTOCOL.md section 9). They travel as an i16 (little-endian)
 * after the call id of an error reply ({@code 0x12}).
 *
 * <p>The standard codes follow JSON-RPC 2.0; a bus error with result code {@code C} (section 4,
 * e.g. {@code 0x71} not registered) is reported as {@code -32000 - C}, so it never collides with
 * the JSON-RPC range {@code -32600..-32700}. For example an unknown target ({@code 0x71} = 113)
 * gives {@code -32113} and a timeout ({@code 0x78} = 120) gives {@code -32120}.
 *
 * <p>Threading: constants and pure functions only; safe from any thread.
 */
public final class RpcErrorCode {
  private RpcErrorCode() {}

  /** The payload could not be parsed (params are not MessagePack, or not the expected shape). */
  public static final short PARSE = -32700;
  /** The request itself is invalid. */
  public static final short INVALID_REQUEST = -32600;
  /** No handler is registered for the method. */
  public static final short METHOD_NOT_FOUND = -32601;
  /** The params are well-formed but not acceptable to the method. */
  public static final short INVALID_PARAMS = -32602;
  /** The handler failed. */
  public static final short INTERNAL = -32603;
  /** Base of bus errors: a bus result code {@code C} is reported as {@code BUS_BASE - C}. */
  public static final short BUS_BASE = -32000;

  /** Bus error: the target is not registered (result code 0x71). */
  public static final short BUS_NOT_REGISTERED = bus(Protocol.ERR_CLIENT_NOT_REGISTERED);
  /** Bus error: I/O error (0x73); also used when the RPC client is closed with calls pending. */
  public static final short BUS_IO = bus(Protocol.ERR_IO);
  /** Bus error: timeout (0x78); a call whose reply did not arrive in time. */
  public static final short BUS_TIMEOUT = bus(Protocol.ERR_TIMEOUT);
  /** Bus error: access denied (0x79). */
  public static final short BUS_ACCESS = bus(Protocol.ERR_ACCESS);

  /**
   * The RPC error code of a bus result code (section 9: {@code -32000 - C}).
   *
   * @param resultCode a result code of section 4, 0..255
   * @throws IllegalArgumentException when {@code resultCode} is not a byte value
   */
  public static short bus(int resultCode) {
    if (resultCode < 0 || resultCode > 0xFF) {
      throw new IllegalArgumentException("result code out of range: " + resultCode);
    }
    return (short) (BUS_BASE - resultCode);
  }

  /**
   * Whether {@code code} is a bus error: {@code -32000 - C} for a result code {@code C} in
   * 1..255, i.e. -32001..-32255 (the JSON-RPC codes -32600..-32700 lie outside that range).
   */
  public static boolean isBus(int code) {
    int c = BUS_BASE - code;
    return c >= 1 && c <= 0xFF;
  }

  /** The bus result code carried by a bus error code, or -1 when {@code code} is not one. */
  public static int busResultCode(int code) {
    return isBus(code) ? BUS_BASE - code : -1;
  }

  /**
   * A human-readable name of {@code code}, for logs and exception messages: "parse error",
   * "method not found", ..., "bus error: not registered" for {@code -32113}, else "error".
   */
  public static String name(int code) {
    switch (code) {
      case PARSE: return "parse error";
      case INVALID_REQUEST: return "invalid request";
      case METHOD_NOT_FOUND: return "method not found";
      case INVALID_PARAMS: return "invalid params";
      case INTERNAL: return "internal error";
      default:
        int c = busResultCode(code);
        return c >= 0 ? "bus error: " + Protocol.codeName(c) : "error";
    }
  }
}
