package dev.elbus.client;

import dev.elbus.impl.codec.BrokerStreamDecoder;
import dev.elbus.impl.codec.Buffers;
import dev.elbus.impl.codec.FrameEncoder;
import dev.elbus.impl.codec.ProtocolException;
import dev.elbus.impl.tls.TlsErrors;
import dev.elbus.protocol.Protocol;
import dev.elbus.protocol.QoS;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.collection.IntObjectHashMap;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.net.impl.NetClientBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An elbus client over TCP (with TLS for a {@code tls://} address) or a Unix domain socket
 * (PROTOCOL.md sections 1-5 and 7): it connects
 * with a Vert.x {@link NetClient}, runs the handshake, sends messages, broadcasts, publications
 * and subscriptions with a {@link QoS}, and hands incoming frames to a {@link #frameHandler}.
 *
 * <pre>{@code
 * NetworkClient.connect(vertx, "/tmp/elbus.sock", "app", new ClientOptions())
 *     .onSuccess(c -> c.frameHandler(f -> ...).send("other", Buffer.buffer("hi"), QoS.PROCESSED));
 * }</pre>
 *
 * <p>Each operation takes the next op id of a per-connection u32 counter (wrapping, never 0). With
 * an acked QoS ({@link QoS#PROCESSED}, {@link QoS#REALTIME_PROCESSED}) its Future completes on the
 * broker's ack {@code 01} and fails with {@link ElbusException} carrying any other code; without
 * an ack it completes once the frame is written to the socket. When the connection ends, every
 * pending operation fails with code {@code 73} (I/O).
 *
 * <p><b>Threading.</b> All connection state (socket, decoder, op id counter, pending acks, timers)
 * is confined to one Vert.x event-loop context: the caller's when {@code connect} is called on an
 * event-loop context of {@code vertx}, else a new one. Public methods may be called from any
 * thread: the frame is encoded on the calling thread (the payload is copied at call time) and
 * handed to the context, so calls from one thread are sent in call order. Futures complete, and
 * the frame and close handlers run, on that context.
 */
public final class NetworkClient implements ElbusClient {
  private static final Logger LOG = LoggerFactory.getLogger(NetworkClient.class);
  private static final ByteBufAllocator ALLOC = ByteBufAllocator.DEFAULT;

  private enum State { CONNECTING, HANDSHAKE, REGISTERED, CLOSED }

  private final Vertx vertx;
  private final ContextInternal context;
  private final Bind bind;
  private final String name;
  private final ClientOptions opts;
  private final AtomicInteger secondaryCounter = new AtomicInteger();
  private final Promise<NetworkClient> connectPromise;
  private final Promise<Void> closedPromise;

  private volatile Handler<Frame> frameHandler;
  private volatile boolean connected;

  // accessed only on the context
  private State state = State.CONNECTING;
  private boolean nameSent;
  private NetClient netClient;
  private NetSocketInternal socket;
  private BrokerStreamDecoder decoder;
  private int lastOpId;
  private final IntObjectHashMap<Promise<Void>> pending = new IntObjectHashMap<>();
  private long handshakeTimer = -1;
  private long pingTimer = -1;
  private Handler<Void> closeHandler;
  /** A TLS failure reported by the socket, for the close that follows it. */
  private Throwable tlsError;

  private NetworkClient(Vertx vertx, ContextInternal context, Bind bind, String name,
      ClientOptions opts) {
    this.vertx = vertx;
    this.context = context;
    this.bind = bind;
    this.name = name;
    this.opts = opts;
    this.connectPromise = context.promise();
    this.closedPromise = context.promise();
  }

  /** Connects with default {@link ClientOptions}. */
  public static Future<NetworkClient> connect(Vertx vertx, String path, String name) {
    return connect(vertx, path, name, new ClientOptions());
  }

  /**
   * Connects to the broker at {@code path} and registers as {@code name}.
   *
   * @param path by the elbusd rules: a path ending in {@code .sock}, {@code .socket}, {@code .ipc}
   *     or starting with {@code /} is a Unix socket, {@code tls://HOST:PORT} TCP with TLS ({@link
   *     ClientOptions}), anything else {@code HOST:PORT}
   * @return the registered client; fails with {@link ElbusException} carrying the broker's
   *     refusal code ({@code 76} busy, {@code 72} bad name, {@code 71} secondary without primary,
   *     {@code 79} access), {@code 75} for a peer that is not an elbus v1 broker, {@code 78} when
   *     the handshake exceeds the timeout, {@code 73} when the connection or its TLS handshake
   *     fails (the message says why: an untrusted or expired certificate, ...); with {@link
   *     IllegalArgumentException} for a malformed path or TLS settings without TLS
   */
  public static Future<NetworkClient> connect(Vertx vertx, String path, String name,
      ClientOptions opts) {
    Bind bind;
    try {
      bind = Bind.parse(path);
      if (bind.type() == Bind.Type.FIFO) {
        throw new IllegalArgumentException("cannot connect to a FIFO: " + path);
      }
      opts = tlsChecked(bind, opts);
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    VertxInternal vi = (VertxInternal) vertx;
    ContextInternal cur = vi.getContext();
    ContextInternal ctx = cur != null && cur.isEventLoopContext() && cur.owner() == vi
        ? cur : vi.createEventLoopContext();
    return connect(vertx, ctx, bind, name, new ClientOptions(opts));
  }

  /**
   * {@code opts} with TLS on for a {@code tls://} address; refuses TLS on a Unix socket and TLS
   * settings on a plain connection (they would be silently ignored).
   */
  private static ClientOptions tlsChecked(Bind bind, ClientOptions opts) {
    if (bind.isTls() || opts.isTls()) {
      if (bind.type() != Bind.Type.TCP) {
        throw new IllegalArgumentException("TLS is for TCP addresses, not " + bind);
      }
      return new ClientOptions(opts).setTls(true);
    }
    if (opts.hasTlsSettings()) {
      throw new IllegalArgumentException("TLS settings given for " + bind
          + ", which is not a tls://HOST:PORT address (nor is ClientOptions.setTls(true) set)");
    }
    return opts;
  }

  /** The TLS settings of {@code opts} on {@code no}: the handshake bounded by the timeout. */
  private static void tls(NetClientOptions no, ClientOptions opts) {
    no.setSsl(true).setSslHandshakeTimeout(opts.getTimeoutMs())
        .setSslHandshakeTimeoutUnit(TimeUnit.MILLISECONDS)
        .setHostnameVerificationAlgorithm(opts.isTlsHostnameVerification() ? "HTTPS" : "")
        .setTrustOptions(opts.getTlsTrustOptions())
        .setKeyCertOptions(opts.getTlsKeyCertOptions());
  }

  /** A failed TLS handshake with the broker, with the reason in one line. */
  private ElbusException tlsFailure(Throwable cause) {
    return new ElbusException(Protocol.ERR_IO, "TLS handshake with " + bind + " failed: "
        + TlsErrors.describe(cause, "the broker"), cause);
  }

  private static Future<NetworkClient> connect(Vertx vertx, ContextInternal ctx, Bind bind,
      String name, ClientOptions opts) {
    if (name.getBytes(StandardCharsets.UTF_8).length > Protocol.MAX_NAME_LENGTH) {
      return ctx.failedFuture(new ElbusException(Protocol.ERR_DATA, "client name is longer than "
          + Protocol.MAX_NAME_LENGTH + " bytes"));
    }
    NetworkClient c = new NetworkClient(vertx, ctx, bind, name, opts);
    c.onContext(c::start, () -> c.connectPromise.tryFail(
        new ElbusException(Protocol.ERR_IO, "Vert.x is closed")));
    return c.connectPromise.future();
  }

  // ---------------------------------------------------------------- connect and handshake

  private void start() {
    NetClientOptions no = new NetClientOptions().setTcpNoDelay(true)
        .setConnectTimeout((int) opts.getTimeoutMs());
    if (opts.isTls()) {
      tls(no, opts);
    }
    // Not vertx.createNetClient: Vert.x 5.0.x registers that client on its owner's close future
    // and never removes it, even after close() (eclipse-vertx/vert.x#6311), so a NetClient per
    // connection leaked about 1.3 KB per connection for the life of the Vert.x instance. Built
    // unregistered, it lives exactly as long as this connection, which closes it in shutdown().
    VertxInternal vi = (VertxInternal) vertx;
    netClient = new NetClientBuilder(vi, no)
        .metrics(vi.metrics() != null ? vi.metrics().createNetClientMetrics(no) : null)
        .build();
    handshakeTimer = context.setTimer(opts.getTimeoutMs(), id -> {
      handshakeTimer = -1;
      shutdown(new ElbusException(Protocol.ERR_TIMEOUT, "connect/handshake with " + bind
          + " not completed within " + opts.getTimeoutMs() + " ms"));
    });
    SocketAddress addr = bind.type() == Bind.Type.UNIX
        ? SocketAddress.domainSocketAddress(bind.path())
        : SocketAddress.inetSocketAddress(bind.port(), bind.host());
    netClient.connect(addr).onComplete(ar -> {
      if (ar.failed()) {
        shutdown(TlsErrors.isTls(ar.cause()) ? tlsFailure(ar.cause())
            : new ElbusException(Protocol.ERR_IO, "cannot connect to " + bind + ": "
                + ar.cause().getMessage(), ar.cause()));
        return;
      }
      NetSocketInternal so = (NetSocketInternal) ar.result();
      if (state != State.CONNECTING) {
        so.close(); // timed out meanwhile
        return;
      }
      socket = so;
      decoder = new BrokerStreamDecoder(so.channelHandlerContext().alloc(), new Inbound(),
          opts.getMaxFrameSize());
      state = State.HANDSHAKE;
      so.messageHandler(this::onMessage);
      so.exceptionHandler(t -> {
        // TLS 1.3: the broker checks a client certificate after the client's handshake is done
        // and answers a refusal with an alert, which arrives here before the close
        if (TlsErrors.isTls(t) && tlsError == null) {
          tlsError = t;
        }
        LOG.debug("elbus client {}: {}", name, t.toString());
      });
      so.closeHandler(v -> shutdown(state != State.REGISTERED && tlsError != null
          ? tlsFailure(tlsError) : new ElbusException(Protocol.ERR_IO,
          state == State.REGISTERED ? "connection closed" : "connection closed during handshake")));
    });
  }

  /** Raw socket input: Netty buffers owned by us, handed to the decoder (which releases them). */
  private void onMessage(Object msg) {
    if (!(msg instanceof ByteBuf)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    try {
      decoder.feed((ByteBuf) msg);
    } catch (ProtocolException e) {
      LOG.warn("elbus client {}: protocol error from {}: {}", name, bind, e.getMessage());
      shutdown(new ElbusException(Protocol.ERR_DATA, "protocol error: " + e.getMessage()));
    }
  }

  /** Decoded broker output; called on the context. */
  private final class Inbound implements BrokerStreamDecoder.Listener {
    @Override
    public void onGreeting(int greeting, int version) {
      if (greeting != Protocol.GREETING || version != Protocol.VERSION) {
        shutdown(new ElbusException(Protocol.ERR_NOT_SUPPORTED, String.format(
            "%s is not an elbus v1 broker (greeting %02x, version %d)", bind, greeting, version)));
        return;
      }
      socket.writeMessage(FrameEncoder.clientHello(ALLOC));
    }

    @Override
    public void onResponse(int code) {
      if (code != Protocol.RESPONSE_OK) {
        shutdown(new ElbusException(code, (nameSent ? "registration of '" + name + "' refused: "
            : "protocol greeting refused: ") + Protocol.codeName(code)));
      } else if (!nameSent) {
        nameSent = true;
        socket.writeMessage(FrameEncoder.clientName(ALLOC, name.getBytes(StandardCharsets.UTF_8)));
      } else {
        registered();
      }
    }

    @Override
    public void onPing() {
      // the broker's keep-alive: nothing to do
    }

    @Override
    public void onAck(int opId, int code) {
      Promise<Void> p = pending.remove(opId);
      if (p == null) {
        LOG.debug("elbus client {}: ack for unknown op id {}", name, opId);
      } else if (code == Protocol.RESPONSE_OK) {
        p.tryComplete();
      } else {
        p.tryFail(new ElbusException(code));
      }
    }

    @Override
    public void onFrame(int type, boolean realtime, ByteBuf body) {
      // parsed even without a handler: a malformed frame is a protocol error either way
      Frame f = Frame.parse(type, realtime, body);
      Handler<Frame> h = frameHandler;
      if (h == null) {
        return;
      }
      try {
        h.handle(f);
      } catch (RuntimeException e) {
        LOG.warn("elbus client {}: frame handler failed on {}", name, f, e);
      }
    }
  }

  private void registered() {
    cancelTimer(handshakeTimer);
    handshakeTimer = -1;
    state = State.REGISTERED;
    connected = true;
    if (opts.getPingIntervalMs() > 0) {
      pingTimer = context.setPeriodic(opts.getPingIntervalMs(), id -> {
        if (state == State.REGISTERED) {
          socket.writeMessage(FrameEncoder.clientPing(ALLOC));
        }
      });
    }
    connectPromise.tryComplete(this);
  }

  /**
   * Ends the connection once: fails the connect (if still running) and every pending operation,
   * closes the socket and the NetClient, then completes {@link #closeFuture}. On the context.
   */
  private void shutdown(ElbusException cause) {
    if (state == State.CLOSED) {
      return;
    }
    State was = state;
    state = State.CLOSED;
    connected = false;
    cancelTimer(handshakeTimer);
    cancelTimer(pingTimer);
    handshakeTimer = -1;
    pingTimer = -1;
    if (decoder != null) {
      decoder.stop();
    }
    connectPromise.tryFail(cause);
    if (!pending.isEmpty()) {
      List<Promise<Void>> ps = new ArrayList<>(pending.values());
      pending.clear();
      ElbusException io = new ElbusException(Protocol.ERR_IO, "connection closed");
      for (Promise<Void> p : ps) {
        p.tryFail(io);
      }
    }
    Future<Void> closing = socket != null ? socket.close() : context.succeededFuture();
    closing.transform(ar -> netClient != null ? netClient.close() : context.succeededFuture())
        .onComplete(ar -> closedPromise.tryComplete());
    Handler<Void> h = closeHandler;
    if (was == State.REGISTERED && h != null) {
      try {
        h.handle(null);
      } catch (RuntimeException e) {
        LOG.warn("elbus client {}: close handler failed", name, e);
      }
    }
  }

  private void cancelTimer(long id) {
    if (id >= 0) {
      vertx.cancelTimer(id);
    }
  }

  // ---------------------------------------------------------------- operations

  @Override
  public String name() {
    return name;
  }

  @Override
  public Future<Void> send(String target, Buffer payload, QoS qos) {
    return keyed(Protocol.OP_MESSAGE, target, payload, qos);
  }

  @Override
  public Future<Void> broadcast(String mask, Buffer payload, QoS qos) {
    return keyed(Protocol.OP_BROADCAST, mask, payload, qos);
  }

  @Override
  public Future<Void> publish(String topic, Buffer payload, QoS qos) {
    return keyed(Protocol.OP_PUBLISH, topic, payload, qos);
  }

  @Override
  public Future<Void> subscribe(List<String> topics, QoS qos) {
    return list(Protocol.OP_SUBSCRIBE, topics, qos);
  }

  @Override
  public Future<Void> unsubscribe(List<String> topics, QoS qos) {
    return list(Protocol.OP_UNSUBSCRIBE, topics, qos);
  }

  @Override
  public Future<Void> exclude(List<String> topics, QoS qos) {
    return list(Protocol.OP_EXCLUDE, topics, qos);
  }

  @Override
  public Future<Void> unexclude(List<String> topics, QoS qos) {
    return list(Protocol.OP_UNEXCLUDE, topics, qos);
  }

  @Override
  public Future<Void> publishFor(String topic, String receiver, Buffer payload, QoS qos) {
    if (receiver.indexOf('\0') >= 0) {
      return context.failedFuture(new ElbusException(Protocol.ERR_DATA,
          "publish-for receiver contains a NUL character"));
    }
    Buffer tail = Buffer.buffer(receiver).appendByte((byte) 0);
    if (payload != null) {
      tail.appendBuffer(payload);
    }
    return keyed(Protocol.OP_PUBLISH_FOR, topic, tail, qos);
  }

  /** Sends a ping (nine zero bytes); completes when it is written. */
  public Future<Void> ping() {
    return submit(FrameEncoder.clientPing(ALLOC), false, false);
  }

  private Future<Void> keyed(int op, String key, Buffer payload, QoS qos) {
    if (key.indexOf('\0') >= 0) {
      return context.failedFuture(new ElbusException(Protocol.ERR_DATA,
          Protocol.opName(op) + " target contains a NUL character"));
    }
    ByteBuf p = Buffers.byteBuf(payload);
    ByteBuf frame = FrameEncoder.clientFrame(ALLOC, 0, op, qos,
        key.getBytes(StandardCharsets.UTF_8), p);
    return submit(frame, true, qos.needsAck());
  }

  private Future<Void> list(int op, List<String> topics, QoS qos) {
    if (topics.isEmpty()) {
      return context.failedFuture(new ElbusException(Protocol.ERR_DATA,
          Protocol.opName(op) + " needs at least one topic"));
    }
    byte[][] items = new byte[topics.size()][];
    for (int i = 0; i < items.length; i++) {
      String t = topics.get(i);
      if (t.indexOf('\0') >= 0) {
        return context.failedFuture(new ElbusException(Protocol.ERR_DATA,
            "topic contains a NUL character"));
      }
      items[i] = t.getBytes(StandardCharsets.UTF_8);
    }
    return submit(FrameEncoder.clientList(ALLOC, 0, op, qos, items), true, qos.needsAck());
  }

  /** Hands an encoded frame (op id 0) to the context; takes ownership of {@code frame}. */
  private Future<Void> submit(ByteBuf frame, boolean numbered, boolean ack) {
    Promise<Void> p = context.promise();
    onContext(() -> write(frame, numbered, ack, p), () -> {
      frame.release();
      p.tryFail(new ElbusException(Protocol.ERR_IO, "Vert.x is closed"));
    });
    return p.future();
  }

  private void write(ByteBuf frame, boolean numbered, boolean ack, Promise<Void> p) {
    if (state != State.REGISTERED) {
      frame.release();
      p.tryFail(new ElbusException(Protocol.ERR_IO, "client " + name + " is not connected"));
      return;
    }
    if (!numbered) {
      socket.writeMessage(frame).onComplete(ar -> written(ar.cause(), p));
      return;
    }
    int id = nextOpId();
    frame.setIntLE(0, id);
    if (!ack) {
      socket.writeMessage(frame).onComplete(ar -> written(ar.cause(), p));
      return;
    }
    pending.put(id, p);
    socket.writeMessage(frame).onFailure(t -> {
      Promise<Void> q = pending.remove(id);
      if (q != null) {
        written(t, q);
      }
    });
  }

  private static void written(Throwable failure, Promise<Void> p) {
    if (failure == null) {
      p.tryComplete();
    } else {
      p.tryFail(failure instanceof ElbusException ? failure
          : new ElbusException(Protocol.ERR_IO, "write failed: " + failure.getMessage(), failure));
    }
  }

  /** The next op id: a wrapping u32 counter that skips 0 and ids still waiting for an ack. */
  private int nextOpId() {
    int id;
    do {
      id = ++lastOpId;
    } while (id == 0 || pending.containsKey(id));
    return id;
  }

  /** Runs {@code task} on the context: at once when already there, else queued in call order. */
  private void onContext(Runnable task, Runnable rejected) {
    if (context.inThread()) {
      task.run();
      return;
    }
    try {
      context.runOnContext(v -> task.run());
    } catch (RuntimeException e) { // RejectedExecutionException: the event loop is gone
      rejected.run();
    }
  }

  // ---------------------------------------------------------------- secondaries, lifecycle

  /**
   * Registers a secondary client {@code NAME%%N} of this client's primary name on a new connection
   * to the same broker, with the same options and context. {@code N} is this client's counter,
   * starting at 1; a busy name ({@code 76}) is skipped for the next, up to {@link
   * ClientOptions#getSecondaryAttempts} names.
   */
  public Future<NetworkClient> registerSecondary() {
    int sep = name.indexOf(Protocol.SECONDARY_SEP);
    String primary = sep < 0 ? name : name.substring(0, sep);
    return trySecondary(primary, opts.getSecondaryAttempts());
  }

  private Future<NetworkClient> trySecondary(String primary, int attemptsLeft) {
    String n = primary + Protocol.SECONDARY_SEP + secondaryCounter.incrementAndGet();
    return connect(vertx, context, bind, n, opts).recover(t -> {
      if (t instanceof ElbusException && ((ElbusException) t).code() == Protocol.ERR_BUSY
          && attemptsLeft > 1) {
        return trySecondary(primary, attemptsLeft - 1);
      }
      return Future.failedFuture(t);
    });
  }

  /**
   * Sets the handler of incoming messages, broadcasts and publications (broker pings are not
   * passed on); it runs on the client's context. Frames arriving while no handler is set are
   * dropped: set it before anyone may send to this client, e.g. in an {@code onSuccess} attached
   * to the connect Future, which runs on the context before any frame after the registration is
   * decoded.
   */
  @Override
  public NetworkClient frameHandler(Handler<Frame> handler) {
    this.frameHandler = handler;
    return this;
  }

  /**
   * Sets the handler called once, on the context, when the registered connection ends (closed by
   * either side or lost); called at once if it has already ended.
   */
  public NetworkClient closeHandler(Handler<Void> handler) {
    onContext(() -> {
      if (state == State.CLOSED) {
        handler.handle(null);
      } else {
        closeHandler = handler;
      }
    }, () -> { });
    return this;
  }

  /** Completes when the connection has ended and its socket is closed. */
  public Future<Void> closeFuture() {
    return closedPromise.future();
  }

  @Override
  public boolean isConnected() {
    return connected;
  }

  /** Closes the connection (unregistering this client); completes when the socket is closed. */
  @Override
  public Future<Void> close() {
    onContext(() -> shutdown(new ElbusException(Protocol.ERR_IO, "client closed")),
        () -> closedPromise.tryComplete());
    return closedPromise.future();
  }

  /** The address this client is connected to, as elbusd prints it. */
  public String address() {
    return bind.toString();
  }

  @Override
  public String toString() {
    return "NetworkClient[" + name + " @ " + bind + "]";
  }
}
