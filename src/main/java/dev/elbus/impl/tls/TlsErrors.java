package dev.elbus.impl.tls;

import io.netty.handler.ssl.NotSslRecordException;

import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.PKIXReason;
import javax.net.ssl.SSLException;

/**
 * One-line reasons for failed TLS handshakes, for the broker's log and the client's errors: the
 * JDK's messages name a PKIX path and a certificate path builder where a user needs "expired" or
 * "not trusted", and Netty's record error carries a hex dump of the bytes it got.
 */
public final class TlsErrors {
  private TlsErrors() {}

  /** Whether {@code t} or one of its causes is a TLS ({@link SSLException}) failure. */
  public static boolean isTls(Throwable t) {
    for (Throwable c = t; c != null; c = next(c)) {
      if (c instanceof SSLException) {
        return true;
      }
    }
    return false;
  }

  /**
   * Why a handshake failed, in one line.
   *
   * @param peer the other side, for the message: {@code "the broker"} on a client, {@code "the
   *     client"} on the broker
   */
  public static String describe(Throwable t, String peer) {
    String cert = peer + "'s certificate";
    for (Throwable c = t; c != null; c = next(c)) {
      if (c instanceof CertificateExpiredException) {
        return cert + " has expired (" + oneLine(c) + ")";
      }
      if (c instanceof CertificateNotYetValidException) {
        return cert + " is not valid yet (" + oneLine(c) + ")";
      }
    }
    for (Throwable c = t; c != null; c = next(c)) {
      if (c instanceof NotSslRecordException) {
        return peer + " does not speak TLS (it sent plain-text bytes)";
      }
      if (c instanceof CertPathBuilderException) {
        return cert + " is not trusted (it does not chain to a trusted CA)";
      }
      if (c instanceof CertPathValidatorException) {
        CertPathValidatorException.Reason r = ((CertPathValidatorException) c).getReason();
        if (r == CertPathValidatorException.BasicReason.INVALID_SIGNATURE) {
          return cert + " is not trusted (its signature does not verify with a trusted CA's key)";
        }
        if (r == PKIXReason.NO_TRUST_ANCHOR) {
          return cert + " is not trusted (it does not chain to a trusted CA)";
        }
        if (r == CertPathValidatorException.BasicReason.REVOKED) {
          return cert + " is revoked";
        }
        return cert + " is not valid (" + oneLine(c) + ")";
      }
      String m = c.getMessage();
      if (m == null) {
        continue;
      }
      if (m.startsWith("No subject alternative") || m.startsWith("No name matching")) {
        return cert + " does not name the host connected to (" + oneLine(c) + ")";
      }
      if (m.contains("Empty client certificate chain")) {
        return "no client certificate was presented, and the broker requires one";
      }
      int alert = m.indexOf("Received fatal alert: ");
      if (alert >= 0) {
        return peer + " refused the handshake (TLS alert "
            + m.substring(alert + "Received fatal alert: ".length()).trim() + ")";
      }
    }
    Throwable root = t;
    while (next(root) != null) {
      root = next(root);
    }
    return oneLine(root);
  }

  private static Throwable next(Throwable c) {
    Throwable n = c.getCause();
    return n == c ? null : n;
  }

  private static String oneLine(Throwable t) {
    String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    int nl = m.indexOf('\n');
    return nl < 0 ? m : m.substring(0, nl);
  }
}
