package dev.parley.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.it.support.HeadlessClient;
import dev.parley.it.support.PackagedEndToEnd;
import dev.parley.it.support.ServerProcess;
import dev.parley.transport.ClientTls;
import dev.parley.transport.Fingerprint;
import dev.parley.transport.ServerVerifier;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The operator's view of a packaged server started with {@code --http-port 0}: it logs the HTTP
 * port it picked, answers its health checks over HTTPS with the certificate clients pin, and its
 * Prometheus metrics count a login and a message as they happen.
 */
class OperationsIT extends PackagedEndToEnd {

  private static final Duration WAIT = Duration.ofSeconds(10);

  /** The registry sums the mailboxes every 5 s; a slow machine gets more. */
  private static final Duration MAILBOX_SAMPLED = Duration.ofSeconds(15);

  private static final Duration POLL = Duration.ofMillis(250);

  @Test
  void shouldReportHealthAndCountLoginsAndMessagesOverHttps() throws Exception {
    ServerProcess server = startServer(List.of(), Map.of(), "--http-port", "0");
    URI base = server.httpEndpoint();
    assertEquals("https", base.getScheme());
    // Trusts the certificate the server logged, as a client given --trust-fingerprint would.
    HttpClient http =
        HttpClient.newBuilder()
            .connectTimeout(WAIT)
            .sslContext(
                ClientTls.create(Optional.empty())
                    .context(
                        ServerVerifier.pinned(
                            Fingerprint.parse(server.fingerprint().orElseThrow()))))
            .build();

    assertEquals(200, get(http, base, "health/live").statusCode());
    HttpResponse<String> ready = get(http, base, "health/ready");
    assertEquals(200, ready.statusCode(), ready.body());
    String before = get(http, base, "metrics").body();
    double loginsBefore = value(before, "parley_logins_total{outcome=\"succeeded\"}");
    double acceptedBefore = value(before, "parley_messages_accepted_total");

    HeadlessClient hans = login("hans");
    HeadlessClient yoda = login("yoda");
    hans.expect("yoda logged in");
    hans.type("message yoda Hey Dude");
    yoda.expect("hans: Hey Dude");

    String after = get(http, base, "metrics").body();
    assertEquals(loginsBefore + 2, value(after, "parley_logins_total{outcome=\"succeeded\"}"));
    assertEquals(acceptedBefore + 1, value(after, "parley_messages_accepted_total"));
    assertTrue(value(after, "parley_messages_delivered_total") >= 1, after);
    assertEquals(2, value(after, "parley_sessions{phase=\"active\",transport=\"tcp\"}"), after);
    assertTrue(value(after, "parley_tls_handshakes_total{outcome=\"succeeded\"}") >= 2, after);
    assertTrue(after.contains("parley_journal_commit_seconds_bucket"), after);

    // A message for luke, offline, waits in his mailbox; the registry samples the mailboxes.
    hans.type("message luke are you there?");
    long deadline = System.nanoTime() + MAILBOX_SAMPLED.toNanos();
    double waiting = 0;
    while (waiting < 1 && System.nanoTime() < deadline) {
      Thread.sleep(POLL.toMillis());
      waiting = value(get(http, base, "metrics").body(), "parley_mailbox_messages");
    }
    assertEquals(1, waiting, "parley_mailbox_messages");
    assertTrue(after.contains("jvm_memory_used_bytes"), after);
  }

  @Test
  void shouldServePlainHttpWithPlaintext() throws Exception {
    ServerProcess server = startServer(List.of(), Map.of(), "--http-port", "0", "--plaintext");
    URI base = server.httpEndpoint();
    assertEquals("http", base.getScheme());
    HttpClient http = HttpClient.newBuilder().connectTimeout(WAIT).build();
    assertEquals(200, get(http, base, "health/ready").statusCode());
    assertTrue(get(http, base, "metrics").body().contains("parley_logins_total"));
  }

  private static HttpResponse<String> get(HttpClient http, URI base, String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(base.resolve(path)).timeout(WAIT).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** The value of the sample named (with its labels) {@code sample}; 0 when it is not there. */
  private static double value(String scrape, String sample) {
    for (String line : scrape.split("\n")) {
      if (line.startsWith(sample + " ")) {
        return Double.parseDouble(line.substring(sample.length() + 1).trim());
      }
    }
    return 0;
  }
}
