package dev.elbus.impl.net;

import dev.elbus.aaa.AaaPolicy;
import dev.elbus.aaa.ClientAcl;
import dev.elbus.config.ListenerOptions;
import dev.elbus.impl.codec.ClientStreamDecoder;
import dev.elbus.impl.codec.FrameEncoder;
import dev.elbus.impl.codec.ProtocolException;
import dev.elbus.impl.codec.Utf8;
import dev.elbus.impl.routing.AccessOp;
import dev.elbus.impl.routing.CauseLog;
import dev.elbus.impl.routing.ClientKind;
import dev.elbus.impl.routing.ClientLimits;
import dev.elbus.impl.routing.ClientOps;
import dev.elbus.impl.routing.CloseReason;
import dev.elbus.impl.routing.Limit;
import dev.elbus.impl.routing.LoopWork;
import dev.elbus.impl.routing.Router;
import dev.elbus.impl.routing.Session;
import dev.elbus.impl.tls.TlsErrors;
import dev.elbus.protocol.Protocol;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One client socket: transport and handshake. It runs the handshake (PROTOCOL.md section 1),
 * pings, timeouts and the close, and hands each frame of the registered client, where it lies in
 * the read buffer, to the client's {@link ClientOps}, which parses the operation's body, routes
 * it and acks it (sections 2 and 5). A Netty handler placed before Vert.x's own handler in the
 * socket's pipeline, so read buffers arrive without a copy and frames are routed on this
 * connection's event loop as they are decoded.
 *
 * <p>On a TLS listener an {@code SslHandler} sits in front of this handler ({@link ListenerTls}):
 * the connection reads and writes plain text, its handshake deadline and handshake slot cover
 * the TLS handshake too, a failed TLS handshake closes it as {@link CloseReason#TLS} with one
 * log line, and with {@code tls.name_from_cn} a name must be its client certificate's CN.
 *
 * <p>Client input is bounded where it arrives: the parts of a client name are counted on the
 * received bytes here, before the name is decoded; the levels of topics and patterns and the
 * parts of broadcast masks are counted by {@link ClientOps} the same way, and the per-client
 * totals by the {@link Router} before a pattern is stored ({@link ClientLimits}); refused input
 * is answered {@code 72}.
 *
 * <p>A connection's turn on its event loop is bounded in time as well as in bytes: once the
 * frames of one turn have taken {@code turn_budget} ({@link ListenerOptions#getTurnBudgetUs}),
 * decoding pauses, the connection stops reading, and the rest of what it read is routed in a
 * later turn, after the event loop has served its other connections (docs/reliability.md,
 * "Turns"). The clock is read every {@link #CHECK_EVERY} frames, and after any frame marked
 * expensive ({@link LoopWork}).
 *
 * <p>The connection's session is unregistered on the path that closes the channel (a listener on
 * its close future, run as the channel closes, before Netty's later {@code channelInactive}), so
 * no session outlives its connection, and no connection its session. Channels allow half
 * closure: when the peer's input ends (a close, a shutdown of its sending side, a reset) while
 * frames it sent wait for a later turn, the connection stays open until those are routed, their
 * replies and acks written, then closes as it would have at once. The close that follows the
 * end of a peer's input goes through its event loop's {@link PeerCloses}, which bounds the time
 * a loop spends closing per turn when many peers leave at once.
 *
 * <p>All state is accessed only on the connection's event loop, except {@link #disconnect}, which
 * any thread may call, and the fields marked otherwise.
 */
final class ClientConnection extends ChannelInboundHandlerAdapter
    implements ClientStreamDecoder.Listener {
  private static final Logger LOG = LoggerFactory.getLogger(ClientConnection.class);

  private final Router router;
  private final ListenerRuntime listener;
  private final ListenerOptions opts;
  private final ClientKind kind;
  private final ClientLimits limits;
  /** {@code turn_budget}: time the frames of one turn may take before the rest waits. */
  private final long turnBudgetNanos;
  private final AtomicReference<CloseReason> closeReason = new AtomicReference<>();
  /** Holds one of the listener's handshake slots ({@link ListenerRuntime#startHandshake}). */
  private final AtomicBoolean handshakeSlot = new AtomicBoolean();
  /** The registered session; read by other threads (AAA reloads, registrations). */
  private volatile SocketSession session;

  // accessed only on the connection's event loop
  private ChannelHandlerContext ctx;
  private OutboundScheduler scheduler;
  private ClientStreamDecoder decoder;
  private String peer;
  private java.net.InetAddress remoteAddress;
  private String closeDetail;
  private boolean inBatch;
  private boolean cleanedUp;
  /** This event loop's expensive-frame mark ({@link LoopWork}). */
  private LoopWork work;
  /** When this connection's current turn started (its first read of the turn, or a resume). */
  private long turnStartNanos;
  /** Frames routed since the clock was last read. */
  private int framesSinceCheck;
  /** Decoding is paused and reading off until {@link #resumeTurn} runs. */
  private boolean yielded;
  /**
   * The peer's input ended (it shut its side down, or reset the connection) while frames it had
   * sent waited for a later turn: they are routed over the next turns, then the connection closes
   * ({@link #resumeTurn}).
   */
  private boolean inputEnded;
  /** Counted against the listener's max_connections (false: refused, the listener is full). */
  private boolean accepted;
  private ScheduledFuture<?> handshakeTimer;
  private ScheduledFuture<?> pingTimer;
  private ScheduledFuture<?> stallTimer;
  private ScheduledFuture<?> idleTimer;
  /** Time of the last read (kept only when an idle deadline is set). */
  private long lastInputNanos;
  private long lastProgressNanos;
  /** The registered client's operations: the body grammar, counters, routing and acks. */
  private ClientOps ops;
  /**
   * A session waiting for its name to be free ({@link #onName}): the name's holder is a socket
   * client whose close this broker may not have processed yet. Frames arriving meanwhile are
   * held (copied) in {@link #held} and routed once the registration is decided.
   */
  private SocketSession pending;
  private List<HeldFrame> held;
  private long heldBytes;
  private int registrationRetries;

  /** A frame received while the registration was pending. */
  private record HeldFrame(int opId, int flags, ByteBuf body) {}

  /** Waits for a taken name to be released by a closing holder, 1 ms apart. */
  static final int REGISTRATION_RETRIES = 100;

  /** Frames routed between two reads of the clock (a frame costs well under a microsecond). */
  static final int CHECK_EVERY = 16;

  ClientConnection(Router router, ListenerRuntime listener) {
    this.router = router;
    this.listener = listener;
    this.opts = listener.options();
    this.kind = listener.kind();
    this.limits = ClientLimits.of(opts);
    this.turnBudgetNanos = opts.getTurnBudgetUs() * 1000;
  }

  /** The registered session, {@code null} before registration. Any thread. */
  SocketSession session() {
    return session;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    this.accepted = listener.tryAccept();
    this.scheduler = OutboundScheduler.forLoop(ctx.channel().eventLoop());
    this.work = LoopWork.current(); // this thread's: the connection's event loop
    // the end of the peer's input closes the connection here, once what it sent is routed
    ctx.channel().config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
    this.decoder = new ClientStreamDecoder(ctx.alloc(), this, opts.getMaxFrameSize(),
        opts.getMaxNameLength());
    SocketAddress ra = ctx.channel().remoteAddress();
    if (kind == ClientKind.TCP && ra instanceof InetSocketAddress) {
      InetSocketAddress ia = (InetSocketAddress) ra;
      String host = ia.getAddress() != null ? ia.getAddress().getHostAddress() : ia.getHostString();
      this.peer = (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + ia.getPort();
      this.remoteAddress = ia.getAddress();
    }
    // unregister as the channel closes, not in the channelInactive Netty fires in a later task
    ctx.channel().closeFuture().addListener(f -> cleanup());
    if (!accepted) {
      closeDetail = "listener " + listener.label() + " has " + opts.getMaxConnections()
          + " connections";
      disconnect(CloseReason.MAX_CONNECTIONS);
      return;
    }
    listener.opened(this);
    listener.startHandshake(this);
    ctx.writeAndFlush(FrameEncoder.greeting(ctx.alloc()), ctx.voidPromise());
    handshakeTimer = ctx.executor().schedule(() -> {
      handshakeTimer = null;
      SslHandler tls = tlsHandler();
      close(CloseReason.HANDSHAKE_TIMEOUT, (tls != null && !tls.handshakeFuture().isDone()
          ? "TLS handshake" : "handshake") + " not completed within " + opts.getTimeoutMs()
          + " ms");
    }, opts.getTimeoutMs(), TimeUnit.MILLISECONDS);
  }

  // ---------------------------------------------------------------- inbound

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof ByteBuf)) {
      ctx.fireChannelRead(msg);
      return;
    }
    if (!inBatch) {
      inBatch = true;
      scheduler.beginBatch();
      long now = System.nanoTime();
      if (!yielded) {
        turnStartNanos = now;
        framesSinceCheck = 0;
      }
      if (idleTimer != null) {
        lastInputNanos = now;
      }
    }
    try {
      decoder.feed((ByteBuf) msg);
    } catch (ProtocolException e) {
      close(CloseReason.PROTOCOL_ERROR, e.getMessage());
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    endBatch();
    if (decoder.inFrames() && decoder.hasPartialInput()) {
      lastProgressNanos = System.nanoTime();
      if (stallTimer == null) {
        stallTimer = ctx.executor().schedule(this::checkStall, opts.getTimeoutMs(),
            TimeUnit.MILLISECONDS);
      }
    }
  }

  private void endBatch() {
    if (inBatch) {
      inBatch = false;
      scheduler.endBatch();
    }
  }

  /**
   * Ends this connection's turn early: what it read after the current frame waits in the decoder,
   * reading stops, and {@link #resumeTurn} carries on from a task scheduled with no delay. Netty
   * moves scheduled tasks to its task queue only when it starts running tasks, so the event loop
   * first serves the other connections' ready input (the rest of this poll's, or, when a resumed
   * turn ends early again, the next poll's; a task queued with {@code execute} from a task would
   * run before any I/O).
   */
  private void yieldTurn() {
    decoder.pause();
    if (yielded) {
      return;
    }
    yielded = true;
    router.stats().countYield();
    ctx.channel().config().setAutoRead(false);
    try {
      ctx.executor().schedule(this::resumeTurn, 0, TimeUnit.NANOSECONDS);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      close(CloseReason.SHUTDOWN, "event loop shutting down"); // no later turn will come
    }
  }

  /**
   * The next turn after {@link #yieldTurn}: decodes what was kept, then reads again (or, once the
   * peer's input has ended and everything kept is routed, closes).
   */
  private void resumeTurn() {
    yielded = false;
    if (cleanedUp || closeReason.get() != null) {
      return;
    }
    try {
      turnStartNanos = System.nanoTime();
      lastProgressNanos = turnStartNanos;
      framesSinceCheck = 0;
      inBatch = true;
      scheduler.beginBatch();
      try {
        decoder.resume();
      } catch (ProtocolException e) {
        close(CloseReason.PROTOCOL_ERROR, e.getMessage());
      } finally {
        endBatch();
      }
      if (yielded || decoder.isStopped() || closeReason.get() != null) {
        return;
      }
      if (inputEnded) {
        ctx.close(); // what the peer sent is routed: the close its end of input asked for
        return;
      }
      ctx.channel().config().setAutoRead(true);
      channelReadComplete(ctx);
    } catch (RuntimeException | Error e) {
      exceptionCaught(ctx, e);
    }
  }

  /** A frame started and its rest has not arrived: close once no byte came for a timeout. */
  private void checkStall() {
    stallTimer = null;
    if (yielded) {
      return; // the next turn checks again
    }
    if (!decoder.inFrames() || !decoder.hasPartialInput()) {
      return;
    }
    long idleMs = (System.nanoTime() - lastProgressNanos) / 1_000_000;
    if (idleMs >= opts.getTimeoutMs()) {
      close(CloseReason.FRAME_TIMEOUT, "frame incomplete, no data for " + idleMs + " ms");
    } else {
      stallTimer = ctx.executor().schedule(this::checkStall, opts.getTimeoutMs() - idleMs,
          TimeUnit.MILLISECONDS);
    }
  }

  /** Idle deadline (section 6, optional): close a client that sent nothing for too long. */
  private void checkIdle() {
    idleTimer = null;
    long idleMs = (System.nanoTime() - lastInputNanos) / 1_000_000;
    long limit = opts.getIdleTimeoutMs();
    if (idleMs >= limit) {
      close(CloseReason.IDLE_TIMEOUT, "nothing received for " + idleMs + " ms (idle deadline "
          + limit + " ms)");
    } else {
      idleTimer = ctx.executor().schedule(this::checkIdle, limit - idleMs, TimeUnit.MILLISECONDS);
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (session != null) {
      session.writabilityChanged(ctx.channel().isWritable());
    }
    ctx.fireChannelWritabilityChanged();
  }

  /** The TLS handler in front of this connection, {@code null} on a plain listener. */
  private SslHandler tlsHandler() {
    return listener.tls() == null ? null : ctx.pipeline().get(SslHandler.class);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof ChannelInputShutdownEvent) {
      // the peer's input ended (half closure is allowed: Netty did not close the channel)
      inputEnded = true;
      if (!yielded) {
        // everything read was routed, and flushed at channelReadComplete; the close runs once
        // the loop has handled the ready I/O, within a share of its time (PeerCloses)
        PeerCloses.forLoop(ctx.channel().eventLoop()).add(ctx::close);
      }
      return; // not for Vert.x's handler, which would close under the waiting frames
    }
    if (evt == ChannelInputShutdownReadComplete.INSTANCE) {
      return;
    }
    // a failed TLS handshake is reported here before the TLS handler closes the channel
    if (evt instanceof SslHandshakeCompletionEvent && !((SslHandshakeCompletionEvent) evt)
        .isSuccess()) {
      tlsFailed(((SslHandshakeCompletionEvent) evt).cause());
    }
    ctx.fireUserEventTriggered(evt);
  }

  /** Closes for a TLS failure: one log line with the reason, never a stack trace. */
  private void tlsFailed(Throwable cause) {
    close(CloseReason.TLS, (session == null ? "TLS handshake failed: " : "TLS error: ")
        + TlsErrors.describe(cause, "the client"));
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (listener.tls() != null && TlsErrors.isTls(cause)) {
      tlsFailed(cause);
      return;
    }
    if (cause instanceof java.io.IOException) {
      // I/O errors (reset by peer, broken pipe): the peer is gone
      if (closeDetail == null) {
        closeDetail = String.valueOf(cause.getMessage());
      }
      if ((yielded || inputEnded) && session != null && closeReason.get() == null) {
        // frames it sent before the reset wait for a later turn (or are being routed now, and a
        // reply to it failed): routed first, then the close (resumeTurn)
        inputEnded = true;
        return;
      }
      PeerCloses.forLoop(ctx.channel().eventLoop()).add(() -> close(CloseReason.PEER_CLOSED,
          null));
      return;
    }
    // anything else escaping the connection code is a bug: never silent, but its stack trace
    // once per cause (a stack overflow's is 62 KB)
    CauseLog.error(LOG, (session != null ? "client " + display(session.name())
        : "unregistered client") + ": internal error, closing the connection", cause);
    close(CloseReason.INTERNAL_ERROR, CauseLog.summary(cause));
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    cleanup();
    ctx.fireChannelInactive();
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    cleanup();
  }

  /**
   * Releases everything of this connection, once: its slots, timers and buffers, and its session
   * (unregistered: subscriptions, exclusions, secondaries). Each step runs whatever an earlier
   * one threw; the first failure is logged.
   */
  private void cleanup() {
    if (cleanedUp) {
      return;
    }
    cleanedUp = true;
    Throwable failure = null;
    try {
      if (accepted) {
        listener.released();
        listener.closed(this);
      }
      endHandshake();
      endBatch();
      decoder.stop();
      cancel(handshakeTimer);
      cancel(pingTimer);
      cancel(stallTimer);
      cancel(idleTimer);
      releaseHeld();
    } catch (RuntimeException | Error e) {
      failure = e;
    }
    closeReason.compareAndSet(null, CloseReason.PEER_CLOSED);
    CloseReason reason = closeReason.get();
    router.stats().countClose(reason);
    SocketSession s = session;
    if (s != null) {
      s.markClosed();
      try {
        router.unregister(s);
      } catch (RuntimeException | Error e) {
        failure = failure != null ? failure : e;
      }
      try {
        s.releaseQueued();
      } catch (RuntimeException | Error e) {
        failure = failure != null ? failure : e;
      }
    }
    if (pending != null) {
      pending.markClosed();
    }
    log(reason);
    if (failure != null) {
      CauseLog.error(LOG, (s != null ? "client " + display(s.name()) : "unregistered client")
          + ": a step of the connection's cleanup failed; the others completed", failure);
    }
  }

  /** Gives the handshake slot back, if this connection still holds it. */
  private void endHandshake() {
    if (handshakeSlot.compareAndSet(true, false)) {
      listener.endHandshake(this);
    }
  }

  /** Takes the handshake slot (by {@link ListenerRuntime#startHandshake}). */
  void takeHandshakeSlot() {
    handshakeSlot.set(true);
  }

  /**
   * Gives up the handshake slot for a newer connection ({@link ListenerRuntime#startHandshake})
   * and closes. Any thread.
   *
   * @return false when the slot was already released (the handshake completed meanwhile)
   */
  boolean evictFromHandshake() {
    if (!handshakeSlot.compareAndSet(true, false)) {
      return false;
    }
    try {
      ctx.executor().execute(() -> close(CloseReason.MAX_HANDSHAKES, "the oldest of "
          + opts.getMaxHandshakes() + " connections in their handshake, closed for a newer one"));
    } catch (java.util.concurrent.RejectedExecutionException e) {
      disconnect(CloseReason.MAX_HANDSHAKES);
    }
    return true;
  }

  private void log(CloseReason reason) {
    String who = session != null ? "client " + display(session.name()) : "unregistered client";
    String where = peer != null ? peer : String.valueOf(listener.label());
    switch (reason) {
      case ACCESS:
        if (session != null) {
          LOG.info("{} ({}) disconnected: {}{}", who, where, reason.key(), detail());
        } else if (LOG.isDebugEnabled()) {
          // a refusal by AAA: already logged as a WARN naming the client
          LOG.debug("{} ({}) disconnected: {}{}", who, where, reason.key(), detail());
        }
        break;
      case PEER_CLOSED:
      case REGISTRATION_REFUSED:
      case SHUTDOWN:
      case MAX_CONNECTIONS:
      case MAX_HANDSHAKES:
        if (LOG.isDebugEnabled()) {
          LOG.debug("{} ({}) disconnected: {}{}", who, where, reason.key(), detail());
        }
        break;
      case INTERNAL_ERROR:
        LOG.error("{} ({}) disconnected: {}{}", who, where, reason.key(), detail());
        break;
      case PROTOCOL_ERROR:
      case TLS:
      case SLOW_CONSUMER:
      case HANDSHAKE_TIMEOUT:
      case FRAME_TIMEOUT:
      case IDLE_TIMEOUT:
        LOG.warn("{} ({}) disconnected: {}{}", who, where, reason.key(), detail());
        break;
      default:
        LOG.info("{} ({}) disconnected: {}{}", who, where, reason.key(), detail());
    }
  }

  private String detail() {
    if (closeReason.get() == CloseReason.SLOW_CONSUMER && session != null
        && session.dropDetail() != null) {
      return " (" + session.dropDetail() + ")";
    }
    return closeDetail == null ? "" : " (" + closeDetail + ")";
  }

  private static void cancel(ScheduledFuture<?> f) {
    if (f != null) {
      f.cancel(false);
    }
  }

  /**
   * Closes the connection for {@code reason}; the first reason wins. Any thread.
   *
   * <p>The close starts at this handler ({@code ctx.close()}, not {@code channel().close()}): the
   * Vert.x handler behind it turns a close into "flush everything pending, then close", which
   * never completes for a peer that does not read (a slow consumer would stay connected and
   * registered forever). Bytes already flushed (a refusal code) still reach the peer.
   */
  void disconnect(CloseReason reason) {
    if (closeReason.compareAndSet(null, reason)) {
      SocketSession s = session;
      if (s != null) {
        s.markClosed();
      }
      if (ctx != null) {
        if (reason == CloseReason.SLOW_CONSUMER) {
          abort();
        } else {
          ctx.close();
        }
      }
    }
  }

  /**
   * Closes with a TCP reset (SO_LINGER 0): a slow consumer may have megabytes in the kernel's
   * send buffer, which a graceful close would keep trickling to a peer that reads slowly (for
   * minutes through a small window) before it sees the close; a reset drops them at once.
   */
  private void abort() {
    if (!ctx.executor().inEventLoop()) {
      try {
        ctx.executor().execute(this::abort);
      } catch (java.util.concurrent.RejectedExecutionException e) {
        ctx.close();
      }
      return;
    }
    if (kind == ClientKind.TCP) {
      try {
        ctx.channel().config().setOption(io.netty.channel.ChannelOption.SO_LINGER, 0);
      } catch (RuntimeException e) {
        // not supported by this transport: a plain close
      }
    }
    if (tlsHandler() != null) {
      // past the TLS handler, which would first flush a close_notify behind the stuck frames
      ctx.pipeline().firstContext().close();
    } else {
      ctx.close();
    }
  }

  private void close(CloseReason reason, String detail) {
    if (closeReason.get() == null && detail != null) {
      closeDetail = detail;
    }
    disconnect(reason);
    decoder.stop();
  }

  // ---------------------------------------------------------------- handshake (section 1)

  @Override
  public boolean onHello(int greeting, int version) {
    if (greeting != Protocol.GREETING || version != Protocol.VERSION) {
      refuse(Protocol.ERR_NOT_SUPPORTED, String.format("unsupported greeting %02x version %d",
          greeting, version));
      return false;
    }
    ctx.writeAndFlush(FrameEncoder.response(ctx.alloc(), Protocol.RESPONSE_OK), ctx.voidPromise());
    return true;
  }

  @Override
  public boolean onName(ByteBuf nameBytes) {
    String name = Utf8.decode(nameBytes, nameBytes.readerIndex(), nameBytes.readableBytes());
    String invalid = invalidName(name);
    if (invalid != null) {
      refuse(Protocol.ERR_DATA, invalid);
      return false;
    }
    // counted on the bytes: '.' is one byte in UTF-8 and never part of another character
    if (ClientOps.exceeds(nameBytes, nameBytes.readerIndex(), nameBytes.writerIndex(), (byte) '.',
        limits.maxNameParts())) {
      router.stats().countRefused(Limit.NAME_PARTS);
      LOG.warn("registration of {} from {} refused: a name of more than {} parts ({} {}; "
          + "answered 72)", display(name), peer != null ? peer : listener.label(),
          limits.maxNameParts(), Limit.NAME_PARTS.option(), limits.maxNameParts());
      refuse(Protocol.ERR_DATA, "client name of more than " + limits.maxNameParts() + " parts");
      return false;
    }
    String notCn = nameNotCn(name);
    if (notCn != null) {
      LOG.warn("registration of {} from {} refused: {} (tls.name_from_cn)", display(name),
          peer != null ? peer : listener.label(), notCn);
      refuse(Protocol.ERR_ACCESS, CloseReason.ACCESS, notCn);
      return false;
    }
    SocketSession s = new SocketSession(name, kind, peer, listener.label(), this, ctx, scheduler,
        listener, router.alloc());
    s.limits(limits);
    // checks in elbus' order: name (72), AAA (79), registration (76 / 71)
    AaaPolicy policy = listener.aaa();
    if (policy != null) {
      ClientAcl acl = policy.forClient(name);
      if (acl == null || (remoteAddress != null && !acl.hostAllowed(remoteAddress))) {
        LOG.warn("registration of {} from {} refused by AAA: {}", display(name),
            peer != null ? peer : listener.label(),
            acl == null ? "not in the AAA map" : "host not allowed");
        router.stats().countDenied(AccessOp.REGISTER);
        refuse(Protocol.ERR_ACCESS, CloseReason.ACCESS, "refused by AAA");
        return false;
      }
      s.rights(acl);
    }
    return register(s, policy);
  }

  /**
   * The CN rule ({@code tls.name_from_cn}, docs/aaa.md): why {@code name} may not register with
   * this connection's client certificate, or {@code null} when it may (or the rule is off). The
   * primary name (before {@code %%}) must equal the certificate's one CN.
   */
  private String nameNotCn(String name) {
    ListenerTls tls = listener.tls();
    if (tls == null || !tls.options().isNameFromCn()) {
      return null;
    }
    SslHandler h = tlsHandler();
    String[] why = new String[1];
    String cn = h == null ? null : ListenerTls.commonName(h.engine().getSession(), why);
    if (cn == null) {
      return why[0] != null ? why[0] : "no client certificate";
    }
    int sep = name.indexOf(Protocol.SECONDARY_SEP);
    String primary = sep < 0 ? name : name.substring(0, sep);
    if (!primary.equals(cn)) {
      return "name '" + display(primary) + "' is not the client certificate's CN '"
          + display(cn) + "'";
    }
    return null;
  }

  /**
   * Registers {@code s} and answers. When the name is taken by a socket client of this broker,
   * that holder may be a connection its client has just closed, whose close this broker has not
   * processed yet (the client reconnects at once, maybe on another event loop): the registration
   * is then retried every millisecond for up to {@link #REGISTRATION_RETRIES} ms before {@code 76}
   * is answered. Frames the client sends meanwhile are held and routed after the answer. In a
   * cluster the name is claimed in the cluster first: the answer comes later ({@link
   * #registered}), and frames are held meanwhile too.
   *
   * @return false when refused (the connection is closing)
   */
  private boolean register(SocketSession s, AaaPolicy policy) {
    int code = router.register(s, opts.isForceRegister(), c -> registered(s, policy, c));
    if (code == Router.PENDING) {
      pending = s;
      return true;
    }
    if (code == Protocol.ERR_BUSY && router.registry().get(s.name()) == null) {
      // the holder left between the attempt and the look-up: the name is free now
      code = router.register(s, opts.isForceRegister(), c -> registered(s, policy, c));
      if (code == Router.PENDING) {
        pending = s;
        return true;
      }
    }
    return decided(s, policy, code);
  }

  /**
   * The cluster's answer to a registration ({@link #register}), from any thread, carried on on
   * this connection's event loop: a claimed name is registered here and answered in one task, so
   * that nothing routed to the new session is written before the answer. A connection that
   * closed meanwhile gives the claim up.
   */
  private void registered(SocketSession s, AaaPolicy policy, int claim) {
    try {
      ctx.executor().execute(() -> {
        if (pending != s || cleanedUp || closeReason.get() != null) {
          if (pending == s) {
            pending = null;
          }
          if (claim == Protocol.RESPONSE_OK) {
            router.abandonClaim(s);
          }
          return;
        }
        int code = claim == Protocol.RESPONSE_OK
            ? router.registerClaimed(s, opts.isForceRegister()) : claim;
        if (code == Protocol.ERR_BUSY && registrationRetries < REGISTRATION_RETRIES
            && router.registry().get(s.name()) == null) {
          registrationRetries++;
          register(s, policy); // the local holder left meanwhile
          return;
        }
        decided(s, policy, code);
      });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      if (claim == Protocol.RESPONSE_OK) {
        router.abandonClaim(s);
      }
    }
  }

  /** Answers a registration whose code is known: retried, refused or accepted. */
  private boolean decided(SocketSession s, AaaPolicy policy, int code) {
    if (code == Protocol.ERR_BUSY && registrationRetries < REGISTRATION_RETRIES
        && router.registry().get(s.name()) instanceof SocketSession) {
      registrationRetries++;
      pending = s;
      ctx.executor().schedule(() -> {
        if (pending == s && closeReason.get() == null) {
          pending = null;
          register(s, policy);
        }
      }, 1, TimeUnit.MILLISECONDS);
      return true;
    }
    pending = null;
    if (code != Protocol.RESPONSE_OK) {
      refuse(code, "registration of '" + display(s.name()) + "' refused: "
          + Protocol.codeName(code));
      releaseHeld();
      decoder.stop();
      return false;
    }
    session = s;
    ops = ClientOps.of(router, s);
    endHandshake();
    if (listener.aaa() != policy) {
      // the policy was replaced while this client registered: apply the new one now
      listener.recheck(s);
    }
    // written before anything routed to the new session: its queue drains only after this call
    ctx.writeAndFlush(FrameEncoder.response(ctx.alloc(), Protocol.RESPONSE_OK), ctx.voidPromise());
    cancel(handshakeTimer);
    handshakeTimer = null;
    pingTimer = ctx.executor().scheduleAtFixedRate(this::ping, opts.getTimeoutMs(),
        opts.getTimeoutMs(), TimeUnit.MILLISECONDS);
    if (opts.getIdleTimeoutMs() > 0) {
      lastInputNanos = System.nanoTime();
      idleTimer = ctx.executor().schedule(this::checkIdle, opts.getIdleTimeoutMs(),
          TimeUnit.MILLISECONDS);
    }
    if (closeReason.get() != null) {
      // forced out while registering (e.g. a shutdown): undo at once
      s.markClosed();
      ctx.close();
    }
    if (LOG.isDebugEnabled()) {
      LOG.debug("client {} registered ({} {})", s.name(), kind.wireName(),
          peer != null ? peer : listener.label());
    }
    replayHeld();
    return true;
  }

  /** Routes the frames held while the registration was pending, in order. */
  private void replayHeld() {
    List<HeldFrame> h = held;
    held = null;
    heldBytes = 0;
    if (h == null) {
      return;
    }
    int i = 0;
    try {
      scheduler.beginBatch();
      for (; i < h.size(); i++) {
        HeldFrame f = h.get(i);
        try {
          if (!onFrame(f.opId(), f.flags(), f.body(), f.body().readerIndex(),
              f.body().readableBytes())) {
            break;
          }
        } catch (ProtocolException e) {
          close(CloseReason.PROTOCOL_ERROR, e.getMessage());
          break;
        } catch (RuntimeException | Error e) {
          exceptionCaught(ctx, e);
          break;
        } finally {
          f.body().release();
        }
      }
    } finally {
      for (int j = i + 1; j < h.size(); j++) {
        h.get(j).body().release();
      }
      scheduler.endBatch();
    }
  }

  private void releaseHeld() {
    List<HeldFrame> h = held;
    held = null;
    heldBytes = 0;
    if (h != null) {
      for (HeldFrame f : h) {
        f.body().release();
      }
    }
  }

  /**
   * Keeps a copy of a frame that arrived while the registration was pending. A client should
   * wait for the answer to its name; one that pipelines may have up to {@code max_frame_size}
   * bytes held.
   */
  private boolean hold(int opId, int flags, ByteBuf body, int start, int len) {
    heldBytes += len;
    if (heldBytes > opts.getMaxFrameSize()) {
      throw new ProtocolException("more than max_frame_size (" + opts.getMaxFrameSize()
          + ") bytes of frames sent before the registration was answered");
    }
    if (held == null) {
      held = new ArrayList<>();
    }
    ByteBuf copy = ctx.alloc().buffer(len);
    copy.writeBytes(body, start, len);
    held.add(new HeldFrame(opId, flags, copy));
    return true;
  }

  /** A client name for a log line: long names (up to 64 KiB) are cut. */
  static String display(String name) {
    return Session.display(name);
  }

  /** Why a name cannot be registered (section 1), or {@code null} when it is acceptable. */
  static String invalidName(String name) {
    if (name == null) {
      return "client name is not valid UTF-8";
    }
    if (name.isEmpty()) {
      return "empty client name";
    }
    if (name.charAt(0) == '.') {
      return "client name '" + display(name) + "' starts with '.' (reserved for internal clients)";
    }
    if (name.indexOf('\0') >= 0) {
      return "client name contains a NUL byte";
    }
    if (name.startsWith(Protocol.SECONDARY_SEP)) {
      return "secondary client name '" + display(name) + "' has an empty primary name";
    }
    return null;
  }

  private void refuse(int code, String why) {
    refuse(code, CloseReason.REGISTRATION_REFUSED, why);
  }

  /** Answers the handshake with {@code code} (counted as a refused registration) and closes. */
  private void refuse(int code, CloseReason reason, String why) {
    router.stats().countRegistrationRefused(code);
    closeDetail = why;
    ctx.writeAndFlush(FrameEncoder.response(ctx.alloc(), code), ctx.voidPromise());
    disconnect(reason);
  }

  private void ping() {
    SocketSession s = session;
    if (s != null) {
      s.deliver(FrameEncoder.ping(ctx.alloc()), false);
    }
  }

  // ---------------------------------------------------------------- frames (sections 2 and 5)

  @Override
  public boolean onPing() {
    return true;
  }

  @Override
  public boolean onFrame(int opId, int flags, ByteBuf body, int start, int len) {
    SocketSession s = session;
    if (s == null) {
      return pending != null && hold(opId, flags, body, start, len);
    }
    if (s.isClosed()) {
      return false;
    }
    ops.frame(opId, flags, body, start, len);
    if (++framesSinceCheck >= CHECK_EVERY || work.takeHeavy()) {
      framesSinceCheck = 0;
      if (System.nanoTime() - turnStartNanos >= turnBudgetNanos) {
        yieldTurn();
      }
    }
    return true;
  }
}
