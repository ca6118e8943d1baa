package dev.elbus.eventbus;

import io.vertx.core.Future;

import java.util.Set;

/**
 * A running event-bus bridge (docs/eventbus.md), started by {@code Broker.bridge(BridgeOptions)}
 * or by the {@code bridge:} section of the configuration: inbound rules forward elbus
 * publications to event-bus addresses, outbound rules forward event-bus messages to elbus topics
 * or clients. Each distinct client name of its rules is one internal client of the broker.
 *
 * <p>The bridge stops with its broker, or with {@link #close}. Thread-safe.
 */
public interface Bridge {

  /** This bridge's id: the value of {@link EventBusHeaders#ORIGIN} on what it forwards. */
  String id();

  /** The rules and default client this bridge runs with (a copy). */
  BridgeOptions options();

  /** The names of the bridge's internal clients. */
  Set<String> clientNames();

  /** Stops consuming the outbound addresses and unregisters the bridge's clients. */
  Future<Void> close();
}
