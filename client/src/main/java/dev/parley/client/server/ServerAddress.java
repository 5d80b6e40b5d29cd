package dev.parley.client.server;

import dev.parley.client.tls.KnownServers;
import java.util.Objects;

/**
 * One server the client may talk to: the host as the user typed it (an IPv6 address without its
 * brackets) and the port. A client given several goes through them in order (see {@link
 * ServerConnection}).
 */
public record ServerAddress(String host, int port) {

  public ServerAddress {
    Objects.requireNonNull(host, "host");
  }

  /** {@code host:port}, an IPv6 address in brackets: as the user types it, and known_servers. */
  @Override
  public String toString() {
    return KnownServers.key(host, port);
  }
}
