package dev.parley.it.support;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.parley.server.Guardian;
import dev.parley.server.ParleyServer;
import dev.parley.server.ServerSettings;
import dev.parley.server.admin.AccountImport;
import dev.parley.server.login.CredentialsFile;
import dev.parley.server.login.PasswordHasher;
import dev.parley.server.store.Store;
import dev.parley.server.store.StoreSettings;
import dev.parley.server.store.StoreSnapshot;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real server node on a loopback port, with its own embedded database (or the settings of a fresh
 * PostgreSQL schema, for the tests that ask for one), the bundled demo accounts (the five users of
 * the reference sample run) and the settings a test asks for. It can be restarted on the same data
 * and port, as an operator would after a crash.
 */
public final class TestServer implements AutoCloseable {

  /** As long as a packaged server's start: the same two busy cores slow this one too. */
  public static final Duration STARTUP = ServerProcess.STARTUP;

  /** The demo accounts' passwords. */
  public static final Map<String, String> PASSWORDS =
      Map.of(
          "hans", "falcon*solo",
          "yoda", "wise@!man",
          "vader", "sithlord**",
          "r2d2", "do*!*beep",
          "luke", "r2d2&c3p0");

  /** Cheap hashes: the tests log in hundreds of times and the hash cost is not what they test. */
  private static final int TEST_HASH_ITERATIONS = 1_000;

  static {
    // SLF4J set up before the first actor system, so that it does not replay its start-up notice.
    org.slf4j.LoggerFactory.getLogger(TestServer.class);
  }

  private final Config config;
  private final Clock clock;
  private final Store store;
  private final ParleyServer server;
  private final int port;

  private TestServer(Config config, Clock clock, Store store, ParleyServer server, int port) {
    this.config = config;
    this.clock = clock;
    this.store = store;
    this.server = server;
    this.port = port;
  }

  /** A server with test defaults (a free port, long timeouts, a new database) and overrides. */
  public static TestServer start(Map<String, Object> overrides, Clock clock) {
    Map<String, Object> settings = new HashMap<>();
    settings.put("parley.server.port", 0);
    settings.put("parley.server.block-duration", "60s");
    settings.put("parley.server.idle-timeout", "600s");
    settings.put("parley.server.password-hash-iterations", TEST_HASH_ITERATIONS);
    settings.put("parley.server.store.data-dir", newDataDir().toString());
    settings.putAll(overrides);
    Config config = ConfigFactory.parseMap(settings).withFallback(ConfigFactory.load()).resolve();
    return launch(config, clock, true);
  }

  public static TestServer start(Map<String, Object> overrides) {
    return start(overrides, Clock.systemUTC());
  }

  public static TestServer start() {
    return start(Map.of());
  }

  /** Stops this server (as SIGTERM would) and starts a new one on the same data and port. */
  public TestServer restart() {
    close();
    Config again =
        ConfigFactory.parseMap(Map.of("parley.server.port", port)).withFallback(config).resolve();
    return launch(again, clock, false);
  }

  private static TestServer launch(Config config, Clock clock, boolean fresh) {
    ServerSettings settings = ServerSettings.fromConfig(config);
    StoreSettings storeSettings = StoreSettings.fromConfig(config);
    Store store;
    StoreSnapshot snapshot;
    try {
      store = Store.open(storeSettings);
      if (fresh) {
        AccountImport.run(
            store,
            CredentialsFile.readDemo(),
            new PasswordHasher(settings.passwordHashIterations()),
            clock.instant());
      }
      snapshot = store.load(clock.instant());
    } catch (SQLException e) {
      throw new IllegalStateException("cannot open the test database", e);
    }
    ParleyServer server =
        ParleyServer.start(
            config, settings, new Guardian.Storage(store, storeSettings, snapshot), clock);
    int port =
        server
            .bound()
            .toCompletableFuture()
            .orTimeout(STARTUP.toSeconds(), TimeUnit.SECONDS)
            .join()
            .getPort();
    return new TestServer(config, clock, store, server, port);
  }

  /** Under the module's build directory, so that {@code mvn clean} removes it. */
  private static Path newDataDir() {
    try {
      Path parent = Files.createDirectories(Path.of("target", "it-data"));
      return Files.createTempDirectory(parent, "server-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public int port() {
    return port;
  }

  public String host() {
    return "127.0.0.1";
  }

  /** The fingerprint of the server's certificate; empty when it runs with TLS off. */
  public java.util.Optional<dev.parley.transport.Fingerprint> fingerprint() {
    return server.tlsFingerprint();
  }

  /** The server's database, for tests that look at what it stored. */
  public Store store() {
    return store;
  }

  @Override
  public void close() {
    server.stop().toCompletableFuture().join();
    server.terminated().toCompletableFuture().join();
    store.close();
  }
}
