package dev.elbus.impl.routing;

import dev.elbus.config.ListenerOptions;
import dev.elbus.protocol.Masks;

/**
 * What one client may make the broker hold and walk, per {@link Limit}: the values of a
 * listener's options, given to each of its sessions. Immutable.
 *
 * @param maxTopicLevels levels of a published topic or a subscription / exclusion pattern
 * @param maxSubscriptionBytes bytes of a client's subscriptions and exclusions, each counted as
 *     its UTF-8 length + 1
 * @param maxSubscriptions number of a client's subscriptions and exclusions
 * @param maxWildcardLevels {@link Masks#wildcardLevels} summed over a client's subscriptions and
 *     exclusions: the trie nodes its patterns create and a lookup may walk because of them
 * @param maxNameParts parts of a client name or a broadcast mask
 */
public record ClientLimits(int maxTopicLevels, long maxSubscriptionBytes, int maxSubscriptions,
    int maxWildcardLevels, int maxNameParts) {

  /** No bound (internal clients: code in the broker's own process). */
  public static final ClientLimits NONE = new ClientLimits(Integer.MAX_VALUE, Long.MAX_VALUE,
      Integer.MAX_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE);

  /** The per-client limits of a listener with options {@code o}. */
  public static ClientLimits of(ListenerOptions o) {
    return new ClientLimits(o.getMaxTopicLevels(), o.getMaxSubscriptionBytes(),
        o.getMaxSubscriptions(), o.getMaxWildcardLevels(), o.getMaxNameParts());
  }

  /** The bound of {@code l}. */
  public long of(Limit l) {
    switch (l) {
      case TOPIC_LEVELS:
        return maxTopicLevels;
      case SUBSCRIPTION_BYTES:
        return maxSubscriptionBytes;
      case SUBSCRIPTIONS:
        return maxSubscriptions;
      case WILDCARD_LEVELS:
        return maxWildcardLevels;
      default:
        return maxNameParts;
    }
  }
}
