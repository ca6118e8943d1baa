package dev.elbus.it;

import dev.elbus.impl.routing.CloseReason;
import dev.elbus.support.BrokerMemory;
import dev.elbus.support.Figures;
import dev.elbus.support.LeakGate;
import dev.elbus.support.RawClient;
import dev.elbus.support.TestBroker;
import dev.elbus.support.Transport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import static dev.elbus.it.Wire.MESSAGE;
import static dev.elbus.it.Wire.uniq;
import static dev.elbus.support.RawClient.concat;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * RELIABILITY.md item 3: a declared length above {@code max_frame_size} (and 0xFFFFFFFF) closes
 * the connection at once, and 100 sockets doing it at once barely move the broker's buffer
 * memory. The third part, a frame of exactly {@code max_frame_size} delivered intact, is {@code
 * RoutingIT.frameOfExactlyMaxFrameSizeIsDeliveredIntact}; that the decoder reserves nothing for a
 * refused body is {@code
 * ClientStreamDecoderTest.declaredLengthAboveMaxFrameSizeThrowsBeforeTheBodyArrives}.
 *
 * <p>Also the connection limit of RELIABILITY.md item 12: {@code max_connections + 1} is refused
 * while the others keep working ({@link #maxConnectionsPlusOneIsRefusedWhileTheOthersKeepWorking}).
 *
 * <p>Figures are printed ({@code LIMITS ...} lines); the time bound asserted is 5x the plan's 100
 * ms, since this shared machine is noisy.
 */
@ExtendWith(LeakGate.class)
class LimitsIT {
  private static final int MAX = 1 << 20;
  private static final int SOCKETS = 100;
  private static final long MIB = 1024 * 1024;
  private static TestBroker tb;

  @BeforeAll
  static void start() throws Exception {
    tb = TestBroker.start(1, l -> Wire.QUIET.andThen(x -> x.setMaxFrameSize(MAX)).accept(l));
  }

  @AfterAll
  static void stop() throws Exception {
    tb.close();
  }

  private static byte[] header(int opId, int flags, long len) {
    return ByteBuffer.allocate(9).order(ByteOrder.LITTLE_ENDIAN).putInt(opId).put((byte) flags)
        .putInt((int) len).array();
  }

  static Stream<Arguments> oversized() {
    List<Arguments> out = new ArrayList<>();
    for (Transport t : Transport.values()) {
      out.add(Arguments.of(t, MAX + 1L));
      out.add(Arguments.of(t, 0xFFFFFFFFL));
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0} declared length {1}")
  @MethodSource("oversized")
  void declaredLengthAboveMaxFrameSizeClosesPromptly(Transport t, long len) throws Exception {
    String n = uniq("oversize");
    long before = tb.router().stats().closes(CloseReason.PROTOCOL_ERROR);
    try (RawClient c = tb.registered(t, n)) {
      long t0 = System.nanoTime();
      c.send(header(1, MESSAGE | 0x40, len));
      c.expectClosed(5_000);
      double ms = (System.nanoTime() - t0) / 1e6;
      Figures.print("LIMITS %s declared length %d (max_frame_size %d): closed after %.2f ms%n",
          t, len, MAX, ms);
      assertThat(ms).as("time to close").isLessThan(500);
    }
    Wire.awaitUnregistered(tb.broker(), n);
    Wire.await(() -> tb.router().stats().closes(CloseReason.PROTOCOL_ERROR) == before + 1, 5_000,
        "protocol error counted");
  }

  @Test
  void hundredSocketsClaimingHugeFramesAtOnceBarelyMoveBrokerMemory() throws Exception {
    long before = tb.router().stats().closes(CloseReason.PROTOCOL_ERROR);
    List<RawClient> cs = register("huge");
    byte[] body = new byte[256 * 1024];
    Peak peak = new Peak();
    try {
      // each socket sends its claim and 256 KiB of body, all 100 at once from 4 threads
      fire(cs, c -> {
        try {
          c.send(concat(header(1, MESSAGE, 0xFFFFFFFFL), body));
        } catch (IOException e) {
          // closed by the broker while the body was still going out
        }
        c.expectClosed(5_000);
      });
    } finally {
      peak.stop();
      closeAll(cs);
    }
    Wire.await(() -> tb.router().stats().closes(CloseReason.PROTOCOL_ERROR) == before + SOCKETS,
        5_000, "100 protocol errors counted");
    Figures.print("LIMITS %d sockets each claiming 0xFFFFFFFF bytes and sending 256 KiB: broker"
        + " buffer memory %s before, peak growth %s (samples %d)%n", SOCKETS,
        BrokerMemory.mib(peak.base), BrokerMemory.mib(peak.growth()), peak.samples.get());
    assertThat(peak.growth()).as("broker buffer memory growth").isLessThan(20 * MIB);
  }

  /**
   * Not a refusal: a claim of exactly max_frame_size is legitimate, so the broker must buffer what
   * arrives, but only what arrives (the cumulation grows with the input, never to the claim).
   */
  @Test
  void hundredSocketsClaimingMaxFrameSizeHoldOnlyWhatArrived() throws Exception {
    List<RawClient> cs = register("claim");
    byte[] part = new byte[64 * 1024];
    Peak peak = new Peak();
    try {
      fire(cs, c -> c.send(concat(header(1, MESSAGE, MAX), part)));
      // let the broker read all of it
      Thread.sleep(500);
    } finally {
      peak.stop();
      closeAll(cs);
    }
    Figures.print("LIMITS %d sockets each claiming %d bytes (max_frame_size) and sending 64 KiB"
        + " (%s in all): broker buffer memory peak growth %s%n", SOCKETS, MAX,
        BrokerMemory.mib(SOCKETS * (long) part.length), BrokerMemory.mib(peak.growth()));
    // 100 x 64 KiB must be held (the cumulation doubles as bytes arrive, and the allocator rounds
    // up); a decoder reserving the claim would need 100 MiB
    assertThat(peak.growth()).as("broker buffer memory growth")
        .isLessThan(4L * SOCKETS * part.length);
    for (int i = 0; i < SOCKETS; i++) {
      Wire.awaitUnregistered(tb.broker(), "claim-" + i);
    }
  }

  private interface SocketAction {
    void run(RawClient c) throws Exception;
  }

  private static List<RawClient> register(String prefix) throws IOException {
    List<RawClient> cs = new ArrayList<>();
    for (int i = 0; i < SOCKETS; i++) {
      cs.add(tb.registered(i % 2 == 0 ? Transport.TCP : Transport.UNIX, prefix + "-" + i));
    }
    return cs;
  }

  private static void fire(List<RawClient> cs, SocketAction action) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> fs = new ArrayList<>();
      for (RawClient c : cs) {
        fs.add(pool.submit(() -> {
          action.run(c);
          return null;
        }));
      }
      for (Future<?> f : fs) {
        f.get(30, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  private static void closeAll(List<RawClient> cs) throws IOException {
    for (RawClient c : cs) {
      c.close();
    }
  }

  /** Samples the broker's buffer memory every millisecond until stopped; keeps the peak. */
  private static final class Peak {
    final long base = BrokerMemory.allocatorUsed();
    final AtomicLong max = new AtomicLong(base);
    final AtomicLong samples = new AtomicLong();
    final AtomicBoolean running = new AtomicBoolean(true);
    final Thread thread = new Thread(() -> {
      while (running.get()) {
        max.accumulateAndGet(BrokerMemory.allocatorUsed(), Math::max);
        samples.incrementAndGet();
        try {
          Thread.sleep(1);
        } catch (InterruptedException e) {
          return;
        }
      }
    }, "memory-sampler");

    Peak() {
      thread.setDaemon(true);
      thread.start();
    }

    void stop() throws InterruptedException {
      running.set(false);
      thread.join(5_000);
      max.accumulateAndGet(BrokerMemory.allocatorUsed(), Math::max);
    }

    long growth() {
      return max.get() - base;
    }
  }

  @Test
  void maxConnectionsPlusOneIsRefusedWhileTheOthersKeepWorking() throws Exception {
    final int max = 100;
    try (TestBroker b = TestBroker.start(1, l -> Wire.QUIET.andThen(x -> x.setMaxConnections(max))
        .accept(l))) {
      List<RawClient> cs = new ArrayList<>();
      try {
        for (int i = 0; i < max; i++) {
          cs.add(b.registered(Transport.TCP, "mc-" + i));
        }
        // the 101st TCP connection is closed at once, before the greeting
        long t0 = System.nanoTime();
        try (RawClient extra = b.raw(Transport.TCP)) {
          assertThatThrownBy(() -> extra.read(1, 5_000)).hasMessageContaining("closed by broker"
              + " after 0 of 1 bytes");
        }
        double ms = (System.nanoTime() - t0) / 1e6;
        Wire.await(() -> b.router().stats().closes(CloseReason.MAX_CONNECTIONS) == 1, 5_000,
            "max_connections close counted");
        // the limit is per listener: the Unix socket listener still accepts
        try (RawClient u = b.registered(Transport.UNIX, "mc-unix")) {
          Wire.marker(u, "mc-unix", cs.get(0), "mc-0", 1);
        }
        // the 100 keep working: each sends an acked message to the next
        for (int i = 0; i < max; i++) {
          String to = "mc-" + (i + 1) % max;
          byte[] payload = RawClient.utf8("from mc-" + i);
          cs.get(i).frame(10 + i, MESSAGE, 1, to, payload);
          Wire.expectAck(cs.get(i), 10 + i, Wire.OK);
          Wire.expectFrame(cs.get((i + 1) % max), Wire.message("mc-" + i, payload, false));
        }
        // when one leaves, a new connection is accepted again
        cs.remove(0).close();
        Wire.awaitUnregistered(b.broker(), "mc-0");
        cs.add(b.registered(Transport.TCP, "mc-new"));
        Wire.marker(cs.get(cs.size() - 1), "mc-new", cs.get(0), "mc-1", 2);
        Figures.print("LIMITS max_connections %d: connection %d closed after %.2f ms without a"
            + " greeting; the %d others kept working%n", max, max + 1, ms, max);
      } finally {
        closeAll(cs);
      }
    }
  }
}
