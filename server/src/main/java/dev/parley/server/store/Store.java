package dev.parley.server.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;

/**
 * The server's durable state in a relational database, over JDBC: the embedded H2 database by
 * default, PostgreSQL in production, with the same SQL for both. Every method blocks on the
 * database, so none may be called on an actor's thread: the actors reach it through the {@link
 * Journal} (writes) and futures on the store's dispatcher (reads); the admin command line and
 * start-up call it directly, before any actor runs.
 *
 * <p>Thread-safe: each call takes its own connection from a small pool.
 */
public final class Store implements AutoCloseable {

  /** What storing one message came to. */
  public enum Outcome {
    /** Stored, and to be delivered. */
    STORED,
    /** The sender sent this message (same id) before: nothing stored. */
    DUPLICATE,
    /** The recipient's account no longer exists: nothing stored. */
    NO_RECIPIENT,
    /** Not a message: applied. */
    APPLIED,
    /** Not written: the database could not be reached (the journal reports this, not the store). */
    FAILED
  }

  private final HikariDataSource dataSource;
  private final String description;

  /** The last row number given to a message; the journal is the only writer of messages. */
  private final AtomicLong lastMessageId;

  private Store(HikariDataSource dataSource, String description, long lastMessageId) {
    this.dataSource = dataSource;
    this.description = description;
    this.lastMessageId = new AtomicLong(lastMessageId);
  }

  /** Connects to the configured database, creating it (embedded) and migrating its schema. */
  public static Store open(StoreSettings settings) throws SQLException {
    if (settings.embedded()) {
      Path dir = settings.dataDir();
      try {
        Files.createDirectories(dir);
      } catch (java.io.IOException e) {
        throw new SQLException("cannot create the data directory " + dir.toAbsolutePath(), e);
      }
    }
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(settings.jdbcUrl());
    if (!settings.user().isBlank()) {
      config.setUsername(settings.user());
    }
    if (!settings.password().isBlank()) {
      config.setPassword(settings.password());
    }
    config.setMaximumPoolSize(settings.poolSize());
    // A database that is down should fail writes and logins in seconds, not hold them for long.
    config.setConnectionTimeout(settings.connectTimeout().toMillis());
    config.setPoolName("parley-store");
    if (settings.jdbcUrl().startsWith("jdbc:postgresql:")) {
      // One multi-row INSERT per batch instead of one statement per row.
      config.addDataSourceProperty("reWriteBatchedInserts", "true");
    }
    // Fail at start-up, with the database's own message, rather than at the first login.
    config.setInitializationFailTimeout(1);
    HikariDataSource dataSource;
    try {
      dataSource = new HikariDataSource(config);
    } catch (RuntimeException e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      throw new SQLException(
          "cannot open the database (" + settings.describe() + "): " + cause.getMessage(), e);
    }
    long lastMessageId;
    try {
      Migrations.migrate(dataSource);
      lastMessageId = lastMessageId(dataSource);
    } catch (SQLException | RuntimeException e) {
      dataSource.close();
      throw e;
    }
    return new Store(dataSource, settings.describe(), lastMessageId);
  }

  private static long lastMessageId(DataSource dataSource) throws SQLException {
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement();
        ResultSet rows = s.executeQuery("SELECT COALESCE(MAX(id), 0) FROM messages")) {
      rows.next();
      return rows.getLong(1);
    }
  }

  /** Where the data lives, for logs (no credentials). */
  public String description() {
    return description;
  }

  /** The pool, for tests that look at the tables directly. */
  public DataSource dataSource() {
    return dataSource;
  }

  @Override
  public void close() {
    dataSource.close();
  }

  // ---- accounts ----

  /** The stored password hash of {@code username}, if the account exists. */
  public Optional<String> passwordHash(String username) throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement s =
            c.prepareStatement("SELECT password_hash FROM accounts WHERE username = ?")) {
      s.setString(1, username);
      try (ResultSet rows = s.executeQuery()) {
        return rows.next() ? Optional.of(rows.getString(1)) : Optional.empty();
      }
    }
  }

  /** Every username, sorted. */
  public List<String> usernames() throws SQLException {
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement();
        ResultSet rows = s.executeQuery("SELECT username FROM accounts ORDER BY username")) {
      List<String> names = new ArrayList<>();
      while (rows.next()) {
        names.add(rows.getString(1));
      }
      return names;
    }
  }

  /** Creates an account; false if the username is taken. */
  public boolean addAccount(String username, String passwordHash, Instant now) throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try (PreparedStatement account =
              c.prepareStatement(
                  "INSERT INTO accounts (username, password_hash, created_at) SELECT ?, ?, ?"
                      + " WHERE NOT EXISTS (SELECT 1 FROM accounts WHERE username = ?)");
          PreparedStatement delivery =
              c.prepareStatement("INSERT INTO delivery (username) VALUES (?)")) {
        account.setString(1, username);
        account.setString(2, passwordHash);
        account.setObject(3, utc(now));
        account.setString(4, username);
        boolean added = account.executeUpdate() == 1;
        if (added) {
          delivery.setString(1, username);
          delivery.executeUpdate();
        }
        c.commit();
        return added;
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    }
  }

  /** Deletes an account with its blocks and messages; false if there was none. */
  public boolean removeAccount(String username) throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try (PreparedStatement messages =
              c.prepareStatement("DELETE FROM messages WHERE recipient = ?");
          PreparedStatement account =
              c.prepareStatement("DELETE FROM accounts WHERE username = ?")) {
        messages.setString(1, username);
        messages.executeUpdate();
        account.setString(1, username);
        boolean removed = account.executeUpdate() == 1;
        c.commit();
        return removed;
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    }
  }

  /** Replaces a password hash and lifts any lockout; false if there is no such account. */
  public boolean setPasswordHash(String username, String passwordHash) throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement s =
            c.prepareStatement(
                "UPDATE accounts SET password_hash = ?, failed_logins = 0, blocked_until = NULL"
                    + " WHERE username = ?")) {
      s.setString(1, passwordHash);
      s.setString(2, username);
      return s.executeUpdate() == 1;
    }
  }

  // ---- start-up ----

  /**
   * Reads everything the server starts from. Users who were online when the server stopped (a login
   * after their last logout) are recorded as logged out at {@code now}.
   */
  public StoreSnapshot load(Instant now) throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      try (PreparedStatement s =
          c.prepareStatement(
              "UPDATE accounts SET last_logout = ? WHERE last_login IS NOT NULL"
                  + " AND (last_logout IS NULL OR last_logout < last_login)")) {
        s.setObject(1, utc(now));
        s.executeUpdate();
      }
      Set<String> usernames = new TreeSet<>();
      Map<String, Instant> lastLogouts = new HashMap<>();
      Map<String, StoreSnapshot.Lockout> lockouts = new HashMap<>();
      Map<String, Long> lastSeqs = new HashMap<>();
      Map<String, Long> ackedSeqs = new HashMap<>();
      try (Statement s = c.createStatement();
          ResultSet rows =
              s.executeQuery(
                  "SELECT a.username, a.last_logout, a.failed_logins, a.blocked_until, d.acked_seq"
                      + " FROM accounts a LEFT JOIN delivery d ON d.username = a.username")) {
        while (rows.next()) {
          String user = rows.getString(1);
          usernames.add(user);
          Instant logout = instant(rows, 2);
          if (logout != null) {
            lastLogouts.put(user, logout);
          }
          int failures = rows.getInt(3);
          Instant blockedUntil = instant(rows, 4);
          if (failures > 0 || blockedUntil != null) {
            lockouts.put(user, new StoreSnapshot.Lockout(failures, blockedUntil));
          }
          ackedSeqs.put(user, rows.getLong(5));
          lastSeqs.put(user, 0L);
        }
      }
      try (Statement s = c.createStatement();
          ResultSet rows =
              s.executeQuery("SELECT recipient, MAX(seq) FROM messages GROUP BY recipient")) {
        while (rows.next()) {
          String user = rows.getString(1);
          if (lastSeqs.containsKey(user)) {
            lastSeqs.put(user, rows.getLong(2));
          }
        }
      }
      Map<String, Set<String>> blocks = new HashMap<>();
      try (Statement s = c.createStatement();
          ResultSet rows = s.executeQuery("SELECT blocker, blocked FROM blocks")) {
        while (rows.next()) {
          blocks.computeIfAbsent(rows.getString(1), u -> new HashSet<>()).add(rows.getString(2));
        }
      }
      Map<String, List<StoredMessage>> unacknowledged = new LinkedHashMap<>();
      try (Statement s = c.createStatement();
          ResultSet rows =
              s.executeQuery(
                  "SELECT m.recipient, m.seq, m.sender, m.client_id, m.body, m.sent_at"
                      + " FROM messages m JOIN delivery d ON d.username = m.recipient"
                      + " WHERE m.seq > d.acked_seq ORDER BY m.recipient, m.seq")) {
        while (rows.next()) {
          StoredMessage message = message(rows);
          unacknowledged.computeIfAbsent(message.recipient(), u -> new ArrayList<>()).add(message);
        }
      }
      return new StoreSnapshot(
          usernames, blocks, lastLogouts, lockouts, lastSeqs, ackedSeqs, unacknowledged);
    }
  }

  // ---- the journal's writes ----

  /**
   * Applies {@code changes} in order, in one transaction, and returns the outcome of each. Runs of
   * messages go to the database as one JDBC batch.
   */
  public List<Outcome> apply(List<Change> changes) throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        return commit(c, new Writes(c, false, lastMessageId).apply(changes));
      } catch (SQLException e) {
        c.rollback();
        if (!isConstraintViolation(e)) {
          throw e;
        }
      } catch (RuntimeException e) {
        c.rollback();
        throw e;
      }
      // A resent message or a vanished recipient: the rare case, so only now check row by row.
      try {
        return commit(c, new Writes(c, true, lastMessageId).apply(changes));
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    }
  }

  private static List<Outcome> commit(Connection connection, List<Outcome> outcomes)
      throws SQLException {
    connection.commit();
    return outcomes;
  }

  /** SQLSTATE class 23: a unique or foreign key constraint said no. */
  private static boolean isConstraintViolation(SQLException e) {
    for (SQLException next = e; next != null; next = next.getNextException()) {
      if (next.getSQLState() != null && next.getSQLState().startsWith("23")) {
        return true;
      }
    }
    return e.getCause() instanceof SQLException cause && isConstraintViolation(cause);
  }

  /** Forgets acknowledged messages sent before {@code cutoff}; returns how many. */
  public int purgeAcknowledged(Instant cutoff) throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      // Ids grow with time, so the first row is the oldest: when it is recent, nothing qualifies
      // and the scan below (the whole table) is skipped. It ran a minute after every start.
      try (PreparedStatement oldest =
              c.prepareStatement("SELECT sent_at FROM messages ORDER BY id LIMIT 1");
          ResultSet rows = oldest.executeQuery()) {
        if (!rows.next() || !instant(rows, 1).isBefore(cutoff)) {
          return 0;
        }
      }
      return deleteAcknowledged(c, cutoff);
    }
  }

  private static int deleteAcknowledged(Connection c, Instant cutoff) throws SQLException {
    try (PreparedStatement s =
        c.prepareStatement(
            // The newest message of each user stays: it tells where their numbering is. Ids
            // grow with each recipient's seq, so the newest are found in one pass (there is no
            // index by recipient; a per-row MAX would scan the table once per row).
            "DELETE FROM messages WHERE sent_at < ?"
                + " AND id NOT IN (SELECT MAX(m.id) FROM messages m GROUP BY m.recipient)"
                + " AND (seq <= (SELECT d.acked_seq FROM delivery d"
                + " WHERE d.username = messages.recipient)"
                + " OR NOT EXISTS (SELECT 1 FROM accounts a"
                + " WHERE a.username = messages.recipient))")) {
      s.setObject(1, utc(cutoff));
      return s.executeUpdate();
    }
  }

  private static StoredMessage message(ResultSet rows) throws SQLException {
    return new StoredMessage(
        rows.getString(1),
        rows.getLong(2),
        rows.getString(3),
        rows.getString(4),
        rows.getString(5),
        instant(rows, 6));
  }

  /**
   * Instants go to the database as UTC offsets rather than {@code java.sql.Timestamp}, whose
   * conversion through the JVM's local time cannot tell the two occurrences of a repeated hour
   * apart at the end of daylight saving time.
   */
  private static OffsetDateTime utc(Instant instant) {
    return instant == null ? null : instant.atOffset(ZoneOffset.UTC);
  }

  private static Instant instant(ResultSet rows, int column) throws SQLException {
    OffsetDateTime value = rows.getObject(column, OffsetDateTime.class);
    return value == null ? null : value.toInstant();
  }

  /**
   * One transaction's writes. Optimistic by default: runs of messages go in as one JDBC batch of
   * plain inserts, and the unique index on (sender, client id) and the foreign key on the recipient
   * reject a resend or a message to a removed account by failing the batch. {@link #apply} then
   * rolls back and runs the same changes carefully: each message inserted only if its recipient
   * exists and its id is new, which tells the outcome of each.
   */
  private static final class Writes {

    private static final String INSERT_MESSAGE =
        "INSERT INTO messages (recipient, seq, sender, client_id, body, sent_at, id)"
            + " VALUES (?, ?, ?, ?, ?, ?, ?)";

    private static final String INSERT_MESSAGE_CAREFULLY =
        "INSERT INTO messages (recipient, seq, sender, client_id, body, sent_at, id)"
            + " SELECT ?, ?, ?, ?, ?, ?, ?"
            + " WHERE EXISTS (SELECT 1 FROM accounts WHERE username = ?)"
            + " AND NOT EXISTS (SELECT 1 FROM messages WHERE sender = ? AND client_id = ?)";

    private final Connection connection;
    private final boolean careful;
    private final AtomicLong lastMessageId;
    private final Map<String, Long> ackedSeqs = new HashMap<>();

    Writes(Connection connection, boolean careful, AtomicLong lastMessageId) {
      this.connection = connection;
      this.careful = careful;
      this.lastMessageId = lastMessageId;
    }

    List<Outcome> apply(List<Change> changes) throws SQLException {
      Outcome[] outcomes = new Outcome[changes.size()];
      List<Integer> pending = new ArrayList<>();
      for (int i = 0; i < changes.size(); i++) {
        Change change = changes.get(i);
        if (change instanceof Change.MessageAppended) {
          pending.add(i);
          continue;
        }
        // Keep the recorded order: messages before this change are written before it.
        writeMessages(changes, pending, outcomes);
        applyOther(change);
        outcomes[i] = Outcome.APPLIED;
      }
      writeMessages(changes, pending, outcomes);
      updateCursors();
      return List.of(outcomes);
    }

    private void writeMessages(List<Change> changes, List<Integer> pending, Outcome[] outcomes)
        throws SQLException {
      if (pending.isEmpty()) {
        return;
      }
      Set<String> recipients = careful ? null : existingRecipients(changes, pending);
      List<Integer> inserting = new ArrayList<>(pending.size());
      try (PreparedStatement insert =
          connection.prepareStatement(careful ? INSERT_MESSAGE_CAREFULLY : INSERT_MESSAGE)) {
        for (int index : pending) {
          StoredMessage m = ((Change.MessageAppended) changes.get(index)).message();
          if (recipients != null && !recipients.contains(m.recipient())) {
            outcomes[index] = Outcome.NO_RECIPIENT;
            continue;
          }
          inserting.add(index);
          insert.setString(1, m.recipient());
          insert.setLong(2, m.seq());
          insert.setString(3, m.sender());
          insert.setString(4, m.clientId());
          insert.setString(5, m.text());
          insert.setObject(6, utc(m.sentAt()));
          // Ids used by a rolled-back transaction are simply skipped: they only have to increase.
          insert.setLong(7, lastMessageId.incrementAndGet());
          if (careful) {
            insert.setString(8, m.recipient());
            insert.setString(9, m.sender());
            insert.setString(10, m.clientId());
          }
          insert.addBatch();
        }
        int[] counts = inserting.isEmpty() ? new int[0] : insert.executeBatch();
        for (int j = 0; j < inserting.size(); j++) {
          int index = inserting.get(j);
          StoredMessage m = ((Change.MessageAppended) changes.get(index)).message();
          if (counts[j] == 1 || counts[j] == Statement.SUCCESS_NO_INFO) {
            outcomes[index] = Outcome.STORED;
          } else {
            outcomes[index] = isDuplicate(m) ? Outcome.DUPLICATE : Outcome.NO_RECIPIENT;
          }
        }
      }
      pending.clear();
    }

    /**
     * Which of these messages' recipients still have an account: one query for the whole run,
     * instead of a foreign-key lookup for every row.
     */
    private Set<String> existingRecipients(List<Change> changes, List<Integer> pending)
        throws SQLException {
      Set<String> wanted = new HashSet<>();
      for (int index : pending) {
        wanted.add(((Change.MessageAppended) changes.get(index)).message().recipient());
      }
      Set<String> existing = new HashSet<>();
      // One array parameter rather than an IN list: both databases look each name up by the
      // primary key (H2 answered a long IN list of parameters by reading every account), and the
      // statement's text is the same whatever the number of names.
      try (PreparedStatement s =
          connection.prepareStatement("SELECT username FROM accounts WHERE username = ANY(?)")) {
        s.setArray(1, connection.createArrayOf("VARCHAR", wanted.toArray()));
        try (ResultSet rows = s.executeQuery()) {
          while (rows.next()) {
            existing.add(rows.getString(1));
          }
        }
      }
      return existing;
    }

    private boolean isDuplicate(StoredMessage m) throws SQLException {
      if (m.clientId() == null) {
        return false;
      }
      try (PreparedStatement s =
          connection.prepareStatement(
              "SELECT 1 FROM messages WHERE sender = ? AND client_id = ?")) {
        s.setString(1, m.sender());
        s.setString(2, m.clientId());
        try (ResultSet rows = s.executeQuery()) {
          return rows.next();
        }
      }
    }

    private void applyOther(Change change) throws SQLException {
      if (change instanceof Change.Acknowledged ack) {
        ackedSeqs.merge(ack.user(), ack.seq(), Math::max);
      } else if (change instanceof Change.LoggedIn in) {
        update("UPDATE accounts SET last_login = ? WHERE username = ?", utc(in.at()), in.user());
      } else if (change instanceof Change.LoggedOut out) {
        update("UPDATE accounts SET last_logout = ? WHERE username = ?", utc(out.at()), out.user());
      } else if (change instanceof Change.BlockAdded block) {
        update(
            "INSERT INTO blocks (blocker, blocked) SELECT ?, ?"
                + " WHERE EXISTS (SELECT 1 FROM accounts WHERE username = ?)"
                + " AND EXISTS (SELECT 1 FROM accounts WHERE username = ?)"
                + " AND NOT EXISTS (SELECT 1 FROM blocks WHERE blocker = ? AND blocked = ?)",
            block.blocker(),
            block.blocked(),
            block.blocker(),
            block.blocked(),
            block.blocker(),
            block.blocked());
      } else if (change instanceof Change.BlockRemoved unblock) {
        update(
            "DELETE FROM blocks WHERE blocker = ? AND blocked = ?",
            unblock.blocker(),
            unblock.blocked());
      } else if (change instanceof Change.LockoutChanged lockout) {
        update(
            "UPDATE accounts SET failed_logins = ?, blocked_until = ? WHERE username = ?",
            lockout.failures(),
            utc(lockout.blockedUntil()),
            lockout.user());
      } else if (change instanceof Change.PasswordRehashed rehashed) {
        // Only if the password has not been changed since it was checked.
        update(
            "UPDATE accounts SET password_hash = ? WHERE username = ? AND password_hash = ?",
            rehashed.passwordHash(),
            rehashed.user(),
            rehashed.previousHash());
      } else {
        throw new IllegalArgumentException("unknown change " + change);
      }
    }

    /** The per-user high-water marks, once per transaction whatever the number of messages. */
    private void updateCursors() throws SQLException {
      updateEach(
          "UPDATE delivery SET acked_seq = ? WHERE username = ? AND acked_seq < ?", ackedSeqs);
    }

    /** One JDBC batch of {@code sql} with (value, user, value) for each entry. */
    private void updateEach(String sql, Map<String, Long> values) throws SQLException {
      if (values.isEmpty()) {
        return;
      }
      try (PreparedStatement s = connection.prepareStatement(sql)) {
        for (Map.Entry<String, Long> e : values.entrySet()) {
          s.setLong(1, e.getValue());
          s.setString(2, e.getKey());
          s.setLong(3, e.getValue());
          s.addBatch();
        }
        s.executeBatch();
      }
    }

    private void update(String sql, Object... parameters) throws SQLException {
      try (PreparedStatement s = connection.prepareStatement(sql)) {
        for (int i = 0; i < parameters.length; i++) {
          s.setObject(i + 1, parameters[i]);
        }
        s.executeUpdate();
      }
    }
  }
}
