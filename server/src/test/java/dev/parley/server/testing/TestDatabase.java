package dev.parley.server.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.parley.server.store.Store;
import dev.parley.server.store.StoreSettings;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * A real, empty database for one test: the embedded H2 database in a directory of the test's own,
 * configured exactly as the server configures it, or a fresh schema on the PostgreSQL server named
 * by {@value #PG_URL} (with {@value #PG_USER} and {@value #PG_PASSWORD}). Without that variable the
 * PostgreSQL cases are skipped (a JUnit assumption fails); CI sets it.
 *
 * <p>Closing it closes every {@link Store} opened through it and drops the PostgreSQL schema.
 */
public final class TestDatabase implements AutoCloseable {

  /** Where the test's state lives. */
  public enum Kind {
    H2,
    POSTGRESQL
  }

  /** JDBC URL of a PostgreSQL database the tests may create schemas in. */
  public static final String PG_URL = "PARLEY_TEST_PG_URL";

  public static final String PG_USER = "PARLEY_TEST_PG_USER";
  public static final String PG_PASSWORD = "PARLEY_TEST_PG_PASSWORD";

  private final Kind kind;
  private final StoreSettings settings;
  private final String schema;
  private final List<Store> opened = new ArrayList<>();

  private TestDatabase(Kind kind, StoreSettings settings, String schema) {
    this.kind = kind;
    this.settings = settings;
    this.schema = schema;
  }

  /** A database of {@code kind}; {@code dir} is the H2 data directory (a {@code @TempDir}). */
  public static TestDatabase create(Kind kind, Path dir) throws SQLException {
    return kind == Kind.H2 ? h2(dir) : postgres();
  }

  /**
   * The embedded database in {@code dataDir}, with the settings of {@code reference.conf} and the
   * JDBC URL that {@link StoreSettings#jdbcUrl()} builds for the server.
   */
  public static TestDatabase h2(Path dataDir) {
    return new TestDatabase(Kind.H2, referenceSettings("", "", "", dataDir), null);
  }

  /** A new schema of its own on the PostgreSQL server of {@value #PG_URL}. */
  public static TestDatabase postgres() throws SQLException {
    String url = System.getenv(PG_URL);
    boolean configured = url != null && !url.isBlank();
    // CI starts a PostgreSQL server and sets this: there, a missing database is a failure.
    if (System.getenv("PARLEY_REQUIRE_PG") != null && !configured) {
      throw new IllegalStateException("PARLEY_REQUIRE_PG is set but " + PG_URL + " is not");
    }
    assumeTrue(configured, PG_URL + " is not set: the PostgreSQL cases are skipped");
    String user = envOrEmpty(PG_USER);
    String password = envOrEmpty(PG_PASSWORD);
    String schema = "parley_test_" + UUID.randomUUID().toString().replace("-", "");
    try (Connection c = DriverManager.getConnection(url, user, password);
        Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA " + schema);
    }
    String schemaUrl = url + (url.contains("?") ? "&" : "?") + "currentSchema=" + schema;
    return new TestDatabase(
        Kind.POSTGRESQL, referenceSettings(schemaUrl, user, password, Path.of("data")), schema);
  }

  /** The store settings of {@code reference.conf}, with these connection settings. */
  private static StoreSettings referenceSettings(
      String url, String user, String password, Path dataDir) {
    // The environment's PARLEY_DB_* variables (read by reference.conf) must not redirect a test.
    Config config =
        ConfigFactory.parseMap(
                Map.of(
                    StoreSettings.PATH + ".url", url,
                    StoreSettings.PATH + ".user", user,
                    StoreSettings.PATH + ".password", password,
                    StoreSettings.PATH + ".data-dir", dataDir.toString()))
            .withFallback(ConfigFactory.defaultReference())
            .resolve();
    return StoreSettings.fromConfig(config);
  }

  public Kind kind() {
    return kind;
  }

  /** The settings the store is opened with. */
  public StoreSettings settings() {
    return settings;
  }

  /** The settings with the journal's knobs changed. */
  public StoreSettings settings(
      int maxBatch, Duration retryDelay, int maxPendingChanges, Duration messageRetention) {
    return settings(
        "max-batch = "
            + maxBatch
            + "\nretry-delay = "
            + retryDelay.toMillis()
            + "ms\nmax-pending-changes = "
            + maxPendingChanges
            + "\nmessage-retention = "
            + messageRetention.toMillis()
            + "ms");
  }

  /**
   * The settings with {@code overrides} (HOCON, keys relative to the store's section) applied. The
   * journal tests count transactions: there is no pause between them unless {@code overrides} sets
   * {@code commit-pause}.
   */
  public StoreSettings settings(String overrides) {
    Config config =
        ConfigFactory.parseString(overrides)
            .withFallback(ConfigFactory.parseMap(Map.of("commit-pause", "0s")))
            .atPath(StoreSettings.PATH)
            .withFallback(ConfigFactory.parseMap(connection(settings)))
            .withFallback(ConfigFactory.defaultReference())
            .resolve();
    return StoreSettings.fromConfig(config);
  }

  private static Map<String, String> connection(StoreSettings settings) {
    return Map.of(
        StoreSettings.PATH + ".url", settings.url(),
        StoreSettings.PATH + ".user", settings.user(),
        StoreSettings.PATH + ".password", settings.password(),
        StoreSettings.PATH + ".data-dir", settings.dataDir().toString());
  }

  /** Opens a store on this database (migrating it); closed with the database at the latest. */
  public Store open() throws SQLException {
    return open(settings);
  }

  /** Opens a store on this database with these settings (from {@link #settings(String)}). */
  public Store open(StoreSettings storeSettings) throws SQLException {
    Store store = Store.open(storeSettings);
    // Tests open stores from several threads at once, as nodes start.
    synchronized (opened) {
      opened.add(store);
    }
    return store;
  }

  @Override
  public void close() throws SQLException {
    synchronized (opened) {
      opened.forEach(Store::close);
      opened.clear();
    }
    if (kind == Kind.POSTGRESQL) {
      try (Connection c =
              DriverManager.getConnection(
                  System.getenv(PG_URL), envOrEmpty(PG_USER), envOrEmpty(PG_PASSWORD));
          Statement s = c.createStatement()) {
        s.execute("DROP SCHEMA " + schema + " CASCADE");
      }
    }
  }

  private static String envOrEmpty(String name) {
    String value = System.getenv(name);
    return value == null ? "" : value;
  }
}
