package dev.elbus.client;

import dev.elbus.support.Transport;

import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A scripted stand-in for a broker: accepts one connection and runs a script of exact bytes on
 * it in its own thread, to test what the client sends and how it treats odd broker behaviour.
 * Reads block; closing the fake unblocks them.
 */
final class FakeBroker implements AutoCloseable {
  /** What the fake does with the accepted connection. */
  interface Script {
    void run(Peer peer) throws Exception;
  }

  private final ServerSocketChannel server;
  private final Path dir;
  private final Path socket;
  private final String path;
  private final CompletableFuture<Void> done = new CompletableFuture<>();
  private volatile SocketChannel accepted;

  private FakeBroker(Transport t, Script script) throws IOException {
    if (t == Transport.TCP) {
      dir = null;
      socket = null;
      server = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
      path = "127.0.0.1:" + ((InetSocketAddress) server.getLocalAddress()).getPort();
    } else {
      dir = Files.createTempDirectory("elbus-fake");
      socket = dir.resolve("fake.sock");
      server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)
          .bind(UnixDomainSocketAddress.of(socket));
      path = socket.toString();
    }
    Thread th = new Thread(() -> {
      try {
        accepted = server.accept();
        script.run(new Peer(accepted));
        done.complete(null);
      } catch (Throwable e) {
        done.completeExceptionally(e);
      }
    }, "fake-broker");
    th.setDaemon(true);
    th.start();
  }

  static FakeBroker start(Transport t, Script script) throws IOException {
    return new FakeBroker(t, script);
  }

  /** Accepts the next connection (for a script that expects the client to come back). */
  Peer acceptNext() throws IOException {
    SocketChannel ch = server.accept();
    accepted = ch;
    return new Peer(ch);
  }

  /** The address to give {@link NetworkClient#connect}. */
  String path() {
    return path;
  }

  /** Waits for the script to finish and rethrows its failure. */
  void awaitScript() throws Exception {
    done.get(ClientTestSupport.TIMEOUT_S, TimeUnit.SECONDS);
  }

  @Override
  public void close() throws IOException {
    SocketChannel ch = accepted;
    if (ch != null) {
      ch.close();
    }
    server.close();
    if (socket != null) {
      Files.deleteIfExists(socket);
      Files.deleteIfExists(dir);
    }
  }

  /** The accepted connection, with blocking byte-exact helpers. */
  static final class Peer {
    private final SocketChannel ch;

    Peer(SocketChannel ch) {
      this.ch = ch;
    }

    byte[] read(int n) throws IOException {
      ByteBuffer b = ByteBuffer.allocate(n);
      while (b.hasRemaining()) {
        if (ch.read(b) < 0) {
          throw new EOFException("client closed after " + b.position() + " of " + n + " bytes");
        }
      }
      return b.array();
    }

    Peer expect(byte[] expected) throws IOException {
      byte[] got = read(expected.length);
      if (!Arrays.equals(expected, got)) {
        throw new AssertionError("expected " + HexFormat.ofDelimiter(" ").formatHex(expected)
            + " but got " + HexFormat.ofDelimiter(" ").formatHex(got));
      }
      return this;
    }

    Peer send(byte[] bytes) throws IOException {
      ByteBuffer b = ByteBuffer.wrap(bytes);
      while (b.hasRemaining()) {
        ch.write(b);
      }
      return this;
    }

    /** Expects the client to close the connection, discarding anything it still sends. */
    void expectEof() throws IOException {
      ByteBuffer b = ByteBuffer.allocate(4096);
      while (true) {
        b.clear();
        try {
          if (ch.read(b) < 0) {
            return;
          }
        } catch (IOException e) {
          return; // reset
        }
      }
    }

    void close() throws IOException {
      ch.close();
    }
  }
}
