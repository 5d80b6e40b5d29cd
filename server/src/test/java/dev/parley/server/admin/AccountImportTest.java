package dev.parley.server.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.server.login.CredentialsFile;
import dev.parley.server.login.PasswordHasher;
import dev.parley.server.store.Store;
import dev.parley.server.testing.LogCapturingExtension;
import dev.parley.server.testing.TestDatabase;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Importing a credentials file into a real store (the embedded H2 database). */
@ExtendWith(LogCapturingExtension.class)
class AccountImportTest {

  private static final Instant T0 = Instant.parse("2030-05-04T12:00:00Z");

  @TempDir Path dir;

  private final PasswordHasher hasher = new PasswordHasher(1_000);
  private TestDatabase database;
  private Store store;

  @BeforeEach
  void openStore() throws SQLException {
    database = TestDatabase.h2(dir);
    store = database.open();
  }

  @AfterEach
  void closeStore() throws SQLException {
    database.close();
  }

  @Test
  void shouldAddTheAccountsOfTheFileInItsOrderWithHashedPasswords() throws SQLException {
    AccountImport.Result result =
        AccountImport.run(store, file("yoda", "wise@!man", "hans", "falcon*solo"), hasher, T0);

    assertEquals(new AccountImport.Result(List.of("yoda", "hans"), List.of()), result);
    assertEquals(List.of("hans", "yoda"), store.usernames());
    assertHashOf("hans", "falcon*solo");
    assertHashOf("yoda", "wise@!man");
  }

  @Test
  void shouldLeaveAccountsThatExistAsTheStoreHasThem() throws SQLException {
    String storedHash = hasher.hash("changed-with-passwd");
    store.addAccount("hans", storedHash, T0);

    AccountImport.Result result =
        AccountImport.run(store, file("hans", "falcon*solo", "luke", "r2d2&c3p0"), hasher, T0);

    assertEquals(new AccountImport.Result(List.of("luke"), List.of("hans")), result);
    assertEquals(Optional.of(storedHash), store.passwordHash("hans"));
    assertHashOf("luke", "r2d2&c3p0");
  }

  @Test
  void shouldAddNothingWhenTheSameFileIsImportedAgain() throws SQLException {
    CredentialsFile.Loaded file = file("hans", "falcon*solo", "yoda", "wise@!man");
    AccountImport.run(store, file, hasher, T0);
    Optional<String> hansHash = store.passwordHash("hans");

    AccountImport.Result again = AccountImport.run(store, file, hasher, T0);

    assertEquals(new AccountImport.Result(List.of(), List.of("hans", "yoda")), again);
    assertEquals(hansHash, store.passwordHash("hans"));
  }

  @Test
  void shouldImportTheBundledDemoAccounts() throws SQLException {
    CredentialsFile.Loaded demo = CredentialsFile.readDemo();

    AccountImport.Result result = AccountImport.run(store, demo, hasher, T0);

    assertEquals(List.of("hans", "yoda", "vader", "r2d2", "luke"), result.added());
    for (Map.Entry<String, String> account : demo.passwords().entrySet()) {
      assertHashOf(account.getKey(), account.getValue());
    }
  }

  @Test
  void shouldImportAnEmptyFile() throws SQLException {
    AccountImport.Result result = AccountImport.run(store, file(), hasher, T0);

    assertEquals(new AccountImport.Result(List.of(), List.of()), result);
    assertEquals(List.of(), store.usernames());
  }

  private void assertHashOf(String user, String password) throws SQLException {
    String hash = store.passwordHash(user).orElseThrow();
    assertTrue(hasher.verify(password, hash), user);
    assertFalse(hasher.verify(password + "x", hash), user);
    assertFalse(hash.contains(password), hash);
  }

  /** A credentials file of these username, password pairs. */
  private static CredentialsFile.Loaded file(String... usersAndPasswords) {
    Map<String, String> passwords = new LinkedHashMap<>();
    for (int i = 0; i < usersAndPasswords.length; i += 2) {
      passwords.put(usersAndPasswords[i], usersAndPasswords[i + 1]);
    }
    return new CredentialsFile.Loaded(passwords, List.of());
  }
}
