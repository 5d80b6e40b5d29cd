package dev.parley.it.fuzz;

import dev.parley.protocol.Inbound;
import dev.parley.protocol.JsonCodec;
import dev.parley.protocol.PeerMessage;
import dev.parley.protocol.Protocol;
import java.io.IOException;
import java.time.Duration;
import java.util.Set;

/**
 * One fuzz worker against a client's private-chat port: random bytes, oversized lines, malformed
 * peer-hellos, peer frames before any hello, frames of the other families, connections dropped,
 * half-closed or left idle, and well-formed handshakes followed by anything. Every user name this
 * worker sends in a well-formed {@code peer-hello} (one the client accepts, since peer links are
 * not authenticated yet) is recorded in {@code introduced}: only those may appear in what the
 * client prints.
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
    IDLE(5);

    private final int weight;

    Plan(int weight) {
      this.weight = weight;
    }
  }

  private static final String ROLE = "peer";

  private final int port;
  private final int index;
  private final FuzzRandom random;
  private final FuzzLines lines;
  private final FuzzStats stats;
  private final long deadline;
  private final Set<String> introduced;
  private final Set<AutoCloseable> open;
  private int names;

  PeerFuzzer(
      int port,
      int index,
      FuzzRandom random,
      FuzzStats stats,
      long deadline,
      Set<String> introduced,
      Set<AutoCloseable> open) {
    this.port = port;
    this.index = index;
    this.random = random;
    this.lines = new FuzzLines(random);
    this.stats = stats;
    this.deadline = deadline;
    this.introduced = introduced;
    this.open = open;
  }

  @Override
  public void run() {
    while (System.nanoTime() < deadline) {
      Plan plan = pick();
      stats.count("peer connections: " + plan);
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
    }
    if (random.chance(0.3)) {
      connection.reset();
    }
  }

  /** A well-formed hello; the client answers with its own (or a peer-bye). */
  private boolean handshake(WireConnection<PeerMessage> connection) {
    if (!send(connection, hello(name()))) {
      return false;
    }
    PeerMessage answer =
        connection.await(
            frame -> frame instanceof PeerMessage.Hello || frame instanceof PeerMessage.Bye,
            ServerFuzzer.PATIENCE);
    if (answer == null && !connection.ended() && System.nanoTime() < deadline) {
      stats.anomaly(
          "client did not answer a well-formed peer-hello within " + ServerFuzzer.PATIENCE, "");
    }
    return answer instanceof PeerMessage.Hello;
  }

  private FuzzLines.Line hello(String name) {
    return FuzzLines.peer("peer-hello", new PeerMessage.Hello(Protocol.VERSION, name));
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
   * Sends a line, first recording the name of any hello the client could accept: whatever the line
   * was meant to be, the client's own codec decides what it is.
   */
  private boolean send(WireConnection<PeerMessage> connection, FuzzLines.Line line) {
    byte[] bytes = line.bytes();
    if (JsonCodec.PEER.decode(bytes, 0, bytes.length) instanceof Inbound.Frame<PeerMessage> frame
        && frame.frame() instanceof PeerMessage.Hello hello
        && hello.version() == Protocol.VERSION) {
      introduced.add(hello.user());
    }
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
