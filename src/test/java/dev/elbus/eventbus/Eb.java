package dev.elbus.eventbus;

import dev.elbus.support.TestBroker;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Helpers for the event-bus integration tests. */
final class Eb {
  static final long TIMEOUT_S = 10;

  private Eb() {}

  /** A broker whose pings (every listener timeout) stay out of byte-exact reads. */
  static TestBroker broker() throws Exception {
    return TestBroker.start(1, l -> l.setTimeoutMs(60_000));
  }

  /** The Future's value; its failure cause is thrown as is. */
  static <T> T await(Future<T> f) throws Exception {
    try {
      return f.toCompletionStage().toCompletableFuture().get(TIMEOUT_S, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception ? (Exception) e.getCause() : e;
    }
  }

  /** The failure of {@code f} as a ReplyException (asserting it failed so). */
  static ReplyException failure(Future<?> f) throws Exception {
    try {
      f.toCompletionStage().toCompletableFuture().get(TIMEOUT_S, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof ReplyException) {
        return (ReplyException) e.getCause();
      }
      throw new AssertionError("expected a ReplyException, got " + e.getCause(), e.getCause());
    } catch (TimeoutException e) {
      throw new AssertionError("no reply in " + TIMEOUT_S + " s");
    }
    throw new AssertionError("expected a failure, got a success");
  }

  /** The ElbusException code a handle operation failed with. */
  static int failureCodeOf(Future<?> f) throws Exception {
    try {
      f.toCompletionStage().toCompletableFuture().get(TIMEOUT_S, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof dev.elbus.client.ElbusException) {
        return ((dev.elbus.client.ElbusException) e.getCause()).code();
      }
      throw new AssertionError("expected an ElbusException, got " + e.getCause(), e.getCause());
    }
    throw new AssertionError("expected a failure, got a success");
  }

  /** Request headers: {@code elbus.op}, {@code elbus.client}, then name/value pairs. */
  static DeliveryOptions req(String op, String client, String... kv) {
    DeliveryOptions o = new DeliveryOptions();
    if (op != null) {
      o.addHeader(EventBusHeaders.OP, op);
    }
    if (client != null) {
      o.addHeader(EventBusHeaders.CLIENT, client);
    }
    for (int i = 0; i < kv.length; i += 2) {
      o.addHeader(kv[i], kv[i + 1]);
    }
    return o;
  }

  /** Collects Buffer messages of one address. */
  static final class Inbox implements Handler<Message<Buffer>> {
    final LinkedBlockingQueue<Message<Buffer>> messages = new LinkedBlockingQueue<>();
    MessageConsumer<Buffer> consumer;

    static Inbox on(Vertx vertx, String address) throws Exception {
      Inbox in = new Inbox();
      in.consumer = vertx.eventBus().consumer(address, in);
      await(in.consumer.completion());
      return in;
    }

    @Override
    public void handle(Message<Buffer> m) {
      messages.add(m);
    }

    Message<Buffer> take() throws InterruptedException {
      Message<Buffer> m = messages.poll(TIMEOUT_S, TimeUnit.SECONDS);
      if (m == null) {
        throw new AssertionError("no event-bus message in " + TIMEOUT_S + " s");
      }
      return m;
    }

    void close() throws Exception {
      await(consumer.unregister());
    }
  }

  /** The headers of {@code m} without the flow-control stamp, as "name=value" lines. */
  static String headers(Message<?> m) {
    MultiMap h = m.headers();
    StringBuilder sb = new StringBuilder();
    h.names().stream().sorted().filter(n -> !n.equals(EventBusHeaders.FLOW))
        .forEach(n -> sb.append(n).append('=').append(String.join(",", h.getAll(n))).append('\n'));
    return sb.toString();
  }

  static Buffer buf(byte[] b) {
    return Buffer.buffer(b);
  }
}
