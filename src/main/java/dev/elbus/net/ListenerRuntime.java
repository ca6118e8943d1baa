package dev.elbus.net;

import dev.elbus.ListenerOptions;
import dev.elbus.config.Bind;
import dev.elbus.routing.ClientKind;

/**
 * A configured listener as the verticles share it: its options, the client kind it produces and
 * the label {@code client.list} shows as {@code port} (known once bound: an ephemeral TCP port is
 * resolved then). Immutable but for the label, which is published once by the first bind.
 */
public final class ListenerRuntime {
  private final ListenerOptions options;
  /** Port key shared by the verticle instances of one deployment (negative: shared ephemeral). */
  private final int listenPort;
  private volatile String label;

  public ListenerRuntime(ListenerOptions options, int listenPort) {
    this.options = new ListenerOptions(options);
    this.listenPort = listenPort;
    this.label = options.getBind().toString();
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
