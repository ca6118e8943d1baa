package dev.elbus.support;

import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/** Real HTTP requests to a monitoring endpoint, and its answers read. */
public final class Http {
  /** HTTP/1.1, as Prometheus scrapes (the JDK client would otherwise try an h2c upgrade). */
  private static final HttpClient CLIENT = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

  private Http() {}

  /** {@code GET http://127.0.0.1:port/path}. */
  public static HttpResponse<String> get(int port, String path) throws IOException,
      InterruptedException {
    return CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  /** The JSON of a {@code /health} or {@code /ready} answer. */
  public static JsonObject json(HttpResponse<String> r) {
    return new JsonObject(r.body());
  }

  /** The check {@code id} of a health answer ({@code {"id", "status", "data"}}). */
  public static JsonObject check(HttpResponse<String> r, String id) {
    for (Object o : json(r).getJsonArray("checks")) {
      JsonObject c = (JsonObject) o;
      if (id.equals(c.getString("id"))) {
        return c;
      }
    }
    throw new AssertionError("no check " + id + " in " + r.body());
  }

  /** The samples of a {@code /metrics} scrape. */
  public static Metrics metrics(int port) throws IOException, InterruptedException {
    HttpResponse<String> r = get(port, "/metrics");
    if (r.statusCode() != 200) {
      throw new AssertionError("/metrics answered " + r.statusCode() + ": " + r.body());
    }
    return Metrics.parse(r.body());
  }

  /**
   * The samples of Prometheus' text format, by series: {@code name{k="v",...}} with the labels
   * sorted by name.
   */
  public static final class Metrics {
    private final Map<String, Double> samples;
    private final String text;

    private Metrics(Map<String, Double> samples, String text) {
      this.samples = samples;
      this.text = text;
    }

    static Metrics parse(String text) {
      Map<String, Double> m = new HashMap<>();
      for (String line : text.split("\n")) {
        if (line.isEmpty() || line.startsWith("#")) {
          continue;
        }
        int sp = line.lastIndexOf(' ');
        String series = line.substring(0, sp);
        double v = Double.parseDouble(line.substring(sp + 1));
        int brace = series.indexOf('{');
        if (brace < 0) {
          m.put(key(series, Map.of()), v);
          continue;
        }
        Map<String, String> labels = new TreeMap<>();
        String body = series.substring(brace + 1, series.length() - 1);
        // label values of these tests have no quotes or commas of their own
        for (String kv : body.split("\",")) {
          if (kv.isEmpty()) {
            continue;
          }
          int eq = kv.indexOf('=');
          String val = kv.substring(eq + 2);
          labels.put(kv.substring(0, eq), val.endsWith("\"") ? val.substring(0, val.length() - 1)
              : val);
        }
        m.put(key(series.substring(0, brace), labels), v);
      }
      return new Metrics(m, text);
    }

    private static String key(String name, Map<String, String> labels) {
      StringBuilder sb = new StringBuilder(name).append('{');
      labels.forEach((k, v) -> sb.append(k).append("=\"").append(v).append("\","));
      return sb.append('}').toString();
    }

    /**
     * The value of {@code name} with the labels {@code k1, v1, k2, v2, ...} (all of the series'
     * labels); fails when the series is absent.
     */
    public double value(String name, String... labels) {
      Double v = find(name, labels);
      if (v == null) {
        throw new AssertionError("no series " + key(name, labelMap(labels)) + " in\n" + text);
      }
      return v;
    }

    /** The value, or {@code null} when the series is absent. */
    public Double find(String name, String... labels) {
      return samples.get(key(name, labelMap(labels)));
    }

    private static Map<String, String> labelMap(String... labels) {
      Map<String, String> l = new TreeMap<>();
      for (int i = 0; i < labels.length; i += 2) {
        l.put(labels[i], labels[i + 1]);
      }
      return l;
    }

    /** Whether any series is named {@code name}. */
    public boolean has(String name) {
      for (String k : samples.keySet()) {
        if (k.startsWith(name + "{")) {
          return true;
        }
      }
      return false;
    }

    public String text() {
      return text;
    }
  }
}
