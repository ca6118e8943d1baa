package dev.elbus;

import dev.elbus.aaa.AaaParser;
import dev.elbus.config.ConfigFiles;
import dev.elbus.net.ListenerRuntime;
import io.vertx.config.ConfigRetriever;
import io.vertx.config.ConfigRetrieverOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads a listener's AAA file with vertx-config and watches it (PROTOCOL.md section 11). The first
 * load must succeed (a configured but unreadable or invalid AAA file refuses to start: fail
 * closed). Later, every change that parses and validates replaces the policy atomically and the
 * broker disconnects exactly the clients whose rights changed; a malformed or unreadable file
 * keeps the last good policy in force and is logged, and a repaired file is picked up.
 */
final class AaaWatcher {
  private static final Logger LOG = LoggerFactory.getLogger(AaaWatcher.class);

  private final Broker broker;
  private final ListenerRuntime listener;
  private final String file;
  private final ConfigRetriever retriever;

  AaaWatcher(Vertx vertx, Broker broker, ListenerRuntime listener, String file, long scanMs) {
    this.broker = broker;
    this.listener = listener;
    this.file = file;
    this.retriever = ConfigRetriever.create(vertx, new ConfigRetrieverOptions()
        .setScanPeriod(scanMs).setIncludeDefaultStores(false)
        .addStore(ConfigFiles.store(file)));
  }

  /** Loads the file once and starts watching it. Fails with a message naming the file. */
  Future<Void> start() {
    return retriever.getConfig()
        .recover(e -> Future.failedFuture(new IllegalArgumentException(file + ": cannot read: "
            + firstLine(e))))
        .map(json -> {
          listener.aaa(AaaParser.parseOrThrow(json, file));
          LOG.info("AAA for {}: {} client entr{} from {}", listener.label(),
              listener.aaa().size(), listener.aaa().size() == 1 ? "y" : "ies", file);
          retriever.configStream().exceptionHandler(e -> LOG.error(
              "{}: cannot read, the AAA policy in force is kept: {}", file, firstLine(e)));
          retriever.listen(change -> onChange(change.getNewConfiguration()));
          return null;
        });
  }

  private void onChange(JsonObject json) {
    AaaParser.Result r = AaaParser.parse(json, file);
    if (!r.isOk()) {
      LOG.error("{}: invalid, the AAA policy in force is kept:\n  {}", file,
          String.join("\n  ", r.errors()));
      return;
    }
    if (r.policy().equals(listener.aaa())) {
      return;
    }
    int dropped = broker.applyAaa(listener, r.policy());
    LOG.info("AAA for {} reloaded from {}: {} client entr{}, {} client{} disconnected",
        listener.label(), file, r.policy().size(), r.policy().size() == 1 ? "y" : "ies", dropped,
        dropped == 1 ? "" : "s");
  }

  void close() {
    retriever.close();
  }

  private static String firstLine(Throwable e) {
    Throwable c = e;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    String m = c.getMessage() == null ? c.toString() : c.getMessage();
    return m.split("\n")[0];
  }
}
