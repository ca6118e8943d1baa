package dev.elbus.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Streaming throughput of a running broker, measured with two blocking raw sockets (no client
 * library in the way): one sender writes QoS-0 direct messages in large batches, one receiver
 * counts delivered frames, the sender staying within a window of the receiver. Prints
 * messages/s.
 *
 * <pre>
 * java -cp target/test-classes:target/elbus.jar dev.elbus.bench.RawThroughput \
 *     127.0.0.1:7777 [messages=2000000] [payload=100] [op=message|publish] [rounds=3]
 * </pre>
 */
public final class RawThroughput {
  /** Frames in flight at most: half the default queue bound of 8192 frames. */
  private static final long WINDOW = 4096;

  private RawThroughput() {}

  public static void main(String[] args) throws Exception {
    String addr = args[0];
    int messages = args.length > 1 ? Integer.parseInt(args[1]) : 2_000_000;
    int payload = args.length > 2 ? Integer.parseInt(args[2]) : 100;
    boolean publish = args.length > 3 && args[3].equals("publish");
    int rounds = args.length > 4 ? Integer.parseInt(args[4]) : 3;
    for (int round = 0; round < rounds; round++) {
      run(addr, messages, payload, publish, round);
    }
  }

  private static void run(String addr, int messages, int payload, boolean publish, int round)
      throws Exception {
    String rxName = "bench.rx." + round;
    SocketChannel rx = connect(addr, rxName);
    SocketChannel tx = connect(addr, "bench.tx." + round);
    String topic = "bench/topic";
    if (publish) {
      byte[] t = topic.getBytes(StandardCharsets.UTF_8);
      write(rx, frame(1, 0x02 | (1 << 6), t, null));
      readFully(rx, 6);
    }
    byte[] target = (publish ? topic : rxName).getBytes(StandardCharsets.UTF_8);
    byte[] one = frame(0, publish ? 0x01 : 0x12, target, new byte[payload]);
    // delivered frame: 6-byte header + sender + 00 [+ topic 00] + payload
    int senderLen = ("bench.tx." + round).length();
    long frameLen = 6 + senderLen + 1 + (publish ? target.length + 1 : 0) + payload;
    double secs = Stream.run(tx, rx, one, frameLen, messages, WINDOW * frameLen);
    System.out.printf("%s %d x %d B: %.0f msg/s (%.2f s)%n", publish ? "publish" : "message",
        messages, payload, messages / secs, secs);
    tx.close();
    rx.close();
  }

  static SocketChannel connect(String addr, String name) throws IOException {
    return connect(addr, name, ch -> { });
  }

  /** Connects and registers {@code name}; {@code beforeConnect} configures the socket first. */
  static SocketChannel connect(String addr, String name,
      java.util.function.Consumer<SocketChannel> beforeConnect) throws IOException {
    SocketChannel ch;
    if (addr.startsWith("/") || addr.endsWith(".sock")) {
      ch = SocketChannel.open(StandardProtocolFamily.UNIX);
      beforeConnect.accept(ch);
      ch.connect(UnixDomainSocketAddress.of(Path.of(addr)));
    } else {
      int c = addr.lastIndexOf(':');
      ch = SocketChannel.open();
      beforeConnect.accept(ch);
      ch.connect(new InetSocketAddress(addr.substring(0, c),
          Integer.parseInt(addr.substring(c + 1))));
      ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
    }
    readFully(ch, 3);
    write(ch, new byte[] {(byte) 0xEB, 1, 0});
    readFully(ch, 1);
    byte[] n = name.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(2 + n.length).order(ByteOrder.LITTLE_ENDIAN);
    b.putShort((short) n.length).put(n);
    write(ch, b.array());
    if (readFully(ch, 1)[0] != 1) {
      throw new IOException("registration refused");
    }
    return ch;
  }

  static byte[] frame(int opId, int flags, byte[] target, byte[] payload) {
    int len = target.length + (payload == null ? 0 : 1 + payload.length);
    ByteBuffer b = ByteBuffer.allocate(9 + len).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(opId).put((byte) flags).putInt(len).put(target);
    if (payload != null) {
      b.put((byte) 0).put(payload);
    }
    return b.array();
  }

  static void write(SocketChannel ch, byte[] bytes) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(bytes);
    while (b.hasRemaining()) {
      ch.write(b);
    }
  }

  static byte[] readFully(SocketChannel ch, int n) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(n);
    while (b.hasRemaining()) {
      if (ch.read(b) < 0) {
        throw new IOException("closed");
      }
    }
    return b.array();
  }
}
