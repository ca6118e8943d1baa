package dev.elbus.rpc;

import io.vertx.core.buffer.Buffer;

import java.util.Map;

/**
 * An incoming RPC request or notification, as given to an {@link RpcHandler} or to the
 * notification handler of {@link RpcClient} (PROTOCOL.md section 9).
 *
 * <p>Immutable; safe to pass between threads (do not modify {@code params}).
 *
 * @param sender full name of the sending client (with its {@code %%} suffix for a secondary)
 * @param method the method of a request; {@code null} for a notification
 * @param params the params of a request, or the payload of a notification (a copy, never null)
 * @param realtime the carrying direct message was sent with a realtime QoS; a reply then goes
 *     out with {@code REALTIME_PROCESSED} (QoS 3)
 * @param callId the request's call id; 0 for a notification or a call that wants no reply
 *     ({@code call0})
 */
public record RpcEvent(String sender, String method, Buffer params, boolean realtime,
    long callId) {

  /** The sender's primary name: the part of {@link #sender} before {@code %%} (section 7). */
  public String primarySender() {
    int i = sender.indexOf("%%");
    return i < 0 ? sender : sender.substring(0, i);
  }

  /** Whether this is a notification rather than a request. */
  public boolean isNotification() {
    return method == null;
  }

  /** Whether the caller waits for a reply (a request with a non-zero call id). */
  public boolean wantsReply() {
    return method != null && callId != 0;
  }

  /** The notification payload: the same bytes as {@link #params}. */
  public Buffer payload() {
    return params;
  }

  /**
   * The params decoded as a MessagePack map with string keys; empty params give an empty map.
   *
   * @throws RpcException with {@link RpcErrorCode#PARSE} when the params are not such a map,
   *     so a handler may let it propagate to answer -32700
   */
  public Map<String, Object> paramsMap() {
    try {
      return MsgPack.decodeMap(params);
    } catch (MsgPack.DecodeException e) {
      throw RpcException.parse(e.getMessage());
    }
  }

  @Override
  public String toString() {
    return (method == null ? "notification" : "request " + callId + " " + method) + " from "
        + sender + ", " + params.length() + " bytes" + (realtime ? ", realtime" : "");
  }
}
