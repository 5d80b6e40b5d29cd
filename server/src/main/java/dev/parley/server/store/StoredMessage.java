package dev.parley.server.store;

import java.time.Instant;

/**
 * A direct message as the store keeps it: the {@code seq}-th message to {@code recipient}.
 *
 * @param clientId the sender's id for the message (null if it gave none); a second message with the
 *     same sender and id is the same message sent again
 */
public record StoredMessage(
    String recipient, long seq, String sender, String clientId, String text, Instant sentAt) {}
