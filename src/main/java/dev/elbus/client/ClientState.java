package dev.elbus.client;

/** The states a {@link NetworkClient} reports to its {@link NetworkClient#stateHandler}. */
public enum ClientState {
  /** Registered with the broker on the first connection. */
  CONNECTED,
  /**
   * The registered connection was lost ({@link StateChange#cause} says why) and the client is
   * reconnecting (only with {@link ClientOptions#setReconnect}; without it the client is {@link
   * #CLOSED}). Operations fail at once with code {@code 73} until it is {@link #RECONNECTED}.
   */
  DISCONNECTED,
  /** Registered again after a loss, its subscriptions and exclusions restored. */
  RECONNECTED,
  /**
   * Closed for good: by {@link NetworkClient#close}, by a loss without reconnecting, or after
   * the last reconnect attempt failed ({@link StateChange#cause} is then the reason).
   */
  CLOSED
}
