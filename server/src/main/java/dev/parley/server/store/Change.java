package dev.parley.server.store;

import java.time.Instant;

/**
 * One change to the server's durable state, as the {@link Journal} records it. Changes are applied
 * in the order they were recorded.
 */
public sealed interface Change {

  /** A direct message to store; the only change whose outcome its sender waits for. */
  record MessageAppended(StoredMessage message) implements Change {}

  /** {@code user} has been shown every message up to {@code seq}. */
  record Acknowledged(String user, long seq) implements Change {}

  /** {@code user} logged in at {@code at}. */
  record LoggedIn(String user, Instant at) implements Change {}

  /** {@code user} logged out (or was logged out) at {@code at}. */
  record LoggedOut(String user, Instant at) implements Change {}

  /** {@code blocker} now blocks {@code blocked}. */
  record BlockAdded(String blocker, String blocked) implements Change {}

  /** {@code blocker} no longer blocks {@code blocked}. */
  record BlockRemoved(String blocker, String blocked) implements Change {}

  /**
   * The lockout state of {@code user}: consecutive failed logins, and until when the username is
   * blocked (null when it is not).
   */
  record LockoutChanged(String user, int failures, Instant blockedUntil) implements Change {}

  /**
   * The password hash of {@code user} was recomputed with stronger parameters; it replaces {@code
   * previousHash} only if that is still the stored one (the password was not changed meanwhile).
   */
  record PasswordRehashed(String user, String previousHash, String passwordHash) implements Change {
    @Override
    public String toString() {
      return "PasswordRehashed[user=" + user + "]";
    }
  }
}
