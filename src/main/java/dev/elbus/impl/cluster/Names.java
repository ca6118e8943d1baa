package dev.elbus.impl.cluster;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.EntryProcessor;
import com.hazelcast.map.IMap;
import com.hazelcast.query.Predicate;

import java.io.Serializable;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;

/**
 * Who holds which name in the cluster: the Hazelcast map {@code elbus.names}, name to {@code
 * NODE/TOKEN} (the Vert.x node id of the holder's node and a number of that node's that tells
 * one registration of the name from the next). Every change is an entry processor, atomic on the
 * key's partition owner, so two nodes claiming a name at once get one winner; each call returns
 * at once (a {@link CompletionStage} completed on a Hazelcast thread).
 *
 * <p>The processors and predicates travel to the partition owners, which run them: they are
 * small {@link Serializable} classes of this jar, on every member's class path.
 */
final class Names {
  private final IMap<String, String> map;

  Names(HazelcastInstance hz) {
    this.map = hz.getMap(HazelcastSetup.NAMES_MAP);
  }

  /** The holder value of {@code token} on {@code node}. */
  static String value(String node, long token) {
    return node + "/" + token;
  }

  /** The node of a holder value. */
  static String nodeOf(String value) {
    int i = value.lastIndexOf('/');
    return i < 0 ? value : value.substring(0, i);
  }

  /**
   * Claims {@code name} for {@code value} if it is free or held by the same node (a newer
   * registration of this node replaces its older one).
   *
   * @return the value before: {@code null} or this node's (claimed), another node's (not)
   */
  CompletionStage<String> claim(String name, String value) {
    return map.submitToKey(name, new Claim(value));
  }

  /**
   * Takes {@code name} over for {@code value} if it is still held as {@code expected} (or free):
   * the holder is dead, or was disconnected by a force-register.
   *
   * @return the value before: {@code null} or {@code expected} when taken over
   */
  CompletionStage<String> takeOver(String name, String expected, String value) {
    return map.submitToKey(name, new TakeOver(expected, value));
  }

  /** Releases {@code name} if it is still held as {@code value}. */
  CompletionStage<String> release(String name, String value) {
    return map.submitToKey(name, new Release(value));
  }

  /** The holder value of {@code name}, {@code null} when free. */
  CompletionStage<String> get(String name) {
    return map.getAsync(name);
  }

  /** Removes every name held on a node not in {@code alive} (blocking: call off event loops). */
  void sweep(Set<String> alive) {
    map.removeAll(new HeldOutside(alive));
  }

  /** putIfAbsent, or replace a value of the same node. */
  static final class Claim implements EntryProcessor<String, String, String> {
    private static final long serialVersionUID = 1L;
    private final String value;

    Claim(String value) {
      this.value = value;
    }

    @Override
    public String process(Map.Entry<String, String> e) {
      String cur = e.getValue();
      if (cur == null || nodeOf(cur).equals(nodeOf(value))) {
        e.setValue(value);
      }
      return cur;
    }
  }

  /** Replace when the value is still the expected one (or gone). */
  static final class TakeOver implements EntryProcessor<String, String, String> {
    private static final long serialVersionUID = 1L;
    private final String expected;
    private final String value;

    TakeOver(String expected, String value) {
      this.expected = expected;
      this.value = value;
    }

    @Override
    public String process(Map.Entry<String, String> e) {
      String cur = e.getValue();
      if (cur == null || cur.equals(expected)) {
        e.setValue(value);
      }
      return cur;
    }
  }

  /** Remove when the value is still this registration's. */
  static final class Release implements EntryProcessor<String, String, String> {
    private static final long serialVersionUID = 1L;
    private final String value;

    Release(String value) {
      this.value = value;
    }

    @Override
    public String process(Map.Entry<String, String> e) {
      String cur = e.getValue();
      if (value.equals(cur)) {
        e.setValue(null);
      }
      return cur;
    }
  }

  /** Names whose holder's node is not one of a set of nodes. */
  static final class HeldOutside implements Predicate<String, String> {
    private static final long serialVersionUID = 1L;
    private final java.util.HashSet<String> nodes;

    HeldOutside(Set<String> nodes) {
      this.nodes = new java.util.HashSet<>(nodes);
    }

    @Override
    public boolean apply(Map.Entry<String, String> e) {
      String v = e.getValue();
      return v != null && !nodes.contains(nodeOf(v));
    }
  }
}
