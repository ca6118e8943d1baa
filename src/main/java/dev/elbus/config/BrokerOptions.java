package dev.elbus.config;


/** Broker-wide settings. Listener settings live in {@link ListenerOptions}. */
public final class BrokerOptions {
  private int workers = Runtime.getRuntime().availableProcessors();
  private boolean coreRpc = true;
  private String eventBusAddress = DEFAULT_EVENT_BUS_ADDRESS;
  private InternalClientOptions internalClients = new InternalClientOptions();
  private ClusterOptions cluster;

  /** Default {@link #getEventBusAddress}. */
  public static final String DEFAULT_EVENT_BUS_ADDRESS = "elbus.broker";

  public BrokerOptions() {}

  public BrokerOptions(BrokerOptions o) {
    this.workers = o.workers;
    this.coreRpc = o.coreRpc;
    this.eventBusAddress = o.eventBusAddress;
    this.internalClients = new InternalClientOptions(o.internalClients);
    this.cluster = o.cluster == null ? null : new ClusterOptions(o.cluster);
  }

  /** Verticle instances (event loops) serving the listeners; default: the number of cores. */
  public int getWorkers() {
    return workers;
  }

  public BrokerOptions setWorkers(int workers) {
    if (workers <= 0) {
      throw new IllegalArgumentException("workers must be positive: " + workers);
    }
    this.workers = workers;
    return this;
  }

  /** Whether the internal client {@code .broker} answers the core RPC methods. */
  public boolean isCoreRpc() {
    return coreRpc;
  }

  public BrokerOptions setCoreRpc(boolean coreRpc) {
    this.coreRpc = coreRpc;
    return this;
  }

  /**
   * The event-bus address where verticles ask the broker to act as one of its internal clients
   * (docs/eventbus.md); default {@value #DEFAULT_EVENT_BUS_ADDRESS}, {@code null}: no such
   * address. Give every broker sharing a Vert.x instance (or a cluster) its own address.
   */
  public String getEventBusAddress() {
    return eventBusAddress;
  }

  public BrokerOptions setEventBusAddress(String address) {
    if (address != null && address.isEmpty()) {
      throw new IllegalArgumentException("event-bus address must not be empty (null: none)");
    }
    this.eventBusAddress = address;
    return this;
  }

  /**
   * The queue bounds and overflow policy of internal clients whose own options leave them unset
   * (the bridge's, those registered over the event bus, {@code registerClient(name)}): only
   * {@code queueSize}, {@code queueMaxBytes} and {@code overflow} are read. Default: 65,536 frames,
   * 64 MiB, {@code REFUSE}.
   */
  public InternalClientOptions getInternalClients() {
    return internalClients;
  }

  public BrokerOptions setInternalClients(InternalClientOptions defaults) {
    this.internalClients = new InternalClientOptions(defaults);
    return this;
  }

  /**
   * Cluster mode (docs/cluster.md): {@code null} (default) for a single broker; otherwise the
   * broker is one node of the cluster its Vert.x belongs to, which must be clustered with
   * Hazelcast ({@code vertx-hazelcast}).
   */
  public ClusterOptions getCluster() {
    return cluster;
  }

  public BrokerOptions setCluster(ClusterOptions cluster) {
    this.cluster = cluster == null ? null : new ClusterOptions(cluster);
    return this;
  }
}
