package dev.parley.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ServerSettingsTest {

  @Test
  void shouldReadTheDefaultsOfReferenceConf() {
    ServerSettings settings = ServerSettings.fromConfig(ConfigFactory.defaultReference());

    assertEquals(
        new ServerSettings(
            "127.0.0.1",
            3331,
            1024,
            3,
            Duration.ofSeconds(60),
            Duration.ofSeconds(600),
            Duration.ofSeconds(120),
            Path.of("credentials.txt"),
            65_536,
            4L * 1024 * 1024,
            32,
            10,
            50_000,
            10_000,
            600_000,
            Duration.ofSeconds(10),
            Duration.ofSeconds(5),
            Duration.ofSeconds(5)),
        settings);
  }

  @Test
  void shouldRefuseNonPositiveLimitsAndDurations() {
    assertInvalid("max-login-failures = 0", "max-login-failures must be positive, not 0");
    assertInvalid("max-bad-frames = -1", "max-bad-frames must be positive, not -1");
    assertInvalid("block-duration = 0s", "block-duration must be a positive duration, not PT0S");
    assertInvalid("idle-timeout = -5s", "idle-timeout must be a positive duration, not PT-5S");
    assertInvalid("mailbox-capacity = 0", "mailbox-capacity must be positive, not 0");
    assertInvalid(
        "password-hash-iterations = 0", "password-hash-iterations must be positive, not 0");
    assertInvalid(
        "directory-refresh = 0s", "directory-refresh must be a positive duration, not PT0S");
  }

  @Test
  void shouldRefuseAPortOutOfRange() {
    assertInvalid("port = 65536", "port must be between 0 and 65535, not 65536");
    assertInvalid("port = -1", "port must be between 0 and 65535, not -1");
  }

  private static void assertInvalid(String override, String message) {
    IllegalArgumentException error =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                ServerSettings.fromConfig(
                    ConfigFactory.parseString("parley.server." + override)
                        .withFallback(ConfigFactory.defaultReference())));
    assertEquals(message, error.getMessage());
  }
}
