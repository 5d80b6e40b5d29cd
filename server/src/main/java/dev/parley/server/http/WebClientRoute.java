package dev.parley.server.http;

import akka.http.javadsl.model.ContentType;
import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpCharsets;
import akka.http.javadsl.model.HttpEntities;
import akka.http.javadsl.model.HttpHeader;
import akka.http.javadsl.model.MediaTypes;
import akka.http.javadsl.model.headers.EntityTag;
import akka.http.javadsl.model.headers.RawHeader;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.List;

/**
 * The web client: {@code /} (index.html), {@code /app.js} and {@code /app.css}, read once from the
 * classpath ({@code web/}) when the route is made, so a missing file fails the node's start rather
 * than a user's page load. Only these paths and only GET are served (HEAD too is refused: Akka
 * HTTP's transparent-head-requests is off); anything else falls through to the other routes and
 * ends as 404 or 405.
 */
public final class WebClientRoute extends AllDirectives {

  /** Where the page's files are, on the classpath. */
  static final String RESOURCE_DIR = "web/";

  /**
   * Scripts, styles and the WebSocket only from the page's own origin, no inline code, never in a
   * frame. {@code connect-src 'self'} covers {@code ws:} and {@code wss:} to the same host and port
   * (CSP level 3, which Chromium, Firefox and Safari implement). The icon is an empty {@code data:}
   * URL, so the browser does not ask for {@code /favicon.ico} and log a 404.
   */
  static final String CONTENT_SECURITY_POLICY =
      "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
          + "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

  /**
   * Every response: revalidated at each load ({@code no-cache} still lets the browser keep a copy
   * and ask with the ETag), so a node that was upgraded serves its new page at once.
   */
  private static final List<HttpHeader> HEADERS =
      List.of(
          RawHeader.create("Cache-Control", "no-cache"),
          RawHeader.create("Content-Security-Policy", CONTENT_SECURITY_POLICY),
          RawHeader.create("X-Content-Type-Options", "nosniff"),
          RawHeader.create("Referrer-Policy", "no-referrer"),
          // For browsers that predate frame-ancestors.
          RawHeader.create("X-Frame-Options", "DENY"));

  private static final ContentType JAVASCRIPT =
      ContentTypes.create(MediaTypes.APPLICATION_JAVASCRIPT, HttpCharsets.UTF_8);
  private static final ContentType CSS =
      ContentTypes.create(MediaTypes.TEXT_CSS, HttpCharsets.UTF_8);

  private final Route route;

  public WebClientRoute() {
    Route index = file("index.html", ContentTypes.TEXT_HTML_UTF8);
    route =
        get(
            () ->
                respondWithHeaders(
                    HEADERS,
                    () ->
                        concat(
                            pathSingleSlash(() -> index),
                            path("index.html", () -> index),
                            path("app.js", () -> file("app.js", JAVASCRIPT)),
                            path("app.css", () -> file("app.css", CSS)))));
  }

  public Route route() {
    return route;
  }

  /** The file's bytes with a strong ETag of its content, answering 304 to a matching request. */
  private Route file(String name, ContentType type) {
    byte[] bytes = read(name);
    EntityTag tag = EntityTag.create(digest(bytes), false);
    return conditional(tag, () -> complete(HttpEntities.create(type, bytes)));
  }

  private static byte[] read(String name) {
    String resource = RESOURCE_DIR + name;
    try (InputStream in = WebClientRoute.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("web client resource missing: " + resource);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read web client resource " + resource, e);
    }
  }

  private static String digest(byte[] bytes) {
    try {
      byte[] hash = MessageDigest.getInstance("SHA-256").digest(bytes);
      return Base64.getUrlEncoder().withoutPadding().encodeToString(hash);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every Java platform", e);
    }
  }
}
