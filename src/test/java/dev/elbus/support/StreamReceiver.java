package dev.elbus.support;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A registered client that reads its socket continuously on its own thread and checks a numbered
 * stream of broker frames: each data frame must be of one type, its body must start with one
 * prefix ({@code sender 00} or {@code sender 00 topic 00}), and the next four bytes of its payload
 * are a sequence number (u32 LE) that counts up from 0. Pings are skipped; anything else is an
 * error. Optionally reads at a bounded rate, like a slow consumer. Nothing here uses the
 * project's codec.
 */
public final class StreamReceiver implements AutoCloseable {
  private final SocketChannel ch;
  private final int type;
  private final byte[] prefix;
  private final long expected;
  private final long bytesPerSecond;
  private final int readSize;
  private final AtomicLong received = new AtomicLong();
  private final AtomicLong bytesRead = new AtomicLong();
  private final CountDownLatch done = new CountDownLatch(1);
  private final Thread thread;
  private volatile String error;
  private volatile boolean closedByBroker;
  private volatile boolean closing;

  private StreamReceiver(SocketChannel ch, int type, byte[] prefix, long expected,
      long bytesPerSecond, int readSize) {
    this.ch = ch;
    this.type = type;
    this.prefix = prefix;
    this.expected = expected;
    this.bytesPerSecond = bytesPerSecond;
    this.readSize = readSize;
    this.thread = new Thread(this::run, "stream-receiver");
    this.thread.setDaemon(true);
  }

  /** Opens a blocking connection over {@code t} to {@code broker} and registers {@code name}. */
  public static SocketChannel connect(TestBroker broker, Transport t, String name)
      throws IOException {
    return connect(t == Transport.TCP ? new InetSocketAddress("127.0.0.1", broker.port())
        : UnixDomainSocketAddress.of(broker.socket()), name);
  }

  /** Opens a blocking connection to {@code addr} (TCP or Unix) and registers {@code name}. */
  public static SocketChannel connect(SocketAddress addr, String name) throws IOException {
    SocketChannel ch;
    if (addr instanceof InetSocketAddress) {
      ch = SocketChannel.open(addr);
      ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
    } else {
      ch = SocketChannel.open(StandardProtocolFamily.UNIX);
      ch.connect(addr);
    }
    expect(ch, new byte[] {(byte) 0xEB, 1, 0});
    writeAll(ch, new byte[] {(byte) 0xEB, 1, 0});
    expect(ch, new byte[] {1});
    byte[] n = name.getBytes(StandardCharsets.UTF_8);
    ByteBuffer hello = ByteBuffer.allocate(2 + n.length).order(ByteOrder.LITTLE_ENDIAN);
    hello.putShort((short) n.length).put(n).flip();
    while (hello.hasRemaining()) {
      ch.write(hello);
    }
    expect(ch, new byte[] {1});
    return ch;
  }

  /**
   * Starts reading {@code ch} (registered, blocking) on a new thread.
   *
   * @param type the broker frame type every data frame must have
   * @param prefix what every body starts with, before the sequence number
   * @param expected frames to receive; the receiver stops after them
   * @param bytesPerSecond read at most this fast (0: as fast as possible)
   */
  public static StreamReceiver start(SocketChannel ch, int type, byte[] prefix, long expected,
      long bytesPerSecond) {
    StreamReceiver r = new StreamReceiver(ch, type, prefix, expected, bytesPerSecond,
        bytesPerSecond > 0 ? 4096 : 256 * 1024);
    r.thread.start();
    return r;
  }

  private static void writeAll(SocketChannel ch, byte[] b) throws IOException {
    ByteBuffer bb = ByteBuffer.wrap(b);
    while (bb.hasRemaining()) {
      ch.write(bb);
    }
  }

  private static void expect(SocketChannel ch, byte[] want) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(want.length);
    while (b.hasRemaining()) {
      if (ch.read(b) < 0) {
        throw new IOException("closed during the handshake");
      }
    }
    if (!Arrays.equals(b.array(), want)) {
      throw new IOException("handshake: expected " + HexFormat.of().formatHex(want) + ", got "
          + HexFormat.of().formatHex(b.array()));
    }
  }

  private void run() {
    ByteBuffer buf = ByteBuffer.allocateDirect(Math.max(readSize, 64 * 1024) + 64 * 1024)
        .order(ByteOrder.LITTLE_ENDIAN);
    long start = System.nanoTime();
    try {
      while (received.get() < expected) {
        if (bytesPerSecond > 0) {
          // read no faster than the rate: wait until the bytes read so far are due
          long dueNanos = start + bytesRead.get() * 1_000_000_000L / bytesPerSecond;
          long wait = dueNanos - System.nanoTime();
          if (wait > 0) {
            Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
          }
        }
        if (!buf.hasRemaining()) {
          // one frame larger than the buffer: grow it
          ByteBuffer bigger = ByteBuffer.allocateDirect(buf.capacity() * 2)
              .order(ByteOrder.LITTLE_ENDIAN);
          buf.flip();
          bigger.put(buf);
          buf = bigger;
        }
        int limit = buf.limit();
        buf.limit(Math.min(limit, buf.position() + Math.max(readSize, 1)));
        int n = ch.read(buf);
        buf.limit(limit);
        if (n < 0) {
          closedByBroker = true;
          return;
        }
        bytesRead.addAndGet(n);
        buf.flip();
        if (!parse(buf)) {
          return;
        }
        buf.compact();
      }
    } catch (IOException e) {
      if (!closing) {
        closedByBroker = true;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      done.countDown();
    }
  }

  /** Consumes the whole frames in {@code b}; false (and {@link #error}) on a bad frame. */
  private boolean parse(ByteBuffer b) {
    while (b.remaining() >= 6) {
      int p = b.position();
      int t = b.get(p) & 0xFF;
      long len = b.getInt(p + 1) & 0xFFFFFFFFL;
      if (t == 0) {
        if (len != 0 || b.get(p + 5) != 0) {
          return fail("malformed ping at frame " + received.get());
        }
        b.position(p + 6);
        continue;
      }
      if (t != type) {
        return fail("frame " + received.get() + " has type 0x" + Integer.toHexString(t));
      }
      if (b.remaining() < 6 + len) {
        return true; // the rest comes with the next read (run() grows the buffer if needed)
      }
      int body = p + 6;
      for (int i = 0; i < prefix.length; i++) {
        if (b.get(body + i) != prefix[i]) {
          return fail("frame " + received.get() + ": body does not start with the expected "
              + "sender/topic");
        }
      }
      if (len < prefix.length + 4) {
        return fail("frame " + received.get() + " is too short: " + len);
      }
      long seq = b.getInt(body + prefix.length) & 0xFFFFFFFFL;
      long want = received.get();
      if (seq != want) {
        return fail("expected sequence " + want + ", got " + seq);
      }
      received.incrementAndGet();
      b.position((int) (body + len));
      if (received.get() == expected) {
        return true;
      }
    }
    return true;
  }

  private boolean fail(String why) {
    error = why;
    return false;
  }

  /**
   * Reads and discards whatever {@code ch} (blocking) holds until the peer closes or resets it.
   *
   * @return true when it closed within {@code ms}
   */
  public static boolean readToEnd(SocketChannel ch, long ms) throws IOException {
    ch.configureBlocking(false);
    ByteBuffer b = ByteBuffer.allocate(64 * 1024);
    long deadline = System.nanoTime() + ms * 1_000_000;
    while (System.nanoTime() < deadline) {
      b.clear();
      try {
        if (ch.read(b) < 0) {
          return true;
        }
      } catch (IOException e) {
        return true; // reset
      }
      if (b.position() == 0) {
        try {
          Thread.sleep(1);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return false;
        }
      }
    }
    return false;
  }

  /** Waits until every frame arrived, the broker closed the connection, or an error. */
  public boolean await(long timeout, TimeUnit unit) throws InterruptedException {
    return done.await(timeout, unit);
  }

  public long received() {
    return received.get();
  }

  public long bytesRead() {
    return bytesRead.get();
  }

  /** A frame broke the expected stream ({@code null}: none did). */
  public String error() {
    return error;
  }

  /** The broker closed (or reset) the connection. */
  public boolean closedByBroker() {
    return closedByBroker;
  }

  @Override
  public void close() throws IOException {
    closing = true;
    ch.close();
    try {
      thread.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
