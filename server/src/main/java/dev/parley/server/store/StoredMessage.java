package dev.parley.server.store;

import dev.parley.protocol.WireText;
import java.time.Instant;

/**
 * A direct message as the store keeps it: the {@code seq}-th message to {@code recipient}.
 *
 * @param clientId the sender's id for the message (null if it gave none); a second message with the
 *     same sender and id is the same message sent again
 */
public record StoredMessage(
    String recipient, long seq, String sender, String clientId, String text, Instant sentAt) {

  /**
   * Without the text: a message reaches logs with the change that carries it (a dropped change, a
   * refused one), and its text is its sender's and recipient's business only.
   */
  @Override
  public String toString() {
    return "StoredMessage[recipient="
        + recipient
        + ", seq="
        + seq
        + ", sender="
        + sender
        + ", clientId="
        + clientId
        + ", textBytes="
        + (text == null ? 0 : WireText.encodedLength(text))
        + ", sentAt="
        + sentAt
        + "]";
  }
}
