package dev.parley.client.testing;

import com.typesafe.config.ConfigFactory;
import dev.parley.client.ClientSettings;

/** The client's settings as the tests use them: the defaults, or the defaults with some changes. */
public final class TestSettings {

  private TestSettings() {}

  public static ClientSettings defaults() {
    return ClientSettings.fromConfig(ConfigFactory.load());
  }

  /**
   * The defaults with some keys of {@code parley.client} changed, given as HOCON without the
   * prefix, such as {@code "peer-port = 4000"}.
   */
  public static ClientSettings with(String overrides) {
    return ClientSettings.fromConfig(
        ConfigFactory.parseString(overrides)
            .atPath(ClientSettings.CONFIG_PATH)
            .withFallback(ConfigFactory.load()));
  }
}
