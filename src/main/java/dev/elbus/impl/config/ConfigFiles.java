package dev.elbus.impl.config;

import io.vertx.config.ConfigRetriever;
import io.vertx.config.ConfigRetrieverOptions;
import io.vertx.config.ConfigStoreOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Reads YAML or JSON configuration files with vertx-config (format chosen by extension). */
public final class ConfigFiles {
  private ConfigFiles() {}

  /** The vertx-config store of {@code path}: JSON for {@code *.json}, YAML otherwise. */
  public static ConfigStoreOptions store(String path) {
    String format = path.endsWith(".json") ? "json" : "yaml";
    return new ConfigStoreOptions().setType("file").setFormat(format)
        .setConfig(new JsonObject().put("path", path));
  }

  /**
   * Reads a file once, blocking (for start-up, off any event loop).
   *
   * @throws IllegalArgumentException with a message naming the file when it cannot be read or
   *     parsed
   */
  public static JsonObject read(Vertx vertx, String path) {
    if (!Files.isReadable(Path.of(path))) {
      throw new IllegalArgumentException(path + ": " + (Files.exists(Path.of(path))
          ? "not readable" : "no such file"));
    }
    ConfigRetriever r = ConfigRetriever.create(vertx,
        new ConfigRetrieverOptions().setScanPeriod(0).setIncludeDefaultStores(false)
            .addStore(store(path)));
    try {
      return r.getConfig().await(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      Throwable c = e;
      while (c.getCause() != null && c.getCause() != c) {
        c = c.getCause();
      }
      String msg = c.getMessage() == null ? c.toString() : c.getMessage().split("\n")[0];
      throw new IllegalArgumentException(path + ": cannot parse: " + msg);
    } finally {
      r.close();
    }
  }
}
