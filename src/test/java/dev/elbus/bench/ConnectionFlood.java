package dev.elbus.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;

/**
 * Many concurrent raw TCP clients from one process (RELIABILITY.md item 12; started as a separate
 * JVM by {@code dev.elbus.reliability.ConnectionScaleIT}). Opens {@code count} connections at no
 * more than {@code rate} per second; each completes the handshake as {@code PREFIX-i}, sends
 * itself one QoS 1 direct message and waits for both the message and the ack 01. One selector
 * thread, no client library.
 *
 * <p>Prints {@code CONNECTED n}, {@code REGISTERED n ms p50 p99} (connect to registration, per
 * client), {@code ACKED n ms} and {@code FAILED n first-reason}, then {@code READY}; on a line
 * {@code leave} (or end of input) on stdin it closes every socket, prints {@code LEFT n} and
 * exits.
 *
 * <pre>
 * java -cp target/test-classes dev.elbus.bench.ConnectionFlood HOST PORT [count=10000]
 *     [rate=2000] [prefix=flood] [timeoutSeconds=60]
 * </pre>
 */
public final class ConnectionFlood {
  private enum State { CONNECTING, GREETING, HELLO_OK, REGISTERED, DONE, FAILED }

  private static final class Conn {
    final int id;
    final SocketChannel ch;
    final byte[] name;
    final long startNanos;
    State state = State.CONNECTING;
    final ByteBuffer in = ByteBuffer.allocate(256).order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer out;
    boolean gotMessage;
    boolean gotAck;
    long registeredNanos;

    Conn(int id, SocketChannel ch, String name) {
      this.id = id;
      this.ch = ch;
      this.name = name.getBytes(StandardCharsets.UTF_8);
      this.startNanos = System.nanoTime();
    }
  }

  private final List<Conn> conns = new ArrayList<>();
  private int registered;
  private int acked;
  private int failed;
  private String firstFailure;

  private ConnectionFlood() {}

  public static void main(String[] args) throws Exception {
    String host = args[0];
    int port = Integer.parseInt(args[1]);
    int count = args.length > 2 ? Integer.parseInt(args[2]) : 10_000;
    int rate = args.length > 3 ? Integer.parseInt(args[3]) : 2_000;
    String prefix = args.length > 4 ? args[4] : "flood";
    long timeoutS = args.length > 5 ? Long.parseLong(args[5]) : 60;
    new ConnectionFlood().run(new InetSocketAddress(host, port), count, rate, prefix, timeoutS);
  }

  private void run(InetSocketAddress addr, int count, int rate, String prefix, long timeoutS)
      throws IOException {
    Selector sel = Selector.open();
    long t0 = System.nanoTime();
    long deadline = t0 + timeoutS * 1_000_000_000L;
    int opened = 0;
    while (registered + failed < count || acked + failed < count) {
      long now = System.nanoTime();
      if (now > deadline) {
        break;
      }
      // pace: connection k may start at t0 + k / rate seconds
      long allowed = Math.min(count, 1 + (now - t0) * rate / 1_000_000_000L);
      while (opened < allowed) {
        SocketChannel ch = SocketChannel.open();
        ch.configureBlocking(false);
        ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
        Conn c = new Conn(opened, ch, prefix + "-" + opened);
        conns.add(c);
        opened++;
        try {
          if (ch.connect(addr)) {
            c.state = State.GREETING;
            ch.register(sel, SelectionKey.OP_READ, c);
          } else {
            ch.register(sel, SelectionKey.OP_CONNECT, c);
          }
        } catch (IOException e) {
          fail(c, "connect: " + e);
        }
      }
      sel.select(1);
      Iterator<SelectionKey> it = sel.selectedKeys().iterator();
      while (it.hasNext()) {
        SelectionKey k = it.next();
        it.remove();
        Conn c = (Conn) k.attachment();
        try {
          step(c, k);
        } catch (IOException | RuntimeException e) {
          fail(c, e.toString());
          k.cancel();
        }
      }
    }
    long ms = (System.nanoTime() - t0) / 1_000_000;
    long[] lat = conns.stream().filter(c -> c.registeredNanos != 0)
        .mapToLong(c -> (c.registeredNanos - c.startNanos) / 1_000).sorted().toArray();
    System.out.println("CONNECTED " + opened);
    System.out.printf("REGISTERED %d %d %.2f %.2f%n", registered, ms,
        lat.length == 0 ? -1 : lat[lat.length / 2] / 1000.0,
        lat.length == 0 ? -1 : lat[(int) Math.ceil(lat.length * 0.99) - 1] / 1000.0);
    System.out.println("ACKED " + acked + " " + ms);
    System.out.println("FAILED " + (count - acked) + " " + (firstFailure == null ? "-"
        : firstFailure));
    System.out.println("READY");
    System.out.flush();
    BufferedReader r = new BufferedReader(new InputStreamReader(System.in,
        StandardCharsets.UTF_8));
    String line;
    while ((line = r.readLine()) != null && !line.trim().equals("leave")) {
      // wait
    }
    int left = 0;
    for (Conn c : conns) {
      if (c.ch.isOpen()) {
        left++;
      }
      c.ch.close();
    }
    sel.close();
    System.out.println("LEFT " + left);
    System.out.flush();
  }

  private void step(Conn c, SelectionKey k) throws IOException {
    if (k.isConnectable()) {
      c.ch.finishConnect();
      c.state = State.GREETING;
      k.interestOps(SelectionKey.OP_READ);
      return;
    }
    if (k.isWritable() && c.out != null) {
      c.ch.write(c.out);
      if (!c.out.hasRemaining()) {
        c.out = null;
        k.interestOps(SelectionKey.OP_READ);
      }
    }
    if (!k.isReadable()) {
      return;
    }
    int n = c.ch.read(c.in);
    if (n < 0) {
      throw new IOException("closed by the broker in state " + c.state);
    }
    c.in.flip();
    boolean progress = true;
    while (progress) {
      progress = false;
      switch (c.state) {
        case GREETING:
          if (c.in.remaining() >= 3) {
            expect(c.in, 0xEB, 0x01, 0x00);
            ByteBuffer o = ByteBuffer.allocate(5 + c.name.length).order(ByteOrder.LITTLE_ENDIAN);
            o.put((byte) 0xEB).put((byte) 1).put((byte) 0).putShort((short) c.name.length)
                .put(c.name).flip();
            send(c, k, o);
            c.state = State.HELLO_OK;
            progress = true;
          }
          break;
        case HELLO_OK:
          if (c.in.remaining() >= 2) {
            expect(c.in, 0x01, 0x01);
            c.registeredNanos = System.nanoTime();
            registered++;
            c.state = State.REGISTERED;
            // a QoS 1 direct message to itself
            byte[] body = concat(c.name, new byte[] {0}, "hello".getBytes(StandardCharsets.UTF_8));
            ByteBuffer o = ByteBuffer.allocate(9 + body.length).order(ByteOrder.LITTLE_ENDIAN);
            o.putInt(1).put((byte) (0x12 | 0x40)).putInt(body.length).put(body).flip();
            send(c, k, o);
            progress = true;
          }
          break;
        case REGISTERED:
          if (c.in.remaining() >= 6) {
            int type = c.in.get(c.in.position()) & 0xFF;
            int len = c.in.getInt(c.in.position() + 1);
            if (type == 0xFE) {
              int code = c.in.get(c.in.position() + 5) & 0xFF;
              if (len != 1 || code != 1) {
                throw new IOException("ack " + len + " code " + code);
              }
              c.in.position(c.in.position() + 6);
              c.gotAck = true;
            } else if (type == 0x00) {
              c.in.position(c.in.position() + 6);
            } else if (c.in.remaining() >= 6 + len) {
              if (type != 0x12) {
                throw new IOException("unexpected frame type " + type);
              }
              c.in.position(c.in.position() + 6 + len);
              c.gotMessage = true;
            } else {
              break;
            }
            progress = true;
            if (c.gotAck && c.gotMessage) {
              acked++;
              c.state = State.DONE;
            }
          }
          break;
        default:
          // DONE: pings only
          if (c.in.remaining() >= 6) {
            c.in.position(c.in.position() + 6);
            progress = true;
          }
      }
    }
    c.in.compact();
  }

  private static void send(Conn c, SelectionKey k, ByteBuffer o) throws IOException {
    c.ch.write(o);
    if (o.hasRemaining()) {
      c.out = o;
      k.interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
    }
  }

  private static void expect(ByteBuffer b, int... bytes) throws IOException {
    byte[] got = new byte[bytes.length];
    b.get(got);
    for (int i = 0; i < bytes.length; i++) {
      if ((got[i] & 0xFF) != bytes[i]) {
        throw new IOException("expected " + Arrays.toString(bytes) + ", got "
            + Arrays.toString(got));
      }
    }
  }

  private void fail(Conn c, String why) {
    if (c.state != State.FAILED) {
      c.state = State.FAILED;
      failed++;
      if (firstFailure == null) {
        firstFailure = c.id + ": " + why;
      }
    }
  }

  private static byte[] concat(byte[]... parts) {
    int n = 0;
    for (byte[] p : parts) {
      n += p.length;
    }
    byte[] out = new byte[n];
    int o = 0;
    for (byte[] p : parts) {
      System.arraycopy(p, 0, out, o, p.length);
      o += p.length;
    }
    return out;
  }
}
