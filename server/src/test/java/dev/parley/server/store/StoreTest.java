package dev.parley.server.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.parley.server.store.Store.Outcome;
import dev.parley.server.store.StoreSnapshot.Lockout;
import dev.parley.server.testing.LogCapturingExtension;
import dev.parley.server.testing.TestDatabase;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TimeZone;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.h2.util.DateTimeUtils;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The store on real databases: every test runs on the embedded H2 database (in a directory of its
 * own, configured as the server configures it) and on PostgreSQL (a fresh schema on the server of
 * {@code PARLEY_TEST_PG_URL}; skipped when that is not set).
 */
@ParameterizedClass(name = "{0}")
@EnumSource(TestDatabase.Kind.class)
@ExtendWith(LogCapturingExtension.class)
class StoreTest {

  private static final Instant T0 = Instant.parse("2030-05-04T12:00:00Z");

  /** Messages enough in one mailbox that reading a page of it by the key is clearly cheaper. */
  private static final int LARGE_MAILBOX = 500;

  private static final List<String> USERS = List.of("hans", "yoda", "luke", "vader", "r2d2");
  private static final String HISTORY =
      "SELECT version, script FROM flyway_schema_history WHERE version IS NOT NULL"
          + " ORDER BY installed_rank";
  private static final List<String> SCHEMA_HISTORY =
      List.of(
          "1 V1__initial_schema.sql",
          "2 V2__client_id_index_by_id_first.sql",
          "3 V3__pending_sizes_and_account_events.sql",
          "4 V4__resumption.sql",
          "5 V5__message_id_blocks.sql");

  @Parameter TestDatabase.Kind kind;

  @TempDir Path dir;

  private TestDatabase database;
  private Store store;

  @BeforeEach
  void openStore() throws SQLException {
    database = TestDatabase.create(kind, dir);
    store = database.open();
  }

  @AfterEach
  void closeDatabase() throws SQLException {
    if (database != null) {
      database.close();
    }
  }

  // ---- migrations ----

  @Test
  void shouldCreateTheSchemaOnAnEmptyDatabase() throws SQLException {
    assertEquals(SCHEMA_HISTORY, rows(HISTORY));
    assertFalse(hasTable(store.dataSource(), Migrations.LEGACY_TABLE));
    assertEquals(List.of(), rows("SELECT * FROM accounts"));
    assertEquals(List.of(), rows("SELECT * FROM account_events"));
    assertEquals(List.of(), rows("SELECT * FROM blocks"));
    assertEquals(List.of(), rows("SELECT * FROM messages"));
    assertEquals(StoreSnapshot.empty(), store.load(T0));
  }

  @Test
  void shouldNotMigrateAgainWhenReopenedAndKeepTheData() throws SQLException {
    addUsers("hans");

    Store again = database.open();

    assertEquals(0, Migrations.migrate(again.dataSource()));
    assertEquals(SCHEMA_HISTORY, rows(HISTORY));
    assertEquals(List.of("hans"), again.usernames());
  }

  @Test
  void shouldRefuseADatabaseWhoseSchemaIsNewerThanTheServer() throws SQLException {
    execute(
        "INSERT INTO flyway_schema_history (installed_rank, version, description, type, script,"
            + " checksum, installed_by, execution_time, success)"
            + " SELECT MAX(installed_rank) + 1, '6', 'from the future', 'SQL',"
            + " 'V6__from_the_future.sql', 1, 'parley', 0, TRUE FROM flyway_schema_history");
    store.close();

    SQLException error = assertThrows(SQLException.class, () -> database.open());

    assertEquals(
        "the database schema is at version 6, newer than this server (5): upgrade the server",
        error.getMessage());
  }

  @Test
  void shouldRecordTheChecksumOfEachMigration() throws SQLException {
    assertEquals(
        SCHEMA_HISTORY,
        rows(
            "SELECT version, script FROM flyway_schema_history"
                + " WHERE checksum IS NOT NULL AND success ORDER BY installed_rank"));
  }

  @Test
  void shouldRefuseADatabaseWhoseAppliedMigrationDiffersFromTheServers() throws SQLException {
    execute("UPDATE flyway_schema_history SET checksum = 12345 WHERE version = '1'");
    store.close();

    SQLException error = assertThrows(SQLException.class, () -> database.open());

    assertEquals(
        "migration V1__initial_schema.sql differs from the one applied to this database:"
            + " the database was made by another build of Parley",
        error.getMessage());
  }

  @Test
  void shouldRefuseASchemaHistoryThatLacksAMigration() throws SQLException {
    execute("DELETE FROM flyway_schema_history WHERE version = '2'");
    store.close();

    SQLException error = assertThrows(SQLException.class, () -> database.open());

    assertTrue(
        error
            .getMessage()
            .startsWith(
                "the schema history does not match migration V2__client_id_index_by_id_first.sql:"
                    + " the database was changed by hand ("),
        error.getMessage());
    assertFalse(error.getMessage().contains("\n"), error.getMessage());
  }

  @Test
  void shouldRefuseANonEmptyDatabaseWithoutASchemaHistory() throws Exception {
    try (TestDatabase other = TestDatabase.create(kind, Files.createDirectories(dir.resolve("o")));
        HikariDataSource raw = rawDataSource(other.settings())) {
      try (Connection c = raw.getConnection();
          Statement s = c.createStatement()) {
        s.execute("CREATE TABLE someone_elses (x INTEGER)");
      }

      SQLException error = assertThrows(SQLException.class, () -> other.open());

      assertTrue(error.getMessage().startsWith("schema migration failed: "), error.getMessage());
      assertFalse(hasTable(raw, "accounts"));
    }
  }

  // ---- databases of the releases before Flyway (their own history table) ----

  @Test
  void shouldRefuseAReleasedSchemaHistoryWithoutChecksums() throws Exception {
    try (TestDatabase released = released(4)) {
      try (HikariDataSource raw = rawDataSource(released.settings())) {
        execute(raw, "ALTER TABLE parley_schema_history DROP COLUMN checksum");
      }

      SQLException error = assertThrows(SQLException.class, () -> released.open());

      assertEquals(
          "the schema history has no checksums: the database was made by a pre-release build"
              + " of Parley; start on an empty database",
          error.getMessage());
    }
  }

  @Test
  void shouldRefuseAReleasedDatabaseWhoseAppliedMigrationDiffersFromTheServers() throws Exception {
    try (TestDatabase released = released(4)) {
      try (HikariDataSource raw = rawDataSource(released.settings())) {
        execute(raw, "UPDATE parley_schema_history SET checksum = 'edited' WHERE version = 1");
      }

      SQLException error = assertThrows(SQLException.class, () -> released.open());

      assertEquals(
          "migration V1__initial_schema.sql differs from the one applied to this database"
              + " (checksum edited, this server's "
              + Migrations.checksum(migrationText("V1__initial_schema.sql"))
              + "): the database was made by another build of Parley",
          error.getMessage());
    }
  }

  @Test
  void shouldUpgradeADatabaseOfTheCurrentReleaseBaselinedAtItsVersion() throws Exception {
    try (TestDatabase released = released(5)) {
      try (HikariDataSource raw = rawDataSource(released.settings())) {
        try (Connection c = raw.getConnection()) {
          insert(
              c,
              "INSERT INTO accounts (username, password_hash, created_at) VALUES (?, ?, ?)",
              "luke",
              "hash-of-luke",
              T0.atOffset(ZoneOffset.UTC));
        }
      }

      Store upgraded = released.open();

      assertEquals(List.of("5 parley_schema_history BASELINE"), baseline(upgraded.dataSource()));
      assertEquals(List.of("luke"), upgraded.usernames());
      assertEquals(0, Migrations.migrate(upgraded.dataSource()));
      assertTrue(upgraded.addAccount("hans", "hash-of-hans", T0));
      assertEquals(List.of("hans", "luke"), upgraded.usernames());
      assertMovedAfter(upgraded.dataSource(), 5);
    }
  }

  @Test
  void shouldUpgradeADatabaseOfTheFourthSchemaApplyingTheFifthOnce() throws Exception {
    try (TestDatabase released = released(4)) {
      try (HikariDataSource raw = rawDataSource(released.settings())) {
        try (Connection c = raw.getConnection()) {
          insert(
              c,
              "INSERT INTO accounts (username, password_hash, created_at) VALUES (?, ?, ?)",
              "luke",
              "hash-of-luke",
              T0.atOffset(ZoneOffset.UTC));
          insert(c, "INSERT INTO delivery (username, acked_seq) VALUES (?, ?)", "luke", 0L);
          insert(
              c,
              "INSERT INTO messages"
                  + " (id, recipient, seq, sender, client_id, body, sent_at, size_bytes)"
                  + " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
              7L,
              "luke",
              1L,
              "yoda",
              "y-1",
              "hello",
              T0.atOffset(ZoneOffset.UTC),
              5);
        }
      }

      Store upgraded = released.open();
      Store again = released.open();

      assertEquals(
          List.of("4 parley_schema_history BASELINE", "5 V5__message_id_blocks.sql SQL"),
          baseline(again.dataSource()));
      assertEquals(
          List.of(new StoredMessage("luke", 1, "yoda", "y-1", "hello", T0)),
          again.readMessages("luke", new long[] {7}));
      List<Store.Result> results = again.apply(List.of(appended("luke", 2, "yoda", "y-2", "new")));
      assertEquals(List.of(Outcome.STORED), outcomes(results));
      assertTrue(results.get(0).messageId() > 7, results.toString());
      assertMovedAfter(upgraded.dataSource(), 4);
    }
  }

  @Test
  void shouldUpgradeADatabaseOfTheSecondSchemaAndKeepItsData() throws Exception {
    String text = "h\u00e9llo \ud83d\ude00";
    try (TestDatabase previous = released(2)) {
      // The database as a server of the previous version left it.
      try (HikariDataSource raw = rawDataSource(previous.settings())) {
        try (Connection c = raw.getConnection()) {
          insert(
              c,
              "INSERT INTO accounts (username, password_hash, created_at) VALUES (?, ?, ?)",
              "luke",
              "hash-of-luke",
              T0.atOffset(ZoneOffset.UTC));
          insert(c, "INSERT INTO delivery (username, acked_seq) VALUES (?, ?)", "luke", 1L);
          String message =
              "INSERT INTO messages (id, recipient, seq, sender, client_id, body, sent_at)"
                  + " VALUES (?, ?, ?, ?, ?, ?, ?)";
          insert(c, message, 1L, "luke", 1L, "yoda", "y-1", "seen", T0.atOffset(ZoneOffset.UTC));
          insert(c, message, 2L, "luke", 2L, "yoda", "y-2", text, T0.atOffset(ZoneOffset.UTC));
        }
      }

      Store upgraded = previous.open();

      assertEquals(
          List.of(
              "2 parley_schema_history BASELINE",
              "3 V3__pending_sizes_and_account_events.sql SQL",
              "4 V4__resumption.sql SQL",
              "5 V5__message_id_blocks.sql SQL"),
          baseline(upgraded.dataSource()));
      assertMovedAfter(upgraded.dataSource(), 2);
      StoreSnapshot snapshot = upgraded.load(T0);
      assertEquals(Set.of("luke"), snapshot.usernames());
      assertEquals(2L, snapshot.lastSeqs().get("luke"));
      // Sizes of the old rows are their texts' UTF-8 lengths: 1 + 2 + 3 + 1 + 4 bytes.
      assertEquals(
          Map.of(
              "luke",
              new StoreSnapshot.PendingMessages(new long[] {2}, new long[] {2}, new int[] {11})),
          snapshot.pending());
      assertEquals(
          List.of(new StoredMessage("luke", 2, "yoda", "y-2", text, T0)),
          upgraded.readMessages("luke", new long[] {2}));
      // Row ids go on after the old ones; a resend of an old message is still recognised.
      List<Store.Result> results =
          upgraded.apply(
              List.of(
                  appended("luke", 3, "yoda", "y-3", "new"),
                  appended("luke", 4, "yoda", "y-1", "seen")));
      assertEquals(List.of(Outcome.STORED, Outcome.DUPLICATE), outcomes(results));
      assertTrue(results.get(0).messageId() > 2, results.toString());
      assertTrue(upgraded.addAccount("hans", "hash-of-hans", T0));
      assertEquals(
          List.of("hans ADDED"),
          upgraded.accountEventsAfter(0, 10).stream()
              .map(event -> event.username() + " " + event.kind())
              .toList());
    }
  }

  @Test
  void shouldMigrateOnceWhenSeveralNodesStartAtOnce() throws Exception {
    for (int version : new int[] {0, 2}) {
      try (TestDatabase shared = released(version)) {
        List<Store> stores = openAtOnce(shared, 4);

        List<String> expected = new ArrayList<>();
        if (version > 0) {
          expected.add(version + " parley_schema_history BASELINE");
        }
        for (int v = version + 1; v <= Migrations.SCRIPTS.size(); v++) {
          expected.add(v + " " + Migrations.SCRIPTS.get(v - 1) + " SQL");
        }
        assertEquals(expected, baseline(stores.get(0).dataSource()), "from version " + version);
        if (version > 0) {
          assertMovedAfter(stores.get(0).dataSource(), version);
        }
      }
    }
  }

  /** Opens {@code count} stores on {@code shared} from as many threads at once, as nodes do. */
  private static List<Store> openAtOnce(TestDatabase shared, int count) throws Exception {
    ExecutorService threads = Executors.newFixedThreadPool(count);
    try {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<Store>> opening = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        opening.add(
            threads.submit(
                () -> {
                  start.await();
                  return shared.open();
                }));
      }
      start.countDown();
      List<Store> stores = new ArrayList<>();
      for (Future<Store> store : opening) {
        stores.add(store.get(60, TimeUnit.SECONDS));
      }
      return stores;
    } finally {
      threads.shutdownNow();
    }
  }

  /**
   * A new database of this test's kind, as a release before Flyway left it at {@code version} (0:
   * empty).
   */
  private TestDatabase released(int version) throws Exception {
    TestDatabase released =
        TestDatabase.create(kind, Files.createDirectories(dir.resolve("released-" + version)));
    if (version > 0) {
      try (HikariDataSource raw = rawDataSource(released.settings())) {
        assertEquals(version, ReleasedMigrations.migrate(raw, version));
      }
    }
    return released;
  }

  /**
   * The old history keeps its rows and gains one past {@code version}: a server of a release before
   * Flyway refuses the database as newer than itself, whichever release it is.
   */
  private static void assertMovedAfter(DataSource dataSource, int version) throws SQLException {
    List<String> expected = new ArrayList<>();
    for (int v = 1; v <= version; v++) {
      expected.add(v + " " + Migrations.SCRIPTS.get(v - 1));
    }
    expected.add((version + 1) + " moved to flyway_schema_history");
    assertEquals(
        expected, rows(dataSource, "SELECT version, script FROM parley_schema_history ORDER BY 1"));
    for (int scripts = version; scripts <= Migrations.SCRIPTS.size(); scripts++) {
      int shipped = scripts;
      SQLException error =
          assertThrows(
              SQLException.class, () -> ReleasedMigrations.migrate(dataSource, shipped, shipped));
      String expectedError =
          shipped == version
              ? "the database schema is at version "
                  + (version + 1)
                  + ", newer than this server ("
                  + version
                  + "): upgrade the server"
              : "migration "
                  + Migrations.SCRIPTS.get(version)
                  + " differs from the one applied to this database (checksum -, this server's "
                  + Migrations.checksum(migrationText(Migrations.SCRIPTS.get(version)))
                  + "): the database was made by another build of Parley";
      assertEquals(expectedError, error.getMessage());
    }
  }

  private static List<String> baseline(DataSource dataSource) throws SQLException {
    return rows(
        dataSource,
        "SELECT version, script, type FROM flyway_schema_history"
            + " WHERE success AND version IS NOT NULL ORDER BY installed_rank");
  }

  private static boolean hasTable(DataSource dataSource, String table) throws SQLException {
    try (Connection c = dataSource.getConnection();
        ResultSet tables = c.getMetaData().getTables(null, c.getSchema(), table, null)) {
      return tables.next();
    }
  }

  private static void execute(DataSource dataSource, String sql) throws SQLException {
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  private static HikariDataSource rawDataSource(StoreSettings settings) {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(settings.jdbcUrl());
    config.setUsername(settings.user());
    config.setPassword(settings.password());
    config.setMaximumPoolSize(1);
    return new HikariDataSource(config);
  }

  private static void insert(Connection c, String sql, Object... parameters) throws SQLException {
    try (PreparedStatement s = c.prepareStatement(sql)) {
      for (int i = 0; i < parameters.length; i++) {
        s.setObject(i + 1, parameters[i]);
      }
      assertEquals(1, s.executeUpdate());
    }
  }

  private static String migrationText(String script) {
    try (InputStream in = Migrations.class.getResourceAsStream("/db/migration/" + script)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  // ---- accounts ----

  @Test
  void shouldAddAccountsAndRefuseATakenUsername() throws SQLException {
    assertTrue(store.addAccount("yoda", "hash-of-yoda", T0));
    assertTrue(store.addAccount("hans", "hash-of-hans", T0));

    assertFalse(store.addAccount("hans", "another-hash", T0));

    assertEquals(List.of("hans", "yoda"), store.usernames());
    assertEquals(Optional.of("hash-of-hans"), store.passwordHash("hans"));
    assertEquals(Optional.empty(), store.passwordHash("bob"));
    // Usernames are case-sensitive.
    assertEquals(Optional.empty(), store.passwordHash("Hans"));
    assertTrue(store.addAccount("Hans", "hash-of-other-hans", T0));
  }

  @Test
  void shouldRemoveAnAccountWithItsBlocksAndMessages() throws SQLException {
    addUsers("hans", "yoda", "luke");
    apply(
        new Change.BlockAdded("luke", "hans"),
        new Change.BlockAdded("hans", "yoda"),
        new Change.BlockAdded("yoda", "luke"),
        appended("luke", 1, "yoda", "m-1", "to luke"),
        appended("yoda", 1, "luke", "m-2", "from luke"));

    assertTrue(store.removeAccount("luke"));
    assertFalse(store.removeAccount("luke"));

    StoreSnapshot snapshot = store.load(T0);
    assertEquals(Set.of("hans", "yoda"), snapshot.usernames());
    // Blocks by and of luke are gone; others stay.
    assertEquals(Map.of("hans", Set.of("yoda")), snapshot.blocks());
    // Messages to luke are gone; a message luke sent stays with its recipient.
    assertEquals(
        Map.of("yoda", List.of(message("yoda", 1, "luke", "m-2", "from luke"))),
        waiting(store, snapshot));
    assertEquals(List.of("yoda 1 luke"), rows("SELECT recipient, seq, sender FROM messages"));
  }

  @Test
  void shouldSetAPasswordHashAndLiftTheLockout() throws SQLException {
    addUsers("hans");
    apply(new Change.LockoutChanged("hans", 3, T0.plusSeconds(60)));
    assertEquals(Map.of("hans", new Lockout(3, T0.plusSeconds(60))), store.load(T0).lockouts());

    assertTrue(store.setPasswordHash("hans", "new-hash"));

    assertEquals(Optional.of("new-hash"), store.passwordHash("hans"));
    assertEquals(Map.of(), store.load(T0).lockouts());
    assertFalse(store.setPasswordHash("bob", "new-hash"));
    assertEquals(List.of("hans"), store.usernames());
  }

  @Test
  void shouldKeepAResumeGrantFromLoginUntilLogoutAndDropItWithANewPassword() throws SQLException {
    addUsers("hans", "yoda", "luke");
    ResumeGrant hans = new ResumeGrant("a1".repeat(32), "SHA256:hans-cert", null);
    ResumeGrant yoda = new ResumeGrant("b2".repeat(32), null, null);
    ResumeGrant luke = new ResumeGrant("c3".repeat(32), null, null);
    apply(
        new Change.LoggedIn("hans", T0, hans),
        new Change.LoggedIn("yoda", T0, yoda),
        new Change.LoggedIn("luke", T0, luke));

    // Open sessions: resumable with no end yet.
    assertEquals(Map.of("hans", hans, "yoda", yoda, "luke", luke), store.load(T0).resumptions());

    // hans's connection dropped: resumable for a while; yoda logged out: nothing left.
    apply(
        new Change.LoggedOut("hans", T0.plusSeconds(5), T0.plusSeconds(605)),
        new Change.LoggedOut("yoda", T0.plusSeconds(5)));
    assertTrue(store.setPasswordHash("luke", "new-hash"));

    assertEquals(
        Map.of("hans", hans.lapsingAt(T0.plusSeconds(605))),
        store.load(T0.plusSeconds(10)).resumptions());
  }

  @Test
  void shouldKeepTheGrantOfASessionTheStopInterruptedOpenForTheNextStart() throws SQLException {
    addUsers("hans");
    ResumeGrant hans = new ResumeGrant("a1".repeat(32), "SHA256:hans-cert", null);
    apply(new Change.LoggedIn("hans", T0, hans));

    apply(new Change.SessionInterrupted("hans", T0.plusSeconds(5)));

    // Still open: the window runs from the next start. The stop dates the logout, not the start.
    StoreSnapshot next = store.load(T0.plusSeconds(60));
    assertEquals(Map.of("hans", hans), next.resumptions());
    assertEquals(Map.of("hans", T0.plusSeconds(5)), next.lastLogouts());
  }

  @Test
  void shouldDropAGrantWrittenAfterThePasswordChangedOnceTheServerHearsOfIt() throws SQLException {
    addUsers("hans");
    assertTrue(store.setPasswordHash("hans", "new-hash"));
    // A login checked against the old password, just before the server heard of the new one.
    apply(new Change.LoggedIn("hans", T0, new ResumeGrant("a1".repeat(32), null, null)));
    assertEquals(1, store.load(T0).resumptions().size());

    apply(new Change.ResumptionRevoked("hans"));
    assertEquals(Map.of(), store.load(T0).resumptions());
  }

  // ---- the journal's writes ----

  @Test
  void shouldApplyEveryKindOfChangeInOneBatch() throws SQLException {
    addUsers(USERS.toArray(String[]::new));
    String vaderHash = store.passwordHash("vader").orElseThrow();

    List<Outcome> outcomes =
        apply(
            new Change.LoggedIn("hans", T0),
            new Change.LoggedIn("vader", T0),
            new Change.BlockAdded("luke", "hans"),
            new Change.LockoutChanged("yoda", 2, null),
            new Change.LockoutChanged("r2d2", 3, T0.plusSeconds(60)),
            new Change.PasswordRehashed("vader", vaderHash, "stronger-hash"),
            appended("luke", 1, "yoda", "m-1", "Do or do not"),
            appended("luke", 2, "yoda", "m-2", "There is no try"),
            new Change.Acknowledged("luke", 1),
            new Change.LoggedOut("vader", T0.plusSeconds(30)));

    assertEquals(
        List.of(
            Outcome.APPLIED,
            Outcome.APPLIED,
            Outcome.APPLIED,
            Outcome.APPLIED,
            Outcome.APPLIED,
            Outcome.APPLIED,
            Outcome.STORED,
            Outcome.STORED,
            Outcome.APPLIED,
            Outcome.APPLIED),
        outcomes);
    StoreSnapshot snapshot = store.load(T0.plusSeconds(100));
    assertEquals(Map.of("luke", Set.of("hans")), snapshot.blocks());
    assertEquals(
        Map.of("yoda", new Lockout(2, null), "r2d2", new Lockout(3, T0.plusSeconds(60))),
        snapshot.lockouts());
    assertEquals(Optional.of("stronger-hash"), store.passwordHash("vader"));
    // hans is still logged in: the load counts him logged out at the load's time.
    assertEquals(
        Map.of("hans", T0.plusSeconds(100), "vader", T0.plusSeconds(30)), snapshot.lastLogouts());
    assertEquals(
        Map.of("luke", List.of(message("luke", 2, "yoda", "m-2", "There is no try"))),
        waiting(store, snapshot));
    assertEquals(2L, snapshot.lastSeqs().get("luke"));
    assertEquals(1L, snapshot.ackedSeqs().get("luke"));
  }

  @Test
  void shouldApplyABatchAllOrNothing() throws SQLException {
    addUsers("hans", "luke");
    String tooLongId = "x".repeat(65);

    assertThrows(
        SQLException.class,
        () ->
            apply(
                new Change.BlockAdded("luke", "hans"),
                appended("luke", 1, "hans", "m-1", "stored?"),
                new Change.LoggedIn("hans", T0),
                appended("luke", 2, "hans", tooLongId, "cannot be stored")));

    StoreSnapshot snapshot = store.load(T0);
    assertEquals(Map.of(), snapshot.blocks());
    assertEquals(Map.of(), snapshot.pending());
    assertEquals(Map.of(), snapshot.lastLogouts());
    assertEquals(0L, snapshot.lastSeqs().get("luke"));
  }

  @Test
  void shouldApplyChangesInTheOrderRecorded() throws SQLException {
    addUsers("hans", "luke", "yoda");

    apply(
        new Change.BlockAdded("luke", "hans"),
        new Change.BlockRemoved("luke", "hans"),
        new Change.BlockRemoved("luke", "yoda"),
        new Change.BlockAdded("luke", "yoda"),
        new Change.LockoutChanged("hans", 1, null),
        new Change.LockoutChanged("hans", 0, null),
        new Change.LockoutChanged("yoda", 0, null),
        new Change.LockoutChanged("yoda", 2, null));

    StoreSnapshot snapshot = store.load(T0);
    assertEquals(Map.of("luke", Set.of("yoda")), snapshot.blocks());
    assertEquals(Map.of("yoda", new Lockout(2, null)), snapshot.lockouts());
  }

  @Test
  void shouldIgnoreABlockThatExistsAlreadyOrNamesNoAccount() throws SQLException {
    addUsers("hans", "luke");

    List<Outcome> outcomes =
        apply(
            new Change.BlockAdded("luke", "hans"),
            new Change.BlockAdded("luke", "hans"),
            new Change.BlockAdded("luke", "bob"),
            new Change.BlockAdded("bob", "luke"),
            new Change.BlockRemoved("hans", "luke"));

    assertEquals(
        List.of(
            Outcome.APPLIED, Outcome.APPLIED, Outcome.APPLIED, Outcome.APPLIED, Outcome.APPLIED),
        outcomes);
    assertEquals(List.of("luke hans"), rows("SELECT blocker, blocked FROM blocks"));
  }

  @Test
  void shouldStoreMessagesAndRecogniseTheSameSendersIdAsADuplicate() throws SQLException {
    addUsers("hans", "yoda", "luke");
    assertEquals(
        List.of(Outcome.STORED, Outcome.STORED),
        apply(
            appended("luke", 1, "hans", "m-1", "Let's rock"),
            appended("luke", 2, "yoda", "m-1", "same id, other sender")));

    List<Outcome> outcomes =
        apply(
            // The same message sent again after a reconnect: a new seq, the same sender and id.
            appended("luke", 3, "hans", "m-1", "Let's rock"),
            appended("luke", 4, "hans", "m-2", "new"),
            // Twice in one batch: the first is stored, the second recognised.
            appended("luke", 5, "hans", "m-3", "twice"),
            appended("luke", 6, "hans", "m-3", "twice"),
            // Without an id there is no protection: both are stored.
            appended("luke", 7, "hans", null, "no id"),
            appended("luke", 8, "hans", null, "no id"));

    assertEquals(
        List.of(
            Outcome.DUPLICATE,
            Outcome.STORED,
            Outcome.STORED,
            Outcome.DUPLICATE,
            Outcome.STORED,
            Outcome.STORED),
        outcomes);
    assertEquals(
        List.of(
            message("luke", 1, "hans", "m-1", "Let's rock"),
            message("luke", 2, "yoda", "m-1", "same id, other sender"),
            message("luke", 4, "hans", "m-2", "new"),
            message("luke", 5, "hans", "m-3", "twice"),
            message("luke", 7, "hans", null, "no id"),
            message("luke", 8, "hans", null, "no id")),
        waiting(store, store.load(T0)).get("luke"));
  }

  @Test
  void shouldReportAMessageToAnAccountThatIsGoneAndKeepTheRestOfTheBatch() throws SQLException {
    addUsers("hans", "luke");

    List<Outcome> outcomes =
        apply(
            appended("luke", 1, "hans", "m-1", "before"),
            appended("bob", 1, "hans", "m-2", "nobody"),
            new Change.BlockAdded("luke", "hans"),
            appended("bob", 2, "hans", null, "nobody, no id"),
            appended("luke", 2, "hans", "m-3", "after"));

    assertEquals(
        List.of(
            Outcome.STORED,
            Outcome.NO_RECIPIENT,
            Outcome.APPLIED,
            Outcome.NO_RECIPIENT,
            Outcome.STORED),
        outcomes);
    StoreSnapshot snapshot = store.load(T0);
    assertEquals(List.of(1L, 2L), pendingSeqs(snapshot, "luke"));
    assertEquals(Map.of("luke", Set.of("hans")), snapshot.blocks());
  }

  @Test
  void shouldOnlyEverRaiseTheSequenceHighWaterMarks() throws SQLException {
    addUsers("hans", "luke");
    apply(
        appended("luke", 3, "hans", "m-3", "three"),
        appended("luke", 2, "hans", "m-2", "two"),
        new Change.Acknowledged("luke", 2),
        new Change.Acknowledged("luke", 1));
    assertEquals(3L, store.load(T0).lastSeqs().get("luke"));
    assertEquals(2L, store.load(T0).ackedSeqs().get("luke"));

    // Neither a lower acknowledgement in a later batch nor a message that was not stored lowers
    // or raises them.
    apply(
        new Change.Acknowledged("luke", 1),
        appended("luke", 9, "hans", "m-3", "duplicate"),
        appended("bob", 9, "hans", "m-4", "no recipient"));

    StoreSnapshot snapshot = store.load(T0);
    assertEquals(Map.of("hans", 0L, "luke", 3L), snapshot.lastSeqs());
    assertEquals(Map.of("hans", 0L, "luke", 2L), snapshot.ackedSeqs());
    assertEquals(List.of(3L), pendingSeqs(snapshot, "luke"));
  }

  // ---- start-up ----

  @Test
  void shouldLoadTheUnacknowledgedTailsInOrderWithEveryField() throws SQLException {
    addUsers("hans", "yoda", "luke");
    apply(
        appended("luke", 1, "hans", "m-1", "one"),
        appended("yoda", 1, "hans", "m-2", "for yoda"),
        appended(new StoredMessage("luke", 2, "yoda", "y-1", "two", T0.plusSeconds(5))),
        appended("luke", 3, "hans", null, "three"),
        new Change.Acknowledged("luke", 1),
        new Change.Acknowledged("yoda", 1));

    StoreSnapshot snapshot = store.load(T0);

    assertEquals(
        Map.of(
            "luke",
            List.of(
                new StoredMessage("luke", 2, "yoda", "y-1", "two", T0.plusSeconds(5)),
                message("luke", 3, "hans", null, "three"))),
        waiting(store, snapshot));
    assertEquals(Map.of("hans", 0L, "yoda", 1L, "luke", 3L), snapshot.lastSeqs());
    assertEquals(Map.of("hans", 0L, "yoda", 1L, "luke", 1L), snapshot.ackedSeqs());
  }

  @Test
  void shouldCountAUserOnlineAtTheCrashAsLoggedOutWhenLoaded() throws SQLException {
    addUsers(USERS.toArray(String[]::new));
    apply(
        // hans was online when the server stopped.
        new Change.LoggedIn("hans", T0),
        // yoda had logged out.
        new Change.LoggedIn("yoda", T0),
        new Change.LoggedOut("yoda", T0.plusSeconds(300)),
        // luke had logged out, then logged in again.
        new Change.LoggedIn("luke", T0),
        new Change.LoggedOut("luke", T0.plusSeconds(60)),
        new Change.LoggedIn("luke", T0.plusSeconds(120)));
    // vader and r2d2 were never online.
    Instant restart = T0.plusSeconds(600);

    StoreSnapshot snapshot = store.load(restart);

    assertEquals(
        Map.of("hans", restart, "yoda", T0.plusSeconds(300), "luke", restart),
        snapshot.lastLogouts());
    // The load wrote it down: a later start does not move it.
    assertEquals(snapshot.lastLogouts(), store.load(restart.plusSeconds(600)).lastLogouts());
  }

  @Test
  void shouldLoadOnlyTheLockoutsThatHoldSomething() throws SQLException {
    addUsers(USERS.toArray(String[]::new));
    apply(
        new Change.LockoutChanged("hans", 2, null),
        new Change.LockoutChanged("yoda", 3, T0.plusSeconds(60)),
        new Change.LockoutChanged("luke", 3, T0.minusSeconds(60)),
        new Change.LockoutChanged("vader", 0, null));

    assertEquals(
        Map.of(
            "hans", new Lockout(2, null),
            "yoda", new Lockout(3, T0.plusSeconds(60)),
            // An expired block is loaded as it is: the login guard clears it.
            "luke", new Lockout(3, T0.minusSeconds(60))),
        store.load(T0).lockouts());
  }

  @Test
  void shouldPurgeOnlyAcknowledgedMessagesOlderThanTheCutoff() throws SQLException {
    addUsers("hans", "yoda", "luke");
    Instant old = T0.minus(Duration.ofDays(10));
    apply(
        appended(new StoredMessage("luke", 1, "hans", "m-1", "old, acknowledged", old)),
        appended(new StoredMessage("luke", 2, "hans", "m-2", "old, acknowledged", old)),
        appended(new StoredMessage("luke", 3, "hans", "m-3", "recent, acknowledged", T0)),
        appended(new StoredMessage("luke", 4, "hans", "m-4", "old, not acknowledged", old)),
        appended(new StoredMessage("yoda", 1, "hans", "m-5", "old, not acknowledged", old)),
        new Change.Acknowledged("luke", 3));

    assertEquals(2, store.purgeAcknowledged(T0.minus(Duration.ofDays(7)), 1000));

    assertEquals(
        List.of("luke 3", "luke 4", "yoda 1"),
        rows("SELECT recipient, seq FROM messages ORDER BY recipient, seq"));
    StoreSnapshot snapshot = store.load(T0);
    assertEquals(List.of(4L), pendingSeqs(snapshot, "luke"));
    // Numbering goes on after the purged messages.
    assertEquals(4L, snapshot.lastSeqs().get("luke"));
    // A purged message's id is forgotten: sent again, it would be stored again.
    assertEquals(List.of(Outcome.STORED), apply(appended("luke", 5, "hans", "m-1", "again")));
    assertEquals(0, store.purgeAcknowledged(T0.minus(Duration.ofDays(7)), 1000));
  }

  @Test
  void shouldKeepInstantsExactWhateverTheServersTimeZone() throws SQLException {
    TimeZone original = TimeZone.getDefault();
    // In New York, 01:30 happens twice on 2030-11-03: at 05:30Z (EDT), then at 06:30Z (EST).
    TimeZone.setDefault(TimeZone.getTimeZone("America/New_York"));
    // H2 keeps the time zone it first saw; new connections take up the new one after this.
    DateTimeUtils.resetCalendar();
    try {
      store.close();
      Store inNewYork = database.open();
      Instant second = Instant.parse("2030-11-03T06:30:00Z");
      inNewYork.addAccount("hans", "hash-of-hans", second);
      inNewYork.apply(
          List.of(
              new Change.LockoutChanged("hans", 3, second),
              new Change.LoggedIn("hans", second.minusSeconds(3600)),
              new Change.LoggedOut("hans", second),
              new Change.MessageAppended(
                  new StoredMessage("hans", 1, "yoda", null, "hi", second))));

      StoreSnapshot snapshot = inNewYork.load(second.plusSeconds(3600));

      assertEquals(new Lockout(3, second), snapshot.lockouts().get("hans"));
      assertEquals(second, snapshot.lastLogouts().get("hans"));
      assertEquals(second, waiting(inNewYork, snapshot).get("hans").get(0).sentAt());
    } finally {
      TimeZone.setDefault(original);
      DateTimeUtils.resetCalendar();
    }
  }

  // ---- changes the database refuses ----

  @Test
  void shouldRefuseAloneATextWithU0000WhereTheDatabaseCannotHoldIt() throws SQLException {
    addUsers("hans", "yoda", "luke");
    String withNul = "before\u0000after";
    IsolatingWriter writer = new IsolatingWriter(store::apply);

    IsolatingWriter.Written written =
        writer.write(
            List.of(
                appended("luke", 1, "hans", "m-1", "one"),
                appended("luke", 2, "yoda", "y-1", withNul),
                new Change.BlockAdded("luke", "hans"),
                appended("luke", 3, "hans", "m-2", "three")));

    assertNull(written.outage());
    // PostgreSQL cannot hold U+0000 in a text (SQLState 22021); H2 can.
    boolean refused = kind == TestDatabase.Kind.POSTGRESQL;
    assertEquals(
        List.of(
            Outcome.STORED,
            refused ? Outcome.REFUSED : Outcome.STORED,
            Outcome.APPLIED,
            Outcome.STORED),
        outcomes(written.results()));
    List<StoredMessage> expected = new ArrayList<>();
    expected.add(message("luke", 1, "hans", "m-1", "one"));
    if (!refused) {
      expected.add(message("luke", 2, "yoda", "y-1", withNul));
    }
    expected.add(message("luke", 3, "hans", "m-2", "three"));
    StoreSnapshot snapshot = store.load(T0);
    assertEquals(Map.of("luke", expected), waiting(store, snapshot));
    assertEquals(Map.of("luke", Set.of("hans")), snapshot.blocks());
  }

  @Test
  void shouldRefuseAloneATextTooLongForItsColumnBesideADuplicate() throws SQLException {
    addUsers("hans", "yoda", "luke");
    apply(appended("luke", 1, "hans", "m-1", "first"));
    IsolatingWriter writer = new IsolatingWriter(store::apply);

    IsolatingWriter.Written written =
        writer.write(
            List.of(
                appended("luke", 2, "hans", "m-1", "first"),
                appended("luke", 3, "yoda", "y-1", "x".repeat(65_537)),
                new Change.LoggedIn("yoda", T0),
                appended("luke", 4, "hans", "m-2", "second")));

    assertNull(written.outage());
    assertEquals(
        List.of(Outcome.DUPLICATE, Outcome.REFUSED, Outcome.APPLIED, Outcome.STORED),
        outcomes(written.results()));
    assertEquals(List.of(1L, 4L), pendingSeqs(store.load(T0), "luke"));
  }

  @Test
  void shouldNotSplitABatchWhenTheDatabaseIsOutOfReach() throws SQLException {
    addUsers("hans", "luke");
    List<Change> batch =
        List.of(appended("luke", 1, "hans", "m-1", "one"), new Change.LoggedIn("hans", T0));
    List<Integer> attempts = new ArrayList<>();
    IsolatingWriter writer =
        new IsolatingWriter(
            changes -> {
              attempts.add(changes.size());
              return store.apply(changes);
            });
    store.close();

    IsolatingWriter.Written written = writer.write(batch);

    assertEquals(List.of(), written.results());
    assertTrue(StoreFailures.isOutage(written.outage()), String.valueOf(written.outage()));
    assertEquals(List.of(2), attempts);
  }

  // ---- mailbox pages and the pending index ----

  @Test
  void shouldReadARecipientsMessagesByIdInSeqOrder() throws SQLException {
    addUsers("hans", "yoda", "luke");
    List<Store.Result> results =
        store.apply(
            List.of(
                appended("luke", 1, "hans", "m-1", "one"),
                appended("yoda", 1, "hans", "m-2", "for yoda"),
                appended("luke", 2, "yoda", "y-1", "two"),
                appended("luke", 3, "hans", null, "three")));
    long[] ids = results.stream().mapToLong(Store.Result::messageId).toArray();
    assertTrue(ids[0] > 0 && ids[1] > ids[0] && ids[2] > ids[1] && ids[3] > ids[2]);

    assertEquals(
        List.of(
            message("luke", 1, "hans", "m-1", "one"), message("luke", 3, "hans", null, "three")),
        store.readMessages("luke", new long[] {ids[3], ids[0]}));
    // Another user's message, or one that is gone, is not read.
    assertEquals(List.of(), store.readMessages("luke", new long[] {ids[1], ids[3] + 1000}));
    assertEquals(List.of(), store.readMessages("luke", new long[0]));
    assertEquals(
        List.of(message("yoda", 1, "hans", "m-2", "for yoda")), store.readMessages("yoda", ids));
  }

  @Test
  void shouldReadMessagesByThePrimaryKeyWithoutScanningTheTable() throws SQLException {
    addUsers("hans", "luke");
    // A mailbox of many messages: a page of it is read by the key, not through the index of
    // (recipient, seq), which would read the whole mailbox to find the page.
    List<Change> mailbox = new ArrayList<>();
    for (int seq = 1; seq <= LARGE_MAILBOX; seq++) {
      mailbox.add(appended("luke", seq, "hans", "m-" + seq, "message " + seq));
    }
    store.apply(mailbox);
    String plan;
    try (Connection c = store.dataSource().getConnection()) {
      if (kind == TestDatabase.Kind.POSTGRESQL) {
        try (Statement s = c.createStatement()) {
          s.execute("ANALYZE messages");
          // On a table this small a scan is cheapest; the question is whether the key can be used.
          s.execute("SET enable_seqscan = off");
        }
      }
      try (PreparedStatement s = c.prepareStatement("EXPLAIN " + Store.READ_MESSAGES)) {
        s.setArray(1, c.createArrayOf("BIGINT", new Long[] {1L, 2L}));
        s.setString(2, "luke");
        StringBuilder text = new StringBuilder();
        try (ResultSet rows = s.executeQuery()) {
          while (rows.next()) {
            text.append(rows.getString(1)).append('\n');
          }
        }
        plan = text.toString();
      }
    }

    assertTrue(
        plan.contains(kind == TestDatabase.Kind.POSTGRESQL ? "messages_pkey" : "PRIMARY_KEY"),
        plan);
  }

  @Test
  void shouldIndexEachUsersWaitingMessagesWithIdsAndEncodedSizes() throws SQLException {
    addUsers("hans", "yoda", "luke");
    List<Store.Result> results =
        store.apply(
            List.of(
                appended("luke", 1, "hans", "m-1", "acknowledged"),
                appended("luke", 2, "hans", "m-2", "say \"hi\""),
                appended("yoda", 1, "hans", "m-3", "\ud83d\ude00"),
                appended("luke", 3, "hans", "m-4", "tab\there"),
                new Change.Acknowledged("luke", 1)));

    StoreSnapshot snapshot = store.load(T0);

    // Sizes as the wire encodes the texts: 4 + 2 + 2 + 2, one emoji, 3 + 2 + 4.
    StoreSnapshot.PendingMessages luke =
        new StoreSnapshot.PendingMessages(
            new long[] {2, 3},
            new long[] {results.get(1).messageId(), results.get(3).messageId()},
            new int[] {10, 9});
    StoreSnapshot.PendingMessages yoda =
        new StoreSnapshot.PendingMessages(
            new long[] {1}, new long[] {results.get(2).messageId()}, new int[] {4});
    assertEquals(Map.of("luke", luke, "yoda", yoda), snapshot.pending());
    assertEquals(2, snapshot.pending().get("luke").count());
    assertEquals(19, snapshot.pending().get("luke").totalBytes());
    assertEquals(3L, snapshot.pending().get("luke").seq(1));
  }

  // ---- account events ----

  @Test
  void shouldRecordEachAccountChangeAsAnEventInTheSameTransaction() throws SQLException {
    assertEquals(0, store.lastAccountEventId());
    assertEquals(List.of(), store.accountEventsAfter(0, 10));

    assertTrue(store.addAccount("hans", "hash-of-hans", T0));
    assertTrue(store.addAccount("yoda", "hash-of-yoda", T0));
    assertTrue(store.setPasswordHash("hans", "new-hash"));
    assertTrue(store.removeAccount("yoda"));
    // What did not happen leaves no event.
    assertFalse(store.addAccount("hans", "other", T0));
    assertFalse(store.setPasswordHash("bob", "hash"));
    assertFalse(store.removeAccount("bob"));

    List<AccountEvent> events = store.accountEventsAfter(0, 10);
    assertEquals(
        List.of("hans ADDED", "yoda ADDED", "hans PASSWORD", "yoda REMOVED"),
        events.stream().map(event -> event.username() + " " + event.kind()).toList());
    for (int i = 1; i < events.size(); i++) {
      assertTrue(events.get(i).id() > events.get(i - 1).id(), events.toString());
    }
    assertEquals(events.get(3).id(), store.lastAccountEventId());
    // A poller goes on from the last id it saw, a page at a time.
    assertEquals(events.subList(1, 3), store.accountEventsAfter(events.get(0).id(), 2));
    assertEquals(List.of(), store.accountEventsAfter(events.get(3).id(), 10));
    assertEquals(
        List.of("kind added", "kind password"),
        rows("SELECT 'kind ' || kind FROM account_events WHERE username = 'hans' ORDER BY id"));
  }

  @Test
  void shouldForgetAccountEventsOlderThanTheRetentionWhenPurging() throws SQLException {
    Instant now = Instant.now();
    assertTrue(store.addAccount("old", "hash", now.minus(Duration.ofDays(10))));
    assertTrue(store.addAccount("new", "hash", now));

    store.purgeAcknowledged(now.minus(Duration.ofDays(7)), 1000);

    assertEquals(
        List.of("new"),
        store.accountEventsAfter(0, 10).stream().map(AccountEvent::username).toList());
  }

  // ---- the chunked purge ----

  @Test
  void shouldPurgeChunkByChunkLookingAtMostMaxRowsEach() throws SQLException {
    addUsers("hans", "yoda", "luke");
    Instant old = T0.minus(Duration.ofDays(10));
    Instant cutoff = T0.minus(Duration.ofDays(7));
    apply(
        appended(new StoredMessage("luke", 1, "hans", "m-1", "a", old)),
        appended(new StoredMessage("yoda", 1, "hans", "m-2", "not acknowledged", old)),
        appended(new StoredMessage("luke", 2, "hans", "m-3", "b", old)),
        appended(new StoredMessage("luke", 3, "hans", "m-4", "c", old)),
        appended(new StoredMessage("yoda", 2, "hans", "m-5", "not acknowledged", old)),
        appended(new StoredMessage("luke", 4, "hans", "m-6", "d", old)),
        appended(new StoredMessage("luke", 5, "hans", "m-7", "newest, acknowledged", old)),
        new Change.Acknowledged("luke", 5));
    // A message whose recipient's account is gone (it was removed while the message was written).
    execute(
        "INSERT INTO messages (id, recipient, seq, sender, client_id, body, sent_at)"
            + " VALUES (100, 'bob', 1, 'hans', 'm-8', 'orphan', TIMESTAMP WITH TIME ZONE"
            + " '2030-04-20 12:00:00+00')");

    Store.PurgeChunk first = store.purgeAcknowledged(cutoff, 0, 3);
    Store.PurgeChunk second = store.purgeAcknowledged(cutoff, first.lastId(), 3);
    Store.PurgeChunk third = store.purgeAcknowledged(cutoff, second.lastId(), 3);

    // [luke 1, yoda 1, luke 2], [luke 3, yoda 2, luke 4], [luke 5, bob 1].
    assertEquals(new Store.PurgeChunk(2, 3, false), first);
    assertEquals(new Store.PurgeChunk(2, 6, false), second);
    assertEquals(new Store.PurgeChunk(1, 100, true), third);
    // luke's newest stays: its seq is where his numbering goes on.
    assertEquals(
        List.of("luke 5", "yoda 1", "yoda 2"),
        rows("SELECT recipient, seq FROM messages ORDER BY recipient, seq"));
    assertEquals(5L, store.load(T0).lastSeqs().get("luke"));
  }

  @Test
  void shouldEndThePurgeAtOnceWhenTheOldestMessageIsRecent() throws SQLException {
    addUsers("hans", "luke");
    apply(
        appended(new StoredMessage("luke", 1, "hans", "m-1", "recent", T0)),
        new Change.Acknowledged("luke", 1));

    assertEquals(
        new Store.PurgeChunk(0, 0, true),
        store.purgeAcknowledged(T0.minus(Duration.ofDays(7)), 0, 1000));
    assertEquals(0, store.purgeAcknowledged(T0.minus(Duration.ofDays(7)), 1000));
  }

  // ---- connection pools ----

  @Test
  void shouldReadWhileEveryWriteConnectionIsTakenAndWriteWhileEveryReadOneIs() throws SQLException {
    Store small =
        database.open(
            database.settings("write-pool-size = 1\nread-pool-size = 1\nconnect-timeout = 250ms"));
    assertTrue(small.addAccount("hans", "hash-of-hans", T0));

    try (Connection taken = small.dataSource().getConnection()) {
      assertEquals(Optional.of("hash-of-hans"), small.passwordHash("hans"));
      assertEquals(List.of("hans"), small.usernames());
      assertEquals(1, small.accountEventsAfter(0, 10).size());
      assertEquals(List.of(), small.readMessages("hans", new long[] {1}));
      assertTrue(small.loadUser("hans", T0).exists());
      // The writes do wait for it, and not getting a connection counts as an outage.
      SQLException timedOut =
          assertThrows(
              SQLException.class, () -> small.apply(List.of(new Change.LoggedIn("hans", T0))));
      assertTrue(StoreFailures.isOutage(timedOut), StoreFailures.describe(timedOut));
    }
    try (Connection taken = small.readDataSource().getConnection()) {
      assertEquals(
          List.of(Store.Result.of(Outcome.APPLIED)),
          small.apply(List.of(new Change.LoggedIn("hans", T0))));
      assertThrows(SQLException.class, () -> small.passwordHash("hans"));
    }
  }

  // ---- one user's state ----

  @Test
  void shouldLoadEachUsersStateAsTheLoadOfEveryoneHasIt() throws SQLException {
    addUsers("hans", "yoda", "luke", "vader", "r2d2", "leia");
    ResumeGrant vaderGrant = new ResumeGrant("d4".repeat(32), "SHA256:vader-cert", null);
    ResumeGrant lukeGrant = new ResumeGrant("e5".repeat(32), null, null);
    apply(
        // Blocks both ways between luke and hans, and one more against luke.
        new Change.BlockAdded("luke", "hans"),
        new Change.BlockAdded("hans", "luke"),
        new Change.BlockAdded("yoda", "luke"),
        new Change.LockoutChanged("yoda", 2, null),
        new Change.LockoutChanged("r2d2", 3, T0.plusSeconds(60)),
        appended("luke", 1, "yoda", "m-1", "acknowledged"),
        appended("luke", 2, "yoda", "m-2", "waiting"),
        appended("luke", 3, "hans", "h-1", "waiting too"),
        new Change.Acknowledged("luke", 1),
        appended("hans", 1, "yoda", "m-3", "all read"),
        new Change.Acknowledged("hans", 1),
        appended("yoda", 1, "luke", "l-1", "nothing read"),
        // hans's session is still open; vader's ended resumable, luke's is open with a grant.
        new Change.LoggedIn("hans", T0),
        new Change.LoggedIn("vader", T0, vaderGrant),
        new Change.LoggedOut("vader", T0.plusSeconds(30), T0.plusSeconds(630)),
        new Change.LoggedIn("luke", T0.plusSeconds(5), lukeGrant));
    Instant now = T0.plusSeconds(100);

    StoreSnapshot snapshot = store.load(now);

    for (String user : List.of("hans", "yoda", "luke", "vader", "r2d2", "leia", "nobody")) {
      assertEquals(UserSnapshot.of(snapshot, user), store.loadUser(user, now), user);
    }
    // The projection holds what was written, so the comparison above compares something.
    UserSnapshot luke = store.loadUser("luke", now);
    assertEquals(Set.of("hans"), luke.blocks());
    assertEquals(List.of(2L, 3L), Arrays.stream(luke.pending().seqs()).boxed().toList());
    assertEquals(3L, luke.lastSeq());
    assertEquals(1L, luke.ackedSeq());
    assertEquals(lukeGrant, luke.resumption());
    assertEquals(now, luke.lastLogout());
    UserSnapshot hans = store.loadUser("hans", now);
    assertEquals(1L, hans.lastSeq());
    assertEquals(0, hans.pending().count());
    assertEquals(new Lockout(3, T0.plusSeconds(60)), store.loadUser("r2d2", now).lockout());
    assertEquals(
        vaderGrant.lapsingAt(T0.plusSeconds(630)), store.loadUser("vader", now).resumption());
    assertEquals(
        new UserSnapshot(
            "leia", true, Set.of(), null, false, null, 0, 0, UserSnapshot.nonePending(), null),
        store.loadUser("leia", now));
    assertEquals(UserSnapshot.absent("nobody"), store.loadUser("nobody", now));
    assertFalse(store.loadUser("nobody", now).exists());
  }

  @Test
  void shouldCountAnOpenSessionAsLoggedOutWhenLoadingAUserWithoutWritingIt() throws SQLException {
    addUsers("hans", "luke");
    apply(
        new Change.LoggedIn("hans", T0),
        new Change.LoggedIn("luke", T0),
        new Change.LoggedOut("luke", T0.plusSeconds(5)));

    UserSnapshot hans = store.loadUser("hans", T0.plusSeconds(10));
    UserSnapshot luke = store.loadUser("luke", T0.plusSeconds(10));

    assertTrue(hans.sessionOpen());
    assertEquals(T0.plusSeconds(10), hans.lastLogout());
    assertFalse(luke.sessionOpen());
    assertEquals(T0.plusSeconds(5), luke.lastLogout());
    // Nothing was written: the next loads still find the session open, and count it at their time.
    assertEquals(T0.plusSeconds(20), store.loadUser("hans", T0.plusSeconds(20)).lastLogout());
    assertEquals(T0.plusSeconds(30), store.load(T0.plusSeconds(30)).lastLogouts().get("hans"));
    assertFalse(store.loadUser("hans", T0.plusSeconds(40)).sessionOpen());
  }

  // ---- several servers on one database ----

  @Test
  void shouldGiveTheMessagesOfTwoServersOnOneDatabaseIdsOfTheirOwn() throws SQLException {
    addUsers("hans", "yoda", "luke");
    Store other = database.open();
    List<Long> ids = new ArrayList<>();
    // More than a block each, interleaved, as two nodes of a cluster write.
    for (int seq = 1; seq <= MessageIds.BLOCK + 10; seq++) {
      ids.add(
          store.apply(List.of(appended("luke", seq, "hans", "h-" + seq, "x"))).get(0).messageId());
      ids.add(
          other.apply(List.of(appended("yoda", seq, "hans", "o-" + seq, "y"))).get(0).messageId());
    }

    assertEquals(ids.size(), new HashSet<>(ids).size(), "every id once");
    assertEquals(MessageIds.BLOCK + 10, waiting(store, store.load(T0)).get("luke").size());
    assertEquals(MessageIds.BLOCK + 10, waiting(store, store.load(T0)).get("yoda").size());
  }

  // ---- restart ----

  @Test
  void shouldFindEverythingAgainAfterARestart() throws SQLException {
    addUsers(USERS.toArray(String[]::new));
    apply(
        new Change.LoggedIn("r2d2", T0),
        new Change.LoggedOut("r2d2", T0.plusSeconds(300)),
        new Change.LoggedIn("hans", T0.plusSeconds(10)),
        new Change.BlockAdded("luke", "hans"),
        new Change.BlockAdded("luke", "vader"),
        new Change.BlockAdded("yoda", "vader"),
        new Change.LockoutChanged("vader", 3, T0.plusSeconds(660)),
        appended("luke", 1, "yoda", "m-1", "shown"),
        appended("luke", 2, "yoda", "m-2", "not shown yet"),
        appended("luke", 3, "hans", "m-3", "nor this"),
        appended("yoda", 1, "hans", null, "kept for yoda"),
        new Change.Acknowledged("luke", 1));
    store.close();

    Store restarted = database.open();
    Instant restartTime = T0.plusSeconds(600);
    StoreSnapshot snapshot = restarted.load(restartTime);

    assertEquals(Set.copyOf(USERS), snapshot.usernames());
    assertTrue(restarted.passwordHash("hans").isPresent());
    assertEquals(
        Map.of("luke", Set.of("hans", "vader"), "yoda", Set.of("vader")), snapshot.blocks());
    assertEquals(Map.of("r2d2", T0.plusSeconds(300), "hans", restartTime), snapshot.lastLogouts());
    assertEquals(Map.of("vader", new Lockout(3, T0.plusSeconds(660))), snapshot.lockouts());
    assertEquals(
        Map.of(
            "luke",
            List.of(
                message("luke", 2, "yoda", "m-2", "not shown yet"),
                message("luke", 3, "hans", "m-3", "nor this")),
            "yoda",
            List.of(message("yoda", 1, "hans", null, "kept for yoda"))),
        waiting(restarted, snapshot));
    assertEquals(3L, snapshot.lastSeqs().get("luke"));
    assertEquals(1L, snapshot.ackedSeqs().get("luke"));
    // A resend of a message stored before the restart is still recognised.
    assertEquals(
        List.of(Outcome.DUPLICATE),
        outcomes(restarted.apply(List.of(appended("luke", 4, "yoda", "m-2", "not shown yet")))));
  }

  // ---- helpers ----

  private void addUsers(String... names) throws SQLException {
    for (String name : names) {
      assertTrue(store.addAccount(name, "hash-of-" + name, T0));
    }
  }

  private List<Outcome> apply(Change... changes) throws SQLException {
    return outcomes(store.apply(List.of(changes)));
  }

  private static List<Outcome> outcomes(List<Store.Result> results) {
    return results.stream().map(Store.Result::outcome).toList();
  }

  /** Every user's waiting messages with their texts, read by their ids as the server reads them. */
  private static Map<String, List<StoredMessage>> waiting(Store from, StoreSnapshot snapshot)
      throws SQLException {
    Map<String, List<StoredMessage>> messages = new HashMap<>();
    for (Map.Entry<String, StoreSnapshot.PendingMessages> user : snapshot.pending().entrySet()) {
      messages.put(user.getKey(), from.readMessages(user.getKey(), user.getValue().ids()));
    }
    return messages;
  }

  private static List<Long> pendingSeqs(StoreSnapshot snapshot, String user) {
    return Arrays.stream(snapshot.pending().get(user).seqs()).boxed().toList();
  }

  private static StoredMessage message(
      String recipient, long seq, String sender, String clientId, String text) {
    return new StoredMessage(recipient, seq, sender, clientId, text, T0);
  }

  private static Change appended(
      String recipient, long seq, String sender, String clientId, String text) {
    return new Change.MessageAppended(message(recipient, seq, sender, clientId, text));
  }

  private static Change appended(StoredMessage message) {
    return new Change.MessageAppended(message);
  }

  private static List<Long> seqs(List<StoredMessage> messages) {
    return messages.stream().map(StoredMessage::seq).toList();
  }

  private void execute(String sql) throws SQLException {
    try (Connection c = store.dataSource().getConnection();
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  /** Each row of {@code sql}, its columns joined by single spaces. */
  private List<String> rows(String sql) throws SQLException {
    return rows(store.dataSource(), sql);
  }

  private static List<String> rows(DataSource dataSource, String sql) throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement s = c.prepareStatement(sql);
        ResultSet rows = s.executeQuery()) {
      List<String> result = new ArrayList<>();
      int columns = rows.getMetaData().getColumnCount();
      while (rows.next()) {
        List<String> values = new ArrayList<>();
        for (int i = 1; i <= columns; i++) {
          values.add(rows.getString(i));
        }
        result.add(String.join(" ", values));
      }
      return result;
    }
  }
}
