package dev.elbus.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

/**
 * The peer measurement for {@link RawThroughput} and {@link RawRoundTrip}: the same raw-socket
 * load against a nats-server (text protocol), so both brokers are measured by the same client
 * code on this machine.
 *
 * <pre>
 * nats-server -a 127.0.0.1 -p 4222 &amp;
 * java -cp target/test-classes:target/elbus.jar dev.elbus.bench.RawNats 127.0.0.1:4222 \
 *     [messages=3000000] [payload=100] [roundtrips=100000]
 * </pre>
 */
public final class RawNats {
  private static final long WINDOW_BYTES = 4096L * 150;

  private RawNats() {}

  public static void main(String[] args) throws Exception {
    String addr = args[0];
    int messages = args.length > 1 ? Integer.parseInt(args[1]) : 3_000_000;
    int payload = args.length > 2 ? Integer.parseInt(args[2]) : 100;
    int trips = args.length > 3 ? Integer.parseInt(args[3]) : 100_000;
    for (int round = 0; round < 3; round++) {
      stream(addr, messages, payload);
    }
    for (int round = 0; round < 3; round++) {
      roundTrip(addr, trips, payload);
    }
  }

  static SocketChannel connect(String addr) throws IOException {
    int c = addr.lastIndexOf(':');
    SocketChannel ch = SocketChannel.open(new InetSocketAddress(addr.substring(0, c),
        Integer.parseInt(addr.substring(c + 1))));
    ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
    ByteBuffer b = ByteBuffer.allocate(4096);
    ch.read(b); // INFO
    write(ch, "CONNECT {\"verbose\":false,\"pedantic\":false}\r\nPING\r\n");
    expectPong(ch);
    return ch;
  }

  static void expectPong(SocketChannel ch) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(64);
    while (true) {
      ch.read(b);
      String s = new String(b.array(), 0, b.position(), StandardCharsets.US_ASCII);
      if (s.contains("PONG\r\n")) {
        return;
      }
    }
  }

  static void write(SocketChannel ch, String s) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(s.getBytes(StandardCharsets.US_ASCII));
    while (b.hasRemaining()) {
      ch.write(b);
    }
  }

  static void stream(String addr, int messages, int payload) throws Exception {
    SocketChannel rx = connect(addr);
    SocketChannel tx = connect(addr);
    write(rx, "SUB bench.s 1\r\nPING\r\n");
    expectPong(rx);
    byte[] p = new byte[payload];
    java.util.Arrays.fill(p, (byte) 'x');
    byte[] one = ("PUB bench.s " + payload + "\r\n" + new String(p, StandardCharsets.US_ASCII)
        + "\r\n").getBytes(StandardCharsets.US_ASCII);
    long frameLen = ("MSG bench.s 1 " + payload + "\r\n").length() + payload + 2;
    double secs = Stream.run(tx, rx, one, frameLen, messages, WINDOW_BYTES);
    System.out.printf("nats publish %d x %d B: %.0f msg/s%n", messages, payload, messages / secs);
    tx.close();
    rx.close();
  }

  /** One in flight: PUB then PING, wait for PONG (the server has processed the PUB). */
  static void roundTrip(String addr, int trips, int payload) throws Exception {
    SocketChannel tx = connect(addr);
    byte[] p = new byte[payload];
    java.util.Arrays.fill(p, (byte) 'x');
    ByteBuffer one = ByteBuffer.wrap(("PUB bench.r " + payload + "\r\n"
        + new String(p, StandardCharsets.US_ASCII) + "\r\nPING\r\n")
        .getBytes(StandardCharsets.US_ASCII));
    ByteBuffer in = ByteBuffer.allocate(64);
    long t0 = System.nanoTime();
    for (int i = 0; i < trips; i++) {
      one.rewind();
      while (one.hasRemaining()) {
        tx.write(one);
      }
      in.clear();
      while (in.position() < 6) {
        tx.read(in);
      }
    }
    double secs = (System.nanoTime() - t0) / 1e9;
    System.out.printf("nats acked publish (PUB+PING/PONG), one in flight: %.0f/s%n",
        trips / secs);
    tx.close();
  }
}
