package dev.elbus;

import java.util.Map;

/**
 * The broker-wide counters at one moment (PROTOCOL.md section 6, what {@code .broker} {@code
 * stats} reports): {@code r_*} count frames and body bytes received from clients (not pings),
 * {@code w_*} one frame and the incoming body length per receiver, and every ack as one frame of
 * six bytes. Immutable.
 */
public final class BrokerStats {
  private final long uptimeSeconds;
  private final long rFrames;
  private final long rBytes;
  private final long wFrames;
  private final long wBytes;
  private final long dropped;
  private final long turnsYielded;
  private final long acceptsPaused;
  private final Map<String, Long> disconnects;

  BrokerStats(dev.elbus.impl.routing.BrokerStats s) {
    this.uptimeSeconds = s.uptimeSeconds();
    this.rFrames = s.rFrames();
    this.rBytes = s.rBytes();
    this.wFrames = s.wFrames();
    this.wBytes = s.wBytes();
    this.dropped = s.dropped();
    this.turnsYielded = s.yields();
    this.acceptsPaused = s.acceptPauses();
    this.disconnects = Map.copyOf(s.closeCounts());
  }

  /** Seconds since the broker was created. */
  public long uptimeSeconds() {
    return uptimeSeconds;
  }

  /** Frames received from clients (not pings). */
  public long rFrames() {
    return rFrames;
  }

  /** Body bytes received from clients. */
  public long rBytes() {
    return rBytes;
  }

  /** Frames written to clients (one per receiver; acks included). */
  public long wFrames() {
    return wFrames;
  }

  /** Body bytes written to clients (the incoming body length per receiver). */
  public long wBytes() {
    return wBytes;
  }

  /** Frames internal clients refused at their queue bound (docs/eventbus.md). */
  public long dropped() {
    return dropped;
  }

  /**
   * Connection turns ended early by {@code turn_budget}: the rest of what a connection read
   * waited for a later turn of its event loop (docs/reliability.md, "Turns").
   */
  public long turnsYielded() {
    return turnsYielded;
  }

  /**
   * Times a listener stopped accepting for a while because more than {@code handshake_burst}
   * connections were in their handshake and new ones came faster than {@code handshake_rate}
   * (docs/reliability.md, scenario 8).
   */
  public long acceptsPaused() {
    return acceptsPaused;
  }

  /**
   * Disconnects by reason ({@code peer_closed}, {@code slow_consumer}, {@code protocol_error},
   * ...; docs/protocol-notes.md), every reason present.
   */
  public Map<String, Long> disconnects() {
    return disconnects;
  }

  /** Disconnects for {@code reason} (a key of {@link #disconnects()}); 0 for an unknown one. */
  public long disconnects(String reason) {
    return disconnects.getOrDefault(reason, 0L);
  }

  @Override
  public String toString() {
    return "BrokerStats{uptime=" + uptimeSeconds + "s, r_frames=" + rFrames + ", r_bytes="
        + rBytes + ", w_frames=" + wFrames + ", w_bytes=" + wBytes  + ", dropped=" + dropped
        + ", turns_yielded=" + turnsYielded + ", accepts_paused=" + acceptsPaused
        + ", disconnects=" + disconnects + "}";
  }
}
