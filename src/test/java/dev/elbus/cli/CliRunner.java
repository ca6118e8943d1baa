package dev.elbus.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.elbus.client.Frame;
import dev.elbus.client.NetworkClient;
import dev.elbus.support.TestBroker;
import dev.elbus.support.Transport;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** Runs {@link Cli} in-process against a {@link TestBroker}, plus Java peers for the tests. */
final class CliRunner implements AutoCloseable {
  /** Bound of every wait: generous, the machine is shared. */
  static final long TIMEOUT_S = 20;

  /** What one CLI run printed and returned. */
  record Result(int code, String out, String err) {
    /** The error stream's lines. */
    List<String> errLines() {
      return err.isEmpty() ? List.of() : List.of(err.split("\n"));
    }
  }

  final TestBroker broker;
  final Vertx vertx;
  private final List<NetworkClient> clients = new ArrayList<>();

  CliRunner(TestBroker broker) {
    this.broker = broker;
    this.vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true)
        .setEventLoopPoolSize(2));
  }

  /** The broker's address over {@code t}, as a user passes it to the CLI. */
  String path(Transport t) {
    return t == Transport.TCP ? "127.0.0.1:" + broker.port() : broker.socket().toString();
  }

  /** Runs {@code elbus ARGS} with empty stdin. */
  static Result run(String... args) {
    return runWithInput(new byte[0], args);
  }

  static Result runWithInput(byte[] stdin, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = Cli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8), new ByteArrayInputStream(stdin));
    return new Result(code, out.toString(StandardCharsets.UTF_8),
        err.toString(StandardCharsets.UTF_8));
  }

  /** Runs {@code elbus PATH ARGS} over {@code t}. */
  Result on(Transport t, String... args) {
    String[] all = new String[args.length + 1];
    all[0] = path(t);
    System.arraycopy(args, 0, all, 1, args.length);
    return run(all);
  }

  NetworkClient connect(Transport t, String name) throws Exception {
    NetworkClient c = await(NetworkClient.connect(vertx, path(t), name));
    synchronized (clients) {
      clients.add(c);
    }
    return c;
  }

  /** Collects a client's incoming frames (set before anyone sends to it). */
  static BlockingQueue<Frame> inbox(NetworkClient c) {
    BlockingQueue<Frame> q = new LinkedBlockingQueue<>();
    c.frameHandler(q::add);
    return q;
  }

  static Frame next(BlockingQueue<Frame> q) throws InterruptedException {
    Frame f = q.poll(TIMEOUT_S, TimeUnit.SECONDS);
    assertThat(f).as("a frame within %d s", TIMEOUT_S).isNotNull();
    return f;
  }

  static <T> T await(Future<T> f) throws Exception {
    return f.await(TIMEOUT_S, TimeUnit.SECONDS);
  }

  /** Polls {@code cond} until it holds, failing after the timeout. */
  static void eventually(String what, BooleanSupplier cond) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
    while (!cond.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(10);
    }
  }

  /** Whether a client named {@code name} is registered. */
  boolean registered(String name) {
    return broker.broker().clients().stream().anyMatch(c -> c.name().equals(name));
  }

  void closeClients() throws Exception {
    List<NetworkClient> cs;
    synchronized (clients) {
      cs = new ArrayList<>(clients);
      clients.clear();
    }
    for (NetworkClient c : cs) {
      await(c.close());
    }
  }

  @Override
  public void close() throws Exception {
    try {
      closeClients();
    } finally {
      vertx.close().await(TIMEOUT_S, TimeUnit.SECONDS);
    }
  }
}
