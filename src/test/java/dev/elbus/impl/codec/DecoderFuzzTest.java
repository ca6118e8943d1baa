package dev.elbus.impl.codec;

import dev.elbus.support.LeakGate;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Seeded fuzzing of both stream decoders (RELIABILITY.md item 1, unit tier): valid streams of every
 * kind, then mutated ones (bit flips, inserted / deleted bytes, truncation, concatenation, any of
 * the 256 flag values, lengths {0, 1, real +- 1, max, max + 1, 2^31 - 1, 2^32 - 1}, names with
 * '.', '%%', invalid UTF-8, 65,535 bytes), each fed in random chunk splits, sometimes stopped by
 * the listener or from outside. For every stream:
 *
 * <ul>
 *   <li>nothing but {@link ProtocolException} is thrown;
 *   <li>the events equal those of an independent whole-array reference decoder ({@link
 *       RefDecoders}), and a protocol error is raised exactly when the reference finds one;
 *   <li>the prefix before the first mutation decodes to the generated frames;
 *   <li>every input chunk and every buffer the decoder allocated is released after stop().
 * </ul>
 *
 * Replay one stream: {@code -Delbus.fuzz.replay=SEED}; another base: {@code -Delbus.fuzz.seed=N}.
 */
@ExtendWith(LeakGate.class)
class DecoderFuzzTest {
  private static final int CLIENT_STREAMS = 20_000;
  private static final int BROKER_STREAMS = 5_000;
  private static final long BASE = Long.getLong("elbus.fuzz.seed", 20_251_126L);
  private static final Long REPLAY = Long.getLong("elbus.fuzz.replay");

  private static final int[] MAX_FRAME = {16, 100, 1000, 70_000, Integer.MAX_VALUE};
  private static final int[] MAX_NAME = {8, 300, 0xFFFF};
  private static final int[] CLIENT_OPS = {0x01, 0x02, 0x03, 0x12, 0x13, 0x04, 0x05, 0x06};

  /** A generated stream before mutation: bytes, the events it holds and where each ends. */
  private static final class Generated {
    byte[] bytes;
    final List<Ev> events = new ArrayList<>();
    final List<Integer> ends = new ArrayList<>();
    /** Offsets of 9- or 6-byte frame headers. */
    final List<Integer> headers = new ArrayList<>();
    final List<Integer> bodyLengths = new ArrayList<>();
    int nameLength;
  }

  /** Coverage counters of one run: the generator must not degenerate into trivial cases. */
  private static final long[] STATS = new long[5];
  private static final int MUTATED = 0;
  private static final int ERRORS = 1;
  private static final int EVENTS = 2;
  private static final int STOPPED = 3;
  private static final int BYTES = 4;

  private interface Case {
    void run(long seed);
  }

  private static void runAll(String what, int count, long salt, Case c) {
    List<Long> seeds = new ArrayList<>();
    if (REPLAY != null) {
      seeds.add(REPLAY);
    } else {
      for (int i = 0; i < count; i++) {
        seeds.add(BASE * 1_000_003L + salt + i);
      }
    }
    Arrays.fill(STATS, 0);
    for (long seed : seeds) {
      try {
        c.run(seed);
      } catch (Throwable t) {
        String msg = what + " fuzz case failed, seed " + seed + " (replay: -Delbus.fuzz.replay="
            + seed + ")";
        System.out.println(msg);
        throw new AssertionError(msg + ": " + t, t);
      }
    }
    System.out.printf("%s: %d streams, %d mutated, %d protocol errors, %d stopped early, "
        + "%d events, %d bytes%n", what, seeds.size(), STATS[MUTATED], STATS[ERRORS],
        STATS[STOPPED], STATS[EVENTS], STATS[BYTES]);
    if (REPLAY == null) {
      assertThat(STATS[MUTATED]).isBetween(count / 2L, count * 7L / 10);
      assertThat(STATS[ERRORS]).isBetween(count / 20L, count / 2L);
      assertThat(STATS[EVENTS]).isGreaterThan(count * 3L);
    }
  }

  // ------------------------------------------------------------------ generation

  private static byte[] body(Random r, int maxFrame) {
    int size;
    int k = r.nextInt(100);
    if (k < 15) {
      size = 0;
    } else if (k < 25) {
      size = 1;
    } else if (k < 85) {
      size = 2 + r.nextInt(63);
    } else if (k < 99) {
      size = 65 + r.nextInt(2000);
    } else {
      size = 70_000;
    }
    size = Math.min(size, maxFrame);
    byte[] b = new byte[size];
    byte[] alphabet = {0, '/', '+', '#', '.', '*', '?', 'a', 'b', '%'};
    for (int i = 0; i < size; i++) {
      b[i] = r.nextBoolean() ? alphabet[r.nextInt(alphabet.length)] : (byte) r.nextInt(256);
    }
    return b;
  }

  private static byte[] name(Random r, int maxName) {
    byte[] n;
    switch (r.nextInt(10)) {
      case 0:
        n = "g1.test.client1".getBytes(StandardCharsets.UTF_8);
        break;
      case 1:
        n = "a.b%%0".getBytes(StandardCharsets.UTF_8);
        break;
      case 2:
        n = new byte[] {(byte) 0xC3, 0x28, 'x'}; // invalid UTF-8
        break;
      case 3:
        n = new byte[] {(byte) 0xFF, (byte) 0xFE, (byte) 0xED, (byte) 0xA0, (byte) 0x80};
        break;
      case 4:
        n = ".broker".getBytes(StandardCharsets.UTF_8);
        break;
      case 5:
        n = new byte[0];
        break;
      case 6:
        n = new byte[] {'a', 0, 'b'};
        break;
      case 7:
        n = new byte[r.nextInt(50) == 0 ? 0xFFFF : r.nextInt(300)];
        r.nextBytes(n);
        break;
      default:
        n = "c1".getBytes(StandardCharsets.UTF_8);
    }
    return n.length > maxName ? Arrays.copyOf(n, maxName) : n;
  }

  private static Generated clientStream(Random r, int maxFrame, int maxName) {
    Generated g = new Generated();
    Wire w = new Wire();
    int greeting = r.nextInt(20) == 0 ? r.nextInt(256) : 0xEB;
    int version = r.nextInt(20) == 0 ? r.nextInt(65536) : 1;
    w.u8(greeting).u16(version);
    g.events.add(Ev.hello(greeting, version));
    g.ends.add(w.size());
    byte[] name = name(r, maxName);
    g.nameLength = name.length;
    w.u16(name.length).bytes(name);
    g.events.add(Ev.name(name));
    g.ends.add(w.size());
    int frames = r.nextInt(12);
    for (int i = 0; i < frames; i++) {
      int k = r.nextInt(10);
      int flags;
      if (k == 0) {
        flags = 0;
      } else if (k < 8) {
        flags = CLIENT_OPS[r.nextInt(CLIENT_OPS.length)] | r.nextInt(4) << 6;
      } else {
        flags = r.nextInt(256);
      }
      g.headers.add(w.size());
      if (flags == 0) {
        long junk = r.nextBoolean() ? 0 : r.nextInt() & 0xFFFFFFFFL;
        w.u32(r.nextBoolean() ? 0 : r.nextInt()).u8(0).u32(junk);
        g.bodyLengths.add(0);
        g.events.add(Ev.ping());
      } else {
        byte[] body = body(r, maxFrame);
        int opId = r.nextInt();
        w.clientFrame(opId, flags, body);
        g.bodyLengths.add(body.length);
        g.events.add(Ev.frame(opId, flags, body));
      }
      g.ends.add(w.size());
    }
    g.bytes = w.toArray();
    return g;
  }

  private static Generated brokerStream(Random r, int maxFrame) {
    Generated g = new Generated();
    Wire w = new Wire();
    w.u8(0xEB).u16(1);
    g.events.add(Ev.greeting(0xEB, 1));
    g.ends.add(w.size());
    for (int i = 0; i < 2; i++) {
      int code = r.nextInt(10) == 0 ? 0x70 + r.nextInt(10) : 1;
      w.u8(code);
      g.events.add(Ev.response(code));
      g.ends.add(w.size());
    }
    int frames = r.nextInt(12);
    int[] types = {0x01, 0x12, 0x13};
    for (int i = 0; i < frames; i++) {
      int k = r.nextInt(10);
      g.headers.add(w.size());
      if (k == 0) {
        w.u8(0, 0, 0, 0, 0, 0);
        g.bodyLengths.add(0);
        g.events.add(Ev.ping());
      } else if (k < 3) {
        int opId = r.nextInt();
        int code = r.nextInt(256);
        w.u8(0xFE).u32(opId & 0xFFFFFFFFL).u8(code);
        g.bodyLengths.add(0);
        g.events.add(Ev.ack(opId, code));
      } else {
        int type = k < 9 ? types[r.nextInt(3)] : 1 + r.nextInt(0xFD);
        boolean rt = r.nextBoolean();
        byte[] body = body(r, maxFrame);
        w.u8(type).u32(body.length).u8(rt ? 1 : 0).bytes(body);
        g.bodyLengths.add(body.length);
        g.events.add(Ev.brokerFrame(type, rt, body));
      }
      g.ends.add(w.size());
    }
    g.bytes = w.toArray();
    return g;
  }

  // ------------------------------------------------------------------ mutation

  private static void putU32(byte[] s, int at, long v) {
    for (int i = 0; i < 4; i++) {
      s[at + i] = (byte) (v >>> (8 * i));
    }
  }

  /**
   * Mutates {@code g.bytes} in place or by replacement; returns the mutated stream and sets
   * {@code firstChange[0]} to the offset before which nothing changed.
   */
  private static byte[] mutate(Random r, Generated g, boolean client, int maxFrame, int maxName,
      int[] firstChange, Generated other) {
    byte[] s = g.bytes.clone();
    int first = s.length;
    int lengthOffset = client ? 5 : 1;
    int flagsOffset = client ? 4 : 0;
    int mutations = 1 + r.nextInt(3);
    // header-aware mutations first, while header offsets are still valid
    for (int m = 0; m < mutations; m++) {
      int kind = r.nextInt(4);
      if (kind == 0 && !g.headers.isEmpty()) {
        int i = r.nextInt(g.headers.size());
        int h = g.headers.get(i);
        int real = g.bodyLengths.get(i);
        long[] lengths = {0, 1, real - 1L & 0xFFFFFFFFL, real + 1L, maxFrame, maxFrame + 1L,
            0x7FFFFFFFL, 0xFFFFFFFFL, 0x7FFFFFF7L};
        putU32(s, h + lengthOffset, lengths[r.nextInt(lengths.length)]);
        first = Math.min(first, h + lengthOffset);
      } else if (kind == 1 && !g.headers.isEmpty()) {
        int h = g.headers.get(r.nextInt(g.headers.size()));
        s[h + flagsOffset] = (byte) r.nextInt(256);
        first = Math.min(first, h + flagsOffset);
      } else if (kind == 2 && client) {
        int[] lens = {0, 1, g.nameLength - 1, g.nameLength + 1, maxName, maxName + 1, 0xFFFF};
        int v = lens[r.nextInt(lens.length)] & 0xFFFF;
        s[3] = (byte) v;
        s[4] = (byte) (v >>> 8);
        first = Math.min(first, 3);
      }
    }
    // then positional mutations
    for (int m = 0; m < mutations; m++) {
      int pos = s.length == 0 ? 0 : r.nextInt(s.length + 1);
      switch (r.nextInt(5)) {
        case 0:
          if (pos < s.length) {
            s[pos] ^= (byte) (1 << r.nextInt(8));
            first = Math.min(first, pos);
          }
          break;
        case 1: {
          byte[] ins = new byte[1 + r.nextInt(16)];
          r.nextBytes(ins);
          s = Wire.concat(Arrays.copyOf(s, pos), ins, Arrays.copyOfRange(s, pos, s.length));
          first = Math.min(first, pos);
          break;
        }
        case 2: {
          int n = Math.min(s.length - pos, 1 + r.nextInt(16));
          s = Wire.concat(Arrays.copyOf(s, pos), Arrays.copyOfRange(s, pos + n, s.length));
          first = Math.min(first, pos);
          break;
        }
        case 3:
          s = Arrays.copyOf(s, pos);
          first = Math.min(first, pos);
          break;
        default:
          // concatenation: another whole stream, or only its frames
          byte[] o = other.bytes;
          int from = r.nextBoolean() ? 0 : other.ends.get(client ? 1 : 2);
          first = Math.min(first, s.length);
          s = Wire.concat(s, Arrays.copyOfRange(o, from, o.length));
      }
    }
    firstChange[0] = first;
    return s;
  }

  // ------------------------------------------------------------------ client decoder

  @Test
  void clientDecoder() {
    runAll("client decoder", CLIENT_STREAMS, 0, DecoderFuzzTest::clientCase);
  }

  private static void clientCase(long seed) {
    Random r = new Random(seed);
    int maxFrame = MAX_FRAME[r.nextInt(MAX_FRAME.length)];
    int maxName = MAX_NAME[r.nextInt(MAX_NAME.length)];
    Generated g = clientStream(r, maxFrame, maxName);
    byte[] s = g.bytes;
    int[] first = {s.length};
    if (r.nextInt(10) < 6) {
      STATS[MUTATED]++;
      s = mutate(r, g, true, maxFrame, maxName, first,
          clientStream(new Random(seed ^ 0x5DEECE66DL), maxFrame, maxName));
    }
    RefDecoders.Result ref = RefDecoders.client(s, maxFrame, maxName);

    // the reference agrees with the generator on the untouched prefix
    List<Ev> intact = new ArrayList<>();
    for (int i = 0; i < g.events.size() && g.ends.get(i) <= first[0]; i++) {
      intact.add(g.events.get(i));
    }
    assertThat(ref.events.subList(0, Math.min(ref.events.size(), intact.size())))
        .as("valid prefix").isEqualTo(intact);
    if (s == g.bytes) {
      assertThat(ref.events).isEqualTo(g.events);
      assertThat(ref.error).isFalse();
    }

    int[] cuts = r.nextInt(4) == 0 && s.length < 400 ? Chunks.bytewise(s.length)
        : Chunks.random(s.length, r);
    Recorders.Client rec = new Recorders.Client();
    // expected outcome, with the listener or the connection stopping the decoder early
    List<Ev> expected = ref.events;
    boolean expectError = ref.error;
    int externalStopAt = -1;
    int mode = r.nextInt(10);
    if (mode == 0) {
      rec.stopAfter = 1 + r.nextInt(Math.max(1, ref.events.size() + 1));
      if (rec.stopAfter <= ref.events.size()) {
        expected = ref.events.subList(0, rec.stopAfter);
        expectError = false;
      }
    } else if (mode == 1 && cuts.length > 2) {
      externalStopAt = 1 + r.nextInt(cuts.length - 1);
      RefDecoders.Result part = RefDecoders.client(Arrays.copyOf(s, cuts[externalStopAt]),
          maxFrame, maxName);
      expected = part.events;
      expectError = part.error;
    }

    // one case in 32 allocate from the pool, watched by the PARANOID leak detector (slow)
    boolean pooled = r.nextInt(32) == 0;
    TrackingAllocator tracking = new TrackingAllocator(false);
    ByteBufAllocator alloc = pooled ? PooledByteBufAllocator.DEFAULT : tracking;
    Chunks chunks = new Chunks();
    ClientStreamDecoder d = new ClientStreamDecoder(alloc, rec, maxFrame, maxName);
    boolean threw = DecoderOracle.feedAll(d, rec.events, s, cuts, externalStopAt, chunks,
        tracking);
    assertThat(rec.events).isEqualTo(expected);
    assertThat(threw).as("protocol error raised").isEqualTo(expectError);
    STATS[ERRORS] += threw ? 1 : 0;
    STATS[STOPPED] += expected != ref.events ? 1 : 0;
    STATS[EVENTS] += rec.events.size();
    STATS[BYTES] += s.length;
  }

  // ------------------------------------------------------------------ broker decoder

  @Test
  void brokerDecoder() {
    runAll("broker decoder", BROKER_STREAMS, 77_777_777L, DecoderFuzzTest::brokerCase);
  }

  private static void brokerCase(long seed) {
    Random r = new Random(seed);
    int maxFrame = MAX_FRAME[r.nextInt(MAX_FRAME.length)];
    Generated g = brokerStream(r, maxFrame);
    byte[] s = g.bytes;
    int[] first = {s.length};
    if (r.nextInt(10) < 6) {
      STATS[MUTATED]++;
      s = mutate(r, g, false, maxFrame, 0, first,
          brokerStream(new Random(seed ^ 0x5DEECE66DL), maxFrame));
    }
    RefDecoders.Result ref = RefDecoders.broker(s, maxFrame);
    List<Ev> intact = new ArrayList<>();
    for (int i = 0; i < g.events.size() && g.ends.get(i) <= first[0]; i++) {
      intact.add(g.events.get(i));
    }
    assertThat(ref.events.subList(0, Math.min(ref.events.size(), intact.size())))
        .as("valid prefix").isEqualTo(intact);
    if (s == g.bytes) {
      assertThat(ref.events).isEqualTo(g.events);
    }

    int[] cuts = Chunks.random(s.length, r);
    Recorders.Broker rec = new Recorders.Broker();
    TrackingAllocator tracking = new TrackingAllocator(false);
    Chunks chunks = new Chunks();
    BrokerStreamDecoder d = new BrokerStreamDecoder(tracking, rec, maxFrame);
    boolean threw = false;
    for (int i = 1; i < cuts.length && !threw; i++) {
      try {
        d.feed(chunks.input(s, cuts[i - 1], cuts[i] - cuts[i - 1]));
      } catch (ProtocolException e) {
        threw = true; // the client closes the connection: nothing more is fed
      }
    }
    d.stop();
    chunks.assertAllReleased();
    tracking.assertAllReleased();
    assertThat(rec.events).isEqualTo(ref.events);
    assertThat(threw).as("protocol error raised").isEqualTo(ref.error);
    STATS[ERRORS] += threw ? 1 : 0;
    STATS[EVENTS] += rec.events.size();
    STATS[BYTES] += s.length;
  }
}
