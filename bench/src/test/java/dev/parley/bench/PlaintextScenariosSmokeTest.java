package dev.parley.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every scenario with {@code --plaintext} against a server run with {@code --plaintext}, the
 * comparison that shows what TLS costs: each completes, loses nothing and says {@code
 * transport=plaintext}. ({@link ScenariosSmokeTest} checks the scenarios' keys over TLS.)
 */
class PlaintextScenariosSmokeTest {

  private static final int ACCOUNTS = 6;
  private static final String PREFIX = "plain";
  private static final List<String> TRAFFIC = List.of("direct", "fanout", "sweep");

  @TempDir static Path dir;

  private static BenchTestServer server;

  @BeforeAll
  static void startServer() throws Exception {
    Path accounts = dir.resolve("accounts.txt");
    assertEquals(
        0,
        Main.run(
            new String[] {
              "credentials", "--clients", "" + ACCOUNTS, "--prefix", PREFIX, "--out", "" + accounts
            },
            System.out,
            System.err));
    server = BenchTestServer.startPlaintext(dir.resolve("data"), accounts);
  }

  @AfterAll
  static void stopServer() {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void shouldLogInOverPlainTcp() {
    Map<String, String> summary = run("login", "--clients", "6");
    assertEquals("6", summary.get("logged_in"));
    assertEquals("0", summary.get("failures"));
  }

  @Test
  void shouldDeliverEveryDirectMessage() {
    Map<String, String> summary =
        run("direct", "--clients", "4", "--rate", "max", "--window", "4", "--duration", "1");
    assertTrue(Long.parseLong(summary.get("sent")) > 0);
    assertEquals(summary.get("sent"), summary.get("delivered"));
    assertEquals("0", summary.get("lost"));
    assertTrue(summary.containsKey("bench_cpu_us_per_msg"), summary.toString());
  }

  @Test
  void shouldDeliverEveryBroadcast() {
    Map<String, String> summary =
        run("fanout", "--clients", "4", "--rate", "20", "--duration", "1");
    assertEquals(summary.get("expected"), summary.get("delivered"));
    assertEquals("0", summary.get("lost"));
  }

  @Test
  void shouldHoldIdleSessions() {
    assertEquals("5", run("idle", "--clients", "5", "--duration", "0.5").get("sessions"));
  }

  @Test
  void shouldSweep() {
    Map<String, String> summary =
        run(
            "sweep",
            "--clients",
            "4",
            "--from",
            "50",
            "--to",
            "50",
            "--duration",
            "1",
            "--slo-p99-ms",
            "60000");
    assertEquals("1", summary.get("steps"));
  }

  @Test
  void shouldBringEveryUserBackAfterARestart() throws Exception {
    WatchedOutput out = new WatchedOutput();
    WatchedOutput err = new WatchedOutput();
    String[] args = {
      "reconnect",
      "--plaintext",
      "--port",
      "" + server.port(),
      "--prefix",
      PREFIX,
      "--clients",
      "4",
      "--probes",
      "1",
      "--backoff-max",
      "0.5",
      "--duration",
      "120",
      "--quiet"
    };
    CompletableFuture<Integer> status =
        CompletableFuture.supplyAsync(() -> Main.run(args, out.printStream(), err.printStream()));
    err.await(
        line -> line.contains("waiting for restart 1"), Duration.ofSeconds(60), status::isDone);
    server = server.restart();
    assertEquals(0, status.get(120, TimeUnit.SECONDS), () -> "stderr:\n" + err.text());
    List<String> lines = out.lines();
    Map<String, String> storm = parse(lines.get(0));
    assertEquals("plaintext", storm.get("transport"));
    assertEquals("4", storm.get("back"), err.text());
    assertEquals("plaintext", parse(lines.get(lines.size() - 1)).get("transport"));
  }

  @Test
  void shouldSayWhenTheServerDoesNotSpeakTls() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status =
        Main.run(
            new String[] {
              "login", "--port", "" + server.port(), "--prefix", PREFIX, "--clients", "2", "--quiet"
            },
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    String said = err.toString(StandardCharsets.UTF_8);
    assertEquals(Main.EXIT_FAILED, status, said);
    assertTrue(said.contains("TLS"), said);
    assertTrue(said.contains("--plaintext here too"), said);
  }

  /** Runs a scenario with --plaintext; its summary, which must say so. */
  private static Map<String, String> run(String scenario, String... more) {
    List<String> args =
        new ArrayList<>(
            List.of(
                scenario,
                "--plaintext",
                "--port",
                "" + server.port(),
                "--prefix",
                PREFIX,
                "--quiet"));
    if (TRAFFIC.contains(scenario)) {
      // Plenty of time for the last answers on a slow machine.
      args.addAll(List.of("--grace", "20"));
    }
    args.addAll(Arrays.asList(more));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status =
        Main.run(
            args.toArray(String[]::new),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    assertEquals(0, status, () -> "stderr:\n" + err.toString(StandardCharsets.UTF_8));
    String[] lines = out.toString(StandardCharsets.UTF_8).split("\n");
    Map<String, String> summary = parse(lines[lines.length - 1]);
    assertEquals(scenario, summary.get("scenario"));
    assertEquals("plaintext", summary.get("transport"));
    assertEquals("0", summary.get("disconnects"));
    return summary;
  }

  private static Map<String, String> parse(String line) {
    Map<String, String> values = new LinkedHashMap<>();
    for (String pair : line.split(" ")) {
      int equals = pair.indexOf('=');
      values.put(pair.substring(0, equals), pair.substring(equals + 1));
    }
    return values;
  }
}
