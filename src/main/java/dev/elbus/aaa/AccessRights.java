package dev.elbus.aaa;

/**
 * What a client may do, as the broker checks it on every operation (PROTOCOL.md section 11). A
 * client without rights may do everything. {@link ClientAcl} is the implementation that AAA
 * files and {@link AaaPolicy.Builder} make; the broker's routing core knows rights only through
 * this interface, not how they are configured.
 */
public interface AccessRights {
  /** May the client send direct messages to the client whose primary name is {@code target}? */
  boolean canSendTo(String target);

  /** May the client publish to the (literal) {@code topic}? */
  boolean canPublish(String topic);

  /** May the client subscribe to {@code pattern} (every topic it can match must be allowed)? */
  boolean canSubscribe(String pattern);

  /** May the client broadcast to {@code mask} (every name it can match must be allowed)? */
  boolean canBroadcast(String mask);
}
