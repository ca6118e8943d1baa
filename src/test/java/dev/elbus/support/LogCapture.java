package dev.elbus.support;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;

/**
 * Collects the log events of a logger and its descendants while open (a logback appender). The
 * logger's level is left as configured ({@code dev.elbus} logs INFO and above).
 */
public final class LogCapture implements AutoCloseable {
  private final Logger logger;
  private final List<ILoggingEvent> events = new CopyOnWriteArrayList<>();
  private final AppenderBase<ILoggingEvent> appender;

  private LogCapture(String name) {
    this.logger = (Logger) LoggerFactory.getLogger(name);
    this.appender = new AppenderBase<>() {
      @Override
      protected void append(ILoggingEvent e) {
        e.prepareForDeferredProcessing();
        events.add(e);
      }
    };
    appender.setName("capture-" + System.identityHashCode(this));
    appender.setContext(logger.getLoggerContext());
    appender.start();
    logger.addAppender(appender);
  }

  /** Starts capturing the events of {@code loggerName} and the loggers below it. */
  public static LogCapture on(String loggerName) {
    return new LogCapture(loggerName);
  }

  public static LogCapture on(Class<?> c) {
    return new LogCapture(c.getName());
  }

  public List<ILoggingEvent> events() {
    return List.copyOf(events);
  }

  /** Events at {@code level} or above whose formatted message contains {@code text}. */
  public List<ILoggingEvent> matching(Level level, String text) {
    return events.stream()
        .filter(e -> e.getLevel().isGreaterOrEqual(level) && e.getFormattedMessage().contains(text))
        .collect(Collectors.toList());
  }

  /** Events above WARN (ERROR), formatted one per line, for an assertion message. */
  public List<String> aboveWarn() {
    return events.stream().filter(e -> e.getLevel().isGreaterOrEqual(Level.ERROR))
        .map(e -> e.getLevel() + " " + e.getLoggerName() + " - " + e.getFormattedMessage())
        .collect(Collectors.toList());
  }

  public void clear() {
    events.clear();
  }

  @Override
  public void close() {
    logger.detachAppender(appender);
    appender.stop();
  }
}
