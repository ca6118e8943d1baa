package dev.elbus.protocol;

/**
 * Quality of service of a client operation: the top two bits of the flags byte (section 2).
 * Bit 0 asks for an ack; bit 1 asks for realtime delivery (no write coalescing).
 */
public enum QoS {
  /** No ack, frames may be coalesced. */
  NO(0),
  /** Ack when processed. */
  PROCESSED(1),
  /** Realtime, no ack. */
  REALTIME(2),
  /** Realtime with ack. */
  REALTIME_PROCESSED(3);

  private static final QoS[] BY_BITS = values();
  private final int bits;

  QoS(int bits) {
    this.bits = bits;
  }

  /** The two QoS bits, 0-3. */
  public int bits() {
    return bits;
  }

  public boolean needsAck() {
    return (bits & 1) != 0;
  }

  public boolean isRealtime() {
    return (bits & 2) != 0;
  }

  public static QoS of(int bits) {
    return BY_BITS[bits & 3];
  }
}
