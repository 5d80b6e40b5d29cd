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
            4,
            Duration.ofSeconds(5),
            1000,
            Duration.ofMillis(5),
            Duration.ofSeconds(1),
            100_000,
            Duration.ofDays(7)),
        settings);
    assertTrue(settings.embedded());
  }

  @Test
  void shouldUseTheEmbeddedDatabaseInTheDataDirectoryWithoutAUrl() {
    StoreSettings settings = settings("", DIR);

    assertTrue(settings.embedded());
    assertEquals(
        "jdbc:h2:file:/var/lib/parley/parley;MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE"
            + ";DEFAULT_NULL_ORDERING=HIGH;WRITE_DELAY=0;AUTO_SERVER=TRUE",
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
  void shouldRefuseTooSmallAPoolAndNonPositiveLimits() {
    assertEquals(
        "pool-size must be 2 or more",
        assertThrows(IllegalArgumentException.class, () -> settings(1, 1000, 1000)).getMessage());
    assertThrows(IllegalArgumentException.class, () -> settings(2, 0, 1000));
    assertThrows(IllegalArgumentException.class, () -> settings(2, 1000, 0));
  }

  private static StoreSettings settings(String url, Path dataDir) {
    return new StoreSettings(
        url,
        "",
        "",
        dataDir,
        4,
        Duration.ofSeconds(5),
        1000,
        Duration.ZERO,
        Duration.ofSeconds(1),
        1000,
        Duration.ofDays(7));
  }

  private static StoreSettings settings(int poolSize, int maxBatch, int maxPendingChanges) {
    return new StoreSettings(
        "",
        "",
        "",
        DIR,
        poolSize,
        Duration.ofSeconds(5),
        maxBatch,
        Duration.ZERO,
        Duration.ofSeconds(1),
        maxPendingChanges,
        Duration.ofDays(7));
  }
}
