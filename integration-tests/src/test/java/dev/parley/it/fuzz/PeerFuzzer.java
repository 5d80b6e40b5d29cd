package dev.parley.it.fuzz;

import dev.parley.protocol.JsonCodec;
import dev.parley.protocol.PeerMessage;
import dev.parley.protocol.Protocol;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Base64;
import java.util.Deque;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;

/**
 * One fuzz worker against a client's private-chat port: random bytes, oversized lines, malformed
 * peer-hellos, peer frames before any hello, frames of the other families, connections dropped,
 * half-closed or left idle, well-formed handshakes with a real token followed by anything, and
 * well-formed hellos the client must close without a word: with no token, a forged one, one already
 * used, one past its lifetime, or one issued for another user. A hello with a token the server
 * issued for that name, fresh, is recorded ({@code introduced}, and counted in {@code
 * validHellos}): only those names may appear in what the client prints, and each such hello opens
 * at most one chat. A refused hello that the client answers at all is a violation.
 */
final class PeerFuzzer implements Runnable {

  /** What one connection does. */
  enum Plan {
    HANDSHAKE_THEN_ANYTHING(30),
    RANDOM_BYTES(10),
    GARBAGE_HELLO(15),
    OUT_OF_ORDER(12),
    WRONG_FAMILY(8),
    OVERSIZED(7),
    OPEN_DROP(8),
    HALF_CLOSE(5),
    IDLE(5),
    TLS_ATTACK(6),
    TOKEN_MISSING(6),
    TOKEN_FORGED(5),
    TOKEN_REUSED(5),
    /** Picked with no token due: one is put aside to present once it has expired. */
    TOKEN_EXPIRED(3),
    TOKEN_OF_ANOTHER_USER(4);

    private final int weight;

    Plan(int weight) {
      this.weight = weight;
    }
  }

  private static final String ROLE = "peer";

  /**
   * How long after its token was granted an expired hello is presented, beyond the token's
   * lifetime: the client counts the lifetime from when the server's invitation reaches it, which
   * the run's bound on lag covers.
   */
  private static final Duration EXPIRY_MARGIN = ServerFuzzer.PATIENCE.plusSeconds(5);

  /**
   * A hello whose token the client has no invitation for is held up to the client's {@code
   * peer-handshake-timeout} (10 s by default), in case the server's invitation is still on its way,
   * and only then closed.
   */
  private static final Duration REFUSAL_PATIENCE = Duration.ofSeconds(15);

  private final int port;
  private final int index;
  private final FuzzRandom random;
  private final FuzzLines lines;
  private final FuzzStats stats;
  private final long deadline;
  private final Set<String> introduced;
  private final Map<String, LongAdder> validHellos;
  private final PeerTokens tokens;
  private final Set<AutoCloseable> open;

  /** Tokens put aside to present once expired, oldest first. */
  private final Deque<PeerTokens.Grant> ageing = new ArrayDeque<>();

  private int names;

  PeerFuzzer(
      int port,
      int index,
      FuzzRandom random,
      FuzzStats stats,
      long deadline,
      Set<String> introduced,
      Map<String, LongAdder> validHellos,
      PeerTokens tokens,
      Set<AutoCloseable> open) {
    this.port = port;
    this.index = index;
    this.random = random;
    this.lines = new FuzzLines(random);
    this.stats = stats;
    this.deadline = deadline;
    this.introduced = introduced;
    this.validHellos = validHellos;
    this.tokens = tokens;
    this.open = open;
  }

  @Override
  public void run() {
    // One token ages from the start, so that every worker presents an expired one in a long run.
    putAside();
    while (System.nanoTime() < deadline) {
      Plan plan = expiredDue() ? Plan.TOKEN_EXPIRED : pick();
      if (plan == Plan.TOKEN_EXPIRED && !expiredDue()) {
        putAside();
        continue;
      }
      stats.count("peer connections: " + plan);
      if (plan == Plan.TLS_ATTACK) {
        FuzzTls.attack(
            ROLE,
            port,
            "{\"type\":\"peer-hello\",\"version\":3,\"user\":\"hans\"}",
            random,
            stats,
            REFUSAL_PATIENCE);
        continue;
      }
      try (WireConnection<PeerMessage> connection =
          WireConnection.open(
              ROLE, port, 0, JsonCodec.PEER, frame -> frame instanceof PeerMessage.Bye, stats)) {
        open.add(connection);
        try {
          connection.startReading();
          run(plan, connection);
        } finally {
          open.remove(connection);
        }
      } catch (IOException e) {
        stats.count(
            "peer connections that could not open or broke: " + e.getClass().getSimpleName());
      }
    }
  }

  private void run(Plan plan, WireConnection<PeerMessage> connection) {
    switch (plan) {
      case HANDSHAKE_THEN_ANYTHING -> {
        if (handshake(connection)) {
          int count = random.size(60);
          for (int i = 0; i < count && System.nanoTime() < deadline; i++) {
            int kind = random.between(0, 99);
            FuzzLines.Line line =
                kind < 55
                    ? lines.peerFrame()
                    : kind < 80
                        ? lines.hostile()
                        : kind < 88
                            ? lines.garbageHello()
                            : kind < 94 ? hello(name()) : lines.wrongFamily();
            if (!send(connection, line)) {
              break;
            }
          }
        }
      }
      case RANDOM_BYTES -> {
        int count = random.between(1, 8);
        for (int i = 0; i < count; i++) {
          send(connection, new FuzzLines.Line("random-bytes", random.bytes(random.size(2_000))));
        }
      }
      case GARBAGE_HELLO -> {
        send(connection, lines.garbageHello());
        if (random.chance(0.5)) {
          send(connection, lines.peerFrame());
        }
      }
      case OUT_OF_ORDER -> {
        int count = random.between(1, 5);
        for (int i = 0; i < count; i++) {
          send(connection, lines.peerFrame());
        }
        if (random.chance(0.3)) {
          // A hello after frames that may not come before it: the client closes on those first.
          send(connection, hello(name()));
        }
      }
      case WRONG_FAMILY -> {
        send(connection, random.chance(0.5) ? lines.wrongFamily() : lines.command());
        send(connection, lines.edgeFrame());
      }
      case OVERSIZED -> {
        if (random.chance(0.4)) {
          handshake(connection);
        }
        connection.send(new FuzzLines.Line("oversized", lines.oversized()), random.chance(0.5));
        if (!connection.awaitEnd(ServerFuzzer.PATIENCE)) {
          stats.anomaly(
              "client kept a private-chat connection open "
                  + ServerFuzzer.PATIENCE
                  + " after an oversized line",
              "");
        }
      }
      case OPEN_DROP -> {
        if (random.chance(0.5)) {
          connection.send(
              new FuzzLines.Line(
                  "dropped",
                  "{\"type\":\"peer-he".getBytes(java.nio.charset.StandardCharsets.UTF_8)),
              false);
        }
        if (random.chance(0.5)) {
          connection.reset();
        }
      }
      case HALF_CLOSE -> {
        if (random.chance(0.5)) {
          handshake(connection);
        }
        connection.halfClose();
        if (!connection.awaitEnd(ServerFuzzer.PATIENCE)) {
          stats.anomaly(
              "client kept a private-chat connection open "
                  + ServerFuzzer.PATIENCE
                  + " after its end of stream",
              "");
        }
      }
      case IDLE -> connection.awaitEnd(Duration.ofMillis(random.between(200, 4_000)));
      case TLS_ATTACK -> throw new IllegalStateException("not over a TLS connection");
      case TOKEN_MISSING ->
          expectRefused(
              connection, "no token", hello(random.chance(0.5) ? anyone() : name(), null));
      case TOKEN_FORGED ->
          expectRefused(
              connection,
              "a forged token",
              hello(random.chance(0.5) ? tokens.user() : name(), forged()));
      case TOKEN_REUSED -> {
        Optional<PeerTokens.Grant> grant = tokens.next();
        // Only a token the client has seen used (a chat, or already-chatting) is known to be used.
        if (grant.isPresent() && presentValid(connection, grant.get()) != null) {
          if (random.chance(0.5)) {
            send(connection, FuzzLines.peer("peer-bye", new PeerMessage.Bye(randomReason())));
          }
          connection.reset();
          try (WireConnection<PeerMessage> again = openAgain()) {
            expectRefused(again, "a used token", hello(grant.get().user(), grant.get().token()));
          } catch (IOException e) {
            stats.count("peer connections that could not open: " + e.getClass().getSimpleName());
          }
        }
      }
      case TOKEN_EXPIRED -> {
        PeerTokens.Grant grant = ageing.poll();
        expectRefused(connection, "an expired token", hello(grant.user(), grant.token()));
      }
      case TOKEN_OF_ANOTHER_USER ->
          tokens
              .next()
              .ifPresent(
                  grant ->
                      expectRefused(
                          connection,
                          "another user's token",
                          hello(
                              random.chance(0.5) ? otherThan(grant.user()) : name(),
                              grant.token())));
    }
    if (random.chance(0.3)) {
      connection.reset();
    }
  }

  /**
   * A well-formed hello with a fresh token; the client answers with its own (or a peer-bye, when
   * another worker has a chat as the same user open). True once the chat is open.
   */
  private boolean handshake(WireConnection<PeerMessage> connection) {
    Optional<PeerTokens.Grant> grant = tokens.next();
    return grant.isPresent() && presentValid(connection, grant.get()) instanceof PeerMessage.Hello;
  }

  /**
   * Says hello with a token the server just issued, for the user it was issued for; returns the
   * client's answer (its hello, or a peer-bye), or null if none came. The client counts the token's
   * lifetime from when the server's invitation reaches it: one refused well within it is an
   * anomaly, later it is only counted.
   */
  private PeerMessage presentValid(WireConnection<PeerMessage> connection, PeerTokens.Grant grant) {
    introduced.add(grant.user());
    validHellos.computeIfAbsent(grant.user(), user -> new LongAdder()).increment();
    if (!connection.send(
        FuzzLines.peer(
            "peer-hello with a fresh token",
            new PeerMessage.Hello(Protocol.VERSION, grant.user(), grant.token())))) {
      return null;
    }
    PeerMessage answer =
        connection.await(
            frame -> frame instanceof PeerMessage.Hello || frame instanceof PeerMessage.Bye,
            ServerFuzzer.PATIENCE);
    if (answer != null) {
      stats.count("peer hellos with a fresh token answered: " + answer.typeName());
    } else if (connection.ended() && !connection.closedHere()) {
      boolean inTime =
          System.nanoTime() - grant.receivedNanos() < tokens.ttl().dividedBy(2).toNanos();
      if (inTime) {
        stats.anomaly("client closed a connection whose hello had a fresh token", "");
      } else {
        stats.count("peer hellos with a token granted long before, refused");
      }
    } else if (!connection.ended() && System.nanoTime() < deadline) {
      stats.anomaly(
          "client did not answer a well-formed peer-hello within " + ServerFuzzer.PATIENCE, "");
    }
    return answer;
  }

  /**
   * Says a hello the client must not accept ({@code what} says why) and expects the connection to
   * be closed without a single frame: the user on the other end is not told of it either.
   */
  private void expectRefused(
      WireConnection<PeerMessage> connection, String what, FuzzLines.Line hello) {
    if (!connection.send(hello)) {
      return;
    }
    // The client may hold the hello for its handshake timeout, waiting for an invitation.
    PeerMessage answer = connection.await(frame -> true, REFUSAL_PATIENCE);
    if (answer != null) {
      stats.violation(
          "the client answered a peer-hello with " + what + " (it must close without a word)",
          answer + " to " + WireConnection.show(hello.bytes()));
    } else if (!connection.ended()) {
      if (System.nanoTime() < deadline) {
        stats.anomaly(
            "client kept a connection whose peer-hello had "
                + what
                + " open for "
                + REFUSAL_PATIENCE,
            "");
      }
    } else {
      stats.count("peer hellos closed without a word: " + what);
    }
  }

  /** Gets a token to present once it has expired, if the run lasts long enough for that. */
  private void putAside() {
    long due = System.nanoTime() + tokens.ttl().plus(EXPIRY_MARGIN).toNanos();
    if (due < deadline) {
      tokens.next().ifPresent(ageing::add);
    }
  }

  private boolean expiredDue() {
    PeerTokens.Grant oldest = ageing.peek();
    return oldest != null
        && System.nanoTime() - oldest.receivedNanos() > tokens.ttl().plus(EXPIRY_MARGIN).toNanos();
  }

  private WireConnection<PeerMessage> openAgain() throws IOException {
    WireConnection<PeerMessage> connection =
        WireConnection.open(
            ROLE, port, 0, JsonCodec.PEER, frame -> frame instanceof PeerMessage.Bye, stats);
    return connection.startReading();
  }

  /** A hello without a token, or with {@code token}. */
  private FuzzLines.Line hello(String name, String token) {
    return FuzzLines.peer("peer-hello", new PeerMessage.Hello(Protocol.VERSION, name, token));
  }

  /** A hello without a token: never accepted from a server that issues tokens. */
  private FuzzLines.Line hello(String name) {
    return hello(name, null);
  }

  /** Of the form the server issues (32 random bytes in URL-safe base64), never issued. */
  private String forged() {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(random.bytes(32));
  }

  /** A demo account, the one the tokens are for included: the users someone would pose as. */
  private String anyone() {
    return random.pick(FuzzLines.USERS.toArray(String[]::new));
  }

  private String otherThan(String user) {
    String other = anyone();
    return other.equals(user) ? name() : other;
  }

  private PeerMessage.Bye.Reason randomReason() {
    return random.pick(PeerMessage.Bye.Reason.values());
  }

  /**
   * Unique, so that whatever the client prints about it can be traced to this connection; valid as
   * a user name, sometimes with characters a terminal handles specially.
   */
  private String name() {
    String suffix = random.chance(0.3) ? random.token(6) : "";
    return "fz" + index + "-" + ++names + suffix;
  }

  /**
   * Sends a line. Only a hello with a fresh token ({@link #presentValid}) introduces a name: any
   * other hello, however well-formed, is to be refused.
   */
  private boolean send(WireConnection<PeerMessage> connection, FuzzLines.Line line) {
    return connection.send(line);
  }

  private Plan pick() {
    int total = 0;
    for (Plan plan : Plan.values()) {
      total += plan.weight;
    }
    int at = random.between(0, total - 1);
    for (Plan plan : Plan.values()) {
      at -= plan.weight;
      if (at < 0) {
        return plan;
      }
    }
    return Plan.HANDSHAKE_THEN_ANYTHING;
  }
}
