package dev.parley.transport;

import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

/**
 * Reads and writes PEM files with BouncyCastle's parser and writer: a certificate chain (one or
 * more {@code CERTIFICATE} blocks, the server's own first, as a CA's {@code fullchain.pem} has it),
 * and a private key in any of the unencrypted forms CAs and OpenSSL hand out ({@code PRIVATE KEY},
 * PKCS#8; {@code RSA PRIVATE KEY}, PKCS#1; {@code EC PRIVATE KEY}, SEC1, possibly after an {@code
 * EC PARAMETERS} block). Keys are written as PKCS#8, readable by the owner only.
 */
final class PemFiles {

  /** Read and write for the owner, nothing for anyone else: the mode of a private key file. */
  private static final Set<PosixFilePermission> OWNER_ONLY =
      PosixFilePermissions.fromString("rw-------");

  private PemFiles() {}

  static List<X509Certificate> readCertificates(Path file) throws TlsMaterialException {
    List<X509Certificate> chain = new ArrayList<>();
    JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
    try (Reader reader = Files.newBufferedReader(file, StandardCharsets.US_ASCII);
        PEMParser parser = new PEMParser(reader)) {
      for (Object block = parser.readObject(); block != null; block = parser.readObject()) {
        if (block instanceof X509CertificateHolder holder) {
          chain.add(converter.getCertificate(holder));
        }
      }
    } catch (NoSuchFileException e) {
      throw new TlsMaterialException("certificate file " + file + " does not exist", e);
    } catch (IOException | CertificateException | RuntimeException e) {
      throw new TlsMaterialException(
          "cannot read certificate file " + file + ": " + describe(e), e);
    }
    if (chain.isEmpty()) {
      throw new TlsMaterialException(
          "certificate file " + file + " holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
    }
    return List.copyOf(chain);
  }

  static PrivateKey readPrivateKey(Path file) throws TlsMaterialException {
    JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
    try (Reader reader = Files.newBufferedReader(file, StandardCharsets.US_ASCII);
        PEMParser parser = new PEMParser(reader)) {
      for (Object block = parser.readObject(); block != null; block = parser.readObject()) {
        if (block instanceof PrivateKeyInfo pkcs8) {
          return converter.getPrivateKey(pkcs8);
        } else if (block instanceof PEMKeyPair traditional) {
          // PKCS#1 (RSA) and SEC1 (EC) files; a SEC1 key may come without its public half.
          return converter.getPrivateKey(traditional.getPrivateKeyInfo());
        } else if (block instanceof PKCS8EncryptedPrivateKeyInfo
            || block instanceof PEMEncryptedKeyPair) {
          throw new TlsMaterialException(
              "private key file "
                  + file
                  + " is encrypted; give an unencrypted key (openssl pkey -in "
                  + file
                  + " -out key.pem), readable by the server's user only");
        }
        // Anything else (EC PARAMETERS, a certificate in the same file) is not the key.
      }
    } catch (NoSuchFileException e) {
      throw new TlsMaterialException("private key file " + file + " does not exist", e);
    } catch (IOException | RuntimeException e) {
      throw new TlsMaterialException(
          "cannot read private key file " + file + ": " + describe(e), e);
    }
    throw new TlsMaterialException(
        "private key file " + file + " holds no PEM private key (-----BEGIN ... PRIVATE KEY-----)");
  }

  /** Writes the chain as PEM, world-readable (a certificate is public). */
  static void writeCertificates(Path file, List<X509Certificate> chain)
      throws TlsMaterialException {
    StringWriter text = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
      for (X509Certificate certificate : chain) {
        writer.writeObject(certificate);
      }
    } catch (IOException e) {
      throw new TlsMaterialException("cannot encode certificate: " + e.getMessage(), e);
    }
    writeAtomically(file, text.toString(), null);
  }

  /** Writes the key as unencrypted PKCS#8 PEM, readable and writable by the owner only. */
  static void writePrivateKey(Path file, PrivateKey key) throws TlsMaterialException {
    StringWriter text = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
      writer.writeObject(new JcaPKCS8Generator(key, null));
    } catch (IOException e) {
      throw new TlsMaterialException("cannot encode private key: " + e.getMessage(), e);
    }
    writeAtomically(file, text.toString(), OWNER_ONLY);
  }

  /**
   * Writes {@code text} to a new file beside {@code file}, created with {@code permissions} (so a
   * key is never readable by others, not even for a moment), then moves it into place: a reader
   * sees the old file or the whole new one, never half of it.
   */
  private static void writeAtomically(Path file, String text, Set<PosixFilePermission> permissions)
      throws TlsMaterialException {
    Path target = file.toAbsolutePath();
    Path temporary = target.resolveSibling(target.getFileName() + ".tmp");
    try {
      Files.deleteIfExists(temporary);
      boolean posix =
          target.getParent().getFileSystem().supportedFileAttributeViews().contains("posix");
      if (permissions != null && posix) {
        FileAttribute<Set<PosixFilePermission>> mode =
            PosixFilePermissions.asFileAttribute(permissions);
        Files.createFile(temporary, mode);
      } else {
        Files.createFile(temporary);
      }
      try (Writer writer = Files.newBufferedWriter(temporary, StandardCharsets.US_ASCII)) {
        writer.write(text);
      }
      try {
        Files.move(
            temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      throw new TlsMaterialException("cannot write " + file + ": " + describe(e), e);
    }
  }

  private static String describe(Exception e) {
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }
}
