package dev.parley.server.store;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings a database's schema up to date with versioned migrations: the SQL scripts {@code
 * db/migration/V<n>__<description>.sql} on the classpath, applied in order, each in its own
 * transaction, and recorded in {@code parley_schema_history}. A migration is never edited once
 * released; a change to the schema is a new script.
 */
final class Migrations {

  /** Every migration, in the order they apply. */
  static final List<String> SCRIPTS = List.of("V1__initial_schema.sql");

  private static final Logger LOG = LoggerFactory.getLogger(Migrations.class);
  private static final String LOCATION = "/db/migration/";

  private Migrations() {}

  /** Applies the migrations this database lacks; returns how many were applied. */
  static int migrate(DataSource dataSource) throws SQLException {
    try (Connection connection = dataSource.getConnection()) {
      ensureHistoryTable(connection);
      int current = currentVersion(connection);
      int applied = 0;
      for (int i = current; i < SCRIPTS.size(); i++) {
        apply(connection, i + 1, SCRIPTS.get(i));
        applied++;
      }
      if (current > SCRIPTS.size()) {
        throw new SQLException(
            "the database schema is at version " + current + ", newer than this server ("
                + SCRIPTS.size() + "): upgrade the server");
      }
      return applied;
    }
  }

  /** The schema version this server expects. */
  static int latestVersion() {
    return SCRIPTS.size();
  }

  private static void ensureHistoryTable(Connection connection) throws SQLException {
    try (Statement statement = connection.createStatement()) {
      statement.execute(
          "CREATE TABLE IF NOT EXISTS parley_schema_history ("
              + " version INTEGER PRIMARY KEY,"
              + " script VARCHAR(255) NOT NULL,"
              + " applied_at TIMESTAMP WITH TIME ZONE NOT NULL)");
    }
  }

  private static int currentVersion(Connection connection) throws SQLException {
    try (Statement statement = connection.createStatement();
        ResultSet rows =
            statement.executeQuery("SELECT COALESCE(MAX(version), 0) FROM parley_schema_history")) {
      rows.next();
      return rows.getInt(1);
    }
  }

  private static void apply(Connection connection, int version, String script)
      throws SQLException {
    boolean autoCommit = connection.getAutoCommit();
    connection.setAutoCommit(false);
    try (Statement statement = connection.createStatement()) {
      for (String sql : statements(read(script))) {
        statement.execute(sql);
      }
      try (PreparedStatement record =
          connection.prepareStatement(
              "INSERT INTO parley_schema_history (version, script, applied_at) VALUES (?, ?, ?)")) {
        record.setInt(1, version);
        record.setString(2, script);
        record.setTimestamp(3, Timestamp.from(Instant.now()));
        record.executeUpdate();
      }
      connection.commit();
      LOG.info("schema migrated version={} script={}", version, script);
    } catch (SQLException e) {
      connection.rollback();
      throw new SQLException("migration " + script + " failed: " + e.getMessage(), e);
    } finally {
      connection.setAutoCommit(autoCommit);
    }
  }

  private static String read(String script) {
    try (InputStream in = Migrations.class.getResourceAsStream(LOCATION + script)) {
      if (in == null) {
        throw new IllegalStateException("migration " + script + " is missing from the classpath");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Splits a script into statements: ';' ends one; '--' starts a comment to the end of the line. */
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
