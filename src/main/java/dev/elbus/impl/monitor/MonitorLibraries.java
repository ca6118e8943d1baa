package dev.elbus.impl.monitor;

import java.util.ArrayList;
import java.util.List;

/**
 * Whether the monitoring endpoint's optional dependencies are on the class path. Refers to none of
 * their classes, so it loads without them ({@link Monitor} does not).
 */
public final class MonitorLibraries {
  /** A class of each library the endpoint needs, with the library's Maven coordinates. */
  private static final String[][] LIBRARIES = {
      {"io.vertx.micrometer.MicrometerMetricsOptions", "io.vertx:vertx-micrometer-metrics"},
      {"io.micrometer.prometheusmetrics.PrometheusMeterRegistry",
          "io.micrometer:micrometer-registry-prometheus"},
      {"io.vertx.ext.healthchecks.HealthChecks", "io.vertx:vertx-health-check"}};

  private MonitorLibraries() {}

  /**
   * {@code null} when every library is present, else a sentence naming the missing ones (for
   * the one-line error of a configuration that sets {@code http}).
   */
  public static String missing() {
    List<String> missing = new ArrayList<>();
    for (String[] l : LIBRARIES) {
      try {
        Class.forName(l[0], false, MonitorLibraries.class.getClassLoader());
      } catch (ClassNotFoundException | LinkageError e) {
        missing.add(l[1]);
      }
    }
    return missing.isEmpty() ? null : "the monitoring endpoint needs " + String.join(", ", missing)
        + " on the class path (README, \"Monitoring\")";
  }
}
