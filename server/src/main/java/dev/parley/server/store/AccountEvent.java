package dev.parley.server.store;

/**
 * A change to an account made outside the server (the admin command line is another process on the
 * same database), recorded so that a running server can poll for it and act at once: log out a
 * removed user, end the sessions of one whose password changed.
 *
 * @param id increasing: a poller asks for the events after the last id it has seen
 */
public record AccountEvent(long id, String username, Kind kind) {

  /** What happened to the account; stored in lower case in {@code account_events.kind}. */
  public enum Kind {
    ADDED,
    PASSWORD,
    REMOVED
  }
}
