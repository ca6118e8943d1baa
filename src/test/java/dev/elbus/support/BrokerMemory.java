package dev.elbus.support;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetric;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.buffer.PooledByteBufAllocator;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * Memory and descriptor figures of this JVM, for tests that run the broker in-process.
 *
 * <p>The broker allocates from {@link ByteBufAllocator#DEFAULT} (its router does, and Vert.x 5
 * gives its server channels the same allocator: {@code VertxByteBufAllocator.POOLED_ALLOCATOR} is
 * {@code ByteBufAllocator.DEFAULT} unless that is unpooled), Netty 4.2's adaptive pooled allocator
 * by default. Its metric counts the memory its arenas hold, heap and direct: the broker's buffer
 * memory. Test clients here use plain NIO and never touch it.
 */
public final class BrokerMemory {
  private static final long MIB = 1024 * 1024;

  private BrokerMemory() {}

  /**
   * Heap plus direct bytes held by {@link ByteBufAllocator#DEFAULT} (socket reads) and {@link
   * PooledByteBufAllocator#DEFAULT} (the frames the broker encodes and coalesces).
   */
  public static long allocatorUsed() {
    return used(ByteBufAllocator.DEFAULT) + used(PooledByteBufAllocator.DEFAULT);
  }

  private static long used(ByteBufAllocator a) {
    if (!(a instanceof ByteBufAllocatorMetricProvider)) {
      throw new IllegalStateException("allocator without metrics: " + a.getClass());
    }
    ByteBufAllocatorMetric m = ((ByteBufAllocatorMetricProvider) a).metric();
    return m.usedHeapMemory() + m.usedDirectMemory();
  }

  /** Direct memory of the JVM's buffer pool (NIO direct buffers, Netty's included). */
  public static long jvmDirectUsed() {
    for (BufferPoolMXBean b : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
      if (b.getName().equals("direct")) {
        return b.getMemoryUsed();
      }
    }
    return -1;
  }

  /** Heap in use right after a full collection (two, to let finalizable objects go). */
  public static long heapUsedAfterGc() {
    System.gc();
    System.gc();
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  /** Open file descriptors of this JVM (Linux). */
  public static long openFds() {
    return openFds(Path.of("/proc/self/fd"));
  }

  /** Open file descriptors of process {@code pid} (Linux). */
  public static long openFds(long pid) {
    return openFds(Path.of("/proc", Long.toString(pid), "fd"));
  }

  private static long openFds(Path dir) {
    try (Stream<Path> s = Files.list(dir)) {
      return s.count();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The soft limit of open files of this JVM (Linux; Long.MAX_VALUE when unlimited). */
  public static long fdLimit() {
    try {
      for (String l : Files.readAllLines(Path.of("/proc/self/limits"))) {
        if (l.startsWith("Max open files")) {
          String soft = l.substring("Max open files".length()).trim().split("\\s+")[0];
          return soft.equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(soft);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    throw new IllegalStateException("no 'Max open files' in /proc/self/limits");
  }

  /** Bytes as MiB with two decimals. */
  public static String mib(long bytes) {
    return String.format("%.2f MiB", bytes / (double) MIB);
  }
}
