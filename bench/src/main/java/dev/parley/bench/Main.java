package dev.parley.bench;

import dev.parley.bench.client.Fleet;
import dev.parley.bench.scenario.BenchFailure;
import dev.parley.bench.scenario.DirectScenario;
import dev.parley.bench.scenario.FanoutScenario;
import dev.parley.bench.scenario.IdleScenario;
import dev.parley.bench.scenario.LoginScenario;
import dev.parley.bench.scenario.ReconnectScenario;
import dev.parley.bench.scenario.ScenarioContext;
import dev.parley.bench.scenario.Summary;
import dev.parley.bench.scenario.SweepScenario;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * {@code parley-bench SCENARIO [options]}: a load generator for Parley's own protocol, run against
 * a user's server. It writes the accounts the server needs ({@code credentials}), measures logins,
 * direct messages, broadcasts and idle sessions, sweeps the direct-message rate, follows users
 * coming back through server restarts ({@code reconnect}), and forwards {@code jmh} to the
 * microbenchmarks. Exit status: 0 when the scenario ran, 1 when it could not run (or its numbers
 * cannot be trusted), 2 on a bad command line.
 */
public final class Main {

  static final int EXIT_FAILED = 1;
  static final int EXIT_USAGE = 2;

  static final String USAGE =
      String.join(
          "\n",
          "Usage: parley-bench SCENARIO [options]",
          "       parley-bench jmh [JMH options]       (the microbenchmarks; -h lists JMH's"
              + " options)",
          "",
          "Drives a Parley server with many simulated users over its own protocol and prints one",
          "summary line (key=value) per run on standard output; progress and warnings go to",
          "standard error. Every client logs in before anything is measured. Clients speak TLS",
          "(the server's default) unless --plaintext; every summary says which (transport=).",
          "",
          "Scenarios:",
          "  credentials  write the accounts of the simulated users, PREFIX0 .. PREFIX(N-1), as",
          "               'username password' lines for the server's --credentials FILE",
          "               (options: --clients --out --prefix --password)",
          "  login        N clients log in as fast as the server lets them (at most",
          "               --login-concurrency at a time): logins_per_s, login latency, failures;",
          "               with --server-pid, the server's CPU per login and memory per session.",
          "               The rate includes the server's password hash at whatever cost it is",
          "               configured with, and is meant to be reported together with that cost.",
          "  direct       N clients; each message goes from a random client to a random other one,",
          "               at --rate R messages/s in total for --duration seconds, or with --rate",
          "               max as fast as the server answers, each client keeping --window",
          "               messages unanswered. Reports sent, accepted, refused, delivered,",
          "               duplicated, lost, delivered_per_s and latency p50/p95/p99/p99.9/max.",
          "  fanout       N members; --senders of them broadcast at --rate R broadcasts/s in total",
          "               (or max) and every other member receives each one: deliveries_per_s,",
          "               expected against delivered, lost, latency of each delivery.",
          "  idle         N sessions log in and stay silent for --duration: per session, the",
          "               growth of the server's resident memory and of its live heap (after a",
          "               full collection, through jcmd), and its CPU while idle (all need",
          "               --server-pid). Resident memory is only meaningful on a fresh server: a",
          "               JVM's heap grows and rarely gives memory back.",
          "  sweep        direct at increasing offered rates (--from, then +--step or doubling, up",
          "               to --to), --duration each, on the same logged-in clients; one line per",
          "               step, stopping at the first step that misses the objective (p99 within",
          "               --slo-p99-ms, nothing lost, refused or duplicated, no disconnects, the",
          "               whole rate offered); reports the highest rate that met it.",
          "  reconnect    N users log in and stay while someone else restarts the server",
          "               (--restarts times). Whenever a session ends (goodbye server-shutdown,",
          "               or the connection closed or reset) its user comes back as Parley's",
          "               client does: it waits --backoff-min, doubling after each failed",
          "               attempt up to --backoff-max, each wait up to --backoff-random longer at",
          "               random, and logs in again, trying again after refusals that pass",
          "               (unreachable, already-online, server-busy, server-shutdown,",
          "               rate-limited). Meanwhile --probes of the users who are back send",
          "               whoelse and direct messages in turn, one every --probe-interval",
          "               seconds, to show that the server still answers. One line per storm",
          "               (reconnect-storm), then the summary: lost= by cause (lost_shutdown,",
          "               lost_no_goodbye: closed without goodbye while logged in, as a slow",
          "               reader cut off or a crash; lost_again: by users already back),",
          "               attempts=, refused= by reason, back= (resumed= of them), gave_up=,",
          "               first_back_s= and",
          "               all_back_s= (from the first lost session to the first and to the last",
          "               user back), notices_per_user= (presence notices), the probes' answers",
          "               (probe_answered, probe_p99_ms) and messages (accepted, delivered, lost).",
          "               Standard error says '" + ReconnectScenario.READY + " K' when ready for",
          "               restart K and 'storm K settled' after it, even with --quiet, for",
          "               scripts that restart the server (bench/restart-storm.sh is one).",
          "",
          "Connection options (every scenario but credentials):",
          "  --host HOST              server address (default 127.0.0.1)",
          "  --port PORT              server port (default 3331)",
          "  --servers HOST:PORT,HOST:PORT...",
          "                           several servers (the nodes of a cluster) instead of",
          "                           --host and --port: client i connects to server i mod n",
          "  --clients N              simulated users, PREFIX0 .. PREFIX(N-1) (default 100)",
          "  --prefix P               username prefix (default bench)",
          "  --password PW            their password (default bench-pw)",
          "  --threads T              the generator's I/O threads (default: cores, at most 4)",
          "  --login-concurrency C    logins in progress at once (default 64)",
          "  --keepalive S            a client silent for S seconds sends 'activity', so that the",
          "                           server's idle timeout does not end it (default 300; 0: off)",
          "  --server-pid PID[,PID...]",
          "                           the server's process (Linux): adds its CPU (from",
          "                           /proc/PID/stat) and resident memory (VmRSS); with several",
          "                           PIDs (one per node) each figure is the sum over them",
          "  --json FILE              also append the summary to FILE as one JSON object per line",
          "                           (a sweep's steps in it as step_results)",
          "  --quiet                  no progress lines",
          "  --plaintext              plain TCP, for a server run with --plaintext (default: TLS",
          "                           1.3 or 1.2, each connection making a full handshake and",
          "                           presenting a client certificate, as Parley's client does)",
          "  --trust-fingerprint FP[,FP...]",
          "                           trust the server only if its certificate has this SHA-256",
          "                           fingerprint (SHA256:..., which the server logs at start);",
          "                           with --servers, one per server in the same order.",
          "                           Without it the generator trusts ANY certificate: it is a",
          "                           load generator for one's own server, so its connections",
          "                           are encrypted but do not prove which server they reach",
          "  --tls-warmup N           TLS handshakes the generator makes in memory before it",
          "                           connects, so that its own cryptography is compiled by",
          "                           then and its first logins do not measure its JIT",
          "                           (default 300, about 2-3 s; 0: none)",
          "",
          "Traffic options (direct, fanout, sweep):",
          "  --rate R|max             offered messages (fanout: broadcasts) per second in total;",
          "                           max: closed loop, each client keeps --window unanswered",
          "                           (default max; the sweep sets the rate itself)",
          "  --duration S             seconds of sending (idle: of sitting idle) (default 10)",
          "  --window W               messages a client may have unanswered (default 16); at a",
          "                           fixed rate, sends due while it is full wait in the client,",
          "                           and count as unsent beyond 1024",
          "  --payload B              bytes of message text (default 64)",
          "  --grace S                after sending, seconds to wait for the last answers and",
          "                           deliveries before counting what is missing (default 10)",
          "  --senders S              fanout: members who broadcast (default 1)",
          "",
          "Reconnect options (and the connection options, without --server-pid: the server's",
          "process changes at each restart):",
          "  --restarts R             restarts to wait for (default 1)",
          "  --duration S             at most this long for all of them (default 600)",
          "  --grace S                after a storm, seconds to wait for the probes' last answers",
          "                           and messages (default 10)",
          "  --backoff-min S          wait before a user's first attempt to come back, seconds",
          "                           (default 0.2, as the client's reconnect-backoff-min)",
          "  --backoff-max S          longest wait between attempts (default 5)",
          "  --backoff-random F       each wait is up to F longer at random (default 0.2)",
          "  --probes P               users who send commands during a storm (default 10)",
          "  --probe-interval S       seconds between a probe's commands (default 0.2)",
          "  --probe-ids FILE         append each storm's probe messages the server accepted to"
              + " FILE,",
          "                           one per line: storm, id, sender, recipient, stored|live,",
          "                           delivered|undelivered (to compare with the database)",
          "  --kept K                 before each restart, --laggards users stop acknowledging",
          "                           and the others send each of them K messages: the server",
          "                           must replay them after the restart, paced by the",
          "                           laggards' acks (kept_accepted, kept_delivered, kept_lost;",
          "                           default 0: none)",
          "  --laggards L             users who stop acknowledging (default 10)",
          "  --connect-timeout S      abandon an attempt whose connection has brought nothing",
          "                           from the server within S seconds (refused_no_answer),",
          "                           as Parley's client does with its connect-timeout;",
          "                           default 10, as the client's; 0: wait as long as it takes",
          "  --login-timeout S        abandon a login attempt the server has not completed",
          "                           within S seconds and try again after the next wait",
          "                           (refused_no_answer); default 0: wait as long as it takes,",
          "                           as Parley's client does",
          "  --no-resume              come back with the password; by default a user resumes",
          "                           its session with the token its last login gave, as",
          "                           Parley's client does, and gives the password only if",
          "                           that is refused (resumed=, resume_refused=)",
          "",
          "Sweep options:",
          "  --from R  --to R         first and highest offered rate (default 5000 and 320000)",
          "  --step R                 add R each step (default: double)",
          "  --slo-p99-ms MS          the latency objective (default 100)",
          "",
          "Credentials options:",
          "  --out FILE               where to write the accounts (required)",
          "  --clients N --prefix P --password PW   as above",
          "",
          "Measuring: latency is from when a send was due (at a fixed rate; from the send itself",
          "with max) to its arrival, so that a server which makes the generator wait is charged",
          "for it. A disconnect of any client is counted (disconnects=). bench_cpu_percent is the",
          "generator's own CPU (100 = one core); a warning says when a loop thread was over 80%",
          "busy, since the generator may then be the bottleneck. server_cpu_us_per_msg and",
          "server_cpu_percent come from --server-pid; bench_cpu_us_per_msg (_per_login,",
          "_per_delivery) is the generator's CPU per unit of work, where TLS shows on the",
          "client's side. Values that could not be measured are 'unknown' (null in JSON).",
          "",
          "Preparing a server (a benchmark needs cheap password hashes: the default 600,000",
          "iterations make importing and logging in 10,000 users slow on purpose):",
          "  parley-bench credentials --clients 2000 --out bench-accounts.txt",
          "  JAVA_OPTS=-Dparley.server.password-hash-iterations=1000 \\",
          "    parley-server 3331 600 600 --credentials bench-accounts.txt --data-dir bench-data"
              + " \\",
          "    --config bench/lifted-limits.conf",
          "  parley-bench direct --clients 200 --rate 50000 --duration 10 --server-pid $(pgrep -f",
          "    parley-server.jar) [--trust-fingerprint SHA256:... from the server's log]",
          "Two cluster nodes (docs/cluster.md), clients spread over both, CPU summed:",
          "  parley-bench direct --servers 127.0.0.1:3331,127.0.0.1:3332 --server-pid PID1,PID2",
          "The server speaks TLS with a self-signed certificate of its own (made in",
          "bench-data/tls on its first start). To see what TLS costs, run the same scenario",
          "again with the server restarted with --plaintext, and --plaintext here.",
          "Measure logins against the hash cost you deploy with, and report the two together.",
          "Many connections need file descriptors on both sides (ulimit -n).");

  private Main() {}

  public static void main(String[] args) {
    int status = run(args, System.out, System.err);
    System.out.flush();
    if (status != 0) {
      System.exit(status);
    }
  }

  /** Runs a command line; returns the exit status. */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    if (args.length > 0 && args[0].equals("jmh")) {
      return jmh(Arrays.copyOfRange(args, 1, args.length), err);
    }
    BenchOptions options;
    try {
      options = BenchOptions.parse(args);
    } catch (BenchOptions.UsageException e) {
      err.println("parley-bench: " + e.getMessage() + " (see parley-bench --help)");
      return EXIT_USAGE;
    }
    if (options == null) {
      out.println(USAGE);
      return 0;
    }
    try {
      if (options.scenario().equals(BenchOptions.CREDENTIALS)) {
        Path file = options.out().orElseThrow();
        Credentials.write(file, options.prefix(), options.password(), options.clients());
        err.printf(
            "parley-bench: wrote %d accounts (%s .. %s) to %s%n",
            options.clients(),
            Fleet.username(options.prefix(), 0),
            Fleet.username(options.prefix(), options.clients() - 1),
            file);
        return 0;
      }
      ScenarioContext context = new ScenarioContext(options, out, err);
      Summary summary =
          switch (options.scenario()) {
            case BenchOptions.LOGIN -> LoginScenario.run(context);
            case BenchOptions.DIRECT -> DirectScenario.run(context);
            case BenchOptions.FANOUT -> FanoutScenario.run(context);
            case BenchOptions.IDLE -> IdleScenario.run(context);
            case BenchOptions.SWEEP -> SweepScenario.run(context);
            case BenchOptions.RECONNECT -> ReconnectScenario.run(context);
            default -> throw new IllegalStateException("no scenario " + options.scenario());
          };
      out.println(summary.line());
      out.flush();
      if (options.json().isPresent()) {
        Files.writeString(
            options.json().get(),
            summary.json() + "\n",
            StandardCharsets.UTF_8,
            StandardOpenOption.CREATE,
            StandardOpenOption.APPEND);
      }
      return 0;
    } catch (BenchFailure e) {
      err.println("parley-bench: " + e.getMessage());
      return EXIT_FAILED;
    } catch (IOException e) {
      err.println("parley-bench: " + e.getMessage());
      return EXIT_FAILED;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      err.println("parley-bench: interrupted");
      return EXIT_FAILED;
    } catch (RuntimeException e) {
      // A bug or an environment the generator did not expect: the trace helps either way.
      err.println("parley-bench: internal error");
      e.printStackTrace(err);
      return EXIT_FAILED;
    }
  }

  /** Forwards to JMH's own command line (the benchmarks are in dev.parley.bench.jmh). */
  private static int jmh(String[] args, PrintStream err) {
    try {
      org.openjdk.jmh.Main.main(args);
      return 0;
    } catch (Exception e) {
      err.println("parley-bench jmh: " + e.getMessage());
      return EXIT_FAILED;
    }
  }
}
