package dev.elbus;

import dev.elbus.aaa.AaaPolicy;
import dev.elbus.client.ElbusException;
import dev.elbus.config.BrokerOptions;
import dev.elbus.config.InternalClientOptions;
import dev.elbus.config.ListenerOptions;
import dev.elbus.eventbus.Bridge;
import dev.elbus.eventbus.BridgeOptions;
import dev.elbus.impl.core.BrokerImpl;
import dev.elbus.impl.eventbus.InternalClientImpl;
import dev.elbus.impl.net.ListenerRuntime;
import dev.elbus.impl.routing.Session;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.util.ArrayList;
import java.util.List;

/**
 * An elbus broker embedded in a Vert.x application: the programmatic API for code that wants
 * handles (listeners, in-process clients, AAA policies, statistics). {@link ElbusVerticle} is the
 * other way in: a verticle configured with the schema of {@code conf/elbus.yaml}, whose broker
 * is this class too ({@link ElbusVerticle#broker()}).
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
 *
 * <p>Lifecycle: {@link #close} announces the shutdown to the clients, closes every listener,
 * client and bridge and removes the socket files. A broker created on a verticle's context
 * (in its {@code start()}) is closed that way when the verticle is undeployed. Thread-safe.
 */
public final class Broker {
  private final BrokerImpl impl;

  private Broker(BrokerImpl impl) {
    this.impl = impl;
  }

  /** A broker with default {@link BrokerOptions}; it listens once {@link #deploy}ed. */
  public static Broker create(Vertx vertx) {
    return create(vertx, new BrokerOptions());
  }

  /** A broker with {@code options} (copied); it listens once {@link #deploy}ed. */
  public static Broker create(Vertx vertx, BrokerOptions options) {
    return new Broker(new BrokerImpl(vertx, options));
  }

  /** The implementation, for {@link ElbusVerticle} and the tests of this module. */
  BrokerImpl impl() {
    return impl;
  }

  /** The Vert.x instance the broker runs on. */
  public Vertx vertx() {
    return impl.vertx();
  }

  /** The broker's settings (a copy). */
  public BrokerOptions options() {
    return impl.options();
  }

  /** Deploys the listener verticles on {@code listeners} with {@link BrokerOptions#getWorkers}. */
  public Future<String> deploy(List<ListenerOptions> listeners) {
    return impl.deploy(listeners, impl.options().getWorkers());
  }

  /**
   * Deploys {@code instances} listener verticles (one per event loop), each listening on every
   * one of {@code listeners}. A stale Unix socket file is removed first (a regular file or
   * directory at a socket path is an error). The listeners' AAA files are loaded before anything
   * listens: an unreadable or invalid file fails the deployment.
   *
   * @return the deployment id
   */
  public Future<String> deploy(List<ListenerOptions> listeners, int instances) {
    return impl.deploy(listeners, instances);
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
  public int setAaa(String listener, AaaPolicy policy) {
    return impl.setAaa(listener, policy);
  }

  /** The listeners deployed so far, with their actual addresses. */
  public List<ListenerInfo> listeners() {
    List<ListenerInfo> out = new ArrayList<>();
    for (ListenerRuntime l : impl.listeners()) {
      out.add(new ListenerInfo(l));
    }
    return out;
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
   *     empty name or one containing a NUL character, {@code ERR_OTHER} when the broker is closed
   */
  public InternalClient registerClient(String name, InternalClientOptions options) {
    return new InternalClient(impl.registerClient(name, options));
  }

  /**
   * A handle on the internal client registered as {@code name} (by the application or a
   * bridge), or {@code null} when no such internal client is registered. The broker's own {@code
   * .broker} is not one: see {@link #coreClient}.
   */
  public InternalClient internalClient(String name) {
    InternalClientImpl c = impl.internalClients().get(name);
    return c == null ? null : new InternalClient(c);
  }

  /**
   * Starts an event-bus bridge with {@code options} (docs/eventbus.md); it stops with the broker
   * or with {@link Bridge#close}.
   *
   * @return the running bridge; fails when a rule's client name is taken or an address cannot be
   *     consumed (nothing of the bridge is left running then)
   */
  public Future<Bridge> bridge(BridgeOptions options) {
    return impl.bridge(options).map(b -> b);
  }

  /**
   * Disconnects the client registered as {@code name} (with its secondaries, for a primary).
   *
   * @return whether such a client was registered
   */
  public boolean forceDisconnect(String name) {
    return impl.forceDisconnect(name);
  }

  /** The broker-wide counters now (what {@code .broker} {@code stats} reports). */
  public BrokerStats stats() {
    return new BrokerStats(impl.stats());
  }

  /** Registered primaries, sorted by name (what {@code client.list} reports). */
  public List<ClientInfo> clients() {
    List<ClientInfo> out = new ArrayList<>();
    for (Session s : impl.primaries()) {
      out.add(new ClientInfo(s));
    }
    return out;
  }

  /**
   * The broker's own client {@code .broker}, to send messages and publications as the broker
   * (the FIFO channel does). Its incoming frames are the core RPC requests, so it has no frame
   * handler.
   */
  public InternalClient coreClient() {
    return new InternalClient(impl.coreClient());
  }

  /** Whether {@link #close} was called (or the verticle that created the broker undeployed). */
  public boolean isClosed() {
    return impl.isClosed();
  }

  /**
   * Shuts the broker down, once: announces {@code {s: "shutdown"}} on {@code .broker/warn}, waits
   * (at most a second) until it is written to every client, disconnects every client, undeploys
   * every listener verticle and removes the socket files and FIFO channels. Later calls return
   * the same future.
   */
  public Future<Void> close() {
    return impl.close();
  }
}
