package dev.elbus.cli;

import static dev.elbus.cli.CliRunner.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import dev.elbus.cli.CliRunner.Result;
import dev.elbus.client.Frame;
import dev.elbus.client.FrameKind;
import dev.elbus.rpc.RpcClient;
import dev.elbus.rpc.RpcEvent;
import dev.elbus.support.LeakGate;
import dev.elbus.support.TestBroker;
import dev.elbus.support.Transport;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * {@code elbus benchmark} against a real broker: small runs complete every stage with a positive
 * rate and leave no client behind, the stages address the names the elbus CLI's address, and
 * {@code --json} gives one document. Rates are never compared to anything.
 */
@ExtendWith(LeakGate.class)
class CliBenchmarkIT {
  private static final List<String> STAGES = List.of("send.qos.no", "send.qos.processed",
      "send+recv.qos.no", "send+recv.qos.processed", "rpc.call", "rpc.call+handle",
      "rpc.call0");

  private static TestBroker broker;
  private static CliRunner cli;

  @BeforeAll
  static void start() throws Exception {
    broker = TestBroker.start();
    cli = new CliRunner(broker);
  }

  @AfterAll
  static void stop() throws Exception {
    try {
      cli.close();
    } finally {
      broker.close();
    }
  }

  @Test
  void smallBenchmarkRunsEveryStage() throws Exception {
    Result r = cli.on(Transport.UNIX, "-n", "bench.unix", "benchmark", "-i", "2000");
    assertThat(r.code()).as(r.err()).isZero();
    assertStages(r);
    assertThat(r.out()).startsWith("benchmark of " + cli.path(Transport.UNIX)
        + ": 1 worker, payload 100 bytes, 2000 iterations per stage, 200 warm-up\n");
    // every stage closed its clients
    eventually("the benchmark clients to leave", () -> broker.broker().clients().stream()
        .noneMatch(c -> c.name().startsWith("bench.")));
  }

  @Test
  void severalWorkersAndEmptyPayloadOverTcp() throws Exception {
    // 2001 iterations over 2 workers: one worker does one more; the rate counts all 2001
    Result r = cli.on(Transport.TCP, "-n", "bench.tcp", "benchmark", "-w", "2",
        "--payload-size", "0", "-i", "2001", "--warmup", "0");
    assertThat(r.code()).as(r.err()).isZero();
    assertStages(r);
    assertThat(r.out()).startsWith("benchmark of " + cli.path(Transport.TCP)
        + ": 2 workers, payload 0 bytes, 2001 iterations per stage, 0 warm-up\n");
    eventually("the benchmark clients to leave", () -> broker.broker().clients().stream()
        .noneMatch(c -> c.name().startsWith("bench.")));
  }

  @Test
  void pacedVariantRunsItsOwnStages() throws Exception {
    Result r = cli.on(Transport.UNIX, "-n", "bench.paced", "benchmark", "--paced", "-i", "3000",
        "--warmup", "0");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).startsWith("benchmark of " + cli.path(Transport.UNIX)
        + ": 1 worker, payload 100 bytes, 3000 iterations per stage, 0 warm-up, paced\n");
    assertStages(r, STAGES.stream().map(s -> "paced." + s).toList());
    eventually("the benchmark clients to leave", () -> broker.broker().clients().stream()
        .noneMatch(c -> c.name().startsWith("bench.")));
  }

  @Test
  void jsonResultHasTheRunAndEveryStage() throws Exception {
    Result r = cli.on(Transport.TCP, "-n", "bench.json", "benchmark", "--json", "-w", "2",
        "-i", "1_001", "--warmup", "10", "--payload-size", "7");
    assertThat(r.code()).as(r.err()).isZero();
    JsonObject doc = new JsonObject(r.out());
    assertThat(doc.fieldNames()).containsExactly("broker", "variant", "workers", "payload_size",
        "iters", "warmup", "stages");
    assertThat(doc.getString("broker")).isEqualTo(cli.path(Transport.TCP));
    assertThat(doc.getString("variant")).isEqualTo("elbus");
    assertThat(doc.getLong("workers")).isEqualTo(2);
    assertThat(doc.getLong("payload_size")).isEqualTo(7);
    assertThat(doc.getLong("iters")).isEqualTo(1001);
    assertThat(doc.getLong("warmup")).isEqualTo(10);
    JsonArray stages = doc.getJsonArray("stages");
    assertThat(stages.stream().map(s -> ((JsonObject) s).getString("stage")))
        .containsExactlyElementsOf(STAGES);
    for (Object o : stages) {
      JsonObject s = (JsonObject) o;
      assertThat(s.fieldNames()).containsExactly("stage", "iters", "seconds", "iters_per_s");
      assertThat(s.getLong("iters")).isEqualTo(1001);
      assertThat(s.getDouble("seconds")).isPositive();
      // the rate is the iterations over the seconds (rounded)
      assertThat((double) s.getLong("iters_per_s")).isCloseTo(1001 / s.getDouble("seconds"),
          org.assertj.core.data.Offset.offset(1.0));
    }
    Result paced = cli.on(Transport.UNIX, "-n", "bench.json.paced", "benchmark", "--paced",
        "--json", "-i", "500", "--warmup", "0");
    assertThat(paced.code()).as(paced.err()).isZero();
    JsonObject p = new JsonObject(paced.out());
    assertThat(p.getString("variant")).isEqualTo("paced");
    assertThat(p.getJsonArray("stages").stream().map(s -> ((JsonObject) s).getString("stage")))
        .containsExactlyElementsOf(STAGES.stream().map(s -> "paced." + s).toList());
  }

  /**
   * The stages address what the elbus CLI's address: with clients holding the {@code -null}
   * names, they receive the send stages' messages and the rpc.call0 stage's calls of
   * {@code test}; nothing else reaches them.
   */
  @Test
  void sendAndCall0StagesGoToTheWorkersNullName() throws Exception {
    Transport t = Transport.UNIX;
    BlockingQueue<Frame> sendNo = CliRunner.inbox(cli.connect(t, "bench.null.send.qos.no-1-null"));
    BlockingQueue<Frame> sendProcessed = CliRunner.inbox(
        cli.connect(t, "bench.null.send.qos.processed-1-null"));
    BlockingQueue<RpcEvent> calls = new LinkedBlockingQueue<>();
    new RpcClient(cli.vertx, cli.connect(t, "bench.null.rpc.call0-1-null")).handler("test",
        e -> {
          calls.add(e);
          return Future.succeededFuture();
        });
    try {
      Result r = cli.on(t, "-n", "bench.null", "benchmark", "-i", "300", "--warmup", "0",
          "--payload-size", "5");
      assertThat(r.code()).as(r.err()).isZero();
      eventually("300 messages each and 300 calls", () -> sendNo.size() == 300
          && sendProcessed.size() == 300 && calls.size() == 300);
    } finally {
      cli.closeClients();
    }
    for (BlockingQueue<Frame> q : List.of(sendNo, sendProcessed)) {
      assertThat(q).allSatisfy(f -> {
        assertThat(f.kind()).isEqualTo(FrameKind.MESSAGE);
        assertThat(f.sender()).isIn("bench.null.send.qos.no-1",
            "bench.null.send.qos.processed-1");
        assertThat(f.payload().getBytes()).containsOnly((byte) 0xEE).hasSize(5);
      });
    }
    assertThat(sendProcessed.peek().realtime()).isTrue();
    assertThat(calls).allSatisfy(e -> {
      assertThat(e.sender()).isEqualTo("bench.null.rpc.call0-1");
      assertThat(e.callId()).isZero();
      assertThat(e.params().getBytes()).containsOnly((byte) 0xEE).hasSize(5);
    });
  }

  /** The header, then one line per stage in order: the name and a positive whole number. */
  private static void assertStages(Result r) {
    assertStages(r, STAGES);
  }

  private static void assertStages(Result r, List<String> stages) {
    String[] lines = r.out().split("\n");
    assertThat(lines).hasSize(2 + stages.size());
    assertThat(lines[1].split("\\s+")).containsExactly("stage", "iters/s");
    for (int i = 0; i < stages.size(); i++) {
      String[] cols = lines[2 + i].trim().split("\\s+");
      assertThat(cols).as(lines[2 + i]).hasSize(2);
      assertThat(cols[0]).isEqualTo(stages.get(i));
      assertThat(Long.parseLong(cols[1])).as(lines[2 + i]).isPositive();
    }
    int width = lines[1].length();
    assertThat(Arrays.asList(lines).subList(1, lines.length))
        .allMatch(l -> l.length() == width);
  }
}
