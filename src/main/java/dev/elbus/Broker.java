package dev.elbus;

import dev.elbus.client.ElbusException;
import dev.elbus.config.Bind;
import dev.elbus.eventbus.Bridge;
import dev.elbus.eventbus.BridgeOptions;
import dev.elbus.eventbus.EventBusService;
import dev.elbus.eventbus.FlowControl;
import dev.elbus.eventbus.FrameSink;
import dev.elbus.eventbus.InternalClientOptions;
import dev.elbus.net.BrokerVerticle;
import dev.elbus.net.ListenerRuntime;
import dev.elbus.protocol.Protocol;
import dev.elbus.routing.BrokerStats;
import dev.elbus.routing.ClientRegistry;
import dev.elbus.routing.CloseReason;
import dev.elbus.routing.Router;
import dev.elbus.routing.Session;
import dev.elbus.routing.TopicIndex;
import io.netty.buffer.ByteBufAllocator;
import io.vertx.core.Context;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The broker: the public facade to embed elbus in a Vert.x application. It owns the routing core
 * shared by every event loop, deploys {@link BrokerVerticle} instances for its listeners, and
 * registers in-process clients.
 *
 * <pre>{@code
 * Broker broker = Broker.create(vertx);
 * broker.deploy(List.of(ListenerOptions.of("/tmp/elbus.sock"), ListenerOptions.of("127.0.0.1:7777")))
 *     .onSuccess(id -> ...);
 * InternalClient me = broker.registerClient("app");   // frames also on the event bus
 * }</pre>
 *
 * <p>Event-bus integration (docs/eventbus.md): internal clients take their frames on event-bus
 * addresses, verticles act as internal clients through the broker's own address ({@link
 * BrokerOptions#getEventBusAddress}, default {@code elbus.broker}), and {@link #bridge} forwards
 * topics to addresses and addresses to topics or clients.
 */
public final class Broker {
  private static final Logger LOG = LoggerFactory.getLogger(Broker.class);
  /** Distinct negative port keys: Vert.x shares a negative-port listener between instances. */
  private static final AtomicInteger SHARED_PORT_KEY = new AtomicInteger(-1_000_000);

  private final Vertx vertx;
  private final BrokerOptions options;
  private final Router router;
  private final List<String> deployments = new CopyOnWriteArrayList<>();
  private final List<ListenerRuntime> listeners = new CopyOnWriteArrayList<>();
  private final CoreSession core;
  private final List<AaaWatcher> watchers = new CopyOnWriteArrayList<>();
  private final FlowControl flow;
  private final EventBusService service;
  private final List<Bridge> bridges = new CopyOnWriteArrayList<>();
  private volatile boolean closed;

  private Broker(Vertx vertx, BrokerOptions options) {
    this.vertx = vertx;
    this.options = new BrokerOptions(options);
    this.router = new Router(new ClientRegistry(), new TopicIndex(), new BrokerStats(),
        ByteBufAllocator.DEFAULT);
    this.core = new CoreSession(this, router, this.options.isCoreRpc());
    router.register(core);
    router.registrationListener((s, registered) -> core.announce(s, registered));
    this.flow = new FlowControl(vertx);
    String address = this.options.getEventBusAddress();
    this.service = address == null ? null : new EventBusService(this, address);
  }

  public static Broker create(Vertx vertx) {
    return create(vertx, new BrokerOptions());
  }

  public static Broker create(Vertx vertx, BrokerOptions options) {
    return new Broker(vertx, options);
  }

  public Vertx vertx() {
    return vertx;
  }

  public BrokerOptions options() {
    return new BrokerOptions(options);
  }

  /** The routing core (for the broker's own services and tests). */
  public Router router() {
    return router;
  }

  /** Deploys the broker verticle on {@code listeners} with {@link BrokerOptions#getWorkers}. */
  public Future<String> deploy(List<ListenerOptions> listeners) {
    return deploy(listeners, options.getWorkers());
  }

  /**
   * Deploys {@code instances} broker verticles (one per event loop), each listening on every one
   * of {@code listeners}. A stale Unix socket file is removed first (a regular file or directory
   * at a socket path is an error).
   *
   * @return the deployment id
   */
  public Future<String> deploy(List<ListenerOptions> listeners, int instances) {
    if (closed) {
      return Future.failedFuture(new IllegalStateException("broker is closed"));
    }
    List<ListenerRuntime> rts = new ArrayList<>();
    for (ListenerOptions lo : listeners) {
      Bind b = lo.getBind();
      if (b == null) {
        return Future.failedFuture(new IllegalArgumentException("listener without a bind address"));
      }
      if (b.type() == Bind.Type.UNIX) {
        try {
          removeStaleSocket(Path.of(b.path()));
        } catch (IOException | IllegalStateException e) {
          return Future.failedFuture(e);
        }
      }
      int port = b.type() == Bind.Type.TCP && b.port() == 0 && instances > 1
          ? SHARED_PORT_KEY.getAndDecrement() : b.port();
      rts.add(new ListenerRuntime(lo, port));
    }
    List<AaaWatcher> newWatchers = new ArrayList<>();
    List<Future<Void>> loads = new ArrayList<>();
    for (ListenerRuntime rt : rts) {
      String file = rt.options().getAaaFile();
      if (file != null) {
        AaaWatcher w = new AaaWatcher(vertx, this, rt, file, rt.options().getAaaScanPeriodMs());
        newWatchers.add(w);
        loads.add(w.start());
      }
    }
    DeploymentOptions dopts = new DeploymentOptions().setInstances(instances);
    if (service != null) {
      loads.add(service.ready());
    }
    return Future.all(loads)
        .compose(v -> vertx.deployVerticle(() -> new BrokerVerticle(router, rts), dopts))
        .onFailure(e -> newWatchers.forEach(AaaWatcher::close))
        .onSuccess(id -> {
          watchers.addAll(newWatchers);
          deployments.add(id);
          this.listeners.addAll(rts);
          for (ListenerRuntime l : rts) {
            LOG.info("listening on {} ({} instance{})", l.label(), instances,
                instances == 1 ? "" : "s");
          }
        });
  }

  private static void removeStaleSocket(Path p) throws IOException {
    if (!Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    if (Files.isRegularFile(p) || Files.isDirectory(p)) {
      throw new IllegalStateException("cannot listen on " + p
          + ": a regular file or directory is in the way");
    }
    Files.delete(p);
  }

  /**
   * Replaces the AAA policy of the listener labelled {@code listener} (its bind address as
   * {@link #listeners()} shows it, e.g. {@code /tmp/elbus.sock} or {@code 127.0.0.1:7777}) and
   * disconnects exactly the clients of that listener whose rights changed. {@code null} switches
   * AAA off there. A watched AAA file replaces the policy again on its next change.
   *
   * @return the number of clients disconnected
   * @throws IllegalArgumentException when no such listener is deployed
   */
  public int setAaa(String listener, dev.elbus.aaa.AaaPolicy policy) {
    for (ListenerRuntime l : listeners) {
      if (l.label().equals(listener) || l.bind().toString().equals(listener)) {
        return applyAaa(l, policy);
      }
    }
    throw new IllegalArgumentException("no listener " + listener);
  }

  int applyAaa(ListenerRuntime l, dev.elbus.aaa.AaaPolicy policy) {
    l.aaa(policy);
    // Decide on a snapshot first: unregistering a primary removes its secondaries from the live
    // registry view, which would skip them. Then close secondaries before primaries: a closed
    // primary's connection unregisters it on its own event loop and closes its secondaries as
    // PRIMARY_GONE, which must not pre-empt their own ACCESS close (and count). Unregister last.
    // Every client of the listener is found through its connection, registered or not (a
    // session whose unregistration failed halfway must not keep its rights), and through the
    // registry too.
    java.util.LinkedHashSet<Session> candidates = new java.util.LinkedHashSet<>(l.sessions());
    for (Session s : List.copyOf(router.registry().all())) {
      if (s.origin() == l) {
        candidates.add(s);
      }
    }
    List<Session> dropped = new ArrayList<>();
    for (Session s : candidates) {
      if (l.outdated(s)) {
        dropped.add(s);
      }
    }
    dropped.sort(Comparator.comparing(s -> !s.isSecondary()));
    dropped.forEach(l::disconnectOutdated);
    dropped.forEach(router::unregister);
    return dropped.size();
  }

  /** The listeners deployed so far, with their actual addresses. */
  public List<ListenerRuntime> listeners() {
    return List.copyOf(listeners);
  }

  /**
   * Registers an in-process client with default {@link InternalClientOptions}: its frames go to
   * the event-bus address {@code elbus.client.<name>} and to the handle's frame handler.
   *
   * @see #registerClient(String, InternalClientOptions)
   */
  public InternalClient registerClient(String name) {
    return registerClient(name, new InternalClientOptions());
  }

  /**
   * Registers an in-process client. Its frames are handed over on the calling thread's Vert.x
   * context (or an event-loop context of this broker's Vert.x when called from elsewhere): to
   * the event-bus address of {@code options} (unless turned off), to the handle's frame handler,
   * and in RPC mode direct messages to its RpcClient. Names starting with {@code .} are reserved
   * for internal clients (network clients cannot take them).
   *
   * @throws ElbusException with {@code ERR_BUSY} when the name is taken, {@code
   *     ERR_CLIENT_NOT_REGISTERED} for a secondary without its primary, {@code ERR_DATA} for an
   *     empty name or one containing a NUL character
   */
  public InternalClient registerClient(String name, InternalClientOptions options) {
    if (name == null || name.isEmpty() || name.indexOf('\0') >= 0) {
      throw new ElbusException(Protocol.ERR_DATA, "invalid client name");
    }
    if (closed) {
      throw new ElbusException(Protocol.ERR_OTHER, "broker is closed");
    }
    InternalClientOptions o = options.withDefaults(this.options.getInternalClients());
    Context ctx = vertx.getOrCreateContext();
    FrameSink sink = o.getSink();
    String address = null;
    if (sink == null && o.isEventBus()) {
      address = o.addressFor(name);
      sink = flow.channel(address, false, o.getWindow(), "internal client " + name);
    }
    InternalSession s = new InternalSession(name, router, ctx, address, sink, o);
    int code = router.register(s);
    if (code != Protocol.RESPONSE_OK) {
      if (sink != null) {
        sink.close();
      }
      throw new ElbusException(code, "cannot register " + name + ": " + Protocol.codeName(code));
    }
    InternalClient c = new InternalClient(s, router);
    if (o.isRpc()) {
      c.rpc();
    }
    return c;
  }

  /**
   * A handle on the internal client registered as {@code name} (by the application or a
   * bridge), or {@code null} when no such internal client is registered. The broker's own {@code
   * .broker} is not one: see {@link #coreClient}.
   */
  public InternalClient internalClient(String name) {
    Session s = name == null ? null : router.registry().get(name);
    return s instanceof InternalSession ? new InternalClient(s, router) : null;
  }

  /**
   * Starts an event-bus bridge with {@code options} (docs/eventbus.md); it stops with the broker
   * or with {@link Bridge#close}.
   *
   * @return the running bridge; fails when a rule's client name is taken or an address cannot be
   *     consumed (nothing of the bridge is left running then)
   */
  public Future<Bridge> bridge(BridgeOptions options) {
    if (closed) {
      return Future.failedFuture(new IllegalStateException("broker is closed"));
    }
    return Bridge.start(this, options).onSuccess(b -> {
      bridges.add(b);
      b.onClose(() -> bridges.remove(b));
    });
  }

  /** The broker's flow control for event-bus deliveries (for the bridge). */
  public FlowControl flowControl() {
    return flow;
  }

  /**
   * Disconnects the client registered as {@code name} (with its secondaries, for a primary).
   *
   * @return whether such a client was registered
   */
  public boolean forceDisconnect(String name) {
    Session s = router.registry().get(name);
    if (s == null || s == core) {
      return false;
    }
    s.disconnect(CloseReason.FORCED);
    router.unregister(s);
    return true;
  }

  public BrokerStats stats() {
    return router.stats();
  }

  /** Registered primaries, sorted by name (what {@code client.list} reports). */
  public List<ClientInfo> clients() {
    List<ClientInfo> out = new ArrayList<>();
    for (Session s : router.registry().primaries().values()) {
      out.add(ClientInfo.of(s));
    }
    return out;
  }

  /**
   * The broker's own client {@code .broker}, to send messages and publications as the broker
   * (the FIFO channel does). Its incoming frames are the core RPC requests, so it has no frame
   * handler.
   */
  public InternalClient coreClient() {
    return new InternalClient(core, router);
  }

  /** How long {@link #close} waits for the shutdown announcement to reach clients. */
  static final long SHUTDOWN_FLUSH_MS = 1_000;

  /**
   * Shuts the broker down: announces {@code {s: "shutdown"}} on {@code .broker/warn}, waits (at
   * most {@link #SHUTDOWN_FLUSH_MS}) until it is written to every client, disconnects every client
   * and undeploys every broker verticle.
   */
  public Future<Void> close() {
    if (closed) {
      return Future.succeededFuture();
    }
    closed = true;
    watchers.forEach(AaaWatcher::close);
    watchers.clear();
    for (Bridge b : bridges) {
      b.close();
    }
    if (service != null) {
      service.close();
    }
    core.announceShutdown();
    io.vertx.core.Promise<Void> flushed = io.vertx.core.Promise.promise();
    long deadline = System.nanoTime() + SHUTDOWN_FLUSH_MS * 1_000_000;
    awaitFlushed(flushed, deadline);
    return flushed.future().compose(v -> {
      for (Session s : router.registry().all()) {
        if (s != core) {
          s.disconnect(CloseReason.SHUTDOWN);
        }
      }
      List<Future<?>> all = new ArrayList<>();
      for (String id : deployments) {
        // a broker deployed from a verticle's start() is that verticle's child: Vert.x may have
        // undeployed it already when the verticle's stop() closes the broker
        if (vertx.deploymentIDs().contains(id)) {
          all.add(vertx.undeploy(id));
        }
      }
      deployments.clear();
      return Future.all(all).<Void>mapEmpty().eventually(() -> {
        flow.close();
        return Future.succeededFuture();
      });
    });
  }

  private void awaitFlushed(io.vertx.core.Promise<Void> p, long deadline) {
    boolean flushed = true;
    for (Session s : router.registry().all()) {
      if (!s.flushed() && s.kind() != dev.elbus.routing.ClientKind.INTERNAL) {
        flushed = false;
        break;
      }
    }
    if (flushed || System.nanoTime() > deadline) {
      p.tryComplete();
    } else {
      vertx.setTimer(5, t -> awaitFlushed(p, deadline));
    }
  }
}
