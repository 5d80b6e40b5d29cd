package dev.parley.bench;

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
import dev.parley.transport.Fingerprint;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A real Parley server in the test's JVM, on a free loopback port, with an embedded database in a
 * temporary directory and the accounts of a credentials file (as {@code parley-bench credentials}
 * writes it), hashed cheaply, and the flood limits lifted as the benchmark's servers have them;
 * with TLS (its self-signed certificate made in the data directory), or plain TCP as with {@code
 * --plaintext}. Started the way the integration tests start theirs.
 */
final class BenchTestServer implements AutoCloseable {

  private static final int HASH_ITERATIONS = 1_000;
  private static final long STARTUP_SECONDS = 20;

  static {
    // SLF4J set up before the first actor system, so that it does not replay its start-up notice.
    org.slf4j.LoggerFactory.getLogger(BenchTestServer.class);
  }

  private final Path dataDir;
  private final Path credentials;
  private final Store store;
  private final ParleyServer server;
  private final int port;
  private final boolean tls;

  private BenchTestServer(
      Path dataDir, Path credentials, Store store, ParleyServer server, int port, boolean tls) {
    this.dataDir = dataDir;
    this.credentials = credentials;
    this.store = store;
    this.server = server;
    this.port = port;
    this.tls = tls;
  }

  /** A server with TLS, as by default. */
  static BenchTestServer start(Path dataDir, Path credentials) throws Exception {
    return start(dataDir, credentials, 0, true);
  }

  /** A server without TLS, as with {@code --plaintext}. */
  static BenchTestServer startPlaintext(Path dataDir, Path credentials) throws Exception {
    return start(dataDir, credentials, 0, false);
  }

  /** A server without TLS, with some of its settings ({@code parley.server.*}) changed. */
  static BenchTestServer startPlaintext(Path dataDir, Path credentials, Map<String, ?> changes)
      throws Exception {
    return start(dataDir, credentials, 0, false, changes);
  }

  /**
   * Stops this server (its clients are told {@code server-shutdown}) and starts a new one on the
   * same port and data, as an operator's restart does.
   */
  BenchTestServer restart() throws Exception {
    close();
    return start(dataDir, credentials, port, tls);
  }

  private static BenchTestServer start(Path dataDir, Path credentials, int port, boolean tls)
      throws Exception {
    return start(dataDir, credentials, port, tls, Map.of());
  }

  private static BenchTestServer start(
      Path dataDir, Path credentials, int port, boolean tls, Map<String, ?> changes)
      throws Exception {
    Map<String, Object> changed = new HashMap<>();
    changes.forEach((key, value) -> changed.put("parley.server." + key, value));
    Config config =
        ConfigFactory.parseMap(changed)
            .withFallback(
                ConfigFactory.parseMap(
                    Map.of(
                        "parley.server.port",
                        port,
                        "parley.server.tls.enabled",
                        tls,
                        "parley.server.idle-timeout",
                        "600s",
                        "parley.server.password-hash-iterations",
                        HASH_ITERATIONS,
                        // As bench/lifted-limits.conf: the scenarios send as fast as the server
                        // answers, far over the per-connection command rate.
                        "parley.server.limits.enabled",
                        false,
                        "parley.server.store.data-dir",
                        dataDir.toString())))
            .withFallback(ConfigFactory.load())
            .resolve();
    ServerSettings settings = ServerSettings.fromConfig(config);
    StoreSettings storeSettings = StoreSettings.fromConfig(config);
    Clock clock = Clock.systemUTC();
    Store store = Store.open(storeSettings);
    AccountImport.run(
        store,
        CredentialsFile.read(credentials),
        new PasswordHasher(settings.passwordHashIterations()),
        clock.instant());
    StoreSnapshot snapshot = store.load(clock.instant());
    ParleyServer server =
        ParleyServer.start(
            config, settings, new Guardian.Storage(store, storeSettings, snapshot), clock);
    int bound =
        server
            .bound()
            .toCompletableFuture()
            .orTimeout(STARTUP_SECONDS, TimeUnit.SECONDS)
            .join()
            .getPort();
    return new BenchTestServer(dataDir, credentials, store, server, bound, tls);
  }

  int port() {
    return port;
  }

  /** The fingerprint of the certificate the server presents; empty without TLS. */
  Optional<Fingerprint> fingerprint() {
    return server.tlsFingerprint();
  }

  @Override
  public void close() {
    server.stop().toCompletableFuture().join();
    server.terminated().toCompletableFuture().join();
    store.close();
  }
}
