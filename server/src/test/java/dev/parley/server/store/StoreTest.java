package dev.parley.server.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.server.store.Store.Outcome;
import dev.parley.server.store.StoreSnapshot.Lockout;
import dev.parley.server.testing.LogCapturingExtension;
import dev.parley.server.testing.TestDatabase;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TimeZone;
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
  private static final List<String> USERS = List.of("hans", "yoda", "luke", "vader", "r2d2");

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
    assertEquals(
        List.of("1 V1__initial_schema.sql", "2 V2__client_id_index_by_id_first.sql"),
        rows("SELECT version, script FROM parley_schema_history ORDER BY version"));
    assertEquals(List.of(), rows("SELECT * FROM accounts"));
    assertEquals(List.of(), rows("SELECT * FROM blocks"));
    assertEquals(List.of(), rows("SELECT * FROM messages"));
    assertEquals(StoreSnapshot.empty(), store.load(T0));
  }

  @Test
  void shouldNotMigrateAgainWhenReopenedAndKeepTheData() throws SQLException {
    addUsers("hans");

    Store again = database.open();

    assertEquals(0, Migrations.migrate(again.dataSource()));
    assertEquals(
        List.of("1 V1__initial_schema.sql", "2 V2__client_id_index_by_id_first.sql"),
        rows("SELECT version, script FROM parley_schema_history ORDER BY version"));
    assertEquals(List.of("hans"), again.usernames());
  }

  @Test
  void shouldRefuseADatabaseWhoseSchemaIsNewerThanTheServer() throws SQLException {
    execute(
        "INSERT INTO parley_schema_history (version, script, checksum, applied_at)"
            + " VALUES (3, 'V3__from_the_future.sql', 'unknown', CURRENT_TIMESTAMP)");
    store.close();

    SQLException error = assertThrows(SQLException.class, () -> database.open());

    assertEquals(
        "the database schema is at version 3, newer than this server (2): upgrade the server",
        error.getMessage());
  }

  @Test
  void shouldRecordTheChecksumOfEachMigration() throws SQLException {
    assertEquals(
        List.of(
            "1 " + Migrations.checksum(migrationText("V1__initial_schema.sql")),
            "2 " + Migrations.checksum(migrationText("V2__client_id_index_by_id_first.sql"))),
        rows("SELECT version, checksum FROM parley_schema_history ORDER BY version"));
  }

  @Test
  void shouldRefuseADatabaseWhoseAppliedMigrationDiffersFromTheServers() throws SQLException {
    execute("UPDATE parley_schema_history SET checksum = 'edited' WHERE version = 1");
    store.close();

    SQLException error = assertThrows(SQLException.class, () -> database.open());

    assertEquals(
        "migration V1__initial_schema.sql differs from the one applied to this database"
            + " (checksum edited, this server's "
            + Migrations.checksum(migrationText("V1__initial_schema.sql"))
            + "): the database was made by another build of Parley",
        error.getMessage());
  }

  @Test
  void shouldRefuseASchemaHistoryWithoutChecksums() throws SQLException {
    execute("ALTER TABLE parley_schema_history DROP COLUMN checksum");
    store.close();

    SQLException error = assertThrows(SQLException.class, () -> database.open());

    assertEquals(
        "the schema history has no checksums: the database was made by a pre-release build"
            + " of Parley; start on an empty database",
        error.getMessage());
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
        snapshot.unacknowledged());
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
        snapshot.unacknowledged());
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
    assertEquals(Map.of(), snapshot.unacknowledged());
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
        store.load(T0).unacknowledged().get("luke"));
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
    assertEquals(List.of(1L, 2L), seqs(snapshot.unacknowledged().get("luke")));
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
    assertEquals(List.of(3L), seqs(snapshot.unacknowledged().get("luke")));
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
        snapshot.unacknowledged());
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

    assertEquals(2, store.purgeAcknowledged(T0.minus(Duration.ofDays(7))));

    assertEquals(
        List.of("luke 3", "luke 4", "yoda 1"),
        rows("SELECT recipient, seq FROM messages ORDER BY recipient, seq"));
    StoreSnapshot snapshot = store.load(T0);
    assertEquals(List.of(4L), seqs(snapshot.unacknowledged().get("luke")));
    // Numbering goes on after the purged messages.
    assertEquals(4L, snapshot.lastSeqs().get("luke"));
    // A purged message's id is forgotten: sent again, it would be stored again.
    assertEquals(List.of(Outcome.STORED), apply(appended("luke", 5, "hans", "m-1", "again")));
    assertEquals(0, store.purgeAcknowledged(T0.minus(Duration.ofDays(7))));
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
      assertEquals(second, snapshot.unacknowledged().get("hans").get(0).sentAt());
    } finally {
      TimeZone.setDefault(original);
      DateTimeUtils.resetCalendar();
    }
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
        snapshot.unacknowledged());
    assertEquals(3L, snapshot.lastSeqs().get("luke"));
    assertEquals(1L, snapshot.ackedSeqs().get("luke"));
    // A resend of a message stored before the restart is still recognised.
    assertEquals(
        List.of(Outcome.DUPLICATE),
        restarted.apply(List.of(appended("luke", 4, "yoda", "m-2", "not shown yet"))));
  }

  // ---- helpers ----

  private void addUsers(String... names) throws SQLException {
    for (String name : names) {
      assertTrue(store.addAccount(name, "hash-of-" + name, T0));
    }
  }

  private List<Outcome> apply(Change... changes) throws SQLException {
    return store.apply(List.of(changes));
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
    try (Connection c = store.dataSource().getConnection();
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
