package dev.parley.server.store;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings a database's schema up to date with versioned migrations: the SQL scripts {@code
 * db/migration/V<n>__<description>.sql} on the classpath, applied in order, each in its own
 * transaction, and recorded in {@code parley_schema_history} with a checksum of its text. A
 * migration is never edited once released; a change to the schema is a new script. The checksums
 * hold the project to that: a database whose applied scripts differ from this server's is refused
 * with a message saying which, rather than failing later on a missing column.
 */
final class Migrations {

  /** Every migration, in the order they apply. */
  static final List<String> SCRIPTS =
      List.of(
          "V1__initial_schema.sql",
          "V2__client_id_index_by_id_first.sql",
          "V3__pending_sizes_and_account_events.sql",
          "V4__resumption.sql",
          "V5__message_id_blocks.sql");

  private static final Logger LOG = LoggerFactory.getLogger(Migrations.class);
  private static final String LOCATION = "/db/migration/";

  private Migrations() {}

  /** Applies the migrations this database lacks; returns how many were applied. */
  static int migrate(DataSource dataSource) throws SQLException {
    return migrate(dataSource, SCRIPTS.size());
  }

  /**
   * Applies the migrations this database lacks up to {@code version}; returns how many were
   * applied. Tests build a database of an earlier schema with it, to upgrade it.
   */
  static int migrate(DataSource dataSource, int version) throws SQLException {
    try (Connection connection = dataSource.getConnection()) {
      ensureHistoryTable(connection);
      List<String> recorded = appliedChecksums(connection);
      int current = recorded.size();
      if (current > SCRIPTS.size()) {
        throw new SQLException(
            "the database schema is at version "
                + current
                + ", newer than this server ("
                + SCRIPTS.size()
                + "): upgrade the server");
      }
      for (int i = 0; i < current; i++) {
        String expected = checksum(read(SCRIPTS.get(i)));
        if (!expected.equals(recorded.get(i))) {
          throw new SQLException(
              "migration "
                  + SCRIPTS.get(i)
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
        apply(connection, i + 1, SCRIPTS.get(i));
        applied++;
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
              + " checksum VARCHAR(64) NOT NULL,"
              + " applied_at TIMESTAMP WITH TIME ZONE NOT NULL)");
    }
  }

  /** The checksums of the applied migrations, by version from 1; versions have no gaps. */
  private static List<String> appliedChecksums(Connection connection) throws SQLException {
    List<String> checksums = new ArrayList<>();
    try (Statement statement = connection.createStatement();
        ResultSet rows =
            statement.executeQuery("SELECT * FROM parley_schema_history ORDER BY version")) {
      if (!hasColumn(rows.getMetaData(), "checksum")) {
        throw new SQLException(
            "the schema history has no checksums: the database was made by a pre-release build"
                + " of Parley; start on an empty database");
      }
      while (rows.next()) {
        if (rows.getInt("version") != checksums.size() + 1) {
          throw new SQLException(
              "the schema history lacks version "
                  + (checksums.size() + 1)
                  + ": the database was changed by hand");
        }
        checksums.add(rows.getString("checksum"));
      }
    }
    return checksums;
  }

  private static boolean hasColumn(ResultSetMetaData metaData, String name) throws SQLException {
    for (int i = 1; i <= metaData.getColumnCount(); i++) {
      if (metaData.getColumnName(i).equalsIgnoreCase(name)) {
        return true;
      }
    }
    return false;
  }

  /** SHA-256 of a script's text, in hex. */
  static String checksum(String text) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }

  private static void apply(Connection connection, int version, String script) throws SQLException {
    String text = read(script);
    boolean autoCommit = connection.getAutoCommit();
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
        record.setString(3, checksum(text));
        record.setTimestamp(4, Timestamp.from(Instant.now()));
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
