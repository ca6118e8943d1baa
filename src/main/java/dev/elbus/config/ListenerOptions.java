package dev.elbus.config;

import dev.elbus.aaa.AaaPolicy;
import dev.elbus.client.Bind;
import dev.elbus.protocol.Protocol;

/**
 * Settings of one listener (a TCP address or a Unix socket path). Each listener has its own
 * timeouts, buffer sizes and limits; the defaults are elbusd's where elbusd has one.
 *
 * <p>The per-client limits ({@code max_topic_levels}, {@code max_subscription_bytes}, {@code
 * max_subscriptions}, {@code max_wildcard_levels}, {@code max_name_parts}) bound what one client
 * can make the broker store and walk; their defaults are far beyond what elbus and BUS/RT
 * deployments use (docs/reliability.md, "Hostile clients"). Input beyond a limit is refused
 * with {@code 72}, counted in stats and logged once per client.
 */
public final class ListenerOptions {
  private Bind bind;
  private long timeoutMs = Protocol.DEFAULT_TIMEOUT_MS;
  private int bufSize = Protocol.DEFAULT_BUF_SIZE;
  private long bufTtlUs = Protocol.DEFAULT_BUF_TTL_US;
  private long turnBudgetUs = DEFAULT_TURN_BUDGET_US;
  private int queueSize = Protocol.DEFAULT_QUEUE_SIZE;
  private long queueMaxBytes = DEFAULT_QUEUE_MAX_BYTES;
  private long writeTimeoutMs = DEFAULT_WRITE_TIMEOUT_MS;
  private int maxFrameSize = Protocol.DEFAULT_MAX_FRAME_SIZE;
  private int maxNameLength = Protocol.MAX_NAME_LENGTH;
  private String aaaFile;
  private AaaPolicy aaa;
  private long aaaScanPeriodMs = DEFAULT_AAA_SCAN_PERIOD_MS;
  private boolean forceRegister;
  private long idleTimeoutMs;
  private int maxConnections = DEFAULT_MAX_CONNECTIONS;
  private int maxHandshakes = DEFAULT_MAX_HANDSHAKES;
  /** -1: the default for the listener's kind ({@link #getHandshakeRate}). */
  private int handshakeRate = -1;
  private int handshakeBurst = DEFAULT_HANDSHAKE_BURST;
  private int maxTopicLevels = DEFAULT_MAX_TOPIC_LEVELS;
  private long maxSubscriptionBytes = DEFAULT_MAX_SUBSCRIPTION_BYTES;
  private int maxSubscriptions = DEFAULT_MAX_SUBSCRIPTIONS;
  private int maxWildcardLevels = DEFAULT_MAX_WILDCARD_LEVELS;
  private int maxNameParts = DEFAULT_MAX_NAME_PARTS;
  private TlsOptions tls;

  /**
   * Default connection limit per listener. Each connection costs a file descriptor and a few KiB;
   * the bound keeps a flood of sockets from exhausting the process's descriptors (the usual
   * soft limit is 1024, raised in the Docker image and by systemd units).
   */
  public static final int DEFAULT_MAX_CONNECTIONS = 10_000;

  /**
   * Default bound of connections in their handshake per listener. They count against {@code
   * max_connections} too; past this bound the oldest of them is closed, so sockets that never
   * complete a handshake hold at most this many connections and cannot lock clients out.
   */
  public static final int DEFAULT_MAX_HANDSHAKES = 2_048;

  /**
   * Default {@link #getHandshakeRate} of a TCP listener: new connections a second it accepts
   * while more than {@link #getHandshakeBurst} are in their handshake. A flood of silent sockets at 20,000
   * a second from the broker's own host then leaves the registered clients' round trips at a few
   * milliseconds (docs/reliability.md, "Accept pacing"); a thousand clients reconnecting at once
   * all get in within about a second.
   */
  public static final int DEFAULT_HANDSHAKE_RATE = 1_000;

  /**
   * Default {@link #getHandshakeBurst}: connections in their handshake before new ones are paced.
   * A client leaves its handshake within a round trip or two of connecting, so only a burst of
   * connects, or sockets that stay silent, ever reach it.
   */
  public static final int DEFAULT_HANDSHAKE_BURST = 64;

  /**
   * Default bound of levels of a published topic or a subscription / exclusion pattern (EMQX
   * uses the same figure); elbus and BUS/RT topics have a handful.
   */
  public static final int DEFAULT_MAX_TOPIC_LEVELS = 128;

  /** Default bound of one client's subscriptions and exclusions in bytes (length + 1 each). */
  public static final long DEFAULT_MAX_SUBSCRIPTION_BYTES = 32L * 1024 * 1024;

  /** Default bound of one client's subscriptions and exclusions in number. */
  public static final int DEFAULT_MAX_SUBSCRIPTIONS = 1_000_000;

  /**
   * Default bound of one client's wildcard levels: the levels of its patterns that have a
   * {@code +} or {@code #} (up to the {@code #}), summed: about 800 patterns such as {@code
   * ST/LOC/unit1/+/#}. It bounds the trie nodes one client's patterns create and those a lookup
   * walks because of them (plain patterns are kept by their text and cost nothing here).
   */
  public static final int DEFAULT_MAX_WILDCARD_LEVELS = 4_096;

  /** Default bound of parts of a client name or a broadcast mask. */
  public static final int DEFAULT_MAX_NAME_PARTS = 128;

  /**
   * Default {@link #getTurnBudgetUs}: 5 ms. A client whose frames are expensive (pipelined {@code
   * .broker} calls, publications past the match cache) then delays the other clients of its event
   * loop by about this much per turn. A turn of a client streaming small frames rarely lasts that
   * long (its reads are bounded too); at 2 ms the harness's fan-out stage lost throughput in more
   * runs (docs/performance.md, "Turns").
   */
  public static final long DEFAULT_TURN_BUDGET_US = 5_000;

  /** How often an AAA file is checked for changes by default. */
  public static final long DEFAULT_AAA_SCAN_PERIOD_MS = 1_000;

  /**
   * Default bound of one client's queue in bytes: two maximum-size frames. A single frame is
   * always accepted into an empty queue whatever its size.
   */
  public static final long DEFAULT_QUEUE_MAX_BYTES = 2L * Protocol.DEFAULT_MAX_FRAME_SIZE;

  /**
   * Default {@link #getWriteTimeoutMs}: long enough for a reader that is descheduled or paused
   * by its garbage collector, short enough that a client that stopped reading is dropped soon.
   */
  public static final long DEFAULT_WRITE_TIMEOUT_MS = 1_000;

  public ListenerOptions() {}

  public ListenerOptions(ListenerOptions o) {
    this.bind = o.bind;
    this.timeoutMs = o.timeoutMs;
    this.bufSize = o.bufSize;
    this.bufTtlUs = o.bufTtlUs;
    this.turnBudgetUs = o.turnBudgetUs;
    this.queueSize = o.queueSize;
    this.queueMaxBytes = o.queueMaxBytes;
    this.writeTimeoutMs = o.writeTimeoutMs;
    this.maxFrameSize = o.maxFrameSize;
    this.maxNameLength = o.maxNameLength;
    this.aaaFile = o.aaaFile;
    this.aaa = o.aaa;
    this.aaaScanPeriodMs = o.aaaScanPeriodMs;
    this.forceRegister = o.forceRegister;
    this.idleTimeoutMs = o.idleTimeoutMs;
    this.maxConnections = o.maxConnections;
    this.maxHandshakes = o.maxHandshakes;
    this.handshakeRate = o.handshakeRate;
    this.handshakeBurst = o.handshakeBurst;
    this.maxTopicLevels = o.maxTopicLevels;
    this.maxSubscriptionBytes = o.maxSubscriptionBytes;
    this.maxSubscriptions = o.maxSubscriptions;
    this.maxWildcardLevels = o.maxWildcardLevels;
    this.maxNameParts = o.maxNameParts;
    this.tls = o.tls == null ? null : new TlsOptions(o.tls);
  }

  /** A listener on {@code bind} (elbusd syntax, see {@link Bind#parse}). */
  public static ListenerOptions of(String bind) {
    return new ListenerOptions().setBind(Bind.parse(bind));
  }

  public Bind getBind() {
    return bind;
  }

  public ListenerOptions setBind(Bind bind) {
    if (bind.type() == Bind.Type.FIFO) {
      throw new IllegalArgumentException("a FIFO is not a client listener: " + bind);
    }
    if (bind.isTls()) {
      throw new IllegalArgumentException("bind '" + bind + "': a listener is given TLS by its "
          + "tls: {cert, key} settings, its bind is HOST:PORT");
    }
    if (tls != null && bind.type() != Bind.Type.TCP) {
      throw new IllegalArgumentException(tlsOnlyTcp(bind));
    }
    this.bind = bind;
    return this;
  }

  /** Handshake deadline, ping interval and mid-frame stall limit, in milliseconds (elbusd -t). */
  public long getTimeoutMs() {
    return timeoutMs;
  }

  public ListenerOptions setTimeoutMs(long timeoutMs) {
    if (timeoutMs <= 0) {
      throw new IllegalArgumentException("timeout must be positive: " + timeoutMs);
    }
    this.timeoutMs = timeoutMs;
    return this;
  }

  /** Socket write buffer size in bytes (elbusd --buf-size): the writability high-water mark. */
  public int getBufSize() {
    return bufSize;
  }

  public ListenerOptions setBufSize(int bufSize) {
    if (bufSize <= 0) {
      throw new IllegalArgumentException("buf_size must be positive: " + bufSize);
    }
    this.bufSize = bufSize;
    return this;
  }

  /** Upper bound of write coalescing in microseconds (elbusd --buf-ttl). */
  public long getBufTtlUs() {
    return bufTtlUs;
  }

  public ListenerOptions setBufTtlUs(long bufTtlUs) {
    if (bufTtlUs < 0) {
      throw new IllegalArgumentException("buf_ttl must not be negative: " + bufTtlUs);
    }
    this.bufTtlUs = bufTtlUs;
    return this;
  }

  /**
   * Microseconds one connection's frames may hold its event loop in a turn (default {@value
   * #DEFAULT_TURN_BUDGET_US}). Past it, the rest of what the connection read waits in its decoder,
   * it stops reading, and its next turn comes after the event loop has served its other
   * connections' input. The time is read every 16 frames and after an expensive one (a {@code
   * .broker} call, a publication past the match cache). 0 ends a turn at every such check.
   */
  public long getTurnBudgetUs() {
    return turnBudgetUs;
  }

  public ListenerOptions setTurnBudgetUs(long turnBudgetUs) {
    if (turnBudgetUs < 0 || turnBudgetUs > 1_000_000) {
      throw new IllegalArgumentException("turn_budget must be 0 to 1000000 microseconds: "
          + turnBudgetUs);
    }
    this.turnBudgetUs = turnBudgetUs;
    return this;
  }

  /**
   * Per-client queue bound in frames (elbusd --queue-size): a frame for a client whose queue
   * holds this many frames while its socket has taken no bytes for {@link #getWriteTimeoutMs}
   * drops the client as a slow consumer (docs/protocol-notes.md, "Slow consumers").
   */
  public int getQueueSize() {
    return queueSize;
  }

  public ListenerOptions setQueueSize(int queueSize) {
    if (queueSize <= 0) {
      throw new IllegalArgumentException("queue_size must be positive: " + queueSize);
    }
    this.queueSize = queueSize;
    return this;
  }

  /**
   * Per-client queue bound in bytes, each queued frame counted with 64 bytes of bookkeeping: a
   * frame that would take the queue past it drops the client, whether it reads or not. A single
   * frame is always accepted into an empty queue whatever its size.
   */
  public long getQueueMaxBytes() {
    return queueMaxBytes;
  }

  public ListenerOptions setQueueMaxBytes(long queueMaxBytes) {
    if (queueMaxBytes <= 0) {
      throw new IllegalArgumentException("queue_max_bytes must be positive: " + queueMaxBytes);
    }
    this.queueMaxBytes = queueMaxBytes;
    return this;
  }

  /**
   * How long a client's socket may take no bytes while more than {@link #getQueueSize} frames
   * wait for it (default {@value #DEFAULT_WRITE_TIMEOUT_MS} ms). A client that keeps reading is
   * never dropped for the length of its queue, only for its bytes ({@link #getQueueMaxBytes}).
   */
  public long getWriteTimeoutMs() {
    return writeTimeoutMs;
  }

  public ListenerOptions setWriteTimeoutMs(long writeTimeoutMs) {
    if (writeTimeoutMs <= 0) {
      throw new IllegalArgumentException("write_timeout must be positive: " + writeTimeoutMs);
    }
    this.writeTimeoutMs = writeTimeoutMs;
    return this;
  }

  /** Largest frame body accepted from a client; a larger declared length closes it. */
  public int getMaxFrameSize() {
    return maxFrameSize;
  }

  public ListenerOptions setMaxFrameSize(int maxFrameSize) {
    if (maxFrameSize <= 0) {
      throw new IllegalArgumentException("max_frame_size must be positive: " + maxFrameSize);
    }
    this.maxFrameSize = maxFrameSize;
    return this;
  }

  /** Longest client name in bytes (at most 65535, the u16 of the handshake). */
  public int getMaxNameLength() {
    return maxNameLength;
  }

  public ListenerOptions setMaxNameLength(int maxNameLength) {
    if (maxNameLength <= 0 || maxNameLength > Protocol.MAX_NAME_LENGTH) {
      throw new IllegalArgumentException("max_name_length must be 1-65535: " + maxNameLength);
    }
    this.maxNameLength = maxNameLength;
    return this;
  }

  /**
   * An AAA file (YAML, or JSON by extension) for this listener, watched for changes; {@code null}
   * (the default): no AAA, every client may register and do everything, as in elbus.
   */
  public String getAaaFile() {
    return aaaFile;
  }

  public ListenerOptions setAaaFile(String aaaFile) {
    this.aaaFile = aaaFile;
    return this;
  }

  /**
   * An AAA policy set programmatically (ignored when an AAA file is set). Change it later with
   * {@code Broker.setAaa}.
   */
  public AaaPolicy getAaa() {
    return aaa;
  }

  public ListenerOptions setAaa(AaaPolicy aaa) {
    this.aaa = aaa;
    return this;
  }

  /** How often the AAA file is checked for changes, in milliseconds (default 1000). */
  public long getAaaScanPeriodMs() {
    return aaaScanPeriodMs;
  }

  public ListenerOptions setAaaScanPeriodMs(long ms) {
    if (ms <= 0) {
      throw new IllegalArgumentException("AAA scan period must be positive: " + ms);
    }
    this.aaaScanPeriodMs = ms;
    return this;
  }

  /**
   * Force-register (BUS/RT, off by default): a new primary whose name is taken replaces the
   * registered network client, which is disconnected with its secondaries and announced {@code
   * unreg} before the new {@code reg}. Secondaries and internal clients are never replaced.
   */
  public boolean isForceRegister() {
    return forceRegister;
  }

  public ListenerOptions setForceRegister(boolean forceRegister) {
    this.forceRegister = forceRegister;
    return this;
  }

  /**
   * Idle deadline in milliseconds: a registered client that sends nothing (pings included) for
   * longer is closed. 0 (the default) is off, as in elbus, whose clients need not ping.
   */
  public long getIdleTimeoutMs() {
    return idleTimeoutMs;
  }

  public ListenerOptions setIdleTimeoutMs(long idleTimeoutMs) {
    if (idleTimeoutMs < 0) {
      throw new IllegalArgumentException("idle timeout must not be negative: " + idleTimeoutMs);
    }
    this.idleTimeoutMs = idleTimeoutMs;
    return this;
  }

  /** Connections this listener accepts at once; one more is closed at once. */
  public int getMaxConnections() {
    return maxConnections;
  }

  public ListenerOptions setMaxConnections(int maxConnections) {
    if (maxConnections <= 0) {
      throw new IllegalArgumentException("max_connections must be positive: " + maxConnections);
    }
    this.maxConnections = maxConnections;
    return this;
  }

  /**
   * Connections in their handshake at most (default {@value #DEFAULT_MAX_HANDSHAKES}); one more
   * closes the oldest of them ({@code max_handshakes} in stats).
   */
  public int getMaxHandshakes() {
    return maxHandshakes;
  }

  public ListenerOptions setMaxHandshakes(int maxHandshakes) {
    this.maxHandshakes = positive("max_handshakes", maxHandshakes);
    return this;
  }

  /**
   * New connections a second this listener accepts while more than {@link #getHandshakeBurst}
   * connections are in their handshake (0: never paced). Past that pace the listening socket
   * stops accepting for a while: new connections wait in the kernel's accept queue (and, once it
   * is full, retry their connect), and the event loops serve the registered clients meanwhile.
   * Connections that complete their handshake promptly never reach the burst. Default: {@value
   * #DEFAULT_HANDSHAKE_RATE} on a TCP listener; 0 on a Unix socket, whose full accept queue fails
   * a non-blocking connect at once ({@code EAGAIN}) instead of making it wait, and whose clients
   * are local processes.
   */
  public int getHandshakeRate() {
    if (handshakeRate >= 0) {
      return handshakeRate;
    }
    return bind != null && bind.type() == Bind.Type.UNIX ? 0 : DEFAULT_HANDSHAKE_RATE;
  }

  public ListenerOptions setHandshakeRate(int handshakeRate) {
    if (handshakeRate < 0) {
      throw new IllegalArgumentException("handshake_rate must be 0 (off) or more: "
          + handshakeRate);
    }
    this.handshakeRate = handshakeRate;
    return this;
  }

  /**
   * Connections in their handshake beyond which new ones are paced at {@link #getHandshakeRate}
   * (default {@value #DEFAULT_HANDSHAKE_BURST}).
   */
  public int getHandshakeBurst() {
    return handshakeBurst;
  }

  public ListenerOptions setHandshakeBurst(int handshakeBurst) {
    if (handshakeBurst < 0) {
      throw new IllegalArgumentException("handshake_burst must be 0 or more: " + handshakeBurst);
    }
    this.handshakeBurst = handshakeBurst;
    return this;
  }

  /** Levels of a published topic or a subscription / exclusion pattern at most. */
  public int getMaxTopicLevels() {
    return maxTopicLevels;
  }

  public ListenerOptions setMaxTopicLevels(int maxTopicLevels) {
    this.maxTopicLevels = positive("max_topic_levels", maxTopicLevels);
    return this;
  }

  /** Bytes of one client's subscriptions and exclusions at most, each its UTF-8 length + 1. */
  public long getMaxSubscriptionBytes() {
    return maxSubscriptionBytes;
  }

  public ListenerOptions setMaxSubscriptionBytes(long maxSubscriptionBytes) {
    if (maxSubscriptionBytes <= 0) {
      throw new IllegalArgumentException("max_subscription_bytes must be positive: "
          + maxSubscriptionBytes);
    }
    this.maxSubscriptionBytes = maxSubscriptionBytes;
    return this;
  }

  /** Subscriptions and exclusions of one client at most. */
  public int getMaxSubscriptions() {
    return maxSubscriptions;
  }

  public ListenerOptions setMaxSubscriptions(int maxSubscriptions) {
    this.maxSubscriptions = positive("max_subscriptions", maxSubscriptions);
    return this;
  }

  /**
   * Wildcard levels of one client at most: the levels of its subscriptions and exclusions that
   * have a {@code +} or {@code #} (up to the {@code #}), summed.
   */
  public int getMaxWildcardLevels() {
    return maxWildcardLevels;
  }

  public ListenerOptions setMaxWildcardLevels(int maxWildcardLevels) {
    if (maxWildcardLevels < 0) {
      throw new IllegalArgumentException("max_wildcard_levels must not be negative: "
          + maxWildcardLevels);
    }
    this.maxWildcardLevels = maxWildcardLevels;
    return this;
  }

  /** Parts of a client name or a broadcast mask at most. */
  public int getMaxNameParts() {
    return maxNameParts;
  }

  public ListenerOptions setMaxNameParts(int maxNameParts) {
    this.maxNameParts = positive("max_name_parts", maxNameParts);
    return this;
  }

  /**
   * TLS on this listener ({@code null}, the default: plain elbus, what every upstream client
   * speaks). TCP listeners only.
   */
  public TlsOptions getTls() {
    return tls;
  }

  /**
   * Sets TLS on this TCP listener; {@code null} turns it off.
   *
   * @throws IllegalArgumentException when the listener is a Unix socket
   */
  public ListenerOptions setTls(TlsOptions tls) {
    if (tls != null && bind != null && bind.type() != Bind.Type.TCP) {
      throw new IllegalArgumentException(tlsOnlyTcp(bind));
    }
    this.tls = tls == null ? null : new TlsOptions(tls);
    return this;
  }

  private static String tlsOnlyTcp(Bind bind) {
    return "tls is for TCP listeners; " + bind + " is a Unix socket (its file permissions "
        + "protect it)";
  }

  private static int positive(String option, int v) {
    if (v <= 0) {
      throw new IllegalArgumentException(option + " must be positive: " + v);
    }
    return v;
  }

  @Override
  public String toString() {
    return String.valueOf(bind);
  }
}
