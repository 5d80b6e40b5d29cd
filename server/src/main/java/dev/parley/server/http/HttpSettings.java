package dev.parley.server.http;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.List;
import java.util.OptionalInt;

/**
 * {@code parley.server.http}: the node's HTTP port (health checks, metrics, the web client and the
 * protocol over WebSocket).
 *
 * @param port empty when there is no HTTP listener; 0 picks a free port
 * @param host where it listens
 * @param readinessTimeout longest wait for the store's answer to the readiness query
 * @param stopTimeout how long requests under way may take to finish once the node stops
 * @param allowedOrigins origins besides the node's own whose pages may open {@code /ws}
 * @param attachTimeout longest wait for the node to take a new {@code /ws} connection
 */
public record HttpSettings(
    OptionalInt port,
    String host,
    Duration readinessTimeout,
    Duration stopTimeout,
    List<String> allowedOrigins,
    Duration attachTimeout) {

  public static final String PATH = "parley.server.http";

  public HttpSettings {
    allowedOrigins = List.copyOf(allowedOrigins);
    // Fails at start, not at the first handshake, on an origin that cannot be read.
    new OriginPolicy(allowedOrigins);
    if (port.isPresent() && (port.getAsInt() < 0 || port.getAsInt() > 65_535)) {
      throw new IllegalArgumentException(
          "http.port must be between 0 and 65535, not " + port.getAsInt());
    }
  }

  /** Reads {@code parley.server.http} of {@code root}; an empty host is the clients' host. */
  public static HttpSettings fromConfig(Config root) {
    Config c = root.getConfig(PATH);
    String host = c.getString("host");
    return new HttpSettings(
        c.hasPath("port") ? OptionalInt.of(c.getInt("port")) : OptionalInt.empty(),
        host.isEmpty() ? root.getString("parley.server.host") : host,
        c.getDuration("readiness-timeout"),
        c.getDuration("stop-timeout"),
        List.copyOf(c.getStringList("allowed-origins")),
        c.getDuration("attach-timeout"));
  }
}
