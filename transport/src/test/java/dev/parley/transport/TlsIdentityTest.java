package dev.parley.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.transport.testing.TestAuthority;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.pkcs.EncryptedPrivateKeyInfo;
import org.bouncycastle.asn1.pkcs.PKCS12PBEParams;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TlsIdentityTest {

  private static final TestAuthority CA = TestAuthority.create();

  @TempDir Path directory;

  @Test
  void shouldGenerateAnEcKeyAndASelfSignedCertificateValidForTheGivenTime() throws Exception {
    TlsIdentity identity = TlsIdentity.selfSigned("parley test", Duration.ofDays(3650));

    var certificate = identity.certificate();
    assertEquals("EC", identity.privateKey().getAlgorithm());
    assertEquals("CN=parley test", certificate.getSubjectX500Principal().getName());
    assertEquals(certificate.getSubjectX500Principal(), certificate.getIssuerX500Principal());
    certificate.verify(certificate.getPublicKey());
    certificate.checkValidity(new Date());
    certificate.checkValidity(Date.from(Instant.now().plus(Duration.ofDays(3649))));
    assertThrows(
        Exception.class,
        () -> certificate.checkValidity(Date.from(Instant.now().plus(Duration.ofDays(3651)))));
    assertEquals(-1, certificate.getBasicConstraints(), "not a CA");
  }

  @Test
  void shouldGenerateADifferentKeyEachTime() throws Exception {
    TlsIdentity one = TlsIdentity.selfSigned("x", Duration.ofDays(1));
    TlsIdentity two = TlsIdentity.selfSigned("x", Duration.ofDays(1));

    assertFalse(one.fingerprint().equals(two.fingerprint()));
  }

  @Test
  void shouldReadBackWhatItSavedWithTheKeyReadableByTheOwnerOnly() throws Exception {
    TlsIdentity identity = TlsIdentity.selfSigned("round trip", Duration.ofDays(1));
    Path certificate = directory.resolve("server.crt");
    Path key = directory.resolve("server.key");

    identity.savePem(certificate, key);
    TlsIdentity read = TlsIdentity.fromPem(certificate, key);

    assertEquals(identity.fingerprint(), read.fingerprint());
    assertEquals(identity.privateKey(), read.privateKey());
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(key)));
    assertTrue(Files.readString(key).startsWith("-----BEGIN PRIVATE KEY-----"));
    assertTrue(Files.readString(certificate).startsWith("-----BEGIN CERTIFICATE-----"));
  }

  @Test
  void shouldReadACaFullChainWithItsPkcs8Key() throws Exception {
    TlsIdentity issued = CA.issue("EC", "chat.example.org");
    Path fullchain = directory.resolve("fullchain.pem");
    Path privkey = directory.resolve("privkey.pem");
    issued.savePem(fullchain, privkey);

    TlsIdentity read = TlsIdentity.fromPem(fullchain, privkey);

    assertEquals(2, read.chain().size(), "the certificate and the intermediate");
    assertEquals(issued.chain(), read.chain());
    assertEquals(issued.fingerprint(), read.fingerprint());
  }

  @Test
  void shouldReadTraditionalRsaAndEcKeys() throws Exception {
    for (String algorithm : new String[] {"RSA", "EC"}) {
      TlsIdentity issued = CA.issue(algorithm, "chat.example.org");
      Path fullchain = directory.resolve(algorithm + "-fullchain.pem");
      Path privkey = directory.resolve(algorithm + "-privkey.pem");
      issued.savePem(fullchain, directory.resolve(algorithm + "-unused.pem"));
      TestAuthority.writeTraditionalKey(privkey, issued.privateKey());
      String begins = algorithm.equals("RSA") ? "RSA PRIVATE KEY" : "EC PRIVATE KEY";
      assertTrue(Files.readString(privkey).contains("-----BEGIN " + begins + "-----"));

      TlsIdentity read = TlsIdentity.fromPem(fullchain, privkey);

      assertEquals(issued.fingerprint(), read.fingerprint());
      assertEquals(algorithm, read.privateKey().getAlgorithm());
    }
  }

  @Test
  void shouldReadAPkcs12KeystoreWithItsPassword() throws Exception {
    TlsIdentity issued = CA.issue("RSA", "chat.example.org");
    Path keystore = directory.resolve("server.p12");
    TestAuthority.writePkcs12(keystore, issued, "s3cret".toCharArray());

    TlsIdentity read = TlsIdentity.fromPkcs12(keystore, "s3cret".toCharArray());

    assertEquals(issued.fingerprint(), read.fingerprint());
    assertEquals(issued.chain(), read.chain());
    TlsMaterialException wrong =
        assertThrows(
            TlsMaterialException.class,
            () -> TlsIdentity.fromPkcs12(keystore, "guess".toCharArray()));
    assertTrue(wrong.getMessage().contains("password"), wrong.getMessage());
  }

  @Test
  void shouldRefuseAKeyThatIsNotTheCertificates() throws Exception {
    TlsIdentity one = CA.issue("EC", "one.example.org");
    TlsIdentity two = CA.issue("EC", "two.example.org");
    Path certificate = directory.resolve("one.pem");
    Path key = directory.resolve("two.key");
    one.savePem(certificate, directory.resolve("one.key"));
    two.savePem(directory.resolve("two.pem"), key);

    TlsMaterialException mismatch =
        assertThrows(TlsMaterialException.class, () -> TlsIdentity.fromPem(certificate, key));
    assertTrue(mismatch.getMessage().contains("does not belong"), mismatch.getMessage());
  }

  @Test
  void shouldSayWhatIsWrongWithAFile() throws Exception {
    Path missing = directory.resolve("missing.pem");
    Path empty = Files.writeString(directory.resolve("empty.pem"), "not a PEM file\n");
    Path encrypted = directory.resolve("encrypted.key");
    TlsIdentity identity = TlsIdentity.selfSigned("x", Duration.ofDays(1));
    writeEncrypted(encrypted, identity);

    assertTrue(message(() -> TlsIdentity.fromPem(missing, empty)).contains("does not exist"));
    assertTrue(message(() -> TlsIdentity.fromPem(empty, empty)).contains("no PEM certificate"));
    Path certificate = directory.resolve("x.pem");
    identity.savePem(certificate, directory.resolve("x.key"));
    assertTrue(message(() -> TlsIdentity.fromPem(certificate, empty)).contains("no PEM private"));
    assertTrue(message(() -> TlsIdentity.fromPem(certificate, encrypted)).contains("encrypted"));
  }

  @Test
  void shouldNeverShowItsKey() throws Exception {
    TlsIdentity identity = TlsIdentity.selfSigned("shown", Duration.ofDays(1));

    assertEquals("TlsIdentity[CN=shown, " + identity.fingerprint() + "]", identity.toString());
  }

  /**
   * An encrypted PKCS#8 key, as {@code openssl pkcs8 -topk8} writes one with a passphrase. Only its
   * form matters: Parley refuses it without trying to decrypt it.
   */
  private static void writeEncrypted(Path file, TlsIdentity identity) throws Exception {
    AlgorithmIdentifier pbe =
        new AlgorithmIdentifier(
            PKCSObjectIdentifiers.pbeWithSHAAnd3_KeyTripleDES_CBC,
            new PKCS12PBEParams(new byte[8], 2048));
    byte[] info = new EncryptedPrivateKeyInfo(pbe, identity.privateKey().getEncoded()).getEncoded();
    try (PemWriter writer =
        new PemWriter(Files.newBufferedWriter(file, StandardCharsets.US_ASCII))) {
      writer.writeObject(new PemObject("ENCRYPTED PRIVATE KEY", info));
    }
  }

  private interface Loading {
    void load() throws Exception;
  }

  private static String message(Loading loading) {
    return assertThrows(TlsMaterialException.class, loading::load).getMessage();
  }
}
