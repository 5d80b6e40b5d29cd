package dev.parley.client.server;

import java.util.OptionalLong;

/**
 * What the user has seen of the direct messages the server delivers, by their {@code seq} (which
 * increases, and stays the same when the server sends a message again after a reconnect).
 *
 * <p>A message is shown only if its seq is above every seq already shown or being shown, so a
 * message sent again is shown once. An acknowledgement covers every seq up to the highest shown;
 * one is due once the console has printed everything handed to it (so messages printed together,
 * such as the backlog after a login, cost one ack) and not before the message is on the terminal
 * (an ack promises the user has seen it). No timer is involved: an ack never waits longer than the
 * printing it covers. Acknowledgements are counted per connection, since one sent just before a
 * connection was lost may never have arrived.
 *
 * <p>Not an actor and not thread-safe: the {@link ServerConnection} owns it.
 */
final class Inbox {

  /** Highest seq handed to the console to show. */
  private long highestAdmitted;

  /** Highest seq the console has printed. */
  private long highestShown;

  /** Highest seq acknowledged on the current connection. */
  private long highestAcknowledged;

  /** Whether the message with this seq is new; if so, it now counts as being shown. */
  boolean admit(long seq) {
    if (seq <= highestAdmitted) {
      return false;
    }
    highestAdmitted = seq;
    return true;
  }

  /** The console has printed the message with this seq. */
  void shown(long seq) {
    highestShown = Math.max(highestShown, seq);
  }

  /** A new connection to the server: nothing is acknowledged on it yet. */
  void connectionChanged() {
    highestAcknowledged = 0;
  }

  /**
   * The seq to acknowledge now, if any, which from here on counts as acknowledged: the highest
   * shown, once nothing admitted is still waiting to be printed and unless it is acknowledged
   * already.
   */
  OptionalLong acknowledgement() {
    return highestShown == highestAdmitted ? finalAcknowledgement() : OptionalLong.empty();
  }

  /**
   * Like {@link #acknowledgement()}, without waiting for messages still being printed: for the last
   * frames of a session, after which no ack can be sent.
   */
  OptionalLong finalAcknowledgement() {
    if (highestShown <= highestAcknowledged) {
      return OptionalLong.empty();
    }
    highestAcknowledged = highestShown;
    return OptionalLong.of(highestShown);
  }
}
