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
import io.netty.buffer.ByteBufUtil;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.collection.IntObjectHashMap;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.internal.PlatformDependent;
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
import java.util.Queue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An elbus client over TCP (with TLS for a {@code tls://} address) or a Unix domain socket
 * (PROTOCOL.md sections 1-5 and 7): it connects
 * with a Vert.x {@link NetClient}, runs the handshake, sends messages, broadcasts, publications
 * and subscriptions with a {@link QoS}, and hands incoming frames to a {@link #frameHandler}.
 *
 * <pre>{@code
 * NetworkClient.connect(vertx, "/tmp/elbus.sock", "app", new ClientOptions(),
 *         c -> c.frameHandler(f -> ...))   // before the handshake: no frame is missed
 *     .onSuccess(c -> c.send("other", Buffer.buffer("hi"), QoS.PROCESSED));
 * }</pre>
 *
 * <p><b>Handlers before the handshake.</b> A broker may deliver to a client the instant its name
 * is registered: frames that arrive while no {@link #frameHandler} is set are dropped, and a
 * handler set from another thread once the connect Future has completed comes too late for
 * them. The {@code init} of {@link #connect(Vertx, String, String, ClientOptions, Handler)} and
 * {@link #registerSecondary(Handler)} runs with the new client on its context before the
 * connection opens: set the frame, state, close and drain handlers there. They stay through
 * reconnects.
 *
 * <p>Each operation takes the next op id of a per-connection u32 counter (wrapping, never 0). With
 * an acked QoS ({@link QoS#PROCESSED}, {@link QoS#REALTIME_PROCESSED}) its Future completes on the
 * broker's ack {@code 01} and fails with {@link ElbusException} carrying any other code. Without
 * an ack ({@link QoS#NO}, {@link QoS#REALTIME}) the Future is one shared, already completed
 * Future: the frame was accepted into the connection's outgoing buffer, nothing is allocated for
 * it but its bytes; {@link #flush} tells when the socket has taken it. When the connection ends,
 * every pending operation fails with code {@code 73} (I/O); frames accepted but not yet taken by
 * the socket are lost with the connection, as those in the socket's own buffer are. While the
 * client is not connected every operation fails at once with {@code 73}: nothing is buffered.
 *
 * <p><b>Writes.</b> Frames are encoded straight into a per-connection buffer that is written and
 * flushed once per event-loop turn, or at once when it holds 64 KiB or a realtime frame (QoS 2 and
 * 3, PROTOCOL.md section 2). {@link #writeQueueFull} and {@link #drainHandler} pace a publisher
 * that produces faster than the socket takes ({@link ClientOptions#setWriteQueueMaxSize}).
 *
 * <p><b>Reconnecting</b> ({@link ClientOptions#setReconnect}, off by default): a lost registered
 * connection is re-established with a bounded, jittered backoff; the client registers its name
 * again (a name still held, {@code 76}, is retried like any other failure), restores its
 * subscriptions and exclusions (operations fail with {@code 73} until they are restored), and
 * reports each change to the {@link #stateHandler}. While it is away every operation fails at
 * once with {@code 73}; after {@link ClientOptions#setReconnectAttempts} failed attempts in a row
 * it gives up and closes. The first connect is never retried.
 *
 * <p><b>Closing.</b> The {@code CLOSED} state change, the close handler, {@link #close}'s Future
 * and a failed connect's come once the socket and the client's NetClient are closed: an
 * application may close Vert.x as soon as it hears.
 *
 * <p><b>Threading.</b> All connection state (socket, decoder, op id counter, pending acks, timers)
 * is confined to one Vert.x event-loop context: the caller's when {@code connect} is called on an
 * event-loop context of {@code vertx}, else a new one. Public methods may be called from any
 * thread. On the context's thread an operation is encoded into the outgoing buffer at once;
 * from another thread it is encoded on the calling thread (the payload is copied at call time)
 * and handed to the context through a lock-free queue that one task drains, so calls from one
 * thread are sent in call order, and before anything the context writes after receiving them.
 * Futures complete, and the frame, state and close handlers run, on that context.
 */
public final class NetworkClient implements ElbusClient {
  private static final Logger LOG = LoggerFactory.getLogger(NetworkClient.class);
  private static final ByteBufAllocator ALLOC = ByteBufAllocator.DEFAULT;
  /** Largest body of a subscribe or exclude frame that restores subscriptions. */
  static final int RESTORE_BATCH = 32 * 1024;

  private enum State { CONNECTING, HANDSHAKE, REGISTERED, WAITING, CLOSED }

  private final Vertx vertx;
  private final ContextInternal context;
  private final EventExecutor loop;
  private final Bind bind;
  private final String name;
  private final ClientOptions opts;
  private final AtomicInteger secondaryCounter = new AtomicInteger();
  private final Promise<NetworkClient> connectPromise;
  private final Promise<Void> closedPromise;
  /** What an operation without an ack returns: completed, bound to the context. */
  private final Future<Void> accepted;

  private volatile Handler<Frame> frameHandler;
  /** Registered and not restoring: operations are accepted. */
  private volatile boolean connected;
  /** The current connection's outgoing buffer, for {@link #writeQueueFull}; null without one. */
  private volatile OutboundBuffer outbound;

  // the hand-off from other threads: frames (QoS without ack: the ByteBuf itself) and Handoffs
  private final Queue<Object> handoff = PlatformDependent.newMpscQueue();
  private final AtomicBoolean drainScheduled = new AtomicBoolean();
  private final AtomicLong handedOffBytes = new AtomicLong();
  private final Runnable drainTask = this::drainHandoff;
  private volatile boolean drainWanted;

  // accessed only on the context
  private State state = State.CONNECTING;
  private boolean everRegistered;
  private NetClient netClient;
  private Link link;
  /** Identifies the current connect attempt: callbacks of earlier ones are ignored. */
  private int attemptSeq;
  /** Failed reconnect attempts since the loss. */
  private int failedAttempts;
  private int lastOpId;
  private final IntObjectHashMap<Promise<Void>> pending = new IntObjectHashMap<>();
  private final Subscriptions subscriptions = new Subscriptions();
  private final List<NetworkClient> secondaries = new ArrayList<>();
  private long handshakeTimer = -1;
  private long pingTimer = -1;
  private long reconnectTimer = -1;
  private Handler<Void> closeHandler;
  private Handler<StateChange> stateHandler;
  private Handler<Void> drainHandler;
  private StateChange lastChange;

  private NetworkClient(Vertx vertx, ContextInternal context, Bind bind, String name,
      ClientOptions opts) {
    this.vertx = vertx;
    this.context = context;
    this.loop = context.nettyEventLoop();
    this.bind = bind;
    this.name = name;
    this.opts = opts;
    this.connectPromise = context.promise();
    this.closedPromise = context.promise();
    this.accepted = context.succeededFuture();
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
   *     IllegalArgumentException} for a malformed path or TLS settings without TLS. The first
   *     connect is not retried, even with {@link ClientOptions#setReconnect}. A failed connect
   *     fails once its socket is closed: Vert.x may be closed right after.
   */
  public static Future<NetworkClient> connect(Vertx vertx, String path, String name,
      ClientOptions opts) {
    return connect(vertx, path, name, opts, null);
  }

  /**
   * Connects like {@link #connect(Vertx, String, String, ClientOptions)}, running {@code init}
   * with the new client first: on the client's context, before the connection is opened. That
   * is the place to install the {@link #frameHandler}, {@link #stateHandler}, {@link
   * #closeHandler} and {@link #drainHandler}: whatever the broker sends from the moment the
   * client is registered reaches them. A frame handler set only once the connect Future has
   * completed misses what arrives in between (see {@link #frameHandler}). The handlers stay
   * through reconnects. Operations called in {@code init} fail with {@code 73} (not connected
   * yet); an exception thrown by {@code init} fails the connect with it.
   */
  public static Future<NetworkClient> connect(Vertx vertx, String path, String name,
      ClientOptions opts, Handler<NetworkClient> init) {
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
    return connect(vertx, ctx, bind, name, new ClientOptions(opts), init);
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
      String name, ClientOptions opts, Handler<NetworkClient> init) {
    if (name.getBytes(StandardCharsets.UTF_8).length > Protocol.MAX_NAME_LENGTH) {
      return ctx.failedFuture(new ElbusException(Protocol.ERR_DATA, "client name is longer than "
          + Protocol.MAX_NAME_LENGTH + " bytes"));
    }
    NetworkClient c = new NetworkClient(vertx, ctx, bind, name, opts);
    c.onContext(() -> {
      if (init != null) {
        try {
          init.handle(c);
        } catch (RuntimeException e) {
          c.state = State.CLOSED; // nothing opened yet
          c.closedPromise.tryComplete();
          c.connectPromise.tryFail(e);
          return;
        }
      }
      c.start();
    }, () -> c.connectPromise.tryFail(new ElbusException(Protocol.ERR_IO, "Vert.x is closed")));
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
    // unregistered, it lives exactly as long as this client, which closes it in finish().
    VertxInternal vi = (VertxInternal) vertx;
    netClient = new NetClientBuilder(vi, no)
        .metrics(vi.metrics() != null ? vi.metrics().createNetClientMetrics(no) : null)
        .build();
    connectOnce();
  }

  /** One connect attempt: TCP/Unix connect, then the handshake, within the timeout. */
  private void connectOnce() {
    state = State.CONNECTING;
    int seq = ++attemptSeq;
    handshakeTimer = context.setTimer(opts.getTimeoutMs(), id -> {
      handshakeTimer = -1;
      if (seq == attemptSeq) {
        lost(new ElbusException(Protocol.ERR_TIMEOUT, "connect/handshake with " + bind
            + " not completed within " + opts.getTimeoutMs() + " ms"));
      }
    });
    SocketAddress addr = bind.type() == Bind.Type.UNIX
        ? SocketAddress.domainSocketAddress(bind.path())
        : SocketAddress.inetSocketAddress(bind.port(), bind.host());
    netClient.connect(addr).onComplete(ar -> {
      if (seq != attemptSeq || state != State.CONNECTING) {
        if (ar.succeeded()) {
          ar.result().close(); // timed out or closed meanwhile
        }
        return;
      }
      if (ar.failed()) {
        lost(TlsErrors.isTls(ar.cause()) ? tlsFailure(ar.cause())
            : new ElbusException(Protocol.ERR_IO, "cannot connect to " + bind + ": "
                + ar.cause().getMessage(), ar.cause()));
        return;
      }
      NetSocketInternal so = (NetSocketInternal) ar.result();
      Link l = new Link(so);
      link = l;
      outbound = l.out;
      state = State.HANDSHAKE;
      so.messageHandler(l::onMessage);
      so.exceptionHandler(t -> {
        // TLS 1.3: the broker checks a client certificate after the client's handshake is done
        // and answers a refusal with an alert, which arrives here before the close
        if (TlsErrors.isTls(t) && l.tlsError == null) {
          l.tlsError = t;
        }
        LOG.debug("elbus client {}: {}", name, t.toString());
      });
      so.closeHandler(v -> {
        if (link == l) {
          lost(state != State.REGISTERED && l.tlsError != null ? tlsFailure(l.tlsError)
              : new ElbusException(Protocol.ERR_IO, state == State.REGISTERED
                  ? "connection closed" : "connection closed during handshake"));
        }
      });
    });
  }

  /** One connection: its socket, decoder and outgoing buffer; decoded broker output. */
  private final class Link implements BrokerStreamDecoder.Listener {
    final NetSocketInternal socket;
    final BrokerStreamDecoder decoder;
    final OutboundBuffer out;
    final Frame.Names names = new Frame.Names();
    boolean nameSent;
    /** Registered again, the restore of subscriptions not yet acked. */
    boolean restoring;
    /** A TLS failure reported by the socket, for the close that follows it. */
    Throwable tlsError;

    Link(NetSocketInternal so) {
      this.socket = so;
      this.decoder = new BrokerStreamDecoder(so.channelHandlerContext().alloc(), this,
          opts.getMaxFrameSize());
      this.out = OutboundBuffer.install(so.channelHandlerContext().pipeline(),
          so.channelHandlerContext().name(), opts.getWriteQueueMaxSize(),
          NetworkClient.this::checkDrained);
    }

    /** Raw socket input: Netty buffers owned by us, handed to the decoder (which releases them). */
    void onMessage(Object msg) {
      if (!(msg instanceof ByteBuf)) {
        ReferenceCountUtil.release(msg);
        return;
      }
      try {
        decoder.feed((ByteBuf) msg);
      } catch (ProtocolException e) {
        LOG.warn("elbus client {}: protocol error from {}: {}", name, bind, e.getMessage());
        lost(new ElbusException(Protocol.ERR_DATA, "protocol error: " + e.getMessage()));
      }
    }

    @Override
    public void onGreeting(int greeting, int version) {
      if (greeting != Protocol.GREETING || version != Protocol.VERSION) {
        lost(new ElbusException(Protocol.ERR_NOT_SUPPORTED, String.format(
            "%s is not an elbus v1 broker (greeting %02x, version %d)", bind, greeting, version)));
        return;
      }
      socket.writeMessage(FrameEncoder.clientHello(ALLOC));
    }

    @Override
    public void onResponse(int code) {
      if (code != Protocol.RESPONSE_OK) {
        lost(new ElbusException(code, (nameSent ? "registration of '" + name + "' refused: "
            : "protocol greeting refused: ") + Protocol.codeName(code)));
      } else if (!nameSent) {
        nameSent = true;
        socket.writeMessage(FrameEncoder.clientName(ALLOC, name.getBytes(StandardCharsets.UTF_8)));
      } else {
        registered(this);
      }
    }

    @Override
    public void onPing() {
      // the broker's keep-alive: nothing to do
    }

    @Override
    public void onAck(int opId, int code) {
      Promise<Void> p = pending.remove(pendingKey(opId));
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
      Frame f = Frame.parse(type, realtime, body, names);
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

  private void registered(Link l) {
    cancelTimer(handshakeTimer);
    handshakeTimer = -1;
    state = State.REGISTERED;
    lastOpId = 0;
    if (opts.getPingIntervalMs() > 0) {
      pingTimer = context.setPeriodic(opts.getPingIntervalMs(), id -> {
        if (state == State.REGISTERED) {
          FrameEncoder.writeClientPing(l.out.reserve(Protocol.CLIENT_HEADER_SIZE));
          l.out.written(false);
        }
      });
    }
    if (!everRegistered) {
      everRegistered = true;
      connected = true;
      change(ClientState.CONNECTED, null, 0);
      connectPromise.tryComplete(this);
      return;
    }
    int attempts = failedAttempts + 1;
    l.restoring = true;
    List<Future<Void>> acks = new ArrayList<>();
    for (Subscriptions.Batch b : subscriptions.restore(RESTORE_BATCH)) {
      Promise<Void> p = context.promise();
      writeNumbered(l, FrameEncoder.clientList(ALLOC, 0, b.op(), QoS.PROCESSED, b.items()), p);
      acks.add(p.future());
    }
    // a broker that does not answer the restore within the timeout fails this attempt (pings
    // would otherwise keep a link alive that never becomes usable)
    long restoreTimer = context.setTimer(opts.getTimeoutMs(), id -> {
      if (link == l && l.restoring && state == State.REGISTERED) {
        lost(new ElbusException(Protocol.ERR_TIMEOUT, "the broker did not acknowledge the "
            + "restored subscriptions within " + opts.getTimeoutMs() + " ms"));
      }
    });
    Future.join(acks).onComplete(ar -> {
      cancelTimer(restoreTimer);
      if (link != l || state != State.REGISTERED) {
        return; // lost again meanwhile: that attempt failed
      }
      ElbusException refused = null;
      for (Future<Void> f : acks) {
        if (f.failed()) {
          refused = f.cause() instanceof ElbusException ? (ElbusException) f.cause()
              : new ElbusException(Protocol.ERR_OTHER, f.cause().toString());
          LOG.warn("elbus client {}: restoring subscriptions after reconnecting: {}", name,
              refused.getMessage());
          break;
        }
      }
      l.restoring = false;
      failedAttempts = 0;
      connected = true;
      LOG.info("elbus client {}: reconnected to {} (attempt {})", name, bind, attempts);
      change(ClientState.RECONNECTED, refused, attempts);
      checkDrained();
    });
  }

  /**
   * The current connect attempt or connection ended. Without reconnecting, or before the first
   * registration, the client ends with it; else the next attempt is scheduled (or the client gives
   * up after the last). On the context.
   */
  private void lost(ElbusException cause) {
    if (state == State.CLOSED || state == State.WAITING) {
      return;
    }
    boolean wasUp = state == State.REGISTERED && !link.restoring;
    Future<Void> closing = endLink(false);
    if (!everRegistered || !opts.isReconnect()) {
      finish(cause, closing);
      return;
    }
    if (wasUp) {
      failedAttempts = 0;
      LOG.warn("elbus client {}: connection to {} lost ({}), reconnecting", name, bind,
          cause.getMessage());
      change(ClientState.DISCONNECTED, cause, 0);
    } else {
      failedAttempts++;
      LOG.debug("elbus client {}: reconnect attempt {} to {} failed: {}", name, failedAttempts,
          bind, cause.getMessage());
      int max = opts.getReconnectAttempts();
      if (max > 0 && failedAttempts >= max) {
        LOG.warn("elbus client {}: gave up reconnecting to {} after {} attempts: {}", name, bind,
            failedAttempts, cause.getMessage());
        finish(cause, closing);
        return;
      }
    }
    state = State.WAITING;
    long delay = opts.reconnectDelay(failedAttempts + 1, ThreadLocalRandom.current().nextDouble());
    reconnectTimer = context.setTimer(delay, id -> {
      reconnectTimer = -1;
      if (state == State.WAITING) {
        connectOnce();
      }
    });
  }

  /**
   * Ends the current connection attempt or connection: timers, decoder, outgoing buffer (written
   * first when {@code graceful}), pending acks (failed with 73), the handed-off operations, and
   * the socket. Returns the socket's close.
   */
  private Future<Void> endLink(boolean graceful) {
    connected = false;
    attemptSeq++;
    cancelTimer(handshakeTimer);
    cancelTimer(pingTimer);
    handshakeTimer = -1;
    pingTimer = -1;
    Link l = link;
    link = null;
    outbound = null;
    if (graceful && l != null && state == State.REGISTERED) {
      drainHandoff(l);
      l.out.writeOut();
    }
    state = State.CONNECTING; // not REGISTERED: the drain below fails what is left
    drainHandoff(null);
    if (!pending.isEmpty()) {
      List<Promise<Void>> ps = new ArrayList<>(pending.values());
      pending.clear();
      ElbusException io = new ElbusException(Protocol.ERR_IO, "connection closed");
      for (Promise<Void> p : ps) {
        p.tryFail(io);
      }
    }
    if (l == null) {
      return context.succeededFuture();
    }
    l.decoder.stop();
    l.out.discard();
    return l.socket.close();
  }

  /** Closes the client on the context: what it accepted is written first. */
  private void closeNow() {
    if (state != State.CLOSED) {
      finish(null, endLink(true));
    }
  }

  /**
   * Ends the client for good, once, its last connection ended ({@code closing}: the socket's
   * close); {@code cause} null when {@link #close} ended it. On the context.
   */
  private void finish(ElbusException cause, Future<Void> closing) {
    if (state == State.CLOSED) {
      return;
    }
    cancelTimer(reconnectTimer);
    reconnectTimer = -1;
    state = State.CLOSED;
    connected = false;
    ElbusException why = cause != null ? cause
        : new ElbusException(Protocol.ERR_IO, "client closed");
    List<Future<Void>> closes = new ArrayList<>();
    closes.add(closing.transform(ar -> netClient != null ? netClient.close()
        : context.succeededFuture()));
    for (NetworkClient s : new ArrayList<>(secondaries)) {
      closes.add(s.close());
    }
    // Everything the caller hears of the end comes once the sockets and the NetClient are
    // closed: a caller may close Vert.x as soon as it hears, and a close still running on a
    // closed event loop ends in Netty's "event loop shut down" rejection.
    Future.join(closes).onComplete(ar -> {
      if (everRegistered) {
        change(ClientState.CLOSED, cause,
            cause != null && opts.isReconnect() ? failedAttempts : 0);
        Handler<Void> h = closeHandler;
        if (h != null) {
          try {
            h.handle(null);
          } catch (RuntimeException e) {
            LOG.warn("elbus client {}: close handler failed", name, e);
          }
        }
      }
      closedPromise.tryComplete();
      connectPromise.tryFail(why);
    });
  }

  private void change(ClientState s, ElbusException cause, int attempts) {
    StateChange c = new StateChange(s, cause, attempts);
    lastChange = c;
    Handler<StateChange> h = stateHandler;
    if (h != null) {
      try {
        h.handle(c);
      } catch (RuntimeException e) {
        LOG.warn("elbus client {}: state handler failed on {}", name, c, e);
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
    return keyed(Protocol.OP_MESSAGE, target, null, payload, qos);
  }

  @Override
  public Future<Void> broadcast(String mask, Buffer payload, QoS qos) {
    return keyed(Protocol.OP_BROADCAST, mask, null, payload, qos);
  }

  @Override
  public Future<Void> publish(String topic, Buffer payload, QoS qos) {
    return keyed(Protocol.OP_PUBLISH, topic, null, payload, qos);
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
    return keyed(Protocol.OP_PUBLISH_FOR, topic, receiver, payload, qos);
  }

  /** Sends a ping (nine zero bytes); completes when it is written (see {@link #flush}). */
  public Future<Void> ping() {
    if (!connected) {
      return notConnected();
    }
    if (loop.inEventLoop()) {
      Link l = current();
      if (l == null) {
        return notConnected();
      }
      FrameEncoder.writeClientPing(l.out.reserve(Protocol.CLIENT_HEADER_SIZE));
      l.out.written(false);
      return flush();
    }
    Promise<Void> p = context.promise();
    handOff(new Handoff(Handoff.PING, FrameEncoder.clientPing(ALLOC), p, 0, null));
    return p.future();
  }

  /**
   * Writes what this client has accepted so far without waiting for the end of the event-loop
   * turn; the Future completes once the socket has taken all of it (handed it to the operating
   * system), or fails with {@code 73} when the connection ends first or the client is not
   * connected. From another thread, it covers what that thread sent before.
   */
  public Future<Void> flush() {
    if (!connected) {
      return notConnected();
    }
    Promise<Void> p = context.promise();
    if (loop.inEventLoop()) {
      Link l = current();
      if (l == null) {
        return notConnected();
      }
      l.out.flush(p);
    } else {
      handOff(new Handoff(Handoff.FLUSH, null, p, 0, null));
    }
    return p.future();
  }

  /**
   * Whether the frames this client holds that the socket has not yet taken exceed {@link
   * ClientOptions#setWriteQueueMaxSize} (frames handed over from other threads and not yet on the
   * event loop count too). Nothing is refused when it is full: a publisher that cares stops
   * until the {@link #drainHandler} runs. Any thread.
   */
  public boolean writeQueueFull() {
    OutboundBuffer o = outbound;
    boolean full = handedOffBytes.get() >= opts.getWriteQueueMaxSize()
        || o != null && !o.isWritable();
    if (full) {
      drainWanted = true;
      if (!context.inThread()) {
        // the event loop may have drained everything between the check above and the flag, and
        // then found no drain wanted: look again there, or the drain handler never runs
        onContext(this::checkDrained, () -> { });
      }
    }
    return full;
  }

  /**
   * Sets the handler run (on the context) when a full write queue ({@link #writeQueueFull}
   * returned true) is down to half; also after a reconnect.
   */
  public NetworkClient drainHandler(Handler<Void> handler) {
    onContext(() -> drainHandler = handler, () -> { });
    return this;
  }

  private void checkDrained() {
    if (!drainWanted || !connected) {
      return;
    }
    OutboundBuffer o = outbound;
    if (handedOffBytes.get() <= opts.getWriteQueueMaxSize() / 2 && o != null && o.isWritable()) {
      drainWanted = false;
      Handler<Void> h = drainHandler;
      if (h != null) {
        // on the client's context (this may run from a Netty callback or a raw loop task)
        context.emit(null, v -> {
          try {
            h.handle(null);
          } catch (RuntimeException e) {
            LOG.warn("elbus client {}: drain handler failed", name, e);
          }
        });
      }
    }
  }

  private Future<Void> keyed(int op, String key, String receiver, Buffer payload, QoS qos) {
    if (!connected) {
      return notConnected();
    }
    if (key.indexOf('\0') >= 0) {
      return context.failedFuture(new ElbusException(Protocol.ERR_DATA,
          Protocol.opName(op) + " target contains a NUL character"));
    }
    ByteBuf p = Buffers.unwrap(payload);
    int keyLen = ByteBufUtil.utf8Bytes(key);
    int extraLen = receiver == null ? -1 : ByteBufUtil.utf8Bytes(receiver);
    int size = FrameEncoder.keyedSize(keyLen, extraLen, p.readableBytes());
    int flags = op | (qos.bits() << Protocol.QOS_SHIFT);
    if (loop.inEventLoop()) {
      Link l = current();
      if (l == null) {
        return notConnected();
      }
      Promise<Void> ack = qos.needsAck() ? context.promise() : null;
      int id = nextOpId(ack);
      FrameEncoder.writeKeyed(l.out.reserve(size), id, flags, key, keyLen, receiver, extraLen, p);
      l.out.written(qos.isRealtime());
      return ack == null ? accepted : ack.future();
    }
    ByteBuf frame = ALLOC.buffer(size);
    FrameEncoder.writeKeyed(frame, 0, flags, key, keyLen, receiver, extraLen, p);
    if (!qos.needsAck()) {
      handOff(frame);
      return accepted;
    }
    Promise<Void> ack = context.promise();
    handOff(new Handoff(Handoff.NUMBERED, frame, ack, 0, null));
    return ack.future();
  }

  private Future<Void> list(int op, List<String> topics, QoS qos) {
    if (!connected) {
      return notConnected();
    }
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
    List<String> tracked = List.copyOf(topics);
    ByteBuf frame = FrameEncoder.clientList(ALLOC, 0, op, qos, items);
    Promise<Void> ack = qos.needsAck() ? context.promise() : null;
    if (loop.inEventLoop()) {
      Link l = current();
      if (l == null) {
        frame.release();
        return notConnected();
      }
      track(op, tracked);
      writeNumbered(l, frame, ack);
    } else {
      handOff(new Handoff(Handoff.NUMBERED, frame, ack, op, tracked));
    }
    return ack == null ? accepted : ack.future();
  }

  /**
   * The connection to write to, on the event loop: none when not registered. Whatever other
   * threads handed over before is written first, so that it precedes what this thread writes
   * after having heard of it.
   */
  private Link current() {
    Link l = state == State.REGISTERED && connected ? link : null;
    if (l != null && !handoff.isEmpty()) {
      drainHandoff(l);
    }
    return l;
  }

  /** Records a (un)subscription or (un)exclusion to restore after a reconnect. */
  private void track(int op, List<String> topics) {
    if (opts.isReconnect()) {
      subscriptions.apply(op, topics);
    }
  }

  /** The next op id, registering {@code ack} (if any) for it. */
  private int nextOpId(Promise<Void> ack) {
    int id;
    do {
      id = ++lastOpId;
    } while (id == 0 || !pending.isEmpty() && pending.containsKey(pendingKey(id)));
    if (ack != null) {
      pending.put(pendingKey(id), ack);
    }
    return id;
  }

  /**
   * The key of op id {@code id} in {@link #pending}: the id times an odd constant, a bijection
   * that scatters consecutive ids over the table. With the ids themselves, a window of pipelined
   * operations occupies one run of adjacent slots, and each removal (linear probing shifts the
   * run back) walks the whole run: a thousand in flight made every ack cost a thousand probes.
   */
  private static int pendingKey(int id) {
    return id * 0x9E3779B9;
  }

  /** Writes an encoded frame (op id 0 at its start) with the next op id; releases it. */
  private void writeNumbered(Link l, ByteBuf frame, Promise<Void> ack) {
    try {
      frame.setIntLE(frame.readerIndex(), nextOpId(ack));
      l.out.append(frame);
      l.out.written(QoS.of(frame.getUnsignedByte(frame.readerIndex() + 4)
          >> Protocol.QOS_SHIFT).isRealtime());
    } finally {
      frame.release();
    }
  }

  private Future<Void> notConnected() {
    return context.failedFuture(new ElbusException(Protocol.ERR_IO, "client " + name
        + " is not connected" + (state == State.CLOSED ? "" : " (reconnecting to " + bind + ")")));
  }

  // ---------------------------------------------------------------- hand-off from other threads

  /** An operation handed over from another thread (a frame without ack travels as a ByteBuf). */
  private static final class Handoff {
    /** A numbered frame: an acked one, or a (un)subscription or (un)exclusion. */
    static final int NUMBERED = 0;
    /** A ping (not numbered); the promise completes once it is written. */
    static final int PING = 1;
    /** A flush; the promise completes once everything before it is written. */
    static final int FLUSH = 2;

    final int kind;
    final ByteBuf frame;
    final Promise<Void> promise;
    /** The list operation whose topics are tracked, 0 for none. */
    final int trackOp;
    final List<String> topics;

    Handoff(int kind, ByteBuf frame, Promise<Void> promise, int trackOp, List<String> topics) {
      this.kind = kind;
      this.frame = frame;
      this.promise = promise;
      this.trackOp = trackOp;
      this.topics = topics;
    }
  }

  /** Queues {@code item} for the context and makes sure a drain task is scheduled. */
  private void handOff(Object item) {
    if (item instanceof ByteBuf) {
      handedOffBytes.addAndGet(((ByteBuf) item).readableBytes());
    } else if (((Handoff) item).frame != null) {
      handedOffBytes.addAndGet(((Handoff) item).frame.readableBytes());
    }
    handoff.offer(item);
    if (!drainScheduled.get() && drainScheduled.compareAndSet(false, true)) {
      try {
        loop.execute(drainTask);
      } catch (RuntimeException e) { // RejectedExecutionException: the event loop is gone
        drainScheduled.set(false);
        failHandoff(new ElbusException(Protocol.ERR_IO, "Vert.x is closed"));
      }
    }
  }

  private void drainHandoff() {
    drainScheduled.set(false);
    drainHandoff(state == State.REGISTERED ? link : null);
    checkDrained();
  }

  /**
   * Writes what other threads handed over to {@code l}, in order; with {@code l} null (not
   * connected) fails it with 73. On the context.
   */
  private void drainHandoff(Link l) {
    long bytes = 0;
    Object item;
    while ((item = handoff.poll()) != null) {
      if (item instanceof ByteBuf) {
        ByteBuf frame = (ByteBuf) item;
        bytes += frame.readableBytes();
        if (l == null) {
          frame.release();
        } else {
          writeNumbered(l, frame, null);
        }
        continue;
      }
      Handoff h = (Handoff) item;
      if (h.frame != null) {
        bytes += h.frame.readableBytes();
      }
      if (l == null) {
        if (h.frame != null) {
          h.frame.release();
        }
        if (h.promise != null) {
          h.promise.tryFail(new ElbusException(Protocol.ERR_IO, "client " + name
              + " is not connected"));
        }
        continue;
      }
      switch (h.kind) {
        case Handoff.PING:
          l.out.append(h.frame);
          h.frame.release();
          l.out.flush(h.promise);
          break;
        case Handoff.FLUSH:
          l.out.flush(h.promise);
          break;
        default:
          if (h.trackOp != 0) {
            track(h.trackOp, h.topics);
          }
          writeNumbered(l, h.frame, h.promise);
      }
    }
    if (bytes > 0) {
      handedOffBytes.addAndGet(-bytes);
    }
  }

  private void failHandoff(ElbusException e) {
    Object item;
    while ((item = handoff.poll()) != null) {
      ByteBuf frame = item instanceof Handoff ? ((Handoff) item).frame : (ByteBuf) item;
      if (frame != null) {
        handedOffBytes.addAndGet(-frame.readableBytes());
      }
      ReferenceCountUtil.release(item instanceof Handoff ? ((Handoff) item).frame : item);
      if (item instanceof Handoff && ((Handoff) item).promise != null) {
        ((Handoff) item).promise.tryFail(e);
      }
    }
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
   * ClientOptions#getSecondaryAttempts} names. With {@link ClientOptions#setReconnect} the
   * secondary reconnects on its own, under the same name (one that comes back before its primary
   * is refused with {@code 71} and retries); closing this client closes it.
   */
  public Future<NetworkClient> registerSecondary() {
    return registerSecondary(null);
  }

  /**
   * Registers a secondary like {@link #registerSecondary()}, running {@code init} with the new
   * client on the context before its connection is opened, as {@link #connect(Vertx, String,
   * String, ClientOptions, Handler)} does: the place to set its {@link #frameHandler}.
   */
  public Future<NetworkClient> registerSecondary(Handler<NetworkClient> init) {
    int sep = name.indexOf(Protocol.SECONDARY_SEP);
    String primary = sep < 0 ? name : name.substring(0, sep);
    return trySecondary(primary, opts.getSecondaryAttempts(), init).onSuccess(s -> onContext(() -> {
      if (state == State.CLOSED) {
        s.close();
      } else {
        secondaries.add(s);
        s.closeFuture().onComplete(v -> secondaries.remove(s));
      }
    }, s::close));
  }

  private Future<NetworkClient> trySecondary(String primary, int attemptsLeft,
      Handler<NetworkClient> init) {
    String n = primary + Protocol.SECONDARY_SEP + secondaryCounter.incrementAndGet();
    return connect(vertx, context, bind, n, opts, init).recover(t -> {
      if (t instanceof ElbusException && ((ElbusException) t).code() == Protocol.ERR_BUSY
          && attemptsLeft > 1) {
        return trySecondary(primary, attemptsLeft - 1, init);
      }
      return Future.failedFuture(t);
    });
  }

  /**
   * Sets the handler of incoming messages, broadcasts and publications (broker pings are not
   * passed on); it runs on the client's context and stays through reconnects. Frames arriving
   * while no handler is set are dropped. The broker may deliver to a client the instant it is
   * registered, before the connect Future's callbacks have run on another thread: give the
   * handler in the {@code init} of {@link #connect(Vertx, String, String, ClientOptions,
   * Handler)} (or {@link #registerSecondary(Handler)}), which runs before the connection is
   * opened. Setting it later is fine for a client nobody can address before it asks for
   * frames (a subscriber that subscribes after setting it).
   */
  @Override
  public NetworkClient frameHandler(Handler<Frame> handler) {
    this.frameHandler = handler;
    return this;
  }

  /**
   * Sets the handler called once, on the context, when the client ends for good after having
   * been registered (closed by either side, or lost without reconnecting, or after the last
   * reconnect attempt), once its socket is closed; called as soon as that is so if it has
   * already ended.
   */
  public NetworkClient closeHandler(Handler<Void> handler) {
    onContext(() -> {
      if (state == State.CLOSED) {
        closedPromise.future().onComplete(ar -> handler.handle(null));
      } else {
        closeHandler = handler;
      }
    }, () -> { });
    return this;
  }

  /**
   * Sets the handler of connection state changes ({@link ClientState}): on the context, called
   * at once with the current state (the last change), then with each change: {@code CONNECTED},
   * then with {@link ClientOptions#setReconnect} {@code DISCONNECTED} (with the reason) and
   * {@code RECONNECTED} for each outage, and {@code CLOSED} at the end.
   */
  public NetworkClient stateHandler(Handler<StateChange> handler) {
    onContext(() -> {
      stateHandler = handler;
      if (handler != null && lastChange != null) {
        handler.handle(lastChange);
      }
    }, () -> { });
    return this;
  }

  /** Completes when the client has ended and its socket is closed. */
  public Future<Void> closeFuture() {
    return closedPromise.future();
  }

  /** Whether the client is registered (false while it reconnects). */
  @Override
  public boolean isConnected() {
    return connected;
  }

  /**
   * Closes the client: what it accepted before is written, then the connection is closed
   * (unregistering this client), a reconnect in progress stops, and the secondaries it registered
   * are closed; completes when the socket is closed.
   */
  @Override
  public Future<Void> close() {
    onContext(this::closeNow, () -> closedPromise.tryComplete());
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
