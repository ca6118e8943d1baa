package dev.elbus.client;

/**
 * A change of a {@link NetworkClient}'s connection state, as its {@link
 * NetworkClient#stateHandler} receives it. Immutable.
 */
public final class StateChange {
  private final ClientState state;
  private final ElbusException cause;
  private final int attempts;

  /** A change to {@code state}, for {@code cause} (may be null) after {@code attempts}. */
  public StateChange(ClientState state, ElbusException cause, int attempts) {
    this.state = state;
    this.cause = cause;
    this.attempts = attempts;
  }

  /** The new state. */
  public ClientState state() {
    return state;
  }

  /**
   * Why: for {@link ClientState#DISCONNECTED} the loss (code {@code 73} for a closed or broken
   * connection, {@code 72} for a protocol error); for {@link ClientState#CLOSED} the loss or the
   * last attempt's failure ({@code 76} when the name was still held, {@code 73} when the broker
   * was not there, ...), {@code null} when {@link NetworkClient#close} closed it; for {@link
   * ClientState#RECONNECTED} {@code null}, or the refusal of a restored subscription or
   * exclusion (the client is registered, but without it); {@code null} for {@link
   * ClientState#CONNECTED}.
   */
  public ElbusException cause() {
    return cause;
  }

  /**
   * For {@link ClientState#RECONNECTED}: the attempts it took (1 when the first succeeded); for
   * {@link ClientState#CLOSED} after giving up: the attempts that failed; 0 otherwise.
   */
  public int attempts() {
    return attempts;
  }

  @Override
  public String toString() {
    return state + (attempts > 0 ? " after " + attempts + " attempt" + (attempts == 1 ? "" : "s")
        : "") + (cause != null ? ": " + cause.getMessage() + String.format(" (0x%02x)",
        cause.code()) : "");
  }
}
