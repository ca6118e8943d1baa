package dev.elbus.impl.net;

import dev.elbus.config.TlsOptions;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.function.Supplier;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.X509KeyManager;

/**
 * TLS of one listener: the certificate in force (a Netty {@link SslContext}), an {@link
 * SslHandler} from it for each new connection, and the watch of the PEM files. The first load
 * must succeed (fail closed, like an AAA file). Later, every scan period, the files are read
 * again; when their bytes changed and they load (certificates and key parse, the key matches the
 * certificate), the new context replaces the old one for new connections; existing connections
 * keep the engine they were made with. A file that does not load keeps the certificate in force
 * and is logged once per problem.
 *
 * <p>The broker puts the handler in front of the connection's pipeline itself instead of
 * letting Vert.x's {@code NetServer} do TLS: the connection is then counted, held to {@code
 * max_connections} and {@code max_handshakes} and to the handshake deadline from its first byte,
 * TLS handshake included, and a failed handshake is one log line of the connection.
 */
public final class ListenerTls {
  private static final Logger LOG = LoggerFactory.getLogger(ListenerTls.class);

  private final TlsOptions options;
  private final Supplier<String> label;
  private volatile SslContext context;

  // accessed on the timer's context only
  /** The files' bytes last read (loaded or not), to act on changes only. */
  private List<byte[]> lastRead;
  /** The problem last logged, {@code null} after a good load: each problem is logged once. */
  private String lastProblem;
  private boolean scanning;
  private Vertx vertx;
  private long timer = -1;
  private volatile boolean closed;

  ListenerTls(TlsOptions options, Supplier<String> label) {
    this.options = new TlsOptions(options);
    this.label = label;
  }

  public TlsOptions options() {
    return options;
  }

  /** A handler for a new connection, with the certificate in force. */
  SslHandler newHandler(ByteBufAllocator alloc) {
    SslHandler h = context.newHandler(alloc);
    // the connection's own handshake deadline covers the TLS handshake too
    h.setHandshakeTimeoutMillis(0);
    return h;
  }

  /**
   * Loads the files once and starts watching them. Fails with a message naming the file and the
   * problem.
   */
  public Future<Void> start(Vertx vertx) {
    this.vertx = vertx;
    return vertx.<Loaded>executeBlocking(() -> load(vertx, read()))
        .map(l -> {
          context = l.context();
          lastRead = l.bytes();
          LOG.info("TLS for {}: {} from {}{}", label.get(), describe(l.cert()),
              options.getCert(), clientAuth());
          warnIfExpired(l.cert());
          synchronized (this) {
            if (!closed) {
              timer = vertx.setPeriodic(options.getScanPeriodMs(), id -> scan());
            }
          }
          return null;
        });
  }

  private String clientAuth() {
    switch (options.getClientAuth()) {
      case REQUIRED:
        return ", client certificates required" + (options.getCa() != null ? " (CA "
            + options.getCa() + ")" : "") + (options.isNameFromCn() ? ", names from their CN" : "");
      case REQUEST:
        return ", client certificates requested";
      default:
        return "";
    }
  }

  private void scan() {
    if (scanning || closed) {
      return;
    }
    scanning = true;
    vertx.<Object>executeBlocking(() -> {
      List<byte[]> bytes = read();
      if (same(bytes, lastRead)) {
        return null;
      }
      lastRead = bytes;
      return load(vertx, bytes);
    }).onComplete(ar -> {
      scanning = false;
      if (closed) {
        return;
      }
      if (ar.failed()) {
        problem(ar.cause().getMessage());
        return;
      }
      if (ar.result() instanceof Loaded) {
        Loaded l = (Loaded) ar.result();
        context = l.context();
        lastProblem = null;
        LOG.info("TLS for {} reloaded: {} from {}; new connections use it", label.get(),
            describe(l.cert()), options.getCert());
        warnIfExpired(l.cert());
      }
    });
  }

  private static boolean same(List<byte[]> a, List<byte[]> b) {
    if (b == null || a.size() != b.size()) {
      return false;
    }
    for (int i = 0; i < a.size(); i++) {
      if (!Arrays.equals(a.get(i), b.get(i))) {
        return false;
      }
    }
    return true;
  }

  private void problem(String what) {
    if (!what.equals(lastProblem)) {
      lastProblem = what;
      LOG.error("TLS for {}: the certificate in force is kept: {}", label.get(), what);
    }
  }

  private void warnIfExpired(X509Certificate c) {
    long now = System.currentTimeMillis();
    if (c.getNotAfter().getTime() < now) {
      LOG.warn("TLS for {}: the certificate {} expired on {}: clients will refuse it",
          label.get(), c.getSubjectX500Principal().getName(), c.getNotAfter().toInstant());
    } else if (c.getNotBefore().getTime() > now) {
      LOG.warn("TLS for {}: the certificate {} is not valid before {}: clients will refuse it",
          label.get(), c.getSubjectX500Principal().getName(), c.getNotBefore().toInstant());
    }
  }

  private static String describe(X509Certificate c) {
    return "certificate " + c.getSubjectX500Principal().getName() + " (valid until "
        + c.getNotAfter().toInstant() + ")";
  }

  /** Stops watching the files. */
  public void close() {
    synchronized (this) {
      closed = true;
      if (timer != -1) {
        vertx.cancelTimer(timer);
      }
    }
  }

  // ---------------------------------------------------------------- loading

  /** A loaded certificate: the context, the listener's certificate, the bytes it came from. */
  private record Loaded(SslContext context, X509Certificate cert, List<byte[]> bytes) {}

  /** The bytes of cert, key and (if set) ca, in that order. */
  private List<byte[]> read() throws IOException {
    List<byte[]> out = new ArrayList<>(3);
    out.add(readFile("cert", options.getCert()));
    out.add(readFile("key", options.getKey()));
    if (options.getCa() != null) {
      out.add(readFile("ca", options.getCa()));
    }
    return out;
  }

  private static byte[] readFile(String what, String file) throws IOException {
    try {
      return Files.readAllBytes(Path.of(file));
    } catch (NoSuchFileException e) {
      throw new IOException("tls: " + what + " " + file + ": cannot read: no such file");
    } catch (AccessDeniedException e) {
      throw new IOException("tls: " + what + " " + file + ": cannot read: permission denied");
    } catch (IOException e) {
      throw new IOException("tls: " + what + " " + file + ": cannot read: " + e.getMessage());
    }
  }

  /**
   * Builds a server context from the files' bytes: the certificate chain, the key (which must
   * belong to the first certificate), the CA certificates for client certificates.
   *
   * @throws IllegalArgumentException naming the file and the problem
   */
  private Loaded load(Vertx vertx, List<byte[]> bytes) {
    X509Certificate cert = firstCertificate("cert", options.getCert(), bytes.get(0));
    KeyManagerFactory kmf;
    try {
      kmf = new PemKeyCertOptions().addCertValue(Buffer.buffer(bytes.get(0)))
          .addKeyValue(Buffer.buffer(bytes.get(1))).getKeyManagerFactory(vertx);
    } catch (Exception e) {
      throw new IllegalArgumentException("tls: key " + options.getKey() + ": not a PEM private "
          + "key (PKCS#8, PKCS#1 RSA or SEC1 EC): " + oneLine(e));
    }
    checkKeyMatches(kmf, cert);
    SslContextBuilder b = SslContextBuilder.forServer(kmf);
    if (options.getCa() != null) {
      firstCertificate("ca", options.getCa(), bytes.get(2));
      try {
        b.trustManager(new PemTrustOptions().addCertValue(Buffer.buffer(bytes.get(2)))
            .getTrustManagerFactory(vertx));
      } catch (Exception e) {
        throw new IllegalArgumentException("tls: ca " + options.getCa() + ": " + oneLine(e));
      }
    }
    b.clientAuth(options.getClientAuth() == TlsOptions.ClientAuth.REQUIRED ? ClientAuth.REQUIRE
        : options.getClientAuth() == TlsOptions.ClientAuth.REQUEST ? ClientAuth.OPTIONAL
        : ClientAuth.NONE);
    try {
      return new Loaded(b.build(), cert, bytes);
    } catch (Exception e) {
      throw new IllegalArgumentException("tls: " + options.getCert() + ": " + oneLine(e));
    }
  }

  private static X509Certificate firstCertificate(String what, String file, byte[] pem) {
    Collection<? extends Certificate> certs;
    try {
      certs = CertificateFactory.getInstance("X.509")
          .generateCertificates(new ByteArrayInputStream(pem));
    } catch (Exception e) {
      Throwable root = e;
      while (root.getCause() != null && root.getCause() != root) {
        root = root.getCause();
      }
      throw new IllegalArgumentException("tls: " + what + " " + file + ": not a PEM certificate ("
          + oneLine(root) + ")");
    }
    if (certs.isEmpty()) {
      throw new IllegalArgumentException("tls: " + what + " " + file + ": no certificate in it");
    }
    return (X509Certificate) certs.iterator().next();
  }

  /**
   * The key must sign what the certificate's public key verifies: a certificate replaced before
   * its key (two files cannot change at once) is not applied until the key follows.
   */
  private void checkKeyMatches(KeyManagerFactory kmf, X509Certificate cert) {
    String alg = cert.getPublicKey().getAlgorithm();
    PrivateKey key = null;
    for (KeyManager km : kmf.getKeyManagers()) {
      if (km instanceof X509KeyManager) {
        X509KeyManager x = (X509KeyManager) km;
        String alias = x.chooseServerAlias(alg, null, null);
        if (alias != null) {
          key = x.getPrivateKey(alias);
        }
      }
    }
    String sigAlg = "RSA".equals(alg) ? "SHA256withRSA" : "EC".equals(alg) ? "SHA256withECDSA"
        : null;
    if (key == null || sigAlg == null || !key.getAlgorithm().equals(alg)) {
      throw new IllegalArgumentException("tls: key " + options.getKey() + " is not the "
          + alg + " key of the certificate in " + options.getCert());
    }
    try {
      byte[] probe = new byte[32];
      new SecureRandom().nextBytes(probe);
      Signature s = Signature.getInstance(sigAlg);
      s.initSign(key);
      s.update(probe);
      byte[] sig = s.sign();
      Signature v = Signature.getInstance(sigAlg);
      v.initVerify(cert.getPublicKey());
      v.update(probe);
      if (!v.verify(sig)) {
        throw new IllegalArgumentException("tls: key " + options.getKey() + " does not match "
            + "the certificate in " + options.getCert());
      }
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalArgumentException("tls: key " + options.getKey() + " does not match the "
          + "certificate in " + options.getCert() + ": " + oneLine(e));
    }
  }

  private static String oneLine(Throwable t) {
    String m = t.getMessage() == null ? t.toString() : t.getMessage();
    int nl = m.indexOf('\n');
    return nl < 0 ? m : m.substring(0, nl);
  }

  // ---------------------------------------------------------------- client certificates

  /**
   * The common name of the peer's certificate in {@code session}, or why there is none usable: a
   * certificate without a CN or with several is not a name.
   *
   * @return the CN; {@code null} with {@code why[0]} set when there is none
   */
  static String commonName(SSLSession session, String[] why) {
    Certificate[] chain;
    try {
      chain = session.getPeerCertificates();
    } catch (SSLPeerUnverifiedException e) {
      why[0] = "no client certificate";
      return null;
    }
    if (chain.length == 0 || !(chain[0] instanceof X509Certificate)) {
      why[0] = "no client certificate";
      return null;
    }
    String dn = ((X509Certificate) chain[0]).getSubjectX500Principal().getName();
    String cn = null;
    try {
      for (Rdn rdn : new LdapName(dn).getRdns()) {
        if (rdn.getType().equalsIgnoreCase("CN")) {
          if (cn != null) {
            why[0] = "the client certificate " + dn + " has more than one CN";
            return null;
          }
          cn = String.valueOf(rdn.getValue());
        }
      }
    } catch (InvalidNameException e) {
      why[0] = "the client certificate's subject " + dn + " does not parse";
      return null;
    }
    if (cn == null) {
      why[0] = "the client certificate " + dn + " has no CN";
    }
    return cn;
  }
}
