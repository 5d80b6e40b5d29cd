package dev.parley.transport;

import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The client's decision whether the server it reached is the one it meant to reach, made during the
 * TLS handshake from the certificate chain the server presented. Returning means trusted; throwing
 * ends the handshake before any application data is sent. Throw {@link UntrustedServerException}
 * for a refusal the user must hear about as such (a mismatch, a change), and any other {@link
 * CertificateException} for a certificate that could merely not be vouched for.
 *
 * <p>The engine gives the host and port being reached ({@link SSLEngine#getPeerHost()}, {@link
 * SSLEngine#getPeerPort()}) and carries the endpoint identification that {@link #pkix} uses to
 * check the host name.
 */
@FunctionalInterface
public interface ServerVerifier {

  /**
   * @param chain the server's certificate first, then what it sent of its chain; never empty
   * @param authType the key exchange's authentication type, as the JDK names it
   * @param engine the client's engine doing the handshake
   */
  void verify(List<X509Certificate> chain, String authType, SSLEngine engine)
      throws CertificateException;

  /** Accepts only the certificate with {@code expected} fingerprint, whoever issued it. */
  static ServerVerifier pinned(Fingerprint expected) {
    return (chain, authType, engine) -> {
      Fingerprint presented = Fingerprint.of(chain.get(0));
      if (!presented.equals(expected)) {
        throw new UntrustedServerException(
            "the server presented certificate " + presented + ", not the expected " + expected);
      }
    };
  }

  /**
   * Accepts a chain that the given trust anchors vouch for and that names the host being reached,
   * as a browser would: the JDK's PKIX validation with HTTPS host name checking.
   *
   * @param anchors the CA certificates to trust; null for the JDK's (its {@code cacerts}, or the
   *     store named by {@code javax.net.ssl.trustStore})
   */
  static ServerVerifier pkix(KeyStore anchors) {
    X509ExtendedTrustManager trust;
    try {
      TrustManagerFactory factory =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      factory.init(anchors);
      trust = x509(factory.getTrustManagers());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK's trust store cannot be loaded", e);
    }
    return (chain, authType, engine) ->
        trust.checkServerTrusted(chain.toArray(X509Certificate[]::new), authType, engine);
  }

  /** {@link #pkix} with the JDK's trust store: what the operating system's Java trusts. */
  static ServerVerifier systemTrust() {
    return pkix(null);
  }

  /**
   * Accepts any certificate: the connection is encrypted but the server is not authenticated. For
   * benchmarks and tests against one's own server only; never for a user's connection.
   */
  static ServerVerifier trustAll() {
    return (chain, authType, engine) -> {};
  }

  private static X509ExtendedTrustManager x509(TrustManager[] managers) {
    for (TrustManager manager : managers) {
      if (manager instanceof X509ExtendedTrustManager x509) {
        return x509;
      }
    }
    throw new IllegalStateException("the JDK offers no X.509 trust manager");
  }
}
