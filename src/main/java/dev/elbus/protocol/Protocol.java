package dev.elbus.protocol;

/**
 * Wire constants of elbus protocol v1 (PROTOCOL.md sections 1-4). All integers on the wire are
 * little-endian. Each constant says why it has its value.
 */
public final class Protocol {
  private Protocol() {}

  /** First byte of the greeting in both directions (section 1). */
  public static final int GREETING = 0xEB;
  /** The only protocol version this broker speaks; a u16 after the greeting byte. */
  public static final int VERSION = 1;
  /** Size of the greeting: 0xEB plus the u16 version. */
  public static final int GREETING_SIZE = 3;

  /** Client frame header: op id u32, flags u8, body length u32 (section 2). */
  public static final int CLIENT_HEADER_SIZE = 9;
  /** Broker frame header: type u8, length (or op id) u32, realtime flag (or result code) u8. */
  public static final int BROKER_HEADER_SIZE = 6;

  // Client operations: low 6 bits of the flags byte (section 2).
  /** Flags byte 0 is a ping (NOP): nine bytes, no body. */
  public static final int OP_NOP = 0x00;
  public static final int OP_PUBLISH = 0x01;
  public static final int OP_SUBSCRIBE = 0x02;
  public static final int OP_UNSUBSCRIBE = 0x03;
  /** BUS/RT extension (section 15): exclude topics from delivery. */
  public static final int OP_EXCLUDE = 0x04;
  /** BUS/RT extension (section 15): remove exclusions. */
  public static final int OP_UNEXCLUDE = 0x05;
  /** BUS/RT extension (section 15): publish to the subscribers of one primary only. */
  public static final int OP_PUBLISH_FOR = 0x06;
  public static final int OP_MESSAGE = 0x12;
  public static final int OP_BROADCAST = 0x13;

  /** Mask of the operation bits in the flags byte. */
  public static final int OP_MASK = 0x3F;
  /** QoS sits in the top two bits of the flags byte. */
  public static final int QOS_SHIFT = 6;

  // Broker frame types (section 3).
  public static final int FRAME_NOP = 0x00;
  public static final int FRAME_PUBLISH = 0x01;
  public static final int FRAME_MESSAGE = 0x12;
  public static final int FRAME_BROADCAST = 0x13;
  public static final int FRAME_ACK = 0xFE;

  // Result codes (section 4).
  public static final int RESPONSE_OK = 0x01;
  public static final int ERR_CLIENT_NOT_REGISTERED = 0x71;
  public static final int ERR_DATA = 0x72;
  public static final int ERR_IO = 0x73;
  public static final int ERR_OTHER = 0x74;
  public static final int ERR_NOT_SUPPORTED = 0x75;
  public static final int ERR_BUSY = 0x76;
  public static final int ERR_NOT_DELIVERED = 0x77;
  public static final int ERR_TIMEOUT = 0x78;
  public static final int ERR_ACCESS = 0x79;

  /** Separator between a secondary client's primary name and its suffix (section 7). */
  public static final String SECONDARY_SEP = "%%";
  /** Name of the broker's own internal client; names starting with '.' are reserved. */
  public static final String BROKER_NAME = ".broker";
  /** Every client is subscribed to this topic on registration (section 5). */
  public static final String TOPIC_WARN = ".broker/warn";
  /** Registrations and departures of primaries are announced here (section 8). */
  public static final String TOPIC_INFO = ".broker/info";

  /** elbusd's default timeout: handshake bound and ping interval (section 13). */
  public static final long DEFAULT_TIMEOUT_MS = 5_000;
  /** elbusd's default write buffer size in bytes. */
  public static final int DEFAULT_BUF_SIZE = 16_384;
  /** elbusd's default write buffer time-to-live in microseconds. */
  public static final long DEFAULT_BUF_TTL_US = 10;
  /** elbusd's default per-client queue bound in frames. */
  public static final int DEFAULT_QUEUE_SIZE = 8_192;
  /**
   * Largest frame body a listener accepts by default. elbus has no limit (it allocates what the
   * header announces); 64 MiB leaves room for any real payload while one bad header cannot make
   * the broker reserve gigabytes.
   */
  public static final int DEFAULT_MAX_FRAME_SIZE = 64 * 1024 * 1024;
  /** A name is announced with a u16 length, so this is the protocol's own bound. */
  public static final int MAX_NAME_LENGTH = 0xFFFF;

  /** The ping the broker sends: a six-byte NOP frame. */
  public static final byte[] BROKER_PING = new byte[BROKER_HEADER_SIZE];

  /** Human-readable name of a result code, for logs and exception messages. */
  public static String codeName(int code) {
    switch (code) {
      case RESPONSE_OK: return "OK";
      case ERR_CLIENT_NOT_REGISTERED: return "not registered";
      case ERR_DATA: return "data error";
      case ERR_IO: return "I/O error";
      case ERR_OTHER: return "other error";
      case ERR_NOT_SUPPORTED: return "not supported";
      case ERR_BUSY: return "busy";
      case ERR_NOT_DELIVERED: return "not delivered";
      case ERR_TIMEOUT: return "timeout";
      case ERR_ACCESS: return "access denied";
      default: return "code 0x" + Integer.toHexString(code);
    }
  }

  /** Human-readable name of a client operation, for logs. */
  public static String opName(int op) {
    switch (op) {
      case OP_NOP: return "nop";
      case OP_PUBLISH: return "publish";
      case OP_SUBSCRIBE: return "subscribe";
      case OP_UNSUBSCRIBE: return "unsubscribe";
      case OP_EXCLUDE: return "exclude";
      case OP_UNEXCLUDE: return "unexclude";
      case OP_PUBLISH_FOR: return "publish-for";
      case OP_MESSAGE: return "message";
      case OP_BROADCAST: return "broadcast";
      default: return "op 0x" + Integer.toHexString(op);
    }
  }
}
