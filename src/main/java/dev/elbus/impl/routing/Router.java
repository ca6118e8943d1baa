package dev.elbus.impl.routing;

import dev.elbus.aaa.AccessRights;
import dev.elbus.impl.codec.FrameEncoder;
import dev.elbus.protocol.Masks;
import dev.elbus.protocol.Protocol;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.util.List;
import java.util.function.BiConsumer;

/**
 * Routes client operations to receivers (PROTOCOL.md section 5) on the caller's thread: direct
 * messages by name, broadcasts by name mask, publications by topic. Each outgoing frame is
 * encoded once at its exact size and the same bytes are handed to every receiver. Results are
 * the codes an ack carries.
 */
public final class Router {
  private final ClientRegistry registry;
  private final TopicIndex topics;
  private final BrokerStats stats;
  private final ByteBufAllocator alloc;
  /** Called after a primary registers / after it is gone (announcements, section 8). */
  private volatile BiConsumer<Session, Boolean> registrationListener = (s, reg) -> { };

  public Router(ClientRegistry registry, TopicIndex topics, BrokerStats stats,
      ByteBufAllocator alloc) {
    this.registry = registry;
    this.topics = topics;
    this.stats = stats;
    this.alloc = alloc;
  }

  public ClientRegistry registry() {
    return registry;
  }

  public TopicIndex topics() {
    return topics;
  }

  public BrokerStats stats() {
    return stats;
  }

  public ByteBufAllocator alloc() {
    return alloc;
  }

  /** Sets the listener told of primaries' registrations ({@code true}) and departures. */
  public void registrationListener(BiConsumer<Session, Boolean> l) {
    this.registrationListener = l;
  }

  /**
   * Registers a client and subscribes it to {@code .broker/warn} (every client, whatever its AAA
   * subscribe rights: the broker's own warnings are not a subscription it asked for).
   *
   * @return the registration code (section 1)
   */
  public int register(Session s) {
    return register(s, false);
  }

  /**
   * Registers a client; with {@code force} (BUS/RT force-register) a primary whose name is taken
   * by a network client replaces it: the old client and its secondaries are disconnected and its
   * {@code unreg} is announced before the new {@code reg}. Secondaries never take over, and
   * internal clients are never replaced.
   */
  public int register(Session s, boolean force) {
    int code = registry.register(s);
    if (code == Protocol.ERR_BUSY && force && !s.isSecondary()) {
      Session old = registry.get(s.name());
      if (old != null && old.kind() != ClientKind.INTERNAL) {
        old.disconnect(CloseReason.REPLACED);
        unregister(old);
        code = registry.register(s);
      }
    }
    if (code == Protocol.RESPONSE_OK) {
      addSubscription(s, Protocol.TOPIC_WARN);
      if (!s.isSecondary()) {
        registrationListener.accept(s, Boolean.TRUE);
      }
    }
    return code;
  }

  /**
   * Removes a client: its subscriptions, its registration, and (for a primary) its secondaries,
   * which are disconnected. Safe to call more than once; the departure is announced once.
   */
  public void unregister(Session s) {
    List<Session> orphans = registry.unregister(s);
    for (String p : s.subscriptions) {
      if (s.subscriptions.remove(p)) {
        topics.remove(p, s);
      }
    }
    for (String p : s.exclusions) {
      if (s.exclusions.remove(p)) {
        topics.removeExclusion(p, s);
      }
    }
    if (orphans == null) {
      return;
    }
    for (Session o : orphans) {
      o.disconnect(CloseReason.PRIMARY_GONE);
    }
    if (!s.isSecondary()) {
      registrationListener.accept(s, Boolean.FALSE);
    }
  }

  /**
   * Adds a subscription; subscribing twice to one pattern is one subscription.
   *
   * @return false when the client's rights do not allow the pattern (nothing is subscribed)
   */
  public boolean subscribe(Session s, String pattern) {
    AccessRights r = s.rights();
    if (r != null && !r.canSubscribe(pattern)) {
      return false;
    }
    addSubscription(s, pattern);
    return true;
  }

  private void addSubscription(Session s, String pattern) {
    if (s.subscriptions.add(pattern)) {
      topics.add(pattern, s);
      // lost a race with unregister: undo, so no subscription outlives its client
      if (!registry.isRegistered(s) && s.subscriptions.remove(pattern)) {
        topics.remove(pattern, s);
      }
    }
  }

  /**
   * Adds an exclusion (BUS/RT, section 15): publications matching {@code pattern} are not
   * delivered to {@code s} even when a subscription matches. Excluding is never denied: it only
   * narrows what the client receives.
   */
  public void exclude(Session s, String pattern) {
    if (s.exclusions.add(pattern)) {
      topics.addExclusion(pattern, s);
      if (!registry.isRegistered(s) && s.exclusions.remove(pattern)) {
        topics.removeExclusion(pattern, s);
      }
    }
  }

  /** Removes an exclusion; an unknown pattern is not an error. */
  public void unexclude(Session s, String pattern) {
    if (s.exclusions.remove(pattern)) {
      topics.removeExclusion(pattern, s);
    }
  }

  /** Removes a subscription; an unknown pattern is not an error. */
  public void unsubscribe(Session s, String pattern) {
    if (s.subscriptions.remove(pattern)) {
      topics.remove(pattern, s);
    }
  }

  /**
   * A direct message: payload is {@code len} bytes of {@code src} at {@code index}.
   *
   * @param statBytes the incoming body length (target included), for the w_bytes counters
   * @return OK, {@code ERR_CLIENT_NOT_REGISTERED} for an unknown target, {@code ERR_ACCESS} when
   *     the sender may not message it, or {@code ERR_NOT_DELIVERED} when the target's queue
   *     overflowed
   */
  public int message(Session from, String target, ByteBuf src, int index, int len,
      boolean realtime, int statBytes) {
    AccessRights r = from.rights();
    // p2p rights name clients by their primary: a secondary is its primary's instance
    if (r != null && !r.canSendTo(primaryName(target))) {
      return Protocol.ERR_ACCESS;
    }
    Session to = registry.get(target);
    if (to == null) {
      return Protocol.ERR_CLIENT_NOT_REGISTERED;
    }
    ByteBuf frame = FrameEncoder.deliver(alloc, Protocol.FRAME_MESSAGE, from.nameBytes(), src,
        index, len, realtime);
    return deliverCounted(to, frame, realtime, statBytes);
  }

  /** A broadcast to every client whose name matches {@code mask}; OK even when none matched. */
  public int broadcast(Session from, String mask, ByteBuf src, int index, int len,
      boolean realtime, int statBytes) {
    AccessRights r = from.rights();
    if (r != null && !r.canBroadcast(mask)) {
      return Protocol.ERR_ACCESS;
    }
    String[] parts = Masks.split(mask, '.');
    ByteBuf frame = null;
    try {
      for (Session to : registry.all()) {
        if (!Masks.matches(parts, to.nameParts(), "?", "*")) {
          continue;
        }
        if (frame == null) {
          frame = FrameEncoder.deliver(alloc, Protocol.FRAME_BROADCAST, from.nameBytes(), src,
              index, len, realtime);
        }
        deliverCounted(to, frame.retainedDuplicate(), realtime, statBytes);
      }
    } finally {
      if (frame != null) {
        frame.release();
      }
    }
    return Protocol.RESPONSE_OK;
  }

  /**
   * A publication to every subscriber of {@code topic}, once each. {@code src[index..index+len)}
   * is {@code topic 00 payload}, the tail of the outgoing body. OK even with no subscriber.
   */
  public int publish(Session from, String topic, ByteBuf src, int index, int len,
      boolean realtime, int statBytes) {
    AccessRights r = from.rights();
    if (r != null && !r.canPublish(topic)) {
      return Protocol.ERR_ACCESS;
    }
    Session[] subs = topics.match(topic);
    if (subs.length == 0) {
      return Protocol.RESPONSE_OK;
    }
    ByteBuf frame = FrameEncoder.deliver(alloc, Protocol.FRAME_PUBLISH, from.nameBytes(), src,
        index, len, realtime);
    // every receiver but the last gets a duplicate (its own indexes: a socket write moves them);
    // the last one takes the frame itself, so one subscriber costs no extra buffer object
    int last = subs.length - 1;
    try {
      for (int i = 0; i < last; i++) {
        deliverCounted(subs[i], frame.retainedDuplicate(), realtime, statBytes);
      }
    } catch (RuntimeException | Error e) {
      frame.release();
      throw e;
    }
    deliverCounted(subs[last], frame, realtime, statBytes);
    return Protocol.RESPONSE_OK;
  }

  /**
   * Counts a frame received from {@code from} (not a ping) with its body length: the {@code r_*}
   * counters of the client and the broker. The reads' counterpart of {@link #deliverCounted};
   * {@link ClientOps} calls it once per operation, whatever the transport.
   */
  public void received(Session from, int bodyBytes) {
    from.countRead(bodyBytes);
    stats.countRead(bodyBytes);
  }

  /** Hands {@code frame} (one reference) to {@code to}; counts it as written when accepted. */
  private int deliverCounted(Session to, ByteBuf frame, boolean realtime, long statBytes) {
    int code = to.deliver(frame, realtime);
    if (code == Protocol.RESPONSE_OK) {
      to.countWrite(statBytes);
      stats.countWrite(statBytes);
    }
    return code;
  }

  private static String primaryName(String name) {
    int i = name.indexOf(Protocol.SECONDARY_SEP);
    return i < 0 ? name : name.substring(0, i);
  }

  /**
   * Publish-for (BUS/RT, section 15): a publication delivered only to the subscribers of {@code
   * topic} whose primary name is {@code receiver} (secondaries included), exclusions and the
   * publish rights applied. {@code src} holds the topic at {@code topicIndex} and the payload at
   * {@code payloadIndex}.
   */
  public int publishFor(Session from, String topic, String receiver, ByteBuf src, int topicIndex,
      int topicLen, int payloadIndex, int payloadLen, boolean realtime, int statBytes) {
    AccessRights r = from.rights();
    if (r != null && !r.canPublish(topic)) {
      return Protocol.ERR_ACCESS;
    }
    ByteBuf frame = null;
    try {
      for (Session to : topics.match(topic)) {
        if (!to.primaryName().equals(receiver)) {
          continue;
        }
        if (frame == null) {
          frame = FrameEncoder.publication(alloc, from.nameBytes(), src, topicIndex, topicLen,
              payloadIndex, payloadLen, realtime);
        }
        deliverCounted(to, frame.retainedDuplicate(), realtime, statBytes);
      }
    } finally {
      if (frame != null) {
        frame.release();
      }
    }
    return Protocol.RESPONSE_OK;
  }

  /** Sends an ack to {@code to} (counted as one frame of six bytes). */
  public void ack(Session to, int opId, int code, boolean realtime) {
    deliverCounted(to, FrameEncoder.ack(alloc, opId, code), realtime,
        Protocol.BROKER_HEADER_SIZE);
  }
}
