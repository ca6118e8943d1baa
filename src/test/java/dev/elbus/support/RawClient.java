package dev.elbus.support;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * A byte-level elbus peer for tests: send exact bytes, expect exact bytes, expect the broker to
 * close. Reads are bounded by a timeout; nothing here uses the project's own codec.
 */
public final class RawClient implements AutoCloseable {
  /** Default read timeout. */
  public static final long TIMEOUT_MS = 5_000;

  private final SocketChannel ch;
  private final Selector selector;

  private RawClient(SocketChannel ch) throws IOException {
    this.ch = ch;
    ch.configureBlocking(false);
    this.selector = Selector.open();
    ch.register(selector, SelectionKey.OP_READ);
  }

  public static RawClient tcp(String host, int port) throws IOException {
    SocketChannel ch = SocketChannel.open(new InetSocketAddress(host, port));
    ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
    return new RawClient(ch);
  }

  public static RawClient unix(Path path) throws IOException {
    SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
    ch.connect(UnixDomainSocketAddress.of(path));
    return new RawClient(ch);
  }

  /** A connection over {@code t}: TCP to 127.0.0.1:{@code port}, or the Unix socket. */
  public static RawClient open(Transport t, int port, Path socket) throws IOException {
    return t == Transport.TCP ? tcp("127.0.0.1", port) : unix(socket);
  }

  /**
   * Runs the handshake as {@code name} and asserts that the broker registered it (the
   * connection is closed otherwise); {@code where} names the broker in the failure.
   */
  public RawClient registerAs(String name, String where) throws IOException {
    int code = handshake(name);
    if (code != 0x01) {
      close();
      throw new AssertionError("registration of " + name + where + " failed: 0x"
          + Integer.toHexString(code));
    }
    return this;
  }

  /** Sets SO_RCVBUF (before the peer fills it). */
  public RawClient receiveBuffer(int bytes) throws IOException {
    ch.setOption(StandardSocketOptions.SO_RCVBUF, bytes);
    return this;
  }

  /**
   * Runs the handshake: expects {@code EB 01 00}, echoes it, expects {@code 01}, sends the name.
   *
   * @return the broker's registration response byte
   */
  public int handshake(String name) throws IOException {
    return handshake(name, TIMEOUT_MS);
  }

  /**
   * {@link #handshake(String)}, waiting up to {@code greetingTimeoutMs} for the broker's
   * greeting (a listener pacing its accepts keeps a new connection in its accept queue).
   */
  public int handshake(String name, long greetingTimeoutMs) throws IOException {
    byte[] greeting = read(3, greetingTimeoutMs);
    if (!Arrays.equals(greeting, bytes(0xEB, 0x01, 0x00))) {
      throw new AssertionError("expected the greeting EB 01 00 but got "
          + HexFormat.ofDelimiter(" ").formatHex(greeting));
    }
    send(0xEB, 0x01, 0x00);
    expect(0x01);
    byte[] n = name.getBytes(StandardCharsets.UTF_8);
    send(le16(n.length), n);
    return read(1)[0] & 0xFF;
  }

  public RawClient send(byte[]... parts) throws IOException {
    int len = 0;
    for (byte[] p : parts) {
      len += p.length;
    }
    ByteBuffer b = ByteBuffer.allocate(len);
    for (byte[] p : parts) {
      b.put(p);
    }
    b.flip();
    writeFully(b);
    return this;
  }

  public RawClient send(int... bytes) throws IOException {
    return send(bytes(bytes));
  }

  /** Sends hex (spaces allowed), e.g. {@code "EB 01 00"}. */
  public RawClient sendHex(String hex) throws IOException {
    return send(hex(hex));
  }

  /** Sends a client frame: op id, flags (op | qos << 6), length, body. */
  public RawClient frame(int opId, int op, int qos, byte[] body) throws IOException {
    ByteBuffer h = ByteBuffer.allocate(9).order(ByteOrder.LITTLE_ENDIAN);
    h.putInt(opId).put((byte) (op | (qos << 6))).putInt(body.length);
    return send(h.array(), body);
  }

  /** Sends a client frame whose body is {@code target 00 payload}. */
  public RawClient frame(int opId, int op, int qos, String target, byte[] payload)
      throws IOException {
    return frame(opId, op, qos, concat(utf8(target), new byte[] {0}, payload));
  }

  private void writeFully(ByteBuffer b) throws IOException {
    long deadline = System.nanoTime() + TIMEOUT_MS * 1_000_000;
    while (b.hasRemaining()) {
      if (ch.write(b) == 0) {
        if (System.nanoTime() > deadline) {
          throw new IOException("write timed out");
        }
        Thread.onSpinWait();
      }
    }
  }

  /** Reads exactly {@code n} bytes within the default timeout. */
  public byte[] read(int n) throws IOException {
    return read(n, TIMEOUT_MS);
  }

  public byte[] read(int n, long timeoutMs) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(n);
    long deadline = System.nanoTime() + timeoutMs * 1_000_000;
    while (b.hasRemaining()) {
      long left = (deadline - System.nanoTime()) / 1_000_000;
      if (left <= 0) {
        throw new IOException("timed out after " + timeoutMs + " ms with " + b.position() + " of "
            + n + " bytes: " + HexFormat.ofDelimiter(" ").formatHex(b.array(), 0, b.position()));
      }
      selector.select(left);
      selector.selectedKeys().clear();
      int r = ch.read(b);
      if (r < 0) {
        throw new IOException("closed by broker after " + b.position() + " of " + n + " bytes: "
            + HexFormat.ofDelimiter(" ").formatHex(b.array(), 0, b.position()));
      }
    }
    return b.array();
  }

  /** Reads exactly as many bytes as expected and asserts they are equal. */
  public RawClient expect(byte[] expected) throws IOException {
    byte[] got = read(expected.length);
    if (!Arrays.equals(expected, got)) {
      throw new AssertionError("expected " + HexFormat.ofDelimiter(" ").formatHex(expected)
          + " but got " + HexFormat.ofDelimiter(" ").formatHex(got));
    }
    return this;
  }

  public RawClient expect(int... bytes) throws IOException {
    return expect(bytes(bytes));
  }

  public RawClient expectHex(String hex) throws IOException {
    return expect(hex(hex));
  }

  /** Expects an ack {@code FE <opId> <code>}. */
  public RawClient expectAck(int opId, int code) throws IOException {
    return expect(concat(new byte[] {(byte) 0xFE}, le32(opId), new byte[] {(byte) code}));
  }

  /**
   * Reads the next broker frame whole (header and body, or a six-byte ack), skipping broker pings
   * (which must be six zero bytes).
   */
  public byte[] nextFrame(long timeoutMs) throws IOException {
    while (true) {
      byte[] h = read(6, timeoutMs);
      int type = h[0] & 0xFF;
      if (type == 0x00) {
        if (!Arrays.equals(h, new byte[6])) {
          throw new AssertionError("malformed broker ping: " + HexFormat.ofDelimiter(" ")
              .formatHex(h));
        }
        continue;
      }
      if (type == 0xFE) {
        return h;
      }
      long len = ByteBuffer.wrap(h, 1, 4).order(ByteOrder.LITTLE_ENDIAN).getInt() & 0xFFFFFFFFL;
      if (len > 64L * 1024 * 1024) {
        throw new AssertionError("implausible broker frame length " + len + ": "
            + HexFormat.ofDelimiter(" ").formatHex(h));
      }
      return concat(h, read((int) len, timeoutMs));
    }
  }

  public byte[] nextFrame() throws IOException {
    return nextFrame(TIMEOUT_MS);
  }

  /**
   * Reads and discards whatever arrives for {@code ms}.
   *
   * @return the bytes discarded, or -1 when the broker closed the connection
   */
  public long discard(long ms) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(65536);
    long n = 0;
    long deadline = System.nanoTime() + ms * 1_000_000;
    while (true) {
      long left = (deadline - System.nanoTime()) / 1_000_000;
      if (left <= 0) {
        return n;
      }
      selector.select(left);
      selector.selectedKeys().clear();
      b.clear();
      int r = ch.read(b);
      if (r < 0) {
        return -1;
      }
      n += r;
    }
  }

  /** Asserts nothing arrives for {@code ms} (pings excluded is the caller's business). */
  public RawClient expectSilence(long ms) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(64);
    long deadline = System.nanoTime() + ms * 1_000_000;
    while (true) {
      long left = (deadline - System.nanoTime()) / 1_000_000;
      if (left <= 0) {
        return this;
      }
      selector.select(left);
      selector.selectedKeys().clear();
      int r = ch.read(b);
      if (r > 0) {
        throw new AssertionError("expected silence but got "
            + HexFormat.ofDelimiter(" ").formatHex(b.array(), 0, b.position()));
      }
      if (r < 0) {
        throw new AssertionError("expected silence but the broker closed the connection");
      }
    }
  }

  /** Asserts the broker closes the connection within {@code ms}, discarding bytes before EOF. */
  public RawClient expectClosed(long ms) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(65536);
    long deadline = System.nanoTime() + ms * 1_000_000;
    while (true) {
      long left = (deadline - System.nanoTime()) / 1_000_000;
      if (left <= 0) {
        throw new AssertionError("connection still open after " + ms + " ms");
      }
      selector.select(left);
      selector.selectedKeys().clear();
      b.clear();
      int r;
      try {
        r = ch.read(b);
      } catch (IOException e) {
        return this; // reset by the broker
      }
      if (r < 0) {
        return this;
      }
    }
  }

  public boolean isOpen() {
    return ch.isOpen();
  }

  /** The local address of this socket (for TCP, the {@code ip:port} the broker sees as source). */
  public java.net.SocketAddress localAddress() throws IOException {
    return ch.getLocalAddress();
  }

  @Override
  public void close() throws IOException {
    selector.close();
    ch.close();
  }

  /** Shuts this side's output down (a half close): the broker reads the end of input. */
  public RawClient shutdownOutput() throws IOException {
    ch.shutdownOutput();
    return this;
  }

  /** Closes with RST (SO_LINGER 0) on TCP; a plain close elsewhere. */
  public void abort() throws IOException {
    try {
      ch.setOption(StandardSocketOptions.SO_LINGER, 0);
    } catch (UnsupportedOperationException | IOException e) {
      // Unix sockets have no linger
    }
    close();
  }

  // ------------------------------------------------------------------ byte helpers

  public static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  public static byte[] le16(int v) {
    return new byte[] {(byte) v, (byte) (v >>> 8)};
  }

  public static byte[] le32(int v) {
    return new byte[] {(byte) v, (byte) (v >>> 8), (byte) (v >>> 16), (byte) (v >>> 24)};
  }

  public static byte[] bytes(int... v) {
    byte[] b = new byte[v.length];
    for (int i = 0; i < v.length; i++) {
      b[i] = (byte) v[i];
    }
    return b;
  }

  public static byte[] hex(String hex) {
    return HexFormat.of().parseHex(hex.replace(" ", ""));
  }

  public static byte[] concat(byte[]... parts) {
    int len = 0;
    for (byte[] p : parts) {
      len += p.length;
    }
    byte[] out = new byte[len];
    int o = 0;
    for (byte[] p : parts) {
      System.arraycopy(p, 0, out, o, p.length);
      o += p.length;
    }
    return out;
  }

  /**
   * The exact bytes of a broker frame: type, u32 body length, realtime byte, then {@code sender
   * 00 [topic 00] payload}.
   */
  public static byte[] brokerFrame(int type, boolean realtime, String sender, String topic,
      byte[] payload) {
    byte[] body = topic == null ? concat(utf8(sender), new byte[] {0}, payload)
        : concat(utf8(sender), new byte[] {0}, utf8(topic), new byte[] {0}, payload);
    return concat(new byte[] {(byte) type}, le32(body.length), new byte[] {(byte) (realtime ? 1 : 0)},
        body);
  }
}
