package dev.elbus.impl.codec;

import dev.elbus.protocol.Protocol;
import dev.elbus.protocol.QoS;
import dev.elbus.support.LeakGate;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The client-side decoder of the broker stream, and encode/decode round trips of every frame kind
 * in both directions (FrameEncoder -> decoder -> FrameEncoder gives back the same bytes).
 */
@ExtendWith(LeakGate.class)
class BrokerStreamDecoderTest {
  private static final byte[] PREFIX = Wire.of(0xEB, 0x01, 0x00, 0x01, 0x01).toArray();

  private final TrackingAllocator alloc = new TrackingAllocator(true);
  private final Chunks chunks = new Chunks();

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @AfterEach
  void released() {
    chunks.assertAllReleased();
    alloc.assertAllReleased();
  }

  private List<Ev> decode(byte[] s, int[] cuts, TrackingAllocator a, int maxFrameSize) {
    Recorders.Broker rec = new Recorders.Broker();
    BrokerStreamDecoder d = new BrokerStreamDecoder(a, rec, maxFrameSize);
    try {
      for (int i = 1; i < cuts.length; i++) {
        d.feed(chunks.input(s, cuts[i - 1], cuts[i] - cuts[i - 1]));
      }
    } finally {
      d.stop();
    }
    return rec.events;
  }

  private List<Ev> decode(byte[] s) {
    return decode(s, new int[] {0, s.length}, alloc, 1 << 20);
  }

  // ------------------------------------------------------------------ golden

  @Test
  void handshakeAndEveryFrameKind() {
    byte[] s = Wire.concat(PREFIX,
        Wire.of(0xFE, 0x01, 0x02, 0x03, 0x04, 0x77).toArray(),
        Wire.of(0x00, 0x00, 0x00, 0x00, 0x00, 0x00).toArray(),
        Wire.of(0x12, 0x05, 0x00, 0x00, 0x00, 0x01).ascii("a\0xyz").toArray(),
        Wire.of(0x13, 0x03, 0x00, 0x00, 0x00, 0x00).ascii("b\0Q").toArray(),
        Wire.of(0x01, 0x07, 0x00, 0x00, 0x00, 0x01).ascii("c\0t/1\0P").toArray(),
        Wire.of(0x01, 0x02, 0x00, 0x00, 0x00, 0x00).ascii("c\0").toArray());
    assertThat(decode(s)).containsExactly(
        Ev.greeting(0xEB, 1), Ev.response(0x01), Ev.response(0x01),
        Ev.ack(0x04030201, 0x77),
        Ev.ping(),
        Ev.brokerFrame(0x12, true, ascii("a\0xyz")),
        Ev.brokerFrame(0x13, false, ascii("b\0Q")),
        Ev.brokerFrame(0x01, true, ascii("c\0t/1\0P")),
        Ev.brokerFrame(0x01, false, ascii("c\0")));
  }

  @Test
  void refusedHandshake() {
    assertThat(decode(Wire.of(0xEB, 0x01, 0x00, 0x01, 0x76).toArray())).containsExactly(
        Ev.greeting(0xEB, 1), Ev.response(0x01), Ev.response(0x76));
    assertThat(decode(Wire.of(0xEB, 0x02, 0x01, 0x75).toArray())).containsExactly(
        Ev.greeting(0xEB, 0x0102), Ev.response(0x75));
  }

  @Test
  void ackOpIdIsUnsignedLittleEndian() {
    assertThat(decode(Wire.concat(PREFIX, Wire.of(0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0x01).toArray())))
        .endsWith(Ev.ack(-1, 1));
  }

  @Test
  void lengthIsLittleEndian() {
    byte[] body = new byte[0x012C];
    new Random(5).nextBytes(body);
    body[2] = 0;
    assertThat(decode(Wire.concat(PREFIX, Wire.of(0x12, 0x2C, 0x01, 0x00, 0x00, 0x00).bytes(body)
        .toArray()))).endsWith(Ev.brokerFrame(0x12, false, body));
  }

  @Test
  void lengthAboveMaxFrameSizeThrowsBeforeTheBody() {
    byte[] s = Wire.concat(PREFIX, Wire.of(0x12).u32(0xFFFFFFFFL).u8(0).toArray());
    Recorders.Broker rec = new Recorders.Broker();
    BrokerStreamDecoder d = new BrokerStreamDecoder(alloc, rec, 100);
    assertThatThrownBy(() -> d.feed(chunks.input(s, 0, s.length)))
        .isInstanceOf(ProtocolException.class);
    d.stop();
    assertThat(rec.events).hasSize(3);

    byte[] s2 = Wire.concat(PREFIX, Wire.of(0x01).u32(101).u8(0).toArray());
    BrokerStreamDecoder d2 = new BrokerStreamDecoder(alloc, rec, 100);
    d2.feed(chunks.input(s2, 0, 8));
    assertThatThrownBy(() -> d2.feed(chunks.input(s2, 8, s2.length - 8)))
        .isInstanceOf(ProtocolException.class);
    d2.stop();
  }

  @Test
  void frameOfExactlyMaxFrameSize() {
    byte[] body = new byte[100];
    new Random(9).nextBytes(body);
    byte[] s = Wire.concat(PREFIX, Wire.of(0x13).u32(100).u8(1).bytes(body).toArray());
    assertThat(decode(s, Chunks.bytewise(s.length), alloc, 100))
        .endsWith(Ev.brokerFrame(0x13, true, body));
  }

  @Test
  void releaseDropsAPartialFrame() {
    byte[] s = Wire.concat(PREFIX, Wire.of(0x12).u32(1000).u8(0).toArray(), new byte[500]);
    Recorders.Broker rec = new Recorders.Broker();
    BrokerStreamDecoder d = new BrokerStreamDecoder(alloc, rec, 1 << 20);
    d.feed(chunks.input(s, 0, s.length));
    assertThat(alloc.live()).isPositive();
    d.stop();
    alloc.assertAllReleased();
    d.stop();
  }

  /**
   * A large frame arriving in many small reads is accumulated in amortised linear time: the
   * decoder must not copy everything received so far on every read (1 MiB in 1 KiB reads would
   * otherwise copy ~512 MiB).
   */
  @Test
  void largeFrameInSmallChunksIsAccumulatedWithoutQuadraticCopying() {
    byte[] body = new byte[1 << 20];
    new Random(13).nextBytes(body);
    byte[] s = Wire.concat(PREFIX, Wire.of(0x12).u32(body.length).u8(0).bytes(body).toArray(),
        new byte[6]);
    TrackingAllocator fast = new TrackingAllocator(false);
    int[] cuts = new int[s.length / 1024 + 2];
    for (int i = 0; i < cuts.length - 1; i++) {
      cuts[i] = i * 1024;
    }
    cuts[cuts.length - 1] = s.length;
    List<Ev> events = decode(s, cuts, fast, 1 << 21);
    assertThat(events).containsExactly(Ev.greeting(0xEB, 1), Ev.response(1), Ev.response(1),
        Ev.brokerFrame(0x12, false, body), Ev.ping());
    assertThat(fast.requestedBytes()).as("bytes allocated to receive %d bytes", s.length)
        .isLessThan(8L * s.length);
    fast.assertAllReleased();
  }

  // ------------------------------------------------------------------ round trips

  /** Every broker frame kind, encoded by FrameEncoder. */
  private static List<byte[]> brokerFrames(TrackingAllocator a) {
    List<ByteBuf> bufs = new ArrayList<>();
    bufs.add(FrameEncoder.greeting(a));
    bufs.add(FrameEncoder.response(a, Protocol.RESPONSE_OK));
    bufs.add(FrameEncoder.response(a, Protocol.RESPONSE_OK));
    bufs.add(FrameEncoder.ack(a, 0x7F00FF01, Protocol.ERR_CLIENT_NOT_REGISTERED));
    bufs.add(FrameEncoder.ack(a, -5, Protocol.RESPONSE_OK));
    bufs.add(FrameEncoder.ping(a));
    Random r = new Random(11);
    int[] sizes = {0, 1, 100, FrameEncoder.COPY_THRESHOLD, FrameEncoder.COPY_THRESHOLD + 1, 9000};
    int[] types = {Protocol.FRAME_MESSAGE, Protocol.FRAME_BROADCAST, Protocol.FRAME_PUBLISH};
    for (int type : types) {
      for (int size : sizes) {
        for (boolean rt : new boolean[] {false, true}) {
          byte[] payload = new byte[size];
          r.nextBytes(payload);
          byte[] rest = type == Protocol.FRAME_PUBLISH
              ? Wire.concat(ascii("topic/" + size + "\0"), payload) : payload;
          ByteBuf src = Unpooled.wrappedBuffer(Wire.concat(ascii("HEAD"), rest));
          bufs.add(FrameEncoder.deliver(a, type, ascii("snd%%" + size), src, 4, rest.length, rt));
          src.release();
        }
      }
    }
    ByteBuf p = Unpooled.wrappedBuffer(ascii("{}"));
    bufs.add(FrameEncoder.publication(a, ascii(".broker"), ascii(".broker/info"), p, false));
    p.release();
    List<byte[]> out = new ArrayList<>();
    for (ByteBuf b : bufs) {
      out.add(ByteBufUtil.getBytes(b));
      b.release();
    }
    return out;
  }

  /** Re-encodes decoded broker events with FrameEncoder. */
  private static byte[] reencodeBroker(List<Ev> events, TrackingAllocator a) {
    Wire w = new Wire();
    for (Ev e : events) {
      ByteBuf b;
      switch (e.kind) {
        case Ev.GREETING:
          assertThat(e.a).isEqualTo(Protocol.GREETING);
          assertThat(e.b).isEqualTo(Protocol.VERSION);
          b = FrameEncoder.greeting(a);
          break;
        case Ev.RESPONSE:
          b = FrameEncoder.response(a, e.a);
          break;
        case Ev.ACK:
          b = FrameEncoder.ack(a, e.a, e.b);
          break;
        case Ev.PING:
          b = FrameEncoder.ping(a);
          break;
        default: {
          int z = 0;
          while (e.data[z] != 0) {
            z++;
          }
          ByteBuf rest = Unpooled.wrappedBuffer(e.data);
          b = FrameEncoder.deliver(a, e.a, Arrays.copyOf(e.data, z), rest, z + 1,
              e.data.length - z - 1, e.realtime());
          rest.release();
        }
      }
      w.bytes(ByteBufUtil.getBytes(b));
      b.release();
    }
    return w.toArray();
  }

  @Test
  void brokerRoundTripEverySplit() {
    TrackingAllocator fast = new TrackingAllocator(false);
    List<byte[]> parts = brokerFrames(fast);
    byte[] s = Wire.concat(parts.toArray(new byte[0][]));
    List<Ev> whole = decode(s, new int[] {0, s.length}, fast, 1 << 20);
    assertThat(whole).hasSize(parts.size());
    assertThat(reencodeBroker(whole, fast)).isEqualTo(s);
    assertThat(whole).isEqualTo(RefDecoders.broker(s, 1 << 20).events);
    for (int k = 0; k <= s.length; k += 1 + k % 997) {
      assertThat(decode(s, Chunks.twoChunks(s.length, k), fast, 1 << 20)).as("split at %d", k)
          .isEqualTo(whole);
    }
    assertThat(decode(s, Chunks.bytewise(s.length), fast, 1 << 20)).isEqualTo(whole);
    for (int i = 0; i < 50; i++) {
      int[] cuts = Chunks.random(s.length, new Random(i));
      assertThat(decode(s, cuts, fast, 1 << 20)).as("seed %d", i).isEqualTo(whole);
    }
    fast.assertAllReleased();
  }

  @Test
  void brokerRoundTripEverySingleSplitOfTheSmallFrames() {
    TrackingAllocator fast = new TrackingAllocator(false);
    List<byte[]> parts = new ArrayList<>();
    for (byte[] p : brokerFrames(fast)) {
      if (p.length < 200) {
        parts.add(p);
      }
    }
    byte[] s = Wire.concat(parts.toArray(new byte[0][]));
    List<Ev> whole = decode(s, new int[] {0, s.length}, fast, 1 << 20);
    assertThat(reencodeBroker(whole, fast)).isEqualTo(s);
    for (int k = 0; k <= s.length; k++) {
      assertThat(decode(s, Chunks.twoChunks(s.length, k), fast, 1 << 20)).as("split at %d", k)
          .isEqualTo(whole);
    }
    fast.assertAllReleased();
  }

  /** Every client frame kind, encoded by FrameEncoder, behind the handshake. */
  private static byte[] clientStream(TrackingAllocator a) {
    Wire w = new Wire();
    List<ByteBuf> bufs = new ArrayList<>();
    bufs.add(FrameEncoder.greeting(a)); // the client echoes the broker's greeting
    bufs.add(FrameEncoder.clientName(a, ascii("client.one%%2")));
    int[] ops = {Protocol.OP_PUBLISH, Protocol.OP_SUBSCRIBE, Protocol.OP_UNSUBSCRIBE,
        Protocol.OP_MESSAGE, Protocol.OP_BROADCAST, Protocol.OP_EXCLUDE, Protocol.OP_UNEXCLUDE,
        Protocol.OP_PUBLISH_FOR};
    int opId = 1;
    Random r = new Random(12);
    for (int op : ops) {
      for (QoS q : QoS.values()) {
        for (int size : new int[] {0, 3, 5000}) {
          byte[] payload = new byte[size];
          r.nextBytes(payload);
          ByteBuf pb = Unpooled.wrappedBuffer(payload);
          boolean list = op == Protocol.OP_SUBSCRIBE || op == Protocol.OP_UNSUBSCRIBE;
          bufs.add(FrameEncoder.clientFrame(a, opId++ * 0x01010101, op, q,
              list ? null : ascii("tgt." + size), pb));
          pb.release();
        }
      }
      bufs.add(FrameEncoder.clientPing(a));
    }
    for (ByteBuf b : bufs) {
      w.bytes(ByteBufUtil.getBytes(b));
      b.release();
    }
    return w.toArray();
  }

  private static byte[] reencodeClient(List<Ev> events, TrackingAllocator a) {
    Wire w = new Wire();
    for (Ev e : events) {
      ByteBuf b;
      switch (e.kind) {
        case Ev.HELLO:
          assertThat(e.a).isEqualTo(Protocol.GREETING);
          assertThat(e.b).isEqualTo(Protocol.VERSION);
          b = FrameEncoder.greeting(a);
          break;
        case Ev.NAME:
          b = FrameEncoder.clientName(a, e.data);
          break;
        case Ev.PING:
          b = FrameEncoder.clientPing(a);
          break;
        default: {
          ByteBuf body = Unpooled.wrappedBuffer(e.data);
          b = FrameEncoder.clientFrame(a, e.a, e.b & Protocol.OP_MASK,
              QoS.of(e.b >>> Protocol.QOS_SHIFT), null, body);
          body.release();
        }
      }
      w.bytes(ByteBufUtil.getBytes(b));
      b.release();
    }
    return w.toArray();
  }

  private List<Ev> decodeClient(byte[] s, int[] cuts, TrackingAllocator a) {
    Recorders.Client rec = new Recorders.Client();
    ClientStreamDecoder d = new ClientStreamDecoder(a, rec, 1 << 20, 0xFFFF);
    for (int i = 1; i < cuts.length; i++) {
      d.feed(chunks.input(s, cuts[i - 1], cuts[i] - cuts[i - 1]));
    }
    assertThat(d.hasPartialInput()).isFalse();
    d.stop();
    return rec.events;
  }

  @Test
  void clientRoundTripEverySplit() {
    TrackingAllocator fast = new TrackingAllocator(false);
    byte[] s = clientStream(fast);
    List<Ev> whole = decodeClient(s, new int[] {0, s.length}, fast);
    assertThat(whole).hasSize(2 + 8 * 4 * 3 + 8);
    assertThat(reencodeClient(whole, fast)).isEqualTo(s);
    assertThat(whole).isEqualTo(RefDecoders.client(s, 1 << 20, 0xFFFF).events);
    for (int k = 0; k <= s.length; k += 1 + k % 997) {
      assertThat(decodeClient(s, Chunks.twoChunks(s.length, k), fast)).as("split at %d", k)
          .isEqualTo(whole);
    }
    assertThat(decodeClient(s, Chunks.bytewise(s.length), fast)).isEqualTo(whole);
    for (int i = 0; i < 50; i++) {
      int[] cuts = Chunks.random(s.length, new Random(i));
      assertThat(decodeClient(s, cuts, fast)).as("seed %d", i).isEqualTo(whole);
    }
    fast.assertAllReleased();
  }
}
