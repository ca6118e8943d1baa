package dev.elbus;

import dev.elbus.aaa.AaaPolicy;
import dev.elbus.client.Bind;
import dev.elbus.config.ListenerOptions;
import dev.elbus.impl.net.ListenerRuntime;

/**
 * A deployed listener, as {@link Broker#listeners()} reports it: its address (with the actual
 * port of an ephemeral TCP bind), its settings, its open connections and the AAA policy in
 * force. A live, read-only view.
 */
public final class ListenerInfo {
  private final ListenerRuntime listener;

  ListenerInfo(ListenerRuntime listener) {
    this.listener = listener;
  }

  /**
   * {@code host:port} with the actual port for TCP, the path for a Unix socket: what {@code
   * client.list} shows as a client's {@code port}, and the name {@link Broker#setAaa} takes.
   */
  public String label() {
    return listener.label();
  }

  /** The address as configured (port 0 for an ephemeral TCP port). */
  public Bind bind() {
    return listener.bind();
  }

  /** The actual TCP port once bound; -1 for a Unix socket. */
  public int actualPort() {
    return listener.bind().type() == Bind.Type.TCP ? listener.actualPort() : -1;
  }

  /** The listener's settings (a copy). */
  public ListenerOptions options() {
    return new ListenerOptions(listener.options());
  }

  /** Connections open on this listener now, across its event loops. */
  public int connections() {
    return listener.connections();
  }

  /** The AAA policy in force, {@code null} when the listener has none. */
  public AaaPolicy aaa() {
    return listener.aaa();
  }

  @Override
  public String toString() {
    return label();
  }
}
