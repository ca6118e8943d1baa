package dev.elbus.impl.core;

import dev.elbus.aaa.AaaParser;
import dev.elbus.impl.config.ConfigFiles;
import dev.elbus.impl.net.ListenerRuntime;
import io.vertx.config.ConfigRetriever;
import io.vertx.config.ConfigRetrieverOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;

/**
 * Loads a listener's AAA file with vertx-config and watches it (PROTOCOL.md section 11). The first
 * load must succeed (a configured but unreadable or invalid AAA file refuses to start: fail
 * closed). Later, every change that parses and validates replaces the policy atomically and the
 * broker disconnects exactly the clients whose rights changed; a malformed or unreadable file
 * keeps the last good policy in force and is logged once per problem, and a repaired file is
 * picked up.
 *
 * <p>The file is re-read every scan period by a timer of this class, not by the retriever's own
 * scan: the retriever logs every failed scan with a stack trace, which would flood the log once
 * per period for as long as a file stays broken.
 */
final class AaaWatcher {
  private static final Logger LOG = LoggerFactory.getLogger(AaaWatcher.class);

  private final Vertx vertx;
  private final BrokerImpl broker;
  private final ListenerRuntime listener;
  private final String file;
  private final long scanMs;
  private final ConfigRetriever retriever;

  // accessed on the timer's context only
  /** The content last read (valid or not), to act on changes only. */
  private JsonObject lastRead;
  /**
   * The problem last logged, {@code null} after a good read: each problem is logged once. Written
   * on the timer's context, read by the readiness check.
   */
  private volatile String lastProblem;
  /** The first load succeeded: the listener has its policy. */
  private volatile boolean loaded;
  private boolean scanning;
  private long timer = -1;
  private volatile boolean closed;

  AaaWatcher(Vertx vertx, BrokerImpl broker, ListenerRuntime listener, String file, long scanMs) {
    this.vertx = vertx;
    this.broker = broker;
    this.listener = listener;
    this.file = file;
    this.scanMs = scanMs;
    this.retriever = ConfigRetriever.create(vertx, new ConfigRetrieverOptions()
        .setScanPeriod(0).setIncludeDefaultStores(false)
        .addStore(ConfigFiles.store(file)));
  }

  /** Loads the file once and starts watching it. Fails with a message naming the file. */
  Future<Void> start() {
    return retriever.getConfig()
        .recover(e -> Future.failedFuture(new IllegalArgumentException(file + ": cannot read: "
            + describe(e))))
        .map(json -> {
          listener.aaa(AaaParser.parseOrThrow(json, file));
          lastRead = json;
          loaded = true;
          LOG.info("AAA for {}: {} client entr{} from {}", listener.label(),
              listener.aaa().size(), listener.aaa().size() == 1 ? "y" : "ies", file);
          synchronized (this) {
            if (!closed) {
              timer = vertx.setPeriodic(scanMs, id -> scan());
            }
          }
          return null;
        });
  }

  private void scan() {
    if (scanning || closed) {
      return;
    }
    scanning = true;
    retriever.getConfig().onComplete(ar -> {
      scanning = false;
      if (closed) {
        return;
      }
      if (ar.failed()) {
        problem("cannot read: " + describe(ar.cause()));
        return;
      }
      JsonObject json = ar.result();
      if (json.equals(lastRead)) {
        return;
      }
      lastRead = json;
      AaaParser.Result r = AaaParser.parse(json, file);
      if (!r.isOk()) {
        problem("invalid:\n  " + String.join("\n  ", r.errors()));
        return;
      }
      lastProblem = null;
      if (r.policy().equals(listener.aaa())) {
        return;
      }
      int dropped = broker.applyAaa(listener, r.policy());
      LOG.info("AAA for {} reloaded from {}: {} client entr{}, {} client{} disconnected",
          listener.label(), file, r.policy().size(), r.policy().size() == 1 ? "y" : "ies", dropped,
          dropped == 1 ? "" : "s");
    });
  }

  private void problem(String what) {
    if (!what.equals(lastProblem)) {
      lastProblem = what;
      LOG.error("AAA for {}: the policy in force is kept: {}: {}", listener.label(), file, what);
    }
  }

  /** The AAA file. */
  String file() {
    return file;
  }

  ListenerRuntime listener() {
    return listener;
  }

  /** Whether the first load succeeded (the listener has its policy from the file). */
  boolean loaded() {
    return loaded;
  }

  /**
   * Why the last read of a changed file was not applied (the policy in force is kept), or {@code
   * null} when the file in force is the file on disk.
   */
  String problem() {
    return lastProblem;
  }

  void close() {
    synchronized (this) {
      closed = true;
      if (timer != -1) {
        vertx.cancelTimer(timer);
      }
    }
    retriever.close();
  }

  /**
   * A one-line reason: "no such file", "permission denied", "the top level is not a map", or the
   * parser's message with its position ({@code ... at line 2, column 20: expected ',' ...}).
   */
  static String describe(Throwable e) {
    Throwable c = e;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    if (c instanceof NoSuchFileException) {
      return "no such file";
    }
    if (c instanceof AccessDeniedException) {
      return "permission denied";
    }
    if (c instanceof ClassCastException) {
      // the YAML processor casts the document to a map
      return "the top level is not a map (expected 'clients:')";
    }
    String m = c.getMessage() == null ? c.toString() : c.getMessage();
    // YAML parser messages: text lines, " in 'reader', line L, column C:", then an excerpt of the
    // file and a caret line (both indented); keep the text and the positions
    StringBuilder sb = new StringBuilder();
    for (String line : m.split("\n")) {
      String t = line.trim();
      if (t.isEmpty() || (Character.isWhitespace(line.charAt(0)) && !t.startsWith("in '"))) {
        continue;
      }
      if (t.startsWith("in '") && t.indexOf("', ") > 0) {
        t = "at " + t.substring(t.indexOf("', ") + 3);
      }
      sb.append(sb.length() == 0 ? "" : " ").append(t);
    }
    String out = sb.toString();
    return out.endsWith(":") ? out.substring(0, out.length() - 1) : out;
  }
}
