package dev.elbus.client;

import dev.elbus.protocol.Protocol;

/**
 * Settings of a {@link NetworkClient}. Mutable builder-style bean; {@link NetworkClient} copies it
 * at connect time, so later changes do not affect a connected client.
 */
public final class ClientOptions {
  /** Default number of names {@link NetworkClient#registerSecondary} tries when one is busy. */
  public static final int DEFAULT_SECONDARY_ATTEMPTS = 10;

  private long timeoutMs = Protocol.DEFAULT_TIMEOUT_MS;
  private long pingIntervalMs;
  private int maxFrameSize = Protocol.DEFAULT_MAX_FRAME_SIZE;
  private int secondaryAttempts = DEFAULT_SECONDARY_ATTEMPTS;

  public ClientOptions() {
  }

  public ClientOptions(ClientOptions other) {
    this.timeoutMs = other.timeoutMs;
    this.pingIntervalMs = other.pingIntervalMs;
    this.maxFrameSize = other.maxFrameSize;
    this.secondaryAttempts = other.secondaryAttempts;
  }

  /** Bound of the connect and the handshake in milliseconds (elbus default 5 s). */
  public long getTimeoutMs() {
    return timeoutMs;
  }

  /**
   * Sets the bound of the TCP/Unix connect plus the handshake; exceeding it fails the connect with
   * {@link ElbusException} code {@code 78}.
   */
  public ClientOptions setTimeoutMs(long timeoutMs) {
    if (timeoutMs <= 0 || timeoutMs > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("timeout must be 1.." + Integer.MAX_VALUE + " ms");
    }
    this.timeoutMs = timeoutMs;
    return this;
  }

  /** Interval of automatic pings in milliseconds; 0 (the default) sends none. */
  public long getPingIntervalMs() {
    return pingIntervalMs;
  }

  /**
   * Sets the interval of automatic pings to the broker (nine zero bytes). The broker does not
   * need them; they detect a dead link early, since a failed write closes the connection.
   */
  public ClientOptions setPingIntervalMs(long pingIntervalMs) {
    if (pingIntervalMs < 0) {
      throw new IllegalArgumentException("ping interval must be >= 0");
    }
    this.pingIntervalMs = pingIntervalMs;
    return this;
  }

  /** Largest frame body accepted from the broker; a larger one closes the connection. */
  public int getMaxFrameSize() {
    return maxFrameSize;
  }

  public ClientOptions setMaxFrameSize(int maxFrameSize) {
    if (maxFrameSize <= 0) {
      throw new IllegalArgumentException("max frame size must be > 0");
    }
    this.maxFrameSize = maxFrameSize;
    return this;
  }

  /** How many {@code NAME%%N} names {@link NetworkClient#registerSecondary} tries. */
  public int getSecondaryAttempts() {
    return secondaryAttempts;
  }

  public ClientOptions setSecondaryAttempts(int secondaryAttempts) {
    if (secondaryAttempts <= 0) {
      throw new IllegalArgumentException("secondary attempts must be > 0");
    }
    this.secondaryAttempts = secondaryAttempts;
    return this;
  }
}
