package dev.elbus.eventbus;

import dev.elbus.config.InternalClientOptions;
import static dev.elbus.eventbus.Eb.await;
import static dev.elbus.eventbus.Eb.failure;
import static dev.elbus.eventbus.Eb.req;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.elbus.InternalClient;
import dev.elbus.client.NetworkClient;
import dev.elbus.protocol.QoS;
import dev.elbus.rpc.MsgPack;
import dev.elbus.rpc.RpcClient;
import dev.elbus.rpc.RpcErrorCode;
import dev.elbus.rpc.RpcException;
import dev.elbus.rpc.RpcHandler;
import dev.elbus.support.LeakGate;
import dev.elbus.support.TestBroker;
import dev.elbus.support.Transport;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Map;

/** RPC between internal clients and network clients, both directions. */
@ExtendWith(LeakGate.class)
class InternalRpcIT {
  private static TestBroker tb;

  @BeforeAll
  static void start() throws Exception {
    tb = Eb.broker();
  }

  @AfterAll
  static void stop() throws Exception {
    tb.close();
  }

  private static String path(Transport t) {
    return t == Transport.TCP ? "127.0.0.1:" + tb.port() : tb.socket().toString();
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void networkClientCallsInternalClientsMethods(Transport t) throws Exception {
    String svcName = "svc." + t.name().toLowerCase();
    InternalClient svc = tb.broker().registerClient(svcName);
    svc.rpc().handler("add", RpcHandler.sync(e -> {
      Map<String, Object> p = e.paramsMap();
      long sum = ((Number) p.get("a")).longValue() + ((Number) p.get("b")).longValue();
      return MsgPack.encodeBuffer(MsgPack.map("sum", sum, "from", e.sender()));
    }));
    svc.rpc().handler("boom", e -> {
      throw new RpcException((short) -7, "no luck");
    });
    String callerName = "caller." + t.name().toLowerCase();
    NetworkClient nc = await(NetworkClient.connect(tb.vertx(), path(t), callerName));
    try {
      RpcClient caller = new RpcClient(tb.vertx(), nc);
      Buffer r = await(caller.call(svcName, "add", MsgPack.encodeBuffer(MsgPack.map("a", 2,
          "b", 40))));
      assertThat(MsgPack.decodeMap(r)).containsEntry("sum", 42L)
          .containsEntry("from", callerName);
      // realtime request: answered too (the reply goes with QoS 3)
      r = await(caller.call(svcName, "add", MsgPack.encodeBuffer(MsgPack.map("a", 1, "b", 1)),
          QoS.REALTIME_PROCESSED));
      assertThat(MsgPack.decodeMap(r)).containsEntry("sum", 2L);
      assertThatThrownBy(() -> await(caller.call(svcName, "boom", Buffer.buffer())))
          .isInstanceOfSatisfying(RpcException.class, e -> {
            assertThat(e.code()).isEqualTo((short) -7);
            assertThat(e.dataAsString()).isEqualTo("no luck");
          });
      assertThatThrownBy(() -> await(caller.call(svcName, "nope", Buffer.buffer())))
          .isInstanceOfSatisfying(RpcException.class,
              e -> assertThat(e.code()).isEqualTo(RpcErrorCode.METHOD_NOT_FOUND));
    } finally {
      await(nc.close());
      await(svc.close());
    }
  }

  @Test
  void internalClientCallsNetworkClientsMethodsThroughHandleAndBrokerAddress() throws Exception {
    NetworkClient nc = await(NetworkClient.connect(tb.vertx(), tb.socket().toString(), "plc1"));
    RpcClient plc = new RpcClient(tb.vertx(), nc);
    plc.handler("status", RpcHandler.sync(e -> MsgPack.encodeBuffer(MsgPack.map("on", true,
        "asker", e.sender()))));
    plc.handler("echo", RpcHandler.sync(e -> e.params()));
    InternalClient app = tb.broker().registerClient("rpc.app",
        new InternalClientOptions().setRpc(true));
    Eb.Inbox in = Eb.Inbox.on(tb.vertx(), "elbus.client.rpc.app");
    try {
      // through the handle
      Buffer r = await(app.rpc().call("plc1", "status", Buffer.buffer()));
      assertThat(MsgPack.decodeMap(r)).containsEntry("on", true).containsEntry("asker",
          "rpc.app");
      assertThatThrownBy(() -> await(app.rpc().call("plc9", "status", Buffer.buffer())))
          .isInstanceOfSatisfying(RpcException.class,
              e -> assertThat(e.code()).isEqualTo(RpcErrorCode.BUS_NOT_REGISTERED));
      // through elbus.broker, with no handle: the reply is the result
      byte[] params = {1, 2, 0, 3};
      Message<Buffer> m = await(tb.vertx().eventBus().request("elbus.broker",
          Buffer.buffer(params), req("call", "rpc.app", EventBusHeaders.TARGET, "plc1",
              EventBusHeaders.METHOD, "echo")));
      assertThat(m.body().getBytes()).containsExactly(params);
      ReplyException e = failure(tb.vertx().eventBus().request("elbus.broker", Buffer.buffer(),
          req("call", "rpc.app", EventBusHeaders.TARGET, "plc1", EventBusHeaders.METHOD,
              "missing")));
      assertThat(e.failureCode()).isEqualTo(RpcErrorCode.METHOD_NOT_FOUND);
      assertThat(e.getMessage()).contains("missing");
      e = failure(tb.vertx().eventBus().request("elbus.broker", Buffer.buffer(),
          req("call", "rpc.app", EventBusHeaders.TARGET, "plc9", EventBusHeaders.METHOD, "x")));
      assertThat(e.failureCode()).isEqualTo(RpcErrorCode.BUS_NOT_REGISTERED);
      // RPC mode and the event bus together: publications still reach the address, while
      // the RPC replies above never did
      await(app.subscribe("news/#"));
      await(nc.publish("news/1", Buffer.buffer("hello"), QoS.PROCESSED));
      Message<Buffer> pub = in.take();
      assertThat(pub.body().toString()).isEqualTo("hello");
      assertThat(pub.headers().get(EventBusHeaders.KIND)).isEqualTo("publish");
      assertThat(in.messages).isEmpty();
    } finally {
      in.close();
      await(app.close());
      await(nc.close());
    }
  }
}
