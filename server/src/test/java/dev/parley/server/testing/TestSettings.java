package dev.parley.server.testing;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.parley.server.ServerSettings;
import dev.parley.server.http.HttpSettings;

/** Server settings for tests: the defaults of {@code reference.conf} with a few keys changed. */
public final class TestSettings {

  private TestSettings() {}

  /**
   * The defaults, on a free loopback port, with {@code overrides} (HOCON, keys relative to {@code
   * parley.server}) applied on top.
   */
  public static ServerSettings with(String overrides) {
    return ServerSettings.fromConfig(config(overrides));
  }

  /** The HTTP port's defaults, on a free loopback port. */
  public static HttpSettings http() {
    return HttpSettings.fromConfig(config("http.port = 0"));
  }

  private static Config config(String overrides) {
    return ConfigFactory.parseString(
            "parley.server {\nhost = \"127.0.0.1\"\nport = 0\n" + overrides + "\n}")
        .withFallback(ConfigFactory.defaultReference())
        .resolve();
  }
}
