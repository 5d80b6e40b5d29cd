package dev.parley.server.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.parley.server.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import org.h2.mvstore.DataUtils;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedRecoveryTest {

  /** Enough commits for H2 to reuse space and miss a prediction many times over. */
  private static final int MAX_COMMITS = 20_000;

  /** Varying chunk sizes make H2's prediction of the next chunk's place miss. */
  private static final int MAX_VALUE_LENGTH = 6_000;

  private static final Instant T0 = Instant.parse("2030-05-04T12:00:00Z");

  /** H2's lock file for the embedded database. */
  private static final String STALE_LOCK = StoreSettings.EMBEDDED_NAME + ".lock.db";

  @TempDir Path dir;

  /**
   * The failure the pass exists for, built deterministically: H2 is made to reuse space at once
   * (retention 0), and its file is copied after each commit until H2's own reopening of the copy
   * lands on an older version than the one committed. The original is then abandoned as by a crash
   * ({@code closeImmediately} writes nothing more).
   */
  @Test
  void shouldReopenAtTheNewestCommitWhereH2sOwnReopeningDropsTheLast() throws Exception {
    StoreSettings settings = TestDatabase.h2(dir).settings();
    Path file = dir.resolve(StoreSettings.EMBEDDED_NAME + ".mv.db");
    Path probe = dir.resolve("probe.mv.db");
    Files.writeString(dir.resolve(EmbeddedRecovery.MARKER), "left by a crash");

    long committed = 0;
    long plainReopen = 0;
    boolean dropped = false;
    MVStore store = new MVStore.Builder().fileName(file.toString()).autoCommitDisabled().open();
    try {
      store.setRetentionTime(0);
      MVMap<Integer, String> map = store.openMap("messages");
      Random random = new Random(42);
      for (int i = 0; i < MAX_COMMITS && !dropped; i++) {
        map.put(random.nextInt(200), "x".repeat(1 + random.nextInt(MAX_VALUE_LENGTH)));
        committed = store.commit();
        if (headerVersion(store) < committed) {
          Files.copy(file, probe, StandardCopyOption.REPLACE_EXISTING);
          plainReopen = plainReopenVersion(probe);
          dropped = plainReopen < committed;
        }
      }
    } finally {
      store.closeImmediately();
    }
    if (!dropped) {
      fail(
          "H2 reopened every state at its newest commit in "
              + MAX_COMMITS
              + " commits: if it no longer drops commits after a crash, the recovery pass can go");
    }
    assertEquals(plainReopen, plainReopenVersion(copyOf(file)), "H2 alone drops the last commits");

    try (EmbeddedRecovery recovery = EmbeddedRecovery.prepare(settings)) {
      EmbeddedRecovery.Report report = recovery.report().orElseThrow();
      assertEquals(plainReopen, report.plainVersion());
      assertEquals(committed, report.recoveredVersion());
      assertEquals(committed - plainReopen, report.versionsRecovered());
    }
    assertEquals(committed, plainReopenVersion(file), "the file now opens at its newest commit");
    assertFalse(Files.exists(dir.resolve(EmbeddedRecovery.MARKER)));
  }

  @Test
  void shouldMarkTheDatabaseInUseWhileOpenAndScanNothingAfterACleanClose() throws SQLException {
    try (TestDatabase database = TestDatabase.h2(dir)) {
      Store store = database.open();
      assertTrue(Files.exists(dir.resolve(EmbeddedRecovery.MARKER)));
      assertTrue(store.recovery().isEmpty(), "a new database needs no scan");
      store.addAccount("hans", "hash", T0);
      store.close();
      assertFalse(Files.exists(dir.resolve(EmbeddedRecovery.MARKER)));

      Store again = database.open();
      assertTrue(again.recovery().isEmpty(), "a cleanly closed database needs no scan");
      assertEquals(List.of("hans"), again.usernames());
    }
  }

  @Test
  void shouldScanWhenTheLastOpeningLeftItsMarkerAndKeepTheData() throws Exception {
    try (TestDatabase database = TestDatabase.h2(dir)) {
      Store store = database.open();
      store.addAccount("hans", "hash", T0);
      store.close();
      // What a killed server leaves behind; its file is the clean one here, so nothing is missing.
      Files.writeString(dir.resolve(EmbeddedRecovery.MARKER), "left by a crash");

      Store again = database.open();

      EmbeddedRecovery.Report report = again.recovery().orElseThrow();
      assertEquals(report.plainVersion(), report.recoveredVersion());

      assertEquals(List.of("hans"), again.usernames());
      again.close();
      assertFalse(Files.exists(dir.resolve(EmbeddedRecovery.MARKER)));
    }
  }

  /** H2 would wait 3.3 s for a lock file nobody updates any more before it took the database. */
  @Test
  void shouldRemoveTheLockFileOfAKilledProcessAfterTheScan() throws Exception {
    StoreSettings settings = closedCleanly();
    Files.writeString(dir.resolve(EmbeddedRecovery.MARKER), "left by a crash");
    Files.writeString(dir.resolve(STALE_LOCK), "left by a crash");

    try (EmbeddedRecovery recovery = EmbeddedRecovery.prepare(settings)) {
      assertTrue(recovery.report().isPresent());
      assertFalse(Files.exists(dir.resolve(STALE_LOCK)));
    }
  }

  @Test
  void shouldLeaveALockFileAloneWithoutAScan() throws Exception {
    StoreSettings settings = closedCleanly();
    // No marker: the last process closed the database, so a lock file is not a killed one's.
    Files.writeString(dir.resolve(STALE_LOCK), "someone else's");

    try (EmbeddedRecovery recovery = EmbeddedRecovery.prepare(settings)) {
      assertTrue(recovery.report().isEmpty());
      assertTrue(Files.exists(dir.resolve(STALE_LOCK)));
    }
  }

  /** The admin command line while the server runs: it must not take the server's marker away. */
  @Test
  void shouldLeaveTheMarkerToTheProcessThatHasTheFileOpen() throws SQLException {
    try (TestDatabase database = TestDatabase.h2(dir)) {
      Store server = database.open();
      Store admin = database.open();
      assertTrue(admin.recovery().isEmpty(), "the file is in use: no scan");
      assertEquals(List.of(), admin.usernames());

      assertTrue(Files.exists(dir.resolve(STALE_LOCK)), "the live opening's lock file stays");
      admin.close();
      assertTrue(Files.exists(dir.resolve(EmbeddedRecovery.MARKER)));
      server.close();
      assertFalse(Files.exists(dir.resolve(EmbeddedRecovery.MARKER)));
    }
  }

  /** A database in {@code dir} that was opened and closed cleanly; its settings. */
  private StoreSettings closedCleanly() throws SQLException {
    try (TestDatabase database = TestDatabase.h2(dir)) {
      database.open().close();
      return database.settings();
    }
  }

  private static long headerVersion(MVStore store) {
    return DataUtils.readHexLong(store.getStoreHeader(), "version", 0);
  }

  private Path copyOf(Path file) throws Exception {
    Path copy = dir.resolve("copy.mv.db");
    Files.copy(file, copy, StandardCopyOption.REPLACE_EXISTING);
    return copy;
  }

  private static long plainReopenVersion(Path file) {
    try (MVStore reopened = new MVStore.Builder().fileName(file.toString()).readOnly().open()) {
      return reopened.getCurrentVersion();
    }
  }
}
