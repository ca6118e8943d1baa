package dev.elbus.it.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.elbus.InternalClient;
import dev.elbus.client.NetworkClient;
import dev.elbus.protocol.QoS;
import dev.elbus.rpc.MsgPack;
import dev.elbus.rpc.RpcClient;
import dev.elbus.rpc.RpcErrorCode;
import dev.elbus.rpc.RpcEvent;
import dev.elbus.rpc.RpcException;
import dev.elbus.rpc.RpcHandler;
import dev.elbus.support.LeakGate;
import dev.elbus.support.TestBroker;
import dev.elbus.support.Transport;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * {@link RpcClient} round trips through a real broker: between network clients over TCP and
 * Unix sockets (mixed), between a network client and an in-process {@link InternalClient} in both
 * directions, to {@code .broker}, and the failures (unknown target, unknown method, handler
 * exceptions).
 */
@ExtendWith(LeakGate.class)
class RpcClientIT {
  private static final long TIMEOUT_S = 20;
  private static final AtomicInteger SEQ = new AtomicInteger();

  private static TestBroker broker;
  private static Vertx vertx;
  private final List<RpcClient> clients = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    broker = TestBroker.start();
    vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true).setEventLoopPoolSize(2));
  }

  @AfterAll
  static void stop() throws Exception {
    try {
      vertx.close().await(TIMEOUT_S, TimeUnit.SECONDS);
    } finally {
      broker.close();
    }
  }

  @AfterEach
  void closeClients() throws Exception {
    for (RpcClient c : clients) {
      await(c.close());
    }
    clients.clear();
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.await(TIMEOUT_S, TimeUnit.SECONDS);
  }

  private static String unique(String name) {
    return name + "-" + SEQ.incrementAndGet();
  }

  /** A network client wrapped in an RpcClient (installed before any frame can arrive). */
  private RpcClient network(Transport t, String name) throws Exception {
    String path = t == Transport.TCP ? "127.0.0.1:" + broker.port() : broker.socket().toString();
    RpcClient c = await(NetworkClient.connect(vertx, path, name).map(n -> new RpcClient(vertx, n)));
    clients.add(c);
    return c;
  }

  private RpcClient internal(String name) {
    InternalClient ic = broker.broker().registerClient(name);
    RpcClient c = new RpcClient(vertx, ic);
    clients.add(c);
    return c;
  }

  private static RpcException rpcFailure(Future<?> f) {
    Throwable t = catchThrowable(() -> await(f));
    assertThat(t).isInstanceOf(RpcException.class);
    return (RpcException) t;
  }

  private static <T> T poll(BlockingQueue<T> q) throws InterruptedException {
    T v = q.poll(TIMEOUT_S, TimeUnit.SECONDS);
    assertThat(v).as("an event within %d s", TIMEOUT_S).isNotNull();
    return v;
  }

  /** The methods every serving client in these tests offers. */
  private static void serve(RpcClient s, BlockingQueue<RpcEvent> calls0,
      BlockingQueue<RpcEvent> notes) {
    s.handler("echo", RpcHandler.sync(RpcEvent::params));
    s.handler("sum", RpcHandler.sync(e -> {
      Map<String, Object> m = e.paramsMap();
      long sum = (Long) m.get("a") + (Long) m.get("b");
      return MsgPack.encodeBuffer(MsgPack.map("sum", sum, "from", e.sender()));
    }));
    s.handler("boom", e -> {
      throw new IllegalStateException("boom");
    });
    s.handler("async.boom", e -> Future.failedFuture(new RuntimeException("async boom")));
    s.handler("custom", e -> {
      throw new RpcException((short) -1234, "custom failure");
    });
    s.handler("rt", RpcHandler.sync(e -> Buffer.buffer(e.realtime() ? "rt" : "nrt")));
    s.handler("later", e -> {
      io.vertx.core.Promise<Buffer> p = io.vertx.core.Promise.promise();
      vertx.setTimer(1, id -> p.complete(Buffer.buffer("later")));
      return p.future();
    });
    s.handler("c0", e -> {
      calls0.add(e);
      return Future.succeededFuture(Buffer.buffer("must not be sent"));
    });
    s.notificationHandler(notes::add);
  }

  /** Every call, call0 and notification from {@code c} to {@code s}. */
  private static void exercise(RpcClient c, RpcClient s, BlockingQueue<RpcEvent> calls0,
      BlockingQueue<RpcEvent> notes) throws Exception {
    String to = s.name();
    byte[] bytes = new byte[5000];
    new Random(1).nextBytes(bytes);
    assertThat(await(c.call(to, "echo", Buffer.buffer(bytes))).getBytes()).isEqualTo(bytes);
    assertThat(await(c.call(to, "echo", Buffer.buffer())).length()).isZero();

    Buffer sum = await(c.call(to, "sum", MsgPack.encodeBuffer(MsgPack.map("a", 40, "b", 2))));
    assertThat(MsgPack.decodeMap(sum)).containsExactly(Map.entry("sum", 42L),
        Map.entry("from", c.name()));

    RpcException e = rpcFailure(c.call(to, "boom", Buffer.buffer()));
    assertThat(e.code()).isEqualTo(RpcErrorCode.INTERNAL).isEqualTo((short) -32603);
    assertThat(e.dataAsString()).contains("boom");
    assertThat(rpcFailure(c.call(to, "async.boom", Buffer.buffer())).code())
        .isEqualTo((short) -32603);
    e = rpcFailure(c.call(to, "custom", Buffer.buffer()));
    assertThat(e.code()).isEqualTo((short) -1234);
    assertThat(e.dataAsString()).isEqualTo("custom failure");
    assertThat(rpcFailure(c.call(to, "no.such", Buffer.buffer())).code())
        .isEqualTo((short) -32601);
    // bad params to a handler that decodes them: -32700 from paramsMap()
    assertThat(rpcFailure(c.call(to, "sum", Buffer.buffer(new byte[] {1}))).code())
        .isEqualTo((short) -32700);

    assertThat(await(c.call(to, "rt", Buffer.buffer(), QoS.REALTIME_PROCESSED)).toString())
        .isEqualTo("rt");
    assertThat(await(c.call(to, "rt", Buffer.buffer(), QoS.PROCESSED)).toString())
        .isEqualTo("nrt");
    assertThat(await(c.call(to, "rt", Buffer.buffer(), QoS.NO)).toString()).isEqualTo("nrt");
    assertThat(await(c.call(to, "later", Buffer.buffer())).toString()).isEqualTo("later");

    await(c.call0(to, "c0", Buffer.buffer("zero")));
    RpcEvent ev = poll(calls0);
    assertThat(ev.callId()).isZero();
    assertThat(ev.method()).isEqualTo("c0");
    assertThat(ev.sender()).isEqualTo(c.name());
    assertThat(ev.params().toString()).isEqualTo("zero");
    // call0 of a failing method: nothing comes back either, and the link still works
    await(c.call0(to, "boom", Buffer.buffer()));

    await(c.notify(to, Buffer.buffer("note")));
    ev = poll(notes);
    assertThat(ev.isNotification()).isTrue();
    assertThat(ev.sender()).isEqualTo(c.name());
    assertThat(ev.payload().toString()).isEqualTo("note");
    await(c.notify(to, Buffer.buffer(), QoS.NO));
    assertThat(poll(notes).payload().length()).isZero();

    // several calls in flight at once, answered in any order
    List<Future<Buffer>> many = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      many.add(c.call(to, i % 2 == 0 ? "echo" : "later", Buffer.buffer("m" + i)));
    }
    for (int i = 0; i < 50; i++) {
      assertThat(await(many.get(i)).toString()).isEqualTo(i % 2 == 0 ? "m" + i : "later");
    }
    assertThat(c.pendingCalls()).isZero();
    assertThat(calls0).isEmpty();
  }

  static Stream<Arguments> transportPairs() {
    return Stream.of(Transport.values())
        .flatMap(a -> Stream.of(Transport.values()).map(b -> Arguments.of(a, b)));
  }

  @ParameterizedTest(name = "caller {0}, server {1}")
  @MethodSource("transportPairs")
  void networkToNetwork(Transport callerT, Transport serverT) throws Exception {
    RpcClient server = network(serverT, unique("svc"));
    RpcClient caller = network(callerT, unique("caller"));
    BlockingQueue<RpcEvent> calls0 = new LinkedBlockingQueue<>();
    BlockingQueue<RpcEvent> notes = new LinkedBlockingQueue<>();
    serve(server, calls0, notes);
    exercise(caller, server, calls0, notes);
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void networkCallsInternal(Transport t) throws Exception {
    RpcClient server = internal(unique("isvc"));
    RpcClient caller = network(t, unique("ncaller"));
    BlockingQueue<RpcEvent> calls0 = new LinkedBlockingQueue<>();
    BlockingQueue<RpcEvent> notes = new LinkedBlockingQueue<>();
    serve(server, calls0, notes);
    exercise(caller, server, calls0, notes);
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void internalCallsNetwork(Transport t) throws Exception {
    RpcClient server = network(t, unique("nsvc"));
    RpcClient caller = internal(unique("icaller"));
    BlockingQueue<RpcEvent> calls0 = new LinkedBlockingQueue<>();
    BlockingQueue<RpcEvent> notes = new LinkedBlockingQueue<>();
    serve(server, calls0, notes);
    exercise(caller, server, calls0, notes);
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void callsToBroker(Transport t) throws Exception {
    for (RpcClient c : List.of(network(t, unique("bcaller")), internal(unique("ibcaller")))) {
      assertThat(await(c.call(".broker", "test", Buffer.buffer())).getBytes())
          .isEqualTo(new byte[] {(byte) 0x81, (byte) 0xA2, 0x6F, 0x6B, (byte) 0xC3});
      Buffer p = Buffer.buffer(new byte[] {0, 1, 2, (byte) 0xC1});
      assertThat(await(c.call(".broker", "benchmark.test", p)).getBytes()).isEqualTo(p.getBytes());
      assertThat(await(c.call(".broker", "benchmark.test", p, QoS.REALTIME_PROCESSED)).getBytes())
          .isEqualTo(p.getBytes());
      assertThat(rpcFailure(c.call(".broker", "no.such", Buffer.buffer())).code())
          .isEqualTo((short) -32601);
      Map<String, Object> list = MsgPack.decodeMap(await(c.call(".broker", "client.list",
          Buffer.buffer())));
      assertThat(list.toString()).contains(c.name());
      await(c.call0(".broker", "test", Buffer.buffer()));
      assertThat(c.pendingCalls()).isZero();
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void unknownTargetFailsWithBusNotRegistered(Transport t) throws Exception {
    assertThat(RpcErrorCode.bus(0x71)).isEqualTo((short) -32113);
    for (RpcClient c : List.of(network(t, unique("lost")), internal(unique("ilost")))) {
      RpcException e = rpcFailure(c.call("nobody.here", "test", Buffer.buffer()));
      assertThat(e.code()).isEqualTo((short) -32113);
      assertThat(rpcFailure(c.call0("nobody.here", "test", Buffer.buffer())).code())
          .isEqualTo((short) -32113);
      assertThat(rpcFailure(c.notify("nobody.here", Buffer.buffer("x"))).code())
          .isEqualTo((short) -32113);
      assertThat(c.pendingCalls()).isZero();
      // still connected and working
      assertThat(await(c.call(".broker", "test", Buffer.buffer())).length()).isEqualTo(5);
    }
  }
}
