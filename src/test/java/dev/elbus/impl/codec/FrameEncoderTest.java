package dev.elbus.impl.codec;

import dev.elbus.protocol.Protocol;
import dev.elbus.protocol.QoS;
import dev.elbus.support.LeakGate;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** Golden bytes of every frame {@link FrameEncoder} builds (PROTOCOL.md sections 1-3). */
@ExtendWith(LeakGate.class)
class FrameEncoderTest {
  private final TrackingAllocator alloc = new TrackingAllocator(true);
  private final List<ByteBuf> frames = new ArrayList<>();

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** The frame's bytes; the frame is released afterwards. */
  private byte[] bytes(ByteBuf frame) {
    frames.add(frame);
    byte[] b = ByteBufUtil.getBytes(frame);
    frame.release();
    return b;
  }

  @AfterEach
  void released() {
    for (ByteBuf f : frames) {
      assertThat(f.refCnt()).isZero();
    }
    alloc.assertAllReleased();
  }

  @Test
  void greeting() {
    assertThat(bytes(FrameEncoder.greeting(alloc))).containsExactly(0xEB, 0x01, 0x00);
  }

  @Test
  void responses() {
    assertThat(bytes(FrameEncoder.response(alloc, Protocol.RESPONSE_OK))).containsExactly(0x01);
    assertThat(bytes(FrameEncoder.response(alloc, Protocol.ERR_BUSY))).containsExactly(0x76);
  }

  @Test
  void ack() {
    assertThat(bytes(FrameEncoder.ack(alloc, 0x04030201, Protocol.ERR_NOT_DELIVERED)))
        .containsExactly(0xFE, 0x01, 0x02, 0x03, 0x04, 0x77);
    assertThat(bytes(FrameEncoder.ack(alloc, -1, Protocol.RESPONSE_OK)))
        .containsExactly(0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0x01);
    assertThat(bytes(FrameEncoder.ack(alloc, 0, Protocol.ERR_ACCESS)))
        .containsExactly(0xFE, 0x00, 0x00, 0x00, 0x00, 0x79);
  }

  @Test
  void ping() {
    assertThat(bytes(FrameEncoder.ping(alloc))).containsExactly(0, 0, 0, 0, 0, 0);
    assertThat(Protocol.BROKER_PING).containsExactly(0, 0, 0, 0, 0, 0);
  }

  @Test
  void directMessageRealtime() {
    ByteBuf src = Unpooled.wrappedBuffer(ascii("xyz"));
    assertThat(bytes(FrameEncoder.deliver(alloc, Protocol.FRAME_MESSAGE, ascii("ab"), src, 0, 3,
        true))).containsExactly(0x12, 0x06, 0x00, 0x00, 0x00, 0x01, 'a', 'b', 0x00, 'x', 'y', 'z');
    assertThat(src.refCnt()).isEqualTo(1);
    src.release();
  }

  @Test
  void broadcastNotRealtimeWithEmptyPayload() {
    ByteBuf src = Unpooled.wrappedBuffer(ascii("q"));
    assertThat(bytes(FrameEncoder.deliver(alloc, Protocol.FRAME_BROADCAST, ascii("g1.c"), src, 1, 0,
        false))).containsExactly(0x13, 0x05, 0x00, 0x00, 0x00, 0x00, 'g', '1', '.', 'c', 0x00);
    src.release();
  }

  @Test
  void publicationReusesTheTailOfThePublishBody() {
    // the client's publish body is "topic 00 payload": the broker appends it after "sender 00"
    ByteBuf src = Unpooled.wrappedBuffer(ascii("JUNKa/b\0PL"));
    int ri = src.readerIndex();
    int wi = src.writerIndex();
    assertThat(bytes(FrameEncoder.deliver(alloc, Protocol.FRAME_PUBLISH, ascii("s%%1"), src, 4, 6,
        true))).containsExactly(0x01, 0x0B, 0x00, 0x00, 0x00, 0x01,
            's', '%', '%', '1', 0x00, 'a', '/', 'b', 0x00, 'P', 'L');
    assertThat(src.readerIndex()).isEqualTo(ri);
    assertThat(src.writerIndex()).isEqualTo(wi);
    src.release();
  }

  @Test
  void publicationFromParts() {
    ByteBuf payload = Unpooled.wrappedBuffer(ascii("..PAYLOAD"));
    payload.skipBytes(2);
    assertThat(bytes(FrameEncoder.publication(alloc, ascii(".broker"), ascii(".broker/warn"),
        payload, false))).isEqualTo(Wire.of(0x01).u32(7 + 1 + 12 + 1 + 7).u8(0x00)
            .ascii(".broker\0.broker/warn\0PAYLOAD").toArray());
    assertThat(payload.readerIndex()).isEqualTo(2);
    payload.release();
  }

  @Test
  void publicationFromPartsEqualsDeliverOfTheSameContent() {
    byte[] payload = new byte[FrameEncoder.COPY_THRESHOLD + 10];
    new Random(3).nextBytes(payload);
    ByteBuf p = Unpooled.wrappedBuffer(payload);
    ByteBuf tail = Unpooled.wrappedBuffer(Wire.concat(ascii("t/x\0"), payload));
    assertThat(bytes(FrameEncoder.publication(alloc, ascii("me"), ascii("t/x"), p, true)))
        .isEqualTo(bytes(FrameEncoder.deliver(alloc, Protocol.FRAME_PUBLISH, ascii("me"), tail, 0,
            tail.readableBytes(), true)));
    p.release();
    tail.release();
  }

  /** Below, at and above the copy threshold: a copy, or a composite that retains the source. */
  @ParameterizedTest
  @ValueSource(ints = {0, 1, 100, FrameEncoder.COPY_THRESHOLD - 1, FrameEncoder.COPY_THRESHOLD,
      FrameEncoder.COPY_THRESHOLD + 1, 65536, 1 << 20})
  void deliverAroundTheCopyThreshold(int len) {
    byte[] payload = new byte[len];
    new Random(len).nextBytes(payload);
    ByteBuf src = PooledByteBufAllocator.DEFAULT.directBuffer(len + 20);
    src.writeZero(7).writeBytes(payload).writeZero(13);
    byte[] sender = ascii("sender.name");
    ByteBuf frame = FrameEncoder.deliver(alloc, Protocol.FRAME_MESSAGE, sender, src, 7, len, false);
    byte[] expected = Wire.of(0x12).u32(sender.length + 1 + len).u8(0x00).bytes(sender).u8(0)
        .bytes(payload).toArray();
    assertThat(frame.readableBytes()).isEqualTo(expected.length);
    assertThat(ByteBufUtil.getBytes(frame)).isEqualTo(expected);
    assertThat(frame.getUnsignedIntLE(frame.readerIndex() + 1))
        .as("length = body length").isEqualTo(frame.readableBytes() - 6L);
    if (len > FrameEncoder.COPY_THRESHOLD) {
      assertThat(frame).isInstanceOf(CompositeByteBuf.class);
      assertThat(src.refCnt()).as("the payload is referenced, not copied").isEqualTo(2);
    } else {
      assertThat(frame).isNotInstanceOf(CompositeByteBuf.class);
      assertThat(src.refCnt()).isEqualTo(1);
      // a copy: later changes to the read buffer do not reach the frame
      if (len > 0) {
        src.setByte(7, payload[0] ^ 0xFF);
        assertThat(ByteBufUtil.getBytes(frame)).isEqualTo(expected);
      }
    }
    // the same frame bytes can be handed to many receivers as retained duplicates
    ByteBuf dup = frame.retainedDuplicate();
    assertThat(ByteBufUtil.getBytes(dup)).isEqualTo(ByteBufUtil.getBytes(frame));
    dup.release();
    frame.release();
    assertThat(src.refCnt()).as("releasing the frame releases its hold on the source")
        .isEqualTo(1);
    src.release();
  }

  @Test
  void clientNameIsTheU16LengthAndTheName() {
    assertThat(bytes(FrameEncoder.clientName(alloc, ascii("hello"))))
        .containsExactly(0x05, 0x00, 'h', 'e', 'l', 'l', 'o');
    byte[] big = new byte[0x0102];
    byte[] enc = bytes(FrameEncoder.clientName(alloc, big));
    assertThat(enc).hasSize(2 + 0x0102);
    assertThat(enc[0]).isEqualTo((byte) 0x02);
    assertThat(enc[1]).isEqualTo((byte) 0x01);
  }

  @Test
  void clientFrameWithTarget() {
    ByteBuf payload = Unpooled.wrappedBuffer(ascii("p"));
    assertThat(bytes(FrameEncoder.clientFrame(alloc, 0x01020304, Protocol.OP_PUBLISH,
        QoS.REALTIME_PROCESSED, ascii("t"), payload)))
        .containsExactly(0x04, 0x03, 0x02, 0x01, 0xC1, 0x03, 0x00, 0x00, 0x00, 't', 0x00, 'p');
    assertThat(payload.readerIndex()).isZero();
    payload.release();
  }

  @Test
  void clientFrameEveryQos() {
    int[] expectedFlags = {0x12, 0x52, 0x92, 0xD2};
    for (QoS q : QoS.values()) {
      byte[] f = bytes(FrameEncoder.clientFrame(alloc, 7, Protocol.OP_MESSAGE, q, ascii("x"),
          null));
      assertThat(f).containsExactly(0x07, 0, 0, 0, expectedFlags[q.bits()], 0x02, 0, 0, 0, 'x', 0);
    }
    assertThat(QoS.of(0)).isEqualTo(QoS.NO);
    assertThat(QoS.of(3).needsAck()).isTrue();
    assertThat(QoS.of(3).isRealtime()).isTrue();
    assertThat(QoS.of(2).needsAck()).isFalse();
    assertThat(QoS.of(1).isRealtime()).isFalse();
  }

  @Test
  void clientFrameSubscribeListWithoutTarget() {
    ByteBuf topics = Unpooled.wrappedBuffer(ascii("a/#\0b/+"));
    assertThat(bytes(FrameEncoder.clientFrame(alloc, 2, Protocol.OP_SUBSCRIBE, QoS.PROCESSED, null,
        topics))).isEqualTo(Wire.of(2, 0, 0, 0, 0x42, 7, 0, 0, 0).ascii("a/#\0b/+").toArray());
    topics.release();
    assertThat(bytes(FrameEncoder.clientFrame(alloc, 3, Protocol.OP_UNSUBSCRIBE, QoS.NO, null,
        null))).containsExactly(3, 0, 0, 0, 0x03, 0, 0, 0, 0);
  }

  @Test
  void clientPing() {
    assertThat(bytes(FrameEncoder.clientPing(alloc))).containsExactly(0, 0, 0, 0, 0, 0, 0, 0, 0);
  }
}
