package dev.elbus.it;

import dev.elbus.impl.routing.Session;
import dev.elbus.support.LeakGate;
import dev.elbus.support.RawClient;
import dev.elbus.support.TestBroker;
import dev.elbus.support.Transport;
import io.netty.channel.ChannelHandlerContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.ByteArrayOutputStream;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executor;

import static dev.elbus.it.Wire.MESSAGE;
import static dev.elbus.it.Wire.OK;
import static dev.elbus.it.Wire.PUBLISH;
import static dev.elbus.it.Wire.SUBSCRIBE;
import static dev.elbus.it.Wire.clientFrame;
import static dev.elbus.it.Wire.expectAck;
import static dev.elbus.it.Wire.marker;
import static dev.elbus.it.Wire.uniq;
import static dev.elbus.support.RawClient.utf8;
import static org.assertj.core.api.Assertions.assertThat;

/** Two verticle instances (two event loops): clients on different loops talk to each other. */
@ExtendWith(LeakGate.class)
class MultiLoopIT {
  private static final int CLIENTS = 16;
  private static TestBroker tb;

  @BeforeAll
  static void start() throws Exception {
    tb = TestBroker.start(2, Wire.QUIET);
  }

  @AfterAll
  static void stop() throws Exception {
    tb.close();
  }

  /** The event loop serving a socket client (test-only reflection into the net package). */
  private static Executor loopOf(String name) throws Exception {
    Session s = tb.router().registry().get(name);
    Field f = s.getClass().getDeclaredField("ctx");
    f.setAccessible(true);
    return ((ChannelHandlerContext) f.get(s)).executor();
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void clientsOnBothLoopsExchangeMessagesAndPublications(Transport first) throws Exception {
    String ns = uniq("ml");
    Map<String, RawClient> clients = new LinkedHashMap<>();
    try {
      for (int i = 0; i < CLIENTS; i++) {
        Transport t = (i % 2 == 0) == (first == Transport.TCP) ? Transport.TCP : Transport.UNIX;
        String n = ns + "-c" + i;
        clients.put(n, tb.registered(t, n));
      }
      Set<Executor> loops = new HashSet<>();
      for (String n : clients.keySet()) {
        loops.add(loopOf(n));
      }
      assertThat(loops).as("event loops serving %d clients", CLIENTS).hasSize(2);

      // every client sends one acked direct message to every other client
      List<String> names = new ArrayList<>(clients.keySet());
      for (String from : names) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int op = 0;
        for (String to : names) {
          if (!to.equals(from)) {
            out.writeBytes(clientFrame(op++, MESSAGE, 1, to, utf8(from + "->" + to)));
          }
        }
        clients.get(from).send(out.toByteArray());
      }
      for (String me : names) {
        Set<String> expected = new HashSet<>();
        for (String other : names) {
          if (!other.equals(me)) {
            expected.add(Wire.hex(Wire.message(other, utf8(other + "->" + me), false)));
          }
        }
        for (int op = 0; op < CLIENTS - 1; op++) {
          expected.add(Wire.hex(Wire.ack(op, OK)));
        }
        Set<String> got = new HashSet<>();
        for (int i = 0; i < expected.size(); i++) {
          got.add(Wire.hex(Wire.next(clients.get(me))));
        }
        assertThat(got).as("frames received by %s", me).isEqualTo(expected);
      }

      // every client subscribes to ns/#, then publishes once: everyone receives all 16
      for (String n : names) {
        clients.get(n).frame(100, SUBSCRIBE, 1, utf8(ns + "/#"));
        expectAck(clients.get(n), 100, OK);
      }
      for (String n : names) {
        clients.get(n).frame(101, PUBLISH, 1, ns + "/" + n, utf8("from " + n));
      }
      for (String me : names) {
        Set<String> expected = new HashSet<>();
        for (String n : names) {
          expected.add(Wire.hex(Wire.publication(n, ns + "/" + n, utf8("from " + n), false)));
        }
        expected.add(Wire.hex(Wire.ack(101, OK)));
        Set<String> got = new HashSet<>();
        for (int i = 0; i < expected.size(); i++) {
          got.add(Wire.hex(Wire.next(clients.get(me))));
        }
        assertThat(got).as("publications received by %s", me).isEqualTo(expected);
      }
      for (String n : names) {
        clients.get(n).expectSilence(20);
      }
    } finally {
      for (RawClient c : clients.values()) {
        c.close();
      }
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void orderingAcrossLoops(Transport t) throws Exception {
    String ns = uniq("mlo");
    Transport other = t == Transport.TCP ? Transport.UNIX : Transport.TCP;
    List<RawClient> opened = new ArrayList<>();
    try {
      // connect until two clients sit on different loops
      String an = ns + "-a";
      RawClient a = tb.registered(t, an);
      opened.add(a);
      String bn = null;
      RawClient b = null;
      for (int i = 0; i < 8 && b == null; i++) {
        String n = ns + "-b" + i;
        RawClient c = tb.registered(i % 2 == 0 ? other : t, n);
        opened.add(c);
        if (loopOf(n) != loopOf(an)) {
          bn = n;
          b = c;
        }
      }
      assertThat(b).as("a client on the other event loop").isNotNull();
      final int n = 20_000;
      final int batch = 1_000;
      byte[] target = utf8(bn);
      byte[] sender = utf8(an);
      int inLen = 6 + sender.length + 1 + 4;
      for (int i = 0; i < n; i += batch) {
        ByteBuffer buf = ByteBuffer.allocate(batch * (9 + target.length + 1 + 4))
            .order(ByteOrder.LITTLE_ENDIAN);
        for (int k = i; k < i + batch; k++) {
          buf.putInt(k).put((byte) (MESSAGE | (k % 4 == 3 ? 0x80 : 0))) // some realtime
              .putInt(target.length + 1 + 4).put(target).put((byte) 0).putInt(k);
        }
        a.send(buf.array());
        ByteBuffer in = ByteBuffer.wrap(b.read(batch * inLen, 20_000))
            .order(ByteOrder.LITTLE_ENDIAN);
        for (int k = i; k < i + batch; k++) {
          int off = (k - i) * inLen;
          if (in.get(off) != 0x12 || in.get(off + 5) != (k % 4 == 3 ? 1 : 0)
              || in.getInt(off + inLen - 4) != k) {
            throw new AssertionError("frame " + k + " out of order or malformed at offset " + off);
          }
        }
      }
      marker(a, an, b, bn, -1);
    } finally {
      for (RawClient c : opened) {
        c.close();
      }
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void forceDisconnectClosesTheClientAndFreesItsName(Transport t) throws Exception {
    String ns = uniq("mlf");
    Transport other = t == Transport.TCP ? Transport.UNIX : Transport.TCP;
    List<RawClient> cs = new ArrayList<>();
    try {
      for (int i = 0; i < 4; i++) {
        cs.add(tb.registered(i % 2 == 0 ? t : other, ns + "-" + i));
      }
      for (int victim = 0; victim < 4; victim++) {
        String vn = ns + "-" + victim;
        assertThat(tb.broker().forceDisconnect(vn)).isTrue();
        cs.get(victim).expectClosed(5_000);
        assertThat(tb.router().registry().get(vn)).isNull();
        int witness = (victim + 1) % 4;
        String wn = ns + "-" + witness;
        cs.get(witness).frame(1, MESSAGE, 1, vn, utf8("gone"));
        expectAck(cs.get(witness), 1, Wire.NOT_REGISTERED);
        // the name is free: register it again, on the other transport, and talk to it
        cs.get(victim).close();
        cs.set(victim, tb.registered(victim % 2 == 0 ? other : t, vn));
        marker(cs.get(witness), wn, cs.get(victim), vn, 2);
      }
      assertThat(tb.broker().forceDisconnect(ns + "-nobody")).isFalse();
    } finally {
      for (RawClient c : cs) {
        c.close();
      }
    }
  }
}
