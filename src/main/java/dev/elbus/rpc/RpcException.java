package dev.elbus.rpc;

import io.vertx.core.buffer.Buffer;

import java.nio.charset.StandardCharsets;

/**
 * An RPC error (PROTOCOL.md section 9): the code and data of an error reply ({@code 0x12}).
 *
 * <p>{@link RpcClient} fails a call's Future with one when the peer answers with an error reply,
 * when sending the request fails with a bus result code ({@code -32000 - C}, see {@link
 * RpcErrorCode#bus}), or when no reply comes in time ({@link RpcErrorCode#BUS_TIMEOUT}). A
 * handler may throw or fail with one to choose the code and data of its error reply; any other
 * failure becomes {@link RpcErrorCode#INTERNAL}.
 *
 * <p>The data is opaque bytes, by convention a UTF-8 message. The exception message renders it
 * as text when it is valid UTF-8 without control characters, else as its length.
 *
 * <p>Immutable and stackless (it reports a remote or protocol condition, not a local bug); safe
 * to share between threads. The data buffer must not be modified after construction.
 */
public class RpcException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private static final int MAX_MESSAGE_CHARS = 200;

  private final short code;
  private final transient Buffer data;

  /**
   * @param code the error code (an {@link RpcErrorCode} constant or an application code)
   * @param data the error data; {@code null} means empty
   */
  public RpcException(short code, Buffer data) {
    this(code, data == null ? Buffer.buffer() : data, null);
  }

  /** An error whose data is {@code message} in UTF-8 ({@code null} means empty data). */
  public RpcException(short code, String message) {
    this(code, message == null ? Buffer.buffer() : Buffer.buffer(message, "UTF-8"), null);
  }

  /** An error whose data is {@code message} in UTF-8, caused by {@code cause}. */
  public RpcException(short code, String message, Throwable cause) {
    this(code, message == null ? Buffer.buffer() : Buffer.buffer(message, "UTF-8"), cause);
  }

  private RpcException(short code, Buffer data, Throwable cause) {
    super(describe(code, data), cause, false, false);
    this.code = code;
    this.data = data;
  }

  /** Parse error (-32700). */
  public static RpcException parse(String message) {
    return new RpcException(RpcErrorCode.PARSE, message);
  }

  /** Invalid request (-32600). */
  public static RpcException invalidRequest(String message) {
    return new RpcException(RpcErrorCode.INVALID_REQUEST, message);
  }

  /** Method not found (-32601); the data names the method. */
  public static RpcException methodNotFound(String method) {
    return new RpcException(RpcErrorCode.METHOD_NOT_FOUND, "method not found: " + method);
  }

  /** Invalid params (-32602). */
  public static RpcException invalidParams(String message) {
    return new RpcException(RpcErrorCode.INVALID_PARAMS, message);
  }

  /** Internal error (-32603). */
  public static RpcException internal(String message) {
    return new RpcException(RpcErrorCode.INTERNAL, message);
  }

  /** A bus error: result code {@code resultCode} reported as {@code -32000 - resultCode}. */
  public static RpcException bus(int resultCode, String message) {
    return new RpcException(RpcErrorCode.bus(resultCode), message);
  }

  /** The error code (i16). */
  public short code() {
    return code;
  }

  /** The error data (usually a UTF-8 message; may be empty). Do not modify it. */
  public Buffer data() {
    return data;
  }

  /** The error data decoded as UTF-8 (malformed bytes replaced). */
  public String dataAsString() {
    return data.toString(StandardCharsets.UTF_8);
  }

  private static String describe(short code, Buffer data) {
    StringBuilder sb = new StringBuilder("rpc error ").append(code)
        .append(" (").append(RpcErrorCode.name(code)).append(')');
    if (data.length() > 0) {
      String text = printable(data.getBytes());
      sb.append(": ");
      if (text != null) {
        sb.append(text.length() > MAX_MESSAGE_CHARS
            ? text.substring(0, MAX_MESSAGE_CHARS) + "..." : text);
      } else {
        sb.append(data.length()).append(" bytes of binary data");
      }
    }
    return sb.toString();
  }

  /** Whether and how a payload shows as text: see {@link dev.elbus.impl.codec.Utf8#printable}. */
  private static String printable(byte[] bytes) {
    return dev.elbus.impl.codec.Utf8.printable(bytes);
  }

}
