package dev.elbus.support;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;

import static dev.elbus.support.RawClient.concat;
import static dev.elbus.support.RawClient.utf8;

/**
 * Numbered streams of client frames written at once, for the burst tests (PROTOCOL.md section 6):
 * frame {@code i} carries {@code i} (u32 LE) at the start of its payload, which {@link
 * StreamReceiver} and {@code burst_reader.py} check on the receiving side. Blocking sockets,
 * nothing of the project's codec.
 */
public final class Bursts {
  private Bursts() {}

  /** The three ways a frame reaches one receiver, with the client op and the broker frame type. */
  public enum Kind {
    DIRECT(0x12, 0x12),
    BROADCAST(0x13, 0x13),
    PUBLICATION(0x01, 0x01);

    public final int op;
    public final int type;

    Kind(int op, int type) {
      this.op = op;
      this.type = type;
    }

    /**
     * What a frame to the receiver {@code ns.rx} is addressed to: its name, the mask {@code
     * ns.?}, or {@code topic}.
     */
    public String target(String ns, String topic) {
      switch (this) {
        case DIRECT:
          return ns + ".rx";
        case BROADCAST:
          return ns + ".?";
        default:
          return topic;
      }
    }

    /** The start of every body the receiver gets: {@code sender 00} [{@code topic 00}]. */
    public byte[] prefix(String sender, String topic) {
      return this == PUBLICATION ? concat(utf8(sender), new byte[] {0}, utf8(topic),
          new byte[] {0}) : concat(utf8(sender), new byte[] {0});
    }
  }

  /**
   * Frames {@code first..first+n-1}, each {@code key 00 seq(u32) + payload zero bytes}; the last
   * one QoS 1 when {@code ackLast}, the others QoS 0.
   */
  public static byte[] frames(Kind k, String key, int first, int n, int payload,
      boolean ackLast) {
    byte[] keyBytes = utf8(key);
    int body = keyBytes.length + 1 + 4 + payload;
    ByteBuffer out = ByteBuffer.allocate(n * (9 + body)).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      int qos = ackLast && i == n - 1 ? 1 : 0;
      out.putInt(first + i).put((byte) (k.op | qos << 6)).putInt(body).put(keyBytes).put((byte) 0)
          .putInt(first + i);
      out.position(out.position() + payload);
    }
    return out.array();
  }

  /** Writes frames {@code 0..n-1} with one write call; the last asks for an ack (op id n-1). */
  public static void send(SocketChannel tx, Kind k, String key, int n, int payload)
      throws IOException {
    ByteBuffer all = ByteBuffer.wrap(frames(k, key, 0, n, payload, true));
    while (all.hasRemaining()) {
      tx.write(all);
    }
  }

  /** Reads the next six bytes of blocking {@code c}: they must be the ack {@code FE opId 01}. */
  public static void expectOk(SocketChannel c, int opId) throws IOException {
    ByteBuffer a = ByteBuffer.allocate(6).order(ByteOrder.LITTLE_ENDIAN);
    while (a.hasRemaining()) {
      if (c.read(a) < 0) {
        throw new IOException("closed before the ack of " + opId);
      }
    }
    byte[] want = ByteBuffer.allocate(6).order(ByteOrder.LITTLE_ENDIAN).put((byte) 0xFE)
        .putInt(opId).put((byte) 1).array();
    if (!java.util.Arrays.equals(a.array(), want)) {
      throw new AssertionError("expected " + HexFormat.of().formatHex(want) + ", got "
          + HexFormat.of().formatHex(a.array()));
    }
  }

  /** Subscribes blocking {@code c} to {@code topic} with QoS 1 and waits for the ack. */
  public static void subscribe(SocketChannel c, String topic) throws IOException {
    int op = 1_000_000_000;
    ByteBuffer f = ByteBuffer.allocate(9 + utf8(topic).length).order(ByteOrder.LITTLE_ENDIAN);
    f.putInt(op).put((byte) (0x02 | 1 << 6)).putInt(utf8(topic).length).put(utf8(topic)).flip();
    while (f.hasRemaining()) {
      c.write(f);
    }
    expectOk(c, op);
  }

  /**
   * Runs {@code burst_reader.py} (a plain-Python reader) as {@code ns.rx} against {@code addr}
   * ({@code HOST:PORT} or a socket path), sends {@code frames} frames of kind {@code k} from
   * {@code tx} (registered as {@code ns-tx}) once it is ready, and returns what the script
   * printed last ({@code OK N} when every frame arrived in order).
   */
  public static String pythonReader(String addr, SocketChannel tx, Kind k, String ns,
      int frames, int payload) throws IOException, InterruptedException {
    Path script = Files.createTempFile("burst_reader", ".py");
    try (InputStream in = Bursts.class.getResourceAsStream("/burst_reader.py")) {
      Files.write(script, in.readAllBytes());
    }
    String topic = ns + "/burst";
    Process p = new ProcessBuilder("python3", script.toString(), addr, ns + ".rx",
        String.valueOf(k.type), HexFormat.of().formatHex(k.prefix(ns + "-tx", topic)),
        String.valueOf(frames), k == Kind.PUBLICATION ? topic : "")
        .redirectErrorStream(true).start();
    try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(),
        StandardCharsets.UTF_8))) {
      String ready = out.readLine();
      if (!"READY".equals(ready)) {
        return "not ready: " + ready;
      }
      send(tx, k, k.target(ns, topic), frames, payload);
      expectOk(tx, frames - 1);
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        return "python reader still running after 60 s";
      }
      return out.readLine();
    } finally {
      p.destroyForcibly();
      Files.deleteIfExists(script);
    }
  }
}
