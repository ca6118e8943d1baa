package dev.elbus.impl.codec;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.buffer.UnpooledDirectByteBuf;
import io.netty.buffer.UnpooledHeapByteBuf;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An unpooled allocator that remembers every buffer it hands out, so a test can check that the
 * code under test released all of them (unpooled buffers are never recycled, so a refCnt of 0
 * stays 0). With {@code leakAware} the buffers also go through Netty's leak detector (PARANOID
 * in tests, slow: every access records a stack trace); without it they are plain buffers, for
 * the high-volume tests.
 */
final class TrackingAllocator extends AbstractByteBufAllocator {
  private final boolean leakAware;
  private final List<ByteBuf> allocated = new ArrayList<>();
  private int largestRequest;
  private long requestedBytes;

  TrackingAllocator(boolean leakAware) {
    super(false);
    this.leakAware = leakAware;
  }

  @Override
  protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
    ByteBuf b = leakAware
        ? UnpooledByteBufAllocator.DEFAULT.heapBuffer(initialCapacity, maxCapacity)
        : new UnpooledHeapByteBuf(this, initialCapacity, maxCapacity);
    allocated.add(b);
    largestRequest = Math.max(largestRequest, initialCapacity);
    requestedBytes += initialCapacity;
    return b;
  }

  @Override
  protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
    ByteBuf b = leakAware
        ? UnpooledByteBufAllocator.DEFAULT.directBuffer(initialCapacity, maxCapacity)
        : new UnpooledDirectByteBuf(this, initialCapacity, maxCapacity);
    allocated.add(b);
    largestRequest = Math.max(largestRequest, initialCapacity);
    requestedBytes += initialCapacity;
    return b;
  }

  @Override
  public boolean isDirectBufferPooled() {
    return false;
  }

  int allocations() {
    return allocated.size();
  }

  /** Buffers still referenced. */
  int live() {
    int n = 0;
    for (ByteBuf b : allocated) {
      if (b.refCnt() != 0) {
        n++;
      }
    }
    return n;
  }

  /** Sum of the initial capacities of every buffer handed out. */
  long requestedBytes() {
    return requestedBytes;
  }

  /** Largest initial capacity ever requested. */
  int largestRequest() {
    return largestRequest;
  }

  void assertAllReleased() {
    assertThat(live()).as("buffers still referenced out of %d allocated", allocated.size())
        .isZero();
  }

  void forget() {
    allocated.clear();
  }
}
