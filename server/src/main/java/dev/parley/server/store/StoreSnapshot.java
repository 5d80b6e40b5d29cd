package dev.parley.server.store;

import java.time.Instant;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;

/**
 * The durable state the server starts from, read once before its actors run. It holds no message
 * text: each user's waiting messages are given by an index ({@link PendingMessages}), and their
 * texts are read a page at a time with {@link Store#readMessages}, so that the memory a start takes
 * does not grow with what is waiting in the mailboxes.
 *
 * @param usernames every account
 * @param blocks blocker to the users they block
 * @param lastLogouts when each user who has ever been online last logged out (a user who was online
 *     when the server stopped counts as logged out when it started again)
 * @param lockouts usernames with failed logins or a block, and their state
 * @param lastSeqs the highest message sequence number used for each user
 * @param ackedSeqs the highest message sequence number each user acknowledged
 * @param pending each user's stored messages not acknowledged yet, in seq order, without their
 *     texts; users with none are absent
 * @param resumptions the grants with which users' clients may resume their sessions
 */
public record StoreSnapshot(
    Set<String> usernames,
    Map<String, Set<String>> blocks,
    Map<String, Instant> lastLogouts,
    Map<String, Lockout> lockouts,
    Map<String, Long> lastSeqs,
    Map<String, Long> ackedSeqs,
    Map<String, PendingMessages> pending,
    Map<String, ResumeGrant> resumptions) {

  /** A username's failed logins and, when it is blocked, until when (else null). */
  public record Lockout(int failures, Instant blockedUntil) {}

  /**
   * One user's waiting messages, oldest first, as three parallel arrays: 20 bytes a message, where
   * the messages themselves would take their texts. Equal by content. The accessors return copies;
   * {@link #count()}, {@link #seq(int)}, {@link #id(int)} and {@link #size(int)} read in place.
   *
   * @param seqs the messages' sequence numbers, increasing
   * @param ids their row ids, for {@link Store#readMessages}
   * @param sizes the bytes of their texts' JSON encoding (as {@code WireText.encodedLength})
   */
  public record PendingMessages(long[] seqs, long[] ids, int[] sizes) {

    public PendingMessages {
      if (seqs.length != ids.length || seqs.length != sizes.length) {
        throw new IllegalArgumentException("seqs, ids and sizes differ in length");
      }
      seqs = seqs.clone();
      ids = ids.clone();
      sizes = sizes.clone();
    }

    @Override
    public long[] seqs() {
      return seqs.clone();
    }

    @Override
    public long[] ids() {
      return ids.clone();
    }

    @Override
    public int[] sizes() {
      return sizes.clone();
    }

    /** How many messages wait. */
    public int count() {
      return seqs.length;
    }

    public long seq(int index) {
      return seqs[index];
    }

    public long id(int index) {
      return ids[index];
    }

    public int size(int index) {
      return sizes[index];
    }

    /** The bytes of every waiting text together. */
    public long totalBytes() {
      long total = 0;
      for (int size : sizes) {
        total += size;
      }
      return total;
    }

    @Override
    public boolean equals(Object other) {
      return other instanceof PendingMessages that
          && Arrays.equals(seqs, that.seqs)
          && Arrays.equals(ids, that.ids)
          && Arrays.equals(sizes, that.sizes);
    }

    @Override
    public int hashCode() {
      return 31 * (31 * Arrays.hashCode(seqs) + Arrays.hashCode(ids)) + Arrays.hashCode(sizes);
    }

    @Override
    public String toString() {
      return "PendingMessages[seqs="
          + Arrays.toString(seqs)
          + ", ids="
          + Arrays.toString(ids)
          + ", sizes="
          + Arrays.toString(sizes)
          + "]";
    }
  }

  /** An empty state: no accounts, nothing stored (for tests that start from scratch). */
  public static StoreSnapshot empty() {
    return new StoreSnapshot(
        Set.of(), Map.of(), Map.of(), Map.of(), Map.of(), Map.of(), Map.of(), Map.of());
  }

  /** This snapshot with these accounts, for tests. */
  public StoreSnapshot withUsernames(Set<String> names) {
    return new StoreSnapshot(
        Set.copyOf(names),
        blocks,
        lastLogouts,
        lockouts,
        lastSeqs,
        ackedSeqs,
        pending,
        resumptions);
  }
}
