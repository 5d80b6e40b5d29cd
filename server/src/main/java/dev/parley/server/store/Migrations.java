package dev.parley.server.store;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
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
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.MigrationState;
import org.flywaydb.core.api.callback.Callback;
import org.flywaydb.core.api.callback.Context;
import org.flywaydb.core.api.callback.Event;
import org.flywaydb.core.api.output.ValidateOutput;
import org.flywaydb.core.api.output.ValidateResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings a database's schema up to date with Flyway: the SQL scripts {@code
 * db/migration/V<n>__<description>.sql} on the classpath, applied in order, each in its own
 * transaction, and recorded in {@value #TABLE} with a checksum of its text. A migration is never
 * edited once released; a change to the schema is a new script. Before migrating, the history is
 * validated: a database whose applied scripts differ from this server's, whose history lacks a
 * script, or whose schema is newer than this server is refused with a one-line message, rather than
 * failing later on a missing column.
 *
 * <p>The releases before Flyway recorded the schema in a table of their own, {@value #LEGACY_TABLE}
 * (version, script, SHA-256 checksum, applied at). Such a database is checked as those releases
 * checked it, then Flyway is baselined at its version and migrates the rest. The old table is kept,
 * for its dates, with one more row: a version past the last script it records, so that a server of
 * an older release started on the upgraded database refuses it (as newer than itself, or, a release
 * that has that version, as made by another build) instead of running on a schema it does not know.
 *
 * <p>Several cluster nodes may start at once on one PostgreSQL database: Flyway serialises them
 * with a PostgreSQL advisory lock (its PostgreSQLAdvisoryLockTemplate), held while it applies each
 * migration after reading the history again under it, so each script runs once. The take-over of an
 * old history is serialised by a lock on that table's rows (see {@link #takeOverLegacyHistory}). On
 * H2, whose file belongs to the server's process (the admin command line reaches it through
 * AUTO_SERVER), the migrations of one process are serialised here: Flyway's lock on H2 holds
 * nothing while its history table is empty. A server and an admin command started at the same
 * moment on a new embedded database are not serialised (nor were they before Flyway).
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

  /** Flyway's schema history table. */
  static final String TABLE = "flyway_schema_history";

  /** The schema history of the releases before Flyway. */
  static final String LEGACY_TABLE = "parley_schema_history";

  /** The script name of the row that marks {@link #LEGACY_TABLE} as taken over by Flyway. */
  static final String LEGACY_MOVED = "moved to " + TABLE;

  private static final Logger LOG = LoggerFactory.getLogger(Migrations.class);

  /** Serialises the migrations of H2 databases in this process. */
  private static final Object H2_MIGRATIONS = new Object();

  private static final String LOCATION = "db/migration";

  private Migrations() {}

  /** Applies the migrations this database lacks; returns how many were applied. */
  static int migrate(DataSource dataSource) throws SQLException {
    if (isH2(dataSource)) {
      // Flyway's lock on H2 is a lock on its history table's rows, which holds nothing while the
      // table is empty: two stores opened at once in one process would both apply V1.
      synchronized (H2_MIGRATIONS) {
        return migrateNow(dataSource);
      }
    }
    return migrateNow(dataSource);
  }

  private static boolean isH2(DataSource dataSource) throws SQLException {
    try (Connection connection = dataSource.getConnection()) {
      return "H2".equals(connection.getMetaData().getDatabaseProductName());
    }
  }

  private static int migrateNow(DataSource dataSource) throws SQLException {
    try {
      takeOverLegacyHistory(dataSource);
      Flyway flyway = flyway(dataSource, 1);
      refuseNewerSchema(flyway);
      ValidateResult validation = flyway.validateWithResult();
      if (!validation.validationSuccessful) {
        throw new SQLException(describe(validation));
      }
      return flyway.migrate().migrationsExecuted;
    } catch (FlywayException e) {
      throw new SQLException("schema migration failed: " + oneLine(e.getMessage()), e);
    }
  }

  /** The schema version this server expects. */
  static int latestVersion() {
    return SCRIPTS.size();
  }

  /**
   * Flyway as Parley uses it, configured here rather than in a {@code flyway.conf}: the scripts of
   * {@value #LOCATION}; a database whose history lacks a script before the last applied one, or has
   * one this server does not know (a newer server's), fails validation (Flyway ignores future
   * migrations by default; here only pending ones are ignored, and {@code outOfOrder} stays off);
   * {@code clean} (which drops everything) is disabled; {@code baselineOnMigrate} stays off, so a
   * non-empty schema without any history is refused, not adopted (a database of the old history
   * table is baselined explicitly, at {@code baselineVersion}).
   */
  private static Flyway flyway(DataSource dataSource, int baselineVersion) {
    return Flyway.configure(Migrations.class.getClassLoader())
        .dataSource(dataSource)
        .locations("classpath:" + LOCATION)
        .table(TABLE)
        .validateMigrationNaming(true)
        .ignoreMigrationPatterns("*:pending")
        .outOfOrder(false)
        .cleanDisabled(true)
        .baselineOnMigrate(false)
        .baselineVersion(String.valueOf(baselineVersion))
        .baselineDescription(LEGACY_TABLE)
        .callbacks(new LogEachMigration())
        .loggers("slf4j")
        .load();
  }

  private static void refuseNewerSchema(Flyway flyway) throws SQLException {
    MigrationInfo current = flyway.info().current();
    for (MigrationInfo migration : flyway.info().all()) {
      if (migration.getState() == MigrationState.FUTURE_SUCCESS
          || migration.getState() == MigrationState.FUTURE_FAILED) {
        throw new SQLException(newer(current.getVersion().toString()));
      }
    }
  }

  private static String newer(String version) {
    return "the database schema is at version "
        + version
        + ", newer than this server ("
        + latestVersion()
        + "): upgrade the server";
  }

  /** Flyway's validation errors, in one line. */
  private static String describe(ValidateResult validation) {
    List<String> problems = new ArrayList<>();
    for (ValidateOutput invalid : validation.invalidMigrations) {
      String code = String.valueOf(invalid.errorDetails.errorCode);
      String script = scriptOf(invalid.version);
      if (code.equals("CHECKSUM_MISMATCH")) {
        problems.add(
            "migration "
                + script
                + " differs from the one applied to this database:"
                + " the database was made by another build of Parley");
      } else if (code.equals("RESOLVED_VERSIONED_MIGRATION_NOT_APPLIED")
          || code.equals("APPLIED_VERSIONED_MIGRATION_NOT_RESOLVED")) {
        problems.add(
            "the schema history does not match migration "
                + script
                + ": the database was changed by hand ("
                + oneLine(invalid.errorDetails.errorMessage)
                + ")");
      } else {
        problems.add(oneLine(invalid.errorDetails.errorMessage));
      }
    }
    if (problems.isEmpty()) {
      problems.add(oneLine(validation.getAllErrorMessages()));
    }
    return String.join("; ", problems);
  }

  private static String scriptOf(String version) {
    for (String script : SCRIPTS) {
      if (script.startsWith("V" + version + "__")) {
        return script;
      }
    }
    return "V" + version;
  }

  private static String oneLine(String message) {
    return message == null ? "" : message.strip().replaceAll("\\s*\\R\\s*", " ");
  }

  // ---- the history table of the releases before Flyway ----

  /**
   * If this database was made by a release before Flyway (it has {@value #LEGACY_TABLE}), checks it
   * as those releases did, baselines Flyway at its version and marks the old table as taken over;
   * nothing once it is marked.
   *
   * <p>The old history's rows stay locked ({@code SELECT ... FOR UPDATE}) until the table is
   * marked: nodes starting at once take it over one after the other, and the next one finds it
   * marked (two Flyway baselines at once would not do: the second can find Flyway's table created
   * and still without its baseline row, and refuse the database).
   */
  private static void takeOverLegacyHistory(DataSource dataSource) throws SQLException {
    try (Connection connection = dataSource.getConnection()) {
      if (!tableExists(connection, LEGACY_TABLE)) {
        return;
      }
      connection.setAutoCommit(false);
      try {
        if ("H2".equals(connection.getMetaData().getDatabaseProductName())) {
          // H2 waits one second for a lock by default; another process's take-over may be slower.
          try (Statement statement = connection.createStatement()) {
            statement.execute("SET LOCK_TIMEOUT 60000");
          }
        }
        // Waits for a take-over under way; then reads the rows again, with the mark it added (the
        // rows a statement that waited for a lock returns are those it saw before waiting).
        try (Statement statement = connection.createStatement()) {
          statement.executeQuery("SELECT version FROM " + LEGACY_TABLE + " FOR UPDATE").close();
        }
        List<String[]> rows = legacyRows(connection);
        boolean moved = !rows.isEmpty() && rows.get(rows.size() - 1)[0].equals(LEGACY_MOVED);
        int version = moved ? rows.size() - 1 : rows.size();
        if (!moved) {
          checkLegacyRows(rows);
        }
        if (version > 0 && !tableExists(connection, TABLE)) {
          flyway(dataSource, version).baseline();
          LOG.info("schema history taken over by Flyway version={} table={}", version, TABLE);
        }
        if (!moved && version > 0) {
          markMoved(connection, version + 1);
        }
        connection.commit();
      } catch (SQLException | RuntimeException e) {
        connection.rollback();
        throw e;
      } finally {
        connection.setAutoCommit(true);
      }
    }
  }

  /** Refuses an old history as the releases before Flyway did. */
  private static void checkLegacyRows(List<String[]> rows) throws SQLException {
    int version = rows.size();
    if (version > SCRIPTS.size()) {
      throw new SQLException(newer(String.valueOf(version)));
    }
    for (int i = 0; i < version; i++) {
      String expected = checksum(read(SCRIPTS.get(i)));
      if (!expected.equals(rows.get(i)[1])) {
        throw new SQLException(
            "migration "
                + SCRIPTS.get(i)
                + " differs from the one applied to this database"
                + " (checksum "
                + rows.get(i)[1]
                + ", this server's "
                + expected
                + "): the database was made by another build of Parley");
      }
    }
  }

  private static boolean tableExists(Connection connection, String table) throws SQLException {
    DatabaseMetaData metaData = connection.getMetaData();
    try (ResultSet tables = metaData.getTables(null, connection.getSchema(), table, null)) {
      return tables.next();
    }
  }

  /** The old history's rows, by version from 1, as {script, checksum}; versions have no gaps. */
  private static List<String[]> legacyRows(Connection connection) throws SQLException {
    List<String[]> rows = new ArrayList<>();
    try (Statement statement = connection.createStatement();
        ResultSet result =
            statement.executeQuery("SELECT * FROM " + LEGACY_TABLE + " ORDER BY version")) {
      if (!hasColumn(result.getMetaData(), "checksum")) {
        throw new SQLException(
            "the schema history has no checksums: the database was made by a pre-release build"
                + " of Parley; start on an empty database");
      }
      while (result.next()) {
        if (result.getInt("version") != rows.size() + 1) {
          throw new SQLException(
              "the schema history lacks version "
                  + (rows.size() + 1)
                  + ": the database was changed by hand");
        }
        rows.add(new String[] {result.getString("script"), result.getString("checksum")});
      }
    }
    return rows;
  }

  /**
   * Records in the old table a version past its last script: a server of a release before Flyway
   * refuses the database as newer than itself.
   */
  private static void markMoved(Connection connection, int version) throws SQLException {
    try (PreparedStatement insert =
        connection.prepareStatement(
            "INSERT INTO "
                + LEGACY_TABLE
                + " (version, script, checksum, applied_at) VALUES (?, ?, ?, ?)")) {
      insert.setInt(1, version);
      insert.setString(2, LEGACY_MOVED);
      insert.setString(3, "-");
      insert.setTimestamp(4, Timestamp.from(Instant.now()));
      insert.executeUpdate();
    }
  }

  private static boolean hasColumn(ResultSetMetaData metaData, String name) throws SQLException {
    for (int i = 1; i <= metaData.getColumnCount(); i++) {
      if (metaData.getColumnName(i).equalsIgnoreCase(name)) {
        return true;
      }
    }
    return false;
  }

  /** SHA-256 of a script's text, in hex: the checksum of the old history table. */
  static String checksum(String text) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }

  /** A migration's text. */
  static String read(String script) {
    try (InputStream in = Migrations.class.getResourceAsStream("/" + LOCATION + "/" + script)) {
      if (in == null) {
        throw new IllegalStateException("migration " + script + " is missing from the classpath");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Logs each applied migration, in the line the server has always logged. */
  private static final class LogEachMigration implements Callback {

    @Override
    public boolean supports(Event event, Context context) {
      return event == Event.AFTER_EACH_MIGRATE;
    }

    @Override
    public boolean canHandleInTransaction(Event event, Context context) {
      return true;
    }

    @Override
    public void handle(Event event, Context context) {
      MigrationInfo migration = context.getMigrationInfo();
      LOG.info(
          "schema migrated version={} script={}", migration.getVersion(), migration.getScript());
    }

    @Override
    public String getCallbackName() {
      return "parley-log-each-migration";
    }
  }
}
