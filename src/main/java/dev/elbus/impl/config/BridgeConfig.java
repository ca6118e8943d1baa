package dev.elbus.impl.config;

import dev.elbus.config.BrokerOptions;
import dev.elbus.eventbus.BridgeOptions;
import dev.elbus.eventbus.InboundRule;
import dev.elbus.eventbus.OutboundRule;
import dev.elbus.protocol.QoS;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.Set;

/**
 * The {@code bridge:} section of {@code conf/elbus.yaml}: the broker's event-bus address and the
 * bridge rules. Every error names the file, the entry and the bad value.
 *
 * <pre>
 * bridge:
 *   broker_address: elbus.broker  # request/response address; false: none
 *   client: .bridge               # internal client of rules that name none
 *   window: 512                   # event-bus messages in flight per inbound address
 *   inbound:                      # elbus topic -> event-bus address
 *     - topic: sensors/#
 *       address: app.sensors
 *       mode: publish             # publish (every consumer, default) | send (one consumer)
 *       client: .bridge.sensors   # optional
 *   outbound:                     # event-bus address -> elbus topic or client
 *     - address: app.status
 *       topic: app/status         # or target: CLIENT (a direct message)
 *       qos: 1                    # 0-3, default 1
 * </pre>
 *
 * @param brokerAddress the broker's event-bus address, {@code null} for none
 * @param options the bridge rules (empty: no bridge)
 */
public record BridgeConfig(String brokerAddress, BridgeOptions options) {
  private static final Set<String> KEYS = Set.of("broker_address", "client", "window", "inbound",
      "outbound");
  private static final Set<String> INBOUND_KEYS = Set.of("topic", "address", "mode", "client");
  private static final Set<String> OUTBOUND_KEYS = Set.of("address", "topic", "target", "qos",
      "client");

  /** No {@code bridge:} section: the default broker address and no rules. */
  public static BridgeConfig defaults() {
    return new BridgeConfig(BrokerOptions.DEFAULT_EVENT_BUS_ADDRESS, new BridgeOptions());
  }

  /**
   * Parses the value of the {@code bridge} key ({@code null}: {@link #defaults}).
   *
   * @param source the file name, for error messages
   * @throws IllegalArgumentException naming {@code source}, the entry and the bad value
   */
  public static BridgeConfig parse(Object value, String source) {
    if (value == null) {
      return defaults();
    }
    String w = source + ": bridge: ";
    if (!(value instanceof JsonObject)) {
      throw new IllegalArgumentException(w + "must be a map, got '" + value + "'");
    }
    JsonObject j = (JsonObject) value;
    unknownKeys(j, KEYS, w);
    String brokerAddress = BrokerOptions.DEFAULT_EVENT_BUS_ADDRESS;
    if (j.containsKey("broker_address")) {
      Object a = j.getValue("broker_address");
      if (Boolean.FALSE.equals(a) || a == null) {
        brokerAddress = null;
      } else if (a instanceof String && !((String) a).isEmpty()) {
        brokerAddress = (String) a;
      } else {
        throw new IllegalArgumentException(w + "broker_address must be an event-bus address or "
            + "false, got '" + a + "'");
      }
    }
    BridgeOptions o = new BridgeOptions();
    if (j.containsKey("client")) {
      o.setClient(clientName(j.getValue("client"), w));
    }
    if (j.containsKey("window")) {
      Object v = j.getValue("window");
      if (!(v instanceof Integer || v instanceof Long) || ((Number) v).longValue() < 1
          || ((Number) v).longValue() > 1_000_000) {
        throw new IllegalArgumentException(w + "window must be an integer 1..1000000, got '" + v
            + "'");
      }
      o.setWindow(((Number) v).intValue());
    }
    JsonArray in = list(j, "inbound", w);
    for (int i = 0; i < in.size(); i++) {
      String where = source + ": bridge.inbound[" + i + "]: ";
      JsonObject r = entry(in.getValue(i), where);
      unknownKeys(r, INBOUND_KEYS, where);
      String topic = text(r, "topic", where, true, true);
      String address = text(r, "address", where, true, false);
      InboundRule.Mode mode = InboundRule.Mode.PUBLISH;
      String m = text(r, "mode", where, false, false);
      if (m != null) {
        switch (m) {
          case "publish":
            break;
          case "send":
            mode = InboundRule.Mode.SEND;
            break;
          default:
            throw new IllegalArgumentException(where + "mode must be publish or send, got '" + m
                + "'");
        }
      }
      String client = r.containsKey("client") ? clientName(r.getValue("client"), where) : null;
      o.addInbound(new InboundRule(topic, address, mode, client));
    }
    JsonArray out = list(j, "outbound", w);
    for (int i = 0; i < out.size(); i++) {
      String where = source + ": bridge.outbound[" + i + "]: ";
      JsonObject r = entry(out.getValue(i), where);
      unknownKeys(r, OUTBOUND_KEYS, where);
      String address = text(r, "address", where, true, false);
      String topic = text(r, "topic", where, false, true);
      String target = text(r, "target", where, false, false);
      if ((topic == null) == (target == null)) {
        throw new IllegalArgumentException(where + "give exactly one of topic and target");
      }
      QoS qos = QoS.PROCESSED;
      if (r.containsKey("qos")) {
        Object q = r.getValue("qos");
        if (!(q instanceof Integer || q instanceof Long) || ((Number) q).longValue() < 0
            || ((Number) q).longValue() > 3) {
          throw new IllegalArgumentException(where + "qos must be 0, 1, 2 or 3, got '" + q + "'");
        }
        qos = QoS.of(((Number) q).intValue());
      }
      String client = r.containsKey("client") ? clientName(r.getValue("client"), where) : null;
      o.addOutbound(new OutboundRule(address, topic, target, qos, client));
    }
    return new BridgeConfig(brokerAddress, o);
  }

  private static void unknownKeys(JsonObject j, Set<String> keys, String where) {
    for (String k : j.fieldNames()) {
      if (!keys.contains(k)) {
        throw new IllegalArgumentException(where + "unknown key '" + k + "'");
      }
    }
  }

  private static JsonArray list(JsonObject j, String key, String where) {
    Object v = j.getValue(key);
    if (v == null) {
      return new JsonArray();
    }
    if (!(v instanceof JsonArray)) {
      throw new IllegalArgumentException(where + key + " must be a list of rules");
    }
    return (JsonArray) v;
  }

  private static JsonObject entry(Object v, String where) {
    if (!(v instanceof JsonObject)) {
      throw new IllegalArgumentException(where + "must be a map, got '" + v + "'");
    }
    return (JsonObject) v;
  }

  /**
   * A string value; {@code emptyOk}: the empty string is allowed (the empty topic is a topic).
   */
  private static String text(JsonObject j, String key, String where, boolean required,
      boolean emptyOk) {
    Object v = j.getValue(key);
    if (v == null) {
      if (required) {
        throw new IllegalArgumentException(where + key + " is required");
      }
      return null;
    }
    if (!(v instanceof String) || (!emptyOk && ((String) v).isEmpty())) {
      throw new IllegalArgumentException(where + key + " must be a non-empty string, got '" + v
          + "'");
    }
    String s = (String) v;
    if (s.indexOf('\0') >= 0) {
      throw new IllegalArgumentException(where + key + " contains a NUL character");
    }
    return s;
  }

  private static String clientName(Object v, String where) {
    if (!(v instanceof String)) {
      throw new IllegalArgumentException(where + "client must be a client name, got '" + v + "'");
    }
    try {
      BridgeOptions.checkClientName((String) v);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(where + "client '" + v + "': " + e.getMessage());
    }
    return (String) v;
  }
}
