package dev.parley.server.store;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The durable state the server starts from, read once before its actors run.
 *
 * @param usernames every account
 * @param blocks blocker to the users they block
 * @param lastLogouts when each user who has ever been online last logged out (a user who was
 *     online when the server stopped counts as logged out when it started again)
 * @param lockouts usernames with failed logins or a block, and their state
 * @param lastSeqs the highest message sequence number used for each user
 * @param ackedSeqs the highest message sequence number each user acknowledged
 * @param unacknowledged each user's messages not acknowledged yet, oldest first
 */
public record StoreSnapshot(
    Set<String> usernames,
    Map<String, Set<String>> blocks,
    Map<String, Instant> lastLogouts,
    Map<String, Lockout> lockouts,
    Map<String, Long> lastSeqs,
    Map<String, Long> ackedSeqs,
    Map<String, List<StoredMessage>> unacknowledged) {

  /** A username's failed logins and, when it is blocked, until when (else null). */
  public record Lockout(int failures, Instant blockedUntil) {}

  /** An empty state: no accounts, nothing stored (for tests that start from scratch). */
  public static StoreSnapshot empty() {
    return new StoreSnapshot(Set.of(), Map.of(), Map.of(), Map.of(), Map.of(), Map.of(), Map.of());
  }

  /** This snapshot with these accounts, for tests. */
  public StoreSnapshot withUsernames(Set<String> names) {
    return new StoreSnapshot(
        Set.copyOf(names), blocks, lastLogouts, lockouts, lastSeqs, ackedSeqs, unacknowledged);
  }
}
