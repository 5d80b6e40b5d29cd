package dev.parley.bench.scenario;

import dev.parley.bench.BenchOptions;
import dev.parley.bench.client.Fleet;
import dev.parley.bench.client.MonotonicClock;
import dev.parley.bench.client.TlsDialer;
import dev.parley.transport.Fingerprint;
import dev.parley.transport.TlsMaterialException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import javax.net.ssl.SSLException;

/**
 * What every scenario needs around its measurement: the options, the streams (step lines on
 * standard output, progress and warnings on standard error), the server's process when a PID was
 * given, and the common steps: start a fleet, log everyone in with progress, check that the run can
 * be trusted (every login succeeded, the loops did not fail, the generator was not saturated).
 */
public final class ScenarioContext {

  /** Above this share of one core per loop thread, the generator may be what limits the run. */
  static final double SATURATED_PERCENT = 80;

  /** Sends a user may have due while its window is full, before further ones count as unsent. */
  private static final int BACKLOG_PER_USER = 1024;

  private static final Duration QUIET = Duration.ofMillis(500);
  private static final Duration QUIET_AT_MOST = Duration.ofSeconds(60);

  private static final SecureRandom TOKENS = new SecureRandom();
  private static final int TOKEN_LENGTH = 7;

  private final BenchOptions options;
  private final PrintStream out;
  private final PrintStream err;
  private final Optional<ServerProcess> server;

  public ScenarioContext(BenchOptions options, PrintStream out, PrintStream err) {
    this.options = options;
    this.out = out;
    this.err = err;
    this.server =
        options.serverPids().isEmpty()
            ? Optional.empty()
            : Optional.of(ServerProcess.of(options.serverPids()));
  }

  BenchOptions options() {
    return options;
  }

  Optional<ServerProcess> server() {
    return server;
  }

  PrintStream out() {
    return out;
  }

  /** The server's resident memory in KiB, or -1 without a PID. */
  long serverRssKb() {
    return server.map(ServerProcess::rssKb).orElse(-1L);
  }

  /** The server's live heap after a full collection, in KiB; empty without a PID or jcmd. */
  OptionalLong serverLiveHeapKb() {
    if (server.isEmpty()) {
      return OptionalLong.empty();
    }
    OptionalLong heap = server.get().liveHeapKb();
    if (heap.isEmpty()) {
      warn("jcmd could not read the server's heap (is it a HotSpot JVM of this user?)");
    }
    return heap;
  }

  /** A summary of this run: its scenario, then how the generator reached the server. */
  Summary summary(String scenario) {
    return new Summary(scenario).put("transport", options.transport());
  }

  /**
   * The servers, each with how users speak TLS to it (empty with --plaintext): one dialer per
   * server, trusting that server's fingerprint (or any certificate without --trust-fingerprint).
   */
  private List<Fleet.Server> servers() {
    List<Fleet.Server> servers = new ArrayList<>();
    TlsDialer first = null;
    for (int i = 0; i < options.servers().size(); i++) {
      BenchOptions.Server server = options.servers().get(i);
      InetSocketAddress address = new InetSocketAddress(server.host(), server.port());
      if (options.plaintext()) {
        servers.add(new Fleet.Server(address, Optional.empty()));
        continue;
      }
      Optional<Fingerprint> pinned =
          options.trustFingerprints().isEmpty()
              ? Optional.empty()
              : Optional.of(options.trustFingerprints().get(i));
      TlsDialer dialer;
      try {
        dialer = TlsDialer.create(pinned);
      } catch (TlsMaterialException e) {
        throw new BenchFailure("cannot make the generator's TLS certificate: " + e.getMessage(), e);
      }
      if (first == null) {
        first = dialer;
      }
      servers.add(new Fleet.Server(address, Optional.of(dialer)));
    }
    if (first != null) {
      // One warm-up compiles the cryptography that every dialer shares.
      warmUp(first);
    }
    return servers;
  }

  private void warmUp(TlsDialer dialer) {
    long start = MonotonicClock.now();
    try {
      dialer.warmUp(options.tlsWarmUp());
    } catch (TlsMaterialException | SSLException e) {
      throw new BenchFailure("the TLS warm-up failed: " + e.getMessage(), e);
    }
    if (options.tlsWarmUp() > 0 && !options.quiet()) {
      err.printf(
          Locale.ROOT,
          "parley-bench: TLS warmed up: %d handshakes in memory in %.1f s%n",
          options.tlsWarmUp(),
          (MonotonicClock.now() - start) / 1e9);
    }
  }

  Fleet startFleet(int clients) {
    return Fleet.start(
        new Fleet.Settings(
            servers(),
            options.prefix(),
            options.password(),
            clients,
            Math.min(options.threads(), clients),
            options.loginConcurrency(),
            // The protocol's frame limit (64 KiB) and its carriage return.
            64 * 1024 + 1,
            BACKLOG_PER_USER,
            Duration.ofMillis((long) (options.keepaliveSeconds() * 1000))));
  }

  /** Logs every user in, printing progress while it takes more than a few seconds. */
  Fleet.LoginResult logIn(Fleet fleet, String label) throws InterruptedException {
    Progress progress = new Progress(err, options.quiet(), label, 0);
    long start = MonotonicClock.now();
    Fleet.LoginResult result =
        fleet.logIn(
            () -> {
              if (progress.due()) {
                double seconds = (MonotonicClock.now() - start) / 1e9;
                progress.print(
                    String.format(
                        Locale.ROOT,
                        "logging in: %d/%d (%.0f/s), %d failed",
                        fleet.loggedInCount(),
                        fleet.size(),
                        fleet.loggedInCount() / seconds,
                        fleet.loginFailedCount()));
              }
            });
    checkLoops(fleet);
    return result;
  }

  /**
   * Waits until the server has stopped sending (the presence notices of the last logins: every
   * login is announced to every other user), so that a measured phase does not start with the
   * server still busy with the logins. Bounded; a warning says when it did not get quiet.
   */
  void awaitQuiet(Fleet fleet) throws InterruptedException {
    if (!fleet.awaitQuiet(QUIET, QUIET_AT_MOST)) {
      warn(
          "the server was still sending presence notices "
              + QUIET_AT_MOST.toSeconds()
              + "s after the last login; measuring anyway");
    }
  }

  /** A measured phase needs every user: stop with advice when some could not log in. */
  void requireAllLoggedIn(Fleet.LoginResult login) {
    if (login.failed() == 0) {
      return;
    }
    boolean refusedByProtocol =
        login.failures().keySet().stream()
            .anyMatch(
                reason ->
                    reason.startsWith("login-failed")
                        || reason.startsWith("goodbye")
                        || reason.startsWith("error"));
    if (!refusedByProtocol) {
      throw new BenchFailure(
          String.format(
              Locale.ROOT,
              "%d of %d clients could not log in to %s, mostly: %s. Is the server running"
                  + " there (--host, --port, --servers)? %s",
              login.failed(),
              login.attempted(),
              options.serversText(),
              login.mainFailure(),
              transportAdvice()));
    }
    throw new BenchFailure(
        String.format(
            Locale.ROOT,
            "%d of %d clients could not log in to %s, mostly: %s. Give the server the accounts"
                + " (parley-bench credentials --clients %d --prefix %s --out FILE, then"
                + " parley-server --credentials FILE) and check --host, --port (or --servers),"
                + " --prefix and --password.",
            login.failed(),
            login.attempted(),
            options.serversText(),
            login.mainFailure(),
            login.attempted(),
            options.prefix()));
  }

  /** What to check when no one could log in: both ends must speak TLS, or both plain TCP. */
  private String transportAdvice() {
    return options.plaintext()
        ? "The generator speaks plain TCP (--plaintext): so must the server (parley-server"
            + " --plaintext); a server with TLS closes the connection."
        : "The generator speaks TLS: a server run with --plaintext needs --plaintext here too"
            + (options.trustFingerprints().isEmpty()
                ? "."
                : "; and each server must present the certificate given for it "
                    + options.trustFingerprints()
                    + " (--trust-fingerprint), as its log says at start.");
  }

  /**
   * Traffic runs as fast as the server answers, far over a per-connection command rate: when the
   * server announced one (its hello's {@code commandRate}), say that the sends beyond it will be
   * refused, and how the benchmark's servers lift it.
   */
  void warnIfRateLimited(Fleet fleet) {
    fleet
        .commandRate()
        .ifPresent(
            rate ->
                warn(
                    String.format(
                        Locale.ROOT,
                        "the server takes at most %.1f commands/s (burst %d) from each connection:"
                            + " beyond that the traffic is refused 'rate-limited'. The benchmark's"
                            + " servers run with the limits lifted: parley-server --config"
                            + " bench/lifted-limits.conf",
                        rate.perSecond(),
                        rate.burst())));
  }

  /** A failure inside the generator's loops makes the numbers meaningless. */
  void checkLoops(Fleet fleet) {
    Throwable failure = fleet.loopFailure();
    if (failure != null) {
      throw new BenchFailure("internal error in the generator: " + failure, failure);
    }
  }

  /** Progress for a phase expected to last {@code seconds}. */
  Progress progress(String label, double seconds) {
    return new Progress(err, options.quiet(), label, seconds);
  }

  /** A new token naming one measured phase in payloads and message ids. */
  static byte[] newToken() {
    byte[] token = new byte[TOKEN_LENGTH];
    for (int i = 0; i < token.length; i++) {
      token[i] = (byte) Character.forDigit(TOKENS.nextInt(36), 36);
    }
    return token;
  }

  /** A line on standard error that a script may wait for: said even with --quiet. */
  void announce(String message) {
    err.println("parley-bench: " + options.scenario() + ": " + message);
    err.flush();
  }

  void warn(String message) {
    err.println("parley-bench: warning: " + message);
  }

  /** Warns when the generator itself may have limited the run. */
  void checkGeneratorCpu(ResourceUse use, int threads) {
    if (use.busiestLoopPercent() > SATURATED_PERCENT
        || use.benchPercent() > SATURATED_PERCENT * threads) {
      warn(
          String.format(
              Locale.ROOT,
              "the generator used %.0f%% of a core (its busiest loop thread %.0f%%): it may be"
                  + " the bottleneck of this run; give it more --threads or cores, or fewer"
                  + " --clients",
              use.benchPercent(),
              use.busiestLoopPercent()));
    }
  }

  /** Warns about the disconnects since {@code before}, with their reasons. */
  void reportDisconnects(Fleet fleet, long before) {
    long disconnects = fleet.disconnects() - before;
    if (disconnects > 0) {
      Map<String, Long> reasons = fleet.disconnectReasons();
      warn(disconnects + " client(s) were disconnected: " + reasons);
    }
  }
}
