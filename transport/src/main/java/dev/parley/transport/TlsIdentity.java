package dev.parley.transport;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * Who one end of a TLS connection is: a private key and the certificate chain that goes with it,
 * its own certificate first. A Parley server has one (generated on its first start, or issued by a
 * CA); every client makes one for itself when it starts, and presents it as its client certificate.
 * The {@link #fingerprint()} of the certificate is how the others recognise it.
 *
 * <p>Never printed whole: {@link #toString()} shows the subject and fingerprint, not the key.
 *
 * @param privateKey the key whose public half the first certificate carries
 * @param chain the certificate first, then any intermediate CA certificates
 */
public record TlsIdentity(PrivateKey privateKey, List<X509Certificate> chain) {

  private static final String PKCS12 = "PKCS12";

  /** What is signed to check that a key and a certificate belong together. */
  private static final byte[] PROBE = "parley key check".getBytes(StandardCharsets.US_ASCII);

  public TlsIdentity {
    if (privateKey == null || chain == null || chain.isEmpty()) {
      throw new IllegalArgumentException("an identity needs a private key and a certificate");
    }
    chain = List.copyOf(chain);
  }

  /**
   * A new EC P-256 key pair and a self-signed certificate for it, valid from now (less an hour, for
   * clocks a little behind) for {@code validity}.
   *
   * @param commonName the certificate's subject, {@code CN=commonName}; informative only
   */
  public static TlsIdentity selfSigned(String commonName, Duration validity)
      throws TlsMaterialException {
    return SelfSigned.generate(commonName, validity);
  }

  /**
   * Reads a PEM certificate chain (the certificate first, then its intermediates, as Let's
   * Encrypt's {@code fullchain.pem}) and the matching unencrypted PEM private key (PKCS#8, PKCS#1
   * or SEC1, as {@code privkey.pem}).
   *
   * @throws TlsMaterialException if a file is missing or unreadable, or the key does not belong to
   *     the certificate
   */
  public static TlsIdentity fromPem(Path certificateChain, Path privateKey)
      throws TlsMaterialException {
    List<X509Certificate> chain = PemFiles.readCertificates(certificateChain);
    PrivateKey key = PemFiles.readPrivateKey(privateKey);
    requireMatch(key, chain.get(0), privateKey + " and " + certificateChain);
    return new TlsIdentity(key, chain);
  }

  /**
   * Reads the first private key entry of a PKCS#12 keystore ({@code .p12}, {@code .pfx}), with the
   * same password for the store and the key, as {@code openssl pkcs12 -export} and {@code keytool}
   * make them.
   */
  public static TlsIdentity fromPkcs12(Path keystore, char[] password) throws TlsMaterialException {
    KeyStore store;
    try (InputStream in = Files.newInputStream(keystore)) {
      store = KeyStore.getInstance(PKCS12);
      store.load(in, password);
    } catch (NoSuchFileException e) {
      throw new TlsMaterialException("keystore " + keystore + " does not exist", e);
    } catch (IOException | GeneralSecurityException e) {
      // A wrong password shows as an IOException whose cause is an UnrecoverableKeyException.
      throw new TlsMaterialException(
          "cannot read keystore "
              + keystore
              + " (is the password right, and is it PKCS#12?): "
              + e.getMessage(),
          e);
    }
    try {
      for (String alias : Collections.list(store.aliases())) {
        if (!store.isKeyEntry(alias)) {
          continue;
        }
        Key key = store.getKey(alias, password);
        Certificate[] certificates = store.getCertificateChain(alias);
        if (key instanceof PrivateKey privateKey && certificates != null) {
          List<X509Certificate> chain = new ArrayList<>();
          for (Certificate certificate : certificates) {
            chain.add((X509Certificate) certificate);
          }
          requireMatch(privateKey, chain.get(0), keystore + " (entry " + alias + ")");
          return new TlsIdentity(privateKey, chain);
        }
      }
    } catch (GeneralSecurityException | ClassCastException e) {
      throw new TlsMaterialException("cannot read the key in keystore " + keystore + ": " + e, e);
    }
    throw new TlsMaterialException(
        "keystore " + keystore + " holds no private key with its certificate");
  }

  /**
   * Writes the chain to {@code certificateFile} and the key to {@code privateKeyFile} (PKCS#8 PEM,
   * mode 0600 where the file system has POSIX permissions), each replaced whole or not at all. The
   * key is written first: a certificate on disk always has its key beside it.
   */
  public void savePem(Path certificateFile, Path privateKeyFile) throws TlsMaterialException {
    PemFiles.writePrivateKey(privateKeyFile, privateKey);
    PemFiles.writeCertificates(certificateFile, chain);
  }

  /** The end-entity certificate: the one presented, and fingerprinted. */
  public X509Certificate certificate() {
    return chain.get(0);
  }

  /** The SHA-256 fingerprint of {@link #certificate()}. */
  public Fingerprint fingerprint() {
    return Fingerprint.of(certificate());
  }

  @Override
  public String toString() {
    return "TlsIdentity["
        + certificate().getSubjectX500Principal().getName()
        + ", "
        + fingerprint()
        + "]";
  }

  /** Signs with the key and verifies with the certificate: they belong together, or this throws. */
  private static void requireMatch(PrivateKey key, X509Certificate certificate, String where)
      throws TlsMaterialException {
    PublicKey publicKey = certificate.getPublicKey();
    String algorithm = signatureAlgorithm(publicKey.getAlgorithm());
    boolean matches;
    try {
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(PROBE);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(publicKey);
      verifier.update(PROBE);
      matches = verifier.verify(signature);
    } catch (GeneralSecurityException e) {
      // An RSA key against an EC certificate, say: not a pair either.
      matches = false;
    }
    if (!matches) {
      throw new TlsMaterialException(
          "the private key does not belong to the certificate: " + where);
    }
  }

  private static String signatureAlgorithm(String keyAlgorithm) {
    return switch (keyAlgorithm.toUpperCase(Locale.ROOT)) {
      case "EC" -> "SHA256withECDSA";
      case "RSA" -> "SHA256withRSA";
      // EdDSA (Ed25519, Ed448): the key algorithm is its own signature algorithm.
      default -> keyAlgorithm;
    };
  }
}
