package dev.elbus;

/** Broker-wide settings. Listener settings live in {@link ListenerOptions}. */
public final class BrokerOptions {
  private int workers = Runtime.getRuntime().availableProcessors();
  private boolean coreRpc = true;

  public BrokerOptions() {}

  public BrokerOptions(BrokerOptions o) {
    this.workers = o.workers;
    this.coreRpc = o.coreRpc;
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
}
