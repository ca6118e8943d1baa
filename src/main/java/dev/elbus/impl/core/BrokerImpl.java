package dev.elbus.impl.core;

import dev.elbus.aaa.AaaPolicy;
import dev.elbus.client.Bind;
import dev.elbus.client.ElbusException;
import dev.elbus.config.BrokerOptions;
import dev.elbus.config.InternalClientOptions;
import dev.elbus.config.ListenerOptions;
import dev.elbus.eventbus.BridgeOptions;
import dev.elbus.impl.cluster.ClusterLibraries;
import dev.elbus.impl.cluster.ClusterNode;
import dev.elbus.impl.eventbus.BridgeImpl;
import dev.elbus.impl.eventbus.EventBusService;
import dev.elbus.impl.eventbus.FlowControl;
import dev.elbus.impl.eventbus.InternalClientImpl;
import dev.elbus.impl.eventbus.InternalClients;
import dev.elbus.impl.net.FifoChannel;
import dev.elbus.impl.net.ListenerRuntime;
import dev.elbus.impl.net.ListenerTls;
import dev.elbus.impl.net.ListenerVerticle;
import dev.elbus.impl.routing.BrokerStats;
import dev.elbus.impl.routing.CauseLog;
import dev.elbus.impl.routing.ClientKind;
import dev.elbus.impl.routing.ClientRegistry;
import dev.elbus.impl.routing.CloseReason;
import dev.elbus.impl.routing.Router;
import dev.elbus.impl.routing.Session;
import dev.elbus.impl.routing.TopicIndex;
import dev.elbus.protocol.Protocol;
import io.netty.buffer.PooledByteBufAllocator;
import io.vertx.core.Closeable;
import io.vertx.core.Completable;
import io.vertx.core.Context;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * A broker: the routing core shared by every event loop, its listener deployments ({@link
 * ListenerVerticle}, one instance per event loop), the core client {@code .broker}, in-process
 * clients, the event-bus address and bridges, AAA watchers, TLS certificates and FIFO channels,
 * and the shutdown that announces itself before it closes anything. {@code dev.elbus.Broker} is
 * its public face and {@code dev.elbus.ElbusVerticle} deploys one from a configuration.
 *
 * <p>Lifecycle: the listener verticles are deployed from a context of the broker's own that
 * belongs to no deployment, so that Vert.x never undeploys them (closing every socket) before
 * {@link #close} has announced the shutdown to their clients: a deployment's children are
 * undeployed before its own {@code stop()}. Two close hooks call {@link #close} instead: one on
 * the verticle context the broker was created on (undeploying that verticle closes the broker,
 * as it would close its children), and one on Vert.x itself, which runs its hooks before it
 * undeploys anything ({@code vertx.close()}, the application launcher's shutdown).
 */
public final class BrokerImpl {
  private static final Logger LOG = LoggerFactory.getLogger(BrokerImpl.class);
  /** Distinct negative port keys: Vert.x shares a negative-port listener between instances. */
  private static final AtomicInteger SHARED_PORT_KEY = new AtomicInteger(-1_000_000);
  /** How long {@link #close} waits for the shutdown announcement to reach clients. */
  static final long SHUTDOWN_FLUSH_MS = 1_000;

  private final Vertx vertx;
  private final BrokerOptions options;
  private final Router router;
  private final CoreSession core;
  private final FlowControl flow;
  private final InternalClients internal;
  private final EventBusService service;
  /** Where listener verticles are deployed from: no deployment's child (see the class comment). */
  private final ContextInternal home;
  /** The verticle context the broker was created on (closes it), or {@code null}. */
  private final ContextInternal owner;
  private final Closeable closeHook = this::closeFromHook;
  private final List<String> deployments = new CopyOnWriteArrayList<>();
  private final List<ListenerRuntime> listeners = new CopyOnWriteArrayList<>();
  private final List<AaaWatcher> watchers = new CopyOnWriteArrayList<>();
  private final List<ListenerTls> tlsWatchers = new CopyOnWriteArrayList<>();
  private final List<BridgeImpl> bridges = new CopyOnWriteArrayList<>();
  private final List<FifoChannel> fifos = new CopyOnWriteArrayList<>();
  /** This broker as a node of a cluster, {@code null} for a single broker. */
  private final ClusterNode cluster;
  private Future<Void> clusterStart;
  /** The listener verticles of the deployments that completed (their loops, for liveness). */
  private final List<ListenerVerticle> verticles = new CopyOnWriteArrayList<>();
  private final List<Consumer<ListenerRuntime>> listenerObservers = new CopyOnWriteArrayList<>();
  private final List<BiConsumer<Session, Boolean>> registrationObservers =
      new CopyOnWriteArrayList<>();
  private final Checks liveness = new Checks();
  private final Checks readiness = new Checks();
  /** Deployments under way; the last one's failure while no later one succeeded. */
  private final AtomicInteger deploying = new AtomicInteger();
  private volatile String deployFailure;
  /** An AAA file of a deployment could not be loaded (while no later deployment succeeded). */
  private volatile String aaaFailure;
  private volatile boolean closed;
  private Future<Void> closing;

  public BrokerImpl(Vertx vertx, BrokerOptions options) {
    this.vertx = vertx;
    this.options = new BrokerOptions(options);
    // The frames the broker encodes, and the buffers its sockets coalesce them in, come from
    // Netty's pooled allocator: its buffers copy to and from others by memory address and are
    // recycled, where the adaptive default makes a ByteBuffer view for every copy (about 128
    // bytes of garbage per frame; docs/performance.md, "Allocation").
    this.router = new Router(new ClientRegistry(), new TopicIndex(), new BrokerStats(),
        PooledByteBufAllocator.DEFAULT);
    this.core = new CoreSession(router, this.options.isCoreRpc());
    router.register(core);
    if (this.options.getCluster() != null) {
      if (ClusterLibraries.missing() != null) {
        throw new IllegalStateException(ClusterLibraries.missing());
      }
      this.cluster = new ClusterNode(vertx, this.options.getCluster(), router);
      router.remote(cluster);
      core.cluster(cluster);
    } else {
      this.cluster = null;
    }
    router.registrationListener((s, registered) -> {
      core.announce(s, registered);
      for (BiConsumer<Session, Boolean> o : registrationObservers) {
        try {
          o.accept(s, registered);
        } catch (RuntimeException e) {
          CauseLog.error(LOG, "a registration observer failed", e);
        }
      }
    });
    this.flow = new FlowControl(vertx);
    this.internal = new InternalClients(vertx, router, flow, this.options.getInternalClients());
    String address = this.options.getEventBusAddress();
    // in a cluster each node serves its own verticles: the address is not cluster-wide
    this.service = address == null ? null : new EventBusService(internal, address,
        cluster != null);
    this.home = ((VertxInternal) vertx).createEventLoopContext();
    ((VertxInternal) vertx).addCloseHook(closeHook);
    Context current = Vertx.currentContext();
    if (current != null && current.owner() == vertx && current.deploymentID() != null) {
      this.owner = (ContextInternal) current;
      owner.addCloseHook(closeHook);
    } else {
      this.owner = null;
    }
    liveness.register("broker", this::brokerOpen);
    liveness.register("event_loops", this::loopsAnswer);
    readiness.register("listeners", this::listenersBound);
    readiness.register("aaa", this::aaaLoaded);
    if (cluster != null) {
      readiness.register("cluster", this::clusterReady);
    }
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

  public BrokerStats stats() {
    return router.stats();
  }

  /** The broker's in-process clients. */
  public InternalClients internalClients() {
    return internal;
  }

  /** The broker's flow control for event-bus deliveries. */
  public FlowControl flowControl() {
    return flow;
  }

  /**
   * Deploys {@code instances} listener verticles (one per event loop), each listening on every
   * one of {@code listeners}. A stale Unix socket file is removed first (a regular file or
   * directory at a socket path is an error).
   *
   * @return the deployment id
   */
  public Future<String> deploy(List<ListenerOptions> listeners, int instances) {
    if (closed) {
      return Future.failedFuture(new IllegalStateException("broker is closed"));
    }
    deploying.incrementAndGet();
    Future<String> f;
    try {
      f = deployListeners(listeners, instances);
    } catch (RuntimeException e) {
      f = Future.failedFuture(e);
    }
    return f.andThen(ar -> {
      if (ar.succeeded()) {
        deployFailure = null;
        aaaFailure = null;
      } else {
        deployFailure = String.valueOf(ar.cause().getMessage());
      }
      deploying.decrementAndGet();
    });
  }

  private Future<String> deployListeners(List<ListenerOptions> listeners, int instances) {
    List<ListenerRuntime> rts = new ArrayList<>();
    for (ListenerOptions lo : listeners) {
      Bind b = lo.getBind();
      if (b == null) {
        return Future.failedFuture(new IllegalArgumentException("listener without a bind address"));
      }
      if (lo.getTls() != null) {
        try {
          lo.getTls().validate();
        } catch (IllegalArgumentException e) {
          return Future.failedFuture(new IllegalArgumentException("listener " + b + ": "
              + e.getMessage()));
        }
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
      rts.add(new ListenerRuntime(lo, port, router.stats()));
    }
    List<AaaWatcher> newWatchers = new ArrayList<>();
    List<ListenerTls> newTls = new ArrayList<>();
    List<Future<Void>> loads = new ArrayList<>();
    for (ListenerRuntime rt : rts) {
      String file = rt.options().getAaaFile();
      if (file != null) {
        AaaWatcher w = new AaaWatcher(vertx, this, rt, file, rt.options().getAaaScanPeriodMs());
        newWatchers.add(w);
        loads.add(w.start().onFailure(e -> aaaFailure = e.getMessage()));
      }
      if (rt.tls() != null) {
        // fail closed, as an AAA file: a listener whose certificate does not load does not start
        newTls.add(rt.tls());
        loads.add(rt.tls().start(vertx).recover(e -> Future.failedFuture(
            new IllegalArgumentException("listener " + rt.label() + ": " + e.getMessage()))));
      }
    }
    Runnable stopWatching = () -> {
      newWatchers.forEach(AaaWatcher::close);
      newTls.forEach(ListenerTls::close);
    };
    DeploymentOptions dopts = new DeploymentOptions().setInstances(instances);
    if (service != null) {
      loads.add(service.ready());
    }
    if (cluster != null) {
      loads.add(joinCluster());
    }
    List<ListenerVerticle> instancesMade = new CopyOnWriteArrayList<>();
    return Future.all(loads)
        .compose(v -> onHome(() -> vertx.deployVerticle(() -> {
          ListenerVerticle lv = new ListenerVerticle(router, rts);
          instancesMade.add(lv);
          return lv;
        }, dopts)))
        .onFailure(e -> stopWatching.run())
        .compose(id -> {
          synchronized (this) {
            if (!closed) {
              watchers.addAll(newWatchers);
              tlsWatchers.addAll(newTls);
              deployments.add(id);
              verticles.addAll(instancesMade);
              this.listeners.addAll(rts);
              for (ListenerRuntime l : rts) {
                LOG.info("listening on {} ({} instance{})", l.label(), instances,
                    instances == 1 ? "" : "s");
                for (Consumer<ListenerRuntime> o : listenerObservers) {
                  observe(o, l);
                }
              }
              return Future.succeededFuture(id);
            }
          }
          // closed while deploying: nothing of this deployment stays
          stopWatching.run();
          return vertx.undeploy(id)
              .transform(x -> Future.failedFuture(new IllegalStateException("broker is closed")));
        });
  }

  /** Joins the cluster, once (before the first listener serves a client). */
  private synchronized Future<Void> joinCluster() {
    if (clusterStart == null) {
      clusterStart = cluster.start();
    }
    return clusterStart;
  }

  /**
   * Readiness in cluster mode: whether this broker joined its cluster and exchanged state with
   * the members it found (docs/cluster.md). Always true for a single broker.
   */
  public boolean clusterJoined() {
    return cluster == null || cluster.isJoined();
  }

  /** The readiness check {@code cluster}: {@link #clusterJoined}, with the nodes reached. */
  private Future<JsonObject> clusterReady() {
    JsonObject data = new JsonObject().put("name", cluster.clusterName())
        .put("node", cluster.nodeName()).put("nodes", new JsonArray(cluster.peerNames()));
    return cluster.isJoined() ? Future.succeededFuture(data)
        : Future.failedFuture(new Checks.NotMet(closed ? "the broker is closed"
            : "the cluster is not joined", data));
  }

  /** This broker as a node of its cluster, {@code null} for a single broker. */
  public ClusterNode cluster() {
    return cluster;
  }

  /** Runs {@code action} on the broker's own context ({@link #home}). */
  private <T> Future<T> onHome(Supplier<Future<T>> action) {
    Promise<T> p = Promise.promise();
    home.runOnContext(v -> {
      try {
        action.get().onComplete(p);
      } catch (RuntimeException e) {
        p.fail(e);
      }
    });
    return p.future();
  }

  private static void removeStaleSocket(Path p) throws IOException {
    if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    if (Files.isRegularFile(p) || Files.isDirectory(p)) {
      throw new IllegalStateException("cannot listen on " + p
          + ": a regular file or directory is in the way");
    }
    Files.delete(p);
  }

  /**
   * Opens a FIFO command channel at {@code path} (PROTOCOL.md section 12): lines written to it
   * are sent by {@code .broker}. It is removed when the broker closes.
   */
  public Future<Void> openFifo(String path) {
    if (closed) {
      return Future.failedFuture(new IllegalStateException("broker is closed"));
    }
    FifoChannel c = new FifoChannel(Path.of(path), coreClient());
    return vertx.<Void>executeBlocking(() -> {
      c.start();
      return null;
    }).compose(v -> {
      synchronized (this) {
        if (!closed) {
          fifos.add(c);
          return Future.<Void>succeededFuture();
        }
      }
      c.stop();
      return Future.failedFuture(new IllegalStateException("broker is closed"));
    });
  }

  /**
   * Replaces the AAA policy of the listener labelled {@code listener} and disconnects exactly the
   * clients of that listener whose rights changed.
   *
   * @return the number of clients disconnected
   * @throws IllegalArgumentException when no such listener is deployed
   */
  public int setAaa(String listener, AaaPolicy policy) {
    for (ListenerRuntime l : listeners) {
      if (l.label().equals(listener) || l.bind().toString().equals(listener)) {
        return applyAaa(l, policy);
      }
    }
    throw new IllegalArgumentException("no listener " + listener);
  }

  /** Puts {@code policy} in force on {@code l}; see {@link #setAaa}. */
  int applyAaa(ListenerRuntime l, AaaPolicy policy) {
    l.aaa(policy);
    // Decide on a snapshot first: unregistering a primary removes its secondaries from the live
    // registry view, which would skip them. Then close secondaries before primaries: a closed
    // primary's connection unregisters it on its own event loop and closes its secondaries as
    // PRIMARY_GONE, which must not pre-empt their own ACCESS close (and count). Unregister last.
    // Every client of the listener is found through its connection, registered or not (a
    // session whose unregistration failed halfway must not keep its rights), and through the
    // registry too.
    LinkedHashSet<Session> candidates = new LinkedHashSet<>(l.sessions());
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
   * Registers an in-process client (see {@link InternalClients#register(String,
   * InternalClientOptions)}).
   *
   * @throws ElbusException as there, or {@code ERR_OTHER} when the broker is closed
   */
  public InternalClientImpl registerClient(String name, InternalClientOptions options) {
    if (closed) {
      throw new ElbusException(Protocol.ERR_OTHER, "broker is closed");
    }
    return internal.register(name, options);
  }

  /**
   * Starts an event-bus bridge; it stops with the broker or with its {@code close}.
   *
   * @return the running bridge; fails when a rule's client name is taken or an address cannot be
   *     consumed (nothing of the bridge is left running then)
   */
  public Future<BridgeImpl> bridge(BridgeOptions options) {
    if (closed) {
      return Future.failedFuture(new IllegalStateException("broker is closed"));
    }
    return BridgeImpl.start(internal, options).onSuccess(b -> {
      bridges.add(b);
      b.onClose(() -> bridges.remove(b));
    });
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

  /** Registered primaries, sorted by name (what {@code client.list} reports). */
  public List<Session> primaries() {
    return List.copyOf(router.registry().primaries().values());
  }

  /** The broker's own client {@code .broker}, to send messages and publications as the broker. */
  public InternalClientImpl coreClient() {
    return InternalClientImpl.core(core, router);
  }

  public boolean isClosed() {
    return closed;
  }

  /**
   * What {@code /health} reports: {@code broker} (not closed) and {@code event_loops} (every
   * listener verticle's event loop runs a task: a loop blocked by a bug fails the check).
   */
  public Checks liveness() {
    return liveness;
  }

  /**
   * What {@code /ready} reports: {@code listeners} (a deployment completed, none under way) and
   * {@code aaa} (every AAA file loaded); other parts add theirs ({@link Checks}).
   */
  public Checks readiness() {
    return readiness;
  }

  /**
   * Calls {@code observer} with every listener bound so far, then with each one bound later,
   * until the returned handle is run.
   */
  public synchronized Runnable onListener(Consumer<ListenerRuntime> observer) {
    listenerObservers.add(observer);
    for (ListenerRuntime l : listeners) {
      observe(observer, l);
    }
    return () -> listenerObservers.remove(observer);
  }

  private static void observe(Consumer<ListenerRuntime> o, ListenerRuntime l) {
    try {
      o.accept(l);
    } catch (RuntimeException e) {
      CauseLog.error(LOG, "a listener observer failed", e);
    }
  }

  /**
   * Calls {@code observer} after each primary client registers ({@code true}) and after it is
   * gone ({@code false}), on the thread that (un)registered it, until the returned handle is run.
   * Clients registered earlier are in {@link #router()}'s registry.
   */
  public Runnable onRegistration(BiConsumer<Session, Boolean> observer) {
    registrationObservers.add(observer);
    return () -> registrationObservers.remove(observer);
  }

  /** The {@code .broker} RPC methods counted by name; the last, {@code other}, is the rest. */
  public static List<String> coreMethods() {
    return CoreSession.METHODS;
  }

  /**
   * RPC requests {@code .broker} answered with a result for {@code method}, one of {@link
   * #coreMethods()}.
   */
  public long coreAnswered(String method) {
    return core.answered(method);
  }

  /** RPC requests {@code .broker} answered with an RPC error for {@code method}. */
  public long coreFailures(String method) {
    return core.failures(method);
  }

  private Future<JsonObject> brokerOpen() {
    if (closed) {
      return Future.failedFuture(new Checks.NotMet("the broker is closed"));
    }
    return Future.succeededFuture(new JsonObject()
        .put("uptime_seconds", router.stats().uptimeSeconds()));
  }

  /** The contexts the listener verticles serve their connections on (one per instance). */
  public List<Context> listenerLoops() {
    List<Context> loops = new ArrayList<>();
    for (ListenerVerticle v : verticles) {
      Context c = v.loop();
      if (c != null) {
        loops.add(c);
      }
    }
    return loops;
  }

  private Future<JsonObject> loopsAnswer() {
    List<Future<Void>> pings = new ArrayList<>();
    for (Context c : listenerLoops()) {
      Promise<Void> p = Promise.promise();
      c.runOnContext(x -> p.complete());
      pings.add(p.future());
    }
    return Future.all(pings).map(x -> new JsonObject().put("event_loops", pings.size()));
  }

  private Future<JsonObject> listenersBound() {
    List<String> bound = new ArrayList<>();
    for (ListenerRuntime l : listeners) {
      bound.add(l.label());
    }
    JsonObject data = new JsonObject().put("bound", new JsonArray(bound));
    String failure = deployFailure;
    if (failure != null) {
      data.put("last_failure", failure);
    }
    if (closed) {
      return Future.failedFuture(new Checks.NotMet("the broker is closed", data));
    }
    if (deploying.get() > 0) {
      return Future.failedFuture(new Checks.NotMet("listeners being deployed", data));
    }
    if (bound.isEmpty()) {
      return Future.failedFuture(new Checks.NotMet(failure != null ? "the deployment failed"
          : "no listener deployed", data));
    }
    return Future.succeededFuture(data);
  }

  private Future<JsonObject> aaaLoaded() {
    JsonObject files = new JsonObject();
    for (AaaWatcher w : watchers) {
      JsonObject f = new JsonObject().put("file", w.file());
      AaaPolicy p = w.listener().aaa();
      if (p != null) {
        f.put("clients", p.size());
      }
      String problem = w.problem();
      if (problem != null) {
        // the last good policy stays in force: the broker still serves, so it stays ready
        f.put("problem", "the policy in force is kept: " + problem);
      }
      files.put(w.listener().label(), f);
    }
    JsonObject data = new JsonObject().put("listeners", files);
    String failure = aaaFailure;
    if (failure != null && listeners.isEmpty()) {
      // the broker could not start: its AAA file is missing or broken
      return Future.failedFuture(new Checks.NotMet(failure, data));
    }
    if (failure != null) {
      // a later deployment failed; the listeners that were bound serve on
      data.put("last_failure", failure);
    }
    return Future.succeededFuture(data);
  }

  private void closeFromHook(Completable<Void> completion) {
    close().onComplete(completion);
  }

  /**
   * Shuts the broker down, once: announces {@code {s: "shutdown"}} on {@code .broker/warn}, waits
   * (at most {@link #SHUTDOWN_FLUSH_MS}) until it is written to every client, disconnects every
   * client, undeploys every listener verticle (their socket files go with them) and removes the
   * FIFOs.
   */
  public synchronized Future<Void> close() {
    if (closing != null) {
      return closing;
    }
    closed = true;
    if (owner != null) {
      owner.removeCloseHook(closeHook);
    }
    ((VertxInternal) vertx).removeCloseHook(closeHook);
    fifos.forEach(FifoChannel::stop);
    fifos.clear();
    watchers.forEach(AaaWatcher::close);
    watchers.clear();
    verticles.clear();
    tlsWatchers.forEach(ListenerTls::close);
    tlsWatchers.clear();
    for (BridgeImpl b : bridges) {
      b.close();
    }
    if (service != null) {
      service.close();
    }
    core.announceShutdown();
    Promise<Void> flushed = Promise.promise();
    long deadline = System.nanoTime() + SHUTDOWN_FLUSH_MS * 1_000_000;
    awaitFlushed(flushed, deadline);
    closing = flushed.future().compose(v -> {
      for (Session s : router.registry().all()) {
        if (s != core) {
          s.disconnect(CloseReason.SHUTDOWN);
        }
      }
      List<Future<?>> all = new ArrayList<>();
      for (String id : deployments) {
        // undeployed already when Vert.x itself is closing
        if (vertx.deploymentIDs().contains(id)) {
          all.add(vertx.undeploy(id));
        }
      }
      deployments.clear();
      // the transport unlinks a Unix listener's socket file as it closes it (Netty's epoll and
      // JDK domain-socket channels both do: ElbusVerticleIT checks either)
      return Future.join(all).<Void>mapEmpty().eventually(() -> {
        flow.close();
        return cluster == null ? Future.succeededFuture() : cluster.close();
      });
    });
    return closing;
  }

  private void awaitFlushed(Promise<Void> p, long deadline) {
    boolean flushed = true;
    for (Session s : router.registry().all()) {
      if (!s.flushed() && s.kind() != ClientKind.INTERNAL) {
        flushed = false;
        break;
      }
    }
    if (flushed || System.nanoTime() > deadline) {
      p.tryComplete();
    } else {
      home.setTimer(5, t -> awaitFlushed(p, deadline));
    }
  }
}
