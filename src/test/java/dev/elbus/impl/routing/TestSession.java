package dev.elbus.impl.routing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;

import java.util.ArrayList;
import java.util.List;

/**
 * A session for routing tests: records (a copy of) every frame delivered and every disconnect,
 * then releases the frame. The delivery result can be set; it can unregister itself from a router
 * on disconnect like the real sessions do.
 */
class TestSession extends Session {
  final List<byte[]> frames = new ArrayList<>();
  final List<Boolean> realtime = new ArrayList<>();
  final List<ByteBuf> handed = new ArrayList<>();
  final List<CloseReason> disconnects = new ArrayList<>();
  volatile int result = dev.elbus.protocol.Protocol.RESPONSE_OK;
  Router unregisterOnDisconnect;

  TestSession(String name) {
    super(name, ClientKind.INTERNAL, null, null);
  }

  @Override
  public synchronized int deliver(ByteBuf frame, boolean rt) {
    handed.add(frame);
    if (result == dev.elbus.protocol.Protocol.RESPONSE_OK) {
      frames.add(ByteBufUtil.getBytes(frame));
      realtime.add(rt);
    }
    frame.release();
    return result;
  }

  @Override
  public void disconnect(CloseReason reason) {
    disconnects.add(reason);
    if (unregisterOnDisconnect != null) {
      unregisterOnDisconnect.unregister(this);
    }
  }

  @Override
  public int queued() {
    return 0;
  }

  /** Every frame handed to this session has been released by everyone. */
  boolean allReleased() {
    for (ByteBuf b : handed) {
      if (b.refCnt() != 0) {
        return false;
      }
    }
    return true;
  }
}
