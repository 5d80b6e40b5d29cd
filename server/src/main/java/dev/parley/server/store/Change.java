package dev.parley.server.store;

import java.time.Instant;

/**
 * One change to the server's durable state, as the {@link Journal} records it. Changes are applied
 * in the order they were recorded.
 */
public sealed interface Change {

  /**
   * How a change is named in a log line: its kind and the user it is about, never its content
   * (message texts, password hashes).
   */
  static String summary(Change change) {
    String user;
    if (change instanceof MessageAppended appended) {
      user = appended.message().sender();
    } else if (change instanceof Acknowledged ack) {
      user = ack.user();
    } else if (change instanceof LoggedIn in) {
      user = in.user();
    } else if (change instanceof LoggedOut out) {
      user = out.user();
    } else if (change instanceof SessionInterrupted interrupted) {
      user = interrupted.user();
    } else if (change instanceof BlockAdded block) {
      user = block.blocker();
    } else if (change instanceof BlockRemoved unblock) {
      user = unblock.blocker();
    } else if (change instanceof LockoutChanged lockout) {
      user = lockout.user();
    } else if (change instanceof PasswordRehashed rehashed) {
      user = rehashed.user();
    } else if (change instanceof ResumptionRevoked revoked) {
      user = revoked.user();
    } else {
      user = "?";
    }
    return "kind=" + change.getClass().getSimpleName() + " user=" + user;
  }

  /**
   * A direct message to store; its recorder waits for the outcome (and, once stored, its row id).
   */
  record MessageAppended(StoredMessage message) implements Change {
    /** Without the text, which must never reach a log. */
    @Override
    public String toString() {
      return "MessageAppended[" + message + "]";
    }
  }

  /**
   * {@code user} has been shown every message up to {@code seq}. The seq is never beyond the newest
   * message stored for {@code user}: the purge relies on it to keep that message, whose seq is
   * where their numbering goes on.
   */
  record Acknowledged(String user, long seq) implements Change {}

  /**
   * {@code user} logged in (or resumed their session) at {@code at}, and their client may resume it
   * with {@code resumption}, which replaces any grant before it (null: none).
   */
  record LoggedIn(String user, Instant at, ResumeGrant resumption) implements Change {

    /** A login that leaves no grant to resume it. */
    public LoggedIn(String user, Instant at) {
      this(user, at, null);
    }
  }

  /**
   * {@code user}'s session ended at {@code at}. Until {@code resumableUntil} their client may still
   * resume it with the grant of their login; null for a logout, which ends the grant too.
   */
  record LoggedOut(String user, Instant at, Instant resumableUntil) implements Change {

    /** A logout: nothing is left to resume. */
    public LoggedOut(String user, Instant at) {
      this(user, at, null);
    }
  }

  /**
   * {@code user}'s session was closed at {@code at} because the node stopped. It is not a logout:
   * the grant of their login stays, and its window runs from the node's next start, as for a
   * session a crash leaves open. Their client is on its way back, and the others, disconnected by
   * the same stop, were not told they left.
   */
  record SessionInterrupted(String user, Instant at) implements Change {}

  /**
   * No session of {@code user}'s may be resumed any more. Either their password was changed (the
   * store clears the grant when it stores the new password; this clears one that a login checked
   * against the old password wrote after that, before the server heard of the change), or the
   * session the last stop interrupted was not resumed within the window.
   */
  record ResumptionRevoked(String user) implements Change {}

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
