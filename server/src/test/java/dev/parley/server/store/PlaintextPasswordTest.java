package dev.parley.server.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.Done;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.DispatcherSelector;
import dev.parley.server.CommandLine;
import dev.parley.server.ServerSettings;
import dev.parley.server.admin.AccountImport;
import dev.parley.server.admin.UserAdmin;
import dev.parley.server.login.Credentials;
import dev.parley.server.login.CredentialsFile;
import dev.parley.server.login.LoginGuard;
import dev.parley.server.login.LoginGuard.PasswordVerdict;
import dev.parley.server.login.PasswordHasher;
import dev.parley.server.testing.CapturedLog;
import dev.parley.server.testing.LogCapturingExtension;
import dev.parley.server.testing.TestDatabase;
import dev.parley.server.testing.TestKits;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * No plaintext password is stored or logged anywhere: the demo accounts are imported, accounts are
 * added and changed with the admin commands, and every user logs in (wrongly, then rightly, with a
 * rehash of the older hashes) through the real login guard, credentials and journal; then every
 * table of the database (and, for H2, its files) and every log line are searched for each password
 * that was typed. On H2 and on PostgreSQL.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(TestDatabase.Kind.class)
@ExtendWith(LogCapturingExtension.class)
class PlaintextPasswordTest {

  /** Where the tests' logins come from: exempt from nothing, since the limits are off. */
  private static final InetAddress CLIENT = InetAddress.getLoopbackAddress();

  private static final ActorTestKit testKit = TestKits.create();

  /** Weaker than the login guard's, so that every login rehashes. */
  private static final int IMPORT_ITERATIONS = 500;

  private static final int ITERATIONS = 1_000;

  @Parameter TestDatabase.Kind kind;

  @TempDir Path dir;

  private TestDatabase database;
  private CapturedLog logs;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void captureLogs() throws SQLException {
    database = TestDatabase.create(kind, dir);
    logs = CapturedLog.start();
  }

  @AfterEach
  void stopCapturing() throws SQLException {
    if (logs != null) {
      logs.close();
    }
    if (database != null) {
      database.close();
    }
  }

  @Test
  void shouldNeverStoreOrLogAPasswordInClear() throws Exception {
    Store store = database.open();
    CredentialsFile.Loaded demo = CredentialsFile.readDemo();
    Map<String, String> passwords = new LinkedHashMap<>(demo.passwords());
    AccountImport.run(
        store, demo, new PasswordHasher(IMPORT_ITERATIONS), Clock.systemUTC().instant());
    // An account added, and a password changed, with the admin commands.
    passwords.put("leia", "leia-0rgana!");
    passwords.put("luke", "new-luke-pass#");
    assertEquals(
        0, userAdmin(store, "leia-0rgana!").run(command(CommandLine.AdminAction.ADD, "leia")));
    assertEquals(
        0, userAdmin(store, "new-luke-pass#").run(command(CommandLine.AdminAction.PASSWD, "luke")));

    ActorRef<Journal.Command> journal =
        testKit.spawn(
            Journal.create(
                store,
                executor(ServerSettings.STORE_DISPATCHER),
                database.settings(),
                Clock.systemUTC()));
    ActorRef<LoginGuard.Command> guard =
        testKit.spawn(
            LoginGuard.create(
                new Credentials(
                    store,
                    executor(ServerSettings.STORE_DISPATCHER),
                    new PasswordHasher(ITERATIONS),
                    executor(ServerSettings.STORE_DISPATCHER)),
                journal,
                new LoginGuard.Settings(3, Duration.ofSeconds(60), null),
                Map.of(),
                Clock.systemUTC()));
    TestProbe<PasswordVerdict> verdicts = testKit.createTestProbe();
    List<String> typed = new ArrayList<>(passwords.values());
    for (Map.Entry<String, String> account : passwords.entrySet()) {
      String wrong = "wrong-for-" + account.getKey() + "!";
      typed.add(wrong);
      guard.tell(new LoginGuard.Authenticate(account.getKey(), wrong, CLIENT, verdicts.ref()));
      verdicts.expectMessage(PasswordVerdict.INVALID_PASSWORD);
      guard.tell(
          new LoginGuard.Authenticate(
              account.getKey(), account.getValue(), CLIENT, verdicts.ref()));
      verdicts.expectMessage(PasswordVerdict.AUTHENTICATED);
    }
    // vader is locked out on the way.
    for (int attempt = 1; attempt <= 3; attempt++) {
      guard.tell(
          new LoginGuard.Authenticate("vader", passwords.get("leia"), CLIENT, verdicts.ref()));
      verdicts.expectMessage(
          attempt < 3 ? PasswordVerdict.INVALID_PASSWORD : PasswordVerdict.BLOCKED_NOW);
    }
    TestProbe<Done> flushed = testKit.createTestProbe();
    journal.tell(new Journal.Flush(flushed.ref()));
    flushed.expectMessage(Done.getInstance());
    testKit.stop(guard);
    testKit.stop(journal);

    String tables = dumpTables(store);
    String contents = tables + (kind == TestDatabase.Kind.H2 ? h2Script(store) : "");
    store.close();
    String files = kind == TestDatabase.Kind.H2 ? h2Files() : "";
    String logLines = logs.text();

    // The search would find them: the accounts, their (rehashed) hashes and the logins are there.
    for (String user : passwords.keySet()) {
      assertTrue(tables.contains(user), user);
      assertTrue(logLines.contains("login failed user=" + user), user);
    }
    assertTrue(tables.contains("pbkdf2-sha256$" + ITERATIONS + "$"), tables);
    assertFalse(tables.contains("pbkdf2-sha256$" + IMPORT_ITERATIONS + "$"), tables);
    // The files are searchable too (not compressed): the usernames are seen in them.
    assertTrue(kind != TestDatabase.Kind.H2 || files.contains("vader"));
    for (String password : typed) {
      assertFalse(contents.contains(password), "in the database: " + password);
      assertFalse(files.contains(password), "in the database's files: " + password);
      assertFalse(logLines.contains(password), "in the logs: " + password);
    }
  }

  // ---- helpers ----

  private static UserAdmin userAdmin(Store store, String password) {
    PrintStream quiet = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
    return new UserAdmin(
        store, new PasswordHasher(IMPORT_ITERATIONS), user -> password, quiet, quiet);
  }

  private static CommandLine.Admin command(CommandLine.AdminAction action, String user) {
    return new CommandLine.Admin(action, Optional.of(user));
  }

  private static Executor executor(String dispatcher) {
    return testKit.system().dispatchers().lookup(DispatcherSelector.fromConfig(dispatcher));
  }

  /** Every row of every table of the store's schema, as text. */
  private static String dumpTables(Store store) throws SQLException {
    StringBuilder dump = new StringBuilder();
    try (Connection c = store.dataSource().getConnection()) {
      List<String> tables = new ArrayList<>();
      try (PreparedStatement s =
          c.prepareStatement(
              "SELECT table_name FROM information_schema.tables"
                  + " WHERE table_schema = ? AND table_type = 'BASE TABLE'")) {
        s.setString(1, c.getSchema());
        try (ResultSet rows = s.executeQuery()) {
          while (rows.next()) {
            tables.add(rows.getString(1));
          }
        }
      }
      assertTrue(
          tables.containsAll(List.of("accounts", "blocks", "messages", "flyway_schema_history")),
          tables.toString());
      for (String table : tables) {
        dump.append("== ").append(table).append('\n');
        try (Statement s = c.createStatement();
            ResultSet rows = s.executeQuery("SELECT * FROM " + table)) {
          int columns = rows.getMetaData().getColumnCount();
          while (rows.next()) {
            for (int i = 1; i <= columns; i++) {
              dump.append(rows.getString(i)).append(' ');
            }
            dump.append('\n');
          }
        }
      }
    }
    return dump.toString();
  }

  /** H2's own dump of the whole database, as SQL. */
  private static String h2Script(Store store) throws SQLException {
    StringBuilder script = new StringBuilder();
    try (Connection c = store.dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet rows = s.executeQuery("SCRIPT")) {
      while (rows.next()) {
        script.append(rows.getString(1)).append('\n');
      }
    }
    return script.toString();
  }

  /** The bytes of every file in the H2 data directory, one char per byte. */
  private String h2Files() throws IOException {
    StringBuilder bytes = new StringBuilder();
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path file : files.filter(Files::isRegularFile).toList()) {
        bytes.append(new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1));
      }
    }
    return bytes.toString();
  }
}
