package dev.parley.client.testing;

import com.typesafe.config.ConfigFactory;
import dev.parley.client.ClientSettings;

/** The client's default settings, as the tests use them. */
public final class TestSettings {

  private TestSettings() {}

  public static ClientSettings defaults() {
    return ClientSettings.fromConfig(ConfigFactory.load());
  }
}
