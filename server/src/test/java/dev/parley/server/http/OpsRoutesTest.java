package dev.parley.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.typed.ActorSystem;
import akka.http.javadsl.server.Route;
import dev.parley.server.metrics.Metrics;
import dev.parley.server.testing.TestSettings;
import dev.parley.transport.ClientTls;
import dev.parley.transport.ServerTls;
import dev.parley.transport.ServerVerifier;
import dev.parley.transport.TlsIdentity;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The operator's routes, bound on a free port and asked over real HTTP (and HTTPS with a pinned
 * certificate), each test with its own actor system and so its own registry of meters.
 */
class OpsRoutesTest {

  private static final Duration WAIT = Duration.ofSeconds(10);

  private ActorTestKit testKit;
  private ActorSystem<?> system;
  private Metrics metrics;
  private final HttpClient client = HttpClient.newBuilder().connectTimeout(WAIT).build();

  /** What the checks answer; changed by each test. */
  private volatile boolean listening = true;

  private volatile CompletionStage<Boolean> store = CompletableFuture.completedFuture(true);

  private final OpsRoutes.Checks checks =
      new OpsRoutes.Checks() {
        @Override
        public boolean listening() {
          return listening;
        }

        @Override
        public CompletionStage<Boolean> storeReachable() {
          return store;
        }
      };

  @BeforeEach
  void start() {
    testKit = ActorTestKit.create();
    system = testKit.system();
    metrics = Metrics.get(system);
  }

  @AfterEach
  void stop() {
    testKit.shutdownTestKit();
  }

  private URI bind(Optional<ServerTls> tls) throws Exception {
    Route route = new OpsRoutes(checks, metrics).route();
    HttpSettings settings = TestSettings.http();
    InetSocketAddress address =
        HttpEndpoint.start(system, settings, tls, route)
            .toCompletableFuture()
            .get(WAIT.toSeconds(), TimeUnit.SECONDS);
    return URI.create(
        (tls.isPresent() ? "https" : "http") + "://127.0.0.1:" + address.getPort() + "/");
  }

  private HttpResponse<String> get(HttpClient http, URI base, String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(base.resolve(path)).timeout(WAIT).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void liveIsOkWhileTheSystemRuns() throws Exception {
    listening = false;
    HttpResponse<String> response = get(client, bind(Optional.empty()), "health/live");
    assertEquals(200, response.statusCode());
    assertTrue(response.body().contains("\"status\":\"ok\""), response.body());
  }

  @Test
  void readyWhenListeningAndTheStoreAnswers() throws Exception {
    HttpResponse<String> response = get(client, bind(Optional.empty()), "health/ready");
    assertEquals(200, response.statusCode());
    assertEquals("application/json", response.headers().firstValue("Content-Type").orElse(""));
  }

  @Test
  void notReadyBeforeTheClientsPortIsBound() throws Exception {
    listening = false;
    HttpResponse<String> response = get(client, bind(Optional.empty()), "health/ready");
    assertEquals(503, response.statusCode());
    assertTrue(response.body().contains("\"failed\":\"listener\""), response.body());
  }

  @Test
  void notReadyWhenTheStoreDoesNotAnswer() throws Exception {
    URI base = bind(Optional.empty());
    store = CompletableFuture.completedFuture(false);
    assertEquals(503, get(client, base, "health/ready").statusCode());
    store = CompletableFuture.failedFuture(new java.util.concurrent.TimeoutException());
    HttpResponse<String> response = get(client, base, "health/ready");
    assertEquals(503, response.statusCode());
    assertTrue(response.body().contains("\"failed\":\"store\""), response.body());
  }

  @Test
  void metricsInPrometheusTextFormat() throws Exception {
    URI base = bind(Optional.empty());
    metrics.loginsSucceeded.increment();
    metrics.messagesAccepted.increment();
    metrics.messagesAccepted.increment();
    metrics.journalBatch(3, TimeUnit.MILLISECONDS.toNanos(2));
    HttpResponse<String> response = get(client, base, "metrics");
    assertEquals(200, response.statusCode());
    String body = response.body();
    assertTrue(body.contains("parley_logins_total{outcome=\"succeeded\"} 1.0"), body);
    assertTrue(body.contains("parley_messages_accepted_total 2.0"), body);
    assertTrue(body.contains("parley_journal_batch_size_changes_bucket"), body);
    assertTrue(body.contains("parley_journal_commit_seconds_bucket"), body);
    assertTrue(body.contains("parley_sessions{phase=\"active\",transport=\"tcp\"} 0.0"), body);
    assertTrue(
        body.contains("parley_sessions{phase=\"handshake\",transport=\"websocket\"} 0.0"), body);
    assertTrue(body.contains("parley_tls_handshakes_total{outcome=\"failed\"} 0.0"), body);
    assertTrue(body.contains("parley_mailbox_messages 0.0"), body);
    assertTrue(body.contains("parley_mailbox_bytes 0.0"), body);
    assertTrue(body.contains("jvm_memory_used_bytes"), body);
    assertTrue(body.contains("jvm_gc_"), body);
  }

  @Test
  void aPathOfNoRouteIsNotFound() throws Exception {
    assertEquals(404, get(client, bind(Optional.empty()), "nothing-here").statusCode());
  }

  @Test
  void httpsWithTheServersCertificate() throws Exception {
    TlsIdentity identity = TlsIdentity.selfSigned("http test", Duration.ofDays(1));
    URI base = bind(Optional.of(ServerTls.create(identity)));
    HttpClient pinned =
        HttpClient.newBuilder()
            .connectTimeout(WAIT)
            .sslContext(
                ClientTls.create(Optional.empty())
                    .context(ServerVerifier.pinned(identity.fingerprint())))
            .build();
    assertEquals(200, get(pinned, base, "health/live").statusCode());
    assertEquals(200, get(pinned, base, "metrics").statusCode());
  }
}
