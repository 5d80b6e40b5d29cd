package dev.parley.server.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * The migration runner of the releases before Flyway, kept as a test fixture: it builds a database
 * exactly as such a release left it (its history table {@code parley_schema_history}, one row per
 * script with its SHA-256, the scripts split on ';'), so that the tests can upgrade it, and it
 * checks a database as such a release checked it at start-up, so that the tests can see an old
 * server refuse a database Flyway has taken over.
 */
final class ReleasedMigrations {

  private ReleasedMigrations() {}

  /**
   * Applies the first {@code version} scripts the way a release before Flyway did, after checking
   * the history as it did; returns how many were applied.
   */
  static int migrate(DataSource dataSource, int version) throws SQLException {
    return migrate(dataSource, version, version);
  }

  /**
   * As a release that ships {@code scripts} migrations checks and migrates a database, up to {@code
   * version}.
   */
  static int migrate(DataSource dataSource, int scripts, int version) throws SQLException {
    try (Connection connection = dataSource.getConnection()) {
      try (Statement statement = connection.createStatement()) {
        statement.execute(
            "CREATE TABLE IF NOT EXISTS parley_schema_history ("
                + " version INTEGER PRIMARY KEY,"
                + " script VARCHAR(255) NOT NULL,"
                + " checksum VARCHAR(64) NOT NULL,"
                + " applied_at TIMESTAMP WITH TIME ZONE NOT NULL)");
      }
      List<String> recorded = new ArrayList<>();
      try (Statement statement = connection.createStatement();
          ResultSet rows =
              statement.executeQuery(
                  "SELECT version, checksum FROM parley_schema_history ORDER BY version")) {
        while (rows.next()) {
          if (rows.getInt("version") != recorded.size() + 1) {
            throw new SQLException(
                "the schema history lacks version "
                    + (recorded.size() + 1)
                    + ": the database was changed by hand");
          }
          recorded.add(rows.getString("checksum"));
        }
      }
      int current = recorded.size();
      if (current > scripts) {
        throw new SQLException(
            "the database schema is at version "
                + current
                + ", newer than this server ("
                + scripts
                + "): upgrade the server");
      }
      for (int i = 0; i < current; i++) {
        String expected = Migrations.checksum(Migrations.read(Migrations.SCRIPTS.get(i)));
        if (!expected.equals(recorded.get(i))) {
          throw new SQLException(
              "migration "
                  + Migrations.SCRIPTS.get(i)
                  + " differs from the one applied to this database"
                  + " (checksum "
                  + recorded.get(i)
                  + ", this server's "
                  + expected
                  + "): the database was made by another build of Parley");
        }
      }
      int applied = 0;
      for (int i = current; i < version; i++) {
        apply(connection, i + 1, Migrations.SCRIPTS.get(i));
        applied++;
      }
      return applied;
    }
  }

  private static void apply(Connection connection, int version, String script) throws SQLException {
    String text = Migrations.read(script);
    connection.setAutoCommit(false);
    try (Statement statement = connection.createStatement()) {
      for (String sql : statements(text)) {
        statement.execute(sql);
      }
      try (PreparedStatement record =
          connection.prepareStatement(
              "INSERT INTO parley_schema_history (version, script, checksum, applied_at)"
                  + " VALUES (?, ?, ?, ?)")) {
        record.setInt(1, version);
        record.setString(2, script);
        record.setString(3, Migrations.checksum(text));
        record.setTimestamp(4, Timestamp.from(Instant.now()));
        record.executeUpdate();
      }
      connection.commit();
    } catch (SQLException e) {
      connection.rollback();
      throw e;
    } finally {
      connection.setAutoCommit(true);
    }
  }

  /**
   * Splits a script into statements: ';' ends one; '--' starts a comment to the end of the line.
   */
  static List<String> statements(String script) {
    StringBuilder text = new StringBuilder();
    for (String line : script.split("\n")) {
      int comment = line.indexOf("--");
      text.append(comment >= 0 ? line.substring(0, comment) : line).append('\n');
    }
    List<String> statements = new ArrayList<>();
    for (String statement : text.toString().split(";")) {
      if (!statement.isBlank()) {
        statements.add(statement.strip());
      }
    }
    return statements;
  }
}
