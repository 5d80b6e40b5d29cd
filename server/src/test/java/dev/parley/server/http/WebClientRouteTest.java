package dev.parley.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import dev.parley.server.testing.TestSettings;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The web client's files, bound alone on a free port (Akka HTTP's route testkit is not among the
 * server's test dependencies) and asked over real HTTP. No actor is involved: the route only needs
 * a system to bind.
 */
class WebClientRouteTest {

  private static final Duration WAIT = Duration.ofSeconds(10);

  private static ActorTestKit testKit;
  private static URI base;
  private static final HttpClient client = HttpClient.newBuilder().connectTimeout(WAIT).build();

  @BeforeAll
  static void bind() throws Exception {
    testKit = ActorTestKit.create();
    HttpSettings settings = TestSettings.http();
    InetSocketAddress address =
        HttpEndpoint.start(
                testKit.system(), settings, Optional.empty(), new WebClientRoute().route())
            .toCompletableFuture()
            .get(WAIT.toSeconds(), TimeUnit.SECONDS);
    base = URI.create("http://127.0.0.1:" + address.getPort() + "/");
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  private static HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
    return client.send(request.timeout(WAIT).build(), HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<String> get(String path) throws Exception {
    return send(HttpRequest.newBuilder(base.resolve(path)).GET());
  }

  private static String header(HttpResponse<?> response, String name) {
    return response.headers().firstValue(name).orElse("");
  }

  @Test
  void theRootIsThePageWithItsSecurityHeaders() throws Exception {
    HttpResponse<String> response = get("/");
    assertEquals(200, response.statusCode());
    assertEquals("text/html; charset=UTF-8", header(response, "Content-Type"));
    assertTrue(response.body().contains("<form id=\"login\""), response.body());
    assertEquals("no-cache", header(response, "Cache-Control"));
    assertEquals("nosniff", header(response, "X-Content-Type-Options"));
    assertEquals("no-referrer", header(response, "Referrer-Policy"));
    String csp = header(response, "Content-Security-Policy");
    for (String directive :
        List.of(
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "connect-src 'self'",
            "frame-ancestors 'none'")) {
      assertTrue(csp.contains(directive), csp);
    }
    assertFalse(csp.contains("unsafe-inline"), csp);
  }

  @Test
  void scriptAndStylesheetHaveTheirContentTypes() throws Exception {
    HttpResponse<String> script = get("/app.js");
    assertEquals(200, script.statusCode());
    assertEquals("application/javascript; charset=UTF-8", header(script, "Content-Type"));
    assertEquals("nosniff", header(script, "X-Content-Type-Options"));
    HttpResponse<String> style = get("/app.css");
    assertEquals(200, style.statusCode());
    assertEquals("text/css; charset=UTF-8", header(style, "Content-Type"));
    assertEquals("no-cache", header(style, "Cache-Control"));
  }

  @Test
  void aCopyTheBrowserKeptIsConfirmedByItsEtag() throws Exception {
    HttpResponse<String> first = get("/app.js");
    String etag = header(first, "ETag");
    assertFalse(etag.isEmpty());
    HttpResponse<String> again =
        send(HttpRequest.newBuilder(base.resolve("/app.js")).header("If-None-Match", etag).GET());
    assertEquals(304, again.statusCode());
    assertEquals("", again.body());
  }

  @Test
  void aPathThatIsNotOneOfThePagesFilesIsNotFound() throws Exception {
    for (String path :
        List.of("/nothing-here", "/web/index.html", "/app.js/x", "/reference.conf")) {
      assertEquals(404, get(path).statusCode(), path);
    }
  }

  @Test
  void onlyGetIsServed() throws Exception {
    HttpResponse<String> post =
        send(HttpRequest.newBuilder(base).POST(HttpRequest.BodyPublishers.ofString("x")));
    assertEquals(405, post.statusCode());
    HttpResponse<String> delete = send(HttpRequest.newBuilder(base.resolve("/app.js")).DELETE());
    assertEquals(405, delete.statusCode());
  }

  /** What the CSP forbids would be blocked in the browser: there must be none of it to block. */
  @Test
  void thePageHasNoInlineScriptOrStyle() throws Exception {
    String html = get("/").body();
    assertFalse(Pattern.compile("<script(?![^>]*\\bsrc=)").matcher(html).find(), html);
    assertFalse(Pattern.compile("<style|\\sstyle=|\\son[a-z]+=").matcher(html).find(), html);
  }

  /** Every user-typed text reaches the page as text: the script builds no HTML from strings. */
  @Test
  void theScriptNeverParsesHtml() throws Exception {
    String script = get("/app.js").body();
    for (String sink :
        List.of("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(")) {
      assertFalse(script.contains(sink), sink);
    }
  }
}
