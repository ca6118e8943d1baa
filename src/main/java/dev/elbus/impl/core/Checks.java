package dev.elbus.impl.core;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Named conditions of a broker, evaluated when asked: its liveness ({@link BrokerImpl#liveness()}:
 * it runs and its event loops answer) and its readiness ({@link BrokerImpl#readiness()}: every
 * listener bound, the AAA files loaded). The HTTP monitor serves them as {@code /health} and
 * {@code /ready}. Other parts of the implementation add their own conditions, e.g. the
 * clustering's "the cluster joined" ({@code broker.readiness().register("cluster", ...)}).
 *
 * <p>Thread-safe.
 */
public final class Checks {
  /** One condition. */
  @FunctionalInterface
  public interface Check {
    /**
     * Evaluates the condition, without blocking: succeeds (with details, or {@code null}) when it
     * holds, fails when it does not (a {@link NotMet} carries details). A check that does not
     * complete within the monitor's deadline counts as failed.
     */
    Future<JsonObject> check();
  }

  /** A condition that does not hold, with what a reader needs to know why. */
  public static final class NotMet extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final transient JsonObject data;

    public NotMet(String reason, JsonObject data) {
      super(reason, null, false, false);
      this.data = data == null ? new JsonObject() : data;
    }

    public NotMet(String reason) {
      this(reason, null);
    }

    /** The details, {@code reason} included. */
    public JsonObject data() {
      return data.copy().put("reason", getMessage());
    }
  }

  private final Map<String, Check> checks = new LinkedHashMap<>();

  /** Adds (or replaces) the condition {@code name}. */
  public synchronized void register(String name, Check check) {
    checks.put(name, check);
  }

  /** Removes the condition {@code name}, if present. */
  public synchronized void unregister(String name) {
    checks.remove(name);
  }

  /** The conditions now, in the order they were added. */
  public synchronized Map<String, Check> all() {
    return new LinkedHashMap<>(checks);
  }
}
