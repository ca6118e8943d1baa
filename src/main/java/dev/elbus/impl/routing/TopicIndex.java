package dev.elbus.impl.routing;

import dev.elbus.protocol.Masks;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Subscription index over MQTT-style patterns ({@link Masks}), shared by every event loop. It also
 * holds the clients' exclusions (BUS/RT): a match is the subscribers of a topic minus those with
 * a matching exclusion, cached as one result.
 *
 * <p>A trie of levels: each node has literal children, a {@code +} child and a {@code #} child,
 * like nats-server's sublist. Writers take the write lock; a lookup first consults a per-topic
 * result cache (a concurrent map, so the hot path takes no lock) whose entries carry the index
 * version they were computed at; every mutation bumps the version, so stale entries are simply
 * recomputed. The lock is never held across a delivery.
 */
public final class TopicIndex {
  private static final Session[] NONE = new Session[0];
  /** Cached topics; past this the cache is dropped and refills with what is hot. */
  static final int CACHE_MAX = 4096;

  private static final class Node {
    final HashMap<String, Node> children = new HashMap<>(4);
    Node plus;
    Node hash;
    /** Subscribers ending here, with the number of their patterns that normalise to this node. */
    final HashMap<Session, Integer> subs = new HashMap<>(4);

    boolean isEmpty() {
      return subs.isEmpty() && children.isEmpty() && plus == null && hash == null;
    }
  }

  private static final class Cached {
    final long version;
    final Session[] sessions;

    Cached(long version, Session[] sessions) {
      this.version = version;
      this.sessions = sessions;
    }
  }

  private final Node root = new Node();
  /** Exclusions (BUS/RT, section 15): a matching exclusion removes its client from a match. */
  private final Node excluded = new Node();
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private final ConcurrentHashMap<String, Cached> cache = new ConcurrentHashMap<>();
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
    add(root, pattern, s);
  }

  /** Adds an exclusion pattern of {@code s}: publications matching it skip {@code s}. */
  public void addExclusion(String pattern, Session s) {
    add(excluded, pattern, s);
  }

  /** Removes an exclusion pattern of {@code s} previously {@link #addExclusion added}. */
  public void removeExclusion(String pattern, Session s) {
    remove(excluded, pattern, s);
  }

  private void add(Node top, String pattern, Session s) {
    String[] levels = Masks.split(pattern, '/');
    lock.writeLock().lock();
    try {
      Node n = top;
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
          n = n.children.computeIfAbsent(l, k -> new Node());
        }
      }
      n.subs.merge(s, 1, Integer::sum);
      bump();
    } finally {
      lock.writeLock().unlock();
    }
  }

  /** Removes one pattern of {@code s} previously {@link #add added}. */
  public void remove(String pattern, Session s) {
    remove(root, pattern, s);
  }

  private void remove(Node top, String pattern, Session s) {
    String[] levels = Masks.split(pattern, '/');
    lock.writeLock().lock();
    try {
      if (remove(top, levels, 0, s)) {
        bump();
      }
    } finally {
      lock.writeLock().unlock();
    }
  }

  private static boolean remove(Node n, String[] levels, int i, Session s) {
    if (i == levels.length) {
      return decrement(n, s);
    }
    String l = levels[i];
    if (l.equals("#")) {
      if (n.hash == null) {
        return false;
      }
      boolean r = decrement(n.hash, s);
      if (n.hash.isEmpty()) {
        n.hash = null;
      }
      return r;
    }
    Node c = l.equals("+") ? n.plus : n.children.get(l);
    if (c == null) {
      return false;
    }
    boolean r = remove(c, levels, i + 1, s);
    if (c.isEmpty()) {
      if (l.equals("+")) {
        n.plus = null;
      } else {
        n.children.remove(l);
      }
    }
    return r;
  }

  private static boolean decrement(Node n, Session s) {
    Integer c = n.subs.get(s);
    if (c == null) {
      return false;
    }
    if (c == 1) {
      n.subs.remove(s);
    } else {
      n.subs.put(s, c - 1);
    }
    return true;
  }

  private void bump() {
    version++;
    cache.clear();
  }

  /**
   * Subscribers whose patterns match {@code topic}, each once. The returned array is shared:
   * callers must not modify it.
   */
  public Session[] match(String topic) {
    if (useCache) {
      Cached c = cache.get(topic);
      if (c != null && c.version == version) {
        return c.sessions;
      }
    }
    Session[] result;
    long v;
    lock.readLock().lock();
    try {
      v = version;
      LinkedHashSet<Session> out = new LinkedHashSet<>();
      String[] levels = Masks.split(topic, '/');
      collect(root, levels, 0, out);
      if (!out.isEmpty() && !excluded.isEmpty()) {
        LinkedHashSet<Session> ex = new LinkedHashSet<>();
        collect(excluded, levels, 0, ex);
        out.removeAll(ex);
      }
      result = out.isEmpty() ? NONE : out.toArray(NONE);
    } finally {
      lock.readLock().unlock();
    }
    if (useCache) {
      if (cache.size() >= CACHE_MAX) {
        Iterator<String> it = cache.keySet().iterator();
        for (int i = 0; i < CACHE_MAX / 2 && it.hasNext(); i++) {
          it.next();
          it.remove();
        }
      }
      cache.put(topic, new Cached(v, result));
    }
    return result;
  }

  private static void collect(Node n, String[] levels, int i, LinkedHashSet<Session> out) {
    if (i == levels.length) {
      out.addAll(n.subs.keySet());
      return;
    }
    if (n.hash != null) {
      out.addAll(n.hash.subs.keySet());
    }
    Node c = n.children.get(levels[i]);
    if (c != null) {
      collect(c, levels, i + 1, out);
    }
    if (n.plus != null) {
      collect(n.plus, levels, i + 1, out);
    }
  }

  /** Number of distinct (session, node) subscriptions; for tests and stats. */
  public int size() {
    lock.readLock().lock();
    try {
      return count(root);
    } finally {
      lock.readLock().unlock();
    }
  }

  private static int count(Node n) {
    int c = n.subs.size();
    for (Map.Entry<String, Node> e : n.children.entrySet()) {
      c += count(e.getValue());
    }
    if (n.plus != null) {
      c += count(n.plus);
    }
    if (n.hash != null) {
      c += count(n.hash);
    }
    return c;
  }
}
