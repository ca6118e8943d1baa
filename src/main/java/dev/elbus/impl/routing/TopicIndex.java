package dev.elbus.impl.routing;

import dev.elbus.protocol.Masks;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Subscription index over MQTT-style patterns ({@link Masks}), shared by every event loop. It also
 * holds the clients' exclusions (BUS/RT): a match is the subscribers of a topic minus those with
 * a matching exclusion, cached as one result.
 *
 * <p>Two structures per kind (subscriptions, exclusions): patterns without a wildcard level sit in
 * a hash map by their exact text (a literal pattern matches only the identical topic), and
 * patterns with {@code +} or {@code #} in a trie of levels whose nodes have literal children, a
 * {@code +} child and a {@code #} child, as in nats-server's sublist. Hundreds of thousands of
 * plain subscriptions thus cost one map entry each, and the trie holds only wildcard patterns.
 *
 * <p>Every walk is a loop, never a recursion: insert and remove keep their path in an array,
 * a lookup carries the set of nodes matching the topic so far from one level to the next. Input
 * depth costs time and memory in proportion, never stack. A lookup visits at most the topic's
 * levels plus the trie levels of the wildcard patterns ({@link Masks#wildcardLevels}; in fact
 * only those from a pattern's first {@code +} on, since the rest lie on the topic's own literal
 * path); the listener limit {@code max_wildcard_levels} bounds that sum per client.
 *
 * <p>A lookup first consults a per-topic result cache (a concurrent map, so the hot path takes no
 * lock). A change of a literal pattern removes just that topic's entry; a change of a wildcard
 * pattern bumps the index version, which makes every older entry stale (recomputed on its next
 * lookup, no sweep). Results are computed and stored under the read lock and changes are made
 * under the write lock, so no entry computed before a change can be stored after it. The cache
 * is bounded: at most {@link #CACHE_MAX} entries and about {@link #CACHE_MAX_BYTES} bytes of
 * topics and results, and topics longer than {@link #CACHE_TOPIC_MAX} characters are not cached
 * (such a lookup costs no more than reading the topic). The lock is never held across a delivery.
 */
public final class TopicIndex {
  private static final Session[] NONE = new Session[0];
  /** Cached topics at most; past this the cache is halved and refills with what is hot. */
  static final int CACHE_MAX = 4096;
  /** Approximate bytes of cached topics and results at most (see {@link Cached#weight}). */
  static final long CACHE_MAX_BYTES = 8L << 20;
  /** Longer topics are matched without the cache. */
  static final int CACHE_TOPIC_MAX = 1024;

  /** A trie node (wildcard patterns only). */
  private static final class Node {
    HashMap<String, Node> children;
    Node plus;
    Node hash;
    /** Subscribers ending here, with the number of their patterns that normalise to this node. */
    HashMap<Session, Integer> subs;

    boolean isEmpty() {
      return (subs == null || subs.isEmpty()) && (children == null || children.isEmpty())
          && plus == null && hash == null;
    }
  }

  /** One kind of pattern (subscriptions or exclusions): literal map and wildcard trie. */
  private static final class Patterns {
    /**
     * Literal patterns: the value is the one {@link Session} subscribed (the common case, no
     * further object) or a {@code HashMap<Session, Integer>} of several with their counts.
     */
    HashMap<String, Object> literal = new HashMap<>();
    /** The largest size of {@link #literal} since it was last rebuilt. */
    int literalPeak;
    final Node trie = new Node();

    boolean isEmpty() {
      return literal.isEmpty() && trie.isEmpty();
    }

    void grew() {
      literalPeak = Math.max(literalPeak, literal.size());
    }

    /**
     * A hash map never shrinks its table: after a client with hundreds of thousands of
     * subscriptions leaves, the table it grew would stay. Rebuilt once a quarter of the peak is
     * left (amortised: the copy costs no more than the removals that led to it).
     */
    void shrank() {
      if (literalPeak > 4096 && literal.size() < literalPeak / 4) {
        literal = new HashMap<>(literal);
        literalPeak = literal.size();
      }
    }
  }

  private static final class Cached {
    final long version;
    final Session[] sessions;
    final long weight;

    Cached(long version, String topic, Session[] sessions) {
      this.version = version;
      this.sessions = sessions;
      // the entry, the map node, the key (UTF-16 at worst) and the result array
      this.weight = 96 + 2L * topic.length() + 4L * sessions.length;
    }
  }

  private final Patterns subscribed = new Patterns();
  /** Exclusions (BUS/RT, section 15): a matching exclusion removes its client from a match. */
  private final Patterns excluded = new Patterns();
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private final ConcurrentHashMap<String, Cached> cache = new ConcurrentHashMap<>();
  private final AtomicLong cacheBytes = new AtomicLong();
  private final AtomicBoolean evicting = new AtomicBoolean();
  private volatile long version;
  private final boolean useCache;

  public TopicIndex() {
    this(true);
  }

  /** @param useCache false disables the match cache (tests run every scenario both ways) */
  public TopicIndex(boolean useCache) {
    this.useCache = useCache;
  }

  /** Adds one pattern of {@code s}. The caller keeps patterns unique per session. */
  public void add(String pattern, Session s) {
    add(subscribed, pattern, s);
  }

  /** Removes one pattern of {@code s} previously {@link #add added}. */
  public void remove(String pattern, Session s) {
    remove(subscribed, pattern, s);
  }

  /** Adds an exclusion pattern of {@code s}: publications matching it skip {@code s}. */
  public void addExclusion(String pattern, Session s) {
    add(excluded, pattern, s);
  }

  /** Removes an exclusion pattern of {@code s} previously {@link #addExclusion added}. */
  public void removeExclusion(String pattern, Session s) {
    remove(excluded, pattern, s);
  }

  private void add(Patterns kind, String pattern, Session s) {
    boolean wildcard = Masks.isTopicWildcard(pattern);
    String[] levels = wildcard ? Masks.split(pattern, '/') : null;
    lock.writeLock().lock();
    try {
      if (!wildcard) {
        kind.literal.put(pattern, plus(kind.literal.get(pattern), s));
        kind.grew();
        invalidate(pattern);
        return;
      }
      Node n = kind.trie;
      for (String l : levels) {
        if (l.equals("#")) {
          if (n.hash == null) {
            n.hash = new Node();
          }
          n = n.hash;
          break;
        }
        if (l.equals("+")) {
          if (n.plus == null) {
            n.plus = new Node();
          }
          n = n.plus;
        } else {
          if (n.children == null) {
            n.children = new HashMap<>(4);
          }
          n = n.children.computeIfAbsent(l, k -> new Node());
        }
      }
      if (n.subs == null) {
        n.subs = new HashMap<>(4);
      }
      n.subs.merge(s, 1, Integer::sum);
      version++;
    } finally {
      lock.writeLock().unlock();
    }
  }

  private void remove(Patterns kind, String pattern, Session s) {
    boolean wildcard = Masks.isTopicWildcard(pattern);
    String[] levels = wildcard ? Masks.split(pattern, '/') : null;
    lock.writeLock().lock();
    try {
      if (!wildcard) {
        Object v = kind.literal.get(pattern);
        if (!contains(v, s)) {
          return;
        }
        Object left = minus(v, s);
        if (left == null) {
          kind.literal.remove(pattern);
          kind.shrank();
        } else {
          kind.literal.put(pattern, left);
        }
        invalidate(pattern);
        return;
      }
      // the path from the root, to prune nodes left empty from the bottom up
      Node[] path = new Node[levels.length + 1];
      path[0] = kind.trie;
      int depth = 0;
      Node n = kind.trie;
      for (String l : levels) {
        n = l.equals("#") ? n.hash : l.equals("+") ? n.plus
            : n.children == null ? null : n.children.get(l);
        if (n == null) {
          return;
        }
        path[++depth] = n;
        if (l.equals("#")) {
          break;
        }
      }
      if (!decrement(n, s)) {
        return;
      }
      for (int d = depth; d > 0 && path[d].isEmpty(); d--) {
        Node parent = path[d - 1];
        String l = levels[d - 1];
        if (l.equals("#")) {
          parent.hash = null;
        } else if (l.equals("+")) {
          parent.plus = null;
        } else {
          parent.children.remove(l);
          if (parent.children.isEmpty()) {
            parent.children = null;
          }
        }
      }
      version++;
    } finally {
      lock.writeLock().unlock();
    }
  }

  /**
   * Removes {@code s} from every pattern, whatever it subscribed or excluded: the fallback of an
   * unregistration whose pattern-by-pattern removal failed, so that no trace of a gone client
   * stays. Walks the whole index (a loop with an explicit stack).
   */
  public void purge(Session s) {
    lock.writeLock().lock();
    try {
      for (Patterns kind : new Patterns[] {subscribed, excluded}) {
        kind.literal.entrySet().removeIf(e -> {
          Object left = without(e.getValue(), s);
          e.setValue(left == null ? e.getValue() : left);
          return left == null;
        });
        kind.shrank();
        ArrayDeque<Node> stack = new ArrayDeque<>();
        stack.push(kind.trie);
        while (!stack.isEmpty()) {
          Node n = stack.pop();
          if (n.subs != null) {
            n.subs.remove(s);
          }
          pushChildren(n, stack);
        }
        prune(kind.trie);
      }
      version++;
      clearCache();
    } finally {
      lock.writeLock().unlock();
    }
  }

  /** Pushes every child of {@code n} (literal, {@code +}, {@code #}): one step of a walk. */
  private static void pushChildren(Node n, ArrayDeque<Node> stack) {
    if (n.children != null) {
      n.children.values().forEach(stack::push);
    }
    if (n.plus != null) {
      stack.push(n.plus);
    }
    if (n.hash != null) {
      stack.push(n.hash);
    }
  }

  /** Removes every empty node below {@code root} (post-order, with an explicit stack). */
  private static void prune(Node root) {
    ArrayDeque<Node> stack = new ArrayDeque<>();
    ArrayDeque<Node> order = new ArrayDeque<>();
    stack.push(root);
    while (!stack.isEmpty()) {
      Node n = stack.pop();
      order.push(n);
      pushChildren(n, stack);
    }
    // children come after their parent in the walk, so popping `order` visits them first
    while (!order.isEmpty()) {
      Node n = order.pop();
      if (n.children != null) {
        n.children.values().removeIf(Node::isEmpty);
        if (n.children.isEmpty()) {
          n.children = null;
        }
      }
      if (n.plus != null && n.plus.isEmpty()) {
        n.plus = null;
      }
      if (n.hash != null && n.hash.isEmpty()) {
        n.hash = null;
      }
    }
  }

  /** The literal-map value with one more pattern of {@code s}. */
  @SuppressWarnings("unchecked")
  private static Object plus(Object v, Session s) {
    if (v == null) {
      return s;
    }
    HashMap<Session, Integer> m;
    if (v instanceof Session) {
      m = new HashMap<>(4);
      m.put((Session) v, 1);
    } else {
      m = (HashMap<Session, Integer>) v;
    }
    m.merge(s, 1, Integer::sum);
    return m;
  }

  private static boolean contains(Object v, Session s) {
    return v == s || v instanceof HashMap && ((HashMap<?, ?>) v).containsKey(s);
  }

  /** The literal-map value with one pattern of {@code s} less: {@code v} itself when absent. */
  @SuppressWarnings("unchecked")
  private static Object minus(Object v, Session s) {
    if (v == null || v instanceof Session) {
      return v == s ? null : v;
    }
    HashMap<Session, Integer> m = (HashMap<Session, Integer>) v;
    Integer c = m.get(s);
    if (c == null) {
      return v;
    }
    if (c == 1) {
      m.remove(s);
    } else {
      m.put(s, c - 1);
    }
    return single(m);
  }

  /** The literal-map value without any pattern of {@code s}. */
  @SuppressWarnings("unchecked")
  private static Object without(Object v, Session s) {
    if (v == null || v instanceof Session) {
      return v == s ? null : v;
    }
    HashMap<Session, Integer> m = (HashMap<Session, Integer>) v;
    m.remove(s);
    return single(m);
  }

  /** One session with one pattern is kept as the session itself; none as {@code null}. */
  private static Object single(HashMap<Session, Integer> m) {
    if (m.isEmpty()) {
      return null;
    }
    if (m.size() == 1) {
      Map.Entry<Session, Integer> e = m.entrySet().iterator().next();
      if (e.getValue() == 1) {
        return e.getKey();
      }
    }
    return m;
  }

  private static boolean decrement(Node n, Session s) {
    Integer c = n.subs == null ? null : n.subs.get(s);
    if (c == null) {
      return false;
    }
    if (c == 1) {
      n.subs.remove(s);
      if (n.subs.isEmpty()) {
        n.subs = null;
      }
    } else {
      n.subs.put(s, c - 1);
    }
    return true;
  }

  /** Drops the cached result of one topic (a literal pattern changed). Under the write lock. */
  private void invalidate(String topic) {
    Cached c = cache.remove(topic);
    if (c != null) {
      cacheBytes.addAndGet(-c.weight);
    }
  }

  private void clearCache() {
    for (Iterator<Cached> it = cache.values().iterator(); it.hasNext(); ) {
      Cached c = it.next();
      it.remove();
      cacheBytes.addAndGet(-c.weight);
    }
  }

  /**
   * Subscribers whose patterns match {@code topic}, each once. The returned array is shared:
   * callers must not modify it.
   */
  public Session[] match(String topic) {
    boolean cacheable = useCache && topic.length() <= CACHE_TOPIC_MAX;
    if (cacheable) {
      Cached c = cache.get(topic);
      if (c != null && c.version == version) {
        return c.sessions;
      }
    }
    LoopWork.markHeavy(); // past the cache: the publisher's connection reads its clock
    lock.readLock().lock();
    try {
      Session[] result = compute(topic);
      if (cacheable) {
        store(topic, new Cached(version, topic, result));
      }
      return result;
    } finally {
      lock.readLock().unlock();
    }
  }

  /** Under the read lock. */
  private Session[] compute(String topic) {
    LinkedHashSet<Session> out = new LinkedHashSet<>();
    addAll(subscribed.literal.get(topic), out);
    String[] levels = null;
    if (!subscribed.trie.isEmpty()) {
      levels = Masks.split(topic, '/');
      collect(subscribed.trie, levels, out);
    }
    if (!out.isEmpty() && !excluded.isEmpty()) {
      LinkedHashSet<Session> ex = new LinkedHashSet<>();
      addAll(excluded.literal.get(topic), ex);
      if (!excluded.trie.isEmpty()) {
        collect(excluded.trie, levels != null ? levels : Masks.split(topic, '/'), ex);
      }
      out.removeAll(ex);
    }
    return out.isEmpty() ? NONE : out.toArray(NONE);
  }

  /** Stores an entry (under the read lock), halving the cache first when it is full. */
  private void store(String topic, Cached c) {
    if (cache.size() >= CACHE_MAX || cacheBytes.get() + c.weight > CACHE_MAX_BYTES) {
      evict();
    }
    Cached old = cache.put(topic, c);
    cacheBytes.addAndGet(c.weight - (old == null ? 0 : old.weight));
  }

  /** Drops entries until at most half the bounds are used; one thread at a time. */
  private void evict() {
    if (!evicting.compareAndSet(false, true)) {
      return;
    }
    try {
      Iterator<Cached> it = cache.values().iterator();
      while (it.hasNext()
          && (cache.size() > CACHE_MAX / 2 || cacheBytes.get() > CACHE_MAX_BYTES / 2)) {
        Cached c = it.next();
        it.remove();
        cacheBytes.addAndGet(-c.weight);
      }
    } finally {
      evicting.set(false);
    }
  }

  @SuppressWarnings("unchecked")
  private static void addAll(Object v, LinkedHashSet<Session> out) {
    if (v == null) {
      return;
    }
    if (v instanceof Session) {
      out.add((Session) v);
    } else {
      out.addAll(((HashMap<Session, Integer>) v).keySet());
    }
  }

  /**
   * The sessions of every trie node matching {@code levels}: the nodes matching the first
   * {@code i} levels are carried from one level to the next (each node is reached by exactly one
   * path, so none appears twice).
   */
  private static int collect(Node root, String[] levels, LinkedHashSet<Session> out) {
    ArrayList<Node> current = new ArrayList<>();
    ArrayList<Node> next = new ArrayList<>();
    current.add(root);
    int visits = 0;
    for (String level : levels) {
      visits += current.size();
      for (Node n : current) {
        if (n.hash != null && n.hash.subs != null) {
          out.addAll(n.hash.subs.keySet());
        }
        if (n.children != null) {
          Node c = n.children.get(level);
          if (c != null) {
            next.add(c);
          }
        }
        if (n.plus != null) {
          next.add(n.plus);
        }
      }
      if (next.isEmpty()) {
        return visits;
      }
      ArrayList<Node> t = current;
      current = next;
      next = t;
      next.clear();
    }
    visits += current.size();
    for (Node n : current) {
      if (n.subs != null) {
        out.addAll(n.subs.keySet());
      }
    }
    return visits;
  }

  /**
   * Trie nodes a lookup of {@code topic} visits in the subscription trie (tests: the work bound
   * of the class comment).
   */
  int visits(String topic) {
    lock.readLock().lock();
    try {
      return collect(subscribed.trie, Masks.split(topic, '/'), new LinkedHashSet<>());
    } finally {
      lock.readLock().unlock();
    }
  }

  /** Number of distinct (session, pattern end) subscriptions; for tests and stats. */
  public int size() {
    lock.readLock().lock();
    try {
      int c = 0;
      for (Object v : subscribed.literal.values()) {
        c += v instanceof Session ? 1 : ((Map<?, ?>) v).size();
      }
      ArrayDeque<Node> stack = new ArrayDeque<>();
      stack.push(subscribed.trie);
      while (!stack.isEmpty()) {
        Node n = stack.pop();
        c += n.subs == null ? 0 : n.subs.size();
        pushChildren(n, stack);
      }
      return c;
    } finally {
      lock.readLock().unlock();
    }
  }

  /** Cached topics now (tests). */
  int cacheSize() {
    return cache.size();
  }

  /** Approximate bytes the cache holds now (tests). */
  long cacheBytes() {
    return cacheBytes.get();
  }
}
