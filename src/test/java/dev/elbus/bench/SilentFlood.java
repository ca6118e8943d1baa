package dev.elbus.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;

/**
 * Scenario 8's flood of silent sockets (issue 17, docs/reliability.md), as a process of its own:
 * opens {@code count} TCP connections to the broker as fast as it can and never sends a byte;
 * every 500 connections it closes those the broker has closed (so that it stays within its file
 * descriptors). Prints {@code FLOOD count ms open} (open: still open at the end), then closes
 * every socket.
 *
 * <pre>
 * java -cp target/test-classes dev.elbus.bench.SilentFlood HOST PORT [count=10050]
 * </pre>
 */
public final class SilentFlood {
  private SilentFlood() {}

  public static void main(String[] args) throws Exception {
    InetSocketAddress addr = new InetSocketAddress(args[0], Integer.parseInt(args[1]));
    int count = args.length > 2 ? Integer.parseInt(args[2]) : 10_050;
    List<SocketChannel> open = new ArrayList<>();
    ByteBuffer sink = ByteBuffer.allocate(64);
    long t0 = System.nanoTime();
    for (int i = 0; i < count; i++) {
      SocketChannel ch = SocketChannel.open(addr);
      ch.configureBlocking(false);
      open.add(ch);
      if (i % 500 == 499) {
        open.removeIf(c -> closedByBroker(c, sink));
      }
    }
    double ms = (System.nanoTime() - t0) / 1e6;
    open.removeIf(c -> closedByBroker(c, sink));
    System.out.printf("FLOOD %d %.0f %d%n", count, ms, open.size());
    System.out.flush();
    for (SocketChannel c : open) {
      c.close();
    }
  }

  /** Reads what the broker sent (its greeting); true, and closed, once the broker has closed. */
  private static boolean closedByBroker(SocketChannel c, ByteBuffer sink) {
    try {
      int n;
      do {
        sink.clear();
        n = c.read(sink);
      } while (n > 0);
      if (n < 0) {
        c.close();
        return true;
      }
      return false;
    } catch (IOException e) {
      try {
        c.close();
      } catch (IOException ignored) {
        // gone
      }
      return true;
    }
  }
}
