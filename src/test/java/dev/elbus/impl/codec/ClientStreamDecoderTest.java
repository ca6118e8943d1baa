package dev.elbus.impl.codec;

import dev.elbus.protocol.Protocol;
import dev.elbus.support.LeakGate;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The broker-side decoder of the client byte stream (PROTOCOL.md sections 1-2). */
@ExtendWith(LeakGate.class)
class ClientStreamDecoderTest {
  /** Op id whose wire bytes are 01 02 03 04. */
  private static final int OP_ID = 0x04030201;
  private static final byte[] NAME = "hello".getBytes(StandardCharsets.UTF_8);
  private static final byte[] HANDSHAKE = Wire.of(0xEB, 0x01, 0x00, 0x05, 0x00)
      .ascii("hello").toArray();

  private final TrackingAllocator alloc = new TrackingAllocator(true);
  private final Recorders.Client rec = new Recorders.Client();
  private final Chunks chunks = new Chunks();
  private ClientStreamDecoder decoder;

  private ClientStreamDecoder decoder(int maxFrameSize, int maxNameLength) {
    decoder = new ClientStreamDecoder(alloc, rec, maxFrameSize, maxNameLength);
    return decoder;
  }

  private ClientStreamDecoder decoder() {
    return decoder(Protocol.DEFAULT_MAX_FRAME_SIZE, Protocol.MAX_NAME_LENGTH);
  }

  private void feed(byte[] bytes) {
    decoder.feed(chunks.input(bytes, 0, bytes.length));
  }

  private void feedBytewise(byte[] bytes) {
    for (int i = 0; i < bytes.length; i++) {
      decoder.feed(chunks.input(bytes, i, 1));
    }
  }

  private static List<Ev> handshakeEvents() {
    List<Ev> l = new ArrayList<>();
    l.add(Ev.hello(0xEB, 1));
    l.add(Ev.name(NAME));
    return l;
  }

  private static List<Ev> handshakeAnd(Ev... evs) {
    List<Ev> l = handshakeEvents();
    l.addAll(List.of(evs));
    return l;
  }

  @AfterEach
  void everythingReleased() {
    if (decoder != null) {
      decoder.stop();
      assertThat(decoder.hasPartialInput()).isFalse();
    }
    chunks.assertAllReleased();
    alloc.assertAllReleased();
  }

  // ------------------------------------------------------------------ handshake

  @Test
  void handshakeGolden() {
    decoder();
    feed(HANDSHAKE);
    assertThat(rec.events).containsExactly(Ev.hello(0xEB, 1), Ev.name(NAME));
    assertThat(decoder.inFrames()).isTrue();
    assertThat(decoder.hasPartialInput()).isFalse();
  }

  @Test
  void handshakeIntegersAreLittleEndianAndNotValidatedByTheDecoder() {
    byte[] name = new byte[0x0102];
    for (int i = 0; i < name.length; i++) {
      name[i] = (byte) ('a' + i % 26);
    }
    decoder();
    // greeting 0x00, version 0x0102; name length 0x0102 = 258
    feed(Wire.of(0x00, 0x02, 0x01, 0x02, 0x01).bytes(name).toArray());
    assertThat(rec.events).containsExactly(Ev.hello(0x00, 0x0102), Ev.name(name));
  }

  @Test
  void handshakeArrivesInPieces() {
    decoder();
    feed(new byte[] {(byte) 0xEB});
    feed(new byte[] {0x01});
    assertThat(rec.events).isEmpty();
    assertThat(decoder.inFrames()).isFalse();
    feed(new byte[] {0x00, 0x05});
    assertThat(rec.events).containsExactly(Ev.hello(0xEB, 1));
    feed(new byte[] {0x00, 'h', 'e', 'l', 'l'});
    assertThat(rec.events).hasSize(1);
    assertThat(decoder.hasPartialInput()).isTrue();
    assertThat(decoder.inFrames()).isFalse();
    feed(new byte[] {'o'});
    assertThat(rec.events).isEqualTo(handshakeEvents());
    assertThat(decoder.inFrames()).isTrue();
    assertThat(decoder.hasPartialInput()).isFalse();
  }

  @Test
  void emptyNameIsReportedAsEmpty() {
    decoder();
    feed(Wire.of(0xEB, 0x01, 0x00, 0x00, 0x00).toArray());
    assertThat(rec.events).containsExactly(Ev.hello(0xEB, 1), Ev.name(new byte[0]));
    assertThat(decoder.inFrames()).isTrue();
  }

  @Test
  void nameLongerThanMaxNameLengthThrowsOnTheLengthField() {
    decoder(1024, 10);
    feed(Wire.of(0xEB, 0x01, 0x00).toArray());
    // the two length bytes alone trigger the error: nothing of the name has arrived
    assertThatThrownBy(() -> feed(Wire.of(0x0B, 0x00).toArray()))
        .isInstanceOf(ProtocolException.class);
    assertThat(rec.events).containsExactly(Ev.hello(0xEB, 1));
    feed("hello world".getBytes(StandardCharsets.UTF_8));
    assertThat(rec.events).hasSize(1);
  }

  @Test
  void nameOfExactlyMaxNameLengthIsAccepted() {
    decoder(1024, 10);
    byte[] name = "abcdefghij".getBytes(StandardCharsets.UTF_8);
    feed(new Wire().hello(name).toArray());
    assertThat(rec.events).containsExactly(Ev.hello(0xEB, 1), Ev.name(name));
  }

  @Test
  void nameOf65535BytesInChunks() {
    byte[] name = new byte[0xFFFF];
    new Random(7).nextBytes(name);
    byte[] s = new Wire().hello(name).toArray();
    decoder();
    for (int off = 0; off < s.length; off += 1000) {
      decoder.feed(chunks.input(s, off, Math.min(1000, s.length - off)));
    }
    assertThat(rec.events).containsExactly(Ev.hello(0xEB, 1), Ev.name(name));
  }

  // ------------------------------------------------------------------ frames

  static Stream<Arguments> opsAndQos() {
    int[] ops = {0x01, 0x02, 0x03, 0x12, 0x13};
    String[] bodies = {"topic/a\0payload", "a/b", "a/+\0b/#", "target\0\u0001\u0002", "g.*\0x"};
    List<Arguments> args = new ArrayList<>();
    for (int i = 0; i < ops.length; i++) {
      for (int qos = 0; qos < 4; qos++) {
        args.add(Arguments.of(ops[i], qos, bodies[i]));
      }
    }
    return args.stream();
  }

  @ParameterizedTest(name = "op 0x{0} qos {1}")
  @MethodSource("opsAndQos")
  void clientFrameGolden(int op, int qos, String body) {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    int flags = op | qos << 6;
    byte[] frame = Wire.of(0x01, 0x02, 0x03, 0x04, flags, b.length, 0x00, 0x00, 0x00)
        .bytes(b).toArray();
    decoder();
    feed(Wire.concat(HANDSHAKE, frame));
    assertThat(rec.events).isEqualTo(handshakeAnd(Ev.frame(OP_ID, flags, b)));
    Ev f = rec.events.get(2);
    assertThat(f.b & Protocol.OP_MASK).isEqualTo(op);
    assertThat(f.b >>> Protocol.QOS_SHIFT).isEqualTo(qos);
    assertThat(decoder.hasPartialInput()).isFalse();
  }

  @Test
  void subscribeWithSeveralTopicsIsDeliveredAsOneBody() {
    byte[] one = "sensors/#".getBytes(StandardCharsets.UTF_8);
    byte[] several = "a\0b/+\0\0#".getBytes(StandardCharsets.UTF_8);
    decoder();
    feed(Wire.concat(HANDSHAKE,
        new Wire().clientFrame(1, 0x42, one).clientFrame(2, 0x02, several).toArray()));
    assertThat(rec.events).isEqualTo(
        handshakeAnd(Ev.frame(1, 0x42, one), Ev.frame(2, 0x02, several)));
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x12345678})
  void opIdIsEchoedAsTheWireU32(int opId) {
    decoder();
    feed(Wire.concat(HANDSHAKE, new Wire().clientFrame(opId, 0x41, new byte[] {'t', 0}).toArray()));
    assertThat(rec.events.get(2).a).isEqualTo(opId);
  }

  @Test
  void bodyLengthIsLittleEndian() {
    byte[] body = new byte[0x0203];
    new Random(1).nextBytes(body);
    decoder();
    feed(Wire.concat(HANDSHAKE,
        Wire.of(9, 0, 0, 0, 0x01, 0x03, 0x02, 0x00, 0x00).bytes(body).toArray()));
    assertThat(rec.events).isEqualTo(handshakeAnd(Ev.frame(9, 0x01, body)));
  }

  @Test
  void emptyBody() {
    decoder();
    feed(Wire.concat(HANDSHAKE, Wire.of(5, 0, 0, 0, 0x02, 0, 0, 0, 0).toArray()));
    assertThat(rec.events).isEqualTo(handshakeAnd(Ev.frame(5, 0x02, new byte[0])));
  }

  @Test
  void unknownOperationsAreDeliveredForTheListenerToJudge() {
    decoder();
    byte[] body = {1, 2, 3};
    feed(Wire.concat(HANDSHAKE, new Wire().clientFrame(3, 0x3F, body).clientFrame(4, 0xFF, body)
        .toArray()));
    assertThat(rec.events).isEqualTo(
        handshakeAnd(Ev.frame(3, 0x3F, body), Ev.frame(4, 0xFF, body)));
  }

  // ------------------------------------------------------------------ pings

  static Stream<byte[]> pingHeaders() {
    return Stream.of(
        new byte[9],
        Wire.of(0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0xFF, 0xFF, 0xFF, 0xFF).toArray(),
        Wire.of(0x01, 0x02, 0x03, 0x04, 0x00, 0x05, 0x00, 0x00, 0x00).toArray(),
        Wire.of(0x00, 0x00, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00).toArray(),
        Wire.of(0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x80).toArray());
  }

  @ParameterizedTest
  @MethodSource("pingHeaders")
  void pingConsumesExactlyNineBytesWhateverTheOtherBytesHold(byte[] ping) {
    byte[] next = new Wire().clientFrame(77, 0x01, "t\0p".getBytes(StandardCharsets.UTF_8))
        .toArray();
    byte[] s = Wire.concat(HANDSHAKE, ping, ping, next);
    List<Ev> expected = handshakeAnd(Ev.ping(), Ev.ping(),
        Ev.frame(77, 0x01, "t\0p".getBytes(StandardCharsets.UTF_8)));

    decoder();
    feed(s);
    assertThat(rec.events).isEqualTo(expected);
    decoder.stop();

    rec.events.clear();
    decoder();
    feedBytewise(s);
    assertThat(rec.events).isEqualTo(expected);
    assertThat(decoder.hasPartialInput()).isFalse();
  }

  @ParameterizedTest
  @ValueSource(ints = {0x40, 0x80, 0xC0})
  void opZeroWithQosBitsIsNotAPingAndHasABody(int flags) {
    byte[] body = {'x', 0, 'y'};
    byte[] s = Wire.concat(HANDSHAKE, new Wire().clientFrame(3, flags, body).toArray(), new byte[9]);
    decoder();
    feed(s);
    assertThat(rec.events).isEqualTo(handshakeAnd(Ev.frame(3, flags, body), Ev.ping()));
  }

  @Test
  void opZeroWithQosBitsWaitsForItsBody() {
    decoder();
    feed(Wire.concat(HANDSHAKE, Wire.of(1, 0, 0, 0, 0x40, 4, 0, 0, 0).toArray()));
    assertThat(rec.events).isEqualTo(handshakeEvents());
    assertThat(decoder.hasPartialInput()).isTrue();
    feed(new byte[] {'a', 0, 'b', 'c'});
    assertThat(rec.events).isEqualTo(handshakeAnd(Ev.frame(1, 0x40, new byte[] {'a', 0, 'b', 'c'})));
  }

  // ------------------------------------------------------------------ frame size limit

  @ParameterizedTest
  @ValueSource(longs = {101, 102, 0x10000, 0x7FFFFFFFL, 0x80000000L, 0xFFFFFFFFL})
  void declaredLengthAboveMaxFrameSizeThrowsBeforeTheBodyArrives(long len) {
    decoder(100, 64);
    feed(HANDSHAKE);
    int allocationsBefore = alloc.allocations();
    byte[] header = new Wire().u32(1).u8(0xC1).u32(len).toArray();
    // the first 8 header bytes are not enough to judge
    feed(java.util.Arrays.copyOf(header, 8));
    assertThatThrownBy(() -> feed(new byte[] {header[8]})).isInstanceOf(ProtocolException.class);
    assertThat(alloc.largestRequest()).as("nothing reserved for the body").isLessThan(65537);
    assertThat(alloc.allocations() - allocationsBefore).isLessThanOrEqualTo(2);
    assertThat(decoder.hasPartialInput()).isFalse();
    alloc.assertAllReleased();
    // stopped: later bytes are ignored (and released)
    feed(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
    feed(new Wire().clientFrame(2, 0x01, new byte[] {'a', 0}).toArray());
    assertThat(rec.events).isEqualTo(handshakeEvents());
  }

  @Test
  void declaredLengthAboveMaxFrameSizeInOneChunkWithTheHandshake() {
    decoder(100, 64);
    byte[] s = Wire.concat(HANDSHAKE, new Wire().u32(1).u8(0x01).u32(0xFFFFFFFFL).toArray(),
        new byte[50]);
    assertThatThrownBy(() -> feed(s)).isInstanceOf(ProtocolException.class);
    assertThat(rec.events).isEqualTo(handshakeEvents());
  }

  @Test
  void frameOfExactlyMaxFrameSizeIsDeliveredIntact() {
    int max = 70_000;
    byte[] body = new byte[max];
    new Random(42).nextBytes(body);
    byte[] s = Wire.concat(HANDSHAKE, new Wire().clientFrame(9, 0x12, body).toArray(),
        new byte[9]);
    List<Ev> expected = handshakeAnd(Ev.frame(9, 0x12, body), Ev.ping());

    decoder(max, 64);
    feed(s);
    assertThat(rec.events).isEqualTo(expected);
    decoder.stop();

    rec.events.clear();
    decoder(max, 64);
    for (int off = 0; off < s.length; off += 999) {
      decoder.feed(chunks.input(s, off, Math.min(999, s.length - off)));
    }
    assertThat(rec.events).isEqualTo(expected);
    decoder.stop();

    // one more byte is too much
    rec.events.clear();
    decoder(max - 1, 64);
    assertThatThrownBy(() -> feed(s)).isInstanceOf(ProtocolException.class);
    assertThat(rec.events).isEqualTo(handshakeEvents());
  }

  @Test
  void maxFrameSizeOfOne() {
    decoder(1, 64);
    feed(Wire.concat(HANDSHAKE, new Wire().clientFrame(1, 0x02, new byte[] {'a'}).toArray()));
    assertThat(rec.events).isEqualTo(handshakeAnd(Ev.frame(1, 0x02, new byte[] {'a'})));
    assertThatThrownBy(() -> feed(new Wire().clientFrame(2, 0x02, new byte[] {'a', 'b'}).toArray()))
        .isInstanceOf(ProtocolException.class);
  }

  /**
   * With max_frame_size at the int limit, a length near 2^31 must simply wait for its body (the
   * header size added to the length must not overflow an int).
   */
  @ParameterizedTest
  @ValueSource(longs = {0x7FFFFFF6L, 0x7FFFFFF7L, 0x7FFFFFFEL, 0x7FFFFFFFL})
  void lengthNearTheIntLimitWithTheLargestMaxFrameSize(long len) {
    decoder(Integer.MAX_VALUE, 64);
    feed(Wire.concat(HANDSHAKE, new Wire().u32(1).u8(0x01).u32(len).toArray(), new byte[100]));
    assertThat(rec.events).isEqualTo(handshakeEvents());
    assertThat(decoder.hasPartialInput()).isTrue();
    assertThat(alloc.largestRequest()).isLessThanOrEqualTo(65536);
    feed(new byte[1000]);
    assertThat(rec.events).isEqualTo(handshakeEvents());
    assertThat(decoder.hasPartialInput()).isTrue();
  }

  @Test
  void lengthAboveTheIntLimitWithTheLargestMaxFrameSizeThrows() {
    decoder(Integer.MAX_VALUE, 64);
    assertThatThrownBy(() -> feed(
        Wire.concat(HANDSHAKE, new Wire().u32(1).u8(0x01).u32(0x80000000L).toArray())))
        .isInstanceOf(ProtocolException.class);
  }

  // ------------------------------------------------------------------ pausing

  /**
   * A listener pausing after random frames (the broker ends a connection's turn so), input fed
   * while paused, resumes at random points: the frames come out whole, once, in order, whatever
   * the chunking, and nothing is leaked.
   */
  @ParameterizedTest
  @ValueSource(ints = {1, 2, 3, 4, 5, 6, 7, 8, 42, 2026})
  void pausingAfterAnyFrameLosesAndReordersNothing(int seed) {
    Random r = new Random(seed);
    Wire w = new Wire();
    List<Ev> expected = handshakeEvents();
    for (int i = 0; i < 300; i++) {
      if (i % 37 == 5) {
        w.u32(0).u8(0).u32(0);
        expected.add(Ev.ping());
        continue;
      }
      byte[] body = new byte[i % 50 == 7 ? 70_000 + r.nextInt(70_000) : r.nextInt(40)];
      r.nextBytes(body);
      int flags = 0x01 + r.nextInt(3);
      w.clientFrame(i + 1, flags, body);
      expected.add(Ev.frame(i + 1, flags, body));
    }
    byte[] s = Wire.concat(HANDSHAKE, w.toArray());
    decoder();
    rec.onEvent = () -> {
      if (r.nextInt(3) == 0) {
        decoder.pause();
        assertThat(decoder.hasPartialInput()).isFalse();
      }
    };
    int[] cuts = Chunks.random(s.length, r);
    for (int i = 1; i < cuts.length; i++) {
      decoder.feed(chunks.input(s, cuts[i - 1], cuts[i] - cuts[i - 1]));
      while (decoder.isPaused() && r.nextBoolean()) {
        decoder.resume();
      }
    }
    while (decoder.isPaused()) {
      decoder.resume();
    }
    assertThat(rec.events).as(Chunks.describe(cuts)).isEqualTo(expected);
    assertThat(decoder.hasPartialInput()).isFalse();
  }

  @Test
  void stoppingWhilePausedReleasesWhatWasKept() {
    decoder();
    rec.onEvent = () -> {
      if (rec.events.size() == 3) {
        decoder.pause();
      }
    };
    byte[] frames = new Wire().clientFrame(1, 0x01, new byte[] {'a', 0})
        .clientFrame(2, 0x01, new byte[] {'b', 0}).u8(1, 2, 3).toArray();
    feed(Wire.concat(HANDSHAKE, frames));
    assertThat(rec.events).isEqualTo(handshakeAnd(Ev.frame(1, 0x01, new byte[] {'a', 0})));
    assertThat(decoder.isPaused()).isTrue();
    feed(new Wire().clientFrame(3, 0x01, new byte[] {'c', 0}).toArray());
    assertThat(rec.events).hasSize(3);
    chunks.assertAllReleased(); // what was kept is a copy
    decoder.stop();
    alloc.assertAllReleased();
    decoder.resume();
    assertThat(rec.events).hasSize(3);
  }

  // ------------------------------------------------------------------ stopping

  @Test
  void listenerReturningFalseStopsDecodingAndLaterFeedsAreIgnored() {
    rec.stopAfter = 3;
    decoder();
    byte[] frames = new Wire().clientFrame(1, 0x01, new byte[] {'a', 0})
        .clientFrame(2, 0x01, new byte[] {'b', 0}).u8(1, 2, 3).toArray();
    feed(Wire.concat(HANDSHAKE, frames));
    assertThat(rec.events).isEqualTo(handshakeAnd(Ev.frame(1, 0x01, new byte[] {'a', 0})));
    assertThat(decoder.hasPartialInput()).isFalse();
    alloc.assertAllReleased();
    chunks.assertAllReleased();
    feed(new Wire().clientFrame(3, 0x01, new byte[] {'c', 0}).toArray());
    assertThat(rec.events).hasSize(3);
    chunks.assertAllReleased();
  }

  @Test
  void listenerReturningFalseWhileACumulationIsHeldReleasesIt() {
    rec.stopAfter = 3;
    decoder();
    byte[] s = Wire.concat(HANDSHAKE, new Wire().clientFrame(1, 0x01, new byte[] {'a', 0})
        .clientFrame(2, 0x01, new byte[] {'b', 0}).u8(1, 2, 3).toArray());
    feed(java.util.Arrays.copyOf(s, HANDSHAKE.length + 4));
    assertThat(decoder.hasPartialInput()).isTrue();
    feed(java.util.Arrays.copyOfRange(s, HANDSHAKE.length + 4, s.length));
    assertThat(rec.events).hasSize(3);
    assertThat(decoder.hasPartialInput()).isFalse();
    alloc.assertAllReleased();
    chunks.assertAllReleased();
  }

  @Test
  void helloRefusedStopsBeforeTheName() {
    ClientStreamDecoder.Listener refuse = new ClientStreamDecoder.Listener() {
      @Override
      public boolean onHello(int greeting, int version) {
        rec.onHello(greeting, version);
        return false;
      }

      @Override
      public boolean onName(ByteBuf name) {
        return rec.onName(name);
      }

      @Override
      public boolean onPing() {
        return rec.onPing();
      }

      @Override
      public boolean onFrame(int opId, int flags, ByteBuf buf, int index, int len) {
        return rec.onFrame(opId, flags, buf, index, len);
      }
    };
    decoder = new ClientStreamDecoder(alloc, refuse, 1024, 64);
    feed(Wire.concat(Wire.of(0xEB, 0x02, 0x00).toArray(), Wire.of(0x01, 0x00, 'x').toArray()));
    assertThat(rec.events).containsExactly(Ev.hello(0xEB, 2));
    assertThat(decoder.inFrames()).isFalse();
  }

  @Test
  void stopFromInsideACallbackEndsDecodingAtTheEndOfTheFeed() {
    decoder();
    feed(HANDSHAKE);
    rec.onEvent = () -> {
      if (rec.events.size() == 3) {
        decoder.stop();
      }
    };
    // a frame, a second one, and part of a third, after a partial header from a previous feed
    byte[] s = new Wire().clientFrame(1, 0x01, new byte[] {'a', 0})
        .clientFrame(2, 0x01, new byte[] {'b', 0}).u8(1, 2, 3).toArray();
    feed(java.util.Arrays.copyOf(s, 4));
    feed(java.util.Arrays.copyOfRange(s, 4, s.length));
    assertThat(rec.events).isEqualTo(handshakeAnd(Ev.frame(1, 0x01, new byte[] {'a', 0})));
    assertThat(decoder.hasPartialInput()).isFalse();
    alloc.assertAllReleased();
    chunks.assertAllReleased();
    feed(new byte[9]);
    assertThat(rec.events).hasSize(3);
  }

  @Test
  void externalStopReleasesThePartialFrame() {
    decoder();
    feed(Wire.concat(HANDSHAKE, Wire.of(1, 0, 0, 0, 0x01, 0x00, 0x10, 0, 0).toArray(),
        new byte[1000]));
    assertThat(decoder.hasPartialInput()).isTrue();
    assertThat(alloc.live()).isPositive();
    decoder.stop();
    assertThat(decoder.hasPartialInput()).isFalse();
    alloc.assertAllReleased();
    decoder.stop(); // idempotent
    feed(new byte[5000]);
    assertThat(rec.events).isEqualTo(handshakeEvents());
  }

  @Test
  void listenerExceptionStopsTheDecoderAndReleasesEverything() {
    decoder();
    rec.onEvent = () -> {
      if (rec.events.size() == 3) {
        throw new ProtocolException("listener says no");
      }
    };
    byte[] s = Wire.concat(HANDSHAKE, new Wire().clientFrame(1, 0x01, new byte[] {'a', 0})
        .clientFrame(2, 0x01, new byte[] {'b', 0}).u8(1, 2, 3).toArray());
    feed(java.util.Arrays.copyOf(s, HANDSHAKE.length + 3));
    assertThat(decoder.hasPartialInput()).isTrue();
    assertThatThrownBy(() -> feed(java.util.Arrays.copyOfRange(s, HANDSHAKE.length + 3, s.length)))
        .hasMessage("listener says no");
    assertThat(decoder.hasPartialInput()).isFalse();
    alloc.assertAllReleased();
    chunks.assertAllReleased();
    feed(new byte[9]);
    assertThat(rec.events).hasSize(3);
  }

  // ------------------------------------------------------------------ split invariance

  /** A stream of every frame kind: the bytes and the events they must decode to. */
  static final class Sample {
    final byte[] bytes;
    final List<Ev> events;

    Sample(byte[] bytes, List<Ev> events) {
      this.bytes = bytes;
      this.events = events;
    }
  }

  static Sample sample(int frames, int maxBody, long seed) {
    Random r = new Random(seed);
    Wire w = new Wire().hello(NAME);
    List<Ev> ev = handshakeEvents();
    int[] ops = {0x01, 0x02, 0x03, 0x12, 0x13, 0x00};
    for (int i = 0; i < frames; i++) {
      int op = ops[r.nextInt(ops.length)];
      int qos = r.nextInt(4);
      if (op == 0x00 && (qos == 0 || r.nextBoolean())) {
        // a ping, with junk in the op id and length fields half of the time
        long junkLen = r.nextBoolean() ? 0 : r.nextInt() & 0xFFFFFFFFL;
        w.u32(r.nextBoolean() ? 0 : r.nextInt()).u8(0).u32(junkLen);
        ev.add(Ev.ping());
        continue;
      }
      if (op == 0x00) {
        qos = 1 + r.nextInt(3);
      }
      byte[] body = new byte[r.nextInt(5) == 0 ? 0 : r.nextInt(maxBody + 1)];
      r.nextBytes(body);
      int opId = r.nextInt();
      w.clientFrame(opId, op | qos << 6, body);
      ev.add(Ev.frame(opId, op | qos << 6, body));
    }
    return new Sample(w.toArray(), ev);
  }

  private List<Ev> decode(byte[] s, int[] cuts, TrackingAllocator a) {
    Recorders.Client r = new Recorders.Client();
    ClientStreamDecoder d = new ClientStreamDecoder(a, r, 1 << 20, 0xFFFF);
    for (int i = 1; i < cuts.length; i++) {
      d.feed(chunks.input(s, cuts[i - 1], cuts[i] - cuts[i - 1]));
    }
    assertThat(d.hasPartialInput()).isFalse();
    d.stop();
    return r.events;
  }

  @Test
  void everySplitOffsetInTwoChunks() {
    Sample smp = sample(60, 40, 1);
    TrackingAllocator fast = new TrackingAllocator(false);
    for (int k = 0; k <= smp.bytes.length; k++) {
      List<Ev> got = decode(smp.bytes, Chunks.twoChunks(smp.bytes.length, k), fast);
      assertThat(got).as("split at %d", k).isEqualTo(smp.events);
      fast.assertAllReleased();
    }
    chunks.assertAllReleased();
  }

  @Test
  void everySplitOffsetOfLargeFrames() {
    Sample smp = sample(6, 30_000, 2);
    TrackingAllocator fast = new TrackingAllocator(false);
    for (int k = 0; k <= smp.bytes.length; k += 1 + k % 97) {
      List<Ev> got = decode(smp.bytes, Chunks.twoChunks(smp.bytes.length, k), fast);
      assertThat(got).as("split at %d", k).isEqualTo(smp.events);
    }
    fast.assertAllReleased();
    chunks.assertAllReleased();
  }

  /**
   * Streaming in fixed 4 KiB reads, nearly every read ends inside a frame: the decoder copies
   * just that frame (its head from one read, the bytes it lacks from the next), never the whole
   * next read.
   */
  @Test
  void streamingCopiesOnlyTheFramesCutByAChunk() {
    Wire w = new Wire().hello(NAME);
    List<Ev> expected = handshakeEvents();
    byte[] body = new byte[100];
    int frames = 2000;
    for (int i = 0; i < frames; i++) {
      body[0] = (byte) i;
      w.clientFrame(i, 0x12, body);
      expected.add(Ev.frame(i, 0x12, body.clone()));
    }
    byte[] stream = w.toArray();
    int chunk = 4096;
    int n = (stream.length + chunk - 1) / chunk;
    int[] cuts = new int[n + 1];
    for (int i = 0; i <= n; i++) {
      cuts[i] = Math.min(stream.length, i * chunk);
    }
    TrackingAllocator fast = new TrackingAllocator(false);
    assertThat(decode(stream, cuts, fast)).isEqualTo(expected);
    fast.assertAllReleased();
    // per cut frame one buffer of one frame (109 bytes), two when the cut falls in its header (9
    // bytes for the header first); copying whole reads would take 4 KiB per read
    assertThat(fast.allocations()).as("cumulation buffers").isLessThanOrEqualTo(2 * n);
    assertThat(fast.requestedBytes()).as("bytes reserved for partial frames")
        .isLessThanOrEqualTo((long) n * (109 + 9));
    chunks.assertAllReleased();
  }

  @Test
  void oneByteAtATime() {
    Sample smp = sample(200, 200, 3);
    TrackingAllocator fast = new TrackingAllocator(false);
    assertThat(decode(smp.bytes, Chunks.bytewise(smp.bytes.length), fast)).isEqualTo(smp.events);
    fast.assertAllReleased();
    Sample big = sample(4, 80_000, 4);
    assertThat(decode(big.bytes, Chunks.bytewise(big.bytes.length), fast)).isEqualTo(big.events);
    fast.assertAllReleased();
    chunks.assertAllReleased();
  }

  @Test
  void randomChunkings() {
    long base = 0xC0FFEEL;
    TrackingAllocator fast = new TrackingAllocator(false);
    for (int i = 0; i < 500; i++) {
      long seed = base + i;
      Random r = new Random(seed);
      Sample smp = sample(1 + r.nextInt(60), r.nextInt(10) == 0 ? 20_000 : 300, seed);
      int[] cuts = Chunks.random(smp.bytes.length, r);
      List<Ev> got = decode(smp.bytes, cuts, fast);
      assertThat(got).as("seed %d, cuts %s", seed, Chunks.describe(cuts)).isEqualTo(smp.events);
      assertThat(fast.live()).as("seed %d: buffers not released", seed).isZero();
    }
    chunks.assertAllReleased();
  }

  @Test
  void randomChunkingsWithThePooledAllocatorAndPooledInputs() {
    // pooled buffers are recycled after release, so inputs are all allocated before decoding
    // starts and checked before anything else is allocated from the pool; Netty's PARANOID leak
    // detector (LeakGate) watches the decoder's own pooled allocations
    PooledByteBufAllocator pool = PooledByteBufAllocator.DEFAULT;
    for (int i = 0; i < 40; i++) {
      long seed = 0xBEEFL + i;
      Random r = new Random(seed);
      Sample smp = sample(1 + r.nextInt(30), 2000, seed);
      int[] cuts = Chunks.random(smp.bytes.length, r);
      List<ByteBuf> in = new ArrayList<>();
      for (int c = 1; c < cuts.length; c++) {
        ByteBuf b = (c % 2 == 0 ? pool.directBuffer(16) : pool.heapBuffer(16));
        b.writeBytes(smp.bytes, cuts[c - 1], cuts[c] - cuts[c - 1]);
        in.add(b);
      }
      Recorders.Client r2 = new Recorders.Client();
      TrackingAllocator unpooled = new TrackingAllocator(false);
      ClientStreamDecoder d = new ClientStreamDecoder(unpooled, r2, 1 << 20, 0xFFFF);
      for (ByteBuf b : in) {
        d.feed(b);
      }
      d.stop();
      for (int c = 0; c < in.size(); c++) {
        assertThat(in.get(c).refCnt()).as("seed %d chunk %d", seed, c).isZero();
      }
      assertThat(r2.events).as("seed %d", seed).isEqualTo(smp.events);
      unpooled.assertAllReleased();
      // and the decoder allocating from the pool, inputs unpooled
      Recorders.Client r3 = new Recorders.Client();
      ClientStreamDecoder d3 = new ClientStreamDecoder(pool, r3, 1 << 20, 0xFFFF);
      for (int c = 1; c < cuts.length; c++) {
        d3.feed(chunks.input(smp.bytes, cuts[c - 1], cuts[c] - cuts[c - 1]));
      }
      // leave a partial frame behind: stop() must release it
      d3.feed(chunks.input(new byte[] {1, 0, 0, 0, 1, 5, 0}, 0, 7));
      assertThat(d3.hasPartialInput()).isTrue();
      d3.stop();
      assertThat(r3.events).as("seed %d", seed).isEqualTo(smp.events);
    }
    chunks.assertAllReleased();
  }

  @Test
  void sampleMatchesTheReferenceDecoder() {
    // the reference decoder used by the fuzz test agrees with the hand-built samples
    IntStream.range(0, 20).forEach(i -> {
      Sample smp = sample(50, 500, 100 + i);
      RefDecoders.Result ref = RefDecoders.client(smp.bytes, 1 << 20, 0xFFFF);
      assertThat(ref.events).isEqualTo(smp.events);
      assertThat(ref.error).isFalse();
    });
  }
}
