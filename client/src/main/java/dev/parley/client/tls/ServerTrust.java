package dev.parley.client.tls;

import dev.parley.transport.Fingerprint;
import dev.parley.transport.ServerVerifier;
import dev.parley.transport.UntrustedServerException;
import java.io.IOException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SSLEngine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides, during the TLS handshake, whether the server reached is the one the user meant, in this
 * order:
 *
 * <ol>
 *   <li>With a pinned fingerprint ({@code --trust-fingerprint}), that certificate and no other.
 *   <li>A certificate that the system's trust store vouches for, issued for the host name the user
 *       typed (a CA-issued certificate, as a browser checks it).
 *   <li>Otherwise the user's {@link KnownServers}: a server recorded with this certificate is
 *       trusted; one recorded with another certificate is refused ({@link
 *       UntrustedServerException}, naming both fingerprints and the line to remove if the change is
 *       expected); a server not seen before is recorded and trusted (trust on first use, as SSH's
 *       {@code accept-new}).
 * </ol>
 *
 * <p>A refusal ends the handshake, so nothing is ever sent to a server that was refused.
 */
public final class ServerTrust {

  private static final Logger LOG = LoggerFactory.getLogger(ServerTrust.class);

  /** How a server came to be trusted; a first use carries the line that tells the user. */
  public sealed interface Verdict {
    /** A line to show the user about it, if any. */
    default Optional<String> notice() {
      return Optional.empty();
    }
  }

  /** The certificate is the pinned one. */
  public enum Pinned implements Verdict {
    INSTANCE
  }

  /** A CA the system trusts issued the certificate, for this host name. */
  public enum SystemTrusted implements Verdict {
    INSTANCE
  }

  /** {@code known_servers} records this certificate for this server, at {@code line}. */
  public record Known(int line) implements Verdict {}

  /** Never seen before: trusted now, and recorded (unless that failed; the notice says). */
  public record FirstUse(String line) implements Verdict {
    @Override
    public Optional<String> notice() {
      return Optional.of(line);
    }
  }

  private final Optional<Fingerprint> pinned;
  private final ServerVerifier system;
  private final KnownServers known;

  /**
   * @param pinned the only certificate to accept, if the user gave one
   * @param system the check against the system's CAs ({@link ServerVerifier#systemTrust()})
   * @param known the user's known servers
   */
  public ServerTrust(Optional<Fingerprint> pinned, ServerVerifier system, KnownServers known) {
    this.pinned = pinned;
    this.system = system;
    this.known = known;
  }

  /** The trust of a user's client: the system's CAs, then {@code known_servers} in its home. */
  public static ServerTrust of(TlsSettings settings) {
    return new ServerTrust(
        settings.trustFingerprint(),
        ServerVerifier.systemTrust(),
        new KnownServers(settings.home()));
  }

  /**
   * Decides about the server at host:port, which presented {@code chain}.
   *
   * @throws UntrustedServerException if the server is refused; its message is for the user
   */
  public Verdict decide(
      String host, int port, List<X509Certificate> chain, String authType, SSLEngine engine)
      throws UntrustedServerException {
    String server = KnownServers.key(host, port);
    Fingerprint presented = Fingerprint.of(chain.get(0));
    if (pinned.isPresent()) {
      if (!pinned.get().equals(presented)) {
        throw new UntrustedServerException(
            "The server at "
                + server
                + " presented certificate "
                + presented
                + ", not "
                + pinned.get()
                + " given with --trust-fingerprint; nothing was sent to it");
      }
      return Pinned.INSTANCE;
    }
    try {
      system.verify(chain, authType, engine);
      return SystemTrusted.INSTANCE;
    } catch (CertificateException notFromATrustedCa) {
      LOG.debug("{} is not vouched for by a CA: {}", server, notFromATrustedCa.getMessage());
    }
    return fromKnownServers(server, presented);
  }

  private Verdict fromKnownServers(String server, Fingerprint presented)
      throws UntrustedServerException {
    KnownServers.Lookup lookup;
    try {
      lookup = known.find(server);
    } catch (IOException e) {
      // Without the list, a changed certificate could not be told from a new server: refuse.
      throw new UntrustedServerException(
          "Cannot read "
              + known.file()
              + " to check the server at "
              + server
              + ": "
              + e.getMessage()
              + "; nothing was sent to it");
    }
    lookup
        .problems()
        .forEach(
            problem ->
                LOG.warn(
                    "Skipped line {} of {}: {}", problem.line(), known.file(), problem.reason()));
    if (lookup.entry().isPresent()) {
      KnownServers.Entry entry = lookup.entry().get();
      if (entry.fingerprint().equals(presented)) {
        return new Known(entry.line());
      }
      throw new UntrustedServerException(
          "The certificate of the server at "
              + server
              + " has changed: it was "
              + entry.fingerprint()
              + ", it is now "
              + presented
              + ". Someone may be intercepting the connection, so nothing was sent to it. If the"
              + " server's certificate was changed on purpose, remove line "
              + entry.line()
              + " of "
              + known.file()
              + " and connect again");
    }
    try {
      known.add(server, presented);
      return new FirstUse(
          "Trusting "
              + server
              + " for the first time: certificate "
              + presented
              + " (recorded in "
              + known.file()
              + ")");
    } catch (IOException e) {
      LOG.warn("Cannot record {} in {}: {}", server, known.file(), e.toString());
      return new FirstUse(
          "Trusting "
              + server
              + " for this session only: certificate "
              + presented
              + " (could not record it in "
              + known.file()
              + ": "
              + e.getMessage()
              + ")");
    }
  }
}
