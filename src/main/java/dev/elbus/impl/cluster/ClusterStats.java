package dev.elbus.impl.cluster;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/** Counters of one node's traffic with the other nodes ({@code stats}, key {@code cluster}). */
final class ClusterStats {
  final LongAdder batchesOut = new LongAdder();
  final LongAdder framesOut = new LongAdder();
  final LongAdder bytesOut = new LongAdder();
  final LongAdder batchesIn = new LongAdder();
  final LongAdder framesIn = new LongAdder();
  final LongAdder bytesIn = new LongAdder();
  /** Batches that got no answer (timeout, node gone). */
  final LongAdder failedBatches = new LongAdder();
  /** Frames refused because a node's queue was full. */
  final LongAdder refused = new LongAdder();
  /** Nodes sent the whole state again because their queue of announcements overflowed. */
  final LongAdder resyncs = new LongAdder();

  Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("batches_out", batchesOut.sum());
    m.put("frames_out", framesOut.sum());
    m.put("bytes_out", bytesOut.sum());
    m.put("batches_in", batchesIn.sum());
    m.put("frames_in", framesIn.sum());
    m.put("bytes_in", bytesIn.sum());
    m.put("failed_batches", failedBatches.sum());
    m.put("refused", refused.sum());
    m.put("resyncs", resyncs.sum());
    return m;
  }
}
