package dev.parley.bench.scenario;

import dev.parley.bench.BenchOptions;
import dev.parley.bench.client.Fleet;
import java.util.Locale;

/**
 * {@code login}: N clients connect and log in as fast as the server lets them, at most {@code
 * --login-concurrency} at a time. The rate includes the server's password hash, whatever cost it is
 * configured with (that is the point: report the two together). With the server's PID it also
 * reports the server's CPU per login and its resident memory before and after, per session.
 */
public final class LoginScenario {

  private LoginScenario() {}

  public static Summary run(ScenarioContext context) throws InterruptedException {
    BenchOptions options = context.options();
    long rssBefore = context.serverRssKb();
    try (Fleet fleet = context.startFleet(options.clients())) {
      ResourceUse.Sample before = ResourceUse.Sample.take(fleet, context.server());
      Fleet.LoginResult login = context.logIn(fleet, "login");
      ResourceUse use =
          ResourceUse.between(before, ResourceUse.Sample.take(fleet, context.server()));
      long rssAfter = context.serverRssKb();
      if (login.loggedIn() == 0) {
        context.requireAllLoggedIn(login);
      }
      if (login.failed() > 0) {
        context.warn(login.failed() + " logins failed: " + login.failures());
      }
      double seconds = login.elapsedNanos() / 1e9;
      Summary summary =
          context
              .summary("login")
              .put("clients", options.clients())
              .put("threads", fleet.loops().size())
              .put("login_concurrency", options.loginConcurrency())
              .put("logged_in", login.loggedIn())
              .put("failures", login.failed())
              .put("seconds", seconds, 2)
              .put("logins_per_s", login.loggedIn() / seconds, 0)
              .put("login_p50_ms", Latency.millis(login.latency(), 50), 2)
              .put("login_p99_ms", Latency.millis(login.latency(), 99), 2)
              .put("login_max_ms", Latency.millis(login.latency(), 100), 2)
              .put("disconnects", fleet.disconnects());
      Memory.addTo(summary, rssBefore, rssAfter, login.loggedIn());
      use.addTo(summary, "server_cpu_us_per_login", login.loggedIn());
      context.checkGeneratorCpu(use, fleet.loops().size());
      context.reportDisconnects(fleet, 0);
      return summary;
    }
  }

  /** Resident memory keys, shared with {@code idle}. */
  static final class Memory {
    private Memory() {}

    /** {@code rss_before_kb rss_after_kb rss_per_session_kb}, unknown without a PID. */
    static void addTo(Summary summary, long before, long after, long sessions) {
      if (before < 0 || after < 0) {
        summary.unknown("rss_before_kb").unknown("rss_after_kb").unknown("rss_per_session_kb");
        return;
      }
      summary
          .put("rss_before_kb", before)
          .put("rss_after_kb", after)
          .put(
              "rss_per_session_kb",
              sessions > 0 ? (after - before) / (double) sessions : Double.NaN,
              2);
    }

    static String describe(long rssKb) {
      return rssKb < 0 ? "unknown" : String.format(Locale.ROOT, "%.1f MiB", rssKb / 1024.0);
    }
  }
}
