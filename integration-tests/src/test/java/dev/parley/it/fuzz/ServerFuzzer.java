package dev.parley.it.fuzz;

import dev.parley.protocol.ClientMessage;
import dev.parley.protocol.JsonCodec;
import dev.parley.protocol.ServerMessage;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;

/**
 * One fuzz worker against the server: until its deadline it opens connection after connection, each
 * following a {@link Plan} picked at random (garbage in any phase, a real login with the demo
 * accounts and then anything, an oversized line, a flood, a reader that never reads, a half-close,
 * a connection dropped or left idle). Everything the server sends back is checked by the {@link
 * WireConnection}; a server that does not answer a login step, does not say goodbye to an oversized
 * line or keeps a connection open after the client's end of stream is an anomaly.
 */
final class ServerFuzzer implements Runnable {

  /** What one connection does. */
  enum Plan {
    LOGIN_AND_FUZZ(40),
    TLS_ATTACK(8),
    GARBAGE(14),
    OVERSIZED(7),
    FLOOD(7),
    HALF_CLOSE(8),
    TRUNCATED(5),
    OPEN_DROP(9),
    SLOW_READER(4),
    IDLE(5);

    private final int weight;

    Plan(int weight) {
      this.weight = weight;
    }
  }

  /** How long the server may take to answer one step before the fuzzer calls it a hang. */
  static final Duration PATIENCE = Duration.ofSeconds(10);

  private static final String ROLE = "server";

  /** Commands a reader that never reads sends before it waits to be cut off. */
  private static final int SLOW_READER_COMMANDS = 150_000;

  /** How long a reader that never reads waits to be cut off after its flood. */
  private static final Duration SLOW_READER_PATIENCE = Duration.ofSeconds(20);

  private final int port;
  private final FuzzRandom random;
  private final FuzzLines lines;
  private final FuzzStats stats;
  private final Map<String, String> passwords;
  private final long deadline;
  private final Set<AutoCloseable> open;

  /**
   * @param open where the worker registers each open connection, so that the test can close them
   *     all (which also frees a worker blocked writing to a server that stopped reading)
   */
  ServerFuzzer(
      int port,
      FuzzRandom random,
      FuzzStats stats,
      Map<String, String> passwords,
      long deadline,
      Set<AutoCloseable> open) {
    this.port = port;
    this.random = random;
    this.lines = new FuzzLines(random);
    this.stats = stats;
    this.passwords = passwords;
    this.deadline = deadline;
    this.open = open;
  }

  @Override
  public void run() {
    while (!pastDeadline()) {
      Plan plan = pick();
      stats.count("server connections: " + plan);
      try {
        run(plan);
      } catch (IOException e) {
        stats.count(
            "server connections that could not open or broke: " + e.getClass().getSimpleName());
      }
    }
  }

  private void run(Plan plan) throws IOException {
    if (plan == Plan.TLS_ATTACK) {
      FuzzTls.attack(ROLE, port, "{\"type\":\"hello\",\"version\":3}", random, stats, PATIENCE);
      return;
    }
    int receiveBuffer = plan == Plan.SLOW_READER ? 4096 : 0;
    try (WireConnection<ServerMessage> connection =
        WireConnection.open(
            ROLE,
            port,
            receiveBuffer,
            JsonCodec.SERVER,
            frame -> frame instanceof ServerMessage.Goodbye,
            stats)) {
      open.add(connection);
      try {
        if (plan != Plan.SLOW_READER) {
          connection.startReading();
        }
        switch (plan) {
          case LOGIN_AND_FUZZ -> loginAndFuzz(connection);
          case GARBAGE -> garbage(connection);
          case OVERSIZED -> oversized(connection);
          case FLOOD -> flood(connection);
          case HALF_CLOSE -> halfClose(connection);
          case TRUNCATED -> truncated(connection);
          case OPEN_DROP -> openDrop(connection);
          case SLOW_READER -> slowReader(connection);
          case IDLE -> idle(connection);
          case TLS_ATTACK -> throw new IllegalStateException("not over a TLS connection");
        }
      } finally {
        open.remove(connection);
      }
    }
  }

  // ---- plans ------------------------------------------------------------------------------------

  private void loginAndFuzz(WireConnection<ServerMessage> connection) {
    int badBudget = random.between(0, 12);
    badBudget -= someGarbage(connection, random.chance(0.3) ? random.between(1, 3) : 0);
    if (!login(connection)) {
      end(connection);
      return;
    }
    int commands = random.size(120);
    for (int i = 0; i < commands && !pastDeadline(); i++) {
      FuzzLines.Line line;
      int kind = random.between(0, 99);
      if (kind < 60) {
        line = lines.command();
      } else if (kind < 72) {
        line = lines.edgeFrame();
      } else if (kind < 77) {
        line = lines.textAtALimit();
      } else if (badBudget > 0) {
        badBudget--;
        line = lines.hostile();
      } else {
        line = lines.command();
      }
      if (!connection.send(line)) {
        break;
      }
    }
    end(connection);
  }

  /**
   * Before the hello or before the login: malformed lines, and valid frames of every type that do
   * not belong in that phase.
   */
  private void garbage(WireConnection<ServerMessage> connection) {
    if (random.chance(0.5)) {
      send(connection, FuzzLines.client("login", new ClientMessage.Hello(2)));
    }
    int count = random.between(1, 14);
    for (int i = 0; i < count; i++) {
      FuzzLines.Line line =
          switch (random.between(0, 3)) {
            case 0 -> lines.command();
            case 1 -> lines.edgeFrame();
            default -> lines.hostile();
          };
      if (!connection.send(line)) {
        break;
      }
    }
    end(connection);
  }

  private void oversized(WireConnection<ServerMessage> connection) {
    int phase = random.between(0, 2);
    if (phase == 1) {
      send(connection, FuzzLines.client("login", new ClientMessage.Hello(2)));
    } else if (phase == 2 && !login(connection)) {
      end(connection);
      return;
    }
    byte[] oversized = lines.oversized();
    boolean lineFeed = random.chance(0.5);
    if (!connection.send(new FuzzLines.Line("oversized", oversized), lineFeed)) {
      stats.count("server closed before the whole oversized line was written");
    }
    ServerMessage goodbye =
        connection.await(frame -> frame instanceof ServerMessage.Goodbye, PATIENCE);
    if (goodbye == null) {
      stats.anomaly(
          "no goodbye within " + PATIENCE + " after an oversized line",
          oversized.length
              + " bytes"
              + (lineFeed ? " with" : " without")
              + " line feed, phase "
              + phase);
    }
    if (!connection.awaitEnd(PATIENCE)) {
      stats.anomaly(
          "connection still open " + PATIENCE + " after an oversized line",
          oversized.length + " bytes");
    }
  }

  private void flood(WireConnection<ServerMessage> connection) {
    if (!login(connection)) {
      end(connection);
      return;
    }
    int commands = random.between(200, 3_000);
    for (int i = 0; i < commands && !pastDeadline(); i++) {
      FuzzLines.Line line =
          switch (random.between(0, 4)) {
            case 0 -> FuzzLines.client("flood", new ClientMessage.WhoElse());
            case 1 -> FuzzLines.client("flood", new ClientMessage.NoteActivity());
            case 2 ->
                FuzzLines.client("flood", new ClientMessage.WhoElseSince(random.between(0, 100)));
            case 3 ->
                FuzzLines.client(
                    "flood",
                    new ClientMessage.SendMessage(
                        lines.user(), "flood " + i, random.chance(0.5) ? null : "f-" + i));
            default ->
                FuzzLines.client("flood", new ClientMessage.Acknowledge(random.between(1, 1_000)));
          };
      if (!connection.send(line)) {
        return;
      }
    }
    send(connection, FuzzLines.client("flood", new ClientMessage.Logout()));
    // A flood is answered in order; the goodbye comes after every reply, however many.
    if (connection.await(frame -> frame instanceof ServerMessage.Goodbye, PATIENCE.multipliedBy(3))
            == null
        && !pastDeadline()) {
      stats.anomaly(
          "no goodbye within " + PATIENCE.multipliedBy(3) + " after a flood and a logout",
          commands + " commands");
    }
  }

  private void halfClose(WireConnection<ServerMessage> connection) {
    if (random.chance(0.5)) {
      login(connection);
    }
    int count = random.size(10);
    for (int i = 0; i < count; i++) {
      send(connection, random.chance(0.5) ? lines.command() : lines.hostile());
    }
    connection.halfClose();
    expectClosed(connection, "after the client's end of stream");
  }

  private void truncated(WireConnection<ServerMessage> connection) {
    if (random.chance(0.5)) {
      send(connection, FuzzLines.client("login", new ClientMessage.Hello(2)));
    }
    byte[] frame = lines.command().bytes();
    byte[] cut = java.util.Arrays.copyOf(frame, random.between(0, Math.max(0, frame.length - 1)));
    connection.send(new FuzzLines.Line("truncated", cut), false);
    connection.halfClose();
    expectClosed(connection, "after a truncated last line and the end of stream");
  }

  private void openDrop(WireConnection<ServerMessage> connection) {
    if (random.chance(0.5)) {
      byte[] frame = lines.command().bytes();
      connection.send(
          new FuzzLines.Line(
              "dropped", java.util.Arrays.copyOf(frame, random.between(0, frame.length))),
          false);
    }
    if (random.chance(0.5)) {
      connection.reset();
    }
  }

  /**
   * Logs in without reading a byte, then sends commands that each get a reply, far more than the
   * server may queue for it: the server must cut the connection off rather than queue without bound
   * for a reader that never reads (other fuzzers' broadcasts pile up for it too). Commands it has
   * not read yet wait in the kernel's socket buffers, so after the flood the reader keeps writing a
   * tiny frame now and then until a write fails, for up to {@link #SLOW_READER_PATIENCE}.
   */
  private void slowReader(WireConnection<ServerMessage> connection) {
    String user = random.pick("vader", "r2d2");
    send(connection, FuzzLines.client("login", new ClientMessage.Hello(2)));
    send(connection, FuzzLines.client("login", new ClientMessage.Username(user)));
    send(connection, FuzzLines.client("login", new ClientMessage.Password(passwords.get(user), 9)));
    // Each reply takes some 70 bytes: this many is more than the server's outbound buffer (4 MiB)
    // and the two sockets' buffers (up to 4 MiB more on Linux) hold together.
    for (int sent = 0; sent < SLOW_READER_COMMANDS; sent++) {
      if (!connection.send(FuzzLines.client("slow-reader", new ClientMessage.WhoElseSince(600)))) {
        stats.count("slow readers cut off by the server");
        return;
      }
    }
    long until = System.nanoTime() + SLOW_READER_PATIENCE.toNanos();
    while (System.nanoTime() < until) {
      if (!connection.send(FuzzLines.client("slow-reader", new ClientMessage.NoteActivity()))) {
        stats.count(
            connection.closedHere()
                ? "slow readers closed by the test at the end"
                : "slow readers cut off by the server");
        return;
      }
      LockSupport.parkNanos(100_000_000);
    }
    stats.anomaly(
        "the server kept queueing replies for a reader that never reads",
        SLOW_READER_COMMANDS
            + " whoelsesince sent and not read, still connected "
            + SLOW_READER_PATIENCE
            + " later (port "
            + connection.localPort()
            + ")");
  }

  private void idle(WireConnection<ServerMessage> connection) {
    if (random.chance(0.3)) {
      send(connection, FuzzLines.client("login", new ClientMessage.Hello(2)));
    }
    if (random.chance(0.3)) {
      connection.send(
          new FuzzLines.Line(
              "idle-partial", "{\"type\":\"who".getBytes(java.nio.charset.StandardCharsets.UTF_8)),
          false);
    }
    // Held open (the wait ends early if the server closes it); the server's login timeout is
    // longer than this, so the server has no reason to close it.
    connection.awaitEnd(Duration.ofMillis(random.between(200, 5_000)));
  }

  // ---- steps ------------------------------------------------------------------------------------

  /**
   * Hello, then up to three usernames (mostly the two demo accounts the bystanders and the client
   * do not use; sometimes one that is online, or no account), each with a password that is right
   * four times in five. True once logged in.
   */
  private boolean login(WireConnection<ServerMessage> connection) {
    int version = random.chance(0.9) ? 2 : random.pickInt(1, 2, 3, 0, -1);
    send(connection, FuzzLines.client("login", new ClientMessage.Hello(version)));
    ServerMessage hello =
        answer(
            connection, "hello " + version, ServerMessage.Hello.class, ServerMessage.Error.class);
    if (!(hello instanceof ServerMessage.Hello)) {
      return false;
    }
    for (int attempt = 0; attempt < 3 && !pastDeadline(); attempt++) {
      String user =
          random.chance(0.8)
              ? random.pick("vader", "r2d2")
              : random.chance(0.5) ? random.pick(FuzzLines.USERS) : random.token(20);
      if (random.chance(0.15)) {
        // A command before logging in: answered unexpected-frame, and the login goes on.
        send(connection, lines.command());
      }
      send(connection, FuzzLines.client("login", new ClientMessage.Username(user)));
      ServerMessage step =
          answer(
              connection,
              "username " + user,
              ServerMessage.PasswordRequired.class,
              ServerMessage.LoginFailed.class,
              ServerMessage.Error.class);
      if (step instanceof ServerMessage.LoginFailed) {
        continue;
      }
      if (!(step instanceof ServerMessage.PasswordRequired)) {
        return false;
      }
      for (int tries = 0; tries < 2; tries++) {
        String password =
            random.chance(0.8) && passwords.containsKey(user)
                ? passwords.get(user)
                : random.nonBlankText(30);
        int peerPort = random.chance(0.8) ? 9 : random.pickInt(1, 65_535);
        send(connection, FuzzLines.client("login", new ClientMessage.Password(password, peerPort)));
        ServerMessage verdict =
            answer(
                connection,
                "password " + user,
                ServerMessage.LoginAccepted.class,
                ServerMessage.LoginFailed.class,
                ServerMessage.Error.class);
        if (verdict instanceof ServerMessage.LoginAccepted) {
          stats.count("server logins accepted");
          return true;
        }
        if (!(verdict instanceof ServerMessage.LoginFailed failed)) {
          return false;
        }
        if (failed.reason() != ServerMessage.LoginFailed.Reason.INVALID_PASSWORD) {
          break;
        }
        if (tries == 1) {
          // Still awaiting the password (the username is kept): a username now would be out of
          // phase. This connection gives up.
          return false;
        }
      }
    }
    return false;
  }

  /**
   * The server's answer to a login step: one of {@code expected}, a goodbye (the connection ends),
   * or nothing within {@link #PATIENCE}, which is an anomaly (a hang).
   */
  @SafeVarargs
  private ServerMessage answer(
      WireConnection<ServerMessage> connection,
      String step,
      Class<? extends ServerMessage>... expected) {
    long started = System.nanoTime();
    ServerMessage answer =
        connection.await(
            frame -> {
              if (frame instanceof ServerMessage.Goodbye) {
                return true;
              }
              if (frame instanceof ServerMessage.Error error) {
                // An error names the command it answers: one about a command sent out of its
                // phase before this step is not the answer to this step.
                return step.startsWith(String.valueOf(error.command()) + " ");
              }
              for (Class<? extends ServerMessage> type : expected) {
                if (type.isInstance(frame)) {
                  return true;
                }
              }
              return false;
            },
            PATIENCE);
    if (answer instanceof ServerMessage.Error error
        && error.code() == ServerMessage.Error.Code.UNEXPECTED_FRAME) {
      stats.anomaly(
          "the fuzzer sent a login step out of phase (a fault of the test)", step + ": " + error);
    }
    if (answer != null) {
      long millis = (System.nanoTime() - started) / 1_000_000;
      stats.max("login step answered after, ms", millis);
      if (millis > 2_000) {
        stats.count("login steps answered after more than 2 s");
      }
    }
    if (answer == null && !connection.ended() && !pastDeadline()) {
      stats.anomaly(
          "no answer to a login step within " + PATIENCE,
          step
              + " at "
              + java.time.Instant.now()
              + " from port "
              + connection.localPort()
              + "; the connection stayed open");
    }
    return answer;
  }

  /** Sends {@code count} malformed lines; answers how many were sent. */
  private int someGarbage(WireConnection<ServerMessage> connection, int count) {
    for (int i = 0; i < count; i++) {
      if (!connection.send(lines.hostile())) {
        return i;
      }
    }
    return count;
  }

  /** Ends the connection one of four ways: logout, end of stream, reset, or a plain close. */
  private void end(WireConnection<ServerMessage> connection) {
    switch (random.between(0, 3)) {
      case 0 -> {
        send(connection, FuzzLines.client("valid-command", new ClientMessage.Logout()));
        connection.halfClose();
        expectClosed(connection, "after logout and the end of stream");
      }
      case 1 -> {
        connection.halfClose();
        expectClosed(connection, "after the client's end of stream");
      }
      case 2 -> connection.reset();
      default -> connection.close();
    }
  }

  private void expectClosed(WireConnection<ServerMessage> connection, String when) {
    if (!connection.awaitEnd(PATIENCE) && !pastDeadline()) {
      stats.anomaly("connection still open " + PATIENCE + " " + when, "");
    }
  }

  private void send(WireConnection<ServerMessage> connection, FuzzLines.Line line) {
    connection.send(line);
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
    return Plan.LOGIN_AND_FUZZ;
  }

  private boolean pastDeadline() {
    return System.nanoTime() > deadline;
  }
}
