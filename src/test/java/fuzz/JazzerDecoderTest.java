package fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.elbus.impl.codec.DecoderOracle;

import java.util.Arrays;

/**
 * The broker-side stream decoder ({@code ClientStreamDecoder}) against the reference decoder,
 * in two chunkings per input ({@link DecoderOracle}).
 *
 * <p>Input: byte 0 selects the limits (low nibble: max_frame_size of {@link
 * DecoderOracle#MAX_FRAME}, high nibble: max_name_length of {@link DecoderOracle#MAX_NAME}), byte 1
 * seeds the chunk split, the rest is the client's byte stream from its greeting echo on.
 */
class JazzerDecoderTest {
  @FuzzTest(maxDuration = "10m")
  void clientDecoder(byte[] data) {
    if (data.length < 2) {
      return;
    }
    int opts = data[0] & 0xFF;
    int maxFrame = DecoderOracle.MAX_FRAME[(opts & 0x0F) % DecoderOracle.MAX_FRAME.length];
    int maxName = DecoderOracle.MAX_NAME[(opts >>> 4) % DecoderOracle.MAX_NAME.length];
    byte[] stream = Arrays.copyOfRange(data, 2, data.length);
    DecoderOracle.checkClient(stream, DecoderOracle.cuts(stream.length, data[1]), maxFrame,
        maxName);
    DecoderOracle.checkClient(stream, new int[] {0, stream.length}, maxFrame, maxName);
  }
}
