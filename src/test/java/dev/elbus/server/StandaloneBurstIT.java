package dev.elbus.server;

import dev.elbus.support.Bursts;
import dev.elbus.support.Bursts.Kind;
import dev.elbus.support.Figures;
import dev.elbus.support.StreamReceiver;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The scenario of the report that found the burst defect, against the stand-alone broker
 * ({@code java -jar target/elbus.jar -B SOCKET -B 127.0.0.1:PORT -t 2}, two event loops, no leak
 * detector, so it runs at full speed): bursts of 10,000, 100,000 and 1,000,000 small frames
 * written with one call arrive whole and in order at a Java reader on its own thread (the broker
 * is another process, so the two run on different cores), and 10,000 at a Python reader, over TCP
 * and the Unix socket; the broker logs no slow-consumer drop.
 */
class StandaloneBurstIT {
  private static final AtomicInteger SEQ = new AtomicInteger();
  private static Path dir;
  private static Path sock;
  private static int port;
  private static ServerProcess srv;

  @BeforeAll
  static void start() throws Exception {
    dir = Files.createTempDirectory("elbus-burst");
    sock = dir.resolve("elbus.sock");
    port = ServerProcess.freePort();
    srv = ServerProcess.start(List.of("-XX:+ExitOnOutOfMemoryError"), "-B", sock.toString(),
        "-B", "127.0.0.1:" + port, "-w", "2", "-t", "2");
    assertThat(srv.awaitLine("elbus broker started", 30_000)).as(srv.output().toString())
        .isTrue();
  }

  @AfterAll
  static void stop() throws Exception {
    srv.terminate();
    srv.awaitExit(20_000);
    srv.close();
    Files.deleteIfExists(sock);
    Files.deleteIfExists(dir);
  }

  static Stream<Arguments> bursts() {
    List<Arguments> out = new ArrayList<>();
    for (boolean tcp : new boolean[] {true, false}) {
      for (Kind k : Kind.values()) {
        out.add(Arguments.of(tcp ? "tcp" : "unix", k, 10_000));
      }
      out.add(Arguments.of(tcp ? "tcp" : "unix", Kind.PUBLICATION, 100_000));
      out.add(Arguments.of(tcp ? "tcp" : "unix", Kind.DIRECT, 1_000_000));
      out.add(Arguments.of(tcp ? "tcp" : "unix", Kind.BROADCAST, 1_000_000));
    }
    return out.stream();
  }

  private static SocketAddress addr(String transport) {
    return transport.equals("tcp") ? new InetSocketAddress("127.0.0.1", port)
        : UnixDomainSocketAddress.of(sock);
  }

  @ParameterizedTest(name = "{0} {1} frames={2}")
  @MethodSource("bursts")
  void aBurstReachesAJavaReaderWhole(String transport, Kind k, int frames) throws Exception {
    String ns = "sb" + SEQ.incrementAndGet();
    String topic = ns + "/b";
    SocketChannel rxCh = StreamReceiver.connect(addr(transport), ns + ".rx");
    if (k == Kind.PUBLICATION) {
      Bursts.subscribe(rxCh, topic);
    }
    try (StreamReceiver rx = StreamReceiver.start(rxCh, k.type, k.prefix(ns + "-tx", topic),
        frames, 0);
         SocketChannel tx = StreamReceiver.connect(addr(transport), ns + "-tx")) {
      long t0 = System.nanoTime();
      Bursts.send(tx, k, k.target(ns, topic), frames, 24);
      Bursts.expectOk(tx, frames - 1);
      assertThat(rx.await(120, TimeUnit.SECONDS)).as("receiver done").isTrue();
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertThat(rx.error()).as("stream error").isNull();
      assertThat(rx.closedByBroker()).as("closed by the broker after %d frames", rx.received())
          .isFalse();
      assertThat(rx.received()).isEqualTo(frames);
      if (frames >= 100_000) {
        Figures.print("BURST stand-alone %s %s %d frames: whole in %d ms (%.2f M frames/s)%n",
            transport, k, frames, ms, frames / 1000.0 / Math.max(1, ms));
      }
    }
    assertThat(srv.output()).as("broker log %s", srv.output()).noneMatch(l -> l.contains("slow_consumer"));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("pythonPaths")
  void aBurstReachesAPythonReaderWhole(String transport, Kind k) throws Exception {
    String ns = "sp" + SEQ.incrementAndGet();
    try (SocketChannel tx = StreamReceiver.connect(addr(transport), ns + "-tx")) {
      String a = transport.equals("tcp") ? "127.0.0.1:" + port : sock.toString();
      assertThat(Bursts.pythonReader(a, tx, k, ns, 10_000, 24)).as("python reader")
          .isEqualTo("OK 10000");
    }
    assertThat(srv.output()).as("broker log %s", srv.output()).noneMatch(l -> l.contains("slow_consumer"));
  }

  static Stream<Arguments> pythonPaths() {
    List<Arguments> out = new ArrayList<>();
    for (String t : new String[] {"tcp", "unix"}) {
      for (Kind k : Kind.values()) {
        out.add(Arguments.of(t, k));
      }
    }
    return out.stream();
  }
}
