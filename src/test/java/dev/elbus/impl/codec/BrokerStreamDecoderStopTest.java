package dev.elbus.impl.codec;

import static dev.elbus.support.RawClient.brokerFrame;
import static dev.elbus.support.RawClient.bytes;
import static dev.elbus.support.RawClient.concat;
import static dev.elbus.support.RawClient.hex;
import static dev.elbus.support.RawClient.le32;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.elbus.support.LeakGate;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;

/** The client-side decoder of the broker's byte stream, fed in arbitrary chunks. */
@ExtendWith(LeakGate.class)
class BrokerStreamDecoderStopTest {
  private static final ByteBufAllocator ALLOC = PooledByteBufAllocator.DEFAULT;

  /** Records every callback as a string; optionally stops the decoder at one of them. */
  private static final class Recorder implements BrokerStreamDecoder.Listener {
    final List<String> events = new ArrayList<>();
    BrokerStreamDecoder decoder;
    String stopAt;

    private void add(String e) {
      events.add(e);
      if (e.equals(stopAt)) {
        decoder.stop();
      }
    }

    @Override
    public void onGreeting(int greeting, int version) {
      add("greeting " + Integer.toHexString(greeting) + " " + version);
    }

    @Override
    public void onResponse(int code) {
      add("response " + Integer.toHexString(code));
    }

    @Override
    public void onPing() {
      add("ping");
    }

    @Override
    public void onAck(int opId, int code) {
      add("ack " + opId + " " + Integer.toHexString(code));
    }

    @Override
    public void onFrame(int type, boolean realtime, ByteBuf body) {
      // length, then the first and last bytes: enough to tell frames apart, short on failure
      int n = body.readableBytes();
      String hex = n <= 16 ? ByteBufUtil.hexDump(body) : ByteBufUtil.hexDump(body, 0, 8) + ".."
          + ByteBufUtil.hexDump(body, body.readerIndex() + n - 8, 8);
      add("frame " + Integer.toHexString(type) + " " + realtime + " " + n + " " + hex);
    }
  }

  private static final byte[] STREAM = concat(hex("EB 01 00 01 01"),
      brokerFrame(0x12, true, "a", null, new byte[] {1, 2}),
      hex("00 00 00 00 00 00"),
      hex("FE"), le32(7), bytes(0x71),
      brokerFrame(0x01, false, "b", "t/x", new byte[0]),
      brokerFrame(0x13, false, "c", null, new byte[3000]));

  private static List<String> decode(byte[] stream, int chunk, String stopAt) {
    Recorder r = new Recorder();
    BrokerStreamDecoder d = new BrokerStreamDecoder(ALLOC, r, 1 << 20);
    r.decoder = d;
    r.stopAt = stopAt;
    for (int i = 0; i < stream.length; i += chunk) {
      ByteBuf in = ALLOC.buffer(chunk).writeBytes(stream, i, Math.min(chunk, stream.length - i));
      d.feed(in);
      assertThat(in.refCnt()).isZero();
    }
    d.stop();
    assertThat(d.hasPartialInput()).isFalse();
    return r.events;
  }

  @Test
  void sameEventsWhateverTheChunking() {
    List<String> whole = decode(STREAM, STREAM.length, null);
    assertThat(whole).hasSize(8);
    assertThat(whole.get(0)).isEqualTo("greeting eb 1");
    assertThat(whole.get(3)).isEqualTo("frame 12 true 4 61000102");
    assertThat(whole.get(4)).isEqualTo("ping");
    assertThat(whole.get(5)).isEqualTo("ack 7 71");
    for (int chunk : new int[] {1, 2, 5, 6, 7, 64, 1000}) {
      assertThat(decode(STREAM, chunk, null)).as("chunk %d", chunk).isEqualTo(whole);
    }
  }

  @Test
  void stopInsideACallbackEndsDecodingAndReleasesTheRest() {
    for (int chunk : new int[] {1, 3, STREAM.length}) {
      List<String> events = decode(STREAM, chunk, "ping");
      assertThat(events).as("chunk %d", chunk).hasSize(5).last().isEqualTo("ping");
    }
    assertThat(decode(STREAM, STREAM.length, "greeting eb 1")).hasSize(1);
  }

  @Test
  void largeFrameInSmallChunks() {
    byte[] payload = new byte[1 << 19];
    payload[payload.length - 1] = 9;
    byte[] stream = concat(hex("EB 01 00 01 01"), brokerFrame(0x12, false, "s", null, payload));
    List<String> events = decode(stream, 1024, null);
    assertThat(events).hasSize(4);
    assertThat(events.get(3)).startsWith("frame 12 false " + (payload.length + 2) + " 7300")
        .endsWith("0009");
  }

  @Test
  void oversizedFrameIsAProtocolErrorAndStops() {
    Recorder r = new Recorder();
    BrokerStreamDecoder d = new BrokerStreamDecoder(ALLOC, r, 16);
    ByteBuf in = ALLOC.buffer().writeBytes(concat(hex("EB 01 00 01 01 12"), le32(17), bytes(0)));
    assertThatThrownBy(() -> d.feed(in)).isInstanceOf(ProtocolException.class);
    assertThat(in.refCnt()).isZero();
    assertThat(d.isStopped()).isTrue();
    ByteBuf more = ALLOC.buffer().writeBytes(hex("00 00 00 00 00 00"));
    d.feed(more);
    assertThat(more.refCnt()).isZero();
    assertThat(r.events).hasSize(3);
  }
}
