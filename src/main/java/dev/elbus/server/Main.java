package dev.elbus.server;

import dev.elbus.Broker;
import dev.elbus.BrokerOptions;
import dev.elbus.ListenerOptions;
import dev.elbus.config.Bind;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The stand-alone broker: {@code java -jar elbus.jar -B ADDR [-B ADDR ...] [-t SECONDS] [-w N]}.
 * Bind addresses follow elbusd (PROTOCOL.md section 13).
 */
public final class Main {
  private static final Logger LOG = LoggerFactory.getLogger(Main.class);

  private Main() {}

  public static void main(String[] args) {
    System.exit(run(args));
  }

  static int run(String[] args) {
    List<String> binds = new ArrayList<>();
    long timeoutMs = dev.elbus.protocol.Protocol.DEFAULT_TIMEOUT_MS;
    int workers = Runtime.getRuntime().availableProcessors();
    try {
      for (int i = 0; i < args.length; i++) {
        String a = args[i];
        switch (a) {
          case "-B":
          case "--bind":
            binds.add(value(args, ++i, a));
            break;
          case "-t":
          case "--timeout":
            timeoutMs = Math.round(Double.parseDouble(value(args, ++i, a)) * 1000);
            break;
          case "-w":
          case "--workers":
            workers = Integer.parseInt(value(args, ++i, a));
            break;
          case "-h":
          case "--help":
            System.out.println("usage: elbusd -B ADDR [-B ADDR ...] [-t SECONDS] [-w WORKERS]\n"
                + "  ADDR: /path or *.sock|*.socket|*.ipc = Unix socket, HOST:PORT = TCP");
            return 0;
          default:
            throw new IllegalArgumentException("unknown option " + a);
        }
      }
      if (binds.isEmpty()) {
        throw new IllegalArgumentException("at least one -B ADDR is required");
      }
      List<ListenerOptions> listeners = new ArrayList<>();
      for (String b : binds) {
        listeners.add(new ListenerOptions().setBind(Bind.parse(b)).setTimeoutMs(timeoutMs));
      }
      Vertx vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true));
      Broker broker = Broker.create(vertx, new BrokerOptions().setWorkers(workers));
      CountDownLatch done = new CountDownLatch(1);
      Throwable[] failure = new Throwable[1];
      broker.deploy(listeners).onComplete(ar -> {
        failure[0] = ar.cause();
        done.countDown();
      });
      done.await(30, TimeUnit.SECONDS);
      if (failure[0] != null) {
        System.err.println("elbusd: " + failure[0].getMessage());
        vertx.close();
        return 1;
      }
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        CountDownLatch stopped = new CountDownLatch(1);
        broker.close().eventually(vertx::close).onComplete(ar -> stopped.countDown());
        try {
          stopped.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }, "elbus-shutdown"));
      LOG.info("elbus broker started ({} worker{}, native transport: {})", workers,
          workers == 1 ? "" : "s", vertx.isNativeTransportEnabled());
      Thread.currentThread().join();
      return 0;
    } catch (IllegalArgumentException e) {
      System.err.println("elbusd: " + e.getMessage());
      return 2;
    } catch (InterruptedException e) {
      return 0;
    }
  }

  private static String value(String[] args, int i, String flag) {
    if (i >= args.length) {
      throw new IllegalArgumentException(flag + " needs a value");
    }
    return args[i];
  }
}
