package dev.parley.server.store;

import java.time.Instant;

/**
 * What lets a user's client take its session over after a dropped connection: the hash of the one
 * resumption token it holds, the TLS client certificate the token is bound to, and how long it may
 * still be used.
 *
 * @param tokenHash the SHA-256 of the token, hex-encoded: the token itself is never kept
 * @param fingerprint the fingerprint of the client certificate that must present the token; null
 *     when the session was not over TLS (the token alone is enough)
 * @param until when the grant lapses; null while the session is open, or was open when the server
 *     stopped (the window then runs from the next start)
 */
public record ResumeGrant(String tokenHash, String fingerprint, Instant until) {

  /** The same grant, open until {@code until}. */
  public ResumeGrant lapsingAt(Instant until) {
    return new ResumeGrant(tokenHash, fingerprint, until);
  }

  @Override
  public String toString() {
    return "ResumeGrant[tokenHash=<hidden>, fingerprint=" + fingerprint + ", until=" + until + "]";
  }
}
