package dev.elbus.cli;

import static dev.elbus.cli.CliRunner.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import dev.elbus.cli.CliRunner.Result;
import dev.elbus.support.LeakGate;
import dev.elbus.support.TestBroker;
import dev.elbus.support.Transport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.Arrays;
import java.util.List;

/**
 * {@code elbus benchmark} against a real broker: small runs complete every stage with a positive
 * rate and leave no client behind. Rates are never compared to anything.
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

  /** The header, then one line per stage in order: the name and a positive whole number. */
  private static void assertStages(Result r) {
    String[] lines = r.out().split("\n");
    assertThat(lines).hasSize(2 + STAGES.size());
    assertThat(lines[1].split("\\s+")).containsExactly("stage", "iters/s");
    for (int i = 0; i < STAGES.size(); i++) {
      String[] cols = lines[2 + i].trim().split("\\s+");
      assertThat(cols).as(lines[2 + i]).hasSize(2);
      assertThat(cols[0]).isEqualTo(STAGES.get(i));
      assertThat(Long.parseLong(cols[1])).as(lines[2 + i]).isPositive();
    }
    int width = lines[1].length();
    assertThat(Arrays.asList(lines).subList(1, lines.length))
        .allMatch(l -> l.length() == width);
  }
}
