package dev.parley.transport;

import java.security.cert.CertificateException;
import java.util.Optional;

/**
 * A {@link ServerVerifier} decided that the server is not who it should be (a pinned fingerprint
 * that does not match, a known server whose certificate has changed), as opposed to a certificate
 * it merely could not vouch for. Thrown from inside the TLS handshake, it ends it before any
 * application data is sent; the JDK reports it as the cause of the handshake's failure, where the
 * caller can find it (see {@link #find(Throwable)}) and show its message, which is written for the
 * user.
 */
public final class UntrustedServerException extends CertificateException {

  public UntrustedServerException(String message) {
    super(message);
  }

  /** The refusal among the causes of {@code failure}, if the failure was one. */
  public static Optional<UntrustedServerException> find(Throwable failure) {
    for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
      if (cause instanceof UntrustedServerException refusal) {
        return Optional.of(refusal);
      }
      if (cause.getCause() == cause) {
        break;
      }
    }
    return Optional.empty();
  }
}
