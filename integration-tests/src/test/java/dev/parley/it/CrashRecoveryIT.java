package dev.parley.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.it.support.HeadlessClient;
import dev.parley.it.support.Program;
import dev.parley.it.support.ServerProcess;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The delivery guarantee under the worst a server can suffer: the packaged server runs as its own
 * process, real clients exchange hundreds of messages through it, and in the middle of the traffic
 * the server is killed with SIGKILL, several times, and started again on the same data directory
 * each time (the kill points are random, from a logged seed). The clients reconnect by themselves
 * and send again what the server had not acknowledged; in the end every recipient must have shown
 * every message exactly once, and each sender's messages in the order they were sent.
 */
class CrashRecoveryIT {

  private static final List<String> USERS = List.of("ann", "bob", "cyd", "dee");
  private static final String PASSWORD = "crash-test";
  private static final int MESSAGES_PER_USER = 150;
  private static final Pattern LISTENING = Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+)");
  private static final Pattern RECEIVED = Pattern.compile("^(\\w+): m-(\\w+)-(\\d+)$");
  private static final Duration DELIVERY = Duration.ofSeconds(120);

  /** Kill points per run, each at its own random place in the traffic. */
  private static final int KILLS = 3;

  /** What a server logs when it finds that the last one did not close the database. */
  private static final String RECOVERY_PASS = "store was not closed cleanly";

  @TempDir Path directory;

  private final List<Program> servers = new ArrayList<>();

  private int recoveryPasses;

  /** The server's certificate, kept in its data directory across the kills. */
  private java.util.Optional<String> fingerprint = java.util.Optional.empty();

  private final List<HeadlessClient> clients = new ArrayList<>();

  @AfterEach
  void stopAll() {
    clients.forEach(HeadlessClient::close);
    servers.forEach(Program::close);
  }

  @Test
  void shouldShowEveryMessageExactlyOnceInOrderAfterTheServerIsKilled() throws Exception {
    Files.writeString(
        directory.resolve("credentials.txt"),
        String.join("\n", USERS.stream().map(user -> user + " " + PASSWORD).toList()) + "\n");
    int port = freePort();
    startServer(port);

    Map<String, HeadlessClient> byUser = new HashMap<>();
    for (String user : USERS) {
      HeadlessClient client =
          HeadlessClient.connect(
              "127.0.0.1",
              port,
              user,
              HeadlessClient.pinned(fingerprint, Map.of("parley.client.reconnect-window", "90s")));
      clients.add(client);
      client.type(user, PASSWORD).expect(HeadlessClient.WELCOME);
      byUser.put(user, client);
    }

    // Every user sends to the others in turn; the lines go in at once and the clients send them
    // as fast as the server accepts them.
    // recipient -> sender -> the numbers of the sender's messages to them, in sending order
    Map<String, Map<String, List<Integer>>> expected = new HashMap<>();
    for (String sender : USERS) {
      List<String> others = USERS.stream().filter(user -> !user.equals(sender)).toList();
      List<String> lines = new ArrayList<>();
      for (int k = 0; k < MESSAGES_PER_USER; k++) {
        String to = others.get(k % others.size());
        lines.add("message " + to + " m-" + sender + "-" + k);
        expected
            .computeIfAbsent(to, user -> new HashMap<>())
            .computeIfAbsent(sender, user -> new ArrayList<>())
            .add(k);
      }
      byUser.get(sender).type(lines.toArray(String[]::new));
    }

    // Kill the server several times while the messages are flowing (at random points between the
    // first message shown and the last), each time bringing it back on the same data. The seed is
    // logged so that a failing run can be repeated: -Dcrash.seed=N.
    long seed = Long.getLong("crash.seed", System.nanoTime());
    System.out.println("CrashRecoveryIT seed=" + seed + " (repeat with -Dcrash.seed=" + seed + ")");
    Random random = new Random(seed);
    int total = USERS.size() * MESSAGES_PER_USER;
    int[] killPoints = new int[KILLS];
    for (int i = 0; i < KILLS; i++) {
      killPoints[i] = 1 + random.nextInt(total * 3 / 4);
    }
    Arrays.sort(killPoints);
    long deadline = System.nanoTime() + DELIVERY.toNanos();
    for (int killAfter : killPoints) {
      while (shownSoFar(byUser.values()) < killAfter && System.nanoTime() < deadline) {
        java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
      }
      servers.get(servers.size() - 1).kill();
      int shownAtKill = shownSoFar(byUser.values());
      System.out.println("CrashRecoveryIT killed the server after " + shownAtKill + " of " + total);
      assertTrue(
          shownAtKill < total,
          "seed " + seed + ": the server should die mid-traffic; all was shown already");
      startServer(port);
      assertTrue(
          recoveryPasses == servers.size() - 1,
          "every start after a kill scans the killed server's database (store/EmbeddedRecovery)");
    }

    for (String recipient : USERS) {
      Map<String, List<Integer>> shown =
          awaitMessages(byUser.get(recipient), expected.get(recipient));
      assertEquals(
          expected.get(recipient),
          shown,
          recipient
              + " should show each message sent to them exactly once, in each sender's order");
    }
    // And nothing more: a message shown after all of them would be a duplicate.
    for (String user : USERS) {
      HeadlessClient client = byUser.get(user);
      client.type("whoelse");
      List<String> others = USERS.stream().filter(other -> !other.equals(user)).toList();
      List<String> listed = new ArrayList<>();
      while (listed.size() < others.size()) {
        String line = client.nextLine();
        if (RECEIVED.matcher(line).matches()) {
          throw new AssertionError(user + " showed a message twice: " + line);
        }
        if (others.contains(line)) {
          listed.add(line);
        }
      }
    }
  }

  /** Messages shown so far by all the clients (lines printed, whether or not read yet). */
  private static int shownSoFar(java.util.Collection<HeadlessClient> clients) {
    int shown = 0;
    for (HeadlessClient client : clients) {
      shown +=
          (int) client.unread().stream().filter(line -> RECEIVED.matcher(line).matches()).count();
    }
    return shown;
  }

  /** Reads the recipient's lines until it has shown as many messages as were sent to it. */
  private static Map<String, List<Integer>> awaitMessages(
      HeadlessClient client, Map<String, List<Integer>> expected) {
    int total = expected.values().stream().mapToInt(List::size).sum();
    Map<String, List<Integer>> shown = new HashMap<>();
    int count = 0;
    long deadline = System.nanoTime() + DELIVERY.toNanos();
    while (count < total) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(client.name() + " showed " + count + " of " + total + " messages");
      }
      Matcher line = RECEIVED.matcher(client.nextLine());
      if (line.matches()) {
        shown
            .computeIfAbsent(line.group(1), user -> new ArrayList<>())
            .add(Integer.parseInt(line.group(3)));
        count++;
      }
    }
    return shown;
  }

  private Program startServer(int port) {
    Program server =
        Program.start(
            "server",
            Program.jar("parley.server.jar"),
            directory,
            List.of("-Dparley.server.password-hash-iterations=1000"),
            String.valueOf(port),
            "60",
            "600",
            "--data-dir",
            directory.resolve("data").toString());
    servers.add(server);
    while (true) {
      String line = server.stdout().nextLine(ServerProcess.STARTUP);
      Matcher pin = ServerProcess.FINGERPRINT.matcher(line);
      if (pin.find()) {
        fingerprint = java.util.Optional.of(pin.group(1));
      }
      if (line.contains(RECOVERY_PASS)) {
        recoveryPasses++;
      }
      if (LISTENING.matcher(line).find()) {
        return server;
      }
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
