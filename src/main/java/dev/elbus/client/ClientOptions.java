package dev.elbus.client;

import dev.elbus.protocol.Protocol;
import io.vertx.core.net.KeyCertOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.TrustOptions;

/**
 * Settings of a {@link NetworkClient}. Mutable builder-style bean; {@link NetworkClient} copies it
 * at connect time, so later changes do not affect a connected client.
 *
 * <p><b>TLS.</b> A client connects with TLS to a {@code tls://HOST:PORT} address, or to {@code
 * HOST:PORT} with {@link #setTls setTls(true)}. It trusts the JVM's default CAs unless given its
 * own ({@link #setTlsCa}, or any Vert.x {@link TrustOptions} such as a PKCS#12 or JKS trust store
 * through {@link #setTlsTrustOptions}), presents a certificate for mutual TLS when given one
 * ({@link #setTlsCert}, {@link #setTlsKeyCertOptions}), and checks that the broker's certificate
 * names the host it connects to (an IP address must be an IP subject alternative name) unless
 * {@link #setTlsHostnameVerification} turns that off. TLS settings on a connection without TLS
 * fail the connect rather than be ignored.
 */
public final class ClientOptions {
  /** Default number of names {@link NetworkClient#registerSecondary} tries when one is busy. */
  public static final int DEFAULT_SECONDARY_ATTEMPTS = 10;
  /** Default delay before the first reconnect attempt after a loss, in milliseconds. */
  public static final long DEFAULT_RECONNECT_DELAY_MS = 100;
  /** Default bound of the delay between reconnect attempts, in milliseconds. */
  public static final long DEFAULT_RECONNECT_MAX_DELAY_MS = 5_000;
  /** Default bytes of outgoing frames not yet taken by the socket before the queue is full. */
  public static final int DEFAULT_WRITE_QUEUE_MAX_SIZE = 512 * 1024;

  private long timeoutMs = Protocol.DEFAULT_TIMEOUT_MS;
  private long pingIntervalMs;
  private int maxFrameSize = Protocol.DEFAULT_MAX_FRAME_SIZE;
  private int secondaryAttempts = DEFAULT_SECONDARY_ATTEMPTS;
  private boolean reconnect;
  private long reconnectDelayMs = DEFAULT_RECONNECT_DELAY_MS;
  private long reconnectMaxDelayMs = DEFAULT_RECONNECT_MAX_DELAY_MS;
  private int reconnectAttempts;
  private int writeQueueMaxSize = DEFAULT_WRITE_QUEUE_MAX_SIZE;
  private boolean tls;
  private TrustOptions tlsTrust;
  private KeyCertOptions tlsKeyCert;
  private boolean tlsHostnameVerification = true;

  public ClientOptions() {
  }

  public ClientOptions(ClientOptions other) {
    this.timeoutMs = other.timeoutMs;
    this.pingIntervalMs = other.pingIntervalMs;
    this.maxFrameSize = other.maxFrameSize;
    this.secondaryAttempts = other.secondaryAttempts;
    this.reconnect = other.reconnect;
    this.reconnectDelayMs = other.reconnectDelayMs;
    this.reconnectMaxDelayMs = other.reconnectMaxDelayMs;
    this.reconnectAttempts = other.reconnectAttempts;
    this.writeQueueMaxSize = other.writeQueueMaxSize;
    this.tls = other.tls;
    this.tlsTrust = other.tlsTrust == null ? null : other.tlsTrust.copy();
    this.tlsKeyCert = other.tlsKeyCert == null ? null : other.tlsKeyCert.copy();
    this.tlsHostnameVerification = other.tlsHostnameVerification;
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

  /** Whether a lost connection is re-established (off by default). */
  public boolean isReconnect() {
    return reconnect;
  }

  /**
   * Turns reconnecting on or off. With it on, a {@link NetworkClient} whose registered connection
   * is lost (the broker stopped, the link broke, the broker dropped the client) connects again
   * after a delay, registers the same name, and restores its subscriptions and exclusions; it
   * retries with a growing delay ({@link #setReconnectDelayMs}, doubling up to {@link
   * #setReconnectMaxDelayMs}, each delay drawn at random from its upper half) until it is back,
   * {@link #setReconnectAttempts} attempts have failed, or it is closed. The first connect is
   * not retried: its Future fails as without reconnecting. See {@link
   * NetworkClient#stateHandler}.
   */
  public ClientOptions setReconnect(boolean reconnect) {
    this.reconnect = reconnect;
    return this;
  }

  /** Delay before the first reconnect attempt, in milliseconds. */
  public long getReconnectDelayMs() {
    return reconnectDelayMs;
  }

  /**
   * Sets the delay before the first reconnect attempt after a loss (default {@value
   * #DEFAULT_RECONNECT_DELAY_MS} ms); each failed attempt doubles it, up to {@link
   * #setReconnectMaxDelayMs}.
   */
  public ClientOptions setReconnectDelayMs(long reconnectDelayMs) {
    this.reconnectDelayMs = delayChecked("reconnect delay", reconnectDelayMs);
    return this;
  }

  /** Bound of the delay between reconnect attempts, in milliseconds. */
  public long getReconnectMaxDelayMs() {
    return reconnectMaxDelayMs;
  }

  /**
   * Sets the bound of the delay between reconnect attempts (default {@value
   * #DEFAULT_RECONNECT_MAX_DELAY_MS} ms); a bound below {@link #getReconnectDelayMs} counts as
   * that delay (the delay then stays the same for every attempt).
   */
  public ClientOptions setReconnectMaxDelayMs(long reconnectMaxDelayMs) {
    this.reconnectMaxDelayMs = delayChecked("reconnect max delay", reconnectMaxDelayMs);
    return this;
  }

  private static long delayChecked(String what, long ms) {
    if (ms <= 0 || ms > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(what + " must be 1.." + Integer.MAX_VALUE + " ms");
    }
    return ms;
  }

  /** Failed reconnect attempts after which the client gives up; 0: never gives up. */
  public int getReconnectAttempts() {
    return reconnectAttempts;
  }

  /**
   * Sets how many reconnect attempts in a row may fail before the client gives up and closes
   * (default 0: it keeps trying until it is closed).
   */
  public ClientOptions setReconnectAttempts(int reconnectAttempts) {
    if (reconnectAttempts < 0) {
      throw new IllegalArgumentException("reconnect attempts must be >= 0");
    }
    this.reconnectAttempts = reconnectAttempts;
    return this;
  }

  /**
   * The delay before reconnect attempt {@code attempt} (1 for the first after a loss): the
   * initial delay doubled {@code attempt - 1} times, bounded by the maximum, and drawn at random
   * from the upper half of that ({@code [d/2, d]}), so that clients that lost the same broker do
   * not all come back at once.
   *
   * @param random a value in {@code [0, 1)}
   */
  long reconnectDelay(int attempt, double random) {
    long max = Math.max(reconnectMaxDelayMs, reconnectDelayMs);
    long d = reconnectDelayMs;
    for (int i = 1; i < attempt && d < max; i++) {
      d *= 2;
    }
    d = Math.min(d, max);
    return Math.max(1, d / 2 + (long) (random * (d - d / 2 + 1)));
  }

  /** Bytes of outgoing frames the socket has not yet taken before the queue counts as full. */
  public int getWriteQueueMaxSize() {
    return writeQueueMaxSize;
  }

  /**
   * Sets the bytes of outgoing frames the client may hold that the socket has not yet taken
   * before {@link NetworkClient#writeQueueFull} says so (default {@value
   * #DEFAULT_WRITE_QUEUE_MAX_SIZE}); the drain handler runs when it is down to half. Nothing is
   * refused at the mark: a publisher that cares checks it.
   */
  public ClientOptions setWriteQueueMaxSize(int writeQueueMaxSize) {
    if (writeQueueMaxSize < 2) {
      throw new IllegalArgumentException("write queue max size must be >= 2 bytes");
    }
    this.writeQueueMaxSize = writeQueueMaxSize;
    return this;
  }

  /** Whether to connect with TLS (also on for a {@code tls://HOST:PORT} address). */
  public boolean isTls() {
    return tls;
  }

  public ClientOptions setTls(boolean tls) {
    this.tls = tls;
    return this;
  }

  /** The CAs the broker's certificate must chain to; {@code null}: the JVM's default ones. */
  public TrustOptions getTlsTrustOptions() {
    return tlsTrust;
  }

  /** Trusts the CA certificates of a PEM file (one or more certificates). */
  public ClientOptions setTlsCa(String pemFile) {
    return setTlsTrustOptions(pemFile == null ? null : new PemTrustOptions().addCertPath(pemFile));
  }

  /**
   * Trusts what {@code trust} holds: {@code PemTrustOptions}, {@code JksOptions}, {@code
   * PfxOptions} (a PKCS#12 trust store) or any other Vert.x trust options.
   */
  public ClientOptions setTlsTrustOptions(TrustOptions trust) {
    this.tlsTrust = trust == null ? null : trust.copy();
    return this;
  }

  /** The client's certificate and key for mutual TLS; {@code null}: none. */
  public KeyCertOptions getTlsKeyCertOptions() {
    return tlsKeyCert;
  }

  /**
   * Presents the certificate chain of {@code certPemFile} with the private key of {@code
   * keyPemFile} (PKCS#8, PKCS#1 RSA or SEC1 EC) when the broker asks for a client certificate.
   */
  public ClientOptions setTlsCert(String certPemFile, String keyPemFile) {
    return setTlsKeyCertOptions(certPemFile == null ? null
        : new PemKeyCertOptions().setCertPath(certPemFile).setKeyPath(keyPemFile));
  }

  /** Presents what {@code keyCert} holds (PEM, a PKCS#12 or JKS key store, ...) for mutual TLS. */
  public ClientOptions setTlsKeyCertOptions(KeyCertOptions keyCert) {
    this.tlsKeyCert = keyCert == null ? null : keyCert.copy();
    return this;
  }

  /** Whether the broker's certificate must name the host connected to (default true). */
  public boolean isTlsHostnameVerification() {
    return tlsHostnameVerification;
  }

  /**
   * Turns the check that the broker's certificate names the host (a DNS name or an IP address
   * among its subject alternative names) on or off. The certificate must still chain to a
   * trusted CA and be valid. Off only for tests or a certificate without the address in it.
   */
  public ClientOptions setTlsHostnameVerification(boolean verify) {
    this.tlsHostnameVerification = verify;
    return this;
  }

  /** Whether any TLS setting besides {@link #isTls} is given. */
  boolean hasTlsSettings() {
    return tlsTrust != null || tlsKeyCert != null || !tlsHostnameVerification;
  }
}
