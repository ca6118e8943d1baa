package dev.elbus.impl.net;

import dev.elbus.aaa.AaaPolicy;
import dev.elbus.aaa.ClientAcl;
import dev.elbus.client.Bind;
import dev.elbus.config.ListenerOptions;
import dev.elbus.impl.routing.BrokerStats;
import dev.elbus.impl.routing.ClientKind;
import dev.elbus.impl.routing.CloseReason;
import dev.elbus.impl.routing.Session;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A configured listener as the verticles share it: its options, the client kind it produces and
 * the label {@code client.list} shows as {@code port} (known once bound: an ephemeral TCP port is
 * resolved then). Immutable but for the label, which is published once by the first bind, and
 * its connections: the open ones (so that an AAA reload reaches every client of the listener
 * through its connection, registered or not) and those in their handshake, which hold one of
 * {@code max_handshakes} slots, and past {@code handshake_burst} of them pace its accepts
 * ({@link AcceptPacer}).
 */
public final class ListenerRuntime {
  private static final Logger LOG = LoggerFactory.getLogger(ListenerRuntime.class);
  private final ListenerOptions options;
  /** Port key shared by the verticle instances of one deployment (negative: shared ephemeral). */
  private final int listenPort;
  private volatile String label;
  /** TLS of this listener; {@code null}: plain elbus. */
  private final ListenerTls tls;
  /** The AAA policy in force on this listener; {@code null}: no AAA. */
  private volatile AaaPolicy aaa;
  /** Connections open on this listener, across all verticle instances. */
  private final AtomicInteger connections = new AtomicInteger();
  /** Connections open on this listener (accepted, not yet cleaned up). */
  private final Set<ClientConnection> open = ConcurrentHashMap.newKeySet();
  /** Connections in their handshake, oldest first; each holds a slot counted in handshakes. */
  private final ConcurrentLinkedQueue<ClientConnection> handshaking =
      new ConcurrentLinkedQueue<>();
  private final AtomicInteger handshakes = new AtomicInteger();
  private final AtomicLong evicted = new AtomicLong();
  private final AtomicLong lastEvictionLog = new AtomicLong(System.nanoTime() - 120_000_000_000L);

  /** Paces the accepts of this listener's listening socket. */
  private final AcceptPacer pacer;

  /** @param stats where the pauses of this listener's accepts are counted */
  public ListenerRuntime(ListenerOptions options, int listenPort, BrokerStats stats) {
    this.options = new ListenerOptions(options);
    this.pacer = new AcceptPacer(this, stats);
    this.listenPort = listenPort;
    this.label = options.getBind().toString();
    this.aaa = options.getAaa();
    this.tls = options.getTls() == null ? null : new ListenerTls(options.getTls(), this::label);
  }

  /** TLS of this listener (its certificate and the watch of its files); {@code null}: none. */
  public ListenerTls tls() {
    return tls;
  }

  /** The pacer of this listener's accepts. */
  AcceptPacer pacer() {
    return pacer;
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

  void opened(ClientConnection c) {
    open.add(c);
  }

  void closed(ClientConnection c) {
    open.remove(c);
  }

  /**
   * Gives {@code c} a handshake slot. When that makes more than {@code max_handshakes}, the
   * oldest connections still in their handshake are closed ({@code max_handshakes}) until the
   * bound holds again: a flood of sockets that never complete the handshake holds at most that
   * many connections, and a client that completes its handshake promptly always gets in (it
   * would have to be the oldest of them to be closed).
   */
  void startHandshake(ClientConnection c) {
    c.takeHandshakeSlot();
    handshaking.add(c);
    int max = options.getMaxHandshakes();
    if (handshakes.incrementAndGet() <= max) {
      return;
    }
    ClientConnection victim;
    while (handshakes.get() > max && (victim = handshaking.poll()) != null) {
      if (victim.evictFromHandshake()) {
        handshakes.decrementAndGet();
        long n = evicted.incrementAndGet();
        long now = System.nanoTime();
        long last = lastEvictionLog.get();
        if (now - last > 60_000_000_000L && lastEvictionLog.compareAndSet(last, now)) {
          LOG.warn("listener {}: more than max_handshakes {} connections in their handshake: "
              + "closing the oldest ({} so far; logged at most once a minute, counted in stats "
              + "as max_handshakes)", label, max, n);
        }
      }
    }
  }

  /** {@code c} completed or abandoned its handshake and gave its slot back. */
  void endHandshake(ClientConnection c) {
    handshakes.decrementAndGet();
    handshaking.remove(c);
  }

  /** Connections in their handshake now. */
  public int handshakes() {
    return handshakes.get();
  }

  /**
   * The sessions of this listener's open connections: every client connected here, whether
   * still in the registry or not (a snapshot).
   */
  public List<Session> sessions() {
    List<Session> out = new ArrayList<>();
    for (ClientConnection c : open) {
      Session s = c.session();
      if (s != null) {
        out.add(s);
      }
    }
    return out;
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
