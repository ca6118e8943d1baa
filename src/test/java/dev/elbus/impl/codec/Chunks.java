package dev.elbus.impl.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.buffer.UnpooledDirectByteBuf;
import io.netty.buffer.UnpooledHeapByteBuf;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Splits streams into chunks and wraps them in input buffers the test keeps references to, so it
 * can check afterwards that the decoder released every one (refCnt 0). Inputs are plain unpooled
 * buffers (never recycled, so their refCnt stays meaningful after release), heap or direct, some
 * with a non-zero reader index.
 */
final class Chunks {
  final List<ByteBuf> inputs = new ArrayList<>();
  private int variant;

  /** A fresh input buffer holding {@code len} bytes of {@code s} at {@code off}. */
  ByteBuf input(byte[] s, int off, int len) {
    int pad = (variant % 3 == 2) ? 5 : 0;
    ByteBuf b = (variant % 4 == 3)
        ? new UnpooledDirectByteBuf(UnpooledByteBufAllocator.DEFAULT, len + pad, len + pad)
        : new UnpooledHeapByteBuf(UnpooledByteBufAllocator.DEFAULT, len + pad, len + pad);
    variant++;
    for (int i = 0; i < pad; i++) {
      b.writeByte(0x5A);
    }
    b.writeBytes(s, off, len);
    b.skipBytes(pad);
    inputs.add(b);
    return b;
  }

  void assertAllReleased() {
    for (int i = 0; i < inputs.size(); i++) {
      assertThat(inputs.get(i).refCnt()).as("refCnt of input chunk #%d of %d", i, inputs.size())
          .isZero();
    }
  }

  /** Chunk boundaries: two chunks split at {@code k}. */
  static int[] twoChunks(int len, int k) {
    return new int[] {0, k, len};
  }

  static int[] bytewise(int len) {
    int[] c = new int[len + 1];
    for (int i = 0; i <= len; i++) {
      c[i] = i;
    }
    return c;
  }

  /** Random boundaries: mostly small chunks, some large, some empty. */
  static int[] random(int len, Random r) {
    List<Integer> cuts = new ArrayList<>();
    cuts.add(0);
    int p = 0;
    int style = r.nextInt(4);
    while (p < len) {
      int step;
      switch (style) {
        case 0:
          step = 1 + r.nextInt(8);
          break;
        case 1:
          step = 1 + r.nextInt(64);
          break;
        case 2:
          step = r.nextInt(10) == 0 ? 0 : 1 + r.nextInt(Math.max(1, len / 3));
          break;
        default:
          step = 1 + r.nextInt(Math.max(1, len));
      }
      p = Math.min(len, p + step);
      cuts.add(p);
    }
    if (len == 0) {
      cuts.add(0);
    }
    return cuts.stream().mapToInt(Integer::intValue).toArray();
  }

  static String describe(int[] cuts) {
    return cuts.length > 40 ? cuts.length - 1 + " chunks" : Arrays.toString(cuts);
  }
}
