package dev.elbus.support;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * RELIABILITY.md item 10: every integration test class that starts a broker (or any Netty
 * channel) in-process runs under {@link LeakGate}. A source scan, so that a new test class
 * without the gate fails the build instead of silently escaping leak detection.
 */
class LeakGateCoverageTest {
  private static final Path TESTS = Path.of("src", "test", "java");
  /** What starts Netty channels in the test JVM. */
  private static final Pattern IN_PROCESS = Pattern.compile("TestBroker\\.|TestCluster\\.|Broker\\.create\\("
      + "|FakeBroker|NetworkClient\\.connect|FakeBus|Vertx\\.vertx\\(");
  private static final Pattern GATED = Pattern.compile("@ExtendWith\\(\\{?[^)]*LeakGate\\.class");

  @Test
  void everyIntegrationTestWithAnInProcessBrokerIsLeakGated() throws IOException {
    List<Path> its;
    try (Stream<Path> s = Files.walk(TESTS)) {
      its = s.filter(p -> p.getFileName().toString().endsWith("IT.java"))
          .collect(Collectors.toList());
    }
    assertThat(its).as("integration tests found under %s", TESTS).hasSizeGreaterThan(10);
    List<String> ungated = its.stream().filter(p -> {
      String src = read(p);
      return IN_PROCESS.matcher(src).find() && !GATED.matcher(src).find();
    }).map(Path::toString).sorted().collect(Collectors.toList());
    assertThat(ungated).as("integration tests starting Netty in-process without"
        + " @ExtendWith(LeakGate.class)").isEmpty();
  }

  private static String read(Path p) {
    try {
      return Files.readString(p);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
