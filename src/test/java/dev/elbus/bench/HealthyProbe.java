package dev.elbus.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The healthy client of the hostile-client scenarios (issue 17, docs/reliability.md), as a
 * process of its own: on each address given, a client named {@code probe-N} subscribes to its own
 * topic and publishes to it with QoS 1 every {@code interval} ms, timing each round trip
 * (publication and ack 01 received). Blocking sockets, no client library, one thread per address.
 *
 * <p>Prints {@code READY} once every client is registered. A line {@code window LABEL} on stdin
 * starts a window: the round trips that start after it count under {@code LABEL} (until the next
 * window; before the first, under {@code -}). On a line {@code stop} (or the end of input) it
 * prints {@code PROBE address window n p50 p99 max} (milliseconds) per address and window, and
 * per address over every window whose label starts with {@code flood} ({@code flood*}), then
 * exits. A round trip that fails ends the process with status 1.
 *
 * <pre>
 * java -cp target/test-classes dev.elbus.bench.HealthyProbe [interval=20] ADDRESS...
 *     (ADDRESS: host:port or the path of a Unix socket; nats://host:port probes a nats-server the
 *     same way, over its text protocol: SUB, then PUB and the MSG back)
 * </pre>
 */
public final class HealthyProbe {
  /** The current window's label. */
  private static volatile String window = "-";

  private HealthyProbe() {}

  public static void main(String[] args) throws Exception {
    int interval = Integer.parseInt(args[0]);
    List<Prober> ps = new ArrayList<>();
    for (int i = 1; i < args.length; i++) {
      ps.add(new Prober(args[i], "probe-" + ProcessHandle.current().pid() + "-" + i, interval));
    }
    for (Prober p : ps) {
      p.start();
    }
    for (Prober p : ps) {
      p.ready.await();
    }
    System.out.println("READY");
    System.out.flush();
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in,
        StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null && !line.trim().equals("stop")) {
      if (line.startsWith("window ")) {
        window = line.substring(7).trim();
      }
    }
    for (Prober p : ps) {
      p.stopping = true;
      p.join(5_000);
    }
    for (Prober p : ps) {
      System.out.println(p.report());
    }
    System.out.flush();
    System.exit(0);
  }

  private static final class Prober extends Thread {
    final String address;
    final String name;
    final int interval;
    final java.util.concurrent.CountDownLatch ready = new java.util.concurrent.CountDownLatch(1);
    final List<Double> ms = new ArrayList<>();
    final List<String> windows = new ArrayList<>();
    volatile boolean stopping;
    private SocketChannel ch;
    private final ByteBuffer in = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);

    Prober(String address, String name, int interval) {
      this.address = address;
      this.name = name;
      this.interval = interval;
      setDaemon(true);
    }

    @Override
    public void run() {
      try {
        if (address.startsWith("nats://")) {
          runNats();
          return;
        }
        connect();
        byte[] topic = (name + "/rt").getBytes(StandardCharsets.UTF_8);
        send(frame(1, 0x02 | 1 << 6, topic));
        expectAck(1);
        ready.countDown();
        byte[] body = new byte[topic.length + 5];
        System.arraycopy(topic, 0, body, 0, topic.length);
        System.arraycopy("\0ping".getBytes(StandardCharsets.US_ASCII), 0, body, topic.length, 5);
        for (int op = 2; !stopping; op++) {
          String w = window;
          long t0 = System.nanoTime();
          send(frame(op, 0x01 | 1 << 6, body));
          byte[] pub = nextFrame();
          if (pub[0] != 0x01) {
            throw new IOException("expected a publication, got type " + pub[0]);
          }
          expectAck(op);
          synchronized (ms) {
            ms.add((System.nanoTime() - t0) / 1e6);
            windows.add(w);
          }
          Thread.sleep(interval);
        }
      } catch (Exception e) {
        if (!stopping) {
          System.out.println("FAILED " + address + " " + e);
          System.out.flush();
          System.exit(1);
        }
      }
    }

    /** The same round trip against a nats-server: its own subject, PUB, the MSG back. */
    private void runNats() throws Exception {
      int c = address.lastIndexOf(':');
      ch = SocketChannel.open(new InetSocketAddress(address.substring(7, c),
          Integer.parseInt(address.substring(c + 1))));
      ch.setOption(java.net.StandardSocketOptions.TCP_NODELAY, true);
      in.limit(0);
      String subject = name.replace('-', '_') + ".rt";
      send(("CONNECT {\"verbose\":false,\"pedantic\":false}\r\nSUB " + subject + " 1\r\nPING\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      while (!natsLine().equals("PONG")) {
        // INFO
      }
      ready.countDown();
      byte[] pub = ("PUB " + subject + " 4\r\nping\r\n").getBytes(StandardCharsets.US_ASCII);
      while (!stopping) {
        String w = window;
        long t0 = System.nanoTime();
        send(pub);
        String l;
        while (!(l = natsLine()).startsWith("MSG ")) {
          // a PING is answered by natsLine
        }
        natsLine(); // the payload
        synchronized (ms) {
          ms.add((System.nanoTime() - t0) / 1e6);
          windows.add(w);
        }
        Thread.sleep(interval);
      }
    }

    /** The next line from a nats-server, its PINGs answered with PONG on the way. */
    private String natsLine() throws IOException {
      while (true) {
        StringBuilder sb = new StringBuilder();
        while (true) {
          byte b = read(1)[0];
          if (b == '\n') {
            break;
          }
          if (b != '\r') {
            sb.append((char) b);
          }
        }
        String l = sb.toString();
        if (l.equals("PING")) {
          send("PONG\r\n".getBytes(StandardCharsets.US_ASCII));
          continue;
        }
        if (l.startsWith("-ERR")) {
          throw new IOException(l);
        }
        return l;
      }
    }

    private void connect() throws IOException {
      SocketAddress a;
      if (address.indexOf('/') >= 0) {
        a = UnixDomainSocketAddress.of(address);
        ch = SocketChannel.open(StandardProtocolFamily.UNIX);
      } else {
        int c = address.lastIndexOf(':');
        a = new InetSocketAddress(address.substring(0, c),
            Integer.parseInt(address.substring(c + 1)));
        ch = SocketChannel.open();
      }
      ch.connect(a);
      if (a instanceof InetSocketAddress) {
        ch.setOption(java.net.StandardSocketOptions.TCP_NODELAY, true);
      }
      in.limit(0);
      byte[] greeting = read(3);
      send(greeting);
      if (read(1)[0] != 0x01) {
        throw new IOException("greeting refused");
      }
      byte[] n = name.getBytes(StandardCharsets.UTF_8);
      ByteBuffer b = ByteBuffer.allocate(2 + n.length).order(ByteOrder.LITTLE_ENDIAN);
      b.putShort((short) n.length).put(n);
      send(b.array());
      if (read(1)[0] != 0x01) {
        throw new IOException("registration refused");
      }
    }

    private static byte[] frame(int op, int flags, byte[] body) {
      ByteBuffer b = ByteBuffer.allocate(9 + body.length).order(ByteOrder.LITTLE_ENDIAN);
      b.putInt(op).put((byte) flags).putInt(body.length).put(body);
      return b.array();
    }

    private void send(byte[] b) throws IOException {
      ByteBuffer w = ByteBuffer.wrap(b);
      while (w.hasRemaining()) {
        ch.write(w);
      }
    }

    private byte[] read(int n) throws IOException {
      byte[] out = new byte[n];
      int got = 0;
      while (got < n) {
        if (!in.hasRemaining()) {
          in.clear();
          if (ch.read(in) < 0) {
            throw new IOException("closed by the broker");
          }
          in.flip();
          continue;
        }
        int k = Math.min(n - got, in.remaining());
        in.get(out, got, k);
        got += k;
      }
      return out;
    }

    /** The next frame (its header and body), broker pings skipped. */
    private byte[] nextFrame() throws IOException {
      while (true) {
        byte[] h = read(6);
        if (h[0] == 0x00) {
          continue; // ping: 6 bytes
        }
        if ((h[0] & 0xFF) == 0xFE) {
          throw new IOException("unexpected ack");
        }
        int len = ByteBuffer.wrap(h, 1, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        byte[] f = Arrays.copyOf(h, 6 + len);
        System.arraycopy(read(len), 0, f, 6, len);
        return f;
      }
    }

    private void expectAck(int op) throws IOException {
      byte[] h;
      do {
        h = read(6);
      } while (h[0] == 0x00);
      int got = ByteBuffer.wrap(h, 1, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
      if ((h[0] & 0xFF) != 0xFE || got != op || h[5] != 0x01) {
        throw new IOException("expected ack " + op + " 01, got " + Arrays.toString(h));
      }
    }

    String report() {
      StringBuilder sb = new StringBuilder();
      synchronized (ms) {
        java.util.LinkedHashSet<String> labels = new java.util.LinkedHashSet<>(windows);
        for (String label : labels) {
          sb.append(line(label, l -> l.equals(label)));
        }
        if (labels.stream().anyMatch(l -> l.startsWith("flood"))) {
          sb.append(line("flood*", l -> l.startsWith("flood")));
        }
      }
      return sb.toString().stripTrailing();
    }

    private String line(String label, java.util.function.Predicate<String> in) {
      List<Double> sel = new ArrayList<>();
      for (int i = 0; i < ms.size(); i++) {
        if (in.test(windows.get(i))) {
          sel.add(ms.get(i));
        }
      }
      double[] l = sel.stream().mapToDouble(Double::doubleValue).sorted().toArray();
      if (l.length == 0) {
        return String.format("PROBE %s %s 0%n", address, label);
      }
      return String.format("PROBE %s %s %d %.2f %.2f %.2f%n", address, label, l.length,
          l[l.length / 2], l[(int) Math.min(l.length - 1, Math.ceil(l.length * 0.99) - 1)],
          l[l.length - 1]);
    }
  }
}
