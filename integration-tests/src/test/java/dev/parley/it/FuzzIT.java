package dev.parley.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.client.text.Texts;
import dev.parley.it.fuzz.Bystander;
import dev.parley.it.fuzz.FuzzRun;
import dev.parley.it.fuzz.FuzzStats;
import dev.parley.it.fuzz.PeerSession;
import dev.parley.it.fuzz.PeerTokens;
import dev.parley.it.fuzz.ProcessProbe;
import dev.parley.it.support.HeadlessClient;
import dev.parley.it.support.Program;
import dev.parley.it.support.Screen;
import dev.parley.it.support.ServerProcess;
import dev.parley.it.support.TestServer;
import dev.parley.protocol.ClientMessage;
import dev.parley.protocol.ServerMessage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One user cannot hurt another: the packaged server runs as its own process, with TLS on as by
 * default, and while dozens of fuzz connections send it anything at all (inside TLS: garbage in
 * every phase, real logins with the demo accounts followed by any command with any value, oversized
 * lines, floods, readers that never read, half-closed and dropped connections; and to the TLS port
 * itself: garbage, plain text, cut-short and oversized handshakes), two ordinary users keep talking
 * through it, and a real client process has its private-chat port (TLS only) fuzzed the same way.
 * Afterwards:
 *
 * <ul>
 *   <li>every command of the two ordinary users was answered, correctly, within {@link #BOUND}, and
 *       every message the server accepted between them was delivered, once;
 *   <li>the server and the client are still up, and the client still shows a message sent through
 *       the server and one sent over a real private chat;
 *   <li>the client printed nothing about a private chat for any connection that did not present a
 *       fresh one-time token the server issued for the name it gave, and no token opened more than
 *       one chat; hellos with no token, a forged, reused, expired or someone else's token were
 *       closed without a frame;
 *   <li>the server's live heap after a full collection is back near where it started, and its
 *       resident memory stayed under a generous bound.
 * </ul>
 *
 * <p>What the server did wrong towards the fuzzers themselves (a frame over the limit, no goodbye,
 * a connection left open) and what its log shows (errors, stack traces, lines forged through input)
 * is reported as anomalies, which fail the test only with {@code -Dfuzz.strict=true}.
 *
 * <p>Seeded: {@code -Dfuzz.seed=N} (default fixed; {@code random} picks one) decides what each fuzz
 * worker sends (thread timing still varies); {@code -Dfuzz.seconds=S} how long it fuzzes (default
 * 45). The seed is in the first line of the output and in every assertion message; the run's server
 * log, client transcript and summary are kept under {@code target/fuzz/}.
 */
class FuzzIT {

  private static final Logger LOG = LoggerFactory.getLogger(FuzzIT.class);

  private static final long DEFAULT_SEED = 0x5EED_2026L;

  /** Generous: the machine runs the server, a client and all the fuzzers on two cores. */
  private static final Duration BOUND = Duration.ofSeconds(15);

  private static final Pattern LISTENING = Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+)");

  /** Heap in use after a full collection may grow this much: caches, interned names, H2 pages. */
  private static final long HEAP_GROWTH_KIB = 128 * 1024;

  /**
   * Short, so that the peer fuzzers present tokens past their lifetime within a run: at the default
   * of 30 s a token would expire only at the end of a 45 s run.
   */
  private static final Duration TOKEN_TTL = Duration.ofSeconds(10);

  /** Far above what the server needs with its heap capped, far below a leak of every connection. */
  private static final long MAX_RSS_KIB = 1_280 * 1024;

  private static final Pattern PRIVATE_LINE =
      Pattern.compile(
          "^(?:(\\S+)\\(private\\): |(\\S+) started private messaging with you$|(\\S+) stopped"
              + " private messaging with you$|Private messaging with (\\S+) closed: )");
  private static final Pattern LOG_LINE =
      Pattern.compile(
          "^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}\\S* (TRACE|DEBUG|INFO|WARN|ERROR) ");
  private static final Pattern STACK_TRACE_LINE =
      Pattern.compile("^(\\tat |\\t\\.\\.\\. |Caused by: |\\s*[\\w.$]+(Exception|Error)(: |$))");

  private final List<AutoCloseable> resources = new ArrayList<>();

  @AfterEach
  void stopEverything() {
    for (AutoCloseable resource : resources) {
      try {
        resource.close();
      } catch (Exception e) {
        LOG.warn("could not close {}", resource, e);
      }
    }
  }

  @Test
  void shouldKeepServingEveryoneElseWhileStrangersSendAnything() throws Exception {
    long seed = seed();
    Duration fuzzing = Duration.ofSeconds(Long.getLong("fuzz.seconds", 45));
    boolean strict = Boolean.getBoolean("fuzz.strict");
    String rerun = "seed " + seed + " (re-run: -Dfuzz.seed=" + seed + ")";
    say(
        "FuzzIT "
            + rerun
            + ", fuzzing for "
            + fuzzing.toSeconds()
            + " s"
            + (System.getProperty("fuzz.skip", "").isBlank()
                ? ""
                : ", skipping " + System.getProperty("fuzz.skip")));

    Path run =
        Files.createDirectories(
            Path.of("target", "fuzz", "seed-" + seed + "-" + Instant.now().toEpochMilli()));
    FuzzStats stats = new FuzzStats();
    // The server logs UTC times as 2026-12-05T17:28:39.445Z: comparable as text.
    String runStart = Instant.now().minusSeconds(1).toString();

    Program server = startServer(run);
    int port = awaitListening(run.resolve("server.log"));
    ProcessProbe probe = new ProcessProbe(server.pid());

    Bystander hans =
        track(Bystander.login(port, "hans", TestServer.PASSWORDS.get("hans"), stats, BOUND));
    Bystander yoda =
        track(Bystander.login(port, "yoda", TestServer.PASSWORDS.get("yoda"), stats, BOUND));
    // Asks the server for the one-time tokens of real private chats with luke, for the peer
    // fuzzers.
    Bystander r2d2 =
        track(Bystander.login(port, "r2d2", TestServer.PASSWORDS.get("r2d2"), stats, BOUND));
    Program luke = startClient(run.resolve("luke"), port, fingerprintIn(run.resolve("server.log")));
    ServerMessage located =
        hans.command(new ClientMessage.StartPrivate("luke"), ServerMessage.PeerAddress.class);
    assertTrue(
        located instanceof ServerMessage.PeerAddress, () -> "luke's private-chat port: " + located);
    int peerPort = ((ServerMessage.PeerAddress) located).port();

    long heapBefore = probe.liveHeapKib();
    long rssBefore = probe.rssKib();
    say(
        "server before: live heap "
            + heapBefore
            + " KiB, RSS "
            + rssBefore
            + " KiB\n"
            + probe.heapInfo().strip());

    FuzzRun fuzz =
        new FuzzRun(seed, port, peerPort, TestServer.PASSWORDS, stats, fuzzing)
            .withWorkers(
                Integer.getInteger("fuzz.server-workers", 14),
                Integer.getInteger("fuzz.peer-workers", 4))
            .withBystanders(
                hans, yoda, Duration.ofMillis(Long.getLong("fuzz.bystander-interval-ms", 25)))
            .withPeerTokens(new PeerTokens(r2d2, "luke", TOKEN_TTL, stats))
            .sampling(probe);
    fuzz.run();

    // ---- the checks ----
    if (!server.isAlive()) {
      stats.violation("the server process died", tail(run.resolve("server.log")));
    }
    if (!luke.isAlive()) {
      stats.violation("the client process died", luke.stdout().transcript());
    }
    checkDelivery(hans, yoda, stats);
    checkDelivery(yoda, hans, stats);
    checkStillServing(hans, stats);
    checkClientStillWorks(luke, hans, peerPort, seed, stats);
    checkClientPrintedNoStrangers(luke.stdout(), fuzz.introducedPeers(), stats);
    checkEachTokenOpenedOneChatAtMost(luke.stdout(), fuzz.validHellos(), stats);
    checkClientPrintedNoControls(luke.stdout(), stats);

    long heapAfter = probe.liveHeapKib();
    long rssAfter = probe.rssKib();
    say(
        "server after: live heap "
            + heapAfter
            + " KiB, RSS "
            + rssAfter
            + " KiB, peak RSS "
            + fuzz.peakRssKib()
            + " KiB\n"
            + probe.heapInfo().strip());
    if (heapBefore > 0 && heapAfter > heapBefore + HEAP_GROWTH_KIB) {
      stats.violation(
          "the server's live heap grew",
          heapBefore + " KiB -> " + heapAfter + " KiB after a full GC");
    }
    if (fuzz.peakRssKib() > MAX_RSS_KIB) {
      stats.violation(
          "the server's resident memory went over " + MAX_RSS_KIB + " KiB",
          fuzz.peakRssKib() + " KiB");
    }
    scanServerLog(run.resolve("server.log"), runStart, stats);

    hans.close();
    yoda.close();
    r2d2.close();
    server.terminate();
    say("server stopped with exit status " + server.exitStatus());

    String summary =
        summary(
            rerun, fuzzing, stats, hans, yoda, heapBefore, heapAfter, rssBefore, fuzz.peakRssKib());
    Files.writeString(run.resolve("summary.txt"), summary);
    Files.writeString(run.resolve("luke.txt"), luke.stdout().transcript());
    say(summary);

    Map<String, FuzzStats.Finding> violations = stats.findings(FuzzStats.Severity.VIOLATION);
    assertTrue(
        violations.isEmpty(),
        () -> rerun + ": " + violations.size() + " kinds of violation\n" + summary);
    if (strict) {
      Map<String, FuzzStats.Finding> anomalies = stats.findings(FuzzStats.Severity.ANOMALY);
      assertTrue(
          anomalies.isEmpty(),
          () -> rerun + ": " + anomalies.size() + " kinds of anomaly (strict)\n" + summary);
    }
  }

  // ---- processes
  // ----------------------------------------------------------------------------------

  /**
   * The packaged server on a free port with a fresh data directory and the bundled demo accounts,
   * with its defaults except where they would stop the fuzzer short of the deeper phases (see the
   * written configuration file); {@code -Dfuzz.server-options="-Dparley.server.x=y ..."} adds more,
   * for instance to lift the rate limits.
   */
  private Program startServer(Path run) throws IOException {
    Path config = run.resolve("fuzz-server.conf");
    Files.writeString(
        config,
        String.join(
            "\n",
            "# Written by FuzzIT: the server's defaults, except what would keep the fuzzer out of",
            "# the deeper phases.",
            "parley.server {",
            "  # Logins are much of what the fuzzer does; at the real cost (600,000 iterations,",
            "  # ~130 ms each on two hashing threads) it would measure the password hash instead.",
            "  password-hash-iterations = 1000",
            "  # So that tokens expire within the run and the fuzzers can present expired ones.",
            "  private-chat-token-ttl = " + TOKEN_TTL.toSeconds() + "s",
            "}",
            ""));
    List<String> jvm = new ArrayList<>();
    jvm.add("-Xmx" + System.getProperty("fuzz.server-heap", "384m"));
    for (String option : System.getProperty("fuzz.server-options", "").trim().split("\\s+")) {
      if (!option.isEmpty()) {
        jvm.add(option);
      }
    }
    // Positional: a free port, a 1 s lockout (wrong passwords would otherwise lock the demo
    // accounts the fuzzers log in with for a minute), the default idle timeout.
    return track(
        Program.startLoggingTo(
            run.resolve("server.log"),
            "server",
            Program.jar("parley.server.jar"),
            Files.createDirectories(run.resolve("server")),
            jvm,
            "0",
            "1",
            "600",
            "--data-dir",
            run.resolve("server").resolve("data").toAbsolutePath().toString(),
            "--config",
            config.toAbsolutePath().toString()));
  }

  /** The packaged client as luke, in a directory of its own (its log included), logged in. */
  private Program startClient(Path directory, int port, String fingerprint) throws IOException {
    Files.createDirectories(directory);
    Program luke =
        track(
            Program.start(
                "luke",
                Program.jar("parley.client.jar"),
                directory,
                List.of(
                    "-Dparley.client.log=" + directory.resolve("client.log").toAbsolutePath(),
                    "-Djava.io.tmpdir=" + directory.toAbsolutePath()),
                "127.0.0.1",
                String.valueOf(port),
                "--trust-fingerprint",
                fingerprint));
    luke.type("luke", TestServer.PASSWORDS.get("luke")).expect(HeadlessClient.WELCOME);
    return luke;
  }

  /** The fingerprint the server logged for clients to pin (it logs it before it listens). */
  private static String fingerprintIn(Path log) throws IOException {
    Matcher matcher = ServerProcess.FINGERPRINT.matcher(Files.readString(log));
    if (!matcher.find()) {
      throw new AssertionError("the server logged no certificate fingerprint:\n" + tail(log));
    }
    return matcher.group(1);
  }

  private static int awaitListening(Path log) throws IOException {
    long deadline = System.nanoTime() + ServerProcess.STARTUP.toNanos();
    while (System.nanoTime() < deadline) {
      if (Files.exists(log)) {
        Matcher matcher = LISTENING.matcher(Files.readString(log));
        if (matcher.find()) {
          return Integer.parseInt(matcher.group(1));
        }
      }
      java.util.concurrent.locks.LockSupport.parkNanos(50_000_000);
    }
    throw new AssertionError(
        "the server did not listen within " + ServerProcess.STARTUP + ":\n" + tail(log));
  }

  // ---- checks
  // -------------------------------------------------------------------------------------

  /** Everything {@code from} got accepted for {@code to} reaches {@code to}, with its text. */
  private static void checkDelivery(Bystander from, Bystander to, FuzzStats stats) {
    Map<String, String> accepted = from.accepted();
    long deadline = System.nanoTime() + BOUND.toNanos();
    while (!to.receivedFromPeer().keySet().containsAll(accepted.keySet())
        && System.nanoTime() < deadline) {
      java.util.concurrent.locks.LockSupport.parkNanos(20_000_000);
    }
    Map<String, String> received = to.receivedFromPeer();
    for (Map.Entry<String, String> message : accepted.entrySet()) {
      String text = received.get(message.getKey());
      if (text == null) {
        stats.violation(
            "an accepted message was not delivered",
            from.user() + " -> " + to.user() + " id " + message.getKey());
      } else if (!text.equals(message.getValue())) {
        stats.violation(
            "a message was delivered with another text",
            from.user() + " -> " + to.user() + " id " + message.getKey());
      }
    }
    stats.add("bystander messages accepted: " + from.user() + " -> " + to.user(), accepted.size());
  }

  /** The server still answers, and still lets a user in. */
  private static void checkStillServing(Bystander hans, FuzzStats stats) throws IOException {
    hans.command(new ClientMessage.WhoElse(), ServerMessage.OnlineUsers.class);
    long deadline = System.nanoTime() + BOUND.multipliedBy(2).toNanos();
    String why = "";
    while (System.nanoTime() < deadline) {
      FuzzStats scratch = new FuzzStats();
      try (Bystander vader =
          Bystander.login(
              hans.port(), "vader", TestServer.PASSWORDS.get("vader"), scratch, BOUND)) {
        return;
      } catch (IllegalStateException e) {
        // Locked for a second by a fuzzer's wrong passwords, or still online for a moment.
        why = e.getMessage();
        java.util.concurrent.locks.LockSupport.parkNanos(200_000_000);
      }
    }
    stats.violation("the server no longer lets a user log in", why);
  }

  /**
   * The client still shows what the server relays and what a real private chat sends: the fuzzing
   * of its port and of the server must not have left it deaf.
   */
  private static void checkClientStillWorks(
      Program luke, Bystander hans, int peerPort, long seed, FuzzStats stats) throws IOException {
    String text = "after the storm " + seed;
    hans.command(
        new ClientMessage.SendMessage("luke", text, "after-" + seed),
        ServerMessage.MessageAccepted.class);
    if (!awaitLine(luke.stdout(), line -> line.equals("hans: " + text))) {
      stats.violation(
          "the client no longer shows messages from the server",
          "no 'hans: " + text + "' within " + BOUND);
    }
    ServerMessage address =
        hans.command(new ClientMessage.StartPrivate("luke"), ServerMessage.PeerAddress.class);
    if (!(address instanceof ServerMessage.PeerAddress granted) || granted.token() == null) {
      stats.violation("the server no longer brokers private chats with the client", "" + address);
      return;
    }
    try (PeerSession chat = PeerSession.open(peerPort, "hans", granted.token(), BOUND)) {
      if (!chat.handshake()) {
        stats.violation(
            "the client no longer accepts private chats",
            "no peer-hello from luke within " + BOUND);
        return;
      }
      String privately = "still there " + seed;
      if (!chat.sendAndAwaitAck(privately)) {
        stats.violation("the client no longer acknowledges private messages", privately);
      }
      if (!awaitLine(luke.stdout(), line -> line.equals("hans(private): " + privately))) {
        stats.violation("the client no longer shows private messages", privately);
      }
    }
  }

  /**
   * Private-chat lines may only name users some connection introduced with a valid hello. The
   * client shows a name as {@link Texts#clean} makes it safe for a terminal (control and bidi
   * characters replaced), so the names introduced are compared in that form.
   */
  private static void checkClientPrintedNoStrangers(
      Screen screen, Set<String> introducedNames, FuzzStats stats) {
    Set<String> introduced = new java.util.HashSet<>();
    introducedNames.forEach(name -> introduced.add(Texts.clean(name)));
    for (String line : screen.lines()) {
      Matcher matcher = PRIVATE_LINE.matcher(line);
      if (!matcher.find()) {
        continue;
      }
      String name = null;
      for (int group = 1; group <= matcher.groupCount() && name == null; group++) {
        name = matcher.group(group);
      }
      stats.count("client lines about private chats");
      if (!"hans".equals(name) && !introduced.contains(name)) {
        stats.violation(
            "the client printed a private-chat line for a connection without a valid peer-hello",
            line);
      }
    }
  }

  /**
   * A token opens one chat: the client says "X started private messaging with you" no more often
   * for a user than hellos with a fresh token for that user were sent (by the fuzzers, plus the
   * real chat of {@link #checkClientStillWorks}).
   */
  private static void checkEachTokenOpenedOneChatAtMost(
      Screen screen, Map<String, Long> validHellos, FuzzStats stats) {
    Pattern started = Pattern.compile("^(\\S+) started private messaging with you$");
    Map<String, Long> opened = new HashMap<>();
    for (String line : screen.lines()) {
      Matcher matcher = started.matcher(line);
      if (matcher.find()) {
        opened.merge(matcher.group(1), 1L, Long::sum);
      }
    }
    opened.forEach(
        (user, count) -> {
          long allowed = validHellos.getOrDefault(user, 0L) + ("hans".equals(user) ? 1 : 0);
          if (count > allowed) {
            stats.violation(
                "the client opened more private chats than tokens were presented",
                user + ": " + count + " chats for " + allowed + " fresh tokens");
          }
        });
  }

  /**
   * Errors, stack traces, lines the logger did not write (a line feed in logged input starts a new
   * line: one dated before the run began, or not dated at all, was forged) and control characters
   * from logged input (terminal escape sequences reach whoever reads the log).
   */
  private static void scanServerLog(Path log, String runStart, FuzzStats stats) throws IOException {
    try (var lines = Files.lines(log, java.nio.charset.StandardCharsets.UTF_8)) {
      lines.forEach(
          line -> {
            if (line.chars().anyMatch(c -> c < 0x20 && c != '\t' || c == 0x7F)) {
              stats.anomaly("the server's log has control characters from logged input", line);
            }
            Matcher matcher = LOG_LINE.matcher(line);
            if (matcher.find() && line.compareTo(runStart) >= 0) {
              stats.count("server log lines at " + matcher.group(1));
              if (matcher.group(1).equals("ERROR")) {
                stats.anomaly("the server logged an ERROR", line);
              }
            } else if (STACK_TRACE_LINE.matcher(line).find()) {
              stats.anomaly("the server logged a stack trace", line);
            } else {
              stats.anomaly(
                  "the server's log has lines its logger did not write (forged through a line feed"
                      + " in logged input)",
                  line);
            }
          });
    } catch (java.io.UncheckedIOException e) {
      stats.anomaly("the server's log is not UTF-8", e.getMessage());
    }
  }

  /**
   * The client cleans what it prints of control characters, so that nobody can write escape
   * sequences to its user's terminal; a bidirectional override still reorders what is shown.
   */
  private static void checkClientPrintedNoControls(Screen screen, FuzzStats stats) {
    for (String line : screen.lines()) {
      if (line.chars().anyMatch(c -> c < 0x20 || (c >= 0x7F && c <= 0x9F))) {
        stats.violation("the client printed a control character", line);
      }
      if (line.chars()
          .anyMatch(c -> (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069))) {
        stats.anomaly(
            "the client printed a bidirectional override (others' text can reorder a line)", line);
      }
    }
  }

  private static boolean awaitLine(Screen screen, Predicate<String> wanted) {
    long deadline = System.nanoTime() + BOUND.toNanos();
    while (true) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return false;
      }
      try {
        if (wanted.test(screen.nextLine(Duration.ofNanos(left)))) {
          return true;
        }
      } catch (AssertionError timeout) {
        return false;
      }
    }
  }

  // ---- reporting
  // ----------------------------------------------------------------------------------

  private static String summary(
      String rerun,
      Duration fuzzing,
      FuzzStats stats,
      Bystander hans,
      Bystander yoda,
      long heapBefore,
      long heapAfter,
      long rssBefore,
      long peakRss) {
    Map<String, List<Long>> latencies = new HashMap<>();
    latencies.put(hans.user(), hans.latencies());
    latencies.put(yoda.user(), yoda.latencies());
    StringBuilder text = new StringBuilder();
    text.append("FuzzIT ").append(rerun).append(", ").append(fuzzing.toSeconds()).append(" s\n");
    text.append(
        String.format(
            "sent %d frames, %d bytes; server live heap %d -> %d KiB, RSS %d KiB at start, %d KiB"
                + " at peak%n",
            stats.framesSent(), stats.bytesSent(), heapBefore, heapAfter, rssBefore, peakRss));
    latencies.forEach(
        (user, sorted) ->
            text.append(
                String.format(
                    "bystander %s: %d commands answered, median %d ms, 99th percentile %d ms, max"
                        + " %d ms%n",
                    user,
                    sorted.size(),
                    percentile(sorted, 50),
                    percentile(sorted, 99),
                    sorted.isEmpty() ? 0 : sorted.get(sorted.size() - 1))));
    text.append(stats.summary());
    return text.toString();
  }

  private static long percentile(List<Long> sorted, int percent) {
    return sorted.isEmpty()
        ? 0
        : sorted.get(Math.min(sorted.size() - 1, sorted.size() * percent / 100));
  }

  private static long seed() {
    String configured = System.getProperty("fuzz.seed", "");
    if (configured.isBlank()) {
      return DEFAULT_SEED;
    }
    return configured.equals("random") ? System.nanoTime() : Long.decode(configured);
  }

  private static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  /**
   * The run's key lines go to the console as well as the log: the seed must be visible in CI output
   * even when the test passes.
   */
  private static void say(String text) {
    LOG.info(text);
    System.out.println(text);
  }

  private <T extends AutoCloseable> T track(T resource) {
    resources.add(0, resource);
    return resource;
  }
}
