package dev.elbus.bench;

import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * Round trips through a running broker with one raw socket and one operation in flight: a QoS-1
 * direct message to another client, waiting for its ack (the broker has routed it), and an RPC
 * call to {@code .broker benchmark.test}, waiting for the reply. Prints operations/s.
 *
 * <pre>
 * java -cp target/test-classes:target/elbus.jar dev.elbus.bench.RawRoundTrip 127.0.0.1:7777 \
 *     [trips=100000] [payload=100]
 * </pre>
 */
public final class RawRoundTrip {
  private RawRoundTrip() {}

  public static void main(String[] args) throws Exception {
    String addr = args[0];
    int trips = args.length > 1 ? Integer.parseInt(args[1]) : 100_000;
    int payload = args.length > 2 ? Integer.parseInt(args[2]) : 100;
    for (int round = 0; round < 3; round++) {
      SocketChannel sink = RawThroughput.connect(addr, "rt.sink." + round);
      SocketChannel tx = RawThroughput.connect(addr, "rt.tx." + round);
      Thread drain = new Thread(() -> {
        ByteBuffer b = ByteBuffer.allocateDirect(1 << 16);
        try {
          while (sink.read(b.clear()) >= 0) {
            // discard
          }
        } catch (java.io.IOException e) {
          // closed
        }
      });
      drain.setDaemon(true);
      drain.start();
      byte[] msg = RawThroughput.frame(1, 0x12 | (1 << 6),
          ("rt.sink." + round).getBytes(java.nio.charset.StandardCharsets.US_ASCII),
          new byte[payload]);
      run(tx, msg, 6, trips, "acked send (QoS 1), one in flight");
      // RPC request: 01 <call id u32> "benchmark.test" 00 <payload>
      ByteBuffer rpc = ByteBuffer.allocate(5 + 15 + payload).order(java.nio.ByteOrder.LITTLE_ENDIAN);
      rpc.put((byte) 1).putInt(1).put("benchmark.test".getBytes(
          java.nio.charset.StandardCharsets.US_ASCII)).put((byte) 0).put(new byte[payload]);
      byte[] call = RawThroughput.frame(2, 0x12, ".broker".getBytes(
          java.nio.charset.StandardCharsets.US_ASCII), rpc.array());
      // reply: 6-byte header + ".broker" 00 + 11 <call id> + payload
      run(tx, call, 6 + 8 + 5 + payload, trips, "rpc.call .broker benchmark.test, one in flight");
      tx.close();
      sink.close();
    }
  }

  private static void run(SocketChannel ch, byte[] frame, int replyLen, int trips, String what)
      throws Exception {
    ByteBuffer out = ByteBuffer.wrap(frame);
    ByteBuffer in = ByteBuffer.allocate(replyLen);
    long t0 = System.nanoTime();
    for (int i = 0; i < trips; i++) {
      out.rewind();
      while (out.hasRemaining()) {
        ch.write(out);
      }
      in.clear();
      while (in.hasRemaining()) {
        if (ch.read(in) < 0) {
          throw new java.io.IOException("closed");
        }
      }
    }
    double secs = (System.nanoTime() - t0) / 1e9;
    System.out.printf("%s: %.0f/s%n", what, trips / secs);
  }
}
