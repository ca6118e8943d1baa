package dev.elbus.rpc;

import dev.elbus.client.Frame;
import dev.elbus.client.FrameKind;
import dev.elbus.impl.codec.RpcFrames;
import dev.elbus.protocol.QoS;
import dev.elbus.support.LeakGate;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static dev.elbus.rpc.RpcFramesTest.hex;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * {@link RpcClient} over the in-memory {@link FakeBus}: every reply and error path of PROTOCOL.md
 * section 9. What went on the wire is checked from the bus's record of sends.
 */
@ExtendWith(LeakGate.class)
class RpcClientTest {
  private Vertx vertx;
  private FakeBus bus;
  private FakeBus.FakeClient ca;
  private FakeBus.FakeClient cb;
  private RpcClient a;
  private RpcClient b;

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
    useBus(false);
  }

  private void useBus(boolean sync) {
    bus = new FakeBus(vertx, sync);
    ca = bus.client("a");
    cb = bus.client("b");
    a = new RpcClient(vertx, ca);
    b = new RpcClient(vertx, cb);
    b.handler("echo", RpcHandler.sync(RpcEvent::params));
    b.handler("ping", RpcHandler.sync(e -> Buffer.buffer("pong")));
  }

  @AfterEach
  void tearDown() throws Exception {
    await(vertx.close());
  }

  static <T> T await(Future<T> f) throws Exception {
    try {
      return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw (Exception) e.getCause();
    }
  }

  static RpcException awaitRpcFailure(Future<?> f) throws Exception {
    try {
      f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      assertThat(e.getCause()).isInstanceOf(RpcException.class);
      return (RpcException) e.getCause();
    }
    return fail("expected the future to fail with an RpcException");
  }

  private List<RpcFrames.Parsed> parsedSentBy(String name) {
    List<RpcFrames.Parsed> out = new ArrayList<>();
    for (FakeBus.Sent s : bus.sentBy(name)) {
      out.add(RpcFrames.parse(s.payload()));
    }
    return out;
  }

  // ---------------------------------------------------------------- call / reply

  @Test
  void callGetsTheHandlersResult() throws Exception {
    AtomicReference<RpcEvent> seen = new AtomicReference<>();
    b.handler("test", RpcHandler.sync(e -> {
      seen.set(e);
      return MsgPack.encodeBuffer(MsgPack.map("ok", true));
    }));
    Buffer params = MsgPack.encodeBuffer(MsgPack.map("x", 1));
    Buffer result = await(a.call("b", "test", params));

    assertThat(MsgPack.decodeMap(result)).isEqualTo(MsgPack.map("ok", true));
    RpcEvent e = seen.get();
    assertThat(e.sender()).isEqualTo("a");
    assertThat(e.primarySender()).isEqualTo("a");
    assertThat(e.method()).isEqualTo("test");
    assertThat(e.params()).isEqualTo(params);
    assertThat(e.paramsMap()).isEqualTo(MsgPack.map("x", 1L));
    assertThat(e.realtime()).isFalse();
    assertThat(e.callId()).isNotZero();
    assertThat(e.wantsReply()).isTrue();
    assertThat(a.pendingCalls()).isZero();

    // on the wire: one request with QoS 1, one reply with QoS 1 and the same call id
    List<FakeBus.Sent> req = bus.sentBy("a");
    assertThat(req).hasSize(1);
    assertThat(req.get(0).qos()).isEqualTo(QoS.PROCESSED);
    assertThat(req.get(0).target()).isEqualTo("b");
    RpcFrames.Request r = (RpcFrames.Request) RpcFrames.parse(req.get(0).payload());
    assertThat(r.callId()).isEqualTo(e.callId());
    List<FakeBus.Sent> rep = bus.sentBy("b");
    assertThat(rep).hasSize(1);
    assertThat(rep.get(0).qos()).isEqualTo(QoS.PROCESSED);
    assertThat(rep.get(0).target()).isEqualTo("a");
    assertThat(RpcFramesTest.hexOf(rep.get(0).payload()))
        .isEqualTo(RpcFramesTest.hexOf(RpcFrames.reply(r.callId(), result)));
  }

  @Test
  void asynchronousHandlerAndNullResult() throws Exception {
    b.handler("later", e -> {
      Promise<Buffer> p = Promise.promise();
      vertx.setTimer(1, t -> p.complete(Buffer.buffer("done")));
      return p.future();
    });
    b.handler("nothing", e -> null);
    b.handler("nullValue", RpcHandler.sync(e -> null));
    assertThat(await(a.call("b", "later", null)).toString()).isEqualTo("done");
    assertThat(await(a.call("b", "nothing", null)).length()).isZero();
    assertThat(await(a.call("b", "nullValue", null)).length()).isZero();
  }

  @Test
  void secondarySenderHasItsPrimaryName() throws Exception {
    RpcClient sec = new RpcClient(vertx, bus.client("a%%7"));
    AtomicReference<RpcEvent> seen = new AtomicReference<>();
    b.handler("who", RpcHandler.sync(e -> {
      seen.set(e);
      return null;
    }));
    await(sec.call("b", "who", null));
    assertThat(seen.get().sender()).isEqualTo("a%%7");
    assertThat(seen.get().primarySender()).isEqualTo("a");
  }

  @Test
  void synchronousTransportReplyBeforeCallReturns() throws Exception {
    useBus(true);
    assertThat(await(a.call("b", "ping", null)).toString()).isEqualTo("pong");
    assertThat(a.pendingCalls()).isZero();
  }

  // ---------------------------------------------------------------- error replies

  @Test
  void errorReplyCarriesCodeAndData() throws Exception {
    b.handler("refuse", RpcHandler.sync(e -> {
      throw new RpcException((short) -5, Buffer.buffer(new byte[] {1, 2}));
    }));
    b.handler("badParams", e -> Future.failedFuture(RpcException.invalidParams("need x")));
    RpcException e1 = awaitRpcFailure(a.call("b", "refuse", null));
    assertThat(e1.code()).isEqualTo((short) -5);
    assertThat(e1.data().getBytes()).containsExactly(1, 2);
    RpcException e2 = awaitRpcFailure(a.call("b", "badParams", null));
    assertThat(e2.code()).isEqualTo(RpcErrorCode.INVALID_PARAMS);
    assertThat(e2.dataAsString()).isEqualTo("need x");
    assertThat(parsedSentBy("b")).allMatch(p -> p instanceof RpcFrames.ErrorReply);
  }

  @Test
  void unknownMethodIsMethodNotFound() throws Exception {
    RpcException e = awaitRpcFailure(a.call("b", "nosuch", null));
    assertThat(e.code()).isEqualTo((short) -32601);
    assertThat(e.dataAsString()).isEqualTo("method not found: nosuch");
  }

  @Test
  void handlerThatThrowsIsInternalError() throws Exception {
    b.handler("boom", RpcHandler.sync(e -> {
      throw new IllegalStateException("it broke");
    }));
    b.handler("checked", e -> {
      throw new java.io.IOException("disk");
    });
    b.handler("fails", e -> Future.failedFuture(new RuntimeException("async failure")));
    b.handler("noMessage", RpcHandler.sync(e -> {
      throw new NullPointerException();
    }));
    b.handler("badMap", RpcHandler.sync(e -> {
      e.paramsMap();
      return null;
    }));

    RpcException e1 = awaitRpcFailure(a.call("b", "boom", null));
    assertThat(e1.code()).isEqualTo((short) -32603);
    assertThat(e1.dataAsString()).isEqualTo("it broke");
    assertThat(awaitRpcFailure(a.call("b", "checked", null)).dataAsString()).isEqualTo("disk");
    RpcException e3 = awaitRpcFailure(a.call("b", "fails", null));
    assertThat(e3.code()).isEqualTo(RpcErrorCode.INTERNAL);
    assertThat(e3.dataAsString()).isEqualTo("async failure");
    assertThat(awaitRpcFailure(a.call("b", "noMessage", null)).dataAsString())
        .isEqualTo("java.lang.NullPointerException");
    // paramsMap() of params that are not a map answers -32700
    RpcException e5 = awaitRpcFailure(a.call("b", "badMap", hex("91 01")));
    assertThat(e5.code()).isEqualTo(RpcErrorCode.PARSE);
    // the handler still serves later calls
    assertThat(await(a.call("b", "ping", null)).toString()).isEqualTo("pong");
  }

  // ---------------------------------------------------------------- call0 and notifications

  @Test
  void call0GetsNoReplyEvenOnError() throws Exception {
    List<RpcEvent> seen = new CopyOnWriteArrayList<>();
    b.handler("m", RpcHandler.sync(e -> {
      seen.add(e);
      return Buffer.buffer("would be a result");
    }));
    b.handler("boom", RpcHandler.sync(e -> {
      seen.add(e);
      throw new IllegalStateException("fails");
    }));
    Buffer params = Buffer.buffer("p");
    await(a.call0("b", "m", params));
    await(a.call0("b", "boom", null));
    await(a.call0("b", "nosuch", null));
    assertThat(a.pendingCalls()).isZero();
    // b handles frames in order: once the ping is answered, any reply to the call0s is out
    assertThat(await(a.call("b", "ping", null)).toString()).isEqualTo("pong");

    assertThat(seen).hasSize(2);
    assertThat(seen.get(0).callId()).isZero();
    assertThat(seen.get(0).wantsReply()).isFalse();
    assertThat(seen.get(0).params()).isEqualTo(params);
    List<RpcFrames.Parsed> fromB = parsedSentBy("b");
    assertThat(fromB).hasSize(1);
    assertThat(((RpcFrames.Reply) fromB.get(0)).result().toString()).isEqualTo("pong");
    // the call0 requests had call id 0 on the wire
    List<RpcFrames.Parsed> fromA = parsedSentBy("a");
    assertThat(fromA.subList(0, 3)).allMatch(p -> ((RpcFrames.Request) p).callId() == 0);
  }

  @Test
  void notificationReachesTheNotificationHandler() throws Exception {
    Promise<RpcEvent> got = Promise.promise();
    b.notificationHandler(got::tryComplete);
    await(a.notify("b", Buffer.buffer("event!"), QoS.REALTIME_PROCESSED));
    RpcEvent e = await(got.future());
    assertThat(e.isNotification()).isTrue();
    assertThat(e.method()).isNull();
    assertThat(e.payload().toString()).isEqualTo("event!");
    assertThat(e.sender()).isEqualTo("a");
    assertThat(e.realtime()).isTrue();
    assertThat(e.wantsReply()).isFalse();
    assertThat(RpcFramesTest.hexOf(bus.sentBy("a").get(0).payload()))
        .isEqualTo("00 65 76 65 6e 74 21");
    // nothing is sent back for a notification
    await(a.call("b", "ping", null));
    assertThat(bus.sentBy("b")).hasSize(1);
  }

  @Test
  void failingNotificationHandlerDoesNotStopTheClient() throws Exception {
    b.notificationHandler(e -> {
      throw new IllegalStateException("bad handler");
    });
    await(a.notify("b", Buffer.buffer("x")));
    assertThat(await(a.call("b", "ping", null)).toString()).isEqualTo("pong");
  }

  // ---------------------------------------------------------------- bus failures, timeouts

  @Test
  void sendFailureIsMinus32000MinusTheResultCode() throws Exception {
    RpcException e = awaitRpcFailure(a.call("nobody", "x", null));
    assertThat(e.code()).isEqualTo((short) (-32000 - 0x71)).isEqualTo((short) -32113);
    assertThat(e.getMessage()).contains("nobody");
    assertThat(a.pendingCalls()).isZero();
    assertThat(awaitRpcFailure(a.call0("nobody", "x", null)).code()).isEqualTo((short) -32113);
    assertThat(awaitRpcFailure(a.notify("nobody", null)).code()).isEqualTo((short) -32113);
  }

  @Test
  void noReplyInTimeIsATimeout() throws Exception {
    b.handler("never", e -> Promise.<Buffer>promise().future());
    a.timeout(50);
    RpcException e = awaitRpcFailure(a.call("b", "never", null));
    assertThat(e.code()).isEqualTo((short) (-32000 - 0x78)).isEqualTo(RpcErrorCode.BUS_TIMEOUT);
    assertThat(a.pendingCalls()).isZero();
    // the per-call timeout overload
    a.timeout(0);
    RpcException e2 = awaitRpcFailure(a.call("b", "never", null, QoS.PROCESSED, 20));
    assertThat(e2.code()).isEqualTo(RpcErrorCode.BUS_TIMEOUT);
  }

  @Test
  void replyForAnUnknownCallIdIsDropped() throws Exception {
    List<Frame> forwarded = new CopyOnWriteArrayList<>();
    List<RpcEvent> notified = new CopyOnWriteArrayList<>();
    a.frameHandler(forwarded::add).notificationHandler(notified::add);
    b.handler("never", e -> Promise.<Buffer>promise().future());
    a.timeout(0);

    Future<Buffer> pendingCall = a.call("b", "never", null);
    long id = ((RpcFrames.Request) parsedSentBy("a").get(0)).callId();
    // replies for other ids, sent raw by b's transport
    await(cb.send("a", RpcFrames.reply(id + 1, Buffer.buffer("wrong")), QoS.PROCESSED));
    await(cb.send("a", RpcFrames.error(id + 2, (short) -1, null), QoS.PROCESSED));
    await(cb.send("a", RpcFrames.reply(0, null), QoS.PROCESSED));
    await(ca.barrier());
    assertThat(pendingCall.isComplete()).isFalse();
    assertThat(a.pendingCalls()).isEqualTo(1);
    assertThat(forwarded).isEmpty();
    assertThat(notified).isEmpty();
    assertThat(bus.sentBy("a")).hasSize(1);

    // the right id completes it
    await(cb.send("a", RpcFrames.reply(id, Buffer.buffer("right")), QoS.PROCESSED));
    assertThat(await(pendingCall).toString()).isEqualTo("right");
    // a second reply for the same id is now unknown and dropped
    await(cb.send("a", RpcFrames.reply(id, Buffer.buffer("again")), QoS.PROCESSED));
    await(ca.barrier());
    assertThat(a.pendingCalls()).isZero();
  }

  /**
   * Malformed RPC payloads are dropped; a malformed request whose call id could be read (no
   * method terminator, a method that is not UTF-8) is answered -32600 (issue 17).
   */
  @Test
  void malformedDirectMessagesAreDropped() throws Exception {
    List<Frame> forwarded = new CopyOnWriteArrayList<>();
    List<RpcEvent> seen = new CopyOnWriteArrayList<>();
    a.frameHandler(forwarded::add).notificationHandler(seen::add);
    a.handler("test", RpcHandler.sync(e -> {
      seen.add(e);
      return null;
    }));
    for (String bad : List.of("", "01", "01 01 00 00", "01 01 00 00 00",
        "01 01 00 00 00 74 65 73 74", "11 01 00", "12 01 00 00 00 a7", "05 01", "ff")) {
      await(cb.send("a", bad.isEmpty() ? Buffer.buffer() : hex(bad), QoS.PROCESSED));
    }
    await(cb.send("a", hex("01 02 00 00 00 ff fe 00"), QoS.PROCESSED));
    await(ca.barrier());
    assertThat(bus.sentBy("a")).hasSize(2);
    RpcFrames.ErrorReply e1 = (RpcFrames.ErrorReply) RpcFrames.parse(bus.sentBy("a").get(0)
        .payload());
    RpcFrames.ErrorReply e2 = (RpcFrames.ErrorReply) RpcFrames.parse(bus.sentBy("a").get(1)
        .payload());
    assertThat(e1.callId()).isEqualTo(1);
    assertThat(e1.code()).isEqualTo(RpcErrorCode.INVALID_REQUEST);
    assertThat(e2.callId()).isEqualTo(2);
    assertThat(e2.code()).isEqualTo(RpcErrorCode.INVALID_REQUEST);
    assertThat(e2.data().toString()).contains("not valid UTF-8");
    assertThat(forwarded).isEmpty();
    assertThat(seen).isEmpty();
    // b has taken the two error replies (for calls it never made) before it calls
    await(cb.barrier());
    // still working
    assertThat(await(b.call("a", "test", null)).length()).isZero();
  }

  @Test
  void broadcastsAndPublicationsAreNeverRpc() throws Exception {
    List<RpcEvent> handled = new CopyOnWriteArrayList<>();
    a.handler("test", RpcHandler.sync(e -> {
      handled.add(e);
      return null;
    }));
    a.notificationHandler(handled::add);
    Buffer looksLikeRpc = RpcFrames.request(1, "test", null);

    // without a frame handler they are dropped
    await(ca.subscribe("t"));
    await(cb.publish("t", looksLikeRpc, QoS.PROCESSED));
    await(ca.barrier());

    List<Frame> forwarded = new CopyOnWriteArrayList<>();
    a.frameHandler(forwarded::add);
    await(cb.publish("t", looksLikeRpc, QoS.PROCESSED));
    await(cb.broadcast("a", RpcFrames.notification(null), QoS.REALTIME));
    await(ca.barrier());

    assertThat(handled).isEmpty();
    assertThat(bus.sentBy("a")).isEmpty();
    assertThat(forwarded).hasSize(2);
    assertThat(forwarded.get(0).kind()).isEqualTo(FrameKind.PUBLISH);
    assertThat(forwarded.get(0).topic()).isEqualTo("t");
    assertThat(forwarded.get(0).payload()).isEqualTo(looksLikeRpc);
    assertThat(forwarded.get(1).kind()).isEqualTo(FrameKind.BROADCAST);
    assertThat(forwarded.get(1).realtime()).isTrue();
  }

  // ---------------------------------------------------------------- call ids

  @Test
  void callIdWrapsAndNeverIsZero() throws Exception {
    a.setLastCallId(0xFFFF_FFFEL);
    for (int i = 0; i < 3; i++) {
      assertThat(await(a.call("b", "ping", null)).toString()).isEqualTo("pong");
    }
    a.setLastCallId(0xFFFF_FFFFL);
    await(a.call("b", "ping", null));
    List<Long> ids = new ArrayList<>();
    for (RpcFrames.Parsed p : parsedSentBy("a")) {
      ids.add(((RpcFrames.Request) p).callId());
    }
    assertThat(ids).containsExactly(0xFFFF_FFFFL, 1L, 2L, 1L);
  }

  @Test
  void callIdSkipsIdsStillPending() throws Exception {
    b.handler("never", e -> Promise.<Buffer>promise().future());
    a.timeout(0);
    a.setLastCallId(0);
    Future<Buffer> stuck = a.call("b", "never", null); // id 1
    a.setLastCallId(0);
    await(a.call("b", "ping", null)); // 1 is taken: id 2
    List<RpcFrames.Parsed> sent = parsedSentBy("a");
    assertThat(((RpcFrames.Request) sent.get(0)).callId()).isEqualTo(1);
    assertThat(((RpcFrames.Request) sent.get(1)).callId()).isEqualTo(2);
    assertThat(stuck.isComplete()).isFalse();
  }

  // ---------------------------------------------------------------- realtime

  @Test
  void realtimeRequestGetsAQos3Reply() throws Exception {
    AtomicReference<RpcEvent> seen = new AtomicReference<>();
    b.handler("rt", RpcHandler.sync(e -> {
      seen.set(e);
      return Buffer.buffer("r");
    }));
    b.handler("rtFail", RpcHandler.sync(e -> {
      throw new IllegalStateException("x");
    }));
    await(a.call("b", "rt", null, QoS.REALTIME_PROCESSED));
    assertThat(seen.get().realtime()).isTrue();
    await(a.call("b", "rt", null, QoS.REALTIME));
    awaitRpcFailure(a.call("b", "rtFail", null, QoS.REALTIME_PROCESSED));
    await(a.call("b", "rt", null, QoS.NO));

    List<FakeBus.Sent> fromA = bus.sentBy("a");
    assertThat(fromA).extracting(FakeBus.Sent::qos).containsExactly(QoS.REALTIME_PROCESSED,
        QoS.REALTIME, QoS.REALTIME_PROCESSED, QoS.NO);
    List<FakeBus.Sent> fromB = bus.sentBy("b");
    assertThat(fromB).extracting(FakeBus.Sent::qos).containsExactly(QoS.REALTIME_PROCESSED,
        QoS.REALTIME_PROCESSED, QoS.REALTIME_PROCESSED, QoS.PROCESSED);
  }

  // ---------------------------------------------------------------- close, threads

  @Test
  void closeFailsPendingCallsAndLaterCalls() throws Exception {
    b.handler("never", e -> Promise.<Buffer>promise().future());
    a.timeout(0);
    Future<Buffer> p1 = a.call("b", "never", null);
    Future<Buffer> p2 = a.call("b", "never", null);
    assertThat(a.pendingCalls()).isEqualTo(2);
    await(a.close());
    assertThat(awaitRpcFailure(p1).code()).isEqualTo(RpcErrorCode.BUS_IO);
    assertThat(awaitRpcFailure(p2).dataAsString()).isEqualTo("rpc client closed");
    assertThat(a.pendingCalls()).isZero();
    assertThat(ca.isConnected()).isFalse();
    assertThat(awaitRpcFailure(a.call("b", "ping", null)).code()).isEqualTo(RpcErrorCode.BUS_IO);
    assertThat(awaitRpcFailure(a.call0("b", "ping", null)).code())
        .isEqualTo(RpcErrorCode.BUS_IO);
    assertThat(awaitRpcFailure(a.notify("b", null)).code()).isEqualTo(RpcErrorCode.BUS_IO);
  }

  @Test
  void methodWithNulIsRefused() throws Exception {
    assertThat(a.call("b", "a\0b", null).cause()).isInstanceOf(IllegalArgumentException.class);
    assertThat(a.call0("b", "a\0b", null).cause()).isInstanceOf(IllegalArgumentException.class);
    assertThat(bus.sentBy("a")).isEmpty();
    assertThat(a.pendingCalls()).isZero();
  }

  @Test
  void concurrentCallsFromManyThreads() throws Exception {
    int threads = 8;
    int perThread = 250;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<java.util.concurrent.Future<List<String>>> jobs = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int tt = t;
        jobs.add(pool.submit(() -> {
          List<Future<Buffer>> calls = new ArrayList<>();
          for (int i = 0; i < perThread; i++) {
            calls.add(a.call("b", "echo", Buffer.buffer(tt + ":" + i)));
          }
          List<String> results = new ArrayList<>();
          for (Future<Buffer> f : calls) {
            results.add(await(f).toString());
          }
          return results;
        }));
      }
      for (int t = 0; t < threads; t++) {
        List<String> results = jobs.get(t).get(60, TimeUnit.SECONDS);
        for (int i = 0; i < perThread; i++) {
          assertThat(results.get(i)).isEqualTo(t + ":" + i);
        }
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(a.pendingCalls()).isZero();
    assertThat(parsedSentBy("a")).extracting(p -> ((RpcFrames.Request) p).callId())
        .doesNotHaveDuplicates().doesNotContain(0L).hasSize(threads * perThread);
  }
}
