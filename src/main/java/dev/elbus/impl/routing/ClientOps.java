package dev.elbus.impl.routing;

import dev.elbus.impl.codec.ProtocolException;
import dev.elbus.impl.codec.Utf8;
import dev.elbus.protocol.Protocol;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;

import java.util.List;

/**
 * The operations one client sends (PROTOCOL.md section 5, BUS/RT section 15) as the broker takes
 * them: each operation's body grammar (the {@code 00} separators, strict UTF-8, the fields of
 * publish-for, the topic lists of (un)subscribe and (un)exclude), the read counters, the call of
 * the {@link Router}, and the ack. The one home of that grammar for every kind of client:
 *
 * <ul>
 *   <li>a socket client's frames, parsed where they lie in the read buffer ({@link #frame});
 *   <li>an in-process client's calls, whose names and payloads are the fields of the same bodies
 *       ({@link #message}, {@link #publish}, ...: a name containing NUL cannot be written in the
 *       grammar and is refused with {@code 72});
 *   <li>the broker's own {@code .broker}, whose announcements and replies are operations too,
 *       though not counted as received ({@link #uncounted}).
 * </ul>
 *
 * <p>Threading: {@link #frame} keeps a one-entry cache of the last target or topic decoded, so
 * repeated sends allocate no string: one thread at a time (the client's input thread). The
 * methods that take strings keep no state and may be called from any thread.
 */
public final class ClientOps {
  /** Targets and topics up to this many bytes are remembered by the cache of {@link #frame}. */
  private static final int KEY_CACHE_MAX = 256;

  private final Router router;
  private final Session session;
  /** The session's limits, fixed before it registered ({@link ClientLimits#NONE} in-process). */
  private final ClientLimits limits;
  private final boolean countReads;
  // the cache of frame(): touched by the client's input thread only
  private byte[] lastKeyBytes = new byte[0];
  private String lastKey = "";

  private ClientOps(Router router, Session session, boolean countReads) {
    this.router = router;
    this.session = session;
    this.limits = session.limits();
    this.countReads = countReads;
  }

  /** The operations of {@code session}, a client whose frames are counted as received. */
  public static ClientOps of(Router router, Session session) {
    return new ClientOps(router, session, true);
  }

  /**
   * The operations of the broker's own client: its announcements and replies are not frames
   * received from a client, so they are not counted in {@code r_frames} / {@code r_bytes}.
   */
  public static ClientOps uncounted(Router router, Session session) {
    return new ClientOps(router, session, false);
  }

  public Session session() {
    return session;
  }

  // ---------------------------------------------------------------- a socket client's frames

  /**
   * Carries out one frame of the client: {@code len} body bytes of {@code body} at {@code start}
   * (not consumed, not released), and acks it when its QoS asks.
   *
   * @throws ProtocolException when the body does not follow its operation's grammar, or the
   *     operation is unknown: the connection closes
   */
  public void frame(int opId, int flags, ByteBuf body, int start, int len) {
    int op = flags & Protocol.OP_MASK;
    int qos = flags >>> Protocol.QOS_SHIFT;
    boolean realtime = (qos & 2) != 0;
    Session s = session;
    int code;
    switch (op) {
      case Protocol.OP_MESSAGE:
      case Protocol.OP_BROADCAST:
      case Protocol.OP_PUBLISH: {
        int z = body.indexOf(start, start + len, (byte) 0);
        if (z < 0) {
          throw new ProtocolException(Protocol.opName(op) + " frame without a 00 separator");
        }
        if (op == Protocol.OP_PUBLISH
            && exceeds(body, start, z, (byte) '/', limits.maxTopicLevels())) {
          code = refuse(len, Limit.TOPIC_LEVELS, "a published topic");
          break;
        }
        if (op == Protocol.OP_BROADCAST
            && exceeds(body, start, z, (byte) '.', limits.maxNameParts())) {
          code = refuse(len, Limit.NAME_PARTS, "a broadcast mask");
          break;
        }
        String key = key(body, start, z - start, op);
        received(len);
        if (op == Protocol.OP_MESSAGE) {
          code = router.message(s, key, body, z + 1, start + len - z - 1, realtime, len);
          if (code == Router.FORWARD) {
            // a cluster: the ack (if any) comes from the node that has the target
            code = router.forward(s, key, body, z + 1, start + len - z - 1, realtime, len,
                (qos & 1) != 0 ? ackLater(opId, realtime) : null);
          }
        } else if (op == Protocol.OP_BROADCAST) {
          code = router.broadcast(s, key, body, z + 1, start + len - z - 1, realtime, len);
        } else {
          code = router.publish(s, key, body, start, len, realtime, len);
        }
        break;
      }
      case Protocol.OP_SUBSCRIBE:
      case Protocol.OP_UNSUBSCRIBE:
      case Protocol.OP_EXCLUDE:
      case Protocol.OP_UNEXCLUDE: {
        received(len);
        int from = start;
        int end = start + len;
        // one ack per frame: 79 if any topic was denied, else 72 if any exceeded a limit (the
        // others are applied)
        boolean denied = false;
        boolean refused = false;
        while (true) {
          int z = body.indexOf(from, end, (byte) 0);
          int stop = z < 0 ? end : z;
          if (exceeds(body, from, stop, (byte) '/', limits.maxTopicLevels())) {
            // such a pattern cannot have been subscribed: only a new one is refused
            if (op == Protocol.OP_SUBSCRIBE || op == Protocol.OP_EXCLUDE) {
              router.refuse(s, Limit.TOPIC_LEVELS, "a pattern");
              refused = true;
            }
          } else {
            String topic = Utf8.decode(body, from, stop - from);
            if (topic == null) {
              throw new ProtocolException(Protocol.opName(op) + " topic is not valid UTF-8");
            }
            int c = topicOp(op, topic);
            denied |= c == Protocol.ERR_ACCESS;
            refused |= c == Protocol.ERR_DATA;
          }
          if (z < 0) {
            break;
          }
          from = z + 1;
        }
        code = denied ? Protocol.ERR_ACCESS : refused ? Protocol.ERR_DATA : Protocol.RESPONSE_OK;
        // a cluster: the ack waits until every node knows the new patterns, so that a
        // publication sent anywhere after it reaches them
        if (op == Protocol.OP_SUBSCRIBE && (qos & 1) != 0
            && router.barrier(ackLater(opId, realtime, code))) {
          return;
        }
        break;
      }
      case Protocol.OP_PUBLISH_FOR: {
        // BUS/RT (section 15): topic 00 receiver 00 payload
        int end = start + len;
        int z1 = body.indexOf(start, end, (byte) 0);
        int z2 = z1 < 0 ? -1 : body.indexOf(z1 + 1, end, (byte) 0);
        if (z2 < 0) {
          throw new ProtocolException("publish-for frame without two 00 separators");
        }
        if (exceeds(body, start, z1, (byte) '/', limits.maxTopicLevels())) {
          code = refuse(len, Limit.TOPIC_LEVELS, "a published topic");
          break;
        }
        String topic = key(body, start, z1 - start, op);
        String receiver = Utf8.decode(body, z1 + 1, z2 - z1 - 1);
        if (receiver == null) {
          throw new ProtocolException("publish-for receiver is not valid UTF-8");
        }
        received(len);
        code = router.publishFor(s, topic, receiver, body, start, z1 - start, z2 + 1,
            end - z2 - 1, realtime, len);
        break;
      }
      case Protocol.OP_NOP:
        // op 0 with QoS bits: elbus reads the body, requires a 00 in it and ignores it, no ack
        if (body.indexOf(start, start + len, (byte) 0) < 0) {
          throw new ProtocolException("op 0 frame without a 00 separator");
        }
        return;
      default:
        throw new ProtocolException("unknown operation 0x" + Integer.toHexString(op));
    }
    if ((qos & 1) != 0 && code != Router.PENDING) {
      router.ack(s, opId, code, realtime);
    }
  }

  /** The ack of frame {@code opId}, sent when the cluster has the result. */
  private Completion ackLater(int opId, boolean realtime) {
    Session s = session;
    return code -> router.ack(s, opId, code, realtime);
  }

  /** The ack {@code code} of frame {@code opId}, sent when the cluster is ready. */
  private Completion ackLater(int opId, boolean realtime, int code) {
    Session s = session;
    return ignored -> router.ack(s, opId, code, realtime);
  }

  /**
   * (Un)subscribes or (un)excludes one topic: {@code 79} when the client may not subscribe it,
   * {@code 72} past one of its limits, else OK.
   */
  private int topicOp(int op, String topic) {
    switch (op) {
      case Protocol.OP_SUBSCRIBE:
        return router.subscribe(session, topic);
      case Protocol.OP_UNSUBSCRIBE:
        router.unsubscribe(session, topic);
        return Protocol.RESPONSE_OK;
      case Protocol.OP_EXCLUDE:
        return router.exclude(session, topic);
      default:
        router.unexclude(session, topic);
        return Protocol.RESPONSE_OK;
    }
  }

  /** Counts a frame refused by a limit as received, and refuses it ({@code 72}). */
  private int refuse(int len, Limit limit, String what) {
    received(len);
    return router.refuse(session, limit, what);
  }

  /**
   * Does the range hold more than {@code max - 1} separators, i.e. more than {@code max} levels?
   * Counted on the bytes ({@code /} and {@code .} are one byte in UTF-8 and never part of another
   * character), before anything is decoded; stops at the first separator past the bound, so its
   * cost is bounded whatever the input.
   */
  public static boolean exceeds(ByteBuf b, int from, int to, byte sep, int max) {
    if (max > to - from) {
      return false; // fewer bytes than the bound: cannot hold that many separators
    }
    int seps = 0;
    for (int i = b.indexOf(from, to, sep); i >= 0; i = b.indexOf(i + 1, to, sep)) {
      if (++seps >= max) {
        return true;
      }
    }
    return false;
  }

  /** Decodes a target / topic / mask, reusing the previous string when the bytes repeat. */
  private String key(ByteBuf b, int index, int len, int op) {
    byte[] last = lastKeyBytes;
    if (last.length == len) {
      int i = 0;
      while (i < len && b.getByte(index + i) == last[i]) {
        i++;
      }
      if (i == len) {
        return lastKey;
      }
    }
    String k = Utf8.decode(b, index, len);
    if (k == null) {
      throw new ProtocolException(Protocol.opName(op) + " target is not valid UTF-8");
    }
    if (len <= KEY_CACHE_MAX) {
      byte[] copy = new byte[len];
      b.getBytes(index, copy);
      lastKeyBytes = copy;
      lastKey = k;
    }
    return k;
  }

  private void received(int bodyBytes) {
    if (countReads) {
      router.received(session, bodyBytes);
    }
  }

  // ---------------------------------------------------------------- the same, from strings

  /**
   * A direct message to {@code target}: the body {@code target 00 payload}.
   *
   * @return the ack code ({@code 72} for a target that is null or contains NUL)
   */
  public int message(String target, ByteBuf payload, boolean realtime) {
    return message(target, payload, realtime, null);
  }

  /**
   * A direct message to {@code target}; in a cluster the result may come later.
   *
   * @param done called with the result when this returns {@link Router#PENDING} (the target is
   *     on another node); {@code null}: no result wanted (a message to another node is then OK
   *     once handed on)
   */
  public int message(String target, ByteBuf payload, boolean realtime, Completion done) {
    if (bad(target)) {
      return Protocol.ERR_DATA;
    }
    int stat = ByteBufUtil.utf8Bytes(target) + 1 + payload.readableBytes();
    received(stat);
    int code = router.message(session, target, payload, payload.readerIndex(),
        payload.readableBytes(), realtime, stat);
    return code != Router.FORWARD ? code : router.forward(session, target, payload,
        payload.readerIndex(), payload.readableBytes(), realtime, stat, done);
  }

  /** A broadcast to {@code mask}: the body {@code mask 00 payload}. */
  public int broadcast(String mask, ByteBuf payload, boolean realtime) {
    if (bad(mask)) {
      return Protocol.ERR_DATA;
    }
    int stat = ByteBufUtil.utf8Bytes(mask) + 1 + payload.readableBytes();
    received(stat);
    return router.broadcast(session, mask, payload, payload.readerIndex(),
        payload.readableBytes(), realtime, stat);
  }

  /**
   * A publication to {@code topic}: the body {@code topic 00 payload}, written once (it is the
   * tail of the outgoing frame).
   */
  public int publish(String topic, ByteBuf payload, boolean realtime) {
    if (bad(topic)) {
      return Protocol.ERR_DATA;
    }
    int t = ByteBufUtil.utf8Bytes(topic);
    ByteBuf body = router.alloc().buffer(t + 1 + payload.readableBytes());
    try {
      ByteBufUtil.reserveAndWriteUtf8(body, topic, t);
      body.writeByte(0).writeBytes(payload, payload.readerIndex(), payload.readableBytes());
      int stat = body.readableBytes();
      received(stat);
      return router.publish(session, topic, body, 0, stat, realtime, stat);
    } finally {
      body.release();
    }
  }

  /** Publish-for (BUS/RT): the body {@code topic 00 receiver 00 payload}. */
  public int publishFor(String topic, String receiver, ByteBuf payload, boolean realtime) {
    if (bad(topic) || bad(receiver)) {
      return Protocol.ERR_DATA;
    }
    int t = ByteBufUtil.utf8Bytes(topic);
    int r = ByteBufUtil.utf8Bytes(receiver);
    ByteBuf body = router.alloc().buffer(t + 1 + r + 1 + payload.readableBytes());
    try {
      ByteBufUtil.reserveAndWriteUtf8(body, topic, t);
      body.writeByte(0);
      ByteBufUtil.reserveAndWriteUtf8(body, receiver, r);
      body.writeByte(0).writeBytes(payload, payload.readerIndex(), payload.readableBytes());
      int stat = body.readableBytes();
      received(stat);
      return router.publishFor(session, topic, receiver, body, 0, t, t + 1 + r + 1,
          payload.readableBytes(), realtime, stat);
    } finally {
      body.release();
    }
  }

  /**
   * Subscribes to {@code topics}, one frame's list: {@code 79} when any was denied, else {@code
   * 72} when any was past a limit.
   */
  public int subscribe(List<String> topics) {
    return topics(Protocol.OP_SUBSCRIBE, topics);
  }

  /**
   * Subscribes to {@code topics}; in a cluster the result is given once every node knows the new
   * patterns ({@link Router#barrier}).
   *
   * @param done called with the result when this returns {@link Router#PENDING}
   */
  public int subscribe(List<String> topics, Completion done) {
    int code = topics(Protocol.OP_SUBSCRIBE, topics);
    return router.barrier(ignored -> done.complete(code)) ? Router.PENDING : code;
  }

  public int unsubscribe(List<String> topics) {
    return topics(Protocol.OP_UNSUBSCRIBE, topics);
  }

  public int exclude(List<String> topics) {
    return topics(Protocol.OP_EXCLUDE, topics);
  }

  public int unexclude(List<String> topics) {
    return topics(Protocol.OP_UNEXCLUDE, topics);
  }

  /** A topic list: the body {@code topic 00 topic ...}, applied whole or, malformed, not at all. */
  private int topics(int op, List<String> topics) {
    if (topics == null) {
      return Protocol.ERR_DATA;
    }
    int stat = Math.max(0, topics.size() - 1);
    for (String t : topics) {
      if (bad(t)) {
        return Protocol.ERR_DATA;
      }
      stat += ByteBufUtil.utf8Bytes(t);
    }
    received(stat);
    boolean denied = false;
    boolean refused = false;
    for (String t : topics) {
      int c = topicOp(op, t);
      denied |= c == Protocol.ERR_ACCESS;
      refused |= c == Protocol.ERR_DATA;
    }
    return denied ? Protocol.ERR_ACCESS : refused ? Protocol.ERR_DATA : Protocol.RESPONSE_OK;
  }

  /** A name or topic that cannot be a field of a body: absent, or holding the separator. */
  private static boolean bad(String s) {
    return s == null || s.indexOf('\0') >= 0;
  }
}
