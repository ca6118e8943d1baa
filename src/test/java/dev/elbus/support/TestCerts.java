package dev.elbus.support;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Certificates made at test time (nothing is committed): a test CA, a second CA nobody trusts
 * (an impostor with the test CA's name and another key), and certificates they issue, written as PEM files into a directory. Server certificates name
 * {@code localhost} and {@code 127.0.0.1} (subject alternative names) unless told otherwise;
 * client certificates carry the CN they are made for. Keys are EC P-256 (fast to make) written
 * as PKCS#8, or RSA written as PKCS#1 ({@code BEGIN RSA PRIVATE KEY}) where asked.
 */
public final class TestCerts {
  private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

  /** A certificate and its key, as PEM files. */
  public record Issued(Path cert, Path key, X509Certificate x509) {}

  private final Path dir;
  private final KeyPair caKeys;
  private final X509Certificate ca;
  private final Path caPem;
  private final KeyPair otherKeys;
  private final X509Certificate otherCa;
  private final Path otherCaPem;

  private TestCerts(Path dir) throws Exception {
    this.dir = dir;
    this.caKeys = ec();
    this.ca = sign(new X500Name("CN=elbus test CA"), caKeys, null, caKeys.getPrivate(),
        Instant.now().minus(Duration.ofDays(1)), Instant.now().plus(Duration.ofDays(30)), true,
        null, null);
    this.caPem = write("ca.pem", pem("CERTIFICATE", ca.getEncoded()));
    this.otherKeys = ec();
    // the same name as the test CA, another key: a client offers a certificate only when its
    // issuer is among the CAs the broker names, so an untrusted one must look like it
    this.otherCa = sign(new X500Name("CN=elbus test CA"), otherKeys, null,
        otherKeys.getPrivate(), Instant.now().minus(Duration.ofDays(1)),
        Instant.now().plus(Duration.ofDays(30)), true, null, null);
    this.otherCaPem = write("other-ca.pem", pem("CERTIFICATE", otherCa.getEncoded()));
  }

  /** A fresh test CA (and an untrusted one) writing into {@code dir}. */
  public static TestCerts create(Path dir) throws Exception {
    return new TestCerts(dir);
  }

  /** The test CA's certificate (PEM): what clients and the broker trust. */
  public Path caPem() {
    return caPem;
  }

  /** The CA nobody trusts (PEM): the test CA's name, another key. */
  public Path otherCaPem() {
    return otherCaPem;
  }

  /** A valid server certificate for localhost / 127.0.0.1 from the test CA. */
  public Issued server(String file) throws Exception {
    return server(file, "localhost", false, Instant.now().minus(Duration.ofDays(1)),
        Instant.now().plus(Duration.ofDays(30)), true);
  }

  /** A server certificate that expired yesterday. */
  public Issued expiredServer(String file) throws Exception {
    return server(file, "localhost", false, Instant.now().minus(Duration.ofDays(3)),
        Instant.now().minus(Duration.ofDays(1)), true);
  }

  /** A server certificate from the CA nobody trusts. */
  public Issued untrustedServer(String file) throws Exception {
    return server(file, "localhost", false, Instant.now().minus(Duration.ofDays(1)),
        Instant.now().plus(Duration.ofDays(30)), false);
  }

  /** A valid server certificate that names {@code localhost} only, not {@code 127.0.0.1}. */
  public Issued serverWithoutIp(String file) throws Exception {
    return server(file, "localhost", false, Instant.now().minus(Duration.ofDays(1)),
        Instant.now().plus(Duration.ofDays(30)), true,
        new GeneralName(GeneralName.dNSName, "localhost"));
  }

  /**
   * A server certificate with subject CN {@code cn}, an RSA key in PKCS#1 when {@code rsa}, from
   * the test CA ({@code trusted}) or the other one, naming {@code localhost} and {@code
   * 127.0.0.1}.
   */
  public Issued server(String file, String cn, boolean rsa, Instant from, Instant to,
      boolean trusted) throws Exception {
    return server(file, cn, rsa, from, to, trusted,
        new GeneralName(GeneralName.dNSName, "localhost"),
        new GeneralName(GeneralName.iPAddress, "127.0.0.1"));
  }

  private Issued server(String file, String cn, boolean rsa, Instant from, Instant to,
      boolean trusted, GeneralName... names) throws Exception {
    KeyPair kp = rsa ? rsa() : ec();
    GeneralNames san = new GeneralNames(names);
    X509Certificate c = sign(new X500Name("CN=" + cn), kp, trusted ? ca : otherCa,
        trusted ? caKeys.getPrivate() : otherKeys.getPrivate(), from, to, false, san,
        KeyPurposeId.id_kp_serverAuth);
    return issued(file, c, kp.getPrivate(), rsa);
  }

  /** A client certificate with subject CN {@code cn} from the test CA. */
  public Issued client(String file, String cn) throws Exception {
    return client(file, "CN=" + cn, Instant.now().minus(Duration.ofDays(1)),
        Instant.now().plus(Duration.ofDays(30)), true);
  }

  /**
   * A client certificate with subject {@code subject} (an X.500 name, e.g. {@code CN=a, O=b}),
   * valid from {@code from} to {@code to}, from the test CA ({@code trusted}) or the other one.
   */
  public Issued client(String file, String subject, Instant from, Instant to, boolean trusted)
      throws Exception {
    KeyPair kp = ec();
    X509Certificate c = sign(new X500Name(subject), kp, trusted ? ca : otherCa,
        trusted ? caKeys.getPrivate() : otherKeys.getPrivate(), from, to, false, null,
        KeyPurposeId.id_kp_clientAuth);
    return issued(file, c, kp.getPrivate(), false);
  }

  private Issued issued(String file, X509Certificate c, PrivateKey key, boolean pkcs1)
      throws IOException, GeneralSecurityException {
    Path cert = write(file + ".pem", pem("CERTIFICATE", c.getEncoded()));
    String keyPem;
    if (pkcs1) {
      StringWriter w = new StringWriter();
      try (JcaPEMWriter pw = new JcaPEMWriter(w)) {
        pw.writeObject(key); // RSA: "BEGIN RSA PRIVATE KEY" (PKCS#1)
      }
      keyPem = w.toString();
    } else {
      keyPem = pem("PRIVATE KEY", key.getEncoded()); // PKCS#8
    }
    return new Issued(cert, write(file + ".key", keyPem), c);
  }

  private Path write(String name, String text) throws IOException {
    return Files.writeString(dir.resolve(name), text, StandardCharsets.US_ASCII);
  }

  /**
   * {@code text} to {@code target} atomically: written beside it, then renamed over it (how the
   * docs ask certificates to be replaced).
   */
  public static void replace(Path source, Path target) throws IOException {
    Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
    Files.copy(source, tmp, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    Files.move(tmp, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n"
        + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
        + "\n-----END " + type + "-----\n";
  }

  private static KeyPair ec() throws GeneralSecurityException {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    return g.generateKeyPair();
  }

  private static KeyPair rsa() throws GeneralSecurityException {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(2048);
    return g.generateKeyPair();
  }

  private static X509Certificate sign(X500Name subject, KeyPair subjectKeys,
      X509Certificate issuer, PrivateKey issuerKey, Instant from, Instant to, boolean isCa,
      GeneralNames san, KeyPurposeId purpose) throws Exception {
    X500Name issuerName = issuer == null ? subject
        : new X500Name(issuer.getSubjectX500Principal().getName());
    X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuerName,
        BigInteger.valueOf(SERIAL.incrementAndGet()), Date.from(from), Date.from(to), subject,
        subjectKeys.getPublic());
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(isCa));
    if (isCa) {
      b.addExtension(Extension.keyUsage, true,
          new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
    } else {
      b.addExtension(Extension.keyUsage, true,
          new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
      b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose));
    }
    if (san != null) {
      b.addExtension(Extension.subjectAlternativeName, false, san);
    }
    String alg = issuerKey.getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
    return new JcaX509CertificateConverter()
        .getCertificate(b.build(new JcaContentSignerBuilder(alg).build(issuerKey)));
  }
}
