package dev.elbus.client;

import static dev.elbus.client.ClientTestSupport.TIMEOUT_S;
import static dev.elbus.client.ClientTestSupport.await;
import static dev.elbus.client.ClientTestSupport.failureCode;
import static dev.elbus.support.RawClient.bytes;
import static dev.elbus.support.RawClient.concat;
import static dev.elbus.support.RawClient.hex;
import static dev.elbus.support.RawClient.le16;
import static dev.elbus.support.RawClient.le32;
import static dev.elbus.support.RawClient.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.elbus.client.ClientTestSupport.Inbox;
import dev.elbus.protocol.QoS;
import dev.elbus.support.LeakGate;
import dev.elbus.support.TestBroker;
import dev.elbus.support.Transport;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * The write path of {@link NetworkClient}: frames gathered per event-loop turn from the context
 * and handed over from other threads, in call order, with the right op ids; many acks in flight
 * in any order; the write queue's bound and drain; payloads beyond one write batch; UTF-8 names.
 */
@ExtendWith(LeakGate.class)
class NetworkClientWritesIT {
  private static final byte[] GREETING = hex("EB 01 00");

  @RegisterExtension
  static final ClientTestSupport clients = new ClientTestSupport(TestBroker::start);

  private static void handshake(FakeBroker.Peer p, String name) throws Exception {
    p.send(GREETING).expect(GREETING).send(bytes(0x01));
    p.expect(concat(le16(utf8(name).length), utf8(name))).send(bytes(0x01));
  }

  private static byte[] clientFrame(int opId, int flags, byte[] body) {
    return concat(le32(opId), bytes(flags), le32(body.length), body);
  }

  private static byte[] ack(int opId, int code) {
    return concat(hex("FE"), le32(opId), bytes(code));
  }

  /** Runs {@code f} on {@code c}'s context (reached through a flush callback). */
  private static <T> Future<T> onContext(NetworkClient c, Supplier<Future<T>> f) {
    Promise<T> p = Promise.promise();
    c.flush().onComplete(ar -> f.get().onComplete(p));
    return p.future();
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void whatOtherThreadsSentPrecedesWhatTheContextWritesAfterwards(Transport t) throws Exception {
    CountDownLatch called = new CountDownLatch(1);
    try (FakeBroker fake = FakeBroker.start(t, p -> {
      handshake(p, "order");
      p.expect(new byte[9]); // the ping
      p.expect(clientFrame(1, 0x12, concat(utf8("t"), bytes(0), utf8("a"))));
      p.expect(clientFrame(2, 0x01 | 0x40, concat(utf8("top"), bytes(0), utf8("b"))));
      p.expect(clientFrame(3, 0x12 | 0x80, concat(utf8("t"), bytes(0), utf8("c"))));
      p.expect(clientFrame(4, 0x02, utf8("s/#")));
      p.expect(clientFrame(5, 0x12, concat(utf8("t"), bytes(0), utf8("d"))));
      p.send(ack(2, 0x01));
      p.expectEof();
    })) {
      NetworkClient c = clients.track(await(NetworkClient.connect(clients.vertx, fake.path(),
          "order")));
      await(c.ping()); // nine zero bytes, then the flush
      AtomicReference<Future<Void>> b = new AtomicReference<>();
      CompletableFuture<Void> onLoop = new CompletableFuture<>();
      c.flush().onComplete(ar -> {
        // on the context, while the test thread hands a and b over: the drain task is queued
        // behind this one, yet c and the subscription must follow them on the wire
        try {
          assertThat(called.await(TIMEOUT_S, TimeUnit.SECONDS)).isTrue();
          c.send("t", Buffer.buffer("c"), QoS.REALTIME);
          c.subscribe(List.of("s/#"), QoS.NO);
          onLoop.complete(null);
        } catch (Throwable e) {
          onLoop.completeExceptionally(e);
        }
      });
      Future<Void> a = c.send("t", Buffer.buffer("a"), QoS.NO);
      b.set(c.publish("top", Buffer.buffer("b"), QoS.PROCESSED));
      called.countDown();
      onLoop.get(TIMEOUT_S, TimeUnit.SECONDS);
      assertThat(a.isComplete()).as("a QoS 0 frame is accepted at once").isTrue();
      c.send("t", Buffer.buffer("d"), QoS.NO);
      await(b.get());
      await(c.close());
      fake.awaitScript();
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void thousandsOfAcksInFlightCompleteInAnyOrder(Transport t) throws Exception {
    int n = 3_000;
    try (FakeBroker fake = FakeBroker.start(t, p -> {
      handshake(p, "many");
      for (int i = 1; i <= n; i++) {
        p.expect(clientFrame(i, 0x12 | 0x40, concat(utf8("t"), bytes(0), le32(i))));
      }
      // acks in reverse order; every seventh refused
      for (int i = n; i >= 1; i--) {
        p.send(ack(i, i % 7 == 0 ? 0x77 : 0x01));
      }
      p.expectEof();
    })) {
      NetworkClient c = clients.track(await(NetworkClient.connect(clients.vertx, fake.path(),
          "many")));
      List<Future<Void>> acks = await(onContext(c, () -> {
        List<Future<Void>> fs = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
          fs.add(c.send("t", Buffer.buffer(le32(i)), QoS.PROCESSED));
        }
        return Future.succeededFuture(fs);
      }));
      for (int i = 1; i <= n; i++) {
        if (i % 7 == 0) {
          assertThat(failureCode(acks.get(i - 1))).as("op %d", i).isEqualTo(0x77);
        } else {
          await(acks.get(i - 1));
        }
      }
      await(c.close());
      fake.awaitScript();
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void aFullWriteQueueDrainsWhenThePeerReads(Transport t) throws Exception {
    int size = 8 * 1024;
    int n = 8 * 1024; // 64 MiB: more than both ends' socket buffers can hold
    CompletableFuture<Void> fullOnce = new CompletableFuture<>();
    try (FakeBroker fake = FakeBroker.start(t, p -> {
      handshake(p, "full");
      fullOnce.get(TIMEOUT_S, TimeUnit.SECONDS); // read nothing until the queue was full
      for (int i = 1; i <= n; i++) {
        ByteBuffer b = ByteBuffer.wrap(p.read(9 + 2 + size)).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(b.getInt(0)).as("op id").isEqualTo(i);
        assertThat(b.getInt(11)).as("sequence").isEqualTo(i);
      }
      p.expectEof();
    })) {
      NetworkClient c = clients.track(await(NetworkClient.connect(clients.vertx, fake.path(),
          "full", new ClientOptions().setWriteQueueMaxSize(64 * 1024))));
      Promise<Void> sentAll = Promise.promise();
      AtomicInteger fulls = new AtomicInteger();
      AtomicInteger drains = new AtomicInteger();
      Runnable pump = new Runnable() { // on the context: sends until full, resumed by the drain
        final byte[] payload = new byte[size];
        int i;

        @Override
        public void run() {
          while (i < n) {
            if (c.writeQueueFull()) {
              fulls.incrementAndGet();
              fullOnce.complete(null);
              return;
            }
            i++;
            ByteBuffer.wrap(payload).order(ByteOrder.LITTLE_ENDIAN).putInt(0, i);
            c.send("t", Buffer.buffer(payload), QoS.NO); // copied at call time
          }
          sentAll.tryComplete();
        }
      };
      c.drainHandler(v -> {
        drains.incrementAndGet();
        pump.run();
      });
      await(onContext(c, () -> {
        pump.run();
        return Future.succeededFuture();
      }));
      await(sentAll.future());
      await(c.flush());
      assertThat(fulls.get()).as("times the queue was full").isPositive();
      assertThat(drains.get()).isEqualTo(fulls.get());
      await(c.close());
      fake.awaitScript();
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void payloadsBeyondOneWriteBatchAndUtf8NamesArriveIntact(Transport t) throws Exception {
    String topic = t.qualify("température/温度/a");
    NetworkClient pub = clients.connect(t, t.qualify("größe-pub"));
    NetworkClient sub = clients.connect(t, t.qualify("größe-sub"));
    Inbox in = Inbox.of(sub);
    await(sub.subscribe(List.of(t.qualify("température/温度/#")), QoS.PROCESSED));
    byte[] big = new byte[OutboundBuffer.WRITE_BATCH * 16 + 1];
    new Random(7).nextBytes(big);
    byte[] mid = new byte[OutboundBuffer.WRITE_BATCH - 100];
    new Random(8).nextBytes(mid);

    // from the test thread: one frame beyond a batch
    await(pub.publish(topic, Buffer.buffer(big), QoS.PROCESSED));
    // on the context, in one turn: small frames, one that does not fit the batch, small again
    await(onContext(pub, () -> {
      for (int i = 0; i < 10; i++) {
        pub.publish(topic, Buffer.buffer("s" + i), QoS.NO);
      }
      pub.publish(topic, Buffer.buffer(mid), QoS.NO);
      pub.send(sub.name(), Buffer.buffer(big), QoS.NO);
      return pub.publish(topic, Buffer.buffer("last"), QoS.PROCESSED);
    }));

    Frame f = in.next();
    assertThat(f.topic()).isEqualTo(topic);
    assertThat(f.sender()).isEqualTo(t.qualify("größe-pub"));
    assertThat(f.payload().getBytes()).isEqualTo(big);
    for (int i = 0; i < 10; i++) {
      assertThat(in.next().payload().toString()).isEqualTo("s" + i);
    }
    assertThat(in.next().payload().getBytes()).isEqualTo(mid);
    Frame direct = in.next();
    assertThat(direct.kind()).isEqualTo(FrameKind.MESSAGE);
    assertThat(direct.payload().getBytes()).isEqualTo(big);
    assertThat(in.next().payload().toString()).isEqualTo("last");
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void eachThreadsCallsArriveInCallOrder(Transport t) throws Exception {
    int threads = 4;
    int perThread = 1_500; // all in flight at once stay below the receiver's queue of 8192
    NetworkClient pub = clients.connect(t, t.qualify("threads-pub"));
    NetworkClient sub = clients.connect(t, t.qualify("threads-sub"));
    ConcurrentHashMap<Integer, Integer> last = new ConcurrentHashMap<>();
    AtomicReference<String> error = new AtomicReference<>();
    CountDownLatch all = new CountDownLatch(threads * perThread);
    sub.frameHandler(f -> {
      int th = f.payload().getInt(0);
      int seq = f.payload().getInt(4);
      Integer prev = last.put(th, seq);
      if (seq != (prev == null ? 0 : prev + 1)) {
        error.compareAndSet(null, "thread " + th + ": " + seq + " after " + prev);
      }
      all.countDown();
    });
    AtomicInteger failed = new AtomicInteger();
    List<Thread> ts = new ArrayList<>();
    for (int i = 0; i < threads; i++) {
      int th = i;
      Thread x = new Thread(() -> {
        for (int seq = 0; seq < perThread; seq++) {
          QoS q = seq % 100 == 99 ? QoS.PROCESSED : QoS.NO;
          pub.send(sub.name(), Buffer.buffer().appendInt(th).appendInt(seq), q)
              .onFailure(e -> failed.incrementAndGet());
        }
      });
      ts.add(x);
      x.start();
    }
    for (Thread x : ts) {
      x.join(TimeUnit.SECONDS.toMillis(TIMEOUT_S));
    }
    assertThat(all.await(TIMEOUT_S, TimeUnit.SECONDS))
        .as("all received (error: %s)", error.get()).isTrue();
    assertThat(error.get()).isNull();
    assertThat(failed.get()).isZero();
  }
}
