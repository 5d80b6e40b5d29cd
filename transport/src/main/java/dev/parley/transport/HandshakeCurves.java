package dev.parley.transport;

import java.security.Provider;
import java.security.Security;
import java.util.List;
import java.util.Map;

/**
 * BouncyCastle's elliptic-curve arithmetic for the JDK's TLS handshakes: ECDSA signatures (the
 * server's and the client's {@code CertificateVerify}, and certificates' own signatures), the
 * X25519 and P-256 key exchanges, and the EC key factory (so that keys read from certificates and
 * key stores are BouncyCastle's own, which it uses without converting the curve at every call).
 * Everything else the JDK's TLS does (the record ciphers with their CPU instructions, the key
 * schedule, the protocol itself) stays with the JDK's providers.
 *
 * <p>Why: a full handshake with a client certificate costs each side one ECDSA signature, one or
 * two ECDSA verifications and two X25519 operations. In the JDK 17's generic field arithmetic a
 * P-256 signature takes about 0.43 ms and a verification 0.82 ms on this project's reference
 * machine; BouncyCastle's curve-specific arithmetic takes 0.07 to 0.22 ms and 0.08 to 0.16 ms
 * (docs/performance.md, "Issue 11, fifth round"). Logins over TLS, and above all the reconnect
 * storm after a restart, are those handshakes.
 *
 * <p>The JDK's TLS looks its algorithms up by name among the registered providers, so the only way
 * to give it other arithmetic is a provider ahead of the JDK's. This one is deliberately narrow: it
 * offers the handshake's elliptic-curve services and nothing else, so that no cipher, digest or key
 * store of the JDK is displaced. It is registered once per process, first, by {@link #install};
 * installing it again does nothing.
 */
public final class HandshakeCurves extends Provider {

  /** The name under which it is registered, as {@code Security.getProvider} finds it. */
  public static final String NAME = "ParleyHandshakeCurves";

  private static final long serialVersionUID = 1L;

  private static final String EC = "org.bouncycastle.jcajce.provider.asymmetric.ec.";
  private static final String XDH = "org.bouncycastle.jcajce.provider.asymmetric.edec.";

  /**
   * The services, by type and algorithm, with BouncyCastle's implementation of each and the other
   * names the JDK may ask for (certificates name their signature by object identifier).
   */
  private static final List<ServiceEntry> SERVICES =
      List.of(
          new ServiceEntry(
              "Signature",
              "SHA256withECDSA",
              EC + "SignatureSpi$ecDSA256",
              List.of("1.2.840.10045.4.3.2", "OID.1.2.840.10045.4.3.2")),
          new ServiceEntry(
              "Signature",
              "SHA384withECDSA",
              EC + "SignatureSpi$ecDSA384",
              List.of("1.2.840.10045.4.3.3", "OID.1.2.840.10045.4.3.3")),
          new ServiceEntry(
              "Signature",
              "SHA512withECDSA",
              EC + "SignatureSpi$ecDSA512",
              List.of("1.2.840.10045.4.3.4", "OID.1.2.840.10045.4.3.4")),
          new ServiceEntry(
              "KeyFactory", "EC", EC + "KeyFactorySpi$EC", List.of("1.2.840.10045.2.1")),
          new ServiceEntry(
              "KeyPairGenerator",
              "EC",
              EC + "KeyPairGeneratorSpi$EC",
              List.of("1.2.840.10045.2.1")),
          new ServiceEntry("KeyAgreement", "ECDH", EC + "KeyAgreementSpi$DH", List.of()),
          new ServiceEntry("KeyPairGenerator", "XDH", XDH + "KeyPairGeneratorSpi$XDH", List.of()),
          new ServiceEntry(
              "KeyPairGenerator",
              "X25519",
              XDH + "KeyPairGeneratorSpi$X25519",
              List.of("1.3.101.110", "OID.1.3.101.110")),
          new ServiceEntry("KeyFactory", "XDH", XDH + "KeyFactorySpi$XDH", List.of()),
          new ServiceEntry(
              "KeyFactory",
              "X25519",
              XDH + "KeyFactorySpi$X25519",
              List.of("1.3.101.110", "OID.1.3.101.110")),
          new ServiceEntry("KeyAgreement", "XDH", XDH + "KeyAgreementSpi$XDH", List.of()),
          new ServiceEntry(
              "KeyAgreement",
              "X25519",
              XDH + "KeyAgreementSpi$X25519",
              List.of("1.3.101.110", "OID.1.3.101.110")));

  private record ServiceEntry(
      String type, String algorithm, String className, List<String> aliases) {}

  private HandshakeCurves() {
    super(NAME, "1.0", "BouncyCastle's ECDSA, P-256 and X25519 for TLS handshakes");
    for (ServiceEntry entry : SERVICES) {
      putService(
          new Service(
              this, entry.type(), entry.algorithm(), entry.className(), entry.aliases(), Map.of()));
    }
  }

  /**
   * Registers the provider ahead of the JDK's, once per process. Safe to call from any thread, as
   * often as wanted: every place that makes a TLS context calls it, and the JDK refuses a second
   * provider of the same name.
   */
  public static void install() {
    if (Security.getProvider(NAME) == null) {
      Security.insertProviderAt(new HandshakeCurves(), 1);
    }
  }
}
