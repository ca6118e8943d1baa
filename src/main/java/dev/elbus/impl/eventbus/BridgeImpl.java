package dev.elbus.impl.eventbus;

import dev.elbus.client.ElbusException;
import dev.elbus.client.Frame;
import dev.elbus.client.FrameKind;
import dev.elbus.config.InternalClientOptions;
import dev.elbus.eventbus.Bridge;
import dev.elbus.eventbus.BridgeOptions;
import dev.elbus.eventbus.EventBusHeaders;
import dev.elbus.eventbus.InboundRule;
import dev.elbus.eventbus.OutboundRule;
import dev.elbus.protocol.Masks;
import dev.elbus.protocol.Protocol;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A running event-bus bridge (docs/eventbus.md): inbound rules forward elbus publications to
 * event-bus addresses, outbound rules forward event-bus messages to elbus topics or clients.
 * Started by {@code Broker.bridge} (or {@code bridge:} in {@code conf/elbus.yaml}).
 *
 * <p>Every distinct client name of the rules becomes one internal client (RPC mode, no address
 * of its own): it holds the inbound subscriptions, its queue holds what its event-bus consumers
 * have not taken yet (flow control as for any internal client, per address), and it is the
 * sender of what the outbound rules forward. Rules under one client share its queue, so a
 * stalled consumer of one of its inbound addresses holds back its other inbound rules: give a
 * rule its own client to keep it apart.
 *
 * <p>No loops: a bridge never forwards a publication sent by one of its own clients, and its
 * outbound rules ignore messages its inbound rules produced ({@link EventBusHeaders#ORIGIN}).
 *
 * <p>Threading: inbound forwarding runs on each client's context, outbound on the consumers'
 * contexts; {@link #close} may be called from any thread.
 */
public final class BridgeImpl implements Bridge {
  private static final Logger LOG = LoggerFactory.getLogger(BridgeImpl.class);
  private static final Buffer EMPTY = Buffer.buffer();

  private final InternalClients internal;
  private final BridgeOptions options;
  private final String id = UUID.randomUUID().toString();
  private final Map<String, InternalClientImpl> clients = new LinkedHashMap<>();
  private final Set<String> clientNames = new LinkedHashSet<>();
  private final List<MessageConsumer<Object>> consumers = new ArrayList<>();
  private final List<Runnable> closeListeners = new CopyOnWriteArrayList<>();
  private volatile boolean closed;

  private BridgeImpl(InternalClients internal, BridgeOptions options) {
    this.internal = internal;
    this.options = options;
  }

  /**
   * Starts a bridge with the internal clients of {@code internal}: registers its internal clients, subscribes them, and
   * consumes the outbound addresses.
   *
   * @return the bridge once every outbound consumer is registered; fails (leaving nothing
   *     running) when a client name is taken ({@link ElbusException} 0x76) or a rule is invalid
   */
  public static Future<BridgeImpl> start(InternalClients internal, BridgeOptions options) {
    BridgeImpl b = new BridgeImpl(internal, new BridgeOptions(options));
    List<Future<Void>> ready = new ArrayList<>();
    try {
      b.registerClients();
      for (OutboundRule r : b.options.getOutbound()) {
        ready.add(b.consume(r));
      }
    } catch (RuntimeException e) {
      return b.close().transform(x -> Future.failedFuture(e));
    }
    return Future.all(ready).transform(ar -> {
      if (ar.failed()) {
        return b.close().transform(x -> Future.failedFuture(ar.cause()));
      }
      LOG.info("bridge started: {} inbound, {} outbound rule(s), client(s) {}",
          b.options.getInbound().size(), b.options.getOutbound().size(), b.clientNames);
      return Future.succeededFuture(b);
    });
  }

  private void registerClients() {
    Map<String, List<InboundRule>> in = new LinkedHashMap<>();
    for (InboundRule r : options.getInbound()) {
      in.computeIfAbsent(options.clientOf(r.client()), k -> new ArrayList<>()).add(r);
    }
    clientNames.addAll(in.keySet());
    for (OutboundRule r : options.getOutbound()) {
      clientNames.add(options.clientOf(r.client()));
    }
    for (String name : clientNames) {
      List<InboundRule> rules = in.getOrDefault(name, List.of());
      RuleSink sink = new RuleSink(name, rules);
      InternalClientImpl c = internal.register(name, new InternalClientOptions()
          .setEventBus(false).setRpc(true), sink);
      synchronized (this) {
        clients.put(name, c);
      }
      Set<String> masks = new LinkedHashSet<>();
      for (InboundRule r : rules) {
        masks.add(r.mask());
      }
      if (!masks.isEmpty()) {
        c.subscribe(new ArrayList<>(masks), dev.elbus.protocol.QoS.PROCESSED);
      }
    }
  }

  private Future<Void> consume(OutboundRule rule) {
    InternalClientImpl c = clients.get(options.clientOf(rule.client()));
    MessageConsumer<Object> mc = internal.vertx().eventBus().consumer(rule.address(),
        m -> forward(rule, c, m));
    synchronized (this) {
      consumers.add(mc);
    }
    return mc.completion();
  }

  private void forward(OutboundRule rule, InternalClientImpl c, Message<Object> m) {
    if (id.equals(m.headers().get(EventBusHeaders.ORIGIN))) {
      return; // produced by this bridge's inbound side
    }
    Object body = m.body();
    if (body != null && !(body instanceof Buffer)) {
      refuse(m, rule, Protocol.ERR_DATA, "the body must be a Buffer (the payload), got "
          + body.getClass().getSimpleName());
      return;
    }
    Buffer payload = body == null ? EMPTY : (Buffer) body;
    Future<Void> r = rule.topic() != null ? c.publish(rule.topic(), payload, rule.qos())
        : c.send(rule.target(), payload, rule.qos());
    r.onComplete(ar -> {
      if (ar.succeeded()) {
        if (m.replyAddress() != null) {
          m.reply(EMPTY);
        }
      } else if (ar.cause() instanceof ElbusException) {
        ElbusException e = (ElbusException) ar.cause();
        refuse(m, rule, e.code(), e.getMessage());
      } else {
        refuse(m, rule, Protocol.ERR_OTHER, String.valueOf(ar.cause()));
      }
    });
  }

  private void refuse(Message<Object> m, OutboundRule rule, int code, String text) {
    if (m.replyAddress() != null) {
      m.fail(code, text);
    } else {
      LOG.debug("bridge {} -> {}: message not forwarded: 0x{} {}", rule.address(),
          rule.topic() != null ? rule.topic() : rule.target(), Integer.toHexString(code), text);
    }
  }

  @Override
  public String id() {
    return id;
  }

  @Override
  public BridgeOptions options() {
    return new BridgeOptions(options);
  }

  @Override
  public Set<String> clientNames() {
    return Set.copyOf(clientNames);
  }

  /** Runs {@code r} once the bridge is closed (at once if it already is). */
  public void onClose(Runnable r) {
    closeListeners.add(r);
    if (closed && closeListeners.remove(r)) {
      r.run();
    }
  }

  @Override
  public Future<Void> close() {
    List<Future<Void>> all = new ArrayList<>();
    synchronized (this) {
      if (closed) {
        return Future.succeededFuture();
      }
      closed = true;
      for (MessageConsumer<Object> mc : consumers) {
        all.add(mc.unregister());
      }
      consumers.clear();
      for (InternalClientImpl c : clients.values()) {
        all.add(c.close());
      }
      clients.clear();
    }
    for (Runnable r : closeListeners) {
      if (closeListeners.remove(r)) {
        r.run();
      }
    }
    return Future.join(all).mapEmpty();
  }

  /** An inbound address with the masks (split into levels) that lead to it. */
  private static final class Route {
    final AddressChannel channel;
    final List<String[]> masks = new ArrayList<>();

    Route(AddressChannel channel) {
      this.channel = channel;
    }

    boolean matches(String[] topicLevels) {
      for (String[] m : masks) {
        if (Masks.topicMatches(m, topicLevels)) {
          return true;
        }
      }
      return false;
    }
  }

  /**
   * A bridge client's frames: publications matching its inbound rules go to their addresses.
   * Touched on the client's context only.
   */
  private final class RuleSink implements FrameSink {
    private static final Route[] NONE = new Route[0];
    private final String name;
    private final Route[] routes;
    /** The routes of the last topic seen (a stream usually repeats its topics). */
    private String lastTopic;
    private Route[] lastRoutes = NONE;

    RuleSink(String name, List<InboundRule> rules) {
      this.name = name;
      Set<String> outboundAddresses = new LinkedHashSet<>();
      for (OutboundRule r : options.getOutbound()) {
        outboundAddresses.add(r.address());
      }
      Map<String, Route> byTarget = new LinkedHashMap<>();
      for (InboundRule r : rules) {
        String key = r.mode() + " " + r.address();
        Route route = byTarget.get(key);
        if (route == null) {
          AddressChannel ch = internal.flowControl().channel(r.address(),
              r.mode() == InboundRule.Mode.PUBLISH, options.getWindow(), "bridge client " + name);
          if (outboundAddresses.contains(r.address())) {
            ch.origin(id); // our own outbound consumer of this address must skip it
          }
          route = new Route(ch);
          byTarget.put(key, route);
        }
        route.masks.add(Masks.split(r.mask(), '/'));
      }
      this.routes = byTarget.values().toArray(NONE);
    }

    /** The routes {@code f} goes to (none for what the bridge does not forward). */
    private Route[] routes(Frame f) {
      if (f.kind() != FrameKind.PUBLISH || clientNames.contains(f.primarySender())) {
        return NONE;
      }
      String topic = f.topic();
      if (!topic.equals(lastTopic)) {
        String[] levels = Masks.split(topic, '/');
        List<Route> out = new ArrayList<>(1);
        for (Route r : routes) {
          if (r.matches(levels)) {
            out.add(r);
          }
        }
        lastTopic = topic;
        lastRoutes = out.toArray(NONE);
      }
      return lastRoutes;
    }

    @Override
    public boolean ready(Frame frame, Runnable wakeUp) {
      for (Route r : routes(frame)) {
        if (!r.channel.ready(wakeUp)) {
          return false;
        }
      }
      return true;
    }

    @Override
    public void accept(Frame frame) {
      for (Route r : routes(frame)) {
        r.channel.accept(frame);
      }
    }

    @Override
    public void close() {
      for (Route r : routes) {
        r.channel.close();
      }
    }

    @Override
    public String toString() {
      return "bridge client " + name;
    }
  }
}
