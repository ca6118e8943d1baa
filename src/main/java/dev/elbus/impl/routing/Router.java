package dev.elbus.impl.routing;

import dev.elbus.aaa.AccessRights;
import dev.elbus.impl.codec.FrameEncoder;
import dev.elbus.protocol.Masks;
import dev.elbus.protocol.Protocol;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * Routes client operations to receivers (PROTOCOL.md section 5) on the caller's thread: direct
 * messages by name, broadcasts by name mask, publications by topic. Each outgoing frame is
 * encoded once at its exact size and the same buffer, one reference each, is handed to every
 * receiver. Results are
 * the codes an ack carries.
 */
public final class Router {
  private static final Logger LOG = LoggerFactory.getLogger(Router.class);
  private final ClientRegistry registry;
  private final TopicIndex topics;
  private final BrokerStats stats;
  private final ByteBufAllocator alloc;
  /** Called after a primary registers / after it is gone (announcements, section 8). */
  private volatile BiConsumer<Session, Boolean> registrationListener = (s, reg) -> { };
  /** The other nodes of a cluster, {@code null} for a single broker. */
  private volatile RemoteNodes remote;

  /**
   * Not a result code: the result comes later, through the {@link Completion} the call was given.
   */
  public static final int PENDING = -1;
  /**
   * Not a result code: {@link #message} found no such client here, and the broker is one node of
   * a cluster: hand the message to {@link #forward}.
   */
  public static final int FORWARD = -2;

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

  /**
   * Makes this router one node of a cluster: what is not on this node is asked of {@code r}. Set
   * once, before any client registers.
   */
  public void remote(RemoteNodes r) {
    this.remote = r;
  }

  /** The other nodes of the cluster, {@code null} for a single broker. */
  public RemoteNodes remote() {
    return remote;
  }

  /**
   * Whether {@code name} belongs to this node only (starts with {@code .}: the broker's own
   * client, the bridge's): never claimed in a cluster, never reached from another node.
   */
  public static boolean nodeLocal(String name) {
    return !name.isEmpty() && name.charAt(0) == '.';
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
    RemoteNodes r = remote;
    if (r != null && !nodeLocal(s.name())) {
      return r.registerNow(s);
    }
    return registerHere(s, force, false);
  }

  /**
   * Registers a network client. In a single broker (and for a name starting with {@code .}) at
   * once: the registration code is returned. In a cluster the name is claimed in the cluster
   * first, and this returns {@link #PENDING}: {@code claimed} gets OK once the name is this
   * client's (the caller then calls {@link #registerClaimed} on the client's own thread, or
   * {@link #abandonClaim} when the client went away meanwhile), or the code that refuses it.
   */
  public int register(Session s, boolean force, Completion claimed) {
    RemoteNodes r = remote;
    if (r != null && !nodeLocal(s.name())) {
      r.register(s, force, claimed);
      return PENDING;
    }
    return registerHere(s, force, false);
  }

  /** Registers here a client whose name was claimed in the cluster ({@link #register}). */
  public int registerClaimed(Session s, boolean force) {
    return remote.registerClaimed(s, force);
  }

  /** Gives up a name claimed for a client that went away before it was registered here. */
  public void abandonClaim(Session s) {
    remote.abandon(s);
  }

  /**
   * The registration on this node, as {@link #register(Session, boolean)} in a single broker; in
   * a cluster once the name is claimed. {@code remotePrimary}: {@code s} is a secondary whose
   * primary is registered on another node (the cluster disconnects it when that one goes).
   */
  public int registerHere(Session s, boolean force, boolean remotePrimary) {
    int code = remotePrimary ? registry.registerDetached(s) : registry.register(s);
    if (code == Protocol.ERR_BUSY && force && !s.isSecondary()) {
      Session old = registry.get(s.name());
      if (old != null && old.kind() != ClientKind.INTERNAL) {
        old.disconnect(CloseReason.REPLACED);
        unregister(old);
        code = registry.register(s);
      }
    }
    if (code == Protocol.RESPONSE_OK) {
      stats.countRegistered(s.kind());
      addSubscription(s, Protocol.TOPIC_WARN);
      if (!s.isSecondary()) {
        registrationListener.accept(s, Boolean.TRUE);
      }
    }
    return code;
  }

  /**
   * Removes a client: its registration, its subscriptions and exclusions, and (for a primary) its
   * secondaries, which are disconnected and whose patterns are removed too. Safe to call more
   * than once; the departure is announced once. Exception-safe: whatever one step throws, the
   * other steps still run (a pattern that cannot be removed one by one is purged from the whole
   * index), and the first failure is logged.
   */
  public void unregister(Session s) {
    List<Session> orphans = registry.unregister(s);
    Throwable failure = removePatterns(s);
    if (orphans == null) {
      logFailure(s, failure);
      return;
    }
    failure = failure != null ? failure : unregisteredRemotely(s);
    for (Session o : orphans) {
      try {
        o.disconnect(CloseReason.PRIMARY_GONE);
      } catch (RuntimeException | Error e) {
        failure = failure != null ? failure : e;
      }
      Throwable f = removePatterns(o);
      failure = failure != null ? failure : f;
      f = unregisteredRemotely(o);
      failure = failure != null ? failure : f;
    }
    if (!s.isSecondary()) {
      try {
        registrationListener.accept(s, Boolean.FALSE);
      } catch (RuntimeException | Error e) {
        failure = failure != null ? failure : e;
      }
    }
    logFailure(s, failure);
  }

  /** Tells the cluster (if any) that {@code s} is gone; returns the failure, if any. */
  private Throwable unregisteredRemotely(Session s) {
    RemoteNodes r = remote;
    if (r != null && !nodeLocal(s.name())) {
      try {
        r.unregistered(s);
      } catch (RuntimeException | Error e) {
        return e;
      }
    }
    return null;
  }

  /** Removes every pattern of {@code s} from the index; returns the first failure, if any. */
  private Throwable removePatterns(Session s) {
    Throwable failure = null;
    RemoteNodes r = remote;
    for (String p : s.subscriptions) {
      try {
        if (s.subscriptions.remove(p)) {
          topics.remove(p, s);
          if (r != null) {
            r.unsubscribed(p);
          }
        }
      } catch (RuntimeException | Error e) {
        failure = failure != null ? failure : e;
      }
    }
    for (String p : s.exclusions) {
      try {
        if (s.exclusions.remove(p)) {
          topics.removeExclusion(p, s);
        }
      } catch (RuntimeException | Error e) {
        failure = failure != null ? failure : e;
      }
    }
    if (failure != null) {
      try {
        topics.purge(s);
      } catch (RuntimeException | Error e) {
        failure.addSuppressed(e);
      }
    }
    s.patternBytes.set(0);
    s.wildcardLevels.set(0);
    return failure;
  }

  private static void logFailure(Session s, Throwable failure) {
    if (failure != null) {
      CauseLog.error(LOG, "client " + Session.display(s.name())
          + ": a step of its unregistration failed; the others completed", failure);
    }
  }

  /**
   * Adds a subscription; subscribing twice to one pattern is one subscription.
   *
   * @return {@code RESPONSE_OK}; {@code ERR_ACCESS} when the client's rights do not allow the
   *     pattern; {@code ERR_DATA} when it exceeds one of the client's {@link ClientLimits}
   *     (counted and logged, see {@link #refuse}). Nothing is subscribed unless OK.
   */
  public int subscribe(Session s, String pattern) {
    int code = admit(s, pattern, s.subscriptions);
    if (code != Protocol.RESPONSE_OK) {
      return code;
    }
    AccessRights r = s.rights();
    if (r != null && !r.canSubscribe(pattern)) {
      return denied(AccessOp.SUBSCRIBE);
    }
    addSubscription(s, pattern);
    return Protocol.RESPONSE_OK;
  }

  private void addSubscription(Session s, String pattern) {
    if (s.subscriptions.add(pattern)) {
      account(s, pattern, 1);
      topics.add(pattern, s);
      RemoteNodes r = remote;
      if (r != null) {
        r.subscribed(pattern);
      }
      // lost a race with unregister: undo, so no subscription outlives its client
      if (!registry.isRegistered(s) && s.subscriptions.remove(pattern)) {
        topics.remove(pattern, s);
        if (r != null) {
          r.unsubscribed(pattern);
        }
      }
    }
  }

  /**
   * Checks a new pattern of {@code s} against its limits: its levels, and what its patterns
   * would hold with it (count, bytes, wildcard levels). A pattern it already has costs nothing.
   *
   * @return OK or the refusal ({@code ERR_DATA}, counted and logged)
   */
  private int admit(Session s, String pattern, java.util.Set<String> mine) {
    ClientLimits lim = s.limits();
    if (lim == ClientLimits.NONE || mine.contains(pattern)) {
      return Protocol.RESPONSE_OK;
    }
    int levels = Masks.levels(pattern, '/');
    if (levels > lim.maxTopicLevels()) {
      return refuse(s, Limit.TOPIC_LEVELS, "a pattern of " + levels + " levels");
    }
    int count = s.subscriptions.size() + s.exclusions.size();
    if (count >= lim.maxSubscriptions()) {
      return refuse(s, Limit.SUBSCRIPTIONS, "already " + count + " subscriptions and exclusions");
    }
    long bytes = s.patternBytes.get() + patternBytes(pattern);
    if (bytes > lim.maxSubscriptionBytes()) {
      return refuse(s, Limit.SUBSCRIPTION_BYTES, "subscriptions and exclusions of " + bytes
          + " bytes with this one");
    }
    long wl = s.wildcardLevels.get() + Masks.wildcardLevels(pattern);
    if (wl > lim.maxWildcardLevels()) {
      return refuse(s, Limit.WILDCARD_LEVELS, wl + " wildcard levels with this pattern");
    }
    return Protocol.RESPONSE_OK;
  }

  /** Counts an operation AAA refused; returns {@code ERR_ACCESS}, the code it is answered with. */
  private int denied(AccessOp op) {
    stats.countDenied(op);
    return Protocol.ERR_ACCESS;
  }

  /** What one pattern counts against {@code max_subscription_bytes}: its UTF-8 length + 1. */
  static long patternBytes(String pattern) {
    long n = pattern.length();
    for (int i = 0; i < pattern.length(); i++) {
      char c = pattern.charAt(i);
      if (c >= 0x80) {
        // 2 bytes up to U+07FF, 3 for the rest of the BMP, 4 for a surrogate pair (2 chars)
        n += c < 0x800 ? 1 : Character.isSurrogate(c) ? 1 : 2;
      }
    }
    return n + 1;
  }

  private static void account(Session s, String pattern, int sign) {
    s.patternBytes.addAndGet(sign * patternBytes(pattern));
    s.wildcardLevels.addAndGet(sign * (long) Masks.wildcardLevels(pattern));
  }

  /**
   * Refuses input of {@code s} that exceeds {@code limit}: counts it in the broker stats and logs
   * it, once per client and limit.
   *
   * @param what the refused input, for the log line (e.g. "a topic of 200 levels")
   * @return {@code ERR_DATA}, the code the refusal is acknowledged with
   */
  public int refuse(Session s, Limit limit, String what) {
    stats.countRefused(limit);
    if (s.firstRefusal(limit) && LOG.isWarnEnabled()) {
      LOG.warn("client {}{}: refused {}: more than {} {} (answered 72; further refusals of this "
          + "client by this limit are counted in stats, not logged)", Session.display(s.name()),
          s.source() != null ? " (" + s.source() + ")" : "", what, limit.option(),
          s.limits().of(limit));
    }
    return Protocol.ERR_DATA;
  }

  /**
   * Adds an exclusion (BUS/RT, section 15): publications matching {@code pattern} are not
   * delivered to {@code s} even when a subscription matches. Excluding is never denied by AAA:
   * it only narrows what the client receives; it counts against the client's limits as a
   * subscription does.
   *
   * @return {@code RESPONSE_OK}, or {@code ERR_DATA} when it exceeds a limit
   */
  public int exclude(Session s, String pattern) {
    int code = admit(s, pattern, s.exclusions);
    if (code != Protocol.RESPONSE_OK) {
      return code;
    }
    if (s.exclusions.add(pattern)) {
      account(s, pattern, 1);
      topics.addExclusion(pattern, s);
      if (!registry.isRegistered(s) && s.exclusions.remove(pattern)) {
        topics.removeExclusion(pattern, s);
      }
    }
    return Protocol.RESPONSE_OK;
  }

  /** Removes an exclusion; an unknown pattern is not an error. */
  public void unexclude(Session s, String pattern) {
    if (s.exclusions.remove(pattern)) {
      account(s, pattern, -1);
      topics.removeExclusion(pattern, s);
    }
  }

  /** Removes a subscription; an unknown pattern is not an error. */
  public void unsubscribe(Session s, String pattern) {
    if (s.subscriptions.remove(pattern)) {
      account(s, pattern, -1);
      topics.remove(pattern, s);
      RemoteNodes r = remote;
      if (r != null) {
        r.unsubscribed(pattern);
      }
    }
  }

  /**
   * In a cluster, arranges for {@code done} to be called once every other node applied the
   * subscriptions made here so far ({@link RemoteNodes#barrier}).
   *
   * @return false when there is nothing to wait for ({@code done} is not called)
   */
  public boolean barrier(Completion done) {
    RemoteNodes r = remote;
    return r != null && r.barrier(done);
  }

  /**
   * A direct message: payload is {@code len} bytes of {@code src} at {@code index}.
   *
   * @param statBytes the incoming body length (target included), for the w_bytes counters
   * @return OK, {@code ERR_CLIENT_NOT_REGISTERED} for an unknown target, {@code ERR_ACCESS} when
   *     the sender may not message it, {@code ERR_NOT_DELIVERED} when the target's queue
   *     overflowed, or {@link #FORWARD} in a cluster when the target is not on this node
   */
  public int message(Session from, String target, ByteBuf src, int index, int len,
      boolean realtime, int statBytes) {
    AccessRights r = from.rights();
    // p2p rights name clients by their primary: a secondary is its primary's instance
    if (r != null && !r.canSendTo(primaryName(target))) {
      return denied(AccessOp.MESSAGE);
    }
    Session to = registry.get(target);
    if (to == null) {
      return remote == null ? Protocol.ERR_CLIENT_NOT_REGISTERED : FORWARD;
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
      return denied(AccessOp.BROADCAST);
    }
    String[] parts = Masks.split(mask, '.');
    ByteBuf frame = null;
    try {
      for (Session to : registry.all()) {
        if (!Masks.nameMatches(parts, to.name())) {
          continue;
        }
        if (frame == null) {
          frame = FrameEncoder.deliver(alloc, Protocol.FRAME_BROADCAST, from.nameBytes(), src,
              index, len, realtime);
        }
        deliverCounted(to, frame.retain(), realtime, statBytes);
      }
    } finally {
      if (frame != null) {
        frame.release();
      }
    }
    RemoteNodes rn = remote;
    if (rn != null) {
      rn.broadcast(from, mask, src, index, len, realtime, statBytes);
    }
    return Protocol.RESPONSE_OK;
  }

  /**
   * A direct message to a client that is not on this node ({@link #message} answered {@link
   * #FORWARD}): handed to the cluster.
   *
   * @param done the sender's ack, {@code null} when it asked for none
   * @return {@code 71} (registered nowhere) or {@link #PENDING}
   */
  public int forward(Session from, String target, ByteBuf src, int index, int len,
      boolean realtime, int statBytes, Completion done) {
    RemoteNodes rn = remote;
    return rn == null ? Protocol.ERR_CLIENT_NOT_REGISTERED
        : rn.message(from, target, src, index, len, realtime, statBytes, done);
  }

  /**
   * A publication to every subscriber of {@code topic}, once each. {@code src[index..index+len)}
   * is {@code topic 00 payload}, the tail of the outgoing body. OK even with no subscriber.
   */
  public int publish(Session from, String topic, ByteBuf src, int index, int len,
      boolean realtime, int statBytes) {
    AccessRights r = from.rights();
    if (r != null && !r.canPublish(topic)) {
      return denied(AccessOp.PUBLISH);
    }
    Session[] subs = topics.match(topic);
    RemoteNodes rn = remote;
    if (rn != null) {
      rn.publish(from, topic, src, index, len, realtime, statBytes);
    }
    if (subs.length == 0) {
      return Protocol.RESPONSE_OK;
    }
    ByteBuf frame = FrameEncoder.deliver(alloc, Protocol.FRAME_PUBLISH, from.nameBytes(), src,
        index, len, realtime);
    // every receiver gets a reference to the same bytes (Session.deliver: shared, read by
    // absolute index); the last one takes the router's own reference
    int last = subs.length - 1;
    try {
      for (int i = 0; i < last; i++) {
        deliverCounted(subs[i], frame.retain(), realtime, statBytes);
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
    return counted(to, to.deliver(frame, realtime), statBytes);
  }

  /** Counts a write of {@code statBytes} to {@code to} when {@code code} says it was accepted. */
  private int counted(Session to, int code, long statBytes) {
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
   * topic} whose primary name is {@code receiver} (secondaries included), exclusions applied. It
   * is a publication addressed to one client, so both rights govern it: the sender must be
   * allowed to publish to the topic and to send to the receiver (p2p); either denial gives
   * {@code ERR_ACCESS} and nothing is delivered. {@code src} holds the topic at {@code topicIndex}
   * and the payload at {@code payloadIndex}.
   */
  public int publishFor(Session from, String topic, String receiver, ByteBuf src, int topicIndex,
      int topicLen, int payloadIndex, int payloadLen, boolean realtime, int statBytes) {
    AccessRights r = from.rights();
    if (r != null && (!r.canPublish(topic) || !r.canSendTo(receiver))) {
      return denied(AccessOp.PUBLISH_FOR);
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
        deliverCounted(to, frame.retain(), realtime, statBytes);
      }
    } finally {
      if (frame != null) {
        frame.release();
      }
    }
    RemoteNodes rn = remote;
    if (rn != null) {
      rn.publishFor(from, topic, receiver, src, topicIndex, topicLen, payloadIndex, payloadLen,
          realtime, statBytes);
    }
    return Protocol.RESPONSE_OK;
  }

  // ---------------------------------------------------------------- frames from another node

  /*
   * What another node of the cluster routed here: the complete broker frame, encoded there (one
   * reference, taken), for this node's clients. Rights were checked on the sender's node;
   * exclusions and subscriptions are this node's.
   */

  /** A direct message for {@code target}: OK, {@code 71} (not here) or {@code 77}. */
  public int deliverMessage(String target, ByteBuf frame, boolean realtime, int statBytes) {
    Session to = nodeLocal(target) ? null : registry.get(target);
    if (to == null) {
      frame.release();
      return Protocol.ERR_CLIENT_NOT_REGISTERED;
    }
    return deliverCounted(to, frame, realtime, statBytes);
  }

  /** A broadcast to this node's clients matching {@code mask}. */
  public void deliverBroadcast(String mask, ByteBuf frame, boolean realtime, int statBytes) {
    String[] parts = Masks.split(mask, '.');
    try {
      for (Session to : registry.all()) {
        if (Masks.nameMatches(parts, to.name())) {
          deliverCounted(to, frame.retain(), realtime, statBytes);
        }
      }
    } finally {
      frame.release();
    }
  }

  /**
   * A publication to this node's subscribers of {@code topic}; with a {@code receiver}
   * (publish-for) only to those whose primary name it is.
   */
  public void deliverPublication(String topic, String receiver, ByteBuf frame, boolean realtime,
      int statBytes) {
    try {
      for (Session to : topics.match(topic)) {
        if (receiver == null || to.primaryName().equals(receiver)) {
          deliverCounted(to, frame.retain(), realtime, statBytes);
        }
      }
    } finally {
      frame.release();
    }
  }

  /** Sends an ack to {@code to} (counted as one frame of six bytes). */
  public void ack(Session to, int opId, int code, boolean realtime) {
    counted(to, to.deliverAck(alloc, opId, code, realtime), Protocol.BROKER_HEADER_SIZE);
  }
}
