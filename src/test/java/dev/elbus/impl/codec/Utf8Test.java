package dev.elbus.impl.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** Strict UTF-8 decoding of names, targets and topics. */
class Utf8Test {

  private static String decode(byte[] b) {
    ByteBuf buf = Unpooled.wrappedBuffer(b);
    try {
      String s = Utf8.decode(buf, 0, b.length);
      assertThat(Utf8.decode(b)).as("both entry points agree").isEqualTo(s);
      return s;
    } finally {
      buf.release();
    }
  }

  @Test
  void validInput() {
    assertThat(decode(new byte[0])).isEmpty();
    assertThat(decode("sensors/+/temp".getBytes(StandardCharsets.UTF_8))).isEqualTo("sensors/+/temp");
    assertThat(decode(new byte[] {'a', 0, 'b'})).isEqualTo("a\0b");
    String multi = "d\u00e9j\u00e0/\u6e29\u5ea6/\ud83d\ude00";
    assertThat(decode(multi.getBytes(StandardCharsets.UTF_8))).isEqualTo(multi);
  }

  @ParameterizedTest
  @ValueSource(strings = {"c328", "80", "c080", "eda080", "e282", "ff", "fe", "f4908080",
      "61c3", "61ed9fbfeda080"})
  void invalidInputIsRejected(String hex) {
    byte[] b = new byte[hex.length() / 2];
    for (int i = 0; i < b.length; i++) {
      b[i] = (byte) Integer.parseInt(hex.substring(2 * i, 2 * i + 2), 16);
    }
    assertThat(decode(b)).isNull();
  }

  @Test
  void decodesOnlyTheGivenRangeAndLeavesIndicesAlone() {
    ByteBuf buf = Unpooled.wrappedBuffer("xx\u00e9t\u00e9/a\u00ffyy".getBytes(StandardCharsets.UTF_8));
    buf.readerIndex(1);
    int len = "\u00e9t\u00e9/a".getBytes(StandardCharsets.UTF_8).length;
    assertThat(Utf8.decode(buf, 2, len)).isEqualTo("\u00e9t\u00e9/a");
    // bytes: x x [e9] t [e9] / a [ff] y y, each [..] two bytes
    assertThat(Utf8.decode(buf, 5, 3)).isEqualTo("\u00e9/");
    assertThat(Utf8.decode(buf, 0, 2)).isEqualTo("xx");
    // a range cutting a two-byte sequence in half is invalid
    assertThat(Utf8.decode(buf, 2, 1)).isNull();
    assertThat(buf.readerIndex()).isEqualTo(1);
    buf.release();
  }

  @Test
  void compositeBuffers() {
    byte[] all = "top/\u00e9v\u00e9nement".getBytes(StandardCharsets.UTF_8);
    CompositeByteBuf c = Unpooled.compositeBuffer();
    // split inside the two-byte sequence of the first é
    c.addComponents(true, Unpooled.wrappedBuffer(all, 0, 5), Unpooled.wrappedBuffer(all, 5,
        all.length - 5));
    assertThat(Utf8.decode(c, 0, all.length)).isEqualTo("top/\u00e9v\u00e9nement");
    c.release();
  }
}
