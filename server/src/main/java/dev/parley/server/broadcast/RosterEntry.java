package dev.parley.server.broadcast;

import akka.actor.typed.ActorRef;
import dev.parley.protocol.ServerMessage;
import dev.parley.server.cluster.CborSerializable;
import java.util.Set;

/**
 * A user as the replicated roster of a cluster knows them, written only by the node their session
 * lives on: online, or departed (the tombstone of their logout, kept a while so that every node
 * sees the logout as a change of the entry, with the blocks it was made with, rather than as a
 * missing key).
 *
 * @param outbox the outbound queue of their connection, an actor of the node that wrote the entry
 * @param blocked the users they block (for a tombstone, those they blocked when they left)
 * @param loginStamp when they logged in, in microseconds since the epoch by their node's clock,
 *     made unique and increasing on that node; orders whoelse across the cluster
 * @param departedAt when they left, in milliseconds since the epoch by the clock of the node that
 *     wrote the tombstone; {@link #ONLINE} while they are online
 */
public record RosterEntry(
    ActorRef<ServerMessage> outbox, Set<String> blocked, long loginStamp, long departedAt)
    implements CborSerializable {

  /** The {@code departedAt} of an entry whose user is online. */
  public static final long ONLINE = 0;

  public RosterEntry {
    blocked = Set.copyOf(blocked);
    if (departedAt < 0) {
      throw new IllegalArgumentException("departedAt must not be negative: " + departedAt);
    }
  }

  /** The entry of a user who is online. */
  static RosterEntry online(ActorRef<ServerMessage> outbox, Set<String> blocked, long loginStamp) {
    return new RosterEntry(outbox, blocked, loginStamp, ONLINE);
  }

  /** Whether the user is online, rather than the entry a tombstone. */
  boolean isOnline() {
    return departedAt == ONLINE;
  }

  RosterEntry withOutbox(ActorRef<ServerMessage> newOutbox) {
    return new RosterEntry(newOutbox, blocked, loginStamp, departedAt);
  }

  RosterEntry withBlocked(Set<String> newBlocked) {
    return new RosterEntry(outbox, newBlocked, loginStamp, departedAt);
  }

  /** The tombstone of this entry, its user having left at {@code at} (epoch milliseconds). */
  RosterEntry departed(long at) {
    return new RosterEntry(outbox, blocked, loginStamp, Math.max(at, 1));
  }
}
