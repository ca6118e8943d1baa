package dev.elbus.impl.eventbus;

import dev.elbus.client.ElbusException;
import dev.elbus.eventbus.EventBusHeaders;
import dev.elbus.impl.codec.RpcFrames;
import dev.elbus.protocol.Protocol;
import dev.elbus.protocol.QoS;
import dev.elbus.rpc.RpcClient;
import dev.elbus.rpc.RpcException;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * The broker's request/response address ({@code elbus.broker} by default): any verticle, with no
 * handle, asks the broker to act as one of its internal clients (docs/eventbus.md).
 *
 * <p>Request headers: {@code elbus.op} ({@code send}, {@code broadcast}, {@code publish}, {@code
 * subscribe}, {@code unsubscribe}, {@code call}, {@code call0}, {@code notify}), {@code
 * elbus.client} (a registered internal client: registered by the application or by a bridge;
 * never auto-registered), {@code elbus.target} (send, call, call0, notify; the mask for
 * broadcast), {@code elbus.topic} (publish; one or more for (un)subscribe), {@code elbus.method}
 * (call, call0), {@code elbus.qos} (0-3, default 1), {@code elbus.timeout} (call: milliseconds,
 * default the RpcClient's). Body: a {@link Buffer} (the payload or RPC params) or none.
 *
 * <p>Reply: an empty Buffer on success, the result for {@code call}; else {@code
 * message.fail(code, text)} with the elbus result code (0x71 unknown target or client, 0x72 bad
 * input, 0x75 {@code call} as a client not in RPC mode, 0x79 denied) or, for {@code call}, the
 * RPC error code (e.g. -32601, or -32113 for an unknown target) with the error data as text. Bad
 * input is answered before anything is routed: it never reaches a client.
 *
 * <p>Threading: requests are handled on the consumer's context; the internal client operations
 * are synchronous and thread-safe.
 */
public final class EventBusService {
  private static final Logger LOG = LoggerFactory.getLogger(EventBusService.class);
  private static final Buffer EMPTY = Buffer.buffer();

  private final InternalClients internal;
  private final String address;
  private final MessageConsumer<Object> consumer;

  public EventBusService(InternalClients internal, String address) {
    this(internal, address, false);
  }

  /**
   * @param local serve the verticles of this Vert.x node only ({@code localConsumer}): in a
   *     cluster of brokers every node has its own
   */
  public EventBusService(InternalClients internal, String address, boolean local) {
    this.internal = internal;
    this.address = address;
    this.consumer = local ? internal.vertx().eventBus().localConsumer(address, this::handle)
        : internal.vertx().eventBus().consumer(address, this::handle);
  }

  /** The address served. */
  public String address() {
    return address;
  }

  /** Completes when the consumer is registered. */
  public Future<Void> ready() {
    return consumer.completion();
  }

  public Future<Void> close() {
    return consumer.unregister();
  }

  /** A request the broker refuses: the reply's failure code and text. */
  static final class BadRequest extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final int code;

    BadRequest(int code, String message) {
      super(message, null, false, false);
      this.code = code;
    }
  }

  private void handle(Message<Object> m) {
    try {
      dispatch(m);
    } catch (BadRequest e) {
      fail(m, e.code, e.getMessage());
    } catch (RuntimeException e) {
      LOG.warn("{}: request failed", address, e);
      fail(m, Protocol.ERR_OTHER, e.toString());
    }
  }

  private void dispatch(Message<Object> m) {
    MultiMap h = m.headers();
    String op = single(h, EventBusHeaders.OP, true);
    String clientName = single(h, EventBusHeaders.CLIENT, true);
    Buffer body = body(m.body());
    QoS qos = qos(single(h, EventBusHeaders.QOS, false));
    switch (op) {
      case "send": {
        String target = single(h, EventBusHeaders.TARGET, true);
        reply(m, client(clientName).send(target, body, qos));
        break;
      }
      case "broadcast": {
        String mask = single(h, EventBusHeaders.TARGET, true);
        reply(m, client(clientName).broadcast(mask, body, qos));
        break;
      }
      case "publish": {
        String topic = single(h, EventBusHeaders.TOPIC, true);
        reply(m, client(clientName).publish(topic, body, qos));
        break;
      }
      case "subscribe":
      case "unsubscribe": {
        List<String> topics = h.getAll(EventBusHeaders.TOPIC);
        if (topics.isEmpty()) {
          throw missing(EventBusHeaders.TOPIC);
        }
        for (String t : topics) {
          checkText(EventBusHeaders.TOPIC, t);
        }
        InternalClientImpl c = client(clientName);
        reply(m, op.equals("subscribe") ? c.subscribe(topics, qos) : c.unsubscribe(topics, qos));
        break;
      }
      case "call": {
        String target = single(h, EventBusHeaders.TARGET, true);
        String method = single(h, EventBusHeaders.METHOD, true);
        long timeout = timeout(single(h, EventBusHeaders.TIMEOUT, false));
        InternalClientImpl c = client(clientName);
        if (!c.isRpc()) {
          throw new BadRequest(Protocol.ERR_NOT_SUPPORTED, "internal client " + clientName
              + " is not in RPC mode, so it cannot take the reply: use InternalClient.rpc() or "
              + "InternalClientOptions.setRpc(true)");
        }
        RpcClient rpc = c.rpc();
        rpc.call(target, method, body, qos, timeout < 0 ? rpc.timeout() : timeout)
            .onComplete(ar -> replyCall(m, ar));
        break;
      }
      case "call0": {
        String target = single(h, EventBusHeaders.TARGET, true);
        String method = single(h, EventBusHeaders.METHOD, true);
        InternalClientImpl c = client(clientName);
        reply(m, c.send(target, RpcFrames.request(0, method, body), qos));
        break;
      }
      case "notify": {
        String target = single(h, EventBusHeaders.TARGET, true);
        InternalClientImpl c = client(clientName);
        reply(m, c.send(target, RpcFrames.notification(body), qos));
        break;
      }
      default:
        throw new BadRequest(Protocol.ERR_DATA, "unknown " + EventBusHeaders.OP + " '" + op
            + "' (send, broadcast, publish, subscribe, unsubscribe, call, call0, notify)");
    }
  }

  /** A header that must appear at most once; {@code required}: exactly once. */
  private static String single(MultiMap h, String name, boolean required) {
    List<String> all = h.getAll(name);
    if (all.isEmpty()) {
      if (required) {
        throw missing(name);
      }
      return null;
    }
    if (all.size() > 1) {
      throw new BadRequest(Protocol.ERR_DATA, "header " + name + " given " + all.size()
          + " times");
    }
    String v = all.get(0);
    checkText(name, v);
    return v;
  }

  private static BadRequest missing(String name) {
    return new BadRequest(Protocol.ERR_DATA, "missing header " + name);
  }

  private static void checkText(String name, String v) {
    if (v.indexOf('\0') >= 0) {
      throw new BadRequest(Protocol.ERR_DATA, "header " + name + " contains a NUL character");
    }
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      if (Character.isSurrogate(c)) {
        boolean pair = Character.isHighSurrogate(c) && i + 1 < v.length()
            && Character.isLowSurrogate(v.charAt(i + 1));
        if (!pair) {
          throw new BadRequest(Protocol.ERR_DATA, "header " + name
              + " is not valid Unicode (lone surrogate)");
        }
        i++;
      }
    }
  }

  private static Buffer body(Object body) {
    if (body == null) {
      return EMPTY;
    }
    if (body instanceof Buffer) {
      return (Buffer) body;
    }
    throw new BadRequest(Protocol.ERR_DATA, "the body must be a Buffer (the payload), got "
        + body.getClass().getSimpleName());
  }

  private static QoS qos(String v) {
    if (v == null) {
      return QoS.PROCESSED;
    }
    if (v.length() == 1 && v.charAt(0) >= '0' && v.charAt(0) <= '3') {
      return QoS.of(v.charAt(0) - '0');
    }
    throw new BadRequest(Protocol.ERR_DATA, "header " + EventBusHeaders.QOS
        + " must be 0, 1, 2 or 3, got '" + v + "'");
  }

  /** Milliseconds, or -1 when absent. */
  private static long timeout(String v) {
    if (v == null) {
      return -1;
    }
    try {
      long t = Long.parseLong(v);
      if (t > 0 && t <= 86_400_000L) {
        return t;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new BadRequest(Protocol.ERR_DATA, "header " + EventBusHeaders.TIMEOUT
        + " must be 1..86400000 milliseconds, got '" + v + "'");
  }

  private InternalClientImpl client(String name) {
    InternalClientImpl c = internal.get(name);
    if (c == null) {
      boolean known = internal.router().registry().get(name) != null;
      throw new BadRequest(Protocol.ERR_CLIENT_NOT_REGISTERED, known
          ? name + " is not an internal client registered by the application or a bridge"
          : "no internal client " + name + " is registered");
    }
    return c;
  }

  private void reply(Message<Object> m, Future<Void> result) {
    result.onComplete(ar -> {
      if (ar.succeeded()) {
        m.reply(EMPTY);
      } else if (ar.cause() instanceof ElbusException) {
        ElbusException e = (ElbusException) ar.cause();
        fail(m, e.code(), e.getMessage());
      } else {
        fail(m, Protocol.ERR_OTHER, String.valueOf(ar.cause()));
      }
    });
  }

  private void replyCall(Message<Object> m, AsyncResult<Buffer> ar) {
    if (ar.succeeded()) {
      m.reply(ar.result() == null ? EMPTY : ar.result());
    } else if (ar.cause() instanceof RpcException) {
      RpcException e = (RpcException) ar.cause();
      fail(m, e.code(), e.data().length() > 0 ? e.dataAsString() : e.getMessage());
    } else {
      fail(m, Protocol.ERR_OTHER, String.valueOf(ar.cause()));
    }
  }

  private void fail(Message<Object> m, int code, String text) {
    if (m.replyAddress() == null) {
      LOG.debug("{}: refused a request without reply address: 0x{} {}", address,
          Integer.toHexString(code), text);
      return;
    }
    m.fail(code, text);
  }
}
