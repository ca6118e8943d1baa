package dev.elbus.eventbus;

import dev.elbus.config.InternalClientOptions;
import static dev.elbus.eventbus.Eb.await;
import static dev.elbus.eventbus.Eb.headers;
import static dev.elbus.support.RawClient.brokerFrame;
import static dev.elbus.support.RawClient.concat;
import static dev.elbus.support.RawClient.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.elbus.ClientInfo;
import dev.elbus.InternalClient;
import dev.elbus.client.Frame;
import dev.elbus.client.NetworkClient;
import dev.elbus.protocol.QoS;
import dev.elbus.rpc.MsgPack;
import dev.elbus.rpc.RpcClient;
import dev.elbus.support.LeakGate;
import dev.elbus.support.RawClient;
import dev.elbus.support.TestBroker;
import dev.elbus.support.Transport;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.Message;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** Internal clients on event-bus addresses: what a consumer receives, options, ordering. */
@ExtendWith(LeakGate.class)
class EventBusDeliveryIT {
  private static TestBroker tb;

  @BeforeAll
  static void start() throws Exception {
    tb = Eb.broker();
  }

  @AfterAll
  static void stop() throws Exception {
    tb.close();
  }


  @ParameterizedTest
  @EnumSource(Transport.class)
  void consumerGetsSocketClientsFramesByteExactWithHeaders(Transport t) throws Exception {
    String app = t.qualify("app");
    InternalClient c = tb.broker().registerClient(app);
    assertThat(c.address()).isEqualTo("elbus.client." + app);
    Eb.Inbox in = Eb.Inbox.on(tb.vertx(), "elbus.client." + app);
    await(c.subscribe("sensors/#"));
    String pub = t.qualify("pub");
    byte[] payload = {0, 1, 2, (byte) 0xFF, 'x', 0};
    try (RawClient r = tb.registered(t, pub)) {
      // publication, QoS 3: realtime with ack
      r.frame(1, 0x01, 3, "sensors/t1", payload);
      r.expectAck(1, 0x01);
      Message<Buffer> m = in.take();
      assertThat(m.body().getBytes()).containsExactly(payload);
      assertThat(headers(m)).isEqualTo("elbus.kind=publish\nelbus.realtime=true\nelbus.sender="
          + pub + "\nelbus.topic=sensors/t1\n");
      // publication, QoS 0, empty payload
      r.frame(2, 0x01, 0, "sensors/t2", new byte[0]);
      m = in.take();
      assertThat(m.body().length()).isZero();
      assertThat(headers(m)).isEqualTo("elbus.kind=publish\nelbus.realtime=false\nelbus.sender="
          + pub + "\nelbus.topic=sensors/t2\n");
      // direct message, QoS 1
      r.frame(3, 0x12, 1, app, payload);
      r.expectAck(3, 0x01);
      m = in.take();
      assertThat(m.body().getBytes()).containsExactly(payload);
      assertThat(headers(m)).isEqualTo("elbus.kind=message\nelbus.realtime=false\nelbus.sender="
          + pub + "\n");
      // broadcast, QoS 2
      r.frame(4, 0x13, 2, app, payload);
      m = in.take();
      assertThat(m.body().getBytes()).containsExactly(payload);
      assertThat(headers(m)).isEqualTo("elbus.kind=broadcast\nelbus.realtime=true\nelbus.sender="
          + pub + "\n");
      // the consumer's side sends back through the handle: the socket gets the exact frame
      await(c.send(pub, Buffer.buffer(payload), QoS.REALTIME_PROCESSED));
      r.expect(brokerFrame(0x12, true, app, null, payload));
      await(c.publish("x/y", Buffer.buffer(payload), QoS.PROCESSED)); // nobody subscribed
      await(c.broadcast(pub, Buffer.buffer("b"), QoS.NO));
      r.expect(brokerFrame(0x13, false, app, null, utf8("b")));
    } finally {
      in.close();
      await(c.close());
    }
  }

  @Test
  void optionsAddressHandlerSecondaryAndQueueFieldsInClientList() throws Exception {
    InternalClient a = tb.broker().registerClient("opt.a",
        new InternalClientOptions().setAddress("custom.a"));
    InternalClient b = tb.broker().registerClient("opt.b",
        new InternalClientOptions().setEventBus(false));
    InternalClient sec = tb.broker().registerClient("opt.a%%1");
    assertThat(a.address()).isEqualTo("custom.a");
    assertThat(b.address()).isNull();
    assertThat(sec.address()).isEqualTo("elbus.client.opt.a%%1");
    LinkedBlockingQueue<Frame> handled = new LinkedBlockingQueue<>();
    a.frameHandler(handled::add);
    b.frameHandler(handled::add);
    Eb.Inbox inA = Eb.Inbox.on(tb.vertx(), "custom.a");
    Eb.Inbox inSec = Eb.Inbox.on(tb.vertx(), "elbus.client.opt.a%%1");
    try {
      // event bus and Java handler both get a's frames
      await(b.send("opt.a", Buffer.buffer("to-a"), QoS.PROCESSED));
      assertThat(inA.take().body().toString()).isEqualTo("to-a");
      Frame f = handled.poll(10, TimeUnit.SECONDS);
      assertThat(f.sender()).isEqualTo("opt.b");
      assertThat(f.payload().toString()).isEqualTo("to-a");
      // handler only
      await(a.send("opt.b", Buffer.buffer("to-b"), QoS.PROCESSED));
      assertThat(handled.poll(10, TimeUnit.SECONDS).payload().toString()).isEqualTo("to-b");
      // a secondary has its own address; its sender name carries the suffix
      await(sec.send("opt.b", Buffer.buffer("from-sec"), QoS.NO));
      assertThat(handled.poll(10, TimeUnit.SECONDS).sender()).isEqualTo("opt.a%%1");
      await(b.send("opt.a%%1", Buffer.buffer("to-sec"), QoS.NO));
      assertThat(inSec.take().body().toString()).isEqualTo("to-sec");
      // NUL in a name or topic is refused before routing
      assertThat(Eb.failureCodeOf(a.publish("a\0b", Buffer.buffer(), QoS.PROCESSED)))
          .isEqualTo(0x72);
      assertThat(Eb.failureCodeOf(a.send("x\0", Buffer.buffer(), QoS.PROCESSED)))
          .isEqualTo(0x72);

      // client.list through .broker: kind internal, queue, instances
      NetworkClient nc = await(NetworkClient.connect(tb.vertx(), "127.0.0.1:" + tb.port(),
          "lister"));
      try {
        RpcClient rpc = new RpcClient(tb.vertx(), nc);
        Buffer res = await(rpc.call(".broker", "client.list", Buffer.buffer()));
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> list = (List<Map<String, Object>>) MsgPack.decodeMap(res)
            .get("clients");
        Map<String, Object> ea = list.stream().filter(e -> e.get("name").equals("opt.a"))
            .findFirst().orElseThrow();
        assertThat(ea.get("kind")).isEqualTo("internal");
        assertThat(ea.get("port")).isNull();
        assertThat(ea).containsKey("queue");
        assertThat(((Number) ea.get("instances")).intValue()).isEqualTo(2);
        ClientInfo ib = tb.broker().clients().stream().filter(ci -> ci.name().equals("opt.b"))
            .findFirst().orElseThrow();
        assertThat(ib.kind()).isEqualTo("internal");
      } finally {
        await(nc.close());
      }
    } finally {
      inA.close();
      inSec.close();
      await(a.close());
      await(b.close());
    }
    assertThat(sec.isConnected()).isFalse(); // gone with its primary
  }

  @Test
  void tenThousandMessagesKeepTheirOrderBothWays() throws Exception {
    int n = 10_000;
    InternalClient c = tb.broker().registerClient("order.app");
    Eb.Inbox in = Eb.Inbox.on(tb.vertx(), "elbus.client.order.app");
    try (RawClient r = tb.registered(Transport.TCP, "order.net")) {
      // socket -> internal client's consumer: one write of 10,000 QoS-0 frames
      ByteArrayOutputStream all = new ByteArrayOutputStream();
      for (int i = 0; i < n; i++) {
        byte[] body = concat(utf8("order.app"), new byte[] {0}, le32(i));
        all.write(header(0, 0x12, body.length));
        all.write(body);
      }
      r.send(all.toByteArray());
      for (int i = 0; i < n; i++) {
        Message<Buffer> m = in.take();
        assertThat(m.body().getIntLE(0)).isEqualTo(i);
      }
      // internal client -> socket, through the handle
      ByteArrayOutputStream expected = new ByteArrayOutputStream();
      for (int i = 0; i < n; i++) {
        await(c.send("order.net", Buffer.buffer(le32(i)), QoS.NO));
        expected.write(brokerFrame(0x12, false, "order.app", null, le32(i)));
      }
      r.expect(expected.toByteArray());
    } finally {
      in.close();
      await(c.close());
    }
  }

  static byte[] le32(int v) {
    return RawClient.le32(v);
  }

  static byte[] header(int opId, int flags, int len) {
    return ByteBuffer.allocate(9).order(ByteOrder.LITTLE_ENDIAN).putInt(opId).put((byte) flags)
        .putInt(len).array();
  }
}
