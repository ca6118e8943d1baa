package dev.elbus.support;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Fails a test class when Netty's leak detector (PARANOID in every test JVM, see the pom) reports
 * a leaked buffer while it runs. Leak reports are logged by {@code io.netty.util.ResourceLeakDetector}
 * at ERROR with "LEAK:"; this extension captures them and runs GC at the end of the class so
 * that unreachable leaked buffers are detected and reported.
 *
 * <p>When the JVM runs Netty 4.2's {@code LeakPresenceDetector} instead ({@code
 * -Dio.netty.customResourceLeakDetector=io.netty.util.LeakPresenceDetector}, see
 * docs/reliability.md), the gate also calls its {@code check()} after the class (its brokers and
 * clients are closed by then): every buffer allocated since the previous check must have been
 * released, reachable or not.
 */
public final class LeakGate implements BeforeAllCallback, AfterAllCallback {
  private static final List<String> LEAKS = new CopyOnWriteArrayList<>();
  private static volatile boolean installed;

  private static synchronized void install() {
    if (installed) {
      return;
    }
    Logger l = (Logger) LoggerFactory.getLogger("io.netty.util.ResourceLeakDetector");
    AppenderBase<ILoggingEvent> a = new AppenderBase<>() {
      @Override
      protected void append(ILoggingEvent e) {
        if (e.getFormattedMessage().contains("LEAK:")) {
          LEAKS.add(e.getFormattedMessage());
        }
      }
    };
    a.setContext(l.getLoggerContext());
    a.start();
    l.addAppender(a);
    l.setLevel(ch.qos.logback.classic.Level.ERROR);
    installed = true;
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    install();
    LEAKS.clear();
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    // leaks are detected when a leaked buffer is collected and a later allocation polls the queue
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(50);
      io.netty.buffer.ByteBuf probe = io.netty.buffer.PooledByteBufAllocator.DEFAULT.buffer(1);
      probe.release();
      io.netty.buffer.ByteBuf probe2 = io.netty.buffer.UnpooledByteBufAllocator.DEFAULT.buffer(1);
      probe2.release();
    }
    if (!LEAKS.isEmpty()) {
      throw new AssertionError("Netty reported " + LEAKS.size() + " leak(s):\n" + LEAKS.get(0));
    }
    if (presenceDetector()) {
      try {
        io.netty.util.LeakPresenceDetector.check();
      } catch (IllegalStateException e) {
        throw new AssertionError("LeakPresenceDetector: " + e.getMessage(), e);
      }
    }
  }

  /** Is Netty's LeakPresenceDetector the leak detector of this JVM? */
  public static boolean presenceDetector() {
    return io.netty.util.LeakPresenceDetector.class.getName()
        .equals(System.getProperty("io.netty.customResourceLeakDetector"));
  }
}
