package dev.elbus.impl.cluster;

import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.LifecycleEvent;
import com.hazelcast.splitbrainprotection.SplitBrainProtectionException;
import dev.elbus.config.ClusterOptions;
import dev.elbus.impl.codec.Buffers;
import dev.elbus.impl.codec.FrameEncoder;
import dev.elbus.impl.routing.ClientKind;
import dev.elbus.impl.routing.CloseReason;
import dev.elbus.impl.routing.Completion;
import dev.elbus.impl.routing.RemoteNodes;
import dev.elbus.impl.routing.Router;
import dev.elbus.impl.routing.Session;
import dev.elbus.impl.routing.TopicIndex;
import dev.elbus.protocol.Protocol;
import dev.elbus.rpc.MsgPack;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * This broker as one node of a cluster (docs/cluster.md): the {@link RemoteNodes} the router
 * asks about what is not on this node.
 *
 * <p><b>Names</b> are claimed in the Hazelcast map of {@link Names} (unique in the cluster: one
 * winner per race) and announced to the other nodes, which keep a replica (name to node) so
 * that routing a direct message never waits for Hazelcast. <b>Interest</b>: each node announces
 * the patterns its clients subscribe to (the first subscriber of a pattern and the last one
 * leaving, never one announcement per client); the others keep them in an index whose match of
 * a topic lists the nodes a publication crosses to. The receiving node matches again against its
 * own subscriptions, exclusions and rights.
 *
 * <p><b>Announcements</b> (names and patterns) carry this node's sequence numbers. A node sends
 * another its whole state once (HELLO, answered when applied) and then the changes (DELTAS), one
 * message in flight per node, resent until answered; the receiver applies them in order. A
 * client's subscription is acked, and a registration answered, once every other node that has
 * this node's state has applied it ({@link #barrier}): a publication routed anywhere after the
 * ack reaches it. Two exceptions (docs/cluster.md, "Limits"): a node that has not confirmed
 * within the cluster timeout is not waited for longer (the ack goes with a warning), and a node
 * whose HELLO is in flight or unanswered is not waited for (its snapshot may predate the
 * change, which follows it).
 *
 * <p><b>Frames</b> for other nodes are batched per node and event-loop turn ({@link Outbound})
 * and sent on a {@link Link} per node, each batch an event-bus request answered with the codes of
 * its acked direct messages. Everything a node sends goes to its one inbox, {@code
 * elbus.node.<vert.x node id>}.
 *
 * <p><b>Failure</b>: when Hazelcast removes a member, its state is dropped here, its batches'
 * acks fail, its names are swept from the map and announced as gone to this node's clients.
 * After a split brain heals, each node checks its names against the merged map and disconnects
 * the clients that lost theirs.
 *
 * <p>Threading: the announced state of other nodes, the announcement protocol and the inbox run
 * on one event-loop context of the broker's Vert.x (the control context); the methods of {@link
 * RemoteNodes} run on the callers' threads and read that state through concurrent maps.
 */
public final class ClusterNode implements RemoteNodes {
  private static final Logger LOG = LoggerFactory.getLogger(ClusterNode.class);
  /** Vert.x's node id, a Hazelcast member attribute (vertx-hazelcast sets it). */
  private static final String NODE_ID_ATTRIBUTE = "__vertx.nodeId";
  private static final String INBOX_PREFIX = "elbus.node.";
  private static final long RETRY_MS = 100;
  /** Hellos to a member without a broker (yet) are retried ever less often, up to this. */
  private static final long MAX_RETRY_MS = 5_000;
  private static final int MAX_DELTAS = 4096;
  /**
   * Announcements queued for one node (not yet confirmed by it) past which the queue is dropped
   * and the node gets this node's whole state again (docs/cluster.md): a node that does not
   * answer costs at most this many here, not one per change for as long as it stays a member.
   */
  static final int MAX_QUEUED = 65_536;
  private static final Buffer EMPTY = Buffer.buffer();
  private static final byte[] BROKER = Protocol.BROKER_NAME.getBytes(StandardCharsets.UTF_8);
  private static final byte[] TOPIC_INFO = Protocol.TOPIC_INFO.getBytes(StandardCharsets.UTF_8);

  private final Vertx vertx;
  private final ClusterOptions opts;
  private final Router router;
  private final ClusterStats stats = new ClusterStats();
  private final Outbound outbound;
  private final DeliveryOptions request;

  // set by start()
  private HazelcastInstance hz;
  private String me;
  /** This start of the broker, told apart from an earlier one on the same Vert.x node. */
  private long incarnation;
  private String nodeName;
  private Names names;
  private ContextInternal control;
  private MessageConsumer<Buffer> inbox;
  private UUID membershipListener;
  private UUID lifecycleListener;
  private volatile boolean joined;
  private volatile boolean closed;
  private Function<Buffer, Buffer> listView = b -> EMPTY;
  /** The keys of batch entries (inbox, control context). */
  private final Wire.KeyCache keys = new Wire.KeyCache();
  private Supplier<Buffer> statsView = () -> EMPTY;

  // ---- what the other nodes announced (written on the control context)
  /** Every other node whose state this node applied, by node id. */
  private final ConcurrentHashMap<String, Peer> peers = new ConcurrentHashMap<>();
  /** The other nodes' patterns; a topic's match lists the nodes it crosses to. */
  private final TopicIndex interest = new TopicIndex();
  /** Names registered on other nodes, with their holder. */
  private final ConcurrentHashMap<String, Holder> replica = new ConcurrentHashMap<>();
  /** Node ids seen in the membership: a node seen again was split off and merged back. */
  private final Set<String> seen = new HashSet<>();

  // ---- what this node announces (guarded by this)
  private long seq;
  private final HashMap<String, Integer> patterns = new HashMap<>();
  private final HashMap<String, Long> localNames = new HashMap<>();
  private ArrayList<Wire.Delta> outbox = new ArrayList<>();
  private final AtomicBoolean drainScheduled = new AtomicBoolean();
  /** The nodes this node announces to, by node id (control context; read anywhere). */
  private final ConcurrentHashMap<String, Target> targets = new ConcurrentHashMap<>();
  /** Barriers waiting for the other nodes (control context). */
  private final ArrayList<Waiter> waiters = new ArrayList<>();
  private long waiterTimer = -1;

  // ---- this node's registrations
  private final AtomicLong tokens = new AtomicLong();
  /** The token of every client registered here in the cluster. */
  private final ConcurrentHashMap<Session, Long> tokenOf = new ConcurrentHashMap<>();
  /** Names being claimed here: one claim per name at a time on this node. */
  private final ConcurrentHashMap<String, Session> claiming = new ConcurrentHashMap<>();
  /** Secondaries here whose primary is registered on another node. */
  private final Set<Session> detached = ConcurrentHashMap.newKeySet();
  /** Those secondaries by their primary's name. */
  private final ConcurrentHashMap<String, Set<Session>> children = new ConcurrentHashMap<>();

  /** A name on another node: its peer and the token of the registration. */
  private record Holder(Peer peer, long token) {}

  /** Another node as a receiver of this node's announcements (control context). */
  private static final class Target {
    final String node;
    /** Announcements up to this one are in the snapshot it was sent. */
    long baseline;
    /** The snapshot was applied: announcements after it flow. */
    boolean ready;
    /** The last announcement it applied (read by barriers on any thread). */
    volatile long confirmed = -1;
    final ArrayDeque<Wire.Delta> queue = new ArrayDeque<>();
    boolean sending;
    /** Bumped by every hello: answers of an older one are ignored. */
    long generation;
    /** The delay before the next hello after a failed one. */
    long retryMs = RETRY_MS;

    Target(String node) {
      this.node = node;
    }
  }

  /** A barrier: {@code done} once every ready node confirmed {@code target}. */
  private record Waiter(long target, Completion done, long deadline) {}

  public ClusterNode(Vertx vertx, ClusterOptions opts, Router router) {
    this.vertx = vertx;
    this.opts = new ClusterOptions(opts);
    this.router = router;
    this.outbound = new Outbound((VertxInternal) vertx);
    this.request = new DeliveryOptions().setSendTimeout(this.opts.getTimeoutMs());
  }

  static String inbox(String node) {
    return INBOX_PREFIX + node;
  }

  /**
   * Sets how this node answers the other nodes' {@code client.list} and {@code stats} requests
   * (the broker's core client: params and reply are MessagePack).
   */
  public void views(Function<Buffer, Buffer> list, Supplier<Buffer> stats) {
    this.listView = list;
    this.statsView = stats;
  }

  // ---------------------------------------------------------------- lifecycle

  /**
   * Joins: registers this node's inbox, listens to the membership, exchanges state with every
   * member, and releases the names of nodes that are gone. Completes once every member answered
   * (or did not within the cluster timeout: it is then taken in when it does).
   */
  public Future<Void> start() {
    try {
      hz = HazelcastSetup.hazelcast(vertx);
    } catch (IllegalStateException e) {
      return Future.failedFuture(e);
    }
    me = hz.getCluster().getLocalMember().getAttribute(NODE_ID_ATTRIBUTE);
    if (me == null) {
      return Future.failedFuture(new IllegalStateException("cluster: this Hazelcast member has "
          + "no Vert.x node id"));
    }
    String addr = hz.getCluster().getLocalMember().getAddress().getHost() + ":"
        + hz.getCluster().getLocalMember().getAddress().getPort();
    nodeName = opts.getNodeName() != null ? opts.getNodeName() : addr;
    names = new Names(hz);
    incarnation = java.util.concurrent.ThreadLocalRandom.current().nextLong();
    // tokens of a broker started again on this Vert.x node differ from the earlier one's (the
    // others release an earlier one's names in the map by their exact value)
    tokens.set(java.util.concurrent.ThreadLocalRandom.current().nextLong(1L << 62));
    control = ((VertxInternal) vertx).createEventLoopContext();
    Promise<Void> started = Promise.promise();
    control.runOnContext(v -> {
      inbox = vertx.eventBus().consumer(inbox(me), this::onMessage);
      inbox.completion().onComplete(ar -> {
        if (ar.failed()) {
          started.fail(ar.cause());
          return;
        }
        membershipListener = hz.getCluster().addMembershipListener(new MembershipListener() {
          @Override
          public void memberAdded(MembershipEvent e) {
            String id = e.getMember().getAttribute(NODE_ID_ATTRIBUTE);
            if (id != null) {
              onControl(() -> joinedNode(id));
            }
          }

          @Override
          public void memberRemoved(MembershipEvent e) {
            String id = e.getMember().getAttribute(NODE_ID_ATTRIBUTE);
            if (id != null) {
              onControl(() -> leftNode(id));
            }
          }
        });
        lifecycleListener = hz.getLifecycleService().addLifecycleListener(e -> {
          if (e.getState() == LifecycleEvent.LifecycleState.MERGED) {
            onControl(this::merged);
          }
        });
        List<String> members = members();
        seen.addAll(members);
        for (String n : members) {
          hello(n);
        }
        sweep();
        awaitJoined(members, System.nanoTime() + opts.getTimeoutMs() * 1_000_000, started);
      });
    });
    return started.future().onSuccess(x -> {
      joined = true;
      LOG.info("cluster {}: node {} joined ({} other node{})", opts.getName(), nodeName,
          peers.size(), peers.size() == 1 ? "" : "s");
    });
  }

  /** Completes {@code p} once every node of {@code members} exchanged state, or at deadline. */
  private void awaitJoined(List<String> members, long deadline, Promise<Void> p) {
    List<String> missing = new ArrayList<>();
    for (String n : members) {
      Target t = targets.get(n);
      if (!n.equals(me) && isMember(n) && (!peers.containsKey(n) || t == null || !t.ready)) {
        missing.add(n);
      }
    }
    if (missing.isEmpty()) {
      p.tryComplete();
    } else if (System.nanoTime() > deadline) {
      LOG.warn("cluster {}: node(s) {} did not answer within {} ms; they are taken in when "
          + "they do", opts.getName(), missing, opts.getTimeoutMs());
      p.tryComplete();
    } else {
      vertx.setTimer(20, t -> awaitJoined(members, deadline, p));
    }
  }

  /**
   * Whether this node has joined its cluster and exchanged state with the members it found:
   * the readiness of a clustered broker.
   */
  public boolean isJoined() {
    return joined && live();
  }

  /** This node's name in {@code client.list} and {@code stats}. */
  public String nodeName() {
    return nodeName;
  }

  /** The names of the other nodes whose state this node has, sorted. */
  public List<String> peerNames() {
    List<String> out = new ArrayList<>();
    for (Peer p : peers.values()) {
      out.add(p.nodeName != null ? p.nodeName : p.node);
    }
    out.sort(null);
    return out;
  }

  /** The cluster's name. */
  public String clusterName() {
    return opts.getName();
  }

  /**
   * Leaves: stops listening and answering (the clients were disconnected before, their names
   * released). The clustered Vert.x stays: it is closed by its owner.
   */
  public Future<Void> close() {
    if (closed || control == null) {
      closed = true;
      return Future.succeededFuture();
    }
    closed = true;
    joined = false;
    try {
      if (membershipListener != null) {
        hz.getCluster().removeMembershipListener(membershipListener);
      }
      if (lifecycleListener != null) {
        hz.getLifecycleService().removeLifecycleListener(lifecycleListener);
      }
    } catch (RuntimeException e) {
      LOG.debug("cluster: removing listeners", e); // Hazelcast already shut down
    }
    // a node whose Hazelcast member is gone is out of the cluster: the others find out from
    // Hazelcast and release and announce its names as a dead node's, so it says no bye
    boolean member;
    try {
      member = hz.getLifecycleService().isRunning();
    } catch (RuntimeException e) {
      member = false;
    }
    List<Future<?>> byes = new ArrayList<>();
    for (Peer p : peers.values()) {
      p.link.close();
      if (!member) {
        continue;
      }
      // the Vert.x node may stay in the cluster without this broker: tell the others
      byes.add(vertx.eventBus().request(inbox(p.node),
          Buffers.buffer(Wire.bye(me, incarnation)), request));
    }
    return Future.join(byes).transform(x -> inbox == null ? Future.succeededFuture()
        : inbox.unregister()).<Void>mapEmpty().recover(e -> Future.succeededFuture());
  }

  private void onControl(Runnable r) {
    if (!closed) {
      control.runOnContext(v -> {
        if (!closed) {
          r.run();
        }
      });
    }
  }

  private List<String> members() {
    List<String> out = new ArrayList<>();
    try {
      for (com.hazelcast.cluster.Member m : hz.getCluster().getMembers()) {
        String id = m.getAttribute(NODE_ID_ATTRIBUTE);
        if (id != null) {
          out.add(id);
        }
      }
    } catch (RuntimeException e) {
      LOG.debug("cluster: members", e);
    }
    return out;
  }

  private boolean isMember(String node) {
    return members().contains(node);
  }

  // ---------------------------------------------------------------- membership

  private void joinedNode(String node) {
    boolean again = !seen.add(node);
    hello(node);
    if (again) {
      // it was removed and comes back: a split brain healed
      LOG.warn("cluster {}: node {} is back (a partition healed); checking this node's names",
          opts.getName(), node);
      reconcile();
    }
  }

  private void leftNode(String node) {
    Target t = targets.remove(node);
    if (t != null) {
      t.generation++;
    }
    Peer p = peers.get(node);
    if (p != null) {
      int gone = dropPeer(p, true, false); // the sweep releases its names in the map
      LOG.warn("cluster {}: node {} left; its {} name{} released", opts.getName(),
          p.nodeName != null ? p.nodeName : node, gone, gone == 1 ? "" : "s");
    }
    checkWaiters();
    sweep();
  }

  /**
   * Forgets what {@code p} announced: its patterns, its names (their secondaries here
   * disconnected; with {@code announce}, announced as gone to this node's clients: a dead node
   * cannot say it), and fails what waits for it. With {@code release}, each of those names is
   * released in the map too if the map still holds that registration (its broker closed or
   * started again while its Vert.x stays a member: no sweep releases it).
   *
   * @return the names released
   */
  private int dropPeer(Peer p, boolean announce, boolean release) {
    peers.remove(p.node, p);
    interest.purge(p);
    p.link.close();
    int gone = 0;
    for (String name : p.names) {
      Holder h = replica.get(name);
      if (h != null && h.peer() == p && replica.remove(name, h)) {
        gone++;
        if (release) {
          releaseStale(name, Names.value(p.node, h.token()));
        }
        if (name.indexOf(Protocol.SECONDARY_SEP) < 0) {
          orphan(name);
          if (announce) {
            announceGone(name);
          }
        }
      }
    }
    return gone;
  }

  /** Releases {@code name} in the map if another node's departed broker still holds it. */
  private void releaseStale(String name, String value) {
    try {
      names.release(name, value).whenComplete((prev, err) -> {
        if (err != null) {
          LOG.debug("cluster: release of {}", Session.display(name), err);
        }
      });
    } catch (RuntimeException e) {
      LOG.debug("cluster: release of {}", Session.display(name), e); // Hazelcast is down
    }
  }

  /**
   * The broker of {@code node} closed (its Vert.x may stay a member): what it announced goes,
   * and it is not announced to any more (it says hello when a broker runs there again). A
   * goodbye of an earlier broker there ({@code inc} not the one this node has state of) is
   * late: ignored.
   */
  private void bye(String node, long inc) {
    Peer p = peers.get(node);
    if (p != null && p.incarnation != inc) {
      return; // an earlier broker's, late: the one there now said hello since
    }
    Target t = targets.remove(node);
    if (t != null) {
      t.generation++;
    }
    if (p != null) {
      // its broker announced its clients' departures itself (as publications, which may arrive
      // after this bye: announcing here too would announce some twice); a name still here whose
      // release did not get out is released in the map. A broker whose Hazelcast member died
      // says no bye (close): the others then announce its names as for a dead node
      dropPeer(p, false, true);
      LOG.info("cluster {}: the broker of node {} closed", opts.getName(), p.nodeName);
    }
    checkWaiters();
  }

  /** This node merged back into the cluster after a split brain. */
  private void merged() {
    LOG.warn("cluster {}: this node merged back after a split; checking its names and "
        + "exchanging state again", opts.getName());
    for (String n : members()) {
      seen.add(n);
      hello(n);
    }
    reconcile();
    sweep();
  }

  /** Removes the names of nodes that are not members from the map (off the event loop). */
  private void sweep() {
    Set<String> alive = new HashSet<>(members());
    vertx.executeBlocking(() -> {
      names.sweep(alive);
      return null;
    }, false).onFailure(e -> LOG.warn("cluster {}: could not release the names of departed "
        + "nodes: {}", opts.getName(), rootMessage(e)));
  }

  /**
   * After a split brain: every name this node announced is checked against the merged map. A
   * name now held by another node is lost here (the side that stayed wins): its client is
   * disconnected; a name missing from the map is claimed again.
   */
  private void reconcile() {
    reconcileNow();
    // Hazelcast merges the maps' entries in the background after MERGED: once more later
    vertx.setTimer(opts.getMergeSeconds() * 1000L + 1000, t -> onControl(this::reconcileNow));
  }

  private void reconcileNow() {
    Map<String, Long> mine;
    synchronized (this) {
      mine = new HashMap<>(localNames);
    }
    for (Map.Entry<String, Long> e : mine.entrySet()) {
      String name = e.getKey();
      String value = Names.value(me, e.getValue());
      names.claim(name, value).whenComplete((prev, err) -> onControl(() -> {
        if (err != null) {
          LOG.warn("cluster {}: could not check name {}: {}", opts.getName(),
              Session.display(name), rootMessage(err));
        } else if (prev != null && !Names.nodeOf(prev).equals(me)) {
          if (isMember(Names.nodeOf(prev))) {
            lose(name, e.getValue(), "after the partition healed, node " + nodeLabel(
                Names.nodeOf(prev)) + " holds it");
          } else {
            names.takeOver(name, prev, value); // held by a node that is gone
          }
        }
      }));
    }
  }

  /** The local client registered as {@code name} with {@code token} lost its name. */
  private void lose(String name, long token, String why) {
    Session s = router.registry().get(name);
    if (s != null && Long.valueOf(token).equals(tokenOf.get(s))) {
      LOG.warn("cluster {}: client {} disconnected: {}", opts.getName(), Session.display(name),
          why);
      s.disconnect(CloseReason.REPLACED);
      router.unregister(s);
    }
  }

  private String nodeLabel(String node) {
    Peer p = peers.get(node);
    return p != null && p.nodeName != null ? p.nodeName : node;
  }

  // ---------------------------------------------------------------- announcements

  /** Sends {@code node} this node's state (again), resent until applied or the node is gone. */
  private void hello(String node) {
    if (!live() || node.equals(me)) {
      return;
    }
    Target t = targets.computeIfAbsent(node, Target::new);
    Wire.Snapshot s = snapshot();
    long gen = ++t.generation;
    t.ready = false;
    t.sending = true;
    t.baseline = s.seq();
    while (!t.queue.isEmpty() && t.queue.peek().seq() <= s.seq()) {
      t.queue.poll();
    }
    vertx.eventBus().<Buffer>request(inbox(node), Buffers.buffer(s.encode(me, incarnation)),
        request).onComplete(ar -> {
          if (t.generation != gen || targets.get(node) != t) {
            return;
          }
          t.sending = false;
          if (ar.succeeded()) {
            t.ready = true;
            t.retryMs = RETRY_MS;
            t.confirmed = s.seq();
            sendDeltas(t);
            checkWaiters();
          } else if (!closed && isMember(node)) {
            // its inbox may not be registered yet (it is starting), or the member runs no
            // broker (another Vert.x node of the application): asked again, ever less often
            long delay = t.retryMs;
            t.retryMs = Math.min(MAX_RETRY_MS, delay * 2);
            vertx.setTimer(delay, x -> {
              if (t.generation == gen && targets.get(node) == t) {
                hello(node);
              }
            });
          } else {
            targets.remove(node, t);
            checkWaiters();
          }
        });
  }

  private synchronized Wire.Snapshot snapshot() {
    List<String> ps = new ArrayList<>(patterns.keySet());
    return new Wire.Snapshot(nodeName, seq, new HashMap<>(localNames), ps);
  }

  /** Announces a change (any thread, under the monitor of this node). */
  private void emit(int op, String key, long token) {
    outbox.add(new Wire.Delta(++seq, op, key, token));
    if (!closed && control != null && !drainScheduled.get()
        && drainScheduled.compareAndSet(false, true)) {
      control.runOnContext(v -> drain());
    }
  }

  /**
   * Whether this node takes part: not closed, and its Hazelcast member running. A member that
   * was stopped (or crashed in a test, {@code terminate()}) is out of the cluster: the others
   * release its names; it must not talk to them any more.
   */
  private boolean live() {
    return !closed && hz.getLifecycleService().isRunning();
  }

  /** Hands the announcements made since the last drain to every node's queue (control). */
  private void drain() {
    drainScheduled.set(false);
    if (!live()) {
      return;
    }
    ArrayList<Wire.Delta> ds;
    synchronized (this) {
      ds = outbox;
      outbox = new ArrayList<>();
    }
    for (Target t : targets.values()) {
      for (Wire.Delta d : ds) {
        if (d.seq() > t.baseline) {
          t.queue.add(d);
        }
      }
      if (t.queue.size() > MAX_QUEUED) {
        resync(t);
      } else {
        sendDeltas(t);
      }
    }
  }

  /**
   * {@code t} has not taken {@link #MAX_QUEUED} announcements: they are dropped and it is sent
   * this node's whole state instead (the snapshot is as large as the state, not the history).
   */
  private void resync(Target t) {
    stats.resyncs.increment();
    LOG.warn("cluster {}: node {} has not confirmed {} announcements; they are dropped and it "
        + "gets this node's whole state again", opts.getName(), nodeLabel(t.node),
        t.queue.size());
    t.queue.clear();
    hello(t.node);
  }

  private void sendDeltas(Target t) {
    if (!t.ready || t.sending || t.queue.isEmpty() || !live()) {
      return;
    }
    List<Wire.Delta> batch = new ArrayList<>(Math.min(MAX_DELTAS, t.queue.size()));
    for (Wire.Delta d : t.queue) {
      batch.add(d);
      if (batch.size() == MAX_DELTAS) {
        break;
      }
    }
    t.sending = true;
    long gen = t.generation;
    long last = batch.get(batch.size() - 1).seq();
    vertx.eventBus().<Buffer>request(inbox(t.node),
        Buffers.buffer(Wire.deltas(me, incarnation, batch)), request).onComplete(ar -> {
          if (t.generation != gen || targets.get(t.node) != t) {
            return;
          }
          t.sending = false;
          if (ar.succeeded()) {
            while (!t.queue.isEmpty() && t.queue.peek().seq() <= last) {
              t.queue.poll();
            }
            t.confirmed = last;
            checkWaiters();
            sendDeltas(t);
          } else if (ar.cause() instanceof ReplyException
              && ((ReplyException) ar.cause()).failureCode() == Wire.RESET) {
            hello(t.node); // it lost this node's state: start over
          } else if (!closed && isMember(t.node)) {
            vertx.setTimer(RETRY_MS, x -> {
              if (t.generation == gen && targets.get(t.node) == t) {
                sendDeltas(t);
              }
            });
          }
        });
  }

  @Override
  public boolean barrier(Completion done) {
    long target;
    synchronized (this) {
      target = seq;
    }
    if (closed || control == null || confirmedBy(target)) {
      return false;
    }
    long deadline = System.nanoTime() + opts.getTimeoutMs() * 1_000_000;
    control.runOnContext(v -> {
      waiters.add(new Waiter(target, done, deadline));
      checkWaiters();
    });
    return true;
  }

  /**
   * Every node that takes this node's announcements applied {@code target}; a node whose HELLO
   * is in flight or unanswered ({@code !ready}) is not counted (docs/cluster.md, "Limits").
   */
  private boolean confirmedBy(long target) {
    for (Target t : targets.values()) {
      if (t.ready && t.confirmed < target) {
        return false;
      }
    }
    return true;
  }

  /**
   * Completes the barriers every node confirmed, and those past their deadline (the cluster
   * timeout: answered OK all the same, with a warning) (control).
   */
  private void checkWaiters() {
    if (waiters.isEmpty()) {
      return;
    }
    long now = System.nanoTime();
    List<Waiter> due = new ArrayList<>();
    waiters.removeIf(w -> {
      boolean late = now > w.deadline();
      if (confirmedBy(w.target()) || late || closed) {
        if (late && !confirmedBy(w.target())) {
          LOG.warn("cluster {}: a node did not confirm announcement {} within {} ms; answering "
              + "anyway", opts.getName(), w.target(), opts.getTimeoutMs());
        }
        due.add(w);
        return true;
      }
      return false;
    });
    for (Waiter w : due) {
      w.done().complete(Protocol.RESPONSE_OK);
    }
    if (!waiters.isEmpty() && waiterTimer < 0) {
      waiterTimer = vertx.setTimer(RETRY_MS, t -> {
        waiterTimer = -1;
        checkWaiters();
      });
    }
  }

  // ---------------------------------------------------------------- interest

  @Override
  public void subscribed(String pattern) {
    if (pattern.equals(Protocol.TOPIC_WARN)) {
      return; // each node's warnings are its own
    }
    synchronized (this) {
      if (patterns.merge(pattern, 1, Integer::sum) == 1) {
        emit(Wire.SUB, pattern, 0);
      }
    }
  }

  @Override
  public void unsubscribed(String pattern) {
    if (pattern.equals(Protocol.TOPIC_WARN)) {
      return;
    }
    synchronized (this) {
      Integer n = patterns.get(pattern);
      if (n == null) {
        return;
      }
      if (n == 1) {
        patterns.remove(pattern);
        emit(Wire.UNSUB, pattern, 0);
      } else {
        patterns.put(pattern, n - 1);
      }
    }
  }

  // ---------------------------------------------------------------- registration

  @Override
  public void register(Session s, boolean force, Completion claimed) {
    String name = s.name();
    Session holder = router.registry().get(name);
    boolean replaces = holder != null && force && !s.isSecondary()
        && holder.kind() != ClientKind.INTERNAL;
    if ((holder != null && !replaces) || me == null || closed) {
      claimed.complete(holder != null ? Protocol.ERR_BUSY : Protocol.ERR_OTHER);
      return;
    }
    if (claiming.putIfAbsent(name, s) != null) {
      claimed.complete(Protocol.ERR_BUSY);
      return;
    }
    if (s.isSecondary() && !primaryExists(s)) {
      claiming.remove(name, s);
      claimed.complete(Protocol.ERR_CLIENT_NOT_REGISTERED);
      return;
    }
    long token = tokens.incrementAndGet();
    String value = Names.value(me, token);
    names.claim(name, value).whenComplete((prev, err) ->
        onControlOrFail(() -> claimed(s, force, token, value, prev, err, claimed), s, claimed));
  }

  private void onControlOrFail(Runnable r, Session s, Completion c) {
    if (closed) {
      claiming.remove(s.name(), s);
      c.complete(Protocol.ERR_OTHER);
    } else {
      control.runOnContext(v -> r.run());
    }
  }

  /** Whether the primary of secondary {@code s} is registered here or on another node. */
  private boolean primaryExists(Session s) {
    Session p = router.registry().get(s.primaryName());
    return (p != null && !p.isSecondary()) || replica.containsKey(s.primaryName());
  }

  /** The map answered a claim (control context). */
  private void claimed(Session s, boolean force, long token, String value, String prev,
      Throwable err, Completion done) {
    String name = s.name();
    if (err != null) {
      claiming.remove(name, s);
      done.complete(refusal(name, err));
      return;
    }
    if (prev == null || Names.nodeOf(prev).equals(me)) {
      won(s, token, done);
      return;
    }
    String owner = Names.nodeOf(prev);
    if (!isMember(owner)) {
      // held by a node that is gone and not swept yet: take it over
      takeOver(s, token, value, prev, done);
    } else if (force && !s.isSecondary()) {
      // force-register: the holder on the other node is disconnected there first
      ByteBuf b = Unpooled.buffer();
      b.writeByte(Wire.EVICT);
      Wire.writeString(b, name);
      Wire.writeString(b, prev);
      vertx.eventBus().request(inbox(owner), Buffers.buffer(b), request)
          .onComplete(ar -> takeOver(s, token, value, prev, done));
    } else {
      claiming.remove(name, s);
      done.complete(Protocol.ERR_BUSY);
    }
  }

  private void takeOver(Session s, long token, String value, String prev, Completion done) {
    names.takeOver(s.name(), prev, value).whenComplete((cur, err) -> onControlOrFail(() -> {
      if (err != null) {
        claiming.remove(s.name(), s);
        done.complete(refusal(s.name(), err));
      } else if (cur == null || cur.equals(prev) || Names.nodeOf(cur).equals(me)) {
        won(s, token, done);
      } else {
        claiming.remove(s.name(), s);
        done.complete(Protocol.ERR_BUSY);
      }
    }, s, done));
  }

  /**
   * The name is {@code s}'s in the map (control context): announced, then answered once every
   * node knows it. A secondary whose primary is on another node is tracked here, so that the
   * primary's departure disconnects it.
   */
  private void won(Session s, long token, Completion done) {
    if (s.isSecondary()) {
      Session p = router.registry().get(s.primaryName());
      if (p == null || p.isSecondary()) {
        if (!replica.containsKey(s.primaryName())) {
          names.release(s.name(), Names.value(me, token));
          claiming.remove(s.name(), s);
          done.complete(Protocol.ERR_CLIENT_NOT_REGISTERED);
          return;
        }
        detached.add(s);
        children.computeIfAbsent(s.primaryName(), k -> ConcurrentHashMap.newKeySet()).add(s);
      }
    }
    tokenOf.put(s, token);
    synchronized (this) {
      localNames.put(s.name(), token);
      emit(Wire.REG, s.name(), token);
    }
    if (!barrier(done)) {
      done.complete(Protocol.RESPONSE_OK);
    }
  }

  private int refusal(String name, Throwable err) {
    if (cause(err, SplitBrainProtectionException.class)) {
      LOG.warn("cluster {}: registration of {} refused: this node's side of the cluster has "
          + "fewer than {} members (quorum)", opts.getName(), Session.display(name),
          opts.getQuorum());
    } else {
      LOG.warn("cluster {}: registration of {} failed: {}", opts.getName(),
          Session.display(name), rootMessage(err));
    }
    return Protocol.ERR_OTHER;
  }

  @Override
  public int registerClaimed(Session s, boolean force) {
    int code;
    try {
      code = router.registerHere(s, force, detached.contains(s));
    } finally {
      claiming.remove(s.name(), s);
    }
    if (code != Protocol.RESPONSE_OK) {
      giveUp(s);
    }
    return code;
  }

  @Override
  public void abandon(Session s) {
    claiming.remove(s.name(), s);
    giveUp(s);
  }

  @Override
  public int registerNow(Session s) {
    if (me == null || closed) {
      LOG.warn("cluster {}: {} cannot register before the broker joined its cluster",
          opts.getName(), Session.display(s.name()));
      return Protocol.ERR_OTHER;
    }
    String name = s.name();
    boolean remotePrimary = false;
    if (s.isSecondary()) {
      Session p = router.registry().get(s.primaryName());
      if (p == null || p.isSecondary()) {
        if (!replica.containsKey(s.primaryName())) {
          return Protocol.ERR_CLIENT_NOT_REGISTERED;
        }
        remotePrimary = true;
      }
    }
    if (replica.containsKey(name) || claiming.containsKey(name)) {
      return Protocol.ERR_BUSY;
    }
    long token = tokens.incrementAndGet();
    String value = Names.value(me, token);
    if (remotePrimary) {
      detached.add(s);
      children.computeIfAbsent(s.primaryName(), k -> ConcurrentHashMap.newKeySet()).add(s);
    }
    tokenOf.put(s, token);
    synchronized (this) {
      localNames.put(name, token);
      emit(Wire.REG, name, token);
    }
    int code = router.registerHere(s, false, remotePrimary);
    if (code != Protocol.RESPONSE_OK) {
      giveUp(s);
      return code;
    }
    names.claim(name, value).whenComplete((prev, err) -> onControl(() -> {
      if (err != null) {
        LOG.warn("cluster {}: could not claim the name of internal client {}: {}",
            opts.getName(), Session.display(name), rootMessage(err));
      } else if (prev != null && !Names.nodeOf(prev).equals(me)) {
        String owner = Names.nodeOf(prev);
        if (isMember(owner)) {
          lose(name, token, "node " + nodeLabel(owner) + " registered the name at the same "
              + "time");
        } else {
          names.takeOver(name, prev, value);
        }
      }
    }));
    return Protocol.RESPONSE_OK;
  }

  /**
   * Gives up the name of {@code s}, claimed and announced ({@link #won}) but not registered
   * here: released in the map (unless a newer registration took it), announced as gone.
   */
  private void giveUp(Session s) {
    unregistered(s);
  }

  private void forget(Session s) {
    if (detached.remove(s)) {
      Set<Session> c = children.get(s.primaryName());
      if (c != null) {
        c.remove(s);
        if (c.isEmpty()) {
          children.remove(s.primaryName(), c);
        }
      }
    }
  }

  @Override
  public void unregistered(Session s) {
    Long token = tokenOf.remove(s);
    forget(s);
    if (token == null || me == null) {
      return;
    }
    try {
      names.release(s.name(), Names.value(me, token));
    } catch (RuntimeException e) {
      LOG.debug("cluster: release of {}", Session.display(s.name()), e); // Hazelcast is down
    }
    synchronized (this) {
      localNames.remove(s.name(), token);
      emit(Wire.UNREG, s.name(), token);
    }
  }

  /** Disconnects this node's secondaries of {@code primary}, a name another node released. */
  private void orphan(String primary) {
    Set<Session> c = children.remove(primary);
    if (c != null) {
      for (Session s : c) {
        try {
          s.disconnect(CloseReason.PRIMARY_GONE);
          router.unregister(s);
        } catch (RuntimeException e) {
          LOG.warn("cluster: disconnecting secondary {}", Session.display(s.name()), e);
        }
      }
    }
  }

  /**
   * Announces to this node's clients ({@code .broker/info}, not crossing) that {@code name}, a
   * primary of a node that died, is gone: that node can no longer say it.
   */
  private void announceGone(String name) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("s", "unreg");
    m.put("d", name);
    Instant now = Instant.now();
    m.put("t", now.getEpochSecond() * 1_000_000_000L + now.getNano());
    byte[] payload = MsgPack.encode(m);
    ByteBuf frame = FrameEncoder.publication(router.alloc(), BROKER, TOPIC_INFO,
        Unpooled.wrappedBuffer(payload), false);
    router.deliverPublication(Protocol.TOPIC_INFO, null, frame, false,
        TOPIC_INFO.length + 1 + payload.length);
  }

  // ---------------------------------------------------------------- routing to other nodes

  @Override
  public int message(Session from, String target, ByteBuf src, int index, int len,
      boolean realtime, int statBytes, Completion done) {
    Holder h = Router.nodeLocal(target) ? null : replica.get(target);
    if (h == null || peers.get(h.peer().node) != h.peer()) {
      return Protocol.ERR_CLIENT_NOT_REGISTERED;
    }
    append(h.peer(), Wire.MSG, realtime, done, statBytes, target, null, Protocol.FRAME_MESSAGE,
        from.nameBytes(), src, index, len, -1, 0);
    return done == null ? Protocol.RESPONSE_OK : Router.PENDING;
  }

  @Override
  public void broadcast(Session from, String mask, ByteBuf src, int index, int len,
      boolean realtime, int statBytes) {
    for (Peer p : peers.values()) {
      append(p, Wire.BCAST, realtime, null, statBytes, mask, null, Protocol.FRAME_BROADCAST,
          from.nameBytes(), src, index, len, -1, 0);
    }
  }

  @Override
  public void publish(Session from, String topic, ByteBuf src, int index, int len,
      boolean realtime, int statBytes) {
    if (topic.equals(Protocol.TOPIC_WARN)) {
      return;
    }
    for (Session s : interest.match(topic)) {
      append((Peer) s, Wire.PUB, realtime, null, statBytes, topic, null, Protocol.FRAME_PUBLISH,
          from.nameBytes(), src, index, len, -1, 0);
    }
  }

  @Override
  public void publishFor(Session from, String topic, String receiver, ByteBuf src,
      int topicIndex, int topicLen, int payloadIndex, int payloadLen, boolean realtime,
      int statBytes) {
    if (topic.equals(Protocol.TOPIC_WARN)) {
      return;
    }
    for (Session s : interest.match(topic)) {
      append((Peer) s, Wire.PUBFOR, realtime, null, statBytes, topic, receiver,
          Protocol.FRAME_PUBLISH, from.nameBytes(), src, topicIndex, topicLen, payloadIndex,
          payloadLen);
    }
  }

  /**
   * Appends one entry to this thread's batch for {@code p}: the broker frame its receivers get,
   * {@code type, sender 00 part1 [00 part2]}.
   */
  private void append(Peer p, int kind, boolean realtime, Completion ack, int statBytes,
      String key, String receiver, int type, byte[] sender, ByteBuf src, int i1, int l1, int i2,
      int l2) {
    Link.Batch batch = outbound.batch(p.link);
    ByteBuf b = batch.buf;
    b.writeByte(kind);
    b.writeByte((realtime ? Wire.REALTIME : 0) | (ack != null ? Wire.ACKED : 0));
    b.writeInt(statBytes);
    Wire.writeString(b, key);
    if (kind == Wire.PUBFOR) {
      Wire.writeString(b, receiver);
    }
    int body = sender.length + 1 + l1 + (i2 >= 0 ? 1 + l2 : 0);
    b.writeInt(Protocol.BROKER_HEADER_SIZE + body);
    b.writeByte(type).writeIntLE(body).writeByte(realtime ? 1 : 0);
    b.writeBytes(sender).writeByte(0).writeBytes(src, i1, l1);
    if (i2 >= 0) {
      b.writeByte(0).writeBytes(src, i2, l2);
    }
    outbound.appended(p.link, batch, ack);
  }

  // ---------------------------------------------------------------- the inbox

  private void onMessage(Message<Buffer> m) {
    if (!live()) {
      m.fail(Wire.RESET, "node " + nodeName + " is out of the cluster");
      return;
    }
    ByteBuf b = Buffers.byteBuf(m.body());
    int kind = b.isReadable() ? b.readUnsignedByte() : 0;
    try {
      switch (kind) {
        case Wire.BATCH:
          m.reply(batch(b));
          break;
        case Wire.HELLO:
          if (onHello(Wire.readString(b), b.readLong(), Wire.Snapshot.read(b))) {
            m.reply(EMPTY);
          } else {
            m.fail(Wire.RESET, "not a member");
          }
          break;
        case Wire.DELTAS:
          onDeltas(m, b);
          break;
        case Wire.EVICT:
          evict(Wire.readString(b), Wire.readString(b));
          m.reply(EMPTY);
          break;
        case Wire.LIST:
          m.reply(listView.apply(Buffer.buffer(io.netty.buffer.ByteBufUtil.getBytes(b))));
          break;
        case Wire.STATS:
          m.reply(statsView.get());
          break;
        case Wire.BYE:
          bye(Wire.readString(b), b.readLong());
          m.reply(EMPTY);
          break;
        default:
          m.fail(0, "unknown message kind " + kind);
      }
    } catch (RuntimeException e) {
      LOG.warn("cluster {}: a message of kind {} failed: {}", opts.getName(), kind, e.toString());
      m.fail(0, e.toString());
    }
  }

  /** Routes a batch from another node to this node's clients; the reply holds the acks. */
  private Buffer batch(ByteBuf b) {
    stats.batchesIn.increment();
    stats.bytesIn.add(b.readableBytes() + 1);
    ByteBuf codes = null;
    int frames = 0;
    while (b.isReadable()) {
      int kind = b.readUnsignedByte();
      int flags = b.readUnsignedByte();
      int statBytes = b.readInt();
      String key = keys.read(b);
      String receiver = kind == Wire.PUBFOR ? Wire.readString(b) : null;
      int n = Wire.count(b);
      ByteBuf frame = router.alloc().buffer(n);
      frame.writeBytes(b, n);
      boolean realtime = (flags & Wire.REALTIME) != 0;
      frames++;
      switch (kind) {
        case Wire.MSG: {
          int code = router.deliverMessage(key, frame, realtime, statBytes);
          if ((flags & Wire.ACKED) != 0) {
            if (codes == null) {
              codes = Unpooled.buffer(16);
            }
            codes.writeByte(code);
          }
          break;
        }
        case Wire.BCAST:
          router.deliverBroadcast(key, frame, realtime, statBytes);
          break;
        case Wire.PUB:
        case Wire.PUBFOR:
          router.deliverPublication(key, receiver, frame, realtime, statBytes);
          break;
        default:
          frame.release();
          throw new IllegalArgumentException("unknown entry kind " + kind);
      }
    }
    stats.framesIn.add(frames);
    return codes == null ? EMPTY : Buffers.buffer(codes);
  }

  /** Another node's whole state: replaces what this node knew of it (control context). */
  private boolean onHello(String node, long inc, Wire.Snapshot s) {
    Peer p = peers.get(node);
    boolean restarted = false;
    if (p != null && p.incarnation != inc) {
      // its broker started again on the same Vert.x node (whose goodbye did not come): the old
      // broker's state goes, and the new one knows nothing of this node's
      LOG.info("cluster {}: the broker of node {} started again", opts.getName(),
          nodeLabel(node));
      dropPeer(p, true, true);
      p = null;
      restarted = true;
    }
    if (p == null && !isMember(node)) {
      return false; // a node this one saw leave: it must join again
    }
    if (p == null) {
      p = new Peer(node, inc, new Link(node, vertx, opts.getTimeoutMs(), opts.getWindowBytes(),
          opts.getQueueMaxBytes(), stats));
      peers.put(node, p);
      seen.add(node);
      if (restarted || !targets.containsKey(node)) {
        hello(node); // it learns this node's state too
      }
    }
    if (s.seq() < p.applied) {
      return true; // an older snapshot than what was applied
    }
    p.nodeName = s.nodeName();
    for (String name : new ArrayList<>(p.names)) {
      if (!s.names().containsKey(name)) {
        p.names.remove(name);
        Holder h = replica.get(name);
        if (h != null && h.peer() == p) {
          replica.remove(name, h);
          if (name.indexOf(Protocol.SECONDARY_SEP) < 0) {
            orphan(name);
          }
        }
      }
    }
    for (Map.Entry<String, Long> e : s.names().entrySet()) {
      hold(p, e.getKey(), e.getValue());
    }
    Set<String> now = new HashSet<>(s.patterns());
    for (String pat : new ArrayList<>(p.patterns)) {
      if (!now.contains(pat)) {
        p.patterns.remove(pat);
        interest.remove(pat, p);
      }
    }
    for (String pat : now) {
      if (p.patterns.add(pat)) {
        interest.add(pat, p);
      }
    }
    p.applied = s.seq();
    return true;
  }

  private void onDeltas(Message<Buffer> m, ByteBuf b) {
    String node = Wire.readString(b);
    long inc = b.readLong();
    Peer p = peers.get(node);
    if (p == null || p.incarnation != inc) {
      m.fail(Wire.RESET, "no state of this broker of node " + node + " here: hello first");
      return;
    }
    int n = Wire.count(b);
    for (int i = 0; i < n; i++) {
      Wire.Delta d = Wire.Delta.read(b);
      if (d.seq() <= p.applied) {
        continue;
      }
      if (d.seq() != p.applied + 1) {
        m.fail(Wire.RESET, "announcement " + d.seq() + " after " + p.applied);
        return;
      }
      apply(p, d);
      p.applied = d.seq();
    }
    m.reply(EMPTY);
  }

  private void apply(Peer p, Wire.Delta d) {
    String key = d.key();
    switch (d.op()) {
      case Wire.REG:
        hold(p, key, d.token());
        break;
      case Wire.UNREG: {
        Holder h = replica.get(key);
        if (h != null && h.peer() == p && h.token() == d.token() && replica.remove(key, h)) {
          p.names.remove(key);
          if (key.indexOf(Protocol.SECONDARY_SEP) < 0) {
            orphan(key);
          }
        }
        break;
      }
      case Wire.SUB:
        if (p.patterns.add(key)) {
          interest.add(key, p);
        }
        break;
      default:
        if (p.patterns.remove(key)) {
          interest.remove(key, p);
        }
    }
  }

  /**
   * {@code p} holds {@code name} with {@code token}. A primary held by another registration
   * was replaced (a force-register announces the new holder before the old one's departure,
   * whose token or node then no longer matches): the old primary's secondaries here go.
   */
  private void hold(Peer p, String name, long token) {
    p.names.add(name);
    Holder old = replica.put(name, new Holder(p, token));
    if (old != null && (old.peer() != p || old.token() != token)
        && name.indexOf(Protocol.SECONDARY_SEP) < 0) {
      orphan(name);
    }
  }

  /** Another node force-registers {@code name}: this node's holder {@code value} goes. */
  private void evict(String name, String value) {
    Session s = router.registry().get(name);
    Long token = s == null ? null : tokenOf.get(s);
    if (token != null && Names.value(me, token).equals(value)) {
      LOG.info("cluster {}: client {} replaced by a registration on another node (force "
          + "register)", opts.getName(), Session.display(name));
      s.disconnect(CloseReason.REPLACED);
      router.unregister(s);
    }
  }

  // ---------------------------------------------------------------- queries

  /** One other node's answer to a query: its name and reply, or why there is none. */
  public record Answer(String node, Buffer reply, Throwable failure) {}

  /**
   * Asks every other node (whose state this node has) for its {@code client.list} page with
   * {@code params} (MessagePack), within the cluster timeout.
   */
  public Future<List<Answer>> askList(Buffer params) {
    Buffer body = Buffer.buffer().appendByte((byte) Wire.LIST).appendBuffer(params);
    return askAll(body);
  }

  /** Asks every other node for its {@code stats}. */
  public Future<List<Answer>> askStats() {
    return askAll(Buffer.buffer().appendByte((byte) Wire.STATS));
  }

  private Future<List<Answer>> askAll(Buffer body) {
    List<Future<Answer>> all = new ArrayList<>();
    for (Peer p : peers.values()) {
      String name = p.nodeName != null ? p.nodeName : p.node;
      all.add(vertx.eventBus().<Buffer>request(inbox(p.node), body, request).transform(ar ->
          Future.succeededFuture(ar.succeeded() ? new Answer(name, ar.result().body(), null)
              : new Answer(name, null, ar.cause()))));
    }
    return Future.all(all).map(cf -> {
      List<Answer> out = new ArrayList<>();
      for (int i = 0; i < cf.size(); i++) {
        out.add(cf.resultAt(i));
      }
      return out;
    });
  }

  /**
   * This node's secondaries whose primary is on another node, counted per primary name (they
   * add to that primary's {@code instances} in {@code client.list}).
   */
  public Map<String, Integer> detachedSecondaries() {
    Map<String, Integer> out = new HashMap<>();
    for (Map.Entry<String, Set<Session>> e : children.entrySet()) {
      int n = 0;
      for (Session s : e.getValue()) {
        if (router.registry().isRegistered(s)) {
          n++;
        }
      }
      if (n > 0) {
        out.put(e.getKey(), n);
      }
    }
    return out;
  }

  /** This node's cluster counters and state, for {@code stats}. */
  public Map<String, Object> localStats() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("node", nodeName);
    m.put("peers", (long) peers.size());
    long[] backlog = {0, 0};
    for (Peer p : peers.values()) {
      long[] b = p.link.backlog();
      backlog[0] += b[0];
      backlog[1] += b[1];
    }
    m.putAll(stats.toMap());
    m.put("in_flight_bytes", backlog[0]);
    m.put("waiting_bytes", backlog[1]);
    return m;
  }

  // ---------------------------------------------------------------- helpers

  private static boolean cause(Throwable t, Class<? extends Throwable> c) {
    for (Throwable x = t; x != null; x = x.getCause() == x ? null : x.getCause()) {
      if (c.isInstance(x)) {
        return true;
      }
    }
    return false;
  }

  private static String rootMessage(Throwable e) {
    Throwable c = e;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    return c.getMessage() != null ? c.getMessage() : c.toString();
  }

  /** For tests: the replica's holder node of {@code name}, {@code null} when unknown here. */
  String holderOf(String name) {
    Holder h = replica.get(name);
    return h == null ? null : h.peer().node;
  }

  /** This node's Vert.x node id. */
  public String nodeId() {
    return me;
  }
}
