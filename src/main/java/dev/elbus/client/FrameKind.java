package dev.elbus.client;

import dev.elbus.protocol.Protocol;

/** Kinds of frame a client receives (PROTOCOL.md section 3). */
public enum FrameKind {
  /** A direct message (0x12). */
  MESSAGE(Protocol.FRAME_MESSAGE),
  /** A broadcast (0x13). */
  BROADCAST(Protocol.FRAME_BROADCAST),
  /** A publication (0x01). */
  PUBLISH(Protocol.FRAME_PUBLISH);

  private final int type;

  FrameKind(int type) {
    this.type = type;
  }

  /** The frame type byte. */
  public int type() {
    return type;
  }

  /** The kind of a frame type byte, or {@code null} for ack / ping / unknown types. */
  public static FrameKind of(int type) {
    switch (type) {
      case Protocol.FRAME_MESSAGE: return MESSAGE;
      case Protocol.FRAME_BROADCAST: return BROADCAST;
      case Protocol.FRAME_PUBLISH: return PUBLISH;
      default: return null;
    }
  }
}
