package dev.elbus.config;

import java.util.Objects;

/**
 * TLS on a TCP listener ({@code tls:} of a listener in {@code conf/elbus.yaml}): the broker's
 * certificate chain and private key (PEM files), optionally the CA certificates that client
 * certificates must chain to, whether clients must present one, and whether a client's name
 * must be the common name (CN) of its certificate.
 *
 * <p>The files are read when the listener starts (a file that cannot be read or parsed, or a key
 * that does not match the certificate, refuses to start), then checked every {@link
 * #getScanPeriodMs scan period}: when one of them changed, new connections get the new
 * certificate and existing ones keep theirs; a broken new file is logged and the certificate in
 * force is kept.
 *
 * <p>A listener without TLS speaks plain elbus, as every upstream client expects. TLS is for TCP
 * listeners only (a Unix socket is protected by its file permissions).
 */
public final class TlsOptions {
  /** Whether the broker asks connecting clients for a certificate. */
  public enum ClientAuth {
    /** No client certificate is asked for (the default). */
    NONE("none"),
    /** A client certificate is asked for; a client without one is admitted, a bad one is not. */
    REQUEST("request"),
    /** A client must present a certificate that chains to {@link #getCa}. */
    REQUIRED("required");

    private final String key;

    ClientAuth(String key) {
      this.key = key;
    }

    /** The configuration file's word for it. */
    public String key() {
      return key;
    }
  }

  /** How often the files are checked for changes by default. */
  public static final long DEFAULT_SCAN_PERIOD_MS = 1_000;

  private String cert;
  private String key;
  private String ca;
  private ClientAuth clientAuth = ClientAuth.NONE;
  private boolean nameFromCn;
  private long scanPeriodMs = DEFAULT_SCAN_PERIOD_MS;

  public TlsOptions() {}

  public TlsOptions(TlsOptions o) {
    this.cert = o.cert;
    this.key = o.key;
    this.ca = o.ca;
    this.clientAuth = o.clientAuth;
    this.nameFromCn = o.nameFromCn;
    this.scanPeriodMs = o.scanPeriodMs;
  }

  /** The broker's certificate chain: a PEM file, the listener's certificate first. */
  public String getCert() {
    return cert;
  }

  public TlsOptions setCert(String cert) {
    this.cert = cert;
    return this;
  }

  /** The private key of {@link #getCert}: a PEM file (PKCS#8, PKCS#1 RSA or SEC1 EC). */
  public String getKey() {
    return key;
  }

  public TlsOptions setKey(String key) {
    this.key = key;
    return this;
  }

  /**
   * CA certificates (a PEM file) that client certificates must chain to; {@code null}: the JVM's
   * default trust store. Used only with {@link ClientAuth#REQUEST} or {@link ClientAuth#REQUIRED}.
   */
  public String getCa() {
    return ca;
  }

  public TlsOptions setCa(String ca) {
    this.ca = ca;
    return this;
  }

  public ClientAuth getClientAuth() {
    return clientAuth;
  }

  public TlsOptions setClientAuth(ClientAuth clientAuth) {
    this.clientAuth = Objects.requireNonNull(clientAuth, "clientAuth");
    return this;
  }

  /**
   * The CN rule (docs/aaa.md, "TLS client certificates"): a client's primary name (the part of
   * its name before {@code %%}) must equal the CN of its certificate, else its registration is
   * refused with {@code 79}. AAA, if the listener has it, then applies to that name as usual.
   * Needs {@link ClientAuth#REQUIRED}.
   */
  public boolean isNameFromCn() {
    return nameFromCn;
  }

  public TlsOptions setNameFromCn(boolean nameFromCn) {
    this.nameFromCn = nameFromCn;
    return this;
  }

  /** How often the certificate, key and CA files are checked for changes, in milliseconds. */
  public long getScanPeriodMs() {
    return scanPeriodMs;
  }

  public TlsOptions setScanPeriodMs(long scanPeriodMs) {
    if (scanPeriodMs <= 0) {
      throw new IllegalArgumentException("TLS scan period must be positive: " + scanPeriodMs);
    }
    this.scanPeriodMs = scanPeriodMs;
    return this;
  }

  /**
   * Checks that the settings fit together.
   *
   * @throws IllegalArgumentException naming the problem in the words of the configuration file
   */
  public void validate() {
    if (cert == null || cert.isEmpty()) {
      throw new IllegalArgumentException("tls: cert (a PEM file) is required");
    }
    if (key == null || key.isEmpty()) {
      throw new IllegalArgumentException("tls: key (a PEM file) is required");
    }
    if (nameFromCn && clientAuth != ClientAuth.REQUIRED) {
      throw new IllegalArgumentException("tls: name_from_cn needs client_auth: required");
    }
  }
}
