package dev.elbus.client;

import java.util.Objects;

/**
 * A bind address by the elbusd rules (PROTOCOL.md section 13): a path ending in {@code .sock},
 * {@code .socket}, {@code .ipc} or starting with {@code /} is a Unix socket; {@code fifo:PATH} is
 * a FIFO command channel; anything else is {@code HOST:PORT} (IPv6 hosts in brackets). A client
 * address may also be {@code tls://HOST:PORT}: TCP with TLS ({@link #isTls}).
 */
public final class Bind {
  /** What a bind address names. */
  public enum Type { TCP, UNIX, FIFO }

  private static final String TLS_SCHEME = "tls://";

  private final Type type;
  private final String host;
  private final int port;
  private final String path;
  private final boolean tls;

  private Bind(Type type, String host, int port, String path, boolean tls) {
    this.type = type;
    this.host = host;
    this.port = port;
    this.path = path;
    this.tls = tls;
  }

  private Bind(Type type, String host, int port, String path) {
    this(type, host, port, path, false);
  }

  public static Bind tcp(String host, int port) {
    return new Bind(Type.TCP, host, port, null);
  }

  /** {@code tls://HOST:PORT}: a TCP address a client connects to with TLS. */
  public static Bind tls(String host, int port) {
    return new Bind(Type.TCP, host, port, null, true);
  }

  public static Bind unix(String path) {
    return new Bind(Type.UNIX, null, 0, path);
  }

  public static Bind fifo(String path) {
    return new Bind(Type.FIFO, null, 0, path);
  }

  /**
   * Parses a bind string.
   *
   * @throws IllegalArgumentException with a message naming the bad value
   */
  public static Bind parse(String s) {
    if (s == null || s.isEmpty()) {
      throw new IllegalArgumentException("empty bind address");
    }
    if (s.startsWith(TLS_SCHEME)) {
      Bind b = parse(s.substring(TLS_SCHEME.length()));
      if (b.type != Type.TCP || b.tls) {
        throw new IllegalArgumentException("bind '" + s + "': expected tls://HOST:PORT (TLS is "
            + "for TCP addresses)");
      }
      return tls(b.host, b.port);
    }
    if (s.startsWith("fifo:")) {
      String p = s.substring(5);
      if (p.isEmpty()) {
        throw new IllegalArgumentException("bind '" + s + "': fifo: needs a path");
      }
      return fifo(p);
    }
    if (s.startsWith("/") || s.endsWith(".sock") || s.endsWith(".socket") || s.endsWith(".ipc")) {
      return unix(s);
    }
    int colon = s.lastIndexOf(':');
    if (colon <= 0 || colon == s.length() - 1) {
      throw new IllegalArgumentException("bind '" + s
          + "': expected HOST:PORT, a socket path (/..., *.sock, *.socket, *.ipc) or fifo:PATH");
    }
    String host = s.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port;
    try {
      port = Integer.parseInt(s.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("bind '" + s + "': port is not a number");
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("bind '" + s + "': port out of range 0-65535");
    }
    return tcp(host, port);
  }

  public Type type() {
    return type;
  }

  public String host() {
    return host;
  }

  public int port() {
    return port;
  }

  public String path() {
    return path;
  }

  /** Whether this is a {@code tls://HOST:PORT} address (TCP with TLS). */
  public boolean isTls() {
    return tls;
  }

  /** The bind as elbusd prints it (and as {@code client.list} shows it as {@code port}). */
  @Override
  public String toString() {
    switch (type) {
      case TCP: return (tls ? TLS_SCHEME : "")
          + (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
      case FIFO: return "fifo:" + path;
      default: return path;
    }
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof Bind)) {
      return false;
    }
    Bind b = (Bind) o;
    return type == b.type && port == b.port && tls == b.tls && Objects.equals(host, b.host)
        && Objects.equals(path, b.path);
  }

  @Override
  public int hashCode() {
    return Objects.hash(type, host, port, path, tls);
  }
}
