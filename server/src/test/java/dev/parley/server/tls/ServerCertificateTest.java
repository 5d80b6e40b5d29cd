package dev.parley.server.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.server.testing.CapturedLog;
import dev.parley.transport.ServerTls;
import dev.parley.transport.TlsIdentity;
import dev.parley.transport.TlsMaterialException;
import dev.parley.transport.testing.TestAuthority;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

class ServerCertificateTest {

  private static final Logger LOG = LoggerFactory.getLogger(ServerCertificateTest.class);
  private static final Duration TEN_YEARS = Duration.ofDays(3650);

  @TempDir Path directory;

  @Test
  void shouldMakeASelfSignedCertificateOnTheFirstStartAndKeepIt() throws Exception {
    Path dataDir = directory.resolve("data");

    ServerTls first = load(settings(true, null, null, null), dataDir).orElseThrow();
    ServerTls second = load(settings(true, null, null, null), dataDir).orElseThrow();

    assertEquals(first.fingerprint(), second.fingerprint(), "the same certificate after a restart");
    Path key = dataDir.resolve("tls").resolve("server.key");
    assertTrue(Files.exists(dataDir.resolve("tls").resolve("server.crt")));
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(key)));
    assertEquals(
        "rwx------",
        PosixFilePermissions.toString(Files.getPosixFilePermissions(dataDir.resolve("tls"))));
    assertTrue(
        first
            .identity()
            .certificate()
            .getNotAfter()
            .toInstant()
            .isAfter(java.time.Instant.now().plus(TEN_YEARS).minus(Duration.ofDays(1))));
  }

  @Test
  void shouldLogTheFingerprintForClientsToPinAtEveryStart() throws Exception {
    Path dataDir = directory.resolve("data");
    try (CapturedLog log = CapturedLog.start()) {
      ServerTls generated = load(settings(true, null, null, null), dataDir).orElseThrow();
      load(settings(true, null, null, null), dataDir);

      String pin = "--trust-fingerprint " + generated.fingerprint();
      assertEquals(2, log.text().lines().filter(line -> line.contains(pin)).count(), log.text());
      assertTrue(log.text().contains("generated now"), log.text());
    }
  }

  @Test
  void shouldUseTheConfiguredPemFilesInstead() throws Exception {
    TlsIdentity issued = TestAuthority.create().issue("EC", "chat.example.org");
    Path fullchain = directory.resolve("fullchain.pem");
    Path privkey = directory.resolve("privkey.pem");
    issued.savePem(fullchain, privkey);
    Path dataDir = directory.resolve("data");

    ServerTls tls = load(settings(true, fullchain, privkey, null), dataDir).orElseThrow();

    assertEquals(issued.fingerprint(), tls.fingerprint());
    assertEquals(2, tls.identity().chain().size());
    assertFalse(Files.exists(dataDir.resolve("tls")), "nothing generated");
  }

  @Test
  void shouldUseAConfiguredKeystore() throws Exception {
    TlsIdentity issued = TestAuthority.create().issue("RSA", "chat.example.org");
    Path keystore = directory.resolve("server.p12");
    TestAuthority.writePkcs12(keystore, issued, "changeit".toCharArray());
    TlsSettings settings =
        new TlsSettings(
            true, Optional.empty(), Optional.empty(), Optional.of(keystore), "changeit", TEN_YEARS);

    assertEquals(issued.fingerprint(), load(settings, directory).orElseThrow().fingerprint());
  }

  @Test
  void shouldSayWhichFileCannotBeUsed() {
    Path missing = directory.resolve("missing.pem");

    TlsMaterialException error =
        assertThrows(
            TlsMaterialException.class,
            () -> load(settings(true, missing, directory.resolve("key.pem"), null), directory));
    assertTrue(error.getMessage().contains(missing.toString()), error.getMessage());
  }

  @Test
  void shouldSayHowToStartAgainWhenTheGeneratedKeyIsDamaged() throws Exception {
    Path dataDir = directory.resolve("data");
    load(settings(true, null, null, null), dataDir);
    Files.writeString(dataDir.resolve("tls").resolve("server.key"), "damaged\n");

    TlsMaterialException error =
        assertThrows(
            TlsMaterialException.class, () -> load(settings(true, null, null, null), dataDir));
    assertTrue(error.getMessage().contains("remove " + dataDir.resolve("tls")), error.getMessage());
  }

  @Test
  void shouldMakeNoCertificateWhenTlsIsOff() throws Exception {
    Path dataDir = directory.resolve("data");

    assertEquals(Optional.empty(), load(settings(false, null, null, null), dataDir));
    assertFalse(Files.exists(dataDir));
  }

  @Test
  void shouldMakeADifferentCertificateForAnotherDataDirectory() throws Exception {
    ServerTls one = load(settings(true, null, null, null), directory.resolve("one")).orElseThrow();
    ServerTls two = load(settings(true, null, null, null), directory.resolve("two")).orElseThrow();

    assertNotEquals(one.fingerprint(), two.fingerprint());
  }

  private static Optional<ServerTls> load(TlsSettings settings, Path dataDir)
      throws TlsMaterialException {
    return ServerCertificate.load(settings, dataDir, LOG);
  }

  private static TlsSettings settings(
      boolean enabled, Path certificate, Path privateKey, Path keystore) {
    return new TlsSettings(
        enabled,
        Optional.ofNullable(certificate),
        Optional.ofNullable(privateKey),
        Optional.ofNullable(keystore),
        "",
        TEN_YEARS);
  }
}
