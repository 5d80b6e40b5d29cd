package dev.parley.client.tls;

import com.typesafe.config.Config;
import dev.parley.transport.Fingerprint;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * How the client secures its connection to the server (the {@code parley.client.tls} section and
 * {@code parley.client.home}; {@code reference.conf} documents each key).
 *
 * @param enabled TLS to the server; off only on request ({@code --plaintext})
 * @param trustFingerprint the only server certificate to accept ({@code --trust-fingerprint})
 * @param home the client's own directory, which holds {@code known_servers}
 * @param identityValidity how long the certificate the client makes for itself (once per run) is
 *     valid
 */
public record TlsSettings(
    boolean enabled, Optional<Fingerprint> trustFingerprint, Path home, Duration identityValidity) {

  /** The configuration path of the TLS settings. */
  public static final String PATH = "parley.client.tls";

  /** The configuration path of the client's directory. */
  public static final String HOME_PATH = "parley.client.home";

  /** The client's directory when none is configured, under the user's home directory. */
  public static final String DEFAULT_HOME = ".parley";

  public TlsSettings {
    if (identityValidity.isNegative() || identityValidity.isZero()) {
      throw new IllegalArgumentException("tls.identity-validity must be a positive duration");
    }
  }

  /**
   * @throws IllegalArgumentException if {@code trust-fingerprint} is not a fingerprint
   */
  public static TlsSettings fromConfig(Config root) {
    Config tls = root.getConfig(PATH);
    String pinned = tls.getString("trust-fingerprint");
    String home = root.getString(HOME_PATH);
    return new TlsSettings(
        tls.getBoolean("enabled"),
        pinned.isBlank() ? Optional.empty() : Optional.of(Fingerprint.parse(pinned)),
        home.isBlank() ? Path.of(System.getProperty("user.home"), DEFAULT_HOME) : Path.of(home),
        tls.getDuration("identity-validity"));
  }
}
