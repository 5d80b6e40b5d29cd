package dev.parley.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.MessageDigest;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Locale;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class FingerprintTest {

  private static TlsIdentity identity;
  private static byte[] digest;

  @BeforeAll
  static void makeCertificate() throws Exception {
    identity = TlsIdentity.selfSigned("fingerprint test", Duration.ofDays(1));
    digest = MessageDigest.getInstance("SHA-256").digest(identity.certificate().getEncoded());
  }

  @Test
  void shouldWriteSha256OfTheDerInUnpaddedBase64AsOpenSshDoes() {
    Fingerprint fingerprint = Fingerprint.of(identity.certificate());

    String base64 = Base64.getEncoder().withoutPadding().encodeToString(digest);
    assertEquals("SHA256:" + base64, fingerprint.toString());
    assertEquals(7 + 43, fingerprint.value().length());
    assertFalse(fingerprint.value().contains("="));
    assertArrayEquals(digest, fingerprint.digest());
  }

  @Test
  void shouldReadTheFormsOtherToolsPrint() {
    Fingerprint expected = Fingerprint.of(identity.certificate());
    String base64 = Base64.getEncoder().encodeToString(digest);
    String colonHex = HexFormat.ofDelimiter(":").withUpperCase().formatHex(digest);

    assertEquals(expected, Fingerprint.parse(expected.value()));
    assertEquals(expected, Fingerprint.parse("  " + expected.value() + "\n"));
    assertEquals(expected, Fingerprint.parse("SHA256:" + base64));
    assertEquals(expected, Fingerprint.parse("sha256:" + base64.replace("=", "")));
    assertEquals(expected, Fingerprint.parse(base64));
    assertEquals(expected, Fingerprint.parse(colonHex));
    assertEquals(expected, Fingerprint.parse("SHA256:" + colonHex.toLowerCase(Locale.ROOT)));
    assertEquals(expected, Fingerprint.parse(HexFormat.of().formatHex(digest)));
  }

  @Test
  void shouldRefuseWhatIsNoSha256Digest() {
    assertThrows(IllegalArgumentException.class, () -> Fingerprint.parse(""));
    assertThrows(IllegalArgumentException.class, () -> Fingerprint.parse("SHA256:abc"));
    assertThrows(IllegalArgumentException.class, () -> Fingerprint.parse("SHA256:!!!"));
    // A SHA-1 fingerprint (20 bytes) is not accepted as a SHA-256 one.
    assertThrows(
        IllegalArgumentException.class,
        () -> Fingerprint.parse(HexFormat.ofDelimiter(":").formatHex(new byte[20])));
    assertThrows(IllegalArgumentException.class, () -> new Fingerprint("SHA256:short"));
  }

  @Test
  void shouldMatchOnlyItsOwnCertificate() throws Exception {
    TlsIdentity other = TlsIdentity.selfSigned("someone else", Duration.ofDays(1));
    Fingerprint fingerprint = identity.fingerprint();

    assertTrue(fingerprint.matches(identity.certificate()));
    assertFalse(fingerprint.matches(other.certificate()));
  }
}
