package dev.elbus.bench;

import dev.elbus.client.NetworkClient;
import dev.elbus.protocol.QoS;
import dev.elbus.rpc.RpcClient;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * RPC round-trip rate against a running broker: calls/s to {@code .broker} {@code
 * benchmark.test} with one call in flight, one caller over TCP (not a test; run by hand).
 *
 * <ul>
 *   <li>{@code raw qos0}: a blocking raw socket, request sent with QoS 0, so one frame each way
 *       per call: the broker's cost without any client library.
 *   <li>{@code raw qos1}: the same with QoS 1: the reply and the ack (in either order) per call.
 *   <li>{@code client}: {@link NetworkClient} + {@link RpcClient#call} (QoS 1, as the RpcClient
 *       default), each call started from the previous one's completion on the client's event
 *       loop.
 * </ul>
 *
 * <pre>
 * java -cp target/test-classes:target/elbus.jar dev.elbus.bench.RpcRoundTrip \
 *     127.0.0.1:7777 [calls=100000] [payload=100] [mode=all|raw|client|qos0..qos3]
 * </pre>
 *
 * Each mode runs a warm-up of {@code calls / 2} calls, then 3 measured rounds of {@code calls}.
 */
public final class RpcRoundTrip {
  private static final byte[] BROKER = ".broker".getBytes(StandardCharsets.UTF_8);
  private static final byte[] METHOD = "benchmark.test".getBytes(StandardCharsets.UTF_8);

  private RpcRoundTrip() {}

  public static void main(String[] args) throws Exception {
    String addr = args[0];
    int calls = args.length > 1 ? Integer.parseInt(args[1]) : 100_000;
    int payload = args.length > 2 ? Integer.parseInt(args[2]) : 100;
    String mode = args.length > 3 ? args[3] : "all";
    System.out.printf("RPC round trips to .broker benchmark.test, payload %d bytes, %d calls per"
        + " round, one call in flight%n", payload, calls);
    if (mode.equals("all") || mode.equals("raw")) {
      raw(addr, calls, payload, 0);
      raw(addr, calls, payload, 1);
    } else if (mode.startsWith("qos")) {
      raw(addr, calls, payload, Integer.parseInt(mode.substring(3)));
    }
    if (mode.equals("all") || mode.equals("client")) {
      client(addr, calls, payload);
    }
  }

  // ---------------------------------------------------------------- raw socket

  private static void raw(String addr, int calls, int payload, int qos) throws IOException {
    String name = "bench.rpc.raw" + qos;
    try (SocketChannel ch = connect(addr, name)) {
      byte[] params = new byte[payload];
      Arrays.fill(params, (byte) 0x5A);
      // client frame: op id, flags, length, then .broker 00 01 <call id> benchmark.test 00 params
      int rpcLen = 1 + 4 + METHOD.length + 1 + payload;
      int bodyLen = BROKER.length + 1 + rpcLen;
      ByteBuffer req = ByteBuffer.allocateDirect(9 + bodyLen).order(ByteOrder.LITTLE_ENDIAN);
      req.putInt(0).put((byte) (0x12 | (qos << 6))).putInt(bodyLen).put(BROKER).put((byte) 0)
          .put((byte) 0x01).putInt(0).put(METHOD).put((byte) 0).put(params);
      int callIdAt = 9 + BROKER.length + 1 + 1;
      // reply: 12 <len> <rt> .broker 00 11 <call id> params
      int replyBody = BROKER.length + 1 + 1 + 4 + payload;
      ByteBuffer in = ByteBuffer.allocateDirect(Math.max(6 + replyBody, 64))
          .order(ByteOrder.LITTLE_ENDIAN);
      long id = 0;
      for (int round = -1; round < 3; round++) {
        int n = round < 0 ? Math.max(1, calls / 2) : calls;
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
          id = (id + 1) & 0xFFFF_FFFFL;
          if (id == 0) {
            id = 1;
          }
          req.putInt(0, (int) id).putInt(callIdAt, (int) id).clear();
          while (req.hasRemaining()) {
            ch.write(req);
          }
          boolean gotReply = false;
          boolean gotAck = (qos & 1) == 0; // QoS 0 and 2: no ack
          while (!gotReply || !gotAck) {
            readFully(ch, in, 6);
            int type = in.get(0) & 0xFF;
            if (type == 0xFE) {
              check(in.getInt(1) == (int) id && in.get(5) == 1, "ack");
              check(!gotAck, "second ack");
              gotAck = true;
              continue;
            }
            int len = in.getInt(1);
            if (type == 0 && len == 0) {
              continue; // ping
            }
            check(type == 0x12 && len == replyBody, "reply header");
            readFully(ch, in, len);
            check(in.get(BROKER.length + 1) == 0x11 && in.getInt(BROKER.length + 2) == (int) id,
                "reply call id");
            gotReply = true;
          }
        }
        long ns = System.nanoTime() - t0;
        if (round >= 0) {
          print("raw qos" + qos, round, n, ns);
        }
      }
    }
  }

  private static void check(boolean ok, String what) {
    if (!ok) {
      throw new IllegalStateException("unexpected " + what);
    }
  }

  private static SocketChannel connect(String addr, String name) throws IOException {
    int c = addr.lastIndexOf(':');
    SocketChannel ch = SocketChannel.open(new InetSocketAddress(addr.substring(0, c),
        Integer.parseInt(addr.substring(c + 1))));
    ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
    ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
    readFully(ch, b, 3);
    check(b.get(0) == (byte) 0xEB, "greeting");
    ch.write(ByteBuffer.wrap(new byte[] {(byte) 0xEB, 1, 0}));
    readFully(ch, b, 1);
    check(b.get(0) == 1, "handshake response");
    byte[] n = name.getBytes(StandardCharsets.UTF_8);
    ByteBuffer reg = ByteBuffer.allocate(2 + n.length).order(ByteOrder.LITTLE_ENDIAN);
    reg.putShort((short) n.length).put(n).flip();
    ch.write(reg);
    readFully(ch, b, 1);
    check(b.get(0) == 1, "registration of " + name + ": " + b.get(0));
    return ch;
  }

  /** Reads exactly {@code n} bytes into {@code b} from position 0 (blocking). */
  private static void readFully(SocketChannel ch, ByteBuffer b, int n) throws IOException {
    b.clear().limit(n);
    while (b.hasRemaining()) {
      if (ch.read(b) < 0) {
        throw new IOException("closed by the broker");
      }
    }
  }

  // ---------------------------------------------------------------- NetworkClient + RpcClient

  private static void client(String addr, int calls, int payload) throws Exception {
    Vertx vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true)
        .setEventLoopPoolSize(1));
    try {
      RpcClient rpc = NetworkClient.connect(vertx, addr, "bench.rpc.client")
          .map(c -> new RpcClient(vertx, c)).await(10, TimeUnit.SECONDS);
      byte[] p = new byte[payload];
      Arrays.fill(p, (byte) 0x5A);
      Buffer params = Buffer.buffer(p);
      for (int round = -1; round < 3; round++) {
        int n = round < 0 ? Math.max(1, calls / 2) : calls;
        Promise<Void> done = Promise.promise();
        long t0 = System.nanoTime();
        vertx.runOnContext(v -> chain(rpc, params, n, done));
        done.future().await(10, TimeUnit.MINUTES);
        long ns = System.nanoTime() - t0;
        if (round >= 0) {
          print("client", round, n, ns);
        }
      }
      rpc.close().await(10, TimeUnit.SECONDS);
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  /** Runs {@code left} calls one after the other, each from the previous one's completion. */
  private static void chain(RpcClient rpc, Buffer params, int left, Promise<Void> done) {
    if (left == 0) {
      done.complete();
      return;
    }
    Future<Buffer> f = rpc.call(".broker", "benchmark.test", params, QoS.PROCESSED);
    f.onComplete(ar -> {
      if (ar.failed()) {
        done.fail(ar.cause());
      } else if (ar.result().length() != params.length()) {
        done.fail(new IllegalStateException("echo of " + ar.result().length() + " bytes"));
      } else {
        chain(rpc, params, left - 1, done);
      }
    });
  }

  private static void print(String mode, int round, int n, long ns) {
    System.out.printf("%-9s round %d: %,d calls in %.3f s = %,.0f calls/s (%.1f us/call)%n",
        mode, round + 1, n, ns / 1e9, n / (ns / 1e9), ns / 1e3 / n);
  }
}
