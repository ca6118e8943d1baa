package fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.elbus.impl.codec.DecoderOracle;
import dev.elbus.impl.net.ConnectionHarness;

import java.io.ByteArrayOutputStream;

/**
 * The handshake and everything after it through the real connection code ({@code
 * ClientConnection} in an {@code EmbeddedChannel}, a fresh router per input; {@link
 * ConnectionHarness}): no exception but the protocol error, nothing left registered or
 * subscribed, every buffer released.
 *
 * <p>Input: byte 0 holds options (bit 0: the listener has an AAA policy; bits 1-2: what is put in
 * front of the rest: nothing, the greeting echo {@code EB 01 00}, or a whole handshake as
 * {@code c.d} or as {@code a}, so that the fuzzer reaches frames easily), byte 1 seeds the chunk
 * split, the rest is the stream.
 */
class JazzerHandshakeTest {
  private static final byte[][] PREFIX = {
      {},
      {(byte) 0xEB, 1, 0},
      {(byte) 0xEB, 1, 0, 3, 0, 'c', '.', 'd'},
      {(byte) 0xEB, 1, 0, 1, 0, 'a'},
  };

  @FuzzTest(maxDuration = "10m")
  void handshake(byte[] data) {
    if (data.length < 2) {
      return;
    }
    int opts = data[0] & 0xFF;
    ByteArrayOutputStream s = new ByteArrayOutputStream();
    s.writeBytes(PREFIX[(opts >>> 1) & 3]);
    s.write(data, 2, data.length - 2);
    byte[] stream = s.toByteArray();
    ConnectionHarness.run(stream, DecoderOracle.cuts(stream.length, data[1]), (opts & 1) != 0);
  }
}
