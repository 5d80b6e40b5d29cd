package dev.parley.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.parley.client.testing.TestSettings;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ClientSettingsTest {

  @Test
  void shouldReadTheDefaults() {
    ClientSettings settings = ClientSettings.fromConfig(ConfigFactory.load());
    assertEquals(64 * 1024, settings.maxFrameBytes());
    assertEquals(0, settings.peerPort());
    assertEquals(Optional.empty(), settings.peerBindHostOverride());
    assertEquals("> ", settings.commandPrompt());
    assertEquals(Duration.ofSeconds(10), settings.peerHandshakeTimeout());
    assertEquals(64, settings.maxPrivateChatInvitations());
    assertEquals(1000, settings.maxUnsentMessages());
    assertEquals(32, settings.maxInFlightMessages());
    assertEquals(32, settings.maxUnackedPrivate());
    assertEquals(4L * 1024 * 1024, settings.outboundBufferBytes());
    assertEquals(Duration.ofSeconds(2), settings.resendDelay());
    assertEquals(Duration.ofMinutes(2), settings.reconnectWindow());
    assertEquals(Duration.ofMillis(200), settings.reconnectBackoffMin());
    assertEquals(Duration.ofSeconds(5), settings.reconnectBackoffMax());
    assertEquals(0.2, settings.reconnectBackoffRandomFactor());
    assertTrue(settings.reconnects());
  }

  @Test
  void shouldNotReconnectWithAZeroWindow() {
    assertFalse(TestSettings.with("reconnect-window = 0").reconnects());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "max-unsent-messages = 0",
        "max-in-flight-messages = 0",
        "resend-delay = 0s",
        "reconnect-window = -1s",
        "reconnect-backoff-min = 0s",
        "reconnect-backoff-max = 100ms",
        "reconnect-backoff-random-factor = -0.5",
        "max-private-chat-invitations = 0"
      })
  void shouldRefuseDeliverySettingsThatCannotWork(String setting) {
    assertThrows(IllegalArgumentException.class, () -> TestSettings.with(setting));
  }

  @Test
  void shouldRefuseValuesThatCannotWork() {
    assertThrows(
        IllegalArgumentException.class,
        () ->
            ClientSettings.fromConfig(
                ConfigFactory.parseString("parley.client.peer-port = 70000")
                    .withFallback(ConfigFactory.load())));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            ClientSettings.fromConfig(
                ConfigFactory.parseString("parley.client.close-timeout = 0s")
                    .withFallback(ConfigFactory.load())));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            ClientSettings.fromConfig(
                ConfigFactory.parseString("parley.client.max-unacked-private = 0")
                    .withFallback(ConfigFactory.load())));
  }

  @Test
  void shouldHoldWhatRunsAheadInTheOutboundBuffer() {
    int frame = ClientSettings.LARGEST_OUTBOUND_FRAME_BYTES;
    assertEquals(64 * 1024 + 1, frame);
    // The window of messages and of private texts, each at the largest frame, and one frame more.
    long exact = 33L * frame;
    ClientSettings fits =
        TestSettings.with(
            "outbound-buffer-bytes = "
                + exact
                + ", max-in-flight-messages = 32, max-unacked-private = 32");
    assertEquals(exact, fits.outboundBufferBytes());
    String message =
        assertThrows(
                IllegalArgumentException.class,
                () ->
                    TestSettings.with(
                        "outbound-buffer-bytes = " + (exact - 1) + ", max-unacked-private = 1"))
            .getMessage();
    assertTrue(message.contains("max-in-flight-messages"), message);
    message =
        assertThrows(
                IllegalArgumentException.class,
                () -> TestSettings.with("max-unacked-private = 64, max-in-flight-messages = 1"))
            .getMessage();
    assertTrue(message.contains("max-unacked-private"), message);
    // 4 MiB, the default, holds a window of up to 62.
    assertEquals(62, TestSettings.with("max-in-flight-messages = 62").maxInFlightMessages());
    assertThrows(
        IllegalArgumentException.class, () -> TestSettings.with("max-in-flight-messages = 63"));
  }
}
