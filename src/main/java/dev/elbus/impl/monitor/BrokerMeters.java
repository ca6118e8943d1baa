package dev.elbus.impl.monitor;

import dev.elbus.impl.core.BrokerImpl;
import dev.elbus.impl.net.ListenerRuntime;
import dev.elbus.impl.routing.AccessOp;
import dev.elbus.impl.routing.BrokerStats;
import dev.elbus.impl.routing.ClientKind;
import dev.elbus.impl.routing.CloseReason;
import dev.elbus.impl.routing.Limit;
import dev.elbus.impl.routing.Session;
import dev.elbus.protocol.Protocol;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * A broker's meters ({@code elbus.*}, in Prometheus {@code elbus_*}) on one Micrometer registry.
 * Nothing is counted for them: every meter reads, when the registry is scraped, a counter the
 * broker keeps anyway (the {@link BrokerStats} adders, the listeners' and sessions' fields), so
 * binding them adds nothing to the path of a frame. The gauges over all clients (clients per
 * listener, queue depths) share one walk of the registry per scrape ({@link Snapshot}).
 *
 * <p>{@link #close()} removes every meter this binder registered (the registry may outlive the
 * broker: an application's own, or Vert.x's). Bound to one registry at a time.
 */
public final class BrokerMeters implements MeterBinder, AutoCloseable {
  /**
   * How long one walk of the clients serves the gauges reading it: the few milliseconds of one
   * scrape, so that a scrape walks them once rather than once per gauge.
   */
  static final long SNAPSHOT_NANOS = 10_000_000L;
  /** The {@code listener} tag of internal clients, which have none. */
  static final String INTERNAL = "internal";

  private final BrokerImpl broker;
  private final Tags tags;
  private final List<Meter> meters = new ArrayList<>();
  /** Internal primaries with meters of their own, by name: the current session of each. */
  private final Map<String, Session> internal = new HashMap<>();
  private final Map<String, List<Meter>> internalMeters = new HashMap<>();
  private final List<Runnable> unobserve = new ArrayList<>();
  private MeterRegistry registry;
  private volatile Snapshot snapshot;
  /** The walk of the scrape running on this thread ({@link #scrape}). */
  private final ThreadLocal<Snapshot> pinned = new ThreadLocal<>();
  private boolean closed;

  /** The meters of {@code broker}, each with {@code tags} besides its own. */
  public BrokerMeters(BrokerImpl broker, Iterable<Tag> tags) {
    this.broker = broker;
    this.tags = Tags.of(tags);
  }

  @Override
  public synchronized void bindTo(MeterRegistry r) {
    if (registry != null || closed) {
      throw new IllegalStateException(closed ? "closed" : "already bound to a registry");
    }
    registry = r;
    BrokerStats st = broker.stats();
    counter("elbus.received.frames", "frames received from clients (not pings)", null, Tags.empty(),
        BrokerStats::rFrames);
    counter("elbus.received", "body bytes received from clients", "bytes", Tags.empty(),
        BrokerStats::rBytes);
    counter("elbus.sent.frames", "frames written to clients, one per receiver, acks included",
        null, Tags.empty(), BrokerStats::wFrames);
    counter("elbus.sent", "body bytes written to clients (the incoming body length per "
        + "receiver; an ack counts 6)", "bytes", Tags.empty(), BrokerStats::wBytes);
    for (ClientKind k : ClientKind.values()) {
      counter("elbus.registrations", "clients registered", null, Tags.of("kind", k.wireName()),
          s -> s.registered(k));
    }
    for (int code : BrokerStats.REFUSAL_CODES) {
      counter("elbus.registrations.refused", "handshakes refused, by the result code answered",
          null, Tags.of("code", codeKey(code)), s -> s.registrationsRefused(code));
    }
    for (CloseReason reason : CloseReason.values()) {
      counter("elbus.disconnects", "clients disconnected, by reason (slow_consumer: dropped "
          + "slow consumers)", null, Tags.of("reason", reason.key()), s -> s.closes(reason));
    }
    for (AccessOp op : AccessOp.values()) {
      counter("elbus.aaa.denials", "operations AAA refused", null,
          Tags.of("operation", op.key()), s -> s.denied(op));
    }
    for (Limit l : Limit.values()) {
      counter("elbus.limit.refusals", "client input refused by a per-client limit (answered 72)",
          null, Tags.of("limit", l.key()), s -> s.refused(l));
    }
    counter("elbus.internal.dropped.frames", "frames internal clients refused at their queue "
        + "bound, all clients", null, Tags.empty(), BrokerStats::dropped);
    counter("elbus.turns.yielded", "connection turns ended early by the time budget: the rest of "
        + "what the connection read waited for a later turn of its event loop", null,
        Tags.empty(), BrokerStats::yields);
    counter("elbus.accepts.paused", "times a listener stopped accepting for a while: more than "
        + "handshake_burst connections were in their handshake and new ones came faster than "
        + "handshake_rate", null, Tags.empty(), BrokerStats::acceptPauses);
    for (String m : BrokerImpl.coreMethods()) {
      meters.add(FunctionCounter.builder("elbus.core.calls", broker, b -> b.coreAnswered(m))
          .description(".broker RPC requests, by method (other: any other name) and result")
          .tags(tags).tags("method", m, "result", "ok").register(r));
      meters.add(FunctionCounter.builder("elbus.core.calls", broker, b -> b.coreFailures(m))
          .description(".broker RPC requests, by method (other: any other name) and result")
          .tags(tags).tags("method", m, "result", "error").register(r));
    }
    for (ClientKind k : ClientKind.values()) {
      Tags kt = Tags.of("kind", k.wireName());
      gauge("elbus.queued.frames", "frames queued for clients of a kind, summed", kt,
          m -> m.snapshot().queued.get(k)[0]);
      gauge("elbus.queued.frames.max", "the deepest queue of a client of a kind, in frames", kt,
          m -> m.snapshot().queued.get(k)[1]);
    }
    gauge("elbus.clients", "registered clients", Tags.of("listener", INTERNAL, "kind",
        ClientKind.INTERNAL.wireName()), m -> m.snapshot().internalClients);
    meters.add(Gauge.builder("elbus.uptime", st, BrokerStats::uptimeSeconds)
        .description("seconds since the broker was created").baseUnit("seconds")
        .tags(tags).strongReference(true).register(r));
    unobserve.add(broker.onListener(this::listenerBound));
    unobserve.add(broker.onRegistration(this::registration));
    for (Session s : broker.router().registry().primaries().values()) {
      registration(s, Boolean.TRUE);
    }
  }

  /** A counter reading {@code read} of the broker's stats. */
  private void counter(String name, String description, String unit, Tags own,
      ToDoubleFunction<BrokerStats> read) {
    meters.add(FunctionCounter.builder(name, broker.stats(), read).description(description)
        .baseUnit(unit).tags(tags).tags(own).register(registry));
  }

  /** A gauge reading {@code read} of this binder (held strongly by the gauge). */
  private void gauge(String name, String description, Tags own,
      ToDoubleFunction<BrokerMeters> read) {
    meters.add(Gauge.builder(name, this, read).description(description).tags(tags).tags(own)
        .strongReference(true).register(registry));
  }

  /** The metrics' name of a refusal code: {@code Protocol.codeName} in snake case. */
  static String codeKey(int code) {
    return Protocol.codeName(code).replace(' ', '_');
  }

  private synchronized void listenerBound(ListenerRuntime l) {
    if (closed) {
      return;
    }
    Tags lt = Tags.of("listener", l.label(), "kind", l.kind().wireName());
    gauge("elbus.clients", "registered clients", lt, m -> m.snapshot().count(l));
    meters.add(Gauge.builder("elbus.connections", l, ListenerRuntime::connections)
        .description("connections open on a listener, in their handshake or registered")
        .tags(tags).tags(lt).strongReference(true).register(registry));
    meters.add(Gauge.builder("elbus.handshakes", l, ListenerRuntime::handshakes)
        .description("connections of a listener in their handshake")
        .tags(tags).tags(lt).strongReference(true).register(registry));
  }

  /**
   * An internal primary registered or gone: its queue and dropped frames get meters of their
   * own, tagged with its name, while it is registered.
   */
  private synchronized void registration(Session s, Boolean registered) {
    if (closed || s.kind() != ClientKind.INTERNAL || s.name().equals(Protocol.BROKER_NAME)) {
      return;
    }
    String name = s.name();
    if (registered) {
      internal.put(name, s);
      if (!internalMeters.containsKey(name)) {
        Tags ct = Tags.of("client", name);
        List<Meter> ms = new ArrayList<>();
        // read through the map: a name registered again is the same series, the new session
        ms.add(Gauge.builder("elbus.internal.client.queued.frames", this, m -> m.queuedOf(name))
            .description("frames queued for an internal client").tags(tags).tags(ct)
            .strongReference(true).register(registry));
        ms.add(FunctionCounter.builder("elbus.internal.client.dropped.frames", this,
            m -> m.droppedOf(name)).description("frames an internal client refused at its "
            + "queue bound").tags(tags).tags(ct).register(registry));
        internalMeters.put(name, ms);
      }
    } else if (internal.remove(name, s)) {
      List<Meter> ms = internalMeters.remove(name);
      if (ms != null) {
        ms.forEach(registry::remove);
      }
    }
  }

  private synchronized double queuedOf(String name) {
    Session s = internal.get(name);
    return s == null ? Double.NaN : s.queued();
  }

  private synchronized double droppedOf(String name) {
    Session s = internal.get(name);
    return s == null ? Double.NaN : s.dropped();
  }

  /** The walk of the clients the gauges read, at most {@link #SNAPSHOT_NANOS} old. */
  Snapshot snapshot() {
    Snapshot s = pinned.get();
    if (s != null) {
      return s;
    }
    s = snapshot;
    long now = System.nanoTime();
    if (s == null || now - s.taken > SNAPSHOT_NANOS) {
      s = new Snapshot(broker, now);
      snapshot = s;
    }
    return s;
  }

  /**
   * Runs {@code scrape} (a registry's scrape, which reads the gauges on the calling thread) with
   * one walk of the clients for all of its gauges, however long it takes: the queue depths and
   * counts of one scrape agree with each other (a sum is never below the maximum it contains).
   */
  <T> T scrape(java.util.function.Supplier<T> scrape) {
    pinned.set(new Snapshot(broker, System.nanoTime()));
    try {
      return scrape.get();
    } finally {
      pinned.remove();
    }
  }

  /** Removes every meter this binder registered; stops following the broker. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    unobserve.forEach(Runnable::run);
    if (registry != null) {
      meters.forEach(registry::remove);
      internalMeters.values().forEach(ms -> ms.forEach(registry::remove));
    }
    meters.clear();
    internalMeters.clear();
    internal.clear();
  }

  /** One walk of the registered clients: counts per listener, queue depths per kind. */
  static final class Snapshot {
    final long taken;
    /** Registered clients per listener ({@link Session#origin()}). */
    final Map<Object, int[]> perListener = new IdentityHashMap<>();
    /** Per kind: frames queued summed, and the deepest queue. */
    final EnumMap<ClientKind, long[]> queued = new EnumMap<>(ClientKind.class);
    int internalClients;

    Snapshot(BrokerImpl broker, long taken) {
      this.taken = taken;
      for (ClientKind k : ClientKind.values()) {
        queued.put(k, new long[2]);
      }
      for (Session s : broker.router().registry().all()) {
        long q = s.queued();
        long[] kq = queued.get(s.kind());
        kq[0] += q;
        kq[1] = Math.max(kq[1], q);
        Object origin = s.origin();
        if (origin == null) {
          internalClients++;
        } else {
          perListener.computeIfAbsent(origin, o -> new int[1])[0]++;
        }
      }
    }

    int count(ListenerRuntime l) {
      int[] n = perListener.get(l);
      return n == null ? 0 : n[0];
    }
  }
}
