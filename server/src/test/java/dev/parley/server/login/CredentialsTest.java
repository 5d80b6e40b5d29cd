package dev.parley.server.login;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.server.login.Credentials.Verdict;
import dev.parley.server.login.Credentials.Verification;
import dev.parley.server.store.Store;
import dev.parley.server.testing.TestDatabase;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Instant;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Password checks against a real store (the embedded H2 database). */
class CredentialsTest {

  private static final int ITERATIONS = 1_000;

  @TempDir Path dir;

  private final ExecutorService storeExecutor = Executors.newSingleThreadExecutor();
  private final ExecutorService hashExecutor = Executors.newSingleThreadExecutor();
  private final PasswordHasher hasher = new PasswordHasher(ITERATIONS);
  private TestDatabase database;
  private Store store;
  private Credentials credentials;

  @BeforeEach
  void openStore() throws SQLException {
    database = TestDatabase.h2(dir);
    store = database.open();
    store.addAccount("hans", hasher.hash("falcon*solo"), Instant.EPOCH);
    store.addAccount("yoda", new PasswordHasher(ITERATIONS / 2).hash("wise@!man"), Instant.EPOCH);
    credentials = new Credentials(store, storeExecutor, hasher, hashExecutor);
  }

  @AfterEach
  void close() throws SQLException {
    storeExecutor.shutdownNow();
    hashExecutor.shutdownNow();
    database.close();
  }

  @Test
  void shouldTellWhetherAnAccountExists() throws Exception {
    assertTrue(await(credentials.exists("hans")));
    assertFalse(await(credentials.exists("bob")));
    assertFalse(await(credentials.exists("Hans")));
  }

  @Test
  void shouldVerifyPasswords() throws Exception {
    String stored = store.passwordHash("hans").orElseThrow();
    assertEquals(
        new Verification(Verdict.MATCH, stored, null),
        await(credentials.verify("hans", "falcon*solo")));
    assertEquals(
        new Verification(Verdict.MISMATCH, stored, null),
        await(credentials.verify("hans", "falcon")));
    assertEquals(
        new Verification(Verdict.NO_ACCOUNT, null, null), await(credentials.verify("bob", "x")));
  }

  @Test
  void shouldHandARehashOfAWeakerHashOnlyWithARightPassword() throws Exception {
    Verification right = await(credentials.verify("yoda", "wise@!man"));
    Verification wrong = await(credentials.verify("yoda", "wise"));

    assertEquals(Verdict.MATCH, right.verdict());
    assertTrue(hasher.verify("wise@!man", right.rehash()));
    assertFalse(hasher.needsRehash(right.rehash()));
    assertEquals("Verification[MATCH, rehashed]", right.toString());
    assertEquals(Verdict.MISMATCH, wrong.verdict());
    assertEquals(null, wrong.rehash());
  }

  @Test
  void shouldFailTheAnswerWhenTheStoreCannotBeRead() {
    store.close();

    ExecutionException failure =
        assertThrows(
            ExecutionException.class,
            () ->
                credentials
                    .verify("hans", "falcon*solo")
                    .toCompletableFuture()
                    .get(10, TimeUnit.SECONDS));

    assertInstanceOf(SQLException.class, failure.getCause());
  }

  private static <T> T await(CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
