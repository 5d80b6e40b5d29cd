package dev.parley.server.store;

import java.time.Instant;
import java.util.Set;

/**
 * One user's durable state, as {@link Store#loadUser} reads it for the one owner of that user (a
 * sharded entity that may start on any node). Each field is what {@link Store#load} gives for this
 * user in the {@link StoreSnapshot} of everyone, read with the same SQL, so that the two cannot
 * disagree.
 *
 * <p>Only the blocks this user makes are here, not those made against them: a user's own blocks are
 * all that its owner consults (whether to deliver to it, what its presence hides), as {@code
 * StoreSnapshot.blocks()} is consulted by blocker today.
 *
 * @param username the user
 * @param exists whether the account exists; when not, every other field is empty
 * @param blocks the users this user blocks
 * @param lastLogout when the user last logged out, null if never; a login still open in the
 *     database counts as a logout at the load's time (see {@code sessionOpen})
 * @param sessionOpen whether the database records a login after the last logout: the user was
 *     online under a previous owner, which crashed or (during a handoff) may still hold the
 *     session. Unlike {@link Store#load}, {@link Store#loadUser} writes nothing: recording that
 *     logout is the owner's decision, through the journal.
 * @param lockout the failed logins and block, null when there are neither
 * @param lastSeq the highest message sequence number used for the user (0 if none)
 * @param ackedSeq the highest sequence number the user acknowledged
 * @param pending the stored messages not acknowledged yet, in seq order, without their texts
 * @param resumption the grant with which the user's client may resume its session, null if none
 */
public record UserSnapshot(
    String username,
    boolean exists,
    Set<String> blocks,
    Instant lastLogout,
    boolean sessionOpen,
    StoreSnapshot.Lockout lockout,
    long lastSeq,
    long ackedSeq,
    StoreSnapshot.PendingMessages pending,
    ResumeGrant resumption) {

  private static final StoreSnapshot.PendingMessages NONE_PENDING =
      new StoreSnapshot.PendingMessages(new long[0], new long[0], new int[0]);

  public UserSnapshot {
    blocks = Set.copyOf(blocks);
  }

  /** The state of a name that has no account. */
  public static UserSnapshot absent(String username) {
    return new UserSnapshot(username, false, Set.of(), null, false, null, 0, 0, NONE_PENDING, null);
  }

  /** No waiting messages (the snapshot of everyone leaves such users out of its map). */
  public static StoreSnapshot.PendingMessages nonePending() {
    return NONE_PENDING;
  }

  /**
   * {@code username}'s part of {@code snapshot}, as {@link Store#loadUser} would read it: what
   * {@link Store#load} and {@link Store#loadUser} must agree on. After {@link Store#load} no login
   * is open in the database, hence {@code sessionOpen} false.
   */
  public static UserSnapshot of(StoreSnapshot snapshot, String username) {
    if (!snapshot.usernames().contains(username)) {
      return absent(username);
    }
    return new UserSnapshot(
        username,
        true,
        snapshot.blocks().getOrDefault(username, Set.of()),
        snapshot.lastLogouts().get(username),
        false,
        snapshot.lockouts().get(username),
        snapshot.lastSeqs().getOrDefault(username, 0L),
        snapshot.ackedSeqs().getOrDefault(username, 0L),
        snapshot.pending().getOrDefault(username, NONE_PENDING),
        snapshot.resumptions().get(username));
  }
}
