package dev.elbus.impl.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;

import java.util.ArrayList;
import java.util.List;

/** Listeners that record what a decoder reports, copying every slice they are handed. */
final class Recorders {
  private Recorders() {}

  /** Records client-stream events; can stop the decoder after a number of events. */
  static final class Client implements ClientStreamDecoder.Listener {
    final List<Ev> events = new ArrayList<>();
    /** Return false (stop) once this many events are recorded; -1 never. */
    int stopAfter = -1;
    /** Called after each event is recorded (e.g. to call stop() from inside a callback). */
    Runnable onEvent;

    @Override
    public boolean onHello(int greeting, int version) {
      return add(Ev.hello(greeting, version));
    }

    @Override
    public boolean onName(ByteBuf name) {
      return add(Ev.name(ByteBufUtil.getBytes(name)));
    }

    @Override
    public boolean onPing() {
      return add(Ev.ping());
    }

    @Override
    public boolean onFrame(int opId, int flags, ByteBuf buf, int index, int len) {
      return add(Ev.frame(opId, flags, ByteBufUtil.getBytes(buf, index, len)));
    }

    private boolean add(Ev e) {
      events.add(e);
      if (onEvent != null) {
        onEvent.run();
      }
      return stopAfter < 0 || events.size() < stopAfter;
    }
  }

  /** Records broker-stream events. */
  static final class Broker implements BrokerStreamDecoder.Listener {
    final List<Ev> events = new ArrayList<>();

    @Override
    public void onGreeting(int greeting, int version) {
      events.add(Ev.greeting(greeting, version));
    }

    @Override
    public void onResponse(int code) {
      events.add(Ev.response(code));
    }

    @Override
    public void onPing() {
      events.add(Ev.ping());
    }

    @Override
    public void onAck(int opId, int code) {
      events.add(Ev.ack(opId, code));
    }

    @Override
    public void onFrame(int type, boolean realtime, ByteBuf body) {
      events.add(Ev.brokerFrame(type, realtime, ByteBufUtil.getBytes(body)));
    }
  }
}
