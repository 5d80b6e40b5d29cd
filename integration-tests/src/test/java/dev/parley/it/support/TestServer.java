package dev.parley.it.support;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.parley.server.ParleyServer;
import dev.parley.server.ServerSettings;
import dev.parley.server.login.Accounts;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * A real server node on a free loopback port, with the bundled demo accounts (the five users of the
 * reference sample run) and the settings a test asks for.
 */
public final class TestServer implements AutoCloseable {

  public static final Duration STARTUP = Duration.ofSeconds(20);

  /** The demo accounts' passwords. */
  public static final Map<String, String> PASSWORDS =
      Map.of(
          "hans", "falcon*solo",
          "yoda", "wise@!man",
          "vader", "sithlord**",
          "r2d2", "do*!*beep",
          "luke", "r2d2&c3p0");

  static {
    // SLF4J set up before the first actor system, so that it does not replay its start-up notice.
    org.slf4j.LoggerFactory.getLogger(TestServer.class);
  }

  private final ParleyServer server;
  private final int port;

  private TestServer(ParleyServer server, int port) {
    this.server = server;
    this.port = port;
  }

  /** A server with test defaults (port 0, long timeouts) and the given overrides. */
  public static TestServer start(Map<String, Object> overrides, Clock clock) {
    Map<String, Object> settings = new HashMap<>();
    settings.put("parley.server.port", 0);
    settings.put("parley.server.block-duration", "60s");
    settings.put("parley.server.idle-timeout", "600s");
    settings.putAll(overrides);
    Config config = ConfigFactory.parseMap(settings).withFallback(ConfigFactory.load()).resolve();
    ParleyServer server =
        ParleyServer.start(
            config, ServerSettings.fromConfig(config), Accounts.readDemo().accounts(), clock);
    int port =
        server
            .bound()
            .toCompletableFuture()
            .orTimeout(STARTUP.toSeconds(), java.util.concurrent.TimeUnit.SECONDS)
            .join()
            .getPort();
    return new TestServer(server, port);
  }

  public static TestServer start(Map<String, Object> overrides) {
    return start(overrides, Clock.systemUTC());
  }

  public static TestServer start() {
    return start(Map.of());
  }

  public int port() {
    return port;
  }

  public String host() {
    return "127.0.0.1";
  }

  @Override
  public void close() {
    server.stop().toCompletableFuture().join();
    server.terminated().toCompletableFuture().join();
  }
}
