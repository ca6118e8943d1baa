package dev.elbus.bench;

import dev.elbus.Broker;
import dev.elbus.config.BrokerOptions;
import dev.elbus.config.ListenerOptions;
import dev.elbus.eventbus.BridgeOptions;
import dev.elbus.eventbus.InboundRule;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageConsumer;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Throughput of elbus publications through the event-bus bridge: one JVM embeds a broker (one
 * TCP listener), a bridge with the inbound rule {@code bench/# -> bench.rx} and an event-bus
 * consumer counting messages; a raw blocking socket publishes QoS-0 frames in 64 KiB batches,
 * staying within a window of the consumer's count so the bridge client's queue stays bounded.
 * Prints messages/s per round.
 *
 * <pre>
 * java -cp target/test-classes:target/elbus.jar dev.elbus.bench.BridgeThroughput \
 *     [messages=1000000] [payload=100] [mode=send|publish] [workers=1] [window=20000]
 * </pre>
 */
public final class BridgeThroughput {
  private BridgeThroughput() {}

  public static void main(String[] args) throws Exception {
    int messages = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
    int payload = args.length > 1 ? Integer.parseInt(args[1]) : 100;
    boolean publish = args.length > 2 && args[2].equals("publish");
    int workers = args.length > 3 ? Integer.parseInt(args[3]) : 1;
    long window = args.length > 4 ? Long.parseLong(args[4]) : 20_000;
    Vertx vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true)
        .setEventLoopPoolSize(2));
    Broker broker = Broker.create(vertx, new BrokerOptions().setWorkers(workers));
    broker.deploy(List.of(ListenerOptions.of("127.0.0.1:0")))
        .await(20, TimeUnit.SECONDS);
    int port = broker.listeners().get(0).actualPort();
    broker.bridge(new BridgeOptions().addInbound(publish ? InboundRule.publish("bench/#",
        "bench.rx") : InboundRule.send("bench/#", "bench.rx"))).await(20, TimeUnit.SECONDS);
    AtomicLong received = new AtomicLong();
    MessageConsumer<Buffer> c = vertx.eventBus().consumer("bench.rx",
        m -> received.lazySet(received.get() + 1));
    c.completion().await(20, TimeUnit.SECONDS);
    System.out.printf("bridge throughput: %d messages of %d bytes, %s mode, %d worker(s), "
        + "window %d%n", messages, payload, publish ? "publish" : "send", workers, window);
    try {
      for (int round = 0; round < 5; round++) {
        run(port, messages, payload, window, received, round);
      }
    } finally {
      broker.close().await(10, TimeUnit.SECONDS);
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  private static void run(int port, int messages, int payload, long window, AtomicLong received,
      int round) throws Exception {
    try (SocketChannel tx = SocketChannel.open(new InetSocketAddress("127.0.0.1", port))) {
      tx.setOption(StandardSocketOptions.TCP_NODELAY, true);
      handshake(tx, "bench.tx." + round);
      byte[] topic = "bench/topic".getBytes(StandardCharsets.UTF_8);
      int bodyLen = topic.length + 1 + payload;
      ByteBuffer one = ByteBuffer.allocate(9 + bodyLen).order(ByteOrder.LITTLE_ENDIAN);
      one.putInt(0).put((byte) 0x01).putInt(bodyLen).put(topic).put((byte) 0)
          .put(new byte[payload]);
      int perBatch = Math.max(1, 65536 / one.capacity());
      ByteBuffer batch = ByteBuffer.allocateDirect(one.capacity() * perBatch);
      for (int i = 0; i < perBatch; i++) {
        batch.put(one.array());
      }
      long base = received.get();
      long t0 = System.nanoTime();
      long sent = 0;
      while (sent < messages) {
        while (sent - (received.get() - base) > window) {
          java.util.concurrent.locks.LockSupport.parkNanos(20_000);
        }
        int k = (int) Math.min(perBatch, messages - sent);
        batch.clear().limit(k * one.capacity());
        while (batch.hasRemaining()) {
          tx.write(batch);
        }
        sent += k;
      }
      while (received.get() - base < messages) {
        java.util.concurrent.locks.LockSupport.parkNanos(20_000);
      }
      double s = (System.nanoTime() - t0) / 1e9;
      System.out.printf("round %d: %,.0f msg/s%n", round, messages / s);
    }
  }

  private static void handshake(SocketChannel ch, String name) throws IOException {
    readFully(ch, 3);
    ch.write(ByteBuffer.wrap(new byte[] {(byte) 0xEB, 1, 0}));
    readFully(ch, 1);
    byte[] n = name.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(2 + n.length).order(ByteOrder.LITTLE_ENDIAN);
    b.putShort((short) n.length).put(n).flip();
    ch.write(b);
    if (readFully(ch, 1).get(0) != 1) {
      throw new IOException("registration refused");
    }
  }

  private static ByteBuffer readFully(SocketChannel ch, int n) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(n);
    while (b.hasRemaining()) {
      if (ch.read(b) < 0) {
        throw new IOException("closed");
      }
    }
    return b.flip();
  }
}
