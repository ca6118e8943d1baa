package dev.elbus.eventbus;

import dev.elbus.config.InternalClientOptions;
import java.util.ArrayList;
import java.util.List;

/**
 * The rules of an event-bus bridge (docs/eventbus.md) and the internal client they run under by
 * default, {@value #DEFAULT_CLIENT}: a name starting with {@code .} is reserved for internal
 * clients, so no network client can take it or pose as the bridge. Every distinct client name
 * becomes one internal client of the broker (kind {@code internal} in {@code client.list}, with
 * its own counters and queue), in RPC mode, without an event-bus address of its own.
 */
public final class BridgeOptions {
  /** The default internal client name of bridge rules. */
  public static final String DEFAULT_CLIENT = ".bridge";

  private String client = DEFAULT_CLIENT;
  private int window = InternalClientOptions.DEFAULT_WINDOW;
  private final List<InboundRule> inbound = new ArrayList<>();
  private final List<OutboundRule> outbound = new ArrayList<>();

  public BridgeOptions() {}

  public BridgeOptions(BridgeOptions o) {
    this.client = o.client;
    this.window = o.window;
    this.inbound.addAll(o.inbound);
    this.outbound.addAll(o.outbound);
  }

  /** The internal client of rules that name none. */
  public String getClient() {
    return client;
  }

  public BridgeOptions setClient(String client) {
    checkClientName(client);
    this.client = client;
    return this;
  }

  /** Event-bus messages in flight at most per inbound address (see InternalClientOptions). */
  public int getWindow() {
    return window;
  }

  public BridgeOptions setWindow(int window) {
    if (window < 1) {
      throw new IllegalArgumentException("window must be positive: " + window);
    }
    this.window = window;
    return this;
  }

  public List<InboundRule> getInbound() {
    return inbound;
  }

  public List<OutboundRule> getOutbound() {
    return outbound;
  }

  public BridgeOptions addInbound(InboundRule rule) {
    inbound.add(rule);
    return this;
  }

  public BridgeOptions addOutbound(OutboundRule rule) {
    outbound.add(rule);
    return this;
  }

  /** Whether there is no rule. */
  public boolean isEmpty() {
    return inbound.isEmpty() && outbound.isEmpty();
  }

  /** The client a rule naming {@code client} runs under. */
  public String clientOf(String ruleClient) {
    return ruleClient != null ? ruleClient : client;
  }

  /**
   * Checks a bridge client name: not empty, no NUL character, not a secondary.
   *
   * @throws IllegalArgumentException saying what is wrong
   */
  public static void checkClientName(String name) {
    if (name == null || name.isEmpty() || name.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("client name is missing or contains a NUL character");
    }
    if (name.contains("%%")) {
      throw new IllegalArgumentException("a bridge client cannot be a secondary (" + name + ")");
    }
  }
}
