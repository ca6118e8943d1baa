package dev.elbus.impl.routing;

/**
 * The per-client bounds a listener enforces on client input ({@link ClientLimits}). Input beyond
 * one is refused with {@code 72} (data error) where it arrives, counted per limit in the broker
 * stats ({@code refused}, by {@link #key()}) and logged once per client and limit.
 */
public enum Limit {
  /** Levels of a published topic or of a subscription / exclusion pattern. */
  TOPIC_LEVELS("topic_levels", "max_topic_levels"),
  /** Bytes of one client's subscriptions and exclusions (each pattern's UTF-8 length + 1). */
  SUBSCRIPTION_BYTES("subscription_bytes", "max_subscription_bytes"),
  /** Number of one client's subscriptions and exclusions. */
  SUBSCRIPTIONS("subscriptions", "max_subscriptions"),
  /** Levels of one client's wildcard patterns (with {@code +} or {@code #}), summed. */
  WILDCARD_LEVELS("wildcard_levels", "max_wildcard_levels"),
  /** Parts of a client name or of a broadcast mask. */
  NAME_PARTS("name_parts", "max_name_parts");

  private final String key;
  private final String option;

  Limit(String key, String option) {
    this.key = key;
    this.option = option;
  }

  /** The key of this limit's counter in {@code stats}. */
  public String key() {
    return key;
  }

  /** The listener option that sets it (conf/elbus.yaml). */
  public String option() {
    return option;
  }
}
