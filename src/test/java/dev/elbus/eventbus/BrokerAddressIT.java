package dev.elbus.eventbus;

import dev.elbus.config.InternalClientOptions;
import static dev.elbus.eventbus.Eb.await;
import static dev.elbus.eventbus.Eb.failure;
import static dev.elbus.eventbus.Eb.req;
import static dev.elbus.support.RawClient.brokerFrame;
import static dev.elbus.support.RawClient.concat;
import static dev.elbus.support.RawClient.le32;
import static dev.elbus.support.RawClient.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.elbus.InternalClient;
import dev.elbus.support.LeakGate;
import dev.elbus.support.RawClient;
import dev.elbus.support.TestBroker;
import dev.elbus.support.Transport;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The broker's request/response address {@code elbus.broker}: verticles act as internal clients
 * without a handle; bad requests are refused with the right code and reach nobody.
 */
@ExtendWith(LeakGate.class)
class BrokerAddressIT {
  private static final String ADDR = "elbus.broker";
  private static TestBroker tb;
  private static EventBus eb;
  private static InternalClient app;

  @BeforeAll
  static void start() throws Exception {
    tb = Eb.broker();
    eb = tb.vertx().eventBus();
    app = tb.broker().registerClient("app", new InternalClientOptions().setEventBus(false));
  }

  @AfterAll
  static void stop() throws Exception {
    tb.close();
  }

  private static Buffer request(Object body, DeliveryOptions o) throws Exception {
    return await(eb.<Buffer>request(ADDR, body, o)).body();
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void eventBusMessageReachesSocketClientAsMessageAndPublication(Transport t) throws Exception {
    String name = t.name().toLowerCase() + ".sink";
    byte[] payload = {0, 'a', 0, (byte) 0x80, 'z'};
    try (RawClient r = tb.registered(t, name)) {
      // direct message, QoS 1 (not realtime) and 3 (realtime)
      Buffer ok = request(Buffer.buffer(payload), req("send", "app", EventBusHeaders.TARGET, name));
      assertThat(ok.length()).isZero();
      r.expect(brokerFrame(0x12, false, "app", null, payload));
      request(Buffer.buffer(payload), req("send", "app", EventBusHeaders.TARGET, name,
          EventBusHeaders.QOS, "3"));
      r.expect(brokerFrame(0x12, true, "app", null, payload));
      // publication: subscribe over the wire first
      r.frame(7, 0x02, 1, utf8("ev/#"));
      r.expectAck(7, 0x01);
      request(Buffer.buffer(payload), req("publish", "app", EventBusHeaders.TOPIC, "ev/one",
          EventBusHeaders.QOS, "2"));
      r.expect(brokerFrame(0x01, true, "app", "ev/one", payload));
      request(null, req("publish", "app", EventBusHeaders.TOPIC, "ev/two", EventBusHeaders.QOS,
          "0"));
      r.expect(brokerFrame(0x01, false, "app", "ev/two", new byte[0]));
      // broadcast by mask
      request(Buffer.buffer("b"), req("broadcast", "app", EventBusHeaders.TARGET,
          t.name().toLowerCase() + ".*"));
      r.expect(brokerFrame(0x13, false, "app", null, utf8("b")));
      // RPC notification and call0: direct messages carrying RPC frames
      request(Buffer.buffer("n"), req("notify", "app", EventBusHeaders.TARGET, name));
      r.expect(brokerFrame(0x12, false, "app", null, concat(new byte[] {0}, utf8("n"))));
      request(Buffer.buffer("p"), req("call0", "app", EventBusHeaders.TARGET, name,
          EventBusHeaders.METHOD, "m"));
      r.expect(brokerFrame(0x12, false, "app", null,
          concat(new byte[] {1}, le32(0), utf8("m"), new byte[] {0}, utf8("p"))));
    }
  }

  @Test
  void subscribeAndUnsubscribeAsAnInternalClient() throws Exception {
    InternalClient sub = tb.broker().registerClient("subber");
    Eb.Inbox in = Eb.Inbox.on(tb.vertx(), "elbus.client.subber");
    try {
      request(null, req("subscribe", "subber", EventBusHeaders.TOPIC, "s/a",
          EventBusHeaders.TOPIC, "s/b"));
      request(Buffer.buffer("1"), req("publish", "app", EventBusHeaders.TOPIC, "s/a"));
      request(Buffer.buffer("2"), req("publish", "app", EventBusHeaders.TOPIC, "s/b"));
      assertThat(in.take().body().toString()).isEqualTo("1");
      assertThat(in.take().body().toString()).isEqualTo("2");
      request(null, req("unsubscribe", "subber", EventBusHeaders.TOPIC, "s/a"));
      request(Buffer.buffer("3"), req("publish", "app", EventBusHeaders.TOPIC, "s/a"));
      request(Buffer.buffer("4"), req("publish", "app", EventBusHeaders.TOPIC, "s/b"));
      assertThat(in.take().body().toString()).isEqualTo("4"); // 3 went nowhere
    } finally {
      in.close();
      await(sub.close());
    }
  }

  private static void refused(int code, String text, Object body, DeliveryOptions o)
      throws Exception {
    ReplyException e = failure(eb.request(ADDR, body, o));
    assertThat(e.failureCode()).as(e.getMessage()).isEqualTo(code);
    assertThat(e.getMessage()).contains(text);
  }

  @Test
  void everyBadRequestIsRefusedWithItsCodeAndReachesNobody() throws Exception {
    Buffer p = Buffer.buffer("x");
    try (RawClient watcher = tb.registered(Transport.UNIX, "watcher")) {
      watcher.frame(1, 0x02, 1, utf8("#"));
      watcher.expectAck(1, 0x01);
      String tgt = EventBusHeaders.TARGET;
      String top = EventBusHeaders.TOPIC;
      // headers
      refused(0x72, "missing header elbus.op", p, req(null, "app", tgt, "watcher"));
      refused(0x72, "unknown elbus.op 'sned'", p, req("sned", "app", tgt, "watcher"));
      refused(0x72, "missing header elbus.client", p, req("send", null, tgt, "watcher"));
      refused(0x72, "missing header elbus.target", p, req("send", "app"));
      refused(0x72, "missing header elbus.target", p, req("broadcast", "app"));
      refused(0x72, "missing header elbus.topic", p, req("publish", "app"));
      refused(0x72, "missing header elbus.topic", p, req("subscribe", "app"));
      refused(0x72, "missing header elbus.topic", p, req("unsubscribe", "app"));
      refused(0x72, "missing header elbus.method", p, req("call", "app", tgt, "watcher"));
      refused(0x72, "missing header elbus.method", p, req("call0", "app", tgt, "watcher"));
      refused(0x72, "missing header elbus.target", p, req("notify", "app"));
      refused(0x72, "header elbus.target given 2 times", p,
          req("send", "app", tgt, "watcher", tgt, "app"));
      refused(0x72, "header elbus.op given 2 times", p,
          req("send", "app", tgt, "watcher", EventBusHeaders.OP, "publish"));
      refused(0x72, "elbus.qos must be 0, 1, 2 or 3, got '4'", p,
          req("send", "app", tgt, "watcher", EventBusHeaders.QOS, "4"));
      refused(0x72, "elbus.qos must be 0, 1, 2 or 3, got 'x'", p,
          req("send", "app", tgt, "watcher", EventBusHeaders.QOS, "x"));
      refused(0x72, "elbus.timeout must be", p, req("call", "app", tgt, "watcher",
          EventBusHeaders.METHOD, "m", EventBusHeaders.TIMEOUT, "-5"));
      refused(0x72, "elbus.topic contains a NUL", p, req("publish", "app", top, "a\0b"));
      refused(0x72, "elbus.target contains a NUL", p, req("send", "app", tgt, "watcher\0x"));
      refused(0x72, "elbus.method contains a NUL", p, req("call0", "app", tgt, "watcher",
          EventBusHeaders.METHOD, "m\0"));
      refused(0x72, "elbus.topic contains a NUL", p, req("subscribe", "app", top, "ok", top,
          "\0"));
      refused(0x72, "elbus.topic is not valid Unicode", p, req("publish", "app", top,
          "a\uD800b"));
      // body
      refused(0x72, "the body must be a Buffer (the payload), got JsonObject",
          new JsonObject().put("a", 1), req("publish", "app", top, "t"));
      refused(0x72, "the body must be a Buffer (the payload), got String", "text",
          req("send", "app", tgt, "watcher"));
      // the client to act as
      refused(0x71, "no internal client nobody is registered", p,
          req("send", "nobody", tgt, "watcher"));
      refused(0x71, "watcher is not an internal client", p, req("send", "watcher", tgt, "app"));
      refused(0x71, ".broker is not an internal client", p, req("send", ".broker", tgt,
          "watcher"));
      refused(0x75, "not in RPC mode", p, req("call", "app", tgt, "watcher",
          EventBusHeaders.METHOD, "m"));
      // routing results
      refused(0x71, "not registered", p, req("send", "app", tgt, "nobody"));
      refused(0x71, "not registered", p, req("call0", "app", tgt, "nobody",
          EventBusHeaders.METHOD, "m"));
      // a fire-and-forget bad request (no reply address) is dropped as well
      eb.send(ADDR, "junk", req("publish", "app", top, "junk"));
      eb.send(ADDR, p, req("publish", "nobody", top, "junk"));

      // the watcher, subscribed to everything, got none of it: the next frame is this one
      request(Buffer.buffer("good"), req("publish", "app", top, "after/bad"));
      watcher.expect(brokerFrame(0x01, false, "app", "after/bad", utf8("good")));
      assertThat(app.isConnected()).isTrue();
    }
  }
}
