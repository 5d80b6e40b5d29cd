package dev.parley.server.tls;

import dev.parley.transport.ServerTls;
import dev.parley.transport.TlsIdentity;
import dev.parley.transport.TlsMaterialException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Optional;
import org.slf4j.Logger;

/**
 * Finds the certificate the server presents, before the node starts: the configured PEM files or
 * PKCS#12 keystore, or else its own self-signed certificate, generated in {@code <data-dir>/tls/}
 * on the first start and read back on every later one (a new certificate at each start would make
 * every client that knows the server refuse it). Either way it logs one line with the certificate's
 * fingerprint, which an operator hands to users who want to pin it.
 */
public final class ServerCertificate {

  /** The directory under the data directory that holds the generated certificate. */
  public static final String DIRECTORY = "tls";

  /** The generated certificate, PEM. */
  public static final String CERTIFICATE_FILE = "server.crt";

  /** Its private key, PEM (PKCS#8), readable by the owner only. */
  public static final String PRIVATE_KEY_FILE = "server.key";

  /** The subject of the generated certificate; clients recognise it by fingerprint, not name. */
  private static final String SELF_SIGNED_NAME = "Parley server";

  private ServerCertificate() {}

  /**
   * The server's TLS engines, or empty when TLS is off (which is logged as a warning).
   *
   * @param dataDir the store's data directory, created if need be (also with PostgreSQL, which
   *     keeps nothing else there)
   * @throws TlsMaterialException if the configured files cannot be used, or the generated ones
   *     cannot be written or read back; the message says which and why
   */
  public static Optional<ServerTls> load(TlsSettings settings, Path dataDir, Logger log)
      throws TlsMaterialException {
    if (!settings.enabled()) {
      log.warn(
          "TLS is off (--plaintext): passwords and messages cross the network unencrypted;"
              + " use this only where no one else can listen");
      return Optional.empty();
    }
    TlsIdentity identity;
    String origin;
    if (settings.keystore().isPresent()) {
      Path keystore = settings.keystore().get();
      identity = TlsIdentity.fromPkcs12(keystore, settings.keystorePassword().toCharArray());
      origin = "keystore " + keystore;
    } else if (settings.certificate().isPresent()) {
      Path certificate = settings.certificate().get();
      identity = TlsIdentity.fromPem(certificate, settings.privateKey().orElseThrow());
      origin = certificate.toString();
    } else {
      Path directory = dataDir.resolve(DIRECTORY);
      Path certificate = directory.resolve(CERTIFICATE_FILE);
      Path key = directory.resolve(PRIVATE_KEY_FILE);
      if (Files.exists(certificate) || Files.exists(key)) {
        identity = readGenerated(certificate, key, directory);
        origin = certificate + " (self-signed)";
      } else {
        createDirectory(directory);
        identity = TlsIdentity.selfSigned(SELF_SIGNED_NAME, settings.selfSignedValidity());
        identity.savePem(certificate, key);
        origin = certificate + " (self-signed, generated now)";
      }
    }
    X509Certificate certificate = identity.certificate();
    log.info(
        "TLS on, certificate from {}; clients can pin it with --trust-fingerprint {}",
        origin,
        identity.fingerprint());
    if (certificate.getNotAfter().toInstant().isBefore(Instant.now())) {
      log.warn(
          "the TLS certificate expired on {}: clients that check it against a CA will refuse it",
          certificate.getNotAfter().toInstant());
    }
    return Optional.of(ServerTls.create(identity));
  }

  private static TlsIdentity readGenerated(Path certificate, Path key, Path directory)
      throws TlsMaterialException {
    try {
      return TlsIdentity.fromPem(certificate, key);
    } catch (TlsMaterialException e) {
      throw new TlsMaterialException(
          e.getMessage()
              + "; to make a new certificate, remove "
              + directory
              + " (clients that know the old one will then refuse the server until told)",
          e);
    }
  }

  /** Creates the directory, for its owner only where the file system allows it. */
  private static void createDirectory(Path directory) throws TlsMaterialException {
    try {
      Files.createDirectories(directory.toAbsolutePath().getParent());
      if (!Files.isDirectory(directory)) {
        boolean posix = directory.getFileSystem().supportedFileAttributeViews().contains("posix");
        if (posix) {
          Files.createDirectory(
              directory,
              PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } else {
          Files.createDirectory(directory);
        }
      }
    } catch (IOException e) {
      throw new TlsMaterialException("cannot create " + directory + ": " + e.getMessage(), e);
    }
  }
}
