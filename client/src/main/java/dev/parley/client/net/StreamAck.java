package dev.parley.client.net;

/**
 * What a connection actor sends back to its inbound {@code ActorSink} for each element (and for the
 * initial message) to ask for the next one: the actor paces the connection, nothing piles up in its
 * mailbox.
 */
public enum StreamAck {
  INSTANCE
}
