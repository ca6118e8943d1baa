package dev.elbus.eventbus;

import static dev.elbus.eventbus.Eb.await;
import static dev.elbus.eventbus.Eb.failure;
import static dev.elbus.eventbus.Eb.headers;
import static dev.elbus.support.RawClient.brokerFrame;
import static dev.elbus.support.RawClient.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.elbus.ClientInfo;
import dev.elbus.InternalClient;
import dev.elbus.client.ElbusException;
import dev.elbus.client.NetworkClient;
import dev.elbus.impl.config.ConfigFiles;
import dev.elbus.impl.config.ServerConfig;
import dev.elbus.protocol.QoS;
import dev.elbus.rpc.RpcClient;
import dev.elbus.rpc.RpcHandler;
import dev.elbus.support.LeakGate;
import dev.elbus.support.RawClient;
import dev.elbus.support.TestBroker;
import dev.elbus.support.Transport;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** The event-bus bridge, configured from a YAML file as the server reads it. */
@ExtendWith(LeakGate.class)
class BridgeIT {
  static final String YAML = String.join("\n",
      "workers: 1",
      "bridge:",
      "  broker_address: elbus.broker",
      "  client: .bridge",
      "  inbound:",
      "    - topic: plant/+/temp",
      "      address: app.temps",
      "    - topic: jobs/#",
      "      address: app.jobs",
      "      mode: send",
      "      client: .bridge.jobs",
      "    - topic: mirror/#",
      "      address: app.mirror",
      "  outbound:",
      "    - address: app.status",
      "      topic: app/status",
      "      qos: 1",
      "    - address: app.commands",
      "      target: plc1",
      "      qos: 3",
      "      client: .bridge.cmd",
      "    - address: app.mirror",
      "      topic: mirror/back",
      "");

  private TestBroker tb;
  private EventBus eb;

  @BeforeEach
  void start() throws Exception {
    tb = Eb.broker();
    eb = tb.vertx().eventBus();
  }

  @AfterEach
  void stop() throws Exception {
    tb.close();
  }

  private ServerConfig config(Path dir) throws Exception {
    Path f = dir.resolve("elbus.yaml");
    Files.writeString(f, YAML);
    return ServerConfig.parse(ConfigFiles.read(tb.vertx(), f.toString()), f.toString());
  }

  @Test
  void rulesFromYamlForwardBothWays(@TempDir Path dir) throws Exception {
    ServerConfig cfg = config(dir);
    assertThat(cfg.bridge().brokerAddress()).isEqualTo("elbus.broker");
    Bridge bridge = await(tb.broker().bridge(cfg.bridge().options()));
    assertThat(bridge.clientNames()).containsExactlyInAnyOrder(".bridge", ".bridge.jobs",
        ".bridge.cmd");
    for (ClientInfo ci : tb.broker().clients()) {
      if (ci.name().startsWith(".bridge")) {
        assertThat(ci.kind()).isEqualTo("internal");
      }
    }
    Eb.Inbox temps1 = Eb.Inbox.on(tb.vertx(), "app.temps");
    Eb.Inbox temps2 = Eb.Inbox.on(tb.vertx(), "app.temps");
    LinkedBlockingQueue<Message<Buffer>> jobs = new LinkedBlockingQueue<>();
    MessageConsumer<Buffer> jobs1 = eb.consumer("app.jobs", jobs::add);
    MessageConsumer<Buffer> jobs2 = eb.consumer("app.jobs", jobs::add);
    await(jobs1.completion());
    await(jobs2.completion());
    byte[] payload = {0, 'T', (byte) 0xFE, 0};
    try (RawClient pub = tb.registered(Transport.TCP, "sensor1");
        RawClient plc = tb.registered(Transport.UNIX, "plc1")) {
      // inbound, publish mode: every consumer, byte-exact, with headers
      pub.frame(1, 0x01, 3, "plant/a/temp", payload);
      pub.expectAck(1, 0x01);
      for (Eb.Inbox in : List.of(temps1, temps2)) {
        Message<Buffer> m = in.take();
        assertThat(m.body().getBytes()).containsExactly(payload);
        assertThat(headers(m)).isEqualTo("elbus.kind=publish\nelbus.realtime=true"
            + "\nelbus.sender=sensor1\nelbus.topic=plant/a/temp\n");
      }
      // inbound, send mode: each publication to one consumer
      for (int i = 0; i < 20; i++) {
        pub.frame(0, 0x01, 0, "jobs/" + i, utf8("j" + i));
      }
      Set<String> got = new HashSet<>();
      while (got.size() < 20) {
        Message<Buffer> m = jobs.poll(Eb.TIMEOUT_S, TimeUnit.SECONDS);
        assertThat(m).as("job message").isNotNull();
        assertThat(got.add(m.body().toString())).as("delivered once").isTrue();
        assertThat(m.headers().get(EventBusHeaders.SENDER)).isEqualTo("sensor1");
      }
      // outbound to a topic, request: the reply is the result
      plc.frame(2, 0x02, 1, utf8("app/#"));
      plc.expectAck(2, 0x01);
      Message<Buffer> ok = await(eb.request("app.status", Buffer.buffer(payload)));
      assertThat(ok.body().length()).isZero();
      plc.expect(brokerFrame(0x01, false, ".bridge", "app/status", payload));
      // outbound to a client, QoS 3: realtime direct message from the rule's client
      eb.send("app.commands", Buffer.buffer("start"));
      plc.expect(brokerFrame(0x12, true, ".bridge.cmd", null, utf8("start")));
      // a body that is not a Buffer, and a target that is gone, are refused
      ReplyException e = failure(eb.request("app.status", new JsonObject()));
      assertThat(e.failureCode()).isEqualTo(0x72);
      // a bridge client is in RPC mode: verticles call through elbus.broker acting as it
      NetworkClient srv = await(NetworkClient.connect(tb.vertx(), tb.socket().toString(),
          "rpcsrv"));
      new RpcClient(tb.vertx(), srv).handler("ping", RpcHandler.sync(ev -> Buffer.buffer("pong")));
      Message<Buffer> pong = await(eb.request("elbus.broker", Buffer.buffer(), Eb.req("call",
          ".bridge", EventBusHeaders.TARGET, "rpcsrv", EventBusHeaders.METHOD, "ping")));
      assertThat(pong.body().toString()).isEqualTo("pong");
      await(srv.close());
      plc.frame(3, 0x12, 1, ".bridge", utf8("not rpc")); // logged and dropped
      plc.expectAck(3, 0x01);
      assertThat(tb.broker().forceDisconnect("plc1")).isTrue(); // unregistered at once
    }
    ReplyException gone = failure(eb.request("app.commands", Buffer.buffer("stop")));
    assertThat(gone.failureCode()).isEqualTo(0x71);
    temps1.close();
    temps2.close();
    await(jobs1.unregister());
    await(jobs2.unregister());
    await(bridge.close());
    assertThat(tb.broker().internalClient(".bridge")).isNull();
  }

  @Test
  void anAddressBridgedBothWaysDoesNotEcho(@TempDir Path dir) throws Exception {
    Bridge bridge = await(tb.broker().bridge(config(dir).bridge().options()));
    Eb.Inbox mirror = Eb.Inbox.on(tb.vertx(), "app.mirror");
    try (RawClient r = tb.registered(Transport.TCP, "mirrorer")) {
      r.frame(1, 0x02, 1, utf8("mirror/#"));
      r.expectAck(1, 0x01);
      // elbus -> event bus: the bridge's own outbound consumer of app.mirror ignores it
      r.frame(0, 0x01, 0, "mirror/x", utf8("m1"));
      r.expect(brokerFrame(0x01, false, "mirrorer", "mirror/x", utf8("m1")));
      Message<Buffer> m1 = mirror.take();
      assertThat(m1.body().toString()).isEqualTo("m1");
      // the address is bridged both ways: the message says which bridge produced it
      assertThat(m1.headers().get(EventBusHeaders.ORIGIN)).isEqualTo(bridge.id());
      // event bus -> elbus: the bridge's inbound rule does not forward it back
      eb.publish("app.mirror", Buffer.buffer("ext"));
      r.expect(brokerFrame(0x01, false, ".bridge", "mirror/back", utf8("ext")));
      Message<Buffer> ext = mirror.take();
      assertThat(ext.body().toString()).isEqualTo("ext");
      assertThat(ext.headers().get(EventBusHeaders.KIND)).isNull();
      r.frame(0, 0x01, 0, "mirror/end", utf8("e"));
      r.expect(brokerFrame(0x01, false, "mirrorer", "mirror/end", utf8("e")));
      // no echo of m1 on the wire above, and none of ext here: the next message is e
      assertThat(mirror.take().body().toString()).isEqualTo("e");
    } finally {
      mirror.close();
    }
  }

  @Test
  void aTakenClientNameFailsTheStartAndLeavesNothingRunning(@TempDir Path dir)
      throws Exception {
    InternalClient squatter = tb.broker().registerClient(".bridge.cmd");
    assertThatThrownBy(() -> await(tb.broker().bridge(config(dir).bridge().options())))
        .isInstanceOfSatisfying(ElbusException.class, e -> assertThat(e.code()).isEqualTo(0x76));
    assertThat(tb.broker().internalClient(".bridge")).isNull();
    assertThat(tb.broker().internalClient(".bridge.jobs")).isNull();
    ReplyException e = failure(eb.request("app.status", Buffer.buffer("x")));
    assertThat(e.failureType()).isEqualTo(io.vertx.core.eventbus.ReplyFailure.NO_HANDLERS);
    await(squatter.close());
    // the API: the same bridge built in code
    Bridge b = await(tb.broker().bridge(new BridgeOptions()
        .addInbound(InboundRule.send("code/#", "code.in").withClient(".code"))
        .addOutbound(OutboundRule.toTopic("code.out", "code/out", QoS.NO).withClient(".code"))));
    Eb.Inbox in = Eb.Inbox.on(tb.vertx(), "code.in");
    InternalClient other = tb.broker().registerClient("other");
    await(eb.request("code.out", Buffer.buffer("loop")));
    await(other.publish("code/x", Buffer.buffer("direct"), QoS.PROCESSED));
    // .code got its own "loop" publication first and did not bridge it back
    Message<Buffer> m = in.take();
    assertThat(m.body().toString()).isEqualTo("direct");
    assertThat(m.headers().get(EventBusHeaders.SENDER)).isEqualTo("other");
    in.close();
    await(other.close());
    await(b.close());
  }

  private String error(String yaml, Path dir) throws Exception {
    Path f = dir.resolve("bad.yaml");
    Files.writeString(f, yaml);
    JsonObject json = ConfigFiles.read(tb.vertx(), f.toString());
    try {
      ServerConfig.parse(json, f.toString());
      throw new AssertionError("accepted: " + yaml);
    } catch (IllegalArgumentException e) {
      assertThat(e.getMessage()).startsWith(f.toString() + ": ");
      return e.getMessage().substring(f.toString().length() + 2);
    }
  }

  @Test
  void configErrorsNameFileAndEntry(@TempDir Path dir) throws Exception {
    assertThat(error("bridge: [1]\n", dir)).isEqualTo("bridge: must be a map, got '[1]'");
    assertThat(error("bridge:\n  inbond: []\n", dir)).isEqualTo("bridge: unknown key 'inbond'");
    assertThat(error("bridge:\n  broker_address: 5\n", dir))
        .isEqualTo("bridge: broker_address must be an event-bus address or false, got '5'");
    assertThat(error("bridge:\n  client: ''\n", dir))
        .startsWith("bridge: client '': client name is missing");
    assertThat(error("bridge:\n  window: 0\n", dir))
        .isEqualTo("bridge: window must be an integer 1..1000000, got '0'");
    assertThat(error("bridge:\n  inbound: {topic: a}\n", dir))
        .isEqualTo("bridge: inbound must be a list of rules");
    assertThat(error("bridge:\n  inbound:\n    - topic: a\n      address: b\n"
        + "    - topic: c\n      address: d\n      mode: fanout\n", dir))
        .isEqualTo("bridge.inbound[1]: mode must be publish or send, got 'fanout'");
    assertThat(error("bridge:\n  inbound:\n    - address: b\n", dir))
        .isEqualTo("bridge.inbound[0]: topic is required");
    assertThat(error("bridge:\n  inbound:\n    - topic: a\n", dir))
        .isEqualTo("bridge.inbound[0]: address is required");
    assertThat(error("bridge:\n  inbound:\n    - topic: a\n      address: b\n      qos: 1\n",
        dir)).isEqualTo("bridge.inbound[0]: unknown key 'qos'");
    assertThat(error("bridge:\n  outbound:\n    - address: a\n", dir))
        .isEqualTo("bridge.outbound[0]: give exactly one of topic and target");
    assertThat(error("bridge:\n  outbound:\n    - address: a\n      topic: t\n      target: c\n",
        dir)).isEqualTo("bridge.outbound[0]: give exactly one of topic and target");
    assertThat(error("bridge:\n  outbound:\n    - address: a\n      topic: t\n      qos: 4\n",
        dir)).isEqualTo("bridge.outbound[0]: qos must be 0, 1, 2 or 3, got '4'");
    assertThat(error("bridge:\n  outbound:\n    - address: ''\n      topic: t\n", dir))
        .isEqualTo("bridge.outbound[0]: address must be a non-empty string, got ''");
    assertThat(error("bridge:\n  outbound:\n    - address: a\n      target: c\n"
        + "      client: x%%1\n", dir)).isEqualTo(
        "bridge.outbound[0]: client 'x%%1': a bridge client cannot be a secondary (x%%1)");
    assertThat(error("bridge:\n  outbound:\n    - 7\n", dir))
        .isEqualTo("bridge.outbound[0]: must be a map, got '7'");
    // false turns the broker address off
    Path f = dir.resolve("off.yaml");
    Files.writeString(f, "bridge:\n  broker_address: false\n");
    assertThat(ServerConfig.parse(ConfigFiles.read(tb.vertx(), f.toString()), f.toString())
        .bridge().brokerAddress()).isNull();
  }
}
