package dev.elbus.impl.routing;

import dev.elbus.protocol.Protocol;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Broker-wide counters (PROTOCOL.md section 6), updated from every event loop: {@code r_*} count
 * frames and body bytes received from clients (not pings), {@code w_*} count one frame and the
 * incoming body length per receiver, and every ack as one frame of six bytes. Disconnects are
 * counted per {@link CloseReason}, inputs refused by a client limit per {@link Limit},
 * registrations per {@link ClientKind}, refused handshakes per result code and AAA denials per
 * {@link AccessOp} (the metrics read them all, docs/architecture.md "Monitoring"; none of these
 * but the {@code r_*} / {@code w_*} counters is on the path of an accepted frame).
 */
public final class BrokerStats {
  private final long startNanos = System.nanoTime();
  final LongAdder rFrames = new LongAdder();
  final LongAdder rBytes = new LongAdder();
  final LongAdder wFrames = new LongAdder();
  final LongAdder wBytes = new LongAdder();
  private final LongAdder dropped = new LongAdder();
  private final LongAdder yields = new LongAdder();
  private final LongAdder acceptPauses = new LongAdder();
  private final EnumMap<CloseReason, LongAdder> closes = new EnumMap<>(CloseReason.class);
  private final EnumMap<Limit, LongAdder> refused = new EnumMap<>(Limit.class);
  private final EnumMap<ClientKind, LongAdder> registered = new EnumMap<>(ClientKind.class);
  /** Refused handshakes by result code, {@code 0x71..0x79} ({@link #REFUSAL_CODES}). */
  private final LongAdder[] refusedRegistrations = new LongAdder[9];
  private final EnumMap<AccessOp, LongAdder> denied = new EnumMap<>(AccessOp.class);

  /** The result codes a handshake can be refused with, each with its counter. */
  public static final List<Integer> REFUSAL_CODES = List.of(
      Protocol.ERR_CLIENT_NOT_REGISTERED, Protocol.ERR_DATA,
      Protocol.ERR_OTHER, Protocol.ERR_NOT_SUPPORTED,
      Protocol.ERR_BUSY, Protocol.ERR_ACCESS);

  public BrokerStats() {
    for (CloseReason r : CloseReason.values()) {
      closes.put(r, new LongAdder());
    }
    for (Limit l : Limit.values()) {
      refused.put(l, new LongAdder());
    }
    for (ClientKind k : ClientKind.values()) {
      registered.put(k, new LongAdder());
    }
    for (int i = 0; i < refusedRegistrations.length; i++) {
      refusedRegistrations[i] = new LongAdder();
    }
    for (AccessOp o : AccessOp.values()) {
      denied.put(o, new LongAdder());
    }
  }

  /** Counts a client registered (a primary or a secondary). */
  public void countRegistered(ClientKind kind) {
    registered.get(kind).increment();
  }

  public long registered(ClientKind kind) {
    return registered.get(kind).sum();
  }

  /**
   * Counts a handshake refused with {@code code} (a code outside {@link #REFUSAL_CODES} counts as
   * {@code ERR_OTHER}).
   */
  public void countRegistrationRefused(int code) {
    refusedRegistrations[refusalIndex(code)].increment();
  }

  /** Handshakes refused with {@code code}, one of {@link #REFUSAL_CODES}. */
  public long registrationsRefused(int code) {
    return refusedRegistrations[refusalIndex(code)].sum();
  }

  private static int refusalIndex(int code) {
    int c = REFUSAL_CODES.contains(code) ? code : Protocol.ERR_OTHER;
    return c - Protocol.ERR_CLIENT_NOT_REGISTERED;
  }

  /** Counts an operation AAA refused. */
  public void countDenied(AccessOp op) {
    denied.get(op).increment();
  }

  public long denied(AccessOp op) {
    return denied.get(op).sum();
  }

  /** Counts one input refused by a client limit. */
  public void countRefused(Limit limit) {
    refused.get(limit).increment();
  }

  public long refused(Limit limit) {
    return refused.get(limit).sum();
  }

  /** Inputs refused per {@link Limit#key()}. */
  public Map<String, Long> refusedCounts() {
    Map<String, Long> m = new java.util.LinkedHashMap<>();
    for (Map.Entry<Limit, LongAdder> e : refused.entrySet()) {
      m.put(e.getKey().key(), e.getValue().sum());
    }
    return m;
  }

  public void countRead(int bodyBytes) {
    rFrames.increment();
    rBytes.add(bodyBytes);
  }

  public void countWrite(long bodyBytes) {
    wFrames.increment();
    wBytes.add(bodyBytes);
  }

  /** Counts a frame an internal client refused at its queue bound (it stays registered). */
  public void countDropped() {
    dropped.increment();
  }

  /** Frames internal clients refused at their queue bound. */
  public long dropped() {
    return dropped.sum();
  }

  /** Counts a connection's turn ended early by its time budget (the rest read in a later turn). */
  public void countYield() {
    yields.increment();
  }

  /** Connection turns ended early by their time budget. */
  public long yields() {
    return yields.sum();
  }

  /** Counts a listener's accepts paused by {@code handshake_rate}. */
  public void countAcceptPause() {
    acceptPauses.increment();
  }

  /** Times a listener stopped accepting for a while to keep {@code handshake_rate}. */
  public long acceptPauses() {
    return acceptPauses.sum();
  }

  public void countClose(CloseReason reason) {
    closes.get(reason).increment();
  }

  public long uptimeSeconds() {
    return (System.nanoTime() - startNanos) / 1_000_000_000L;
  }

  public long rFrames() {
    return rFrames.sum();
  }

  public long rBytes() {
    return rBytes.sum();
  }

  public long wFrames() {
    return wFrames.sum();
  }

  public long wBytes() {
    return wBytes.sum();
  }

  public long closes(CloseReason reason) {
    return closes.get(reason).sum();
  }

  /** Disconnect counters by {@link CloseReason#key()}. */
  public Map<String, Long> closeCounts() {
    Map<String, Long> m = new java.util.LinkedHashMap<>();
    for (Map.Entry<CloseReason, LongAdder> e : closes.entrySet()) {
      m.put(e.getKey().key(), e.getValue().sum());
    }
    return m;
  }
}
