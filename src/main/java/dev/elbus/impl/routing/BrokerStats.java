package dev.elbus.impl.routing;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Broker-wide counters (PROTOCOL.md section 6), updated from every event loop: {@code r_*} count
 * frames and body bytes received from clients (not pings), {@code w_*} count one frame and the
 * incoming body length per receiver, and every ack as one frame of six bytes. Disconnects are
 * counted per {@link CloseReason}, inputs refused by a client limit per {@link Limit}.
 */
public final class BrokerStats {
  private final long startNanos = System.nanoTime();
  final LongAdder rFrames = new LongAdder();
  final LongAdder rBytes = new LongAdder();
  final LongAdder wFrames = new LongAdder();
  final LongAdder wBytes = new LongAdder();
  private final LongAdder dropped = new LongAdder();
  private final EnumMap<CloseReason, LongAdder> closes = new EnumMap<>(CloseReason.class);
  private final EnumMap<Limit, LongAdder> refused = new EnumMap<>(Limit.class);

  public BrokerStats() {
    for (CloseReason r : CloseReason.values()) {
      closes.put(r, new LongAdder());
    }
    for (Limit l : Limit.values()) {
      refused.put(l, new LongAdder());
    }
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
