package dev.elbus.eventbus;

/**
 * Names of the event-bus message headers the broker reads and writes (docs/eventbus.md).
 *
 * <p>Frames delivered to an event-bus address carry {@link #KIND}, {@link #SENDER}, {@link
 * #TOPIC} (publications only) and {@link #REALTIME}. Requests to the broker's address ({@code
 * elbus.broker} by default) carry {@link #OP}, {@link #CLIENT} and, depending on the operation,
 * {@link #TARGET}, {@link #TOPIC}, {@link #METHOD}, {@link #QOS} and {@link #TIMEOUT}.
 */
public final class EventBusHeaders {
  private EventBusHeaders() {}

  /** {@code message}, {@code broadcast} or {@code publish}. */
  public static final String KIND = "elbus.kind";
  /** Full name of the client that sent the frame. */
  public static final String SENDER = "elbus.sender";
  /** The topic of a publication; on a request: the topic to publish or (un)subscribe. */
  public static final String TOPIC = "elbus.topic";
  /** {@code true} when the frame was sent with a realtime QoS, else {@code false}. */
  public static final String REALTIME = "elbus.realtime";

  /**
   * Flow-control stamp of a frame delivered by the broker ({@code CHANNEL:SEQ}); the broker reads
   * it back when the consumer takes the message. Not for applications.
   */
  public static final String FLOW = "elbus.flow";

  /**
   * Id of the bridge whose inbound rule produced the message; that bridge's outbound rules do
   * not take it back (no echo when one address is bridged both ways).
   */
  public static final String ORIGIN = "elbus.origin";

  /** Request: the operation. */
  public static final String OP = "elbus.op";
  /** Request: the internal client to act as. */
  public static final String CLIENT = "elbus.client";
  /** Request: the target client (send, call, call0, notify) or the mask (broadcast). */
  public static final String TARGET = "elbus.target";
  /** Request: the RPC method (call, call0). */
  public static final String METHOD = "elbus.method";
  /** Request: QoS 0-3 (default 1). */
  public static final String QOS = "elbus.qos";
  /** Request: how long {@code call} waits for the reply, in milliseconds. */
  public static final String TIMEOUT = "elbus.timeout";

  /** {@link #KIND} of a direct message. */
  public static final String KIND_MESSAGE = "message";
  /** {@link #KIND} of a broadcast. */
  public static final String KIND_BROADCAST = "broadcast";
  /** {@link #KIND} of a publication. */
  public static final String KIND_PUBLISH = "publish";
}
