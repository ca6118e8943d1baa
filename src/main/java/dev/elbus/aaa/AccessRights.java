package dev.elbus.aaa;

import dev.elbus.impl.routing.Router;

/**
 * What a client may do, checked by the {@link Router} on every operation (PROTOCOL.md section
 * 11). A session without rights ({@code null}) may do everything. Implemented by the AAA model
 * ({@code dev.elbus.aaa.ClientAcl}); kept as an interface so that routing does not depend on how
 * rights are configured.
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
