package dev.parley.server.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.server.testing.TestDatabase;
import java.nio.file.Path;
import java.sql.BatchUpdateException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientConnectionException;
import java.sql.Statement;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which failures are outages (retried) and which are the data's (isolated and refused), and what a
 * log line may say about them.
 */
class StoreFailuresTest {

  private static final String SECRET = "the text of a message";

  @TempDir Path dir;

  @Test
  void shouldTakeConnectionErrorsForOutages() {
    assertTrue(StoreFailures.isOutage(new SQLTransientConnectionException("pool timed out")));
    assertTrue(StoreFailures.isOutage(new SQLNonTransientConnectionException("refused")));
    assertTrue(StoreFailures.isOutage(new SQLRecoverableException("socket closed")));
    // By SQLState class: connection (08), resources (53), operator (57), system (58).
    for (String state : new String[] {"08006", "08001", "53100", "57P01", "58030"}) {
      assertTrue(StoreFailures.isOutage(new SQLException("x", state)), state);
    }
    // H2's codes for a connection or a database that is gone.
    for (int code : new int[] {90067, 90098, 90028, 90031, 90020, 90121}) {
      assertTrue(
          StoreFailures.isOutage(new SQLException("x", String.valueOf(code), code)), "" + code);
      assertTrue(StoreFailures.isOutage(new SQLException("x", null, code)), "" + code);
    }
  }

  @Test
  void shouldTakeWhatTheDatabaseRefusesForItsDataForDataFailures() {
    // 22021 U+0000 in a text (PostgreSQL), 22001 value too long, 23505 unique, 42P01 no table.
    for (String state : new String[] {"22021", "22001", "23505", "23503", "42P01", "42S02"}) {
      assertFalse(StoreFailures.isOutage(new SQLException("x", state)), state);
    }
    assertFalse(StoreFailures.isOutage(new SQLException("no state")));
    assertFalse(StoreFailures.isOutage(new IllegalArgumentException("unknown change")));
    assertFalse(StoreFailures.isOutage(new SQLException("x", "90000", 90000)));
  }

  @Test
  void shouldFindAnOutageAnywhereInTheChain() {
    BatchUpdateException batch = new BatchUpdateException("batch entry 0 ...", "22021", new int[0]);
    assertFalse(StoreFailures.isOutage(batch));
    batch.setNextException(new SQLException("I/O error", "08006"));
    assertTrue(StoreFailures.isOutage(batch));
    assertTrue(
        StoreFailures.isOutage(
            new CompletionException(new SQLException("wrapped", new SQLRecoverableException()))));
  }

  @Test
  void shouldClassifyARefusedConnectionToPostgresqlAsAnOutage() {
    // Nothing listens on port 1: no PostgreSQL server is needed to be refused.
    SQLException refused =
        assertThrows(
            SQLException.class,
            () -> DriverManager.getConnection("jdbc:postgresql://127.0.0.1:1/parley", "p", "p"));

    assertTrue(StoreFailures.isOutage(refused), StoreFailures.describe(refused));
  }

  @Test
  void shouldClassifyAClosedH2DatabaseAsAnOutageAndItsValueTooLongAsData() throws SQLException {
    String url = TestDatabase.h2(dir).settings().jdbcUrl();
    try (Connection first = DriverManager.getConnection(url);
        Connection second = DriverManager.getConnection(url)) {
      try (Statement s = first.createStatement()) {
        s.execute("CREATE TABLE t (v VARCHAR(3))");
      }
      SQLException tooLong =
          assertThrows(
              SQLException.class,
              () -> second.createStatement().execute("INSERT INTO t VALUES ('" + SECRET + "')"));
      assertFalse(StoreFailures.isOutage(tooLong), StoreFailures.describe(tooLong));
      try (Statement s = first.createStatement()) {
        s.execute("SHUTDOWN");
      }

      SQLException closed =
          assertThrows(
              SQLException.class,
              () -> second.createStatement().execute("INSERT INTO t VALUES ('a')"));

      assertTrue(StoreFailures.isOutage(closed), StoreFailures.describe(closed));
    }
  }

  @Test
  void shouldDescribeADataFailureWithoutItsMessage() {
    BatchUpdateException batch =
        new BatchUpdateException(
            "Batch entry 0 INSERT INTO messages VALUES ('" + SECRET + "') was aborted",
            "22021",
            0,
            new int[0]);
    batch.setNextException(
        new SQLException("ERROR: invalid byte sequence: '" + SECRET + "'", "22021"));

    String description = StoreFailures.describe(batch);

    assertEquals(
        "refused [java.sql.BatchUpdateException sqlState=22021 vendorCode=0]"
            + " [java.sql.SQLException sqlState=22021 vendorCode=0]",
        description);
    assertFalse(
        StoreFailures.describe(new IllegalStateException(SECRET)).contains(SECRET),
        "runtime exceptions are described by class only");
  }

  @Test
  void shouldDescribeAnOutageWithTheMessagesOfItsConnectionErrorsOnly() {
    BatchUpdateException batch =
        new BatchUpdateException("Batch entry 0 ('" + SECRET + "') was aborted", "22021", 0, null);
    batch.setNextException(new SQLException("An I/O error occurred\nwith details", "08006"));

    String description = StoreFailures.describe(new CompletionException(batch));

    assertEquals(
        "outage [java.sql.BatchUpdateException sqlState=22021 vendorCode=0]"
            + " [java.sql.SQLException sqlState=08006 vendorCode=0"
            + " message=An I/O error occurred]",
        description);
  }
}
