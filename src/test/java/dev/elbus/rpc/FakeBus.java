package dev.elbus.rpc;

import dev.elbus.client.ElbusClient;
import dev.elbus.client.ElbusException;
import dev.elbus.client.Frame;
import dev.elbus.client.FrameKind;
import dev.elbus.protocol.Protocol;
import dev.elbus.protocol.QoS;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;

/**
 * A unit-test transport: in-memory {@link ElbusClient}s that route direct messages between each
 * other by name, with no broker and no sockets. A send to an unknown name fails with 0x71 (not
 * registered), whatever the QoS, as an acked send to a real broker would. Every send attempt is
 * recorded (sender, target, payload, QoS) so tests can check what went on the wire.
 *
 * <p>Delivery is asynchronous by default: each client has its own Vert.x event-loop context and
 * receives its frames there, in order, as an in-process client of the broker does. With {@code
 * sync = true} frames are delivered on the sender's thread before {@code send} returns, which
 * exercises reentrancy (a reply that arrives before {@code call} has returned).
 *
 * <p>Broadcasts go to every client whose name equals the mask (or to all for {@code *});
 * publications to every client subscribed to exactly that topic. The real routing rules are
 * tested elsewhere; this only lets tests produce broadcast and publication frames.
 */
final class FakeBus {
  /** One recorded send. */
  record Sent(String from, String target, Buffer payload, QoS qos) {}

  private final Vertx vertx;
  private final boolean sync;
  private final Map<String, FakeClient> clients = new ConcurrentHashMap<>();
  private final List<Sent> sent = new CopyOnWriteArrayList<>();

  FakeBus(Vertx vertx, boolean sync) {
    this.vertx = vertx;
    this.sync = sync;
  }

  /** Registers a client named {@code name}. */
  FakeClient client(String name) {
    FakeClient c = new FakeClient(name, vertx.getOrCreateContext());
    if (clients.putIfAbsent(name, c) != null) {
      throw new ElbusException(Protocol.ERR_BUSY);
    }
    return c;
  }

  /** Every direct message {@code name} tried to send, in order. */
  List<Sent> sentBy(String name) {
    return sent.stream().filter(s -> s.from().equals(name)).collect(Collectors.toList());
  }

  /** An in-memory client. */
  final class FakeClient implements ElbusClient {
    private final String name;
    private final Context context;
    private final Set<String> topics = ConcurrentHashMap.newKeySet();
    private volatile Handler<Frame> handler;
    private volatile boolean connected = true;

    private FakeClient(String name, Context context) {
      this.name = name;
      this.context = context;
    }

    @Override
    public String name() {
      return name;
    }

    /** Delivers {@code f} to this client's handler (on its context unless the bus is sync). */
    void deliver(Frame f) {
      if (sync) {
        dispatch(f);
      } else {
        context.runOnContext(v -> dispatch(f));
      }
    }

    private void dispatch(Frame f) {
      Handler<Frame> h = handler;
      if (h != null && connected) {
        h.handle(f);
      }
    }

    /** Completes on this client's context after every frame delivered to it so far. */
    Future<Void> barrier() {
      Promise<Void> p = Promise.promise();
      context.runOnContext(v -> p.complete());
      return p.future();
    }

    @Override
    public Future<Void> send(String target, Buffer payload, QoS qos) {
      if (!connected) {
        return Future.failedFuture(new ElbusException(Protocol.ERR_CLIENT_NOT_REGISTERED));
      }
      Buffer copy = payload.copy();
      sent.add(new Sent(name, target, copy, qos));
      FakeClient t = clients.get(target);
      if (t == null) {
        return Future.failedFuture(new ElbusException(Protocol.ERR_CLIENT_NOT_REGISTERED));
      }
      t.deliver(new Frame(FrameKind.MESSAGE, name, null, copy, qos.isRealtime()));
      return Future.succeededFuture();
    }

    @Override
    public Future<Void> broadcast(String mask, Buffer payload, QoS qos) {
      for (FakeClient c : clients.values()) {
        if (mask.equals("*") || mask.equals(c.name)) {
          c.deliver(new Frame(FrameKind.BROADCAST, name, null, payload.copy(), qos.isRealtime()));
        }
      }
      return Future.succeededFuture();
    }

    @Override
    public Future<Void> publish(String topic, Buffer payload, QoS qos) {
      for (FakeClient c : clients.values()) {
        if (c.topics.contains(topic)) {
          c.deliver(new Frame(FrameKind.PUBLISH, name, topic, payload.copy(), qos.isRealtime()));
        }
      }
      return Future.succeededFuture();
    }

    @Override
    public Future<Void> subscribe(List<String> t, QoS qos) {
      topics.addAll(t);
      return Future.succeededFuture();
    }

    @Override
    public Future<Void> unsubscribe(List<String> t, QoS qos) {
      topics.removeAll(t);
      return Future.succeededFuture();
    }

    @Override
    public ElbusClient frameHandler(Handler<Frame> h) {
      this.handler = h;
      return this;
    }

    @Override
    public boolean isConnected() {
      return connected;
    }

    @Override
    public Future<Void> close() {
      connected = false;
      clients.remove(name, this);
      return Future.succeededFuture();
    }
  }
}
