package dev.elbus;

import dev.elbus.impl.monitor.BrokerMeters;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;

/**
 * A broker's meters for an application's own Micrometer registry: the {@code elbus.*} meters
 * that the monitoring endpoint serves ({@code elbus_*} in Prometheus; README, "Monitoring"):
 *
 * <pre>{@code
 * ElbusMeters meters = new ElbusMeters(broker);       // or new ElbusMeters(broker, Tags.of("broker", "a"))
 * meters.bindTo(registry);                              // any MeterRegistry: Prometheus, JMX, a composite...
 * ...
 * meters.close();                                       // removes them again (the broker's close does not)
 * }</pre>
 *
 * <p>Nothing is counted for the meters: each reads, when the registry publishes it, a counter the
 * broker keeps anyway, so binding them costs the broker's hot path nothing. Bind one instance to
 * one registry; two brokers in one registry need distinct tags. Requires {@code
 * io.micrometer:micrometer-core} on the class path (an optional dependency of this library).
 */
public final class ElbusMeters implements MeterBinder, AutoCloseable {
  private final BrokerMeters meters;

  /** The meters of {@code broker}. */
  public ElbusMeters(Broker broker) {
    this(broker, Tags.empty());
  }

  /** The meters of {@code broker}, each with {@code tags} besides its own. */
  public ElbusMeters(Broker broker, Iterable<Tag> tags) {
    this.meters = new BrokerMeters(broker.impl(), tags);
  }

  /**
   * Registers the meters on {@code registry}.
   *
   * @throws IllegalStateException when this instance is bound already, or closed
   */
  @Override
  public void bindTo(MeterRegistry registry) {
    meters.bindTo(registry);
  }

  /** Removes every meter this instance registered from its registry. */
  @Override
  public void close() {
    meters.close();
  }
}
