package dev.parley.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.typesafe.config.ConfigFactory;
import dev.parley.protocol.CommandRate;
import dev.parley.server.broadcast.PresenceBatching;
import dev.parley.server.limits.AddressRange;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class ServerSettingsTest {

  @Test
  void shouldReadTheDefaultsOfReferenceConf() {
    ServerSettings settings = ServerSettings.fromConfig(ConfigFactory.defaultReference());

    assertEquals(
        new ServerSettings(
            "127.0.0.1",
            3331,
            4096,
            new ServerSettings.Sockets(
                true, 1, 64 * 1024, 64 * 1024, Duration.ofMillis(20), Duration.ofMillis(100)),
            2 * Runtime.getRuntime().availableProcessors(),
            3,
            Duration.ofSeconds(60),
            Duration.ofSeconds(600),
            Duration.ofSeconds(120),
            Duration.ofSeconds(15),
            Duration.ofSeconds(45),
            Duration.ofMinutes(10),
            Duration.ofSeconds(30),
            Path.of("credentials.txt"),
            65_536,
            60 * 1024,
            4L * 1024 * 1024,
            32,
            10,
            50_000,
            new ServerSettings.Mailbox(10_000, 16L * 1024 * 1024, 500, 1024 * 1024, 100),
            new ServerSettings.Limits(
                true,
                List.of(AddressRange.parse("127.0.0.0/8"), AddressRange.parse("::1")),
                100_000,
                new CommandRate(5, 30),
                64,
                new CommandRate(2, 20),
                new CommandRate(20, 100),
                200),
            new ServerSettings.Passwords(600_000, 2, 256),
            new PresenceBatching(
                Duration.ofMillis(100), Duration.ofNanos(20_000), Duration.ofSeconds(2)),
            Duration.ofSeconds(10),
            Duration.ofSeconds(1),
            Duration.ofSeconds(30),
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
    assertInvalid(
        "heartbeat-interval = 0s", "heartbeat-interval must be a positive duration, not PT0S");
    assertInvalid(
        "heartbeat-timeout = 15s",
        "heartbeat-timeout must be longer than heartbeat-interval, not PT15S");
  }

  @Test
  void shouldRefuseATextLimitThatWouldNotFitAFrame() {
    assertInvalid(
        "max-text-bytes = 61441",
        "max-text-bytes must be at most 61440 and leave 4096 bytes of max-frame-bytes for the rest"
            + " of a frame, not 61441");
    assertEquals(
        4096,
        ServerSettings.fromConfig(
                ConfigFactory.parseString(
                        "parley.server { max-frame-bytes = 8192, max-text-bytes = 4096 }")
                    .withFallback(ConfigFactory.defaultReference()))
            .maxTextBytes());
  }

  @Test
  void shouldRefuseAnOutboundBufferSmallerThanTheDeliveryWindow() {
    assertInvalid(
        "outbound-buffer-bytes = 1 MiB",
        "outbound-buffer-bytes must hold delivery-window-bytes and two frames more");
  }

  @Test
  void shouldRefuseAnExemptAddressThatIsNotAnAddress() {
    assertInvalid(
        "limits.exempt = [\"localhost\"]", "not an IP address or CIDR range: 'localhost'");
  }

  @Test
  void shouldRefuseAPortOutOfRange() {
    assertInvalid("port = 65536", "port must be between 0 and 65535, not 65536");
    assertInvalid("port = -1", "port must be between 0 and 65535, not -1");
  }

  @Test
  void shouldTakeTheConnectionHostsGivenAndRefuseANegativeNumber() {
    assertEquals(
        3,
        ServerSettings.fromConfig(
                ConfigFactory.parseString("parley.server.connection-hosts = 3")
                    .withFallback(ConfigFactory.defaultReference()))
            .connectionHosts());
    assertInvalid("connection-hosts = -1", "connection-hosts must be 0 or more, not -1");
  }

  @Test
  void shouldTakeAkkasSocketsWhenAskedAndRefuseAnyOtherName() {
    assertEquals(
        false,
        ServerSettings.fromConfig(
                ConfigFactory.parseString("parley.server.socket-io = akka")
                    .withFallback(ConfigFactory.defaultReference()))
            .sockets()
            .own());
    assertInvalid("socket-io = netty", "socket-io must be nio or akka, not netty");
    assertInvalid("io-selectors = 0", "io-selectors must be positive, not 0");
    assertInvalid(
        "io-write-hold = -1ms", "io-write-hold must not be a negative duration: PT-0.001S");
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
