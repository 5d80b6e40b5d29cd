package dev.parley.server.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Hands out the row ids of new messages. The writer picks them itself, so that a batch of messages
 * goes to the database as one JDBC batch with its ids known; to keep the nodes of a cluster that
 * write to one database from picking the same ones, it reserves them a block at a time in the
 * database ({@code message_id_blocks}), in a transaction of its own. Ids are unique and increase on
 * each server, with gaps (a block's rest is dropped at a restart, and by a rolled-back batch).
 *
 * <p>Thread-safe: the journal may write batches on several threads.
 */
final class MessageIds {

  /**
   * Ids reserved at once: one short transaction per this many messages, and at most this many ids
   * left unused when a server stops.
   */
  static final int BLOCK = 1000;

  /** Where a connection of its own comes from (the write pool, failures classified as there). */
  @FunctionalInterface
  interface Connections {
    Connection get() throws SQLException;
  }

  private final Connections connections;

  /** The next free id of the reserved block, and the end of that block (exclusive). */
  private long next;

  private long end;

  MessageIds(Connections connections) {
    this.connections = connections;
  }

  /**
   * Reserves {@code count} consecutive ids and returns the first; 0 when {@code count} is 0. Call
   * it before taking the connection of the batch that uses them: reserving takes a connection of
   * its own.
   */
  synchronized long allot(int count) throws SQLException {
    if (count == 0) {
      return 0;
    }
    if (end - next < count) {
      reserve(Math.max(BLOCK, count));
    }
    long first = next;
    next += count;
    return first;
  }

  private void reserve(int size) throws SQLException {
    try (Connection c = connections.get()) {
      c.setAutoCommit(false);
      long after;
      try {
        // The update locks the row: another server reserving meanwhile waits, then gets the next.
        try (PreparedStatement update =
            c.prepareStatement("UPDATE message_id_blocks SET next_id = next_id + ?")) {
          update.setLong(1, size);
          update.executeUpdate();
        }
        try (Statement s = c.createStatement();
            ResultSet rows = s.executeQuery("SELECT next_id FROM message_id_blocks")) {
          rows.next();
          after = rows.getLong(1);
        }
        c.commit();
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
      next = after - size;
      end = after;
    }
  }
}
