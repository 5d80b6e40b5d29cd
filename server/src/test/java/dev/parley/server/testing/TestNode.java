package dev.parley.server.testing;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.parley.server.Guardian;
import dev.parley.server.ParleyServer;
import dev.parley.server.ServerSettings;
import dev.parley.server.login.PasswordHasher;
import dev.parley.server.store.Store;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A whole node in this JVM, on an H2 store in a temporary directory, with both ports on loopback at
 * free ports and TLS off: the clients' TCP port and the HTTP port with {@code /ws}.
 */
public final class TestNode implements AutoCloseable {

  /** Cheap hashes: these tests are about sessions, not about hashing. */
  private static final int HASH_ITERATIONS = 1_000;

  private static final long STOP_SECONDS = 30;

  private final TestDatabase database;
  private ParleyServer server;

  private TestNode(TestDatabase database) {
    this.database = database;
  }

  /**
   * Starts a node with the accounts in {@code accounts} (name to password) and {@code overrides}
   * (HOCON inside {@code parley.server}).
   */
  public static TestNode start(Path dir, Map<String, String> accounts, String overrides)
      throws Exception {
    TestNode node = new TestNode(TestDatabase.h2(dir));
    Store store = node.database.open();
    PasswordHasher hasher = new PasswordHasher(HASH_ITERATIONS);
    Clock clock = Clock.systemUTC();
    for (Map.Entry<String, String> account : accounts.entrySet()) {
      store.addAccount(account.getKey(), hasher.hash(account.getValue()), clock.instant());
    }
    Config config =
        ConfigFactory.parseString(
                "parley.server { port = 0, host = \"127.0.0.1\", tls.enabled = off, http.port = 0, "
                    + overrides
                    + " }")
            .withFallback(ConfigFactory.load());
    node.server =
        ParleyServer.start(
            config,
            ServerSettings.fromConfig(config),
            new Guardian.Storage(store, node.database.settings(), store.load(clock.instant())),
            clock);
    return node;
  }

  /** The clients' TCP port, once bound. */
  public InetSocketAddress tcp() throws Exception {
    return server.bound().toCompletableFuture().get(Wire.WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  /** The HTTP port, once bound. */
  public InetSocketAddress http() throws Exception {
    return server.httpBound().toCompletableFuture().get(Wire.WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  /** The node's {@code /metrics}, as Prometheus would scrape it. */
  public String metrics() throws Exception {
    HttpResponse<String> response =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + http().getPort() + "/metrics"))
                    .timeout(Wire.WAIT)
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    return response.body();
  }

  /** A new connection over {@code transport}. */
  public Wire connect(Wire.Transport transport) throws Exception {
    return transport.open(tcp(), http());
  }

  /** Stops the node (its coordinated shutdown: goodbyes, then the store); idempotent. */
  public void stop() throws Exception {
    if (server != null) {
      ParleyServer stopping = server;
      server = null;
      stopping.stop().toCompletableFuture().get(STOP_SECONDS, TimeUnit.SECONDS);
    }
  }

  @Override
  public void close() throws Exception {
    try {
      stop();
    } finally {
      database.close();
    }
  }
}
