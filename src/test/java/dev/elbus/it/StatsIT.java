package dev.elbus.it;

import dev.elbus.ClientInfo;
import dev.elbus.impl.routing.BrokerStats;
import dev.elbus.support.LeakGate;
import dev.elbus.support.RawClient;
import dev.elbus.support.TestBroker;
import dev.elbus.support.Transport;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;

import static dev.elbus.it.Wire.BROADCAST;
import static dev.elbus.it.Wire.MESSAGE;
import static dev.elbus.it.Wire.NOT_REGISTERED;
import static dev.elbus.it.Wire.OK;
import static dev.elbus.it.Wire.PUBLISH;
import static dev.elbus.it.Wire.SUBSCRIBE;
import static dev.elbus.it.Wire.UNSUBSCRIBE;
import static dev.elbus.it.Wire.expectAck;
import static dev.elbus.it.Wire.expectFrame;
import static dev.elbus.support.RawClient.utf8;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * PROTOCOL.md section 6 counters for a small known exchange: r_* count frames and body bytes
 * received (not pings), w_* one frame and the incoming body length per receiver, acks 1 frame
 * and 6 bytes each, pings nothing.
 */
@ExtendWith(LeakGate.class)
class StatsIT {

  /** Expected counters of one client. */
  private static final class Counts {
    long rf;
    long rb;
    long wf;
    long wb;

    void read(long bytes) {
      rf++;
      rb += bytes;
    }

    void wrote(long bytes) {
      wf++;
      wb += bytes;
    }

    void ack() {
      wrote(6);
    }

    boolean matches(ClientInfo c) {
      return c.rFrames() == rf && c.rBytes() == rb && c.wFrames() == wf && c.wBytes() == wb;
    }

    @Override
    public String toString() {
      return "r_frames=" + rf + " r_bytes=" + rb + " w_frames=" + wf + " w_bytes=" + wb;
    }
  }

  private static String show(ClientInfo c) {
    return c.name() + ": r_frames=" + c.rFrames() + " r_bytes=" + c.rBytes() + " w_frames="
        + c.wFrames() + " w_bytes=" + c.wBytes();
  }

  private static String show(BrokerStats s) {
    return "broker: r_frames=" + s.rFrames() + " r_bytes=" + s.rBytes() + " w_frames="
        + s.wFrames() + " w_bytes=" + s.wBytes();
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void countersMatchASmallKnownExchange(Transport t) throws Exception {
    try (TestBroker tb = TestBroker.start(1, Wire.QUIET);
         RawClient a = tb.registered(t, "stat-a");
         RawClient b = tb.registered(t, "stat-b")) {
      Counts ca = new Counts();
      Counts cb = new Counts();
      // b subscribes (3-byte body), acked
      b.frame(1, SUBSCRIBE, 1, utf8("t/#"));
      expectAck(b, 1, OK);
      cb.read(3);
      cb.ack();
      // a -> b message "hello", QoS 1: body "stat-b" 00 "hello" = 12 bytes
      a.frame(2, MESSAGE, 1, "stat-b", utf8("hello"));
      expectAck(a, 2, OK);
      expectFrame(b, Wire.message("stat-a", utf8("hello"), false));
      ca.read(12);
      cb.wrote(12);
      ca.ack();
      // a publishes "t/x" 00 "pp" (6 bytes), QoS 0, one subscriber
      a.frame(3, PUBLISH, 0, "t/x", utf8("pp"));
      expectFrame(b, Wire.publication("stat-a", "t/x", utf8("pp"), false));
      ca.read(6);
      cb.wrote(6);
      // a broadcasts "*" 00 "bb" (4 bytes), QoS 1: both a and b receive it
      a.frame(4, BROADCAST, 1, "*", utf8("bb"));
      expectFrame(a, Wire.broadcast("stat-a", utf8("bb"), false));
      expectAck(a, 4, OK);
      expectFrame(b, Wire.broadcast("stat-a", utf8("bb"), false));
      ca.read(4);
      ca.wrote(4);
      cb.wrote(4);
      ca.ack();
      // pings (with and without garbage) count nothing
      a.send(new byte[9]);
      a.send(RawClient.hex("01 02 03 04 00 05 06 07 08"));
      // an unsubscribe of an unknown topic (2 bytes), QoS 0
      a.frame(5, UNSUBSCRIBE, 0, utf8("zz"));
      ca.read(2);
      // a message to nobody (body "nobody" 00 "x" = 8 bytes), QoS 1: read, and its ack 71
      a.frame(6, MESSAGE, 1, "nobody", utf8("x"));
      expectAck(a, 6, NOT_REGISTERED);
      ca.read(8);
      ca.ack();
      // a publication nobody is subscribed to: read, nothing written
      a.frame(7, PUBLISH, 1, "q/none", new byte[0]);
      expectAck(a, 7, OK);
      ca.read(7);
      ca.ack();

      // the broker's own client .broker is a client too: the broadcast to "*" reached it
      Wire.await(() -> {
        List<ClientInfo> cs = tb.broker().clients();
        return cs.size() == 3 && cs.get(0).name().equals(".broker") && cs.get(0).rFrames() == 0
            && cs.get(0).wFrames() == 1 && cs.get(0).wBytes() == 4
            && ca.matches(cs.get(1)) && cb.matches(cs.get(2));
      }, 5_000, () -> "per-client counters: expected stat-a " + ca + ", stat-b " + cb
          + ", .broker w_frames=1 w_bytes=4; got "
          + tb.broker().clients().stream().map(StatsIT::show).toList());
      BrokerStats s = tb.router().stats();
      assertThat(show(s)).isEqualTo("broker: r_frames=" + (ca.rf + cb.rf) + " r_bytes="
          + (ca.rb + cb.rb) + " w_frames=" + (ca.wf + cb.wf + 1) + " w_bytes="
          + (ca.wb + cb.wb + 4));
      assertThat(s.uptimeSeconds()).isGreaterThanOrEqualTo(0);
      assertThat(tb.broker().clients()).allSatisfy(c -> assertThat(c.queue()).isZero());
    }
  }
}
