package dev.elbus.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The streaming loop both raw benchmarks share: one thread writes {@code messages} copies of a
 * frame in 64 KiB batches, staying within {@code windowBytes} of what the receiver has read (a
 * QoS-0 flood far beyond a receiver's queue would, correctly, get it dropped as a slow consumer);
 * another thread reads {@code deliveredLen} bytes per message on {@code rx}.
 */
final class Stream {
  private Stream() {}

  /** @return the seconds from the first write to the last byte read */
  static double run(SocketChannel tx, SocketChannel rx, byte[] one, long deliveredLen,
      int messages, long windowBytes) throws Exception {
    return run(tx, new SocketChannel[] {rx}, one, deliveredLen, messages, windowBytes);
  }

  /**
   * The same with several receivers, each of which gets every message (a fan-out), one reading
   * thread each; the window follows the slowest.
   *
   * @return the seconds from the first write to the last byte read by the last receiver
   */
  static double run(SocketChannel tx, SocketChannel[] rxs, byte[] one, long deliveredLen,
      int messages, long windowBytes) throws Exception {
    long expected = deliveredLen * messages;
    int perBatch = Math.max(1, 65536 / one.length);
    ByteBuffer batch = ByteBuffer.allocateDirect(one.length * perBatch);
    for (int i = 0; i < perBatch; i++) {
      batch.put(one);
    }
    AtomicLong[] received = new AtomicLong[rxs.length];
    Thread[] readers = new Thread[rxs.length];
    for (int k = 0; k < rxs.length; k++) {
      AtomicLong count = received[k] = new AtomicLong();
      SocketChannel rx = rxs[k];
      readers[k] = new Thread(() -> {
        ByteBuffer b = ByteBuffer.allocateDirect(1 << 20);
        long got = 0;
        try {
          while (got < expected) {
            b.clear();
            int r = rx.read(b);
            if (r < 0) {
              throw new IOException("receiver closed");
            }
            got += r;
            count.lazySet(got);
          }
        } catch (IOException e) {
          throw new RuntimeException(e);
        }
      });
    }
    long t0 = System.nanoTime();
    for (Thread t : readers) {
      t.start();
    }
    int sent = 0;
    while (sent < messages) {
      while ((long) sent * deliveredLen - slowest(received) > windowBytes) {
        Thread.yield();
      }
      int n = Math.min(perBatch, messages - sent);
      batch.clear().limit(n * one.length);
      while (batch.hasRemaining()) {
        tx.write(batch);
      }
      sent += n;
    }
    for (Thread t : readers) {
      t.join();
    }
    return (System.nanoTime() - t0) / 1e9;
  }

  private static long slowest(AtomicLong[] received) {
    long min = Long.MAX_VALUE;
    for (AtomicLong r : received) {
      min = Math.min(min, r.get());
    }
    return min;
  }
}
