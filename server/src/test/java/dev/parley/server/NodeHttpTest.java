package dev.parley.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.parley.server.store.Store;
import dev.parley.server.testing.TestDatabase;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node with its HTTP port: ready while its clients' port is bound and its store answers, not
 * ready once the store is gone, and a port it cannot bind is reported to whoever started it.
 */
class NodeHttpTest {

  private static final Duration WAIT = Duration.ofSeconds(20);

  @TempDir Path dir;

  private TestDatabase database;
  private Store store;
  private ParleyServer server;
  private final HttpClient client = HttpClient.newBuilder().connectTimeout(WAIT).build();

  private ParleyServer start(int httpPort) throws Exception {
    database = TestDatabase.h2(dir);
    store = database.open();
    Config config =
        ConfigFactory.parseString(
                "parley.server { port = 0, host = \"127.0.0.1\", tls.enabled = off, http.port = "
                    + httpPort
                    + " }")
            .withFallback(ConfigFactory.load());
    server =
        ParleyServer.start(
            config,
            ServerSettings.fromConfig(config),
            new Guardian.Storage(
                store, database.settings(), store.load(Clock.systemUTC().instant())),
            Clock.systemUTC());
    server.bound().toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    return server;
  }

  @AfterEach
  void stop() throws Exception {
    if (server != null) {
      server.stop().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
    if (database != null) {
      database.close();
    }
  }

  private HttpResponse<String> get(InetSocketAddress http, String path) throws Exception {
    return client.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http.getPort() + path))
            .timeout(WAIT)
            .GET()
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void shouldBeReadyUntilTheStoreIsGone() throws Exception {
    InetSocketAddress http =
        start(0).httpBound().toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertEquals(200, get(http, "/health/live").statusCode());
    assertEquals(200, get(http, "/health/ready").statusCode());

    store.close();

    HttpResponse<String> ready = get(http, "/health/ready");
    assertEquals(503, ready.statusCode());
    assertTrue(ready.body().contains("\"failed\":\"store\""), ready.body());
    assertEquals(200, get(http, "/health/live").statusCode());
  }

  /** The web client's route sits beside the others without taking their paths or methods. */
  @Test
  void shouldServeTheWebClientBesideHealthAndMetrics() throws Exception {
    InetSocketAddress http =
        start(0).httpBound().toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    HttpResponse<String> page = get(http, "/");
    assertEquals(200, page.statusCode());
    assertTrue(page.body().contains("src=\"/app.js\""), page.body());
    assertEquals(200, get(http, "/app.js").statusCode());
    assertEquals(200, get(http, "/metrics").statusCode());
    assertEquals(404, get(http, "/favicon.ico").statusCode());
  }

  @Test
  void shouldReportAnHttpPortItCannotBind() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      ParleyServer node = start(taken.getLocalPort());
      ExecutionException failure =
          assertThrows(
              ExecutionException.class,
              () -> node.httpBound().toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS));
      assertTrue(failure.getCause().getMessage() != null, failure.toString());
    }
  }
}
