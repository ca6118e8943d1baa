package dev.elbus.impl.eventbus;

import dev.elbus.client.ElbusException;
import dev.elbus.config.InternalClientOptions;
import dev.elbus.impl.routing.Router;
import dev.elbus.impl.routing.Session;
import dev.elbus.protocol.Protocol;
import io.vertx.core.Context;
import io.vertx.core.Vertx;

/**
 * Registers and finds a broker's in-process clients: the application's, the bridge's and those
 * the broker's event-bus address acts as. One per broker; thread-safe.
 */
public final class InternalClients {
  private final Vertx vertx;
  private final Router router;
  private final FlowControl flow;
  private final InternalClientOptions defaults;

  /**
   * @param defaults the queue bounds and overflow policy of clients whose options leave them
   *     unset (copied)
   */
  public InternalClients(Vertx vertx, Router router, FlowControl flow,
      InternalClientOptions defaults) {
    this.vertx = vertx;
    this.router = router;
    this.flow = flow;
    this.defaults = new InternalClientOptions(defaults);
  }

  public Vertx vertx() {
    return vertx;
  }

  public Router router() {
    return router;
  }

  public FlowControl flowControl() {
    return flow;
  }

  /**
   * Registers a client whose frames go to its event-bus address (unless {@code options} turn the
   * event bus off) and its frame handler, on the calling thread's Vert.x context (or an
   * event-loop context of this Vert.x when called from elsewhere).
   *
   * @throws ElbusException as {@link #register(String, InternalClientOptions, FrameSink)}
   */
  public InternalClientImpl register(String name, InternalClientOptions options) {
    return register(name, options, null);
  }

  /**
   * Registers a client whose frames go to {@code sink} (when not {@code null}) instead of an
   * event-bus address.
   *
   * @throws ElbusException with {@code ERR_BUSY} when the name is taken, {@code
   *     ERR_CLIENT_NOT_REGISTERED} for a secondary without its primary, {@code ERR_DATA} for an
   *     empty name or one containing a NUL character
   */
  public InternalClientImpl register(String name, InternalClientOptions options, FrameSink sink) {
    if (name == null || name.isEmpty() || name.indexOf('\0') >= 0) {
      throw new ElbusException(Protocol.ERR_DATA, "invalid client name");
    }
    InternalClientOptions o = options.withDefaults(defaults);
    Context ctx = vertx.getOrCreateContext();
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
    InternalClientImpl c = new InternalClientImpl(s, router);
    if (o.isRpc()) {
      c.rpc();
    }
    return c;
  }

  /**
   * The internal client registered as {@code name} (by the application or a bridge), or {@code
   * null} when no such internal client is registered (the core client {@code .broker} is not
   * one).
   */
  public InternalClientImpl get(String name) {
    Session s = name == null ? null : router.registry().get(name);
    return s instanceof InternalSession ? new InternalClientImpl(s, router) : null;
  }
}
