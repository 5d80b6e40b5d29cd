package dev.parley.transport.testing;

import dev.parley.transport.TlsIdentity;
import java.io.IOException;
import java.io.Writer;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.sec.ECPrivateKey;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.util.io.pem.PemObject;

/**
 * A certificate authority for tests: a root, an intermediate, and server certificates they issue
 * for host names or addresses, as a public CA would (the chain as {@code fullchain.pem} has it).
 * With {@link #trustStore()} a test makes a client that trusts this CA the way the system's trust
 * store trusts a public one.
 */
public final class TestAuthority {

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Duration VALIDITY = Duration.ofDays(30);
  private static final Duration BACKDATE = Duration.ofHours(1);
  private static final int EC_ORDER_BITS = 256;

  private final KeyPair rootKeys;
  private final X509Certificate root;
  private final KeyPair intermediateKeys;
  private final X509Certificate intermediate;

  private TestAuthority() throws Exception {
    rootKeys = keys("EC");
    root = sign(rootKeys, "Parley Test Root CA", rootKeys, null, true, List.of());
    intermediateKeys = keys("EC");
    intermediate =
        sign(intermediateKeys, "Parley Test Intermediate CA", rootKeys, root, true, List.of());
  }

  public static TestAuthority create() {
    try {
      return new TestAuthority();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * A server identity issued by the intermediate, naming {@code hosts} (DNS names, or IP addresses
   * written as such); {@code keyAlgorithm} is {@code EC} or {@code RSA}. Its chain is the server
   * certificate, then the intermediate.
   */
  public TlsIdentity issue(String keyAlgorithm, String... hosts) {
    try {
      KeyPair keys = keys(keyAlgorithm);
      X509Certificate certificate =
          sign(keys, hosts[0], intermediateKeys, intermediate, false, List.of(hosts));
      return new TlsIdentity(keys.getPrivate(), List.of(certificate, intermediate));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** A PKCS#12 trust store holding the root, as {@code javax.net.ssl.trustStore} takes one. */
  public KeyStore trustStore() {
    try {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      store.setCertificateEntry("parley-test-root", root);
      return store;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Writes {@link #trustStore()} to {@code file} with {@code password}. */
  public void writeTrustStore(Path file, char[] password) throws IOException {
    try (var out = Files.newOutputStream(file)) {
      trustStore().store(out, password);
    } catch (GeneralSecurityException e) {
      throw new IOException(e);
    }
  }

  /**
   * Writes a key the way OpenSSL's older tools do ({@code RSA PRIVATE KEY}, PKCS#1, or {@code EC
   * PRIVATE KEY}, SEC1), rather than PKCS#8 as Parley writes its own.
   */
  public static void writeTraditionalKey(Path file, PrivateKey key) throws IOException {
    try (Writer writer = Files.newBufferedWriter(file, StandardCharsets.US_ASCII);
        JcaPEMWriter pem = new JcaPEMWriter(writer)) {
      if (key.getAlgorithm().equals("EC")) {
        // SEC1 with the curve named inside, as OpenSSL writes it (the JDK's PKCS#8 encoding
        // names it only outside the inner structure).
        PrivateKeyInfo info = PrivateKeyInfo.getInstance(key.getEncoded());
        ECPrivateKey inner = ECPrivateKey.getInstance(info.parsePrivateKey());
        ECPrivateKey sec1 =
            new ECPrivateKey(
                EC_ORDER_BITS, inner.getKey(), info.getPrivateKeyAlgorithm().getParameters());
        pem.writeObject(new PemObject("EC PRIVATE KEY", sec1.getEncoded()));
      } else {
        pem.writeObject(key);
      }
    }
  }

  /** Writes the identity as a PKCS#12 keystore with one entry, as {@code openssl pkcs12} does. */
  public static void writePkcs12(Path file, TlsIdentity identity, char[] password)
      throws IOException {
    try (var out = Files.newOutputStream(file)) {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      store.setKeyEntry(
          "server",
          identity.privateKey(),
          password,
          identity.chain().toArray(X509Certificate[]::new));
      store.store(out, password);
    } catch (GeneralSecurityException e) {
      throw new IOException(e);
    }
  }

  private static KeyPair keys(String algorithm) throws GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance(algorithm);
    if (algorithm.equals("EC")) {
      generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
    } else {
      generator.initialize(2048, RANDOM);
    }
    return generator.generateKeyPair();
  }

  private static X509Certificate sign(
      KeyPair subjectKeys,
      String commonName,
      KeyPair issuerKeys,
      X509Certificate issuer,
      boolean ca,
      List<String> hosts)
      throws Exception {
    X500Name subject = new X500Name("CN=" + commonName);
    X500Name issuerName =
        issuer == null
            ? subject
            : X500Name.getInstance(issuer.getSubjectX500Principal().getEncoded());
    Instant now = Instant.now();
    X509v3CertificateBuilder builder =
        new JcaX509v3CertificateBuilder(
            issuerName,
            new BigInteger(64, RANDOM),
            Date.from(now.minus(BACKDATE)),
            Date.from(now.plus(VALIDITY)),
            subject,
            subjectKeys.getPublic());
    builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
    builder.addExtension(
        Extension.keyUsage,
        true,
        new KeyUsage(
            ca
                ? KeyUsage.keyCertSign | KeyUsage.cRLSign
                : KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
    if (!hosts.isEmpty()) {
      List<GeneralName> names = new ArrayList<>();
      for (String host : hosts) {
        boolean address = host.matches("[0-9.]+") || host.contains(":");
        names.add(new GeneralName(address ? GeneralName.iPAddress : GeneralName.dNSName, host));
      }
      builder.addExtension(
          Extension.subjectAlternativeName,
          false,
          new GeneralNames(names.toArray(GeneralName[]::new)));
    }
    String algorithm =
        issuerKeys.getPrivate().getAlgorithm().equals("EC") ? "SHA256withECDSA" : "SHA256withRSA";
    return new JcaX509CertificateConverter()
        .getCertificate(
            builder.build(new JcaContentSignerBuilder(algorithm).build(issuerKeys.getPrivate())));
  }
}
