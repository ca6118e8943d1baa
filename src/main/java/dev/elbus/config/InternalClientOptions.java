package dev.elbus.config;

import dev.elbus.eventbus.EventBusHeaders;

/**
 * How an in-process client registered with {@code Broker.registerClient(name, options)} takes its
 * frames (docs/eventbus.md):
 *
 * <ul>
 *   <li><b>event bus</b> (default on): every frame is sent (point-to-point, {@code
 *       EventBus.send}) to {@link #getAddress the address}, default {@code elbus.client.<name>},
 *       as a {@code Buffer} (the payload) with the headers of {@link EventBusHeaders};
 *   <li><b>Java handler</b>: set on the handle with {@code InternalClient.frameHandler}; it gets
 *       every frame too;
 *   <li><b>RPC mode</b> ({@link #setRpc}, or the first call of {@code InternalClient.rpc()}):
 *       direct messages are RPC frames and go to the client's {@code RpcClient} only; broadcasts
 *       and publications still go to the handler and the address.
 * </ul>
 *
 * <p>The client's queue is bounded ({@link #getQueueSize}, {@link #getQueueMaxBytes}); what
 * happens to a frame past the bound is the {@link Overflow} policy (docs/eventbus.md, "Slow
 * consumers"). Unset bounds and policy take the broker's defaults ({@code BrokerOptions}, the
 * {@code internal_clients} section of the configuration file).
 *
 * <p>Not thread-safe; the broker copies it on registration.
 */
public final class InternalClientOptions {
  /**
   * What happens to a frame for an internal client whose queue is full. Neither blocks an event
   * loop or a sender; both are logged once per episode and counted.
   */
  public enum Overflow {
    /**
     * The frame is not queued: a direct sender gets ack 77 (not delivered), a publication or
     * broadcast skips this client. The client stays registered, counts the frame in its {@code
     * dropped} figure ({@code client.list}, {@code InternalClient.dropped()}) and the broker in
     * {@code stats}. The default.
     */
    REFUSE,
    /**
     * The client is unregistered as a slow consumer, as a network client would be: its handle is
     * closed, its queued frames are released and its departure is announced.
     */
    DISCONNECT;

    /** The configuration-file spelling: {@code refuse} or {@code disconnect}. */
    public String key() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** Default {@link #getQueueSize} of the broker's internal clients. */
  public static final int DEFAULT_QUEUE_SIZE = 65_536;
  /** Default {@link #getQueueMaxBytes} of the broker's internal clients (64 MiB). */
  public static final long DEFAULT_QUEUE_MAX_BYTES = 64L << 20;

  /** The default address is this prefix followed by the client's full name. */
  public static final String ADDRESS_PREFIX = "elbus.client.";
  /** Default {@link #getWindow}. */
  public static final int DEFAULT_WINDOW = 512;

  private String address;
  private boolean eventBus = true;
  private boolean rpc;
  private int window = DEFAULT_WINDOW;
  private int queueSize;
  private long queueMaxBytes;
  private Overflow overflow;

  public InternalClientOptions() {}

  public InternalClientOptions(InternalClientOptions o) {
    this.address = o.address;
    this.eventBus = o.eventBus;
    this.rpc = o.rpc;
    this.window = o.window;
    this.queueSize = o.queueSize;
    this.queueMaxBytes = o.queueMaxBytes;
    this.overflow = o.overflow;
  }

  /** The event-bus address; {@code null} (default) means {@code elbus.client.<name>}. */
  public String getAddress() {
    return address;
  }

  public InternalClientOptions setAddress(String address) {
    if (address != null && address.isEmpty()) {
      throw new IllegalArgumentException("event-bus address must not be empty");
    }
    this.address = address;
    return this;
  }

  /** The address for a client named {@code name} under these options. */
  public String addressFor(String name) {
    return address != null ? address : ADDRESS_PREFIX + name;
  }

  /** Whether frames are delivered to the event-bus address (default true). */
  public boolean isEventBus() {
    return eventBus;
  }

  public InternalClientOptions setEventBus(boolean eventBus) {
    this.eventBus = eventBus;
    return this;
  }

  /** Whether the client starts in RPC mode (default false). */
  public boolean isRpc() {
    return rpc;
  }

  public InternalClientOptions setRpc(boolean rpc) {
    this.rpc = rpc;
    return this;
  }

  /**
   * Event-bus messages in flight at most: sent to the address and not yet taken by its consumer
   * (default {@value #DEFAULT_WINDOW}; keep it below the consumer's {@code
   * setMaxBufferedMessages}, 1,000 by default, or a paused consumer discards messages).
   */
  public int getWindow() {
    return window;
  }

  public InternalClientOptions setWindow(int window) {
    if (window < 1) {
      throw new IllegalArgumentException("window must be positive: " + window);
    }
    this.window = window;
    return this;
  }

  /**
   * Frames the client's queue holds at most (queued for it and not yet handed to its handler
   * or address); 0 (unset): the broker's default, {@value #DEFAULT_QUEUE_SIZE} unless
   * configured.
   */
  public int getQueueSize() {
    return queueSize;
  }

  public InternalClientOptions setQueueSize(int queueSize) {
    if (queueSize < 0) {
      throw new IllegalArgumentException("queue_size must not be negative: " + queueSize);
    }
    this.queueSize = queueSize;
    return this;
  }

  /**
   * Bytes the client's queue holds at most, each frame counted with 64 bytes of bookkeeping (one
   * frame is always accepted into an empty queue); 0 (unset): the broker's default, 64 MiB unless
   * configured.
   */
  public long getQueueMaxBytes() {
    return queueMaxBytes;
  }

  public InternalClientOptions setQueueMaxBytes(long queueMaxBytes) {
    if (queueMaxBytes < 0) {
      throw new IllegalArgumentException("queue_max_bytes must not be negative: "
          + queueMaxBytes);
    }
    this.queueMaxBytes = queueMaxBytes;
    return this;
  }

  /** The policy for a frame past the bound; {@code null} (unset): the broker's default. */
  public Overflow getOverflow() {
    return overflow;
  }

  public InternalClientOptions setOverflow(Overflow overflow) {
    this.overflow = overflow;
    return this;
  }

  /**
   * These options with every unset bound and policy taken from {@code defaults} (a copy; neither
   * is changed).
   */
  public InternalClientOptions withDefaults(InternalClientOptions defaults) {
    InternalClientOptions o = new InternalClientOptions(this);
    if (o.queueSize == 0) {
      o.queueSize = defaults.queueSize != 0 ? defaults.queueSize : DEFAULT_QUEUE_SIZE;
    }
    if (o.queueMaxBytes == 0) {
      o.queueMaxBytes = defaults.queueMaxBytes != 0 ? defaults.queueMaxBytes
          : DEFAULT_QUEUE_MAX_BYTES;
    }
    if (o.overflow == null) {
      o.overflow = defaults.overflow != null ? defaults.overflow : Overflow.REFUSE;
    }
    return o;
  }
}
