package dev.elbus.impl.core;

import dev.elbus.impl.cluster.ClusterNode;
import dev.elbus.rpc.MsgPack;
import io.vertx.core.buffer.Buffer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code .broker}'s {@code client.list} and {@code stats} in a cluster (docs/cluster.md): this
 * node's answer merged with the other nodes' answers to the same request.
 */
final class ClusterViews {
  private ClusterViews() {}

  /**
   * Merges the pages of {@code client.list} of every node (this node's first, then the others'
   * answers): entries sorted by name, each with its {@code node}; a primary's {@code instances}
   * counts its secondaries on every node. A node that cut its page (more to come) cuts the
   * merged page at its last name, so that paging with {@code after} skips nothing; the merged
   * page keeps to {@code limit} and about {@link CoreSession#CLIENT_LIST_MAX_BYTES}.
   */
  static Map<String, Object> mergeList(String localNode, Map<String, Object> local,
      Map<String, Integer> localDetached, List<ClusterNode.Answer> answers, long limit) {
    List<Map<String, Object>> entries = new ArrayList<>();
    Map<String, Long> extra = new LinkedHashMap<>();
    String cut = null;
    boolean more = false;
    List<String> unanswered = new ArrayList<>();
    cut = addPage(entries, extra, localNode, local, cut);
    more |= Boolean.TRUE.equals(local.get("more"));
    localDetached.forEach((k, v) -> extra.merge(k, (long) v, Long::sum));
    for (ClusterNode.Answer a : answers) {
      if (a.reply() == null) {
        unanswered.add(a.node());
        continue;
      }
      Map<String, Object> page = MsgPack.decodeMap(a.reply());
      cut = addPage(entries, extra, a.node(), page, cut);
      more |= Boolean.TRUE.equals(page.get("more"));
    }
    entries.sort(Comparator.comparing(e -> (String) e.get("name")));
    List<Object> out = new ArrayList<>();
    long bytes = 0;
    for (Map<String, Object> e : entries) {
      String name = (String) e.get("name");
      if (cut != null && name.compareTo(cut) > 0) {
        more = true;
        break;
      }
      if (out.size() >= limit || bytes >= CoreSession.CLIENT_LIST_MAX_BYTES) {
        more = true;
        break;
      }
      Long n = extra.get(name);
      if (n != null && e.get("instances") instanceof Long) {
        e.put("instances", (Long) e.get("instances") + n);
      }
      out.add(e);
      bytes += CoreSession.entryBytes(e);
    }
    Map<String, Object> reply = new LinkedHashMap<>();
    reply.put("clients", out);
    if (more) {
      reply.put("more", true);
    }
    if (!unanswered.isEmpty()) {
      reply.put("unanswered", unanswered);
    }
    return reply;
  }

  /** Adds a node's page; returns the merged page's cut (the smallest last name of a cut page). */
  @SuppressWarnings("unchecked")
  private static String addPage(List<Map<String, Object>> entries, Map<String, Long> extra,
      String node, Map<String, Object> page, String cut) {
    Object cs = page.get("clients");
    String last = null;
    if (cs instanceof List) {
      for (Object o : (List<Object>) cs) {
        if (o instanceof Map) {
          Map<String, Object> e = new LinkedHashMap<>((Map<String, Object>) o);
          e.put("node", node);
          entries.add(e);
          last = (String) e.get("name");
        }
      }
    }
    Object sec = page.get("secondaries");
    if (sec instanceof Map) {
      for (Map.Entry<String, Object> e : ((Map<String, Object>) sec).entrySet()) {
        if (e.getValue() instanceof Long) {
          extra.merge(e.getKey(), (Long) e.getValue(), Long::sum);
        }
      }
    }
    if (Boolean.TRUE.equals(page.get("more")) && last != null
        && (cut == null || last.compareTo(cut) < 0)) {
      return last;
    }
    return cut;
  }

  /**
   * {@code stats} in a cluster: this node's counters as a single broker has them (elbus' shape),
   * {@code node}, and {@code cluster}: its name, every node's counters, and their sums.
   */
  static Map<String, Object> mergeStats(String clusterName, Map<String, Object> local,
      List<ClusterNode.Answer> answers) {
    List<Object> nodes = new ArrayList<>();
    nodes.add(local);
    List<String> unanswered = new ArrayList<>();
    for (ClusterNode.Answer a : answers) {
      if (a.reply() == null) {
        unanswered.add(a.node());
      } else {
        nodes.add(MsgPack.decodeMap(a.reply()));
      }
    }
    Map<String, Object> cluster = new LinkedHashMap<>();
    cluster.put("name", clusterName);
    for (String k : new String[] {"r_frames", "r_bytes", "w_frames", "w_bytes", "clients"}) {
      long sum = 0;
      for (Object n : nodes) {
        Object v = ((Map<?, ?>) n).get(k);
        sum += v instanceof Long ? (Long) v : 0;
      }
      cluster.put(k, sum);
    }
    cluster.put("nodes", nodes);
    if (!unanswered.isEmpty()) {
      cluster.put("unanswered", unanswered);
    }
    Map<String, Object> reply = new LinkedHashMap<>(local);
    reply.put("cluster", cluster);
    return reply;
  }

  /** Encodes a view for another node. */
  static Buffer encode(Map<String, Object> m) {
    return MsgPack.encodeBuffer(m);
  }
}
