package dev.elbus.cli;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code broker client.list}'s table, of a single broker and of a cluster (docs/cluster.md). */
class ClientTableTest {
  private static Map<String, Object> entry(String name, String node) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", name);
    m.put("kind", "tcp");
    m.put("source", "127.0.0.1:5000");
    m.put("port", "127.0.0.1:7777");
    for (String k : new String[] {"r_frames", "r_bytes", "w_frames", "w_bytes", "queue"}) {
      m.put(k, 0L);
    }
    m.put("instances", 1L);
    if (node != null) {
      m.put("node", node);
    }
    return m;
  }

  @Test
  void aSingleBrokersTableHasNoNodeColumn() {
    String t = RpcCommands.clientTable(List.of(entry("a", null)));
    assertThat(t.lines().findFirst().orElseThrow()).endsWith("instances");
  }

  @Test
  void aClustersTableNamesEachEntrysNode() {
    List<String> lines = RpcCommands.clientTable(List.of(entry("a", "n1"),
        entry("bb", "node-two"))).lines().toList();
    assertThat(lines.get(0)).endsWith("instances  node");
    assertThat(lines.get(1)).endsWith("1  n1");
    assertThat(lines.get(2)).endsWith("1  node-two");
  }
}
