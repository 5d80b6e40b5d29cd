package dev.parley.server.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.parley.protocol.WireText;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.Statement;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import javax.sql.DataSource;

/**
 * The server's durable state in a relational database, over JDBC: the embedded H2 database by
 * default, PostgreSQL in production, with the same SQL for both. Every method blocks on the
 * database, so none may be called on an actor's thread: the actors reach it through the {@link
 * Journal} (writes) and futures on a {@link BoundedExecutor} (reads); the admin command line and
 * start-up call it directly, before any actor runs.
 *
 * <p>Two connection pools, so that reads never hold up writes. The <em>write pool</em> ({@code
 * write-pool-size} connections) serves the journal's batches, the purge's chunks, the admin
 * commands' changes and the start-up load (which writes too); the <em>read pool</em> ({@code
 * read-pool-size}) serves password lookups, the list of usernames, one user's state ({@link
 * #loadUser}), mailbox pages and account events. A burst of logins then waits for read connections
 * only, and the journal's next commit never queues behind it for a connection.
 *
 * <p>Thread-safe: each call takes its own connection from one of the pools.
 */
public final class Store implements AutoCloseable {

  /** What became of one change. */
  public enum Outcome {
    /** Stored, and to be delivered. */
    STORED,
    /** The sender sent this message (same id) before: nothing stored. */
    DUPLICATE,
    /** The recipient's account no longer exists: nothing stored. */
    NO_RECIPIENT,
    /** Not a message: applied. */
    APPLIED,
    /**
     * The database refused this change because of its data (a text it cannot hold, a value too
     * long): nothing was written, and sending it again will not help.
     */
    REFUSED,
    /** Not written: the database could not be reached (the journal reports this, not the store). */
    FAILED
  }

  /**
   * What became of one change, with the row id of a stored message.
   *
   * @param messageId the messages table's id of a {@link Outcome#STORED} message, 0 otherwise
   */
  public record Result(Outcome outcome, long messageId) {

    /** The result of a change that is not a stored message. */
    public static Result of(Outcome outcome) {
      return new Result(outcome, 0);
    }
  }

  /**
   * What one chunk of the purge did.
   *
   * @param deleted messages deleted
   * @param lastId the highest message id the chunk looked at: the next chunk starts after it
   * @param done whether the purge is complete (no older messages are left to look at)
   */
  public record PurgeChunk(int deleted, long lastId, boolean done) {}

  private static final String POSTGRESQL_URL = "jdbc:postgresql:";

  private final HikariDataSource writePool;
  private final HikariDataSource readPool;
  private final String description;

  /** Where new messages' row ids come from. */
  private final MessageIds messageIds;

  private final EmbeddedRecovery recovery;

  private Store(
      HikariDataSource writePool,
      HikariDataSource readPool,
      String description,
      EmbeddedRecovery recovery) {
    this.writePool = writePool;
    this.readPool = readPool;
    this.description = description;
    this.recovery = recovery;
    this.messageIds = new MessageIds(this::writeConnection);
  }

  /**
   * Connects to the configured database, creating it (embedded) and migrating its schema. An
   * embedded database that was not closed cleanly is first brought back to its newest commit
   * ({@link EmbeddedRecovery}).
   */
  public static Store open(StoreSettings settings) throws SQLException {
    EmbeddedRecovery recovery = null;
    if (settings.embedded()) {
      Path dir = settings.dataDir();
      try {
        Files.createDirectories(dir);
      } catch (java.io.IOException e) {
        throw new SQLException("cannot create the data directory " + dir.toAbsolutePath(), e);
      }
      recovery = EmbeddedRecovery.prepare(settings);
    }
    try {
      return open(settings, recovery);
    } catch (SQLException | RuntimeException e) {
      if (recovery != null) {
        recovery.close();
      }
      throw e;
    }
  }

  private static Store open(StoreSettings settings, EmbeddedRecovery recovery) throws SQLException {
    HikariDataSource writePool = pool(settings, "parley-store-write", settings.writePoolSize());
    HikariDataSource readPool;
    try {
      readPool = pool(settings, "parley-store-read", settings.readPoolSize());
    } catch (SQLException | RuntimeException e) {
      writePool.close();
      throw e;
    }
    // Flyway holds one connection for its lock and history while it applies a script on another,
    // and the take-over of an old history holds a third: a pool of its own, closed once the schema
    // is up to date, so that a write pool of one connection is enough.
    try (HikariDataSource migrationPool = pool(settings, "parley-store-migrate", 3)) {
      Migrations.migrate(migrationPool);
    } catch (SQLException | RuntimeException e) {
      readPool.close();
      writePool.close();
      throw e;
    }
    return new Store(writePool, readPool, settings.describe(), recovery);
  }

  private static HikariDataSource pool(StoreSettings settings, String name, int size)
      throws SQLException {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(settings.jdbcUrl());
    if (!settings.user().isBlank()) {
      config.setUsername(settings.user());
    }
    if (!settings.password().isBlank()) {
      config.setPassword(settings.password());
    }
    config.setMaximumPoolSize(size);
    // A database that is down should fail writes and logins in seconds, not hold them for long.
    config.setConnectionTimeout(settings.connectTimeout().toMillis());
    config.setPoolName(name);
    if (settings.jdbcUrl().startsWith(POSTGRESQL_URL)) {
      // One multi-row INSERT per batch instead of one statement per row.
      config.addDataSourceProperty("reWriteBatchedInserts", "true");
      // Without this pgjdbc copies the statement's parameters (message texts, password hashes)
      // and the server's error detail (which quotes values) into its exception messages.
      config.addDataSourceProperty("logServerErrorDetail", "false");
    }
    // Fail at start-up, with the database's own message, rather than at the first login.
    config.setInitializationFailTimeout(1);
    try {
      return new HikariDataSource(config);
    } catch (RuntimeException e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      throw new SQLException(
          "cannot open the database (" + settings.describe() + "): " + cause.getMessage(), e);
    }
  }

  /** Where the data lives, for logs (no credentials). */
  public String description() {
    return description;
  }

  /** The write pool, for tests that look at the tables directly. */
  public DataSource dataSource() {
    return writePool;
  }

  /** The read pool, for tests that check that reads do not wait for the write pool. */
  DataSource readDataSource() {
    return readPool;
  }

  /** What the recovery pass of an embedded database found at this opening; empty if none ran. */
  Optional<EmbeddedRecovery.Report> recovery() {
    return recovery == null ? Optional.empty() : recovery.report();
  }

  @Override
  public void close() {
    readPool.close();
    // Closing its last connection closes the embedded database, cleanly: only then may the
    // marker that says it is open go.
    writePool.close();
    if (recovery != null) {
      recovery.close();
    }
  }

  private Connection writeConnection() throws SQLException {
    return connect(writePool);
  }

  private Connection readConnection() throws SQLException {
    return connect(readPool);
  }

  /**
   * A connection from {@code pool}. Not getting one is an outage whatever the reason the pool
   * gives: HikariCP reports a closed pool with a bare SQLException, which would otherwise pass for
   * a data failure and have the journal refuse changes that were never looked at.
   */
  private static Connection connect(HikariDataSource pool) throws SQLException {
    try {
      return pool.getConnection();
    } catch (SQLException e) {
      if (StoreFailures.isOutage(e)) {
        throw e;
      }
      // 08003: connection does not exist.
      throw new SQLNonTransientConnectionException(
          "no connection from " + pool.getPoolName() + ": " + e.getMessage(), "08003", e);
    }
  }

  // ---- accounts (reads on the read pool, changes on the write pool) ----

  /** The stored password hash of {@code username}, if the account exists. */
  public Optional<String> passwordHash(String username) throws SQLException {
    try (Connection c = readConnection();
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
    try (Connection c = readConnection();
        Statement s = c.createStatement();
        ResultSet rows = s.executeQuery("SELECT username FROM accounts ORDER BY username")) {
      List<String> names = new ArrayList<>();
      while (rows.next()) {
        names.add(rows.getString(1));
      }
      return names;
    }
  }

  /**
   * Who last logged out at or after {@code since} and is not logged in now, by the shared login
   * history: whoelsesince of a cluster, whose nodes each know only their own sessions.
   */
  public Map<String, Instant> logoutsSince(Instant since) throws SQLException {
    try (Connection c = readConnection();
        PreparedStatement s =
            c.prepareStatement(
                "SELECT a.username, a.last_logout FROM accounts a WHERE a.last_logout >= ? AND NOT"
                    + " ("
                    + SESSION_OPEN
                    + ")")) {
      s.setObject(1, utc(since));
      Map<String, Instant> logouts = new HashMap<>();
      try (ResultSet rows = s.executeQuery()) {
        while (rows.next()) {
          logouts.put(rows.getString(1), instant(rows, 2));
        }
      }
      return logouts;
    }
  }

  /** Creates an account; false if the username is taken. */
  public boolean addAccount(String username, String passwordHash, Instant now) throws SQLException {
    try (Connection c = writeConnection()) {
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
          addEvent(c, username, AccountEvent.Kind.ADDED, now);
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
    try (Connection c = writeConnection()) {
      c.setAutoCommit(false);
      try (PreparedStatement messages =
              c.prepareStatement("DELETE FROM messages WHERE recipient = ?");
          PreparedStatement account =
              c.prepareStatement("DELETE FROM accounts WHERE username = ?")) {
        messages.setString(1, username);
        messages.executeUpdate();
        account.setString(1, username);
        boolean removed = account.executeUpdate() == 1;
        if (removed) {
          addEvent(c, username, AccountEvent.Kind.REMOVED, Instant.now());
        }
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
    try (Connection c = writeConnection()) {
      c.setAutoCommit(false);
      try (PreparedStatement s =
          c.prepareStatement(
              "UPDATE accounts SET password_hash = ?, failed_logins = 0, blocked_until = NULL,"
                  // A new password ends resumption: a client must log in with it.
                  + " resume_hash = NULL, resume_fingerprint = NULL, resume_until = NULL"
                  + " WHERE username = ?")) {
        s.setString(1, passwordHash);
        s.setString(2, username);
        boolean changed = s.executeUpdate() == 1;
        if (changed) {
          addEvent(c, username, AccountEvent.Kind.PASSWORD, Instant.now());
        }
        c.commit();
        return changed;
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    }
  }

  /**
   * The change is recorded in the same transaction as the change itself, so that a running server
   * polling {@link #accountEventsAfter} sees every committed change and nothing that rolled back.
   */
  private static void addEvent(Connection c, String username, AccountEvent.Kind kind, Instant at)
      throws SQLException {
    try (PreparedStatement s =
        c.prepareStatement("INSERT INTO account_events (username, kind, at) VALUES (?, ?, ?)")) {
      s.setString(1, username);
      s.setString(2, kind.name().toLowerCase(Locale.ROOT));
      s.setObject(3, utc(at));
      s.executeUpdate();
    }
  }

  // ---- account events (read pool) ----

  /**
   * At most {@code limit} account events with an id above {@code afterId}, oldest first: what the
   * admin command line changed since a running server last looked.
   *
   * <p>Ids are handed out when an event is inserted, so two admin commands committing at the same
   * moment can make their events visible out of id order; one admin command at a time (the usual
   * case) cannot.
   */
  public List<AccountEvent> accountEventsAfter(long afterId, int limit) throws SQLException {
    try (Connection c = readConnection();
        PreparedStatement s =
            c.prepareStatement(
                "SELECT id, username, kind FROM account_events WHERE id > ? ORDER BY id LIMIT ?")) {
      s.setLong(1, afterId);
      s.setInt(2, limit);
      List<AccountEvent> events = new ArrayList<>();
      try (ResultSet rows = s.executeQuery()) {
        while (rows.next()) {
          events.add(
              new AccountEvent(
                  rows.getLong(1),
                  rows.getString(2),
                  AccountEvent.Kind.valueOf(rows.getString(3).toUpperCase(Locale.ROOT))));
        }
      }
      return events;
    }
  }

  /** The id of the newest account event, 0 if there is none: where a starting server polls from. */
  public long lastAccountEventId() throws SQLException {
    try (Connection c = readConnection();
        Statement s = c.createStatement();
        ResultSet rows = s.executeQuery("SELECT COALESCE(MAX(id), 0) FROM account_events")) {
      rows.next();
      return rows.getLong(1);
    }
  }

  // ---- mailbox pages (read pool) ----

  /**
   * Finds messages by the primary key: a page is read by the ids the pending index gives. The
   * recipient condition only keeps one user from reading another's messages with a wrong id.
   */
  static final String READ_MESSAGES =
      "SELECT recipient, seq, sender, client_id, body, sent_at FROM messages"
          + " WHERE id = ANY(?) AND recipient = ? ORDER BY seq";

  /**
   * {@code recipient}'s messages with these ids (from {@link StoreSnapshot.PendingMessages#ids()}
   * or {@link Journal.Recorded.Outcome#messageId()}), in seq order; ids that are not theirs, or no
   * longer exist, are left out.
   */
  public List<StoredMessage> readMessages(String recipient, long[] messageIds) throws SQLException {
    if (messageIds.length == 0) {
      return List.of();
    }
    try (Connection c = readConnection();
        PreparedStatement s = c.prepareStatement(READ_MESSAGES)) {
      Long[] ids = Arrays.stream(messageIds).boxed().toArray(Long[]::new);
      s.setArray(1, c.createArrayOf("BIGINT", ids));
      s.setString(2, recipient);
      List<StoredMessage> messages = new ArrayList<>(messageIds.length);
      try (ResultSet rows = s.executeQuery()) {
        while (rows.next()) {
          messages.add(message(rows));
        }
      }
      return messages;
    }
  }

  // ---- start-up, and one user's state ----

  /**
   * A login after the last logout: the user was online when the database last heard of them. The
   * same condition for {@link #load}, which records them logged out, and {@link #loadUser}, which
   * only reports it.
   */
  private static final String SESSION_OPEN =
      "a.last_login IS NOT NULL AND (a.last_logout IS NULL OR a.last_logout < a.last_login)";

  /**
   * Each account's state but its blocks and messages. The last logout of an open session reads as
   * the load's time (the parameter), which is what {@link #load} has just written.
   */
  private static final String ACCOUNT_STATE =
      "SELECT a.username, CASE WHEN "
          + SESSION_OPEN
          + " THEN ? ELSE a.last_logout END, a.failed_logins, a.blocked_until, d.acked_seq,"
          + " a.resume_hash, a.resume_fingerprint, a.resume_until, CASE WHEN "
          + SESSION_OPEN
          + " THEN 1 ELSE 0 END"
          + " FROM accounts a LEFT JOIN delivery d ON d.username = a.username";

  /** The highest seq used for each recipient: their newest message is never purged. */
  private static final String LAST_SEQS = "SELECT recipient, MAX(seq) FROM messages";

  private static final String LAST_SEQS_GROUPED = " GROUP BY recipient";

  private static final String BLOCKS = "SELECT blocker, blocked FROM blocks";

  /** The index of unacknowledged messages: those above the recipient's cursor. */
  private static final String PENDING =
      "SELECT m.recipient, m.seq, m.id, m.size_bytes"
          + " FROM messages m JOIN delivery d ON d.username = m.recipient"
          + " WHERE m.seq > d.acked_seq";

  private static final String PENDING_ORDER = " ORDER BY m.recipient, m.seq";

  /**
   * Reads what the server starts from: accounts, blocks, history, lockouts, and the index of every
   * user's unacknowledged messages (not their texts, which are read a page at a time with {@link
   * #readMessages}). Users who were online when the server stopped (a login after their last
   * logout) are recorded as logged out at {@code now}.
   */
  @SuppressWarnings("removal") // the deferred texts, until the registry reads mailbox pages
  public StoreSnapshot load(Instant now) throws SQLException {
    try (Connection c = writeConnection()) {
      try (PreparedStatement s =
          c.prepareStatement("UPDATE accounts a SET last_logout = ? WHERE " + SESSION_OPEN)) {
        s.setObject(1, utc(now));
        s.executeUpdate();
      }
      Set<String> usernames = new TreeSet<>();
      Map<String, Instant> lastLogouts = new HashMap<>();
      Map<String, StoreSnapshot.Lockout> lockouts = new HashMap<>();
      Map<String, Long> lastSeqs = new HashMap<>();
      Map<String, Long> ackedSeqs = new HashMap<>();
      Map<String, ResumeGrant> resumptions = new HashMap<>();
      for (AccountState account : accountStates(c, "", now)) {
        String user = account.username();
        usernames.add(user);
        if (account.lastLogout() != null) {
          lastLogouts.put(user, account.lastLogout());
        }
        if (account.lockout() != null) {
          lockouts.put(user, account.lockout());
        }
        ackedSeqs.put(user, account.ackedSeq());
        lastSeqs.put(user, 0L);
        if (account.resumption() != null) {
          resumptions.put(user, account.resumption());
        }
      }
      // Messages of a recipient whose account is gone start no numbering.
      lastSeqs(c, "").forEach((user, seq) -> lastSeqs.computeIfPresent(user, (u, zero) -> seq));
      return new StoreSnapshot(
          usernames,
          blocks(c, ""),
          lastLogouts,
          lockouts,
          lastSeqs,
          ackedSeqs,
          pending(c, ""),
          resumptions);
    }
  }

  /**
   * Reads one user's state, as {@link #load} reads it for everyone (the same statements, narrowed
   * to the user): for the one owner of a user, which may start on any node at any time rather than
   * once at a node's start. A login still open in the database counts as a logout at {@code now},
   * as in {@link #load}, but is not written (see {@link UserSnapshot#sessionOpen()}): a read, on
   * the read pool, blocking the calling thread like the store's other reads.
   *
   * <p>Read in one repeatable-read transaction, so that the cursor, the highest seq and the pending
   * index agree even while a previous owner (partitioned, not yet downed) still writes.
   */
  public UserSnapshot loadUser(String username, Instant now) throws SQLException {
    try (Connection c = readConnection()) {
      c.setAutoCommit(false);
      c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
      try {
        UserSnapshot user = loadUser(c, username, now);
        c.commit();
        return user;
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    }
  }

  private static UserSnapshot loadUser(Connection c, String username, Instant now)
      throws SQLException {
    List<AccountState> accounts = accountStates(c, " WHERE a.username = ?", now, username);
    if (accounts.isEmpty()) {
      return UserSnapshot.absent(username);
    }
    AccountState account = accounts.get(0);
    return new UserSnapshot(
        username,
        true,
        blocks(c, " WHERE blocker = ?", username).getOrDefault(username, Set.of()),
        account.lastLogout(),
        account.sessionOpen(),
        account.lockout(),
        lastSeqs(c, " WHERE recipient = ?", username).getOrDefault(username, 0L),
        account.ackedSeq(),
        pending(c, " AND m.recipient = ?", username)
            .getOrDefault(username, UserSnapshot.nonePending()),
        account.resumption());
  }

  /** One row of {@link #ACCOUNT_STATE}. */
  private record AccountState(
      String username,
      Instant lastLogout,
      boolean sessionOpen,
      StoreSnapshot.Lockout lockout,
      long ackedSeq,
      ResumeGrant resumption) {}

  /** The accounts of {@link #ACCOUNT_STATE} narrowed by {@code where} with {@code parameters}. */
  private static List<AccountState> accountStates(
      Connection c, String where, Instant now, Object... parameters) throws SQLException {
    try (PreparedStatement s = c.prepareStatement(ACCOUNT_STATE + where)) {
      // The load's time, for the last logout of an open session; the narrowing's values follow.
      s.setObject(1, utc(now));
      bind(s, 2, parameters);
      List<AccountState> accounts = new ArrayList<>();
      try (ResultSet rows = s.executeQuery()) {
        while (rows.next()) {
          int failures = rows.getInt(3);
          Instant blockedUntil = instant(rows, 4);
          String resumeHash = rows.getString(6);
          accounts.add(
              new AccountState(
                  rows.getString(1),
                  instant(rows, 2),
                  rows.getInt(9) == 1,
                  failures > 0 || blockedUntil != null
                      ? new StoreSnapshot.Lockout(failures, blockedUntil)
                      : null,
                  rows.getLong(5),
                  resumeHash == null
                      ? null
                      : new ResumeGrant(resumeHash, rows.getString(7), instant(rows, 8))));
        }
      }
      return accounts;
    }
  }

  /** The highest seq of each recipient of {@link #LAST_SEQS} narrowed by {@code where}. */
  private static Map<String, Long> lastSeqs(Connection c, String where, Object... parameters)
      throws SQLException {
    try (PreparedStatement s = c.prepareStatement(LAST_SEQS + where + LAST_SEQS_GROUPED)) {
      bind(s, 1, parameters);
      Map<String, Long> lastSeqs = new HashMap<>();
      try (ResultSet rows = s.executeQuery()) {
        while (rows.next()) {
          lastSeqs.put(rows.getString(1), rows.getLong(2));
        }
      }
      return lastSeqs;
    }
  }

  /** Blocker to the users they block, of {@link #BLOCKS} narrowed by {@code where}. */
  private static Map<String, Set<String>> blocks(Connection c, String where, Object... parameters)
      throws SQLException {
    try (PreparedStatement s = c.prepareStatement(BLOCKS + where)) {
      bind(s, 1, parameters);
      Map<String, Set<String>> blocks = new HashMap<>();
      try (ResultSet rows = s.executeQuery()) {
        while (rows.next()) {
          blocks.computeIfAbsent(rows.getString(1), u -> new HashSet<>()).add(rows.getString(2));
        }
      }
      return blocks;
    }
  }

  /** Each recipient's index of {@link #PENDING} narrowed by {@code where}; none for no messages. */
  private static Map<String, StoreSnapshot.PendingMessages> pending(
      Connection c, String where, Object... parameters) throws SQLException {
    try (PreparedStatement s = c.prepareStatement(PENDING + where + PENDING_ORDER)) {
      bind(s, 1, parameters);
      Map<String, StoreSnapshot.PendingMessages> pending = new HashMap<>();
      try (ResultSet rows = s.executeQuery()) {
        PendingBuilder current = null;
        while (rows.next()) {
          String user = rows.getString(1);
          if (current == null || !current.user.equals(user)) {
            if (current != null) {
              pending.put(current.user, current.build());
            }
            current = new PendingBuilder(user);
          }
          current.add(rows.getLong(2), rows.getLong(3), rows.getInt(4));
        }
        if (current != null) {
          pending.put(current.user, current.build());
        }
      }
      return pending;
    }
  }

  /** Sets {@code parameters} from the statement's parameter {@code first}. */
  private static void bind(PreparedStatement s, int first, Object... parameters)
      throws SQLException {
    for (int i = 0; i < parameters.length; i++) {
      s.setObject(first + i, parameters[i]);
    }
  }

  /** One user's pending index, in growing arrays: 20 bytes a message instead of its text. */
  private static final class PendingBuilder {
    private static final int INITIAL = 8;

    final String user;
    private long[] seqs = new long[INITIAL];
    private long[] ids = new long[INITIAL];
    private int[] sizes = new int[INITIAL];
    private int count;

    PendingBuilder(String user) {
      this.user = user;
    }

    void add(long seq, long id, int size) {
      if (count == seqs.length) {
        seqs = Arrays.copyOf(seqs, count * 2);
        ids = Arrays.copyOf(ids, count * 2);
        sizes = Arrays.copyOf(sizes, count * 2);
      }
      seqs[count] = seq;
      ids[count] = id;
      sizes[count] = size;
      count++;
    }

    StoreSnapshot.PendingMessages build() {
      return new StoreSnapshot.PendingMessages(
          Arrays.copyOf(seqs, count), Arrays.copyOf(ids, count), Arrays.copyOf(sizes, count));
    }
  }

  // ---- the journal's writes (write pool) ----

  private static int messagesIn(List<Change> changes) {
    int count = 0;
    for (Change change : changes) {
      if (change instanceof Change.MessageAppended) {
        count++;
      }
    }
    return count;
  }

  /**
   * Applies {@code changes} in order, in one transaction, and returns the result of each. Runs of
   * messages go to the database as one JDBC batch. All or nothing: if the database refuses one
   * change, nothing is written and the failure is thrown ({@link IsolatingWriter} then finds the
   * change at fault).
   */
  public List<Result> apply(List<Change> changes) throws SQLException {
    long firstId = messageIds.allot(messagesIn(changes));
    try (Connection c = writeConnection()) {
      c.setAutoCommit(false);
      try {
        return commit(c, new Writes(c, false, firstId).apply(changes));
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
        return commit(c, new Writes(c, true, firstId).apply(changes));
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    }
  }

  private static List<Result> commit(Connection connection, List<Result> results)
      throws SQLException {
    connection.commit();
    return results;
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

  // ---- the purge (write pool) ----

  /**
   * One chunk of the purge from the oldest message: deletes at most {@code maxRows} acknowledged
   * messages sent before {@code cutoff}, in one short transaction, and returns how many.
   */
  public int purgeAcknowledged(Instant cutoff, int maxRows) throws SQLException {
    return purgeAcknowledged(cutoff, 0, maxRows).deleted();
  }

  /**
   * One chunk of the purge: looks at the (at most) {@code maxRows} messages that follow {@code
   * afterId} and deletes those that were sent before {@code cutoff} and are acknowledged, in one
   * short transaction. Each recipient's newest message stays: its seq is where their numbering goes
   * on after a restart. The first chunk ({@code afterId} 0) also forgets the account events older
   * than {@code cutoff}.
   *
   * <p>A chunk is bounded in the rows it looks at, not only in those it deletes: old messages that
   * are not acknowledged (a user who never comes back) would otherwise be read again by every
   * chunk. The caller goes on from {@link PurgeChunk#lastId()} until {@link PurgeChunk#done()}.
   */
  public PurgeChunk purgeAcknowledged(Instant cutoff, long afterId, int maxRows)
      throws SQLException {
    try (Connection c = writeConnection()) {
      c.setAutoCommit(false);
      try {
        PurgeChunk chunk = purgeChunk(c, cutoff, afterId, maxRows);
        c.commit();
        return chunk;
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    }
  }

  private static PurgeChunk purgeChunk(Connection c, Instant cutoff, long afterId, int maxRows)
      throws SQLException {
    if (afterId == 0) {
      try (PreparedStatement s = c.prepareStatement("DELETE FROM account_events WHERE at < ?")) {
        s.setObject(1, utc(cutoff));
        s.executeUpdate();
      }
    }
    // Ids grow with time, so the chunk's rows are the oldest left: when the first of them is
    // recent, nothing further qualifies and the purge is over without reading on. (The purge
    // runs a minute after every start, usually to find exactly that.)
    long windowEnd;
    int windowRows;
    try (PreparedStatement s =
        c.prepareStatement(
            "SELECT COUNT(*), MAX(w.id), MIN(w.id) FROM"
                + " (SELECT id FROM messages WHERE id > ? ORDER BY id LIMIT ?) w")) {
      s.setLong(1, afterId);
      s.setInt(2, maxRows);
      try (ResultSet rows = s.executeQuery()) {
        rows.next();
        windowRows = rows.getInt(1);
        windowEnd = rows.getLong(2);
        if (windowRows == 0 || !sentBefore(c, rows.getLong(3), cutoff)) {
          return new PurgeChunk(0, afterId, true);
        }
      }
    }
    boolean done = windowRows < maxRows || !sentBefore(c, windowEnd, cutoff);
    try (PreparedStatement s =
        c.prepareStatement(
            // Acknowledged: the recipient's cursor is past it. Strictly past: a message at the
            // cursor may be the recipient's newest, which stays (the cursor never passes the
            // newest seq, so anything below it has a newer message). A message whose recipient
            // has no account any more (no cursor) goes too: nobody will read it, and a new
            // account of the same name must not inherit it.
            "DELETE FROM messages WHERE id > ? AND id <= ? AND sent_at < ?"
                + " AND NOT EXISTS (SELECT 1 FROM delivery d"
                + " WHERE d.username = messages.recipient AND d.acked_seq <= messages.seq)")) {
      s.setLong(1, afterId);
      s.setLong(2, windowEnd);
      s.setObject(3, utc(cutoff));
      return new PurgeChunk(s.executeUpdate(), windowEnd, done);
    }
  }

  private static boolean sentBefore(Connection c, long id, Instant cutoff) throws SQLException {
    try (PreparedStatement s = c.prepareStatement("SELECT sent_at FROM messages WHERE id = ?")) {
      s.setLong(1, id);
      try (ResultSet rows = s.executeQuery()) {
        return rows.next() && instant(rows, 1).isBefore(cutoff);
      }
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
   * plain inserts, and the unique index on (sender, client id) rejects a resend by failing the
   * batch. {@link #apply} then rolls back and runs the same changes carefully: each message
   * inserted only if its recipient exists and its id is new, which tells the outcome of each.
   */
  private static final class Writes {

    private static final String INSERT_MESSAGE =
        "INSERT INTO messages (recipient, seq, sender, client_id, body, sent_at, size_bytes, id)"
            + " VALUES (?, ?, ?, ?, ?, ?, ?, ?)";

    private static final String INSERT_MESSAGE_CAREFULLY =
        "INSERT INTO messages (recipient, seq, sender, client_id, body, sent_at, size_bytes, id)"
            + " SELECT ?, ?, ?, ?, ?, ?, ?, ?"
            + " WHERE EXISTS (SELECT 1 FROM accounts WHERE username = ?)"
            + " AND NOT EXISTS (SELECT 1 FROM messages WHERE sender = ? AND client_id = ?)";

    private final Connection connection;
    private final boolean careful;
    private final Map<String, Long> ackedSeqs = new HashMap<>();

    /** The next of the ids allotted to this batch's messages, one each, in order. */
    private long nextId;

    Writes(Connection connection, boolean careful, long firstId) {
      this.connection = connection;
      this.careful = careful;
      this.nextId = firstId;
    }

    List<Result> apply(List<Change> changes) throws SQLException {
      Result[] results = new Result[changes.size()];
      List<Integer> pending = new ArrayList<>();
      for (int i = 0; i < changes.size(); i++) {
        Change change = changes.get(i);
        if (change instanceof Change.MessageAppended) {
          pending.add(i);
          continue;
        }
        // Keep the recorded order: messages before this change are written before it.
        writeMessages(changes, pending, results);
        applyOther(change);
        results[i] = Result.of(Outcome.APPLIED);
      }
      writeMessages(changes, pending, results);
      updateCursors();
      return List.of(results);
    }

    private void writeMessages(List<Change> changes, List<Integer> pending, Result[] results)
        throws SQLException {
      if (pending.isEmpty()) {
        return;
      }
      Set<String> recipients = careful ? null : existingRecipients(changes, pending);
      List<Integer> inserting = new ArrayList<>(pending.size());
      long[] ids = new long[pending.size()];
      try (PreparedStatement insert =
          connection.prepareStatement(careful ? INSERT_MESSAGE_CAREFULLY : INSERT_MESSAGE)) {
        for (int index : pending) {
          StoredMessage m = ((Change.MessageAppended) changes.get(index)).message();
          if (recipients != null && !recipients.contains(m.recipient())) {
            results[index] = Result.of(Outcome.NO_RECIPIENT);
            continue;
          }
          // An id not used (its message was not inserted) is simply skipped: ids need only be new.
          long id = nextId++;
          ids[inserting.size()] = id;
          inserting.add(index);
          insert.setString(1, m.recipient());
          insert.setLong(2, m.seq());
          insert.setString(3, m.sender());
          insert.setString(4, m.clientId());
          insert.setString(5, m.text());
          insert.setObject(6, utc(m.sentAt()));
          insert.setInt(7, WireText.encodedLength(m.text()));
          insert.setLong(8, id);
          if (careful) {
            insert.setString(9, m.recipient());
            insert.setString(10, m.sender());
            insert.setString(11, m.clientId());
          }
          insert.addBatch();
        }
        int[] counts = inserting.isEmpty() ? new int[0] : insert.executeBatch();
        for (int j = 0; j < inserting.size(); j++) {
          int index = inserting.get(j);
          StoredMessage m = ((Change.MessageAppended) changes.get(index)).message();
          if (counts[j] == 1 || counts[j] == Statement.SUCCESS_NO_INFO) {
            results[index] = new Result(Outcome.STORED, ids[j]);
          } else {
            results[index] = Result.of(isDuplicate(m) ? Outcome.DUPLICATE : Outcome.NO_RECIPIENT);
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
        ResumeGrant grant = in.resumption();
        update(
            "UPDATE accounts SET last_login = ?, resume_hash = ?, resume_fingerprint = ?,"
                + " resume_until = ? WHERE username = ?",
            utc(in.at()),
            grant == null ? null : grant.tokenHash(),
            grant == null ? null : grant.fingerprint(),
            grant == null ? null : utc(grant.until()),
            in.user());
      } else if (change instanceof Change.LoggedOut out) {
        if (out.resumableUntil() == null) {
          update(
              "UPDATE accounts SET last_logout = ?, resume_hash = NULL, resume_fingerprint = NULL,"
                  + " resume_until = NULL WHERE username = ?",
              utc(out.at()),
              out.user());
        } else {
          update(
              "UPDATE accounts SET last_logout = ?, resume_until = ? WHERE username = ?",
              utc(out.at()),
              utc(out.resumableUntil()),
              out.user());
        }
      } else if (change instanceof Change.SessionInterrupted interrupted) {
        // The grant's resume_until stays NULL, as the login left it: open until the next start.
        update(
            "UPDATE accounts SET last_logout = ? WHERE username = ?",
            utc(interrupted.at()),
            interrupted.user());
      } else if (change instanceof Change.ResumptionRevoked revoked) {
        update(
            "UPDATE accounts SET resume_hash = NULL, resume_fingerprint = NULL, resume_until = NULL"
                + " WHERE username = ?",
            revoked.user());
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
        throw new IllegalArgumentException("unknown change " + Change.summary(change));
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
