package dev.parley.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ClientSettingsTest {

  @Test
  void shouldReadTheDefaults() {
    ClientSettings settings = ClientSettings.fromConfig(ConfigFactory.load());
    assertEquals(64 * 1024, settings.maxFrameBytes());
    assertEquals(0, settings.peerPort());
    assertEquals(Optional.empty(), settings.peerBindHostOverride());
    assertEquals("> ", settings.commandPrompt());
    assertEquals(Duration.ofSeconds(10), settings.peerHandshakeTimeout());
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
}
