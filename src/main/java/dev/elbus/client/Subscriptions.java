package dev.elbus.client;

import dev.elbus.protocol.Protocol;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The subscriptions and exclusions a {@link NetworkClient} has asked for, in the order it asked,
 * so that a reconnected client can ask again. Updated when the frame is written (whatever the
 * broker answers: a refused pattern is asked for again and refused again). On the client's event
 * loop only.
 */
final class Subscriptions {
  private final Set<String> topics = new LinkedHashSet<>();
  private final Set<String> excluded = new LinkedHashSet<>();

  /** Records a subscribe, unsubscribe, exclude or unexclude of {@code list}. */
  void apply(int op, List<String> list) {
    switch (op) {
      case Protocol.OP_SUBSCRIBE:
        topics.addAll(list);
        break;
      case Protocol.OP_UNSUBSCRIBE:
        list.forEach(topics::remove);
        break;
      case Protocol.OP_EXCLUDE:
        excluded.addAll(list);
        break;
      case Protocol.OP_UNEXCLUDE:
        list.forEach(excluded::remove);
        break;
      default:
        break;
    }
  }

  /** One frame of a restore: an operation and its topics. */
  record Batch(int op, byte[][] items) {}

  /**
   * The frames that restore everything: exclusions first (so that nothing excluded is delivered
   * between the two), then subscriptions, each frame's body at most {@code maxBody} bytes (or one
   * topic, if a topic alone is longer).
   */
  List<Batch> restore(int maxBody) {
    List<Batch> out = new ArrayList<>();
    split(Protocol.OP_EXCLUDE, excluded, maxBody, out);
    split(Protocol.OP_SUBSCRIBE, topics, maxBody, out);
    return out;
  }

  private static void split(int op, Set<String> set, int maxBody, List<Batch> out) {
    List<byte[]> cur = new ArrayList<>();
    int size = 0;
    for (String t : set) {
      byte[] b = t.getBytes(StandardCharsets.UTF_8);
      int add = b.length + (cur.isEmpty() ? 0 : 1);
      if (!cur.isEmpty() && size + add > maxBody) {
        out.add(new Batch(op, cur.toArray(new byte[0][])));
        cur.clear();
        size = 0;
        add = b.length;
      }
      cur.add(b);
      size += add;
    }
    if (!cur.isEmpty()) {
      out.add(new Batch(op, cur.toArray(new byte[0][])));
    }
  }
}
