package dev.parley.server.store;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Where and how the server keeps its state (the {@code parley.server.store} section of the
 * configuration; {@code reference.conf} documents each key).
 *
 * @param url JDBC URL of the database; empty for the embedded H2 database in {@code dataDir}
 * @param dataDir directory of the embedded database
 */
public record StoreSettings(
    String url,
    String user,
    String password,
    Path dataDir,
    int poolSize,
    Duration connectTimeout,
    int maxBatch,
    Duration commitPause,
    Duration retryDelay,
    int maxPendingChanges,
    Duration messageRetention) {

  /** The configuration path of the store's settings. */
  public static final String PATH = "parley.server.store";

  /** Name of the embedded database's files in the data directory. */
  static final String EMBEDDED_NAME = "parley";

  public StoreSettings {
    if (poolSize < 2) {
      // One connection for the journal's writes, at least one for reads alongside them.
      throw new IllegalArgumentException("pool-size must be 2 or more");
    }
    if (maxBatch <= 0 || maxPendingChanges <= 0) {
      throw new IllegalArgumentException("max-batch and max-pending-changes must be positive");
    }
  }

  public static StoreSettings fromConfig(Config root) {
    Config c = root.getConfig(PATH);
    return new StoreSettings(
        c.getString("url"),
        c.getString("user"),
        c.getString("password"),
        Path.of(c.getString("data-dir")),
        c.getInt("pool-size"),
        c.getDuration("connect-timeout"),
        c.getInt("max-batch"),
        c.getDuration("commit-pause"),
        c.getDuration("retry-delay"),
        c.getInt("max-pending-changes"),
        c.getDuration("message-retention"));
  }

  /** Whether the embedded database is used (no URL configured). */
  public boolean embedded() {
    return url.isBlank();
  }

  /**
   * The JDBC URL to connect to: the configured one, or the embedded H2 file database. H2 runs in
   * PostgreSQL mode so that one SQL dialect serves both; WRITE_DELAY=0 writes every commit to the
   * file before the commit returns, so that a killed server process loses nothing it acknowledged;
   * AUTO_SERVER lets the admin command line open the database while the server runs.
   */
  public String jdbcUrl() {
    if (!embedded()) {
      return url;
    }
    return "jdbc:h2:file:"
        + dataDir.toAbsolutePath().resolve(EMBEDDED_NAME)
        + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH"
        + ";WRITE_DELAY=0;AUTO_SERVER=TRUE";
  }

  /** A printable description of the database, without credentials. */
  public String describe() {
    return embedded()
        ? "embedded H2 in " + dataDir.toAbsolutePath()
        : url.replaceAll("password=[^&;]*", "password=***");
  }
}
