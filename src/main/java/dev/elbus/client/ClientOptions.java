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

  private long timeoutMs = Protocol.DEFAULT_TIMEOUT_MS;
  private long pingIntervalMs;
  private int maxFrameSize = Protocol.DEFAULT_MAX_FRAME_SIZE;
  private int secondaryAttempts = DEFAULT_SECONDARY_ATTEMPTS;
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
