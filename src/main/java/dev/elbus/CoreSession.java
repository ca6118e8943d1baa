package dev.elbus;

import dev.elbus.protocol.Protocol;
import dev.elbus.routing.ClientKind;
import dev.elbus.routing.CloseReason;
import dev.elbus.routing.Router;
import dev.elbus.routing.Session;
import dev.elbus.rpc.MsgPack;
import dev.elbus.rpc.RpcErrorCode;
import dev.elbus.rpc.RpcFrames;
import io.netty.buffer.ByteBuf;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
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

/**
 * The broker's own internal client {@code .broker} (PROTOCOL.md sections 8 and 10). It answers
 * the core RPC methods inline, on the thread that routed the request to it (no hop to another
 * event loop: a call costs one read batch and one flush), and publishes the announcements on
 * {@code .broker/info} and {@code .broker/warn}.
 */
final class CoreSession extends Session {
  private static final Logger LOG = LoggerFactory.getLogger(CoreSession.class);
  static final String AUTHOR = "elbus for the JVM contributors";
  static final String VERSION = readVersion();
  /** {@code {"ok": true}}. */
  private static final Buffer OK = Buffer.buffer(MsgPack.encode(Map.of("ok", true)));

  private final Broker broker;
  private final Router router;
  private volatile boolean rpc;

  CoreSession(Broker broker, Router router, boolean rpc) {
    super(Protocol.BROKER_NAME, ClientKind.INTERNAL, null, null);
    this.broker = broker;
    this.router = router;
    this.rpc = rpc;
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
    try {
      if (rpc && frame.getUnsignedByte(frame.readerIndex()) == Protocol.FRAME_MESSAGE) {
        handle(frame, realtime);
      }
    } catch (RuntimeException e) {
      LOG.warn(".broker: failed to handle a frame", e);
    } finally {
      frame.release();
    }
    return Protocol.RESPONSE_OK;
  }

  private void handle(ByteBuf frame, boolean realtime) {
    int start = frame.readerIndex() + Protocol.BROKER_HEADER_SIZE;
    int end = frame.writerIndex();
    int z = frame.indexOf(start, end, (byte) 0);
    if (z < 0) {
      return;
    }
    String sender = dev.elbus.protocol.Utf8.decode(frame, start, z - start);
    if (sender == null) {
      return;
    }
    Buffer payload = BufferInternal.buffer(frame.slice(z + 1, end - z - 1));
    RpcFrames.Parsed parsed = RpcFrames.parse(payload);
    if (!(parsed instanceof RpcFrames.Request)) {
      if (parsed instanceof RpcFrames.Invalid) {
        LOG.debug(".broker: dropped a frame from {}: {}", sender,
            ((RpcFrames.Invalid) parsed).reason());
      }
      return;
    }
    RpcFrames.Request req = (RpcFrames.Request) parsed;
    Buffer reply;
    try {
      reply = RpcFrames.reply(req.callId(), call(req.method(), req.params()));
    } catch (CoreError e) {
      reply = RpcFrames.error(req.callId(), e.code, Buffer.buffer(e.getMessage()));
    }
    if (req.callId() == 0) {
      return;
    }
    // the broker's own frames are not "received from clients": no r_* counting
    ByteBuf out = ((BufferInternal) reply).getByteBuf();
    // body length as for any message: target (the caller's name, in UTF-8 bytes) 00 payload
    int stat = (z - start) + 1 + out.readableBytes();
    int code = router.message(this, sender, out, out.readerIndex(), out.readableBytes(),
        realtime, stat);
    if (code != Protocol.RESPONSE_OK) {
      LOG.debug(".broker: reply to {} not delivered: {}", sender, Protocol.codeName(code));
    }
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
        return MsgPack.encodeBuffer(MsgPack.map(
            "uptime", broker.stats().uptimeSeconds(),
            "r_frames", broker.stats().rFrames(),
            "r_bytes", broker.stats().rBytes(),
            "w_frames", broker.stats().wFrames(),
            "w_bytes", broker.stats().wBytes(),
            // additions to elbus' shape (clients ignore unknown keys): disconnects per reason,
            // inputs refused per client limit
            "disconnects", new LinkedHashMap<>(broker.stats().closeCounts()),
            "refused", new LinkedHashMap<>(broker.stats().refusedCounts())));
      case "client.list":
        return MsgPack.encodeBuffer(Map.of("clients", clientList(noParams ? null
            : filter(params))));
      default:
        throw new CoreError(RpcErrorCode.METHOD_NOT_FOUND, "method not found: " + method);
    }
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
   * {@code client.list} params (BUS/RT): {@code {"filter": REGEX}} over primary names; {@code
   * null} means no filter (no params, or a nil filter as BUS/RT's optional field).
   */
  private static java.util.regex.Pattern filter(Buffer params) {
    Map<String, Object> m;
    try {
      m = MsgPack.decodeMap(params);
    } catch (MsgPack.DecodeException e) {
      // a map, but not one with string keys (or nested too deep): answer, never stay silent
      throw new CoreError(RpcErrorCode.INVALID_PARAMS, "client.list: params must be a map with "
          + "string keys: " + e.getMessage());
    }
    for (String k : m.keySet()) {
      if (!k.equals("filter")) {
        throw new CoreError(RpcErrorCode.INVALID_PARAMS, "client.list: unknown param '" + k
            + "' (only 'filter' is accepted)");
      }
    }
    Object f = m.get("filter");
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
    }
  }

  private List<Object> clientList(java.util.regex.Pattern filter) {
    List<Object> out = new ArrayList<>();
    long[] budget = {FILTER_BUDGET};
    for (ClientInfo c : broker.clients()) {
      if (filter != null && !matches(filter, c.name(), budget)) {
        continue;
      }
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", c.name());
      m.put("kind", c.kind());
      m.put("source", c.source());
      m.put("port", c.port());
      m.put("r_frames", c.rFrames());
      m.put("r_bytes", c.rBytes());
      m.put("w_frames", c.wFrames());
      m.put("w_bytes", c.wBytes());
      m.put("queue", (long) c.queue());
      m.put("instances", (long) c.instances());
      out.add(m);
    }
    return out;
  }

  /** {@code filter.matcher(name).find()}, charging every character read to {@code budget}. */
  private static boolean matches(java.util.regex.Pattern filter, String name, long[] budget) {
    try {
      return filter.matcher(new MeteredName(name, budget)).find();
    } catch (MeteredName.Exhausted e) {
      throw new CoreError(RpcErrorCode.INVALID_PARAMS, "client.list: filter '" + filter
          + "' is too expensive (more than " + FILTER_BUDGET + " character reads over the "
          + "client names)");
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
    byte[] t = topic.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    ByteBuf tail = router.alloc().buffer(t.length + 1 + payload.length);
    try {
      tail.writeBytes(t).writeByte(0).writeBytes(payload);
      int stat = tail.readableBytes();
      router.publish(this, topic, tail, 0, stat, false, stat);
    } finally {
      tail.release();
    }
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
