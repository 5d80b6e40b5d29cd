package dev.parley.server.tls;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * How the server secures its client connections (the {@code parley.server.tls} section of the
 * configuration; {@code reference.conf} documents each key).
 *
 * @param enabled TLS on every client connection; off only on request ({@code --plaintext})
 * @param certificate PEM certificate chain, with {@code privateKey}
 * @param privateKey PEM private key of {@code certificate}
 * @param keystore PKCS#12 keystore, instead of the two PEM files
 * @param keystorePassword the keystore's password
 * @param selfSignedValidity how long a generated self-signed certificate is valid
 */
public record TlsSettings(
    boolean enabled,
    Optional<Path> certificate,
    Optional<Path> privateKey,
    Optional<Path> keystore,
    String keystorePassword,
    Duration selfSignedValidity) {

  /** The configuration path of the TLS settings. */
  public static final String PATH = "parley.server.tls";

  public TlsSettings {
    if (certificate.isPresent() != privateKey.isPresent()) {
      throw new IllegalArgumentException(
          "tls.certificate and tls.private-key go together (--tls-cert and --tls-key): give both"
              + " or neither");
    }
    if (keystore.isPresent() && certificate.isPresent()) {
      throw new IllegalArgumentException(
          "give either tls.keystore or tls.certificate with tls.private-key, not both");
    }
    if (selfSignedValidity.isNegative() || selfSignedValidity.isZero()) {
      throw new IllegalArgumentException("tls.self-signed-validity must be a positive duration");
    }
  }

  public static TlsSettings fromConfig(Config root) {
    Config c = root.getConfig(PATH);
    return new TlsSettings(
        c.getBoolean("enabled"),
        path(c.getString("certificate")),
        path(c.getString("private-key")),
        path(c.getString("keystore")),
        c.getString("keystore-password"),
        c.getDuration("self-signed-validity"));
  }

  /** Whether the server makes its own certificate rather than using a configured one. */
  public boolean selfSigned() {
    return certificate.isEmpty() && keystore.isEmpty();
  }

  private static Optional<Path> path(String value) {
    return value.isBlank() ? Optional.empty() : Optional.of(Path.of(value));
  }
}
