package dev.parley.server.broadcast;

import akka.actor.typed.ActorRef;
import dev.parley.protocol.ServerMessage;
import dev.parley.server.cluster.CborSerializable;
import java.util.Set;

/**
 * An online user as the replicated roster of a cluster knows them, written only by the node their
 * session lives on.
 *
 * @param outbox the outbound queue of their connection, an actor of the node that wrote the entry
 * @param blocked the users they block
 * @param loginStamp when they logged in, in microseconds since the epoch by their node's clock,
 *     made unique and increasing on that node; orders whoelse across the cluster
 */
public record RosterEntry(ActorRef<ServerMessage> outbox, Set<String> blocked, long loginStamp)
    implements CborSerializable {

  public RosterEntry {
    blocked = Set.copyOf(blocked);
  }

  RosterEntry withOutbox(ActorRef<ServerMessage> newOutbox) {
    return new RosterEntry(newOutbox, blocked, loginStamp);
  }

  RosterEntry withBlocked(Set<String> newBlocked) {
    return new RosterEntry(outbox, newBlocked, loginStamp);
  }
}
