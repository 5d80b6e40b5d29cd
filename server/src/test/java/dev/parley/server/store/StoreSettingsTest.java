package dev.parley.server.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigResolveOptions;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class StoreSettingsTest {

  private static final Path DIR = Path.of("/var/lib/parley");

  @Test
  void shouldReadTheDefaultsOfReferenceConf() {
    // Without the environment, whose PARLEY_DB_* variables would override the defaults.
    StoreSettings settings =
        StoreSettings.fromConfig(
            ConfigFactory.parseResources("reference.conf")
                .resolve(ConfigResolveOptions.noSystem()));

    assertEquals(
        new StoreSettings(
            "",
            "",
            "",
            Path.of("data"),
            2,
            4,
            1000,
            Duration.ofSeconds(5),
            1000,
            Duration.ofMillis(5),
            Duration.ofSeconds(1),
            100_000,
            64L * 1024 * 1024,
            Duration.ofDays(7),
            5000),
        settings);
    assertTrue(settings.embedded());
  }

  @Test
  void shouldUseTheEmbeddedDatabaseInTheDataDirectoryWithoutAUrl() {
    StoreSettings settings = settings("", DIR);

    assertTrue(settings.embedded());
    assertEquals(
        "jdbc:h2:file:/var/lib/parley/parley;MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE"
            + ";DEFAULT_NULL_ORDERING=HIGH;WRITE_DELAY=0;AUTO_SERVER=TRUE;TRACE_LEVEL_FILE=0",
        settings.jdbcUrl());
    assertEquals("embedded H2 in /var/lib/parley", settings.describe());
  }

  @Test
  void shouldResolveARelativeDataDirectoryAgainstTheWorkingDirectory() {
    StoreSettings settings = settings("", Path.of("data"));

    assertTrue(
        settings
            .jdbcUrl()
            .startsWith("jdbc:h2:file:" + Path.of("data").toAbsolutePath().resolve("parley") + ";"),
        settings.jdbcUrl());
  }

  @Test
  void shouldUseAConfiguredUrlAsItIsAndDescribeItWithoutItsPassword() {
    String url = "jdbc:postgresql://db.example:5432/parley?user=parley&password=s3cret&ssl=true";
    StoreSettings settings = settings(url, DIR);

    assertFalse(settings.embedded());
    assertEquals(url, settings.jdbcUrl());
    assertEquals(
        "jdbc:postgresql://db.example:5432/parley?user=parley&password=***&ssl=true",
        settings.describe());
  }

  @Test
  void shouldRefuseEmptyPoolsAndNonPositiveLimits() {
    assertEquals(
        "write-pool-size, read-pool-size and read-queue must be positive",
        assertThrows(IllegalArgumentException.class, () -> settings(0, 4, 1000, 1000, 1))
            .getMessage());
    assertThrows(IllegalArgumentException.class, () -> settings(2, 0, 1000, 1000, 1));
    assertThrows(IllegalArgumentException.class, () -> settings(2, 4, 0, 1000, 1));
    assertEquals(
        "max-batch, max-pending-changes, max-pending-bytes and purge-chunk must be positive",
        assertThrows(IllegalArgumentException.class, () -> settings(2, 4, 1000, 0, 1))
            .getMessage());
    assertThrows(IllegalArgumentException.class, () -> settings(2, 4, 1000, 1000, 0));
  }

  private static StoreSettings settings(String url, Path dataDir) {
    return new StoreSettings(
        url,
        "",
        "",
        dataDir,
        2,
        4,
        1000,
        Duration.ofSeconds(5),
        1000,
        Duration.ZERO,
        Duration.ofSeconds(1),
        1000,
        1024,
        Duration.ofDays(7),
        100);
  }

  private static StoreSettings settings(
      int writePoolSize, int readPoolSize, int readQueue, int maxBatch, int purgeChunk) {
    return new StoreSettings(
        "",
        "",
        "",
        DIR,
        writePoolSize,
        readPoolSize,
        readQueue,
        Duration.ofSeconds(5),
        maxBatch,
        Duration.ZERO,
        Duration.ofSeconds(1),
        1000,
        1024,
        Duration.ofDays(7),
        purgeChunk);
  }
}
