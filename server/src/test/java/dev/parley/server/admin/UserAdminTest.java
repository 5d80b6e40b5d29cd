package dev.parley.server.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.parley.server.CommandLine;
import dev.parley.server.login.PasswordHasher;
import dev.parley.server.store.Change;
import dev.parley.server.store.Store;
import dev.parley.server.store.StoreSnapshot;
import dev.parley.server.store.StoredMessage;
import dev.parley.server.testing.LogCapturingExtension;
import dev.parley.server.testing.TestDatabase;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The account commands against a real store (the embedded H2 database), with passwords from a
 * script instead of a terminal.
 */
@ExtendWith(LogCapturingExtension.class)
class UserAdminTest {

  private static final Instant T0 = Instant.parse("2030-05-04T12:00:00Z");
  private static final int REFUSED = UserAdmin.EXIT_REFUSED;

  @TempDir Path dir;

  private final PasswordHasher hasher = new PasswordHasher(1_000);
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  /** The passwords the script will give, in order (null: none given). */
  private final Deque<Optional<String>> script = new ArrayDeque<>();

  /** The users a password was asked for. */
  private final List<String> asked = new ArrayList<>();

  private TestDatabase database;
  private Store store;
  private UserAdmin admin;

  @BeforeEach
  void openStore() throws SQLException {
    database = TestDatabase.h2(dir);
    store = database.open();
    store.addAccount("hans", hasher.hash("falcon*solo"), T0);
    store.addAccount("luke", hasher.hash("r2d2&c3p0"), T0);
    UserAdmin.PasswordSource passwords =
        username -> {
          asked.add(username);
          return script.removeFirst().orElse(null);
        };
    admin =
        new UserAdmin(
            store,
            hasher,
            passwords,
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  @AfterEach
  void closeStore() throws SQLException {
    database.close();
  }

  // ---- add ----

  @Test
  void shouldAddAnAccountWithAHashOfTheGivenPassword() throws Exception {
    script.add(Optional.of("rebel-scum"));

    assertEquals(0, run(CommandLine.AdminAction.ADD, "leia"));

    assertEquals("added leia\n", out());
    assertEquals("", err());
    assertEquals(List.of("leia"), asked);
    assertEquals(List.of("hans", "leia", "luke"), store.usernames());
    assertHashOf("leia", "rebel-scum");
  }

  @Test
  void shouldRefuseToAddAnAccountThatExistsWithoutAskingForAPassword() throws Exception {
    String hash = store.passwordHash("hans").orElseThrow();

    assertEquals(REFUSED, run(CommandLine.AdminAction.ADD, "hans"));

    assertEquals("parley-server: account hans exists (use user passwd to change it)\n", err());
    assertEquals("", out());
    assertEquals(List.of(), asked);
    assertEquals(Optional.of(hash), store.passwordHash("hans"));
  }

  @Test
  void shouldAddNothingWithoutAPassword() throws Exception {
    script.add(Optional.empty());
    script.add(Optional.of(""));

    assertEquals(REFUSED, run(CommandLine.AdminAction.ADD, "leia"));
    assertEquals(REFUSED, run(CommandLine.AdminAction.ADD, "leia"));

    assertEquals("parley-server: no password given, nothing changed\n".repeat(2), err());
    assertEquals(List.of("hans", "luke"), store.usernames());
  }

  @Test
  void shouldRefuseANameTheProtocolCannotCarryWithoutAskingForAPassword() throws Exception {
    String longest = "x".repeat(64);
    List<String> invalid =
        List.of(
            longest + "x",
            "no\u00a0break",
            "bell\u0007",
            "next\u0085line",
            "half\ud800",
            "tab\tbed");

    for (String name : invalid) {
      assertEquals(REFUSED, run(CommandLine.AdminAction.ADD, name), name);
      assertEquals(REFUSED, run(CommandLine.AdminAction.PASSWD, name), name);
    }

    assertEquals(
        ("parley-server: "
                + "invalid username: 1 to 64 characters, without whitespace, control characters"
                + " or unpaired surrogates\n")
            .repeat(invalid.size() * 2),
        err());
    assertEquals(List.of(), asked);
    assertEquals(List.of("hans", "luke"), store.usernames());
    script.add(Optional.of("long-enough"));
    assertEquals(0, run(CommandLine.AdminAction.ADD, longest));
  }

  @Test
  void shouldStillRemoveAnAccountWhoseNameWasAcceptedBeforeNamesWereChecked() throws Exception {
    store.addAccount("old\u00a0name", hasher.hash("x"), T0);

    assertEquals(0, run(CommandLine.AdminAction.REMOVE, "old\u00a0name"));

    assertEquals(List.of("hans", "luke"), store.usernames());
  }

  @Test
  void shouldLeaveAnAccountEventForTheRunningServerAfterEachChange() throws Exception {
    long before = store.lastAccountEventId();
    script.add(Optional.of("rebel-scum"));
    script.add(Optional.of("millennium-falcon"));

    assertEquals(0, run(CommandLine.AdminAction.ADD, "leia"));
    assertEquals(0, run(CommandLine.AdminAction.PASSWD, "hans"));
    assertEquals(0, run(CommandLine.AdminAction.REMOVE, "luke"));
    assertEquals(REFUSED, run(CommandLine.AdminAction.REMOVE, "luke"));

    assertEquals(
        List.of("leia ADDED", "hans PASSWORD", "luke REMOVED"),
        store.accountEventsAfter(before, 10).stream()
            .map(event -> event.username() + " " + event.kind())
            .toList());
  }

  // ---- passwd ----

  @Test
  void shouldSetANewPasswordAndLiftTheLockout() throws Exception {
    store.apply(List.of(new Change.LockoutChanged("hans", 3, T0.plusSeconds(60))));
    script.add(Optional.of("millennium-falcon"));

    assertEquals(0, run(CommandLine.AdminAction.PASSWD, "hans"));

    assertEquals("password set for hans\n", out());
    assertEquals(List.of("hans"), asked);
    assertHashOf("hans", "millennium-falcon");
    assertFalse(hasher.verify("falcon*solo", store.passwordHash("hans").orElseThrow()));
    assertEquals(Map.of(), store.load(T0).lockouts());
  }

  @Test
  void shouldRefuseToSetThePasswordOfNoAccount() throws Exception {
    assertEquals(REFUSED, run(CommandLine.AdminAction.PASSWD, "bob"));

    assertEquals("parley-server: no account bob\n", err());
    assertEquals(List.of(), asked);
    assertEquals(List.of("hans", "luke"), store.usernames());
  }

  @Test
  void shouldKeepThePasswordWhenNoNewOneIsGiven() throws Exception {
    String hash = store.passwordHash("hans").orElseThrow();
    script.add(Optional.empty());

    assertEquals(REFUSED, run(CommandLine.AdminAction.PASSWD, "hans"));

    assertEquals("parley-server: no password given, nothing changed\n", err());
    assertEquals(Optional.of(hash), store.passwordHash("hans"));
  }

  // ---- remove and list ----

  @Test
  void shouldRemoveAnAccountWithItsBlocksAndMessages() throws Exception {
    store.apply(
        List.of(
            new Change.BlockAdded("hans", "luke"),
            new Change.BlockAdded("luke", "hans"),
            new Change.MessageAppended(new StoredMessage("luke", 1, "hans", "m-1", "hi", T0))));

    assertEquals(0, run(CommandLine.AdminAction.REMOVE, "luke"));

    assertEquals("removed luke\n", out());
    StoreSnapshot snapshot = store.load(T0);
    assertEquals(Set.of("hans"), snapshot.usernames());
    assertEquals(Map.of(), snapshot.blocks());
    assertEquals(Map.of(), snapshot.pending());
  }

  @Test
  void shouldRefuseToRemoveNoAccount() throws Exception {
    assertEquals(REFUSED, run(CommandLine.AdminAction.REMOVE, "bob"));

    assertEquals("parley-server: no account bob\n", err());
    assertEquals(List.of("hans", "luke"), store.usernames());
  }

  @Test
  void shouldListTheAccountsSortedOnePerLine() throws Exception {
    store.addAccount("Yoda", hasher.hash("x"), T0);
    store.addAccount("anakin", hasher.hash("x"), T0);

    assertEquals(
        0, admin.run(new CommandLine.Admin(CommandLine.AdminAction.LIST, Optional.empty())));

    List<String> listed = Arrays.asList(out().split("\n"));
    assertEquals(List.of("Yoda", "anakin", "hans", "luke"), listed.stream().sorted().toList());
    assertEquals(store.usernames(), listed);
    assertEquals("", err());
  }

  @Test
  void shouldListNothingForAStoreWithoutAccounts() throws Exception {
    store.removeAccount("hans");
    store.removeAccount("luke");

    assertEquals(
        0, admin.run(new CommandLine.Admin(CommandLine.AdminAction.LIST, Optional.empty())));

    assertEquals("", out());
  }

  // ---- passwords from standard input ----

  @Test
  void shouldReadThePasswordFromTheFirstLineOfPipedInput() throws IOException {
    // Under the build there is no terminal: the piped path is the one taken.
    assumeTrue(System.console() == null, "a terminal is attached");
    PrintStream errors = new PrintStream(err, true, StandardCharsets.UTF_8);

    UserAdmin.PasswordSource piped =
        UserAdmin.interactive(new BufferedReader(new StringReader("s3cret pass\nnext\n")), errors);
    UserAdmin.PasswordSource empty =
        UserAdmin.interactive(new BufferedReader(new StringReader("")), errors);

    assertEquals("s3cret pass", piped.read("hans"));
    assertNull(empty.read("hans"));
    assertEquals("", err());
  }

  // ---- helpers ----

  private int run(CommandLine.AdminAction action, String username) throws Exception {
    int status = admin.run(new CommandLine.Admin(action, Optional.of(username)));
    // Whatever happened, no password is ever printed.
    for (String shown : List.of(out(), err())) {
      assertFalse(shown.contains("rebel-scum") || shown.contains("millennium-falcon"), shown);
    }
    return status;
  }

  private void assertHashOf(String user, String password) throws SQLException {
    String hash = store.passwordHash(user).orElseThrow();
    assertTrue(hasher.verify(password, hash), user);
    assertFalse(hash.contains(password), hash);
  }

  private String out() {
    return out.toString(StandardCharsets.UTF_8);
  }

  private String err() {
    return err.toString(StandardCharsets.UTF_8);
  }
}
