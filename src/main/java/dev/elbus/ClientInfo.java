package dev.elbus;

import dev.elbus.impl.routing.Session;

/**
 * A snapshot of one registered primary client, as {@code client.list} reports it (PROTOCOL.md
 * section 10).
 */
public final class ClientInfo {
  private final String name;
  private final String kind;
  private final String source;
  private final String port;
  private final long rFrames;
  private final long rBytes;
  private final long wFrames;
  private final long wBytes;
  private final int queue;
  private final int instances;
  private final long dropped;

  ClientInfo(Session s) {
    this.name = s.name();
    this.kind = s.kind().wireName();
    this.source = s.source();
    this.port = s.port();
    this.rFrames = s.rFrames();
    this.rBytes = s.rBytes();
    this.wFrames = s.wFrames();
    this.wBytes = s.wBytes();
    this.queue = s.queued();
    this.instances = 1 + s.secondaryCount();
    this.dropped = s.dropped();
  }

  /** The client's name. */
  public String name() {
    return name;
  }

  /** {@code internal}, {@code local_ipc} or {@code tcp}. */
  public String kind() {
    return kind;
  }

  /** TCP peer {@code ip:port}, else {@code null}. */
  public String source() {
    return source;
  }

  /** The listener the client came through, {@code null} for internal clients. */
  public String port() {
    return port;
  }

  /** Frames received from the client (not pings). */
  public long rFrames() {
    return rFrames;
  }

  /** Body bytes received from the client. */
  public long rBytes() {
    return rBytes;
  }

  /** Frames written to the client (acks included). */
  public long wFrames() {
    return wFrames;
  }

  /** Body bytes written to the client. */
  public long wBytes() {
    return wBytes;
  }

  /** Frames queued for the client now. */
  public int queue() {
    return queue;
  }

  /**
   * Frames the client did not take because its queue was full while it stayed registered (an
   * internal client refusing frames at its bound, docs/eventbus.md); 0 for network clients, which
   * are disconnected instead.
   */
  public long dropped() {
    return dropped;
  }

  /** 1 + the number of secondaries. */
  public int instances() {
    return instances;
  }

  @Override
  public String toString() {
    return name + " (" + kind + (port != null ? " " + port : "") + ")";
  }
}
