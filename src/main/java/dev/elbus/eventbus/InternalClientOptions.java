package dev.elbus.eventbus;

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
 * <p>Not thread-safe; the broker copies it on registration.
 */
public final class InternalClientOptions {
  /** The default address is this prefix followed by the client's full name. */
  public static final String ADDRESS_PREFIX = "elbus.client.";
  /** Default {@link #getWindow}. */
  public static final int DEFAULT_WINDOW = 512;

  private String address;
  private boolean eventBus = true;
  private boolean rpc;
  private int window = DEFAULT_WINDOW;
  private FrameSink sink;

  public InternalClientOptions() {}

  public InternalClientOptions(InternalClientOptions o) {
    this.address = o.address;
    this.eventBus = o.eventBus;
    this.rpc = o.rpc;
    this.window = o.window;
    this.sink = o.sink;
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
   * A custom destination used instead of the event-bus address (the bridge uses one). One sink
   * serves one client.
   */
  public FrameSink getSink() {
    return sink;
  }

  public InternalClientOptions setSink(FrameSink sink) {
    this.sink = sink;
    return this;
  }
}
