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
 * @param writePoolSize connections for the journal's batches, the purge and admin changes
 * @param readPoolSize connections for logins' lookups, usernames, mailbox pages, account events;
 *     also the threads of the reads' {@link BoundedExecutor}
 * @param readQueue store reads that may wait for a thread before further ones are refused (busy)
 * @param maxPendingChanges changes other than messages held while the database is down
 * @param maxPendingBytes encoded text bytes of the messages the journal holds (waiting or being
 *     written) before it refuses new ones
 * @param purgeChunk messages the purge looks at (and at most deletes) per transaction
 */
public record StoreSettings(
    String url,
    String user,
    String password,
    Path dataDir,
    int writePoolSize,
    int readPoolSize,
    int readQueue,
    Duration connectTimeout,
    int maxBatch,
    Duration commitPause,
    Duration retryDelay,
    int maxPendingChanges,
    long maxPendingBytes,
    Duration messageRetention,
    int purgeChunk) {

  /** The configuration path of the store's settings. */
  public static final String PATH = "parley.server.store";

  /** Name of the embedded database's files in the data directory. */
  static final String EMBEDDED_NAME = "parley";

  public StoreSettings {
    if (writePoolSize <= 0 || readPoolSize <= 0 || readQueue <= 0) {
      throw new IllegalArgumentException(
          "write-pool-size, read-pool-size and read-queue must be positive");
    }
    if (maxBatch <= 0 || maxPendingChanges <= 0 || maxPendingBytes <= 0 || purgeChunk <= 0) {
      throw new IllegalArgumentException(
          "max-batch, max-pending-changes, max-pending-bytes and purge-chunk must be positive");
    }
  }

  public static StoreSettings fromConfig(Config root) {
    Config c = root.getConfig(PATH);
    return new StoreSettings(
        c.getString("url"),
        c.getString("user"),
        c.getString("password"),
        Path.of(c.getString("data-dir")),
        c.getInt("write-pool-size"),
        c.getInt("read-pool-size"),
        c.getInt("read-queue"),
        c.getDuration("connect-timeout"),
        c.getInt("max-batch"),
        c.getDuration("commit-pause"),
        c.getDuration("retry-delay"),
        c.getInt("max-pending-changes"),
        c.getBytes("max-pending-bytes"),
        c.getDuration("message-retention"),
        c.getInt("purge-chunk"));
  }

  /** Whether the embedded database is used (no URL configured). */
  public boolean embedded() {
    return url.isBlank();
  }

  /**
   * The JDBC URL to connect to: the configured one, or the embedded H2 file database. H2 runs in
   * PostgreSQL mode so that one SQL dialect serves both; WRITE_DELAY=0 writes every commit to the
   * file before the commit returns, so that a killed server process loses nothing it acknowledged;
   * AUTO_SERVER lets the admin command line open the database while the server runs;
   * TRACE_LEVEL_FILE=0 keeps H2 from writing failed statements, message texts among their values,
   * to a trace file beside the database (the server logs every failure itself, without them).
   */
  public String jdbcUrl() {
    if (!embedded()) {
      return url;
    }
    return "jdbc:h2:file:"
        + dataDir.toAbsolutePath().resolve(EMBEDDED_NAME)
        + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH"
        + ";WRITE_DELAY=0;AUTO_SERVER=TRUE;TRACE_LEVEL_FILE=0";
  }

  /** A printable description of the database, without credentials. */
  public String describe() {
    return embedded()
        ? "embedded H2 in " + dataDir.toAbsolutePath()
        : url.replaceAll("password=[^&;]*", "password=***");
  }
}
