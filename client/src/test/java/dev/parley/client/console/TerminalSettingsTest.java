package dev.parley.client.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TerminalSettingsTest {

  private static Config config(Path home, String terminal) {
    return ConfigFactory.parseString(
            "parley.client.home = \"" + home + "\"\nparley.client.terminal {" + terminal + "}")
        .withFallback(ConfigFactory.defaultReference())
        .resolve();
  }

  @Test
  void shouldDefaultToColoursNoTimestampsAndAHistoryInTheClientsHome(@TempDir Path home) {
    TerminalSettings settings = TerminalSettings.fromConfig(config(home, ""), Map.of());
    assertTrue(settings.colors());
    assertFalse(settings.timestamps());
    assertEquals(Optional.of(home.resolve("history")), settings.historyFile());
    assertEquals(500, settings.historySize());
  }

  /** no-color.org: set to anything, even empty. */
  @Test
  void shouldTurnColoursOffWithNoColorWhateverItsValue(@TempDir Path home) {
    assertFalse(TerminalSettings.fromConfig(config(home, ""), Map.of("NO_COLOR", "")).colors());
    assertFalse(TerminalSettings.fromConfig(config(home, ""), Map.of("NO_COLOR", "1")).colors());
    assertFalse(TerminalSettings.fromConfig(config(home, "colors = off"), Map.of()).colors());
  }

  @Test
  void shouldTakeTimestampsAndHistorySizeFromTheConfig(@TempDir Path home) {
    TerminalSettings settings =
        TerminalSettings.fromConfig(config(home, "timestamps = on, history-size = 0"), Map.of());
    assertTrue(settings.timestamps());
    assertEquals(Optional.empty(), settings.historyFile());
    assertThrows(
        IllegalArgumentException.class,
        () -> TerminalSettings.fromConfig(config(home, "history-size = -1"), Map.of()));
  }
}
