package dev.parley.server.http;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Which web pages may open {@code /ws}. A browser sends the page's origin with every WebSocket
 * handshake and, unlike with ordinary requests, does not stop a page of another site from reading
 * the answers: without this check any site a user visits could chat in their name through a session
 * they opened on this node (cross-site WebSocket hijacking). Allowed: the node's own origin (the
 * page it serves), the origins configured in {@code http.allowed-origins}, and handshakes without
 * an {@code Origin} header, which come from programs rather than browsers (they could send any
 * header anyway, so refusing them would protect no one).
 */
public final class OriginPolicy {

  /** In {@code http.allowed-origins}: any origin (for development, or a proxy that checks). */
  public static final String ANY = "*";

  private static final int HTTP_PORT = 80;
  private static final int HTTPS_PORT = 443;

  private final Set<String> allowed;
  private final boolean any;

  public OriginPolicy(List<String> allowedOrigins) {
    this.any = allowedOrigins.contains(ANY);
    this.allowed =
        allowedOrigins.stream()
            .filter(origin -> !ANY.equals(origin))
            .map(
                origin ->
                    normalize(origin)
                        .orElseThrow(
                            () ->
                                new IllegalArgumentException(
                                    "http.allowed-origins: not an origin (scheme://host[:port]): "
                                        + origin)))
            .collect(Collectors.toUnmodifiableSet());
  }

  /**
   * Whether a handshake with {@code origin} (the header, if any) may open a session on a node that
   * the request reached as {@code requestOrigin} (the scheme, host and port of the request's URI).
   */
  public boolean allows(Optional<String> origin, String requestOrigin) {
    if (origin.isEmpty() || any) {
      return true;
    }
    Optional<String> normalized = normalize(origin.get());
    if (normalized.isEmpty()) {
      // "null" (a sandboxed frame, a file: page) or garbage: no page of ours sends it.
      return false;
    }
    return normalized.equals(normalize(requestOrigin)) || allowed.contains(normalized.get());
  }

  /**
   * {@code scheme://host:port} in lower case, with the scheme's default port made explicit; empty
   * for anything but an http(s) or ws(s) origin.
   */
  static Optional<String> normalize(String origin) {
    URI uri;
    try {
      uri = new URI(origin.trim());
    } catch (URISyntaxException e) {
      return Optional.empty();
    }
    String scheme = uri.getScheme();
    String host = uri.getHost();
    if (scheme == null || host == null) {
      return Optional.empty();
    }
    // Akka HTTP gives a WebSocket request's own URI the ws/wss scheme; a page's origin, whose
    // handshake it is, has http/https.
    scheme =
        switch (scheme.toLowerCase(Locale.ROOT)) {
          case "http", "ws" -> "http";
          case "https", "wss" -> "https";
          default -> "";
        };
    if (scheme.isEmpty()) {
      return Optional.empty();
    }
    int port = uri.getPort();
    if (port < 0) {
      port = scheme.equals("http") ? HTTP_PORT : HTTPS_PORT;
    }
    return Optional.of(scheme + "://" + host.toLowerCase(Locale.ROOT) + ":" + port);
  }
}
