package dev.parley.it.fuzz;

import dev.parley.protocol.ClientMessage;
import dev.parley.protocol.ServerMessage;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.locks.LockSupport;

/**
 * Real one-time tokens for private chats with the fuzzed client, got the way a peer gets them: a
 * user logged in beside the fuzzers (a {@link Bystander}, speaking protocol 3) runs {@code
 * startprivate} with the client's user, and the server answers with a token for that user and tells
 * the client to expect it. Shared by the peer fuzz workers, one request at a time, never faster
 * than the server's command rate lets one connection go.
 */
public final class PeerTokens {

  /**
   * A token the server issued for {@code user}, answered at {@code receivedNanos} (by {@link
   * System#nanoTime}); the client was told of it before.
   */
  record Grant(String user, String token, long receivedNanos) {}

  /** Well under the server's default of 20 frames a second per connection. */
  private static final Duration PACE = Duration.ofMillis(100);

  private final Bystander requester;
  private final String target;
  private final Duration ttl;
  private final FuzzStats stats;
  private long nextNanos = System.nanoTime();

  /**
   * @param requester who asks the server, logged in for the whole run
   * @param target the fuzzed client's user
   * @param ttl how long the server's tokens are good for ({@code private-chat-token-ttl})
   */
  public PeerTokens(Bystander requester, String target, Duration ttl, FuzzStats stats) {
    this.requester = requester;
    this.target = target;
    this.ttl = ttl;
    this.stats = stats;
  }

  /** Whom the tokens are for: the only name a hello may present one with. */
  String user() {
    return requester.user();
  }

  Duration ttl() {
    return ttl;
  }

  /** A fresh token, or none if the server would not give one just now (counted). */
  synchronized Optional<Grant> next() {
    long pause = nextNanos - System.nanoTime();
    if (pause > 0) {
      // Pacing, as the bystanders pace themselves: not a wait for anything.
      LockSupport.parkNanos(pause);
    }
    nextNanos = System.nanoTime() + PACE.toNanos();
    ServerMessage reply =
        requester.command(new ClientMessage.StartPrivate(target), ServerMessage.PeerAddress.class);
    if (reply instanceof ServerMessage.PeerAddress address && address.token() != null) {
      stats.count("peer tokens granted");
      return Optional.of(new Grant(requester.user(), address.token(), System.nanoTime()));
    }
    stats.count("peer tokens not granted: " + (reply == null ? "no answer" : reply.typeName()));
    return Optional.empty();
  }
}
