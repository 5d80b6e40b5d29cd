package dev.parley.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.parley.server.store.Store;
import dev.parley.server.store.StoreSettings;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Storms settle (issue "One user cannot hurt another"). The packaged server runs as its own process
 * with cheap password hashes and otherwise its default limits (this machine is exempt from the
 * per-address ones; each connection's command rate applies), and 2,000 users of the generator's
 * {@code reconnect} scenario log in to it. The server is stopped with SIGTERM and started again on
 * the same port and data directory; once the storm has settled it is killed with SIGKILL and
 * started again. After each restart every user must be back in within a generous bound, and no
 * session may be lost again once its user is back (a slow reader cut off, a refusal); the stop must
 * say goodbye to every session. Meanwhile the probes, users already back, must have every command
 * answered while the others are still coming back, and every message the server accepted from them
 * delivered. Before each restart ten laggards stop acknowledging and are sent 400 messages each:
 * after the restart (and the crash) the server must send them all again, none missing. At the end
 * the last server is killed too, and every message the probes had accepted must be in the database:
 * what a server confirmed survives a stop and three crashes.
 *
 * <p>It lives with the generator because the generator's client drives it, and runs after {@code
 * package} (failsafe) because it needs the server's jar. The figures are printed to standard
 * output. {@code -Dstorm.users=N} changes the number of users.
 */
class ReconnectStormIT {

  private static final int USERS = Integer.getInteger("storm.users", 2_000);
  private static final int LAGGARDS = 10;

  /** Within the delivery window (500): see ScenariosSmokeTest for what happens beyond it. */
  private static final int KEPT = 400;

  private static final List<String> SERVER_JVM =
      List.of("-Xmx1g", "-Dparley.server.password-hash-iterations=1000");

  /** Generous: here the server needs about 3-8 s to start and the users 6-8 s more to be back. */
  private static final double ALL_BACK_SECONDS = 90;

  /** An answer slower than this would no longer count as the server answering. */
  private static final double PROBE_ANSWER_MILLIS = 15_000;

  private static final Duration LOGIN = Duration.ofMinutes(3);
  private static final Duration STORM = Duration.ofMinutes(3);
  private static final Path LOGS = Path.of("target", "reconnect-storm");

  @TempDir Path dir;

  private final List<PackagedServer> servers = new ArrayList<>();

  @AfterEach
  void stopServers() {
    servers.forEach(PackagedServer::close);
  }

  @Test
  void shouldBringEveryUserBackAfterAStopAndAfterACrash() throws Exception {
    Path credentials = dir.resolve("accounts.txt");
    Credentials.write(credentials, "storm", "storm-pw", USERS);
    int port = freePort();
    PackagedServer first = start(port, credentials);

    WatchedOutput out = new WatchedOutput();
    WatchedOutput err = new WatchedOutput();
    String[] args = {
      "reconnect",
      "--port",
      String.valueOf(port),
      "--clients",
      String.valueOf(USERS),
      "--prefix",
      "storm",
      "--password",
      "storm-pw",
      "--restarts",
      "2",
      // Before each restart ten laggards stop acknowledging and get 400 messages each: the
      // server must still have them all after the restart (the crash too) and send them again.
      "--kept",
      String.valueOf(KEPT),
      "--laggards",
      String.valueOf(LAGGARDS),
      "--duration",
      "600",
      "--probe-ids",
      dir.resolve("probe-ids.txt").toString(),
      "--quiet"
    };
    long started = System.nanoTime();
    CompletableFuture<Integer> bench =
        CompletableFuture.supplyAsync(() -> Main.run(args, out.printStream(), err.printStream()));

    err.await(line -> line.contains("waiting for restart 1"), LOGIN, bench::isDone);
    log("%d users logged in after %.1f s; SIGTERM", USERS, seconds(started));
    long stopping = System.nanoTime();
    first.terminate();
    int status = first.awaitExit();
    log("the server exited (status %d) %.2f s after SIGTERM", status, seconds(stopping));
    PackagedServer second = start(port, credentials);
    log("started again %.2f s after SIGTERM", seconds(stopping));

    err.await(line -> line.contains("waiting for restart 2"), STORM, bench::isDone);
    log("storm 1 over; SIGKILL");
    long killed = System.nanoTime();
    second.kill();
    second.awaitExit();
    start(port, credentials);
    log("started again %.2f s after SIGKILL", seconds(killed));

    assertEquals(0, bench.get(STORM.toSeconds(), TimeUnit.SECONDS), () -> failure(out, err));
    log("run took %.1f s", seconds(started));
    List<String> lines = out.lines();
    lines.forEach(line -> log("%s", line));
    assertEquals(3, lines.size(), () -> "two storms and the summary\n" + failure(out, err));

    Map<String, String> stopped = parse(lines.get(0));
    assertEveryoneBack(stopped, "after SIGTERM", () -> failure(out, err));
    assertEquals(
        USERS, count(stopped, "lost_shutdown"), "every session was told goodbye server-shutdown");
    assertEquals(0, count(stopped, "lost_no_goodbye"), "no session closed without its goodbye");

    Map<String, String> crashed = parse(lines.get(1));
    assertEveryoneBack(crashed, "after SIGKILL", () -> failure(out, err));

    for (PackagedServer server : servers) {
      assertFalse(
          server.console().contains("client too slow"),
          () -> "the server cut off a slow reader:\n" + server.tail());
    }

    // Killed once more (close), the last server leaves the database as a crash does: every message
    // it, or a server before it, accepted must be there.
    servers.forEach(PackagedServer::close);
    for (PackagedServer server : servers) {
      server.awaitExit();
    }
    List<String> acceptedIds = new ArrayList<>();
    for (String line : Files.readAllLines(dir.resolve("probe-ids.txt"))) {
      acceptedIds.add(line.split(" ")[1]);
    }
    Set<String> stored = storedClientIds(dir.resolve("data"));
    List<String> missing = acceptedIds.stream().filter(id -> !stored.contains(id)).toList();
    assertTrue(acceptedIds.size() > 0, "the probes' messages were accepted");
    assertEquals(
        List.of(),
        missing,
        "every message the servers accepted is in the database after a stop and two crashes ("
            + acceptedIds.size()
            + " accepted)");
  }

  /**
   * The client ids of every message in the embedded database of a stopped server, opened as the
   * next server would open it: after a kill, through the store's recovery pass.
   */
  private static Set<String> storedClientIds(Path dataDir) throws java.sql.SQLException {
    // The environment's PARLEY_DB_* variables (read by reference.conf) must not redirect it.
    StoreSettings settings =
        StoreSettings.fromConfig(
            ConfigFactory.parseMap(
                    Map.of(
                        StoreSettings.PATH + ".url",
                        "",
                        StoreSettings.PATH + ".user",
                        "",
                        StoreSettings.PATH + ".password",
                        "",
                        StoreSettings.PATH + ".data-dir",
                        dataDir.toString()))
                .withFallback(ConfigFactory.defaultReference())
                .resolve());
    Set<String> ids = new HashSet<>();
    try (Store store = Store.open(settings);
        java.sql.Connection c = store.dataSource().getConnection();
        java.sql.ResultSet rows =
            c.createStatement().executeQuery("SELECT client_id FROM messages")) {
      while (rows.next()) {
        ids.add(rows.getString(1));
      }
    }
    return ids;
  }

  private static void assertEveryoneBack(
      Map<String, String> storm, String when, Supplier<String> context) {
    String figures = when + ": " + storm + "\n" + context.get();
    assertEquals("true", storm.get("settled"), figures);
    assertEquals(USERS, count(storm, "lost"), figures);
    assertEquals(USERS, count(storm, "back"), "every user back in " + figures);
    // A restart (even a crash) keeps every session resumable: nobody pays the password hash again.
    assertEquals(USERS, count(storm, "resumed"), "every user back by resuming " + figures);
    assertEquals(0, count(storm, "resume_refused"), figures);
    assertEquals(0, count(storm, "away"), figures);
    assertEquals(0, count(storm, "gave_up"), figures);
    assertEquals(
        0,
        count(storm, "lost_again"),
        "no session lost again once its user was back (none cut off as a slow reader) " + figures);
    assertTrue(Double.parseDouble(storm.get("all_back_s")) < ALL_BACK_SECONDS, figures);

    assertTrue(count(storm, "probe_in_storm") > 0, "probes while others were away " + figures);
    assertEquals(0, count(storm, "probe_unanswered"), "every command answered " + figures);
    assertEquals(0, count(storm, "probe_lost_with_session"), figures);
    assertEquals("-", storm.get("probe_errors"), figures);
    assertTrue(Double.parseDouble(storm.get("probe_max_ms")) < PROBE_ANSWER_MILLIS, figures);
    assertTrue(count(storm, "messages_accepted") > 0, figures);
    assertEquals(0, count(storm, "messages_lost"), "every accepted message delivered " + figures);
    assertEquals(0, count(storm, "messages_duplicated"), figures);

    assertEquals(KEPT * LAGGARDS, count(storm, "kept_accepted"), figures);
    assertEquals(0, count(storm, "kept_lost"), "every kept message delivered " + figures);
    assertEquals(0, count(storm, "kept_duplicated"), figures);
    assertEquals(
        count(storm, "kept_before_restart"),
        count(storm, "kept_resent"),
        "what the laggards had (unacknowledged) is still in the store after the restart "
            + figures);
  }

  private PackagedServer start(int port, Path credentials) {
    Path log = LOGS.resolve("server-" + (servers.size() + 1) + ".log");
    PackagedServer server =
        PackagedServer.start(port, credentials, dir.resolve("data"), log, SERVER_JVM);
    servers.add(server);
    return server;
  }

  private String failure(WatchedOutput out, WatchedOutput err) {
    StringBuilder text =
        new StringBuilder("generator stdout:\n")
            .append(out.text())
            .append("\ngenerator stderr:\n")
            .append(err.text());
    if (!servers.isEmpty()) {
      text.append("\nlast server's console (all in ")
          .append(LOGS.toAbsolutePath())
          .append("):\n")
          .append(servers.get(servers.size() - 1).tail());
    }
    return text.toString();
  }

  private static long count(Map<String, String> summary, String key) {
    String value = summary.get(key);
    assertTrue(value != null, () -> "no " + key + " in " + summary);
    return Long.parseLong(value);
  }

  private static Map<String, String> parse(String line) {
    Map<String, String> values = new LinkedHashMap<>();
    for (String pair : line.split(" ")) {
      int equals = pair.indexOf('=');
      values.put(pair.substring(0, equals), pair.substring(equals + 1));
    }
    return values;
  }

  private static double seconds(long since) {
    return (System.nanoTime() - since) / 1e9;
  }

  private static void log(String format, Object... args) {
    System.out.println("ReconnectStormIT: " + String.format(java.util.Locale.ROOT, format, args));
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
