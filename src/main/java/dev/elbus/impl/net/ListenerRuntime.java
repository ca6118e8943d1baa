package dev.elbus.impl.net;

import dev.elbus.aaa.AaaPolicy;
import dev.elbus.aaa.ClientAcl;
import dev.elbus.config.ListenerOptions;
import dev.elbus.impl.routing.CloseReason;
import dev.elbus.impl.routing.Session;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Objects;
import dev.elbus.client.Bind;
import dev.elbus.impl.routing.ClientKind;

/**
 * A configured listener as the verticles share it: its options, the client kind it produces and
 * the label {@code client.list} shows as {@code port} (known once bound: an ephemeral TCP port is
 * resolved then). Immutable but for the label, which is published once by the first bind.
 */
public final class ListenerRuntime {
  private static final Logger LOG = LoggerFactory.getLogger(ListenerRuntime.class);
  private final ListenerOptions options;
  /** Port key shared by the verticle instances of one deployment (negative: shared ephemeral). */
  private final int listenPort;
  private volatile String label;
  /** The AAA policy in force on this listener; {@code null}: no AAA. */
  private volatile AaaPolicy aaa;
  /** Connections open on this listener, across all verticle instances. */
  private final java.util.concurrent.atomic.AtomicInteger connections =
      new java.util.concurrent.atomic.AtomicInteger();

  public ListenerRuntime(ListenerOptions options, int listenPort) {
    this.options = new ListenerOptions(options);
    this.listenPort = listenPort;
    this.label = options.getBind().toString();
    this.aaa = options.getAaa();
  }

  /** Counts a new connection; false (and not counted) when the listener is full. */
  boolean tryAccept() {
    int max = options.getMaxConnections();
    while (true) {
      int n = connections.get();
      if (n >= max) {
        return false;
      }
      if (connections.compareAndSet(n, n + 1)) {
        return true;
      }
    }
  }

  void released() {
    connections.decrementAndGet();
  }

  /** Connections open now. */
  public int connections() {
    return connections.get();
  }

  /** The AAA policy in force, {@code null} when the listener has none. */
  public AaaPolicy aaa() {
    return aaa;
  }

  /** Replaces the AAA policy; {@link #recheck} then each client of this listener. */
  public void aaa(AaaPolicy policy) {
    this.aaa = policy;
  }

  /**
   * Disconnects {@code s} (a client of this listener) when the policy in force no longer gives it
   * exactly the rights it registered with ({@link #outdated}). A client keeps the rights it
   * registered with until then (section 11).
   *
   * @return whether the client was disconnected
   */
  public boolean recheck(Session s) {
    if (!outdated(s)) {
      return false;
    }
    disconnectOutdated(s);
    return true;
  }

  /**
   * Does the policy in force no longer give {@code s} exactly the rights it registered with? Its
   * entry changed or disappeared, or AAA was switched on or off for this listener.
   */
  public boolean outdated(Session s) {
    AaaPolicy p = aaa;
    ClientAcl want = p == null ? null : p.forClient(s.name());
    // p != null && want == null: not admitted at all, even if it registered without AAA
    return !Objects.equals(want, s.rights()) || (p != null && want == null);
  }

  /** Closes an {@linkplain #outdated outdated} client of this listener ({@code ACCESS}). */
  public void disconnectOutdated(Session s) {
    AaaPolicy p = aaa;
    LOG.info("client {}: AAA rights {}, disconnecting", s.name(),
        p != null && p.forClient(s.name()) == null ? "removed" : "changed");
    s.disconnect(CloseReason.ACCESS);
  }

  public ListenerOptions options() {
    return options;
  }

  public Bind bind() {
    return options.getBind();
  }

  public ClientKind kind() {
    return options.getBind().type() == Bind.Type.UNIX ? ClientKind.LOCAL_IPC : ClientKind.TCP;
  }

  int listenPort() {
    return listenPort;
  }

  /** {@code host:port} with the actual port for TCP, the path for a Unix socket. */
  public String label() {
    return label;
  }

  void label(String label) {
    this.label = label;
  }

  /** The actual TCP port once bound (the configured one before). */
  public int actualPort() {
    String l = label;
    return Integer.parseInt(l.substring(l.lastIndexOf(':') + 1));
  }
}
