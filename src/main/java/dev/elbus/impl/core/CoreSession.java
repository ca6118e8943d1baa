package dev.elbus.impl.core;

import dev.elbus.client.Frame;
import dev.elbus.impl.cluster.ClusterNode;
import dev.elbus.impl.codec.Buffers;
import dev.elbus.impl.codec.ProtocolException;
import dev.elbus.impl.codec.RpcFrames;
import dev.elbus.impl.routing.CauseLog;
import dev.elbus.impl.routing.ClientKind;
import dev.elbus.impl.routing.ClientOps;
import dev.elbus.impl.routing.CloseReason;
import dev.elbus.impl.routing.LoopWork;
import dev.elbus.impl.routing.Router;
import dev.elbus.impl.routing.Session;
import dev.elbus.protocol.Protocol;
import dev.elbus.rpc.MsgPack;
import dev.elbus.rpc.RpcErrorCode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.vertx.core.buffer.Buffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.LongAdder;

/**
 * The broker's own internal client {@code .broker} (PROTOCOL.md sections 8 and 10). It answers
 * the core RPC methods inline, on the thread that routed the request to it (no hop to another
 * event loop: a call costs one read batch and one flush), and publishes the announcements on
 * {@code .broker/info} and {@code .broker/warn}.
 *
 * <p>Every request with a call id gets an answer: a malformed request whose call id could be read
 * gets -32600, and a failure of a method (a stack overflow included) gets an RPC error, never a
 * disconnect of the caller; its stack trace is logged once per cause. A reply whose size grows
 * with the clients ({@code client.list}) is bounded ({@link #CLIENT_LIST_MAX_BYTES}) and read in
 * pages.
 */
final class CoreSession extends Session {
  private static final Logger LOG = LoggerFactory.getLogger(CoreSession.class);
  static final String AUTHOR = "elbus for the JVM contributors";
  static final String VERSION = readVersion();
  /** {@code {"ok": true}}. */
  private static final Buffer OK = Buffer.buffer(MsgPack.encode(Map.of("ok", true)));

  /** The methods counted by name; the last, {@code other}, counts any other. */
  static final List<String> METHODS = List.of("test", "info", "stats", "client.list",
      "benchmark.test", "other");

  private final Router router;
  // per METHODS entry; a LongAdder increment per request (the caller's event loop, any of them)
  private final LongAdder[] answered = adders(METHODS.size());
  private final LongAdder[] failures = adders(METHODS.size());
  /** What {@code .broker} sends, as any client's operations (not counted as received). */
  private final ClientOps ops;
  private volatile boolean rpc;
  /** The cluster this broker is a node of, {@code null} for a single broker. */
  private volatile ClusterNode cluster;

  CoreSession(Router router, boolean rpc) {
    super(Protocol.BROKER_NAME, ClientKind.INTERNAL, null, null);
    this.router = router;
    this.ops = ClientOps.uncounted(router, this);
    this.rpc = rpc;
  }

  private static LongAdder[] adders(int n) {
    LongAdder[] a = new LongAdder[n];
    for (int i = 0; i < n; i++) {
      a[i] = new LongAdder();
    }
    return a;
  }

  private static String readVersion() {
    try (InputStream in = CoreSession.class.getResourceAsStream("/elbus-version.properties")) {
      Properties p = new Properties();
      if (in != null) {
        p.load(in);
      }
      return p.getProperty("version", "unknown");
    } catch (IOException e) {
      return "unknown";
    }
  }

  @Override
  public int deliver(ByteBuf frame, boolean realtime) {
    LoopWork.markHeavy(); // the caller's connection reads its clock after this frame
    try {
      if (rpc && frame.getUnsignedByte(frame.readerIndex()) == Protocol.FRAME_MESSAGE) {
        handle(frame, realtime);
      }
    } catch (RuntimeException | StackOverflowError e) {
      // not the caller's fault, and never its disconnect
      CauseLog.error(LOG, ".broker: failed to handle a frame", e);
    } finally {
      frame.release();
    }
    return Protocol.RESPONSE_OK;
  }

  private void handle(ByteBuf frame, boolean realtime) {
    Frame f;
    try {
      f = Frame.parse(Protocol.FRAME_MESSAGE, realtime, frame.slice(
          frame.readerIndex() + Protocol.BROKER_HEADER_SIZE,
          frame.readableBytes() - Protocol.BROKER_HEADER_SIZE));
    } catch (ProtocolException e) {
      return;
    }
    String sender = f.sender();
    Buffer payload = f.payload();
    RpcFrames.Parsed parsed = RpcFrames.parse(payload);
    long callId;
    Buffer reply;
    if (parsed instanceof RpcFrames.Invalid) {
      RpcFrames.Invalid inv = (RpcFrames.Invalid) parsed;
      LOG.debug(".broker: invalid RPC frame from {}: {}", Session.display(sender), inv.reason());
      callId = inv.callId();
      if (callId <= 0) {
        return;
      }
      reply = RpcFrames.error(callId, RpcErrorCode.INVALID_REQUEST, Buffer.buffer(inv.reason()));
    } else if (parsed instanceof RpcFrames.Request) {
      RpcFrames.Request req = (RpcFrames.Request) parsed;
      callId = req.callId();
      ClusterNode c = cluster;
      if (c != null && callId != 0 && (req.method().equals("client.list")
          || req.method().equals("stats"))) {
        clusterAnswer(c, req, sender, realtime);
        return;
      }
      reply = answer(req, sender);
      if (callId == 0) {
        return;
      }
    } else {
      return;
    }
    int code = ops.message(sender, Buffers.byteBuf(reply), realtime);
    if (code != Protocol.RESPONSE_OK) {
      LOG.debug(".broker: reply to {} not delivered: {}", Session.display(sender),
          Protocol.codeName(code));
    }
  }

  /** Sends {@code reply} to {@code sender} (a local client). */
  private void reply(String sender, Buffer reply, boolean realtime) {
    int code = ops.message(sender, Buffers.byteBuf(reply), realtime);
    if (code != Protocol.RESPONSE_OK) {
      LOG.debug(".broker: reply to {} not delivered: {}", Session.display(sender),
          Protocol.codeName(code));
    }
  }

  /** Makes {@code client.list} and {@code stats} answer for the whole cluster of {@code c}. */
  void cluster(ClusterNode c) {
    this.cluster = c;
    c.views(params -> {
      try {
        Map<String, Object> page = clientList(MsgPack.paramsKind(params) == MsgPack.ParamsKind.MAP
            ? listParams(params) : Map.of());
        Map<String, Integer> detached = c.detachedSecondaries();
        if (!detached.isEmpty()) {
          page.put("secondaries", new LinkedHashMap<>(detached));
        }
        return ClusterViews.encode(page);
      } catch (CoreError e) {
        return ClusterViews.encode(Map.of("clients", List.of(), "error", e.getMessage()));
      }
    }, () -> ClusterViews.encode(nodeStats(c)));
  }

  /** This node's {@code stats} with its name, client count and cluster counters. */
  private Map<String, Object> nodeStats(ClusterNode c) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("node", c.nodeName());
    m.putAll(stats());
    m.put("clients", (long) router.registry().primaries().size());
    Map<String, Object> link = new LinkedHashMap<>(c.localStats());
    link.remove("node");
    m.put("links", link);
    return m;
  }

  /**
   * {@code client.list} or {@code stats} of the whole cluster: this node's answer at once, the
   * others' as they come (within the cluster timeout), merged, then sent.
   */
  private void clusterAnswer(ClusterNode c, RpcFrames.Request req, String sender,
      boolean realtime) {
    long callId = req.callId();
    try {
      Buffer params = req.params();
      MsgPack.ParamsKind kind = MsgPack.paramsKind(params);
      if (kind == MsgPack.ParamsKind.NOT_MAP) {
        throw new CoreError(RpcErrorCode.PARSE, "params are not a MessagePack map");
      }
      boolean noParams = kind != MsgPack.ParamsKind.MAP;
      io.vertx.core.Future<Map<String, Object>> merged;
      if (req.method().equals("stats")) {
        requireNoParams(noParams, "stats");
        Map<String, Object> local = nodeStats(c);
        merged = c.askStats().map(answers -> ClusterViews.mergeStats(c.clusterName(), local,
            answers));
      } else {
        Map<String, Object> p = noParams ? Map.of() : listParams(params);
        Map<String, Object> local = clientList(p);
        Map<String, Integer> detached = c.detachedSecondaries();
        long limit = p.get("limit") == null ? Long.MAX_VALUE : (Long) p.get("limit");
        merged = c.askList(noParams ? MsgPack.encodeBuffer(Map.of()) : params).map(answers ->
            ClusterViews.mergeList(c.nodeName(), local, detached, answers, limit));
      }
      merged.onComplete(ar -> reply(sender, ar.succeeded()
          ? RpcFrames.reply(callId, MsgPack.encodeBuffer(ar.result()))
          : RpcFrames.error(callId, RpcErrorCode.INTERNAL, Buffer.buffer(req.method()
              + ": " + ar.cause())), realtime));
    } catch (CoreError e) {
      reply(sender, RpcFrames.error(callId, e.code, Buffer.buffer(e.getMessage())), realtime);
    } catch (RuntimeException e) {
      CauseLog.error(LOG, ".broker: " + req.method() + " from " + Session.display(sender)
          + " failed", e);
      reply(sender, RpcFrames.error(callId, RpcErrorCode.INTERNAL, Buffer.buffer(req.method()
          + ": internal error: " + e)), realtime);
    }
  }

  /**
   * The reply to a request, or its error reply: a method's failure of any kind but the JVM's own
   * (out of memory) is an RPC error for the caller.
   */
  private Buffer answer(RpcFrames.Request req, String sender) {
    int m = METHODS.indexOf(req.method());
    if (m < 0) {
      m = METHODS.size() - 1;
    }
    try {
      Buffer reply = RpcFrames.reply(req.callId(), call(req.method(), req.params()));
      answered[m].increment();
      return reply;
    } catch (CoreError e) {
      failures[m].increment();
      return RpcFrames.error(req.callId(), e.code, Buffer.buffer(e.getMessage()));
    } catch (StackOverflowError e) {
      failures[m].increment();
      CauseLog.error(LOG, ".broker: " + req.method() + " from " + Session.display(sender)
          + " overflowed the stack", e);
      return RpcFrames.error(req.callId(), RpcErrorCode.INTERNAL,
          Buffer.buffer(req.method() + ": stack overflow"));
    } catch (RuntimeException | LinkageError | AssertionError e) {
      failures[m].increment();
      CauseLog.error(LOG, ".broker: " + req.method() + " from " + Session.display(sender)
          + " failed", e);
      return RpcFrames.error(req.callId(), RpcErrorCode.INTERNAL,
          Buffer.buffer(req.method() + ": internal error: " + e));
    }
  }

  /**
   * RPC requests to {@code .broker} for {@code method} (one of {@link #METHODS}; {@code other}
   * counts the rest) answered with a result.
   */
  long answered(String method) {
    return answered[METHODS.indexOf(method)].sum();
  }

  /** RPC requests for {@code method} answered with an RPC error. */
  long failures(String method) {
    return failures[METHODS.indexOf(method)].sum();
  }

  /** The core methods, checked in elbus' order (section 10). */
  private Buffer call(String method, Buffer params) {
    if (method.equals("benchmark.test")) {
      return params;
    }
    MsgPack.ParamsKind kind = MsgPack.paramsKind(params);
    if (kind == MsgPack.ParamsKind.NOT_MAP) {
      throw new CoreError(RpcErrorCode.PARSE, "params are not a MessagePack map");
    }
    boolean noParams = kind != MsgPack.ParamsKind.MAP;
    switch (method) {
      case "test":
        requireNoParams(noParams, method);
        return OK;
      case "info":
        requireNoParams(noParams, method);
        return MsgPack.encodeBuffer(MsgPack.map("author", AUTHOR, "version", VERSION));
      case "stats":
        requireNoParams(noParams, method);
        return MsgPack.encodeBuffer(stats());
      case "client.list":
        return MsgPack.encodeBuffer(clientList(noParams ? Map.of() : listParams(params)));
      default:
        throw new CoreError(RpcErrorCode.METHOD_NOT_FOUND, "method not found: " + method);
    }
  }

  /** This node's counters, as {@code stats} answers them. */
  Map<String, Object> stats() {
    Map<String, Object> m = MsgPack.map(
        "uptime", router.stats().uptimeSeconds(),
        "r_frames", router.stats().rFrames(),
        "r_bytes", router.stats().rBytes(),
        "w_frames", router.stats().wFrames(),
        "w_bytes", router.stats().wBytes(),
        // additions to elbus' shape (clients ignore unknown keys): frames internal clients
        // refused at their queue bound, disconnects per reason, inputs refused per client
        // limit
        "dropped", router.stats().dropped(),
        "disconnects", new LinkedHashMap<>(router.stats().closeCounts()),
        "refused", new LinkedHashMap<>(router.stats().refusedCounts()));
    return m;
  }

  private static void requireNoParams(boolean noParams, String method) {
    if (!noParams) {
      throw new CoreError(RpcErrorCode.INVALID_PARAMS, method + " takes no params");
    }
  }

  /**
   * Character reads a {@code client.list} filter may spend over all names of one call. {@code
   * java.util.regex} backtracks, so a filter such as {@code (.*a){6}$} over a long name would hold
   * this event loop for hours (BUS/RT's Rust regex runs in linear time); this bounds a call to tens
   * of milliseconds of matching while leaving room for ordinary filters over thousands of names.
   */
  static final long FILTER_BUDGET = 2_000_000;

  /**
   * Encoded size of the entries of one {@code client.list} reply at most (about; the entry that
   * crosses it is included, so at least one entry always fits): about 5,000 ordinary entries.
   * The reply is built on the caller's event loop, so its size bounds how long that loop is
   * held; 300 clients of 65,535-byte names made a reply of 19.7 MB built in 1.17 s.
   */
  static final int CLIENT_LIST_MAX_BYTES = 1024 * 1024;

  /** Encoded bytes of one entry besides its strings (keys, counters, headers). */
  private static final int ENTRY_OVERHEAD = 160;

  /**
   * {@code client.list} params: {@code filter} (a regex over primary names, BUS/RT; nil: none),
   * {@code after} (only names sorted after this one) and {@code limit} (at most this many
   * entries).
   */
  private static Map<String, Object> listParams(Buffer params) {
    Map<String, Object> m;
    try {
      m = MsgPack.decodeMap(params);
    } catch (MsgPack.DecodeException e) {
      // a map, but not one with string keys (or nested too deep): answer, never stay silent
      throw new CoreError(RpcErrorCode.INVALID_PARAMS, "client.list: params must be a map with "
          + "string keys: " + e.getMessage());
    }
    for (String k : m.keySet()) {
      if (!k.equals("filter") && !k.equals("after") && !k.equals("limit")) {
        throw new CoreError(RpcErrorCode.INVALID_PARAMS, "client.list: unknown param '" + k
            + "' (accepted: filter, after, limit)");
      }
    }
    Object after = m.get("after");
    if (after != null && !(after instanceof String)) {
      throw new CoreError(RpcErrorCode.INVALID_PARAMS, "client.list: after must be a string");
    }
    Object limit = m.get("limit");
    if (limit != null && (!(limit instanceof Long) || (Long) limit < 1)) {
      throw new CoreError(RpcErrorCode.INVALID_PARAMS, "client.list: limit must be a positive "
          + "integer");
    }
    return m;
  }

  /** A filter regex, {@code null} for none. */
  private static java.util.regex.Pattern filter(Object f) {
    if (f == null) {
      return null;
    }
    if (!(f instanceof String)) {
      throw new CoreError(RpcErrorCode.INVALID_PARAMS, "client.list: filter must be a string");
    }
    try {
      return java.util.regex.Pattern.compile((String) f);
    } catch (java.util.regex.PatternSyntaxException e) {
      throw new CoreError(RpcErrorCode.INVALID_PARAMS, "client.list: invalid filter regex: "
          + e.getDescription() + " near index " + e.getIndex() + " of '" + f + "'");
    } catch (StackOverflowError e) {
      throw new CoreError(RpcErrorCode.INVALID_PARAMS, "client.list: filter regex too deeply "
          + "nested");
    }
  }

  /**
   * {@code {"clients": [...]}}: the registered primaries sorted by name, read in order from the
   * registry's sorted view (no sort per call), from {@code after} on, until {@code limit}
   * entries or about {@link #CLIENT_LIST_MAX_BYTES}; {@code "more": true} when some were left out
   * (continue with {@code after} = the last name returned).
   */
  Map<String, Object> clientList(Map<String, Object> params) {
    java.util.regex.Pattern filter = filter(params.get("filter"));
    String after = (String) params.get("after");
    long limit = params.get("limit") == null ? Long.MAX_VALUE : (Long) params.get("limit");
    java.util.NavigableMap<String, Session> all = router.registry().primaries();
    java.util.Collection<Session> from = after == null ? all.values()
        : all.tailMap(after, false).values();
    List<Object> out = new ArrayList<>();
    long bytes = 0;
    long[] budget = {FILTER_BUDGET};
    boolean more = false;
    for (Session s : from) {
      if (filter != null && !matches(filter, s.name(), budget)) {
        continue;
      }
      if (out.size() >= limit || bytes >= CLIENT_LIST_MAX_BYTES) {
        more = true;
        break;
      }
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", s.name());
      m.put("kind", s.kind().wireName());
      m.put("source", s.source());
      m.put("port", s.port());
      m.put("r_frames", s.rFrames());
      m.put("r_bytes", s.rBytes());
      m.put("w_frames", s.wFrames());
      m.put("w_bytes", s.wBytes());
      m.put("queue", (long) s.queued());
      m.put("instances", (long) (1 + s.secondaryCount()));
      if (s.kind() == ClientKind.INTERNAL) {
        m.put("dropped", s.dropped()); // an addition: frames refused at the queue bound
      }
      out.add(m);
      bytes += ENTRY_OVERHEAD + s.nameBytes().length
          + (s.source() == null ? 0 : s.source().length())
          + (s.port() == null ? 0 : s.port().length());
    }
    Map<String, Object> reply = new LinkedHashMap<>();
    reply.put("clients", out);
    if (more) {
      reply.put("more", true);
    }
    return reply;
  }

  /** Encoded bytes of an entry of {@code client.list}, about (see {@link #CLIENT_LIST_MAX_BYTES}). */
  static long entryBytes(Map<?, ?> entry) {
    long n = ENTRY_OVERHEAD;
    for (String k : new String[] {"name", "source", "port", "node"}) {
      Object v = entry.get(k);
      if (v instanceof String) {
        n += ((String) v).length();
      }
    }
    return n;
  }

  /**
   * {@code filter.matcher(name).find()}, charging every character read to {@code budget}. The
   * regex engine recurses on some patterns (e.g. {@code (a|aa)*b}) once per repetition: over a
   * long name that overflows the stack, which is answered as a filter too complex for the names.
   */
  private static boolean matches(java.util.regex.Pattern filter, String name, long[] budget) {
    try {
      return filter.matcher(new MeteredName(name, budget)).find();
    } catch (MeteredName.Exhausted e) {
      throw new CoreError(RpcErrorCode.INVALID_PARAMS, "client.list: filter '" + filter
          + "' is too expensive (more than " + FILTER_BUDGET + " character reads over the "
          + "client names)");
    } catch (StackOverflowError e) {
      throw new CoreError(RpcErrorCode.INVALID_PARAMS, "client.list: filter '" + filter
          + "' is too complex for a name of " + name.length() + " characters (the regex engine "
          + "ran out of stack)");
    }
  }

  /** A name as the regex engine reads it: each {@link #charAt} spends one unit of a budget. */
  private static final class MeteredName implements CharSequence {
    private final String s;
    private final long[] budget;

    MeteredName(String s, long[] budget) {
      this.s = s;
      this.budget = budget;
    }

    @Override
    public char charAt(int index) {
      if (--budget[0] < 0) {
        throw Exhausted.INSTANCE;
      }
      return s.charAt(index);
    }

    @Override
    public int length() {
      return s.length();
    }

    @Override
    public CharSequence subSequence(int start, int end) {
      return new MeteredName(s.substring(start, end), budget);
    }

    @Override
    public String toString() {
      return s;
    }

    /** The budget ran out (stackless: thrown from deep inside the regex engine). */
    private static final class Exhausted extends RuntimeException {
      private static final long serialVersionUID = 1L;
      static final Exhausted INSTANCE = new Exhausted();

      private Exhausted() {
        super("filter budget exhausted", null, false, false);
      }
    }
  }

  /** Publishes {@code .broker/info} {@code {s: reg|unreg, d: NAME, t: NANOS}} (section 8). */
  void announce(Session s, boolean registered) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("s", registered ? "reg" : "unreg");
    m.put("d", s.name());
    m.put("t", nowNanos());
    publish(Protocol.TOPIC_INFO, MsgPack.encode(m));
  }

  /** Publishes {@code .broker/warn} {@code {s: "shutdown", t: NANOS}}. */
  void announceShutdown() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("s", "shutdown");
    m.put("t", nowNanos());
    publish(Protocol.TOPIC_WARN, MsgPack.encode(m));
  }

  private void publish(String topic, byte[] payload) {
    ops.publish(topic, Unpooled.wrappedBuffer(payload), false);
  }

  /** Wall-clock time in nanoseconds since the Unix epoch. */
  static long nowNanos() {
    Instant now = Instant.now();
    return now.getEpochSecond() * 1_000_000_000L + now.getNano();
  }

  @Override
  public void disconnect(CloseReason reason) {
    // the broker's own client stays for the broker's lifetime
  }

  @Override
  public int queued() {
    return 0;
  }

  /** A core RPC error: code and message. */
  private static final class CoreError extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final short code;

    CoreError(short code, String message) {
      super(message, null, false, false);
      this.code = code;
    }
  }
}
