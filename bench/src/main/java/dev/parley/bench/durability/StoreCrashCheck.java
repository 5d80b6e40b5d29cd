package dev.parley.bench.durability;

import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import dev.parley.server.store.EmbeddedRecovery;
import dev.parley.server.store.StoreSettings;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.util.Random;
import java.util.UUID;

/**
 * Whether the embedded database keeps every commit through a {@code kill -9}, with the server's own
 * JDBC URL ({@link StoreSettings#jdbcUrl}) and a write pattern like a busy node's: 10,000 accounts
 * whose rows are rewritten all the time (logins, resumption grants) and messages appended, each
 * transaction committed on its own. Two processes, as a crash needs:
 *
 * <pre>
 * java -cp parley-bench.jar dev.parley.bench.durability.StoreCrashCheck write DIR SECONDS [SETTINGS]
 *     (commits for SECONDS, records how many messages it committed, waits, then halts the JVM:
 *     no shutdown hook, no close, as a SIGKILL)
 * java -cp parley-bench.jar dev.parley.bench.durability.StoreCrashCheck check DIR [SETTINGS]
 *     (reopens the database as the server does, after {@link EmbeddedRecovery}'s pass, counts;
 *     exit status 1 when committed messages are missing)
 * java -cp parley-bench.jar dev.parley.bench.durability.StoreCrashCheck check-h2 DIR [SETTINGS]
 *     (the same, with H2's own reopening alone)
 * </pre>
 *
 * SETTINGS is appended to the URL (for instance {@code ;REUSE_SPACE=FALSE}) to try H2's options.
 * {@code bench/store-crash-check.sh} runs both. Found with it (issue 11, docs/performance.md): H2
 * 2.5.252 alone loses its last commits when it has been writing for longer than its retention time
 * (45 s), once it writes into space it reuses; the server's recovery pass keeps them.
 */
public final class StoreCrashCheck {

  private static final int ACCOUNTS = 10_000;
  private static final int UPDATES_PER_COMMIT = 40;
  private static final int MESSAGES_PER_COMMIT = 3;
  private static final long PAUSE_MILLIS = 5;

  /** After the last commit, before the halt: longer than any write the database could delay. */
  private static final long IDLE_BEFORE_HALT_MILLIS = 5_000;

  private static final String COMMITTED_FILE = "committed.txt";

  private StoreCrashCheck() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 2) {
      System.err.println(
          "usage: StoreCrashCheck write DIR SECONDS [SETTINGS] | check|check-h2 DIR [SETTINGS]");
      System.exit(2);
    }
    Path dir = Path.of(args[1]).toAbsolutePath();
    if (args[0].equals("write")) {
      write(dir, Long.parseLong(args[2]), args.length > 3 ? args[3] : "");
    } else {
      boolean recover = !args[0].equals("check-h2");
      System.exit(check(dir, args.length > 2 ? args[2] : "", recover) ? 0 : 1);
    }
  }

  private static StoreSettings store(Path dir) {
    return StoreSettings.fromConfig(
        ConfigFactory.load()
            .withValue(
                StoreSettings.PATH + ".data-dir", ConfigValueFactory.fromAnyRef(dir.toString())));
  }

  private static void write(Path dir, long seconds, String settings) throws Exception {
    Files.createDirectories(dir);
    StoreSettings store = store(dir);
    // As the server's Store.open does; never closed, as the halt below is a crash.
    EmbeddedRecovery.prepare(store);
    try (Connection c = DriverManager.getConnection(store.jdbcUrl() + settings, "", "")) {
      try (Statement s = c.createStatement()) {
        s.execute(
            "CREATE TABLE accounts (username VARCHAR(40) PRIMARY KEY, last_login TIMESTAMP,"
                + " grant_hash VARCHAR(200))");
        s.execute("CREATE TABLE messages (id BIGINT PRIMARY KEY, body VARCHAR(200))");
      }
      c.setAutoCommit(false);
      try (PreparedStatement insert = c.prepareStatement("INSERT INTO accounts VALUES (?, ?, ?)")) {
        for (int i = 0; i < ACCOUNTS; i++) {
          insert.setString(1, "user" + i);
          insert.setTimestamp(2, new Timestamp(System.currentTimeMillis()));
          insert.setString(3, UUID.randomUUID().toString());
          insert.addBatch();
        }
        insert.executeBatch();
      }
      c.commit();
      Random random = new Random();
      long end = System.currentTimeMillis() + seconds * 1_000;
      long committed = 0;
      try (PreparedStatement login =
              c.prepareStatement(
                  "UPDATE accounts SET last_login = ?, grant_hash = ? WHERE username = ?");
          PreparedStatement message = c.prepareStatement("INSERT INTO messages VALUES (?, ?)")) {
        while (System.currentTimeMillis() < end) {
          for (int k = 0; k < UPDATES_PER_COMMIT; k++) {
            login.setTimestamp(1, new Timestamp(System.currentTimeMillis()));
            login.setString(2, UUID.randomUUID() + "" + UUID.randomUUID());
            login.setString(3, "user" + random.nextInt(ACCOUNTS));
            login.addBatch();
          }
          login.executeBatch();
          for (int k = 0; k < MESSAGES_PER_COMMIT; k++) {
            message.setLong(1, committed + k + 1);
            message.setString(2, "a message of about sixty-four bytes, as the benchmark sends");
            message.addBatch();
          }
          message.executeBatch();
          c.commit();
          committed += MESSAGES_PER_COMMIT;
          Thread.sleep(PAUSE_MILLIS);
        }
      }
      Files.writeString(dir.resolve(COMMITTED_FILE), Long.toString(committed));
      System.out.println("committed=" + committed);
      Thread.sleep(IDLE_BEFORE_HALT_MILLIS);
      Runtime.getRuntime().halt(0);
    }
  }

  private static boolean check(Path dir, String settings, boolean recover) throws Exception {
    if (!recover) {
      Files.deleteIfExists(dir.resolve(EmbeddedRecovery.MARKER));
    }
    long committed =
        Long.parseLong(
            Files.readString(dir.resolve(COMMITTED_FILE), StandardCharsets.US_ASCII).trim());
    long found;
    String recovery;
    StoreSettings store = store(dir);
    try (EmbeddedRecovery recovering = EmbeddedRecovery.prepare(store);
        Connection c = DriverManager.getConnection(store.jdbcUrl() + settings, "", "");
        Statement s = c.createStatement();
        ResultSet rows = s.executeQuery("SELECT COUNT(*) FROM messages")) {
      rows.next();
      found = rows.getLong(1);
      recovery =
          recovering
              .report()
              .map(
                  r ->
                      " scanned_ms="
                          + r.took().toMillis()
                          + " h2_reopen_version="
                          + r.plainVersion()
                          + " recovered_version="
                          + r.recoveredVersion())
              .orElse(" no_recovery_pass");
    } catch (SQLException e) {
      System.out.println("committed=" + committed + " unreadable=" + e.getMessage());
      return false;
    }
    System.out.println(
        "committed=" + committed + " found=" + found + " lost=" + (committed - found) + recovery);
    return found == committed;
  }
}
