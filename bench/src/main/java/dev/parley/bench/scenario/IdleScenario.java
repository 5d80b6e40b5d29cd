package dev.parley.bench.scenario;

import dev.parley.bench.BenchOptions;
import dev.parley.bench.client.Fleet;
import dev.parley.bench.client.MonotonicClock;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;

/**
 * {@code idle}: N sessions log in and, once the server has stopped sending (the presence notices of
 * the logins), stay silent for the duration (apart from the keepalive, if the duration is longer
 * than it). With the server's PID it reports, per session, the growth of the server's resident
 * memory from before the first connection to the end, and of its live heap (after a full
 * collection, through jcmd), and the CPU the server used while the sessions sat idle.
 */
public final class IdleScenario {

  private IdleScenario() {}

  public static Summary run(ScenarioContext context) throws InterruptedException {
    BenchOptions options = context.options();
    OptionalLong heapBefore = context.serverLiveHeapKb();
    long rssBefore = context.serverRssKb();
    try (Fleet fleet = context.startFleet(options.clients())) {
      Fleet.LoginResult login = context.logIn(fleet, "idle");
      context.requireAllLoggedIn(login);
      context.awaitQuiet(fleet);
      long disconnectsBefore = fleet.disconnects();
      ResourceUse.Sample before = ResourceUse.Sample.take(fleet, context.server());
      Progress progress = context.progress("idle", options.durationSeconds());
      long end = MonotonicClock.now() + (long) (options.durationSeconds() * 1e9);
      while (MonotonicClock.now() < end) {
        long next = Math.min(end, MonotonicClock.now() + TimeUnit.MILLISECONDS.toNanos(100));
        TimeUnit.NANOSECONDS.sleep(Math.max(0, next - MonotonicClock.now()));
        if (progress.due()) {
          progress.print(
              String.format(
                  Locale.ROOT,
                  "%d sessions idle, server rss %s, disconnects %d",
                  fleet.size(),
                  LoginScenario.Memory.describe(context.serverRssKb()),
                  fleet.disconnects() - disconnectsBefore));
        }
      }
      ResourceUse use =
          ResourceUse.between(before, ResourceUse.Sample.take(fleet, context.server()));
      long rssAfter = context.serverRssKb();
      OptionalLong heapAfter = context.serverLiveHeapKb();
      context.checkLoops(fleet);
      context.reportDisconnects(fleet, disconnectsBefore);
      Summary summary =
          context
              .summary("idle")
              .put("sessions", fleet.size())
              .put("threads", fleet.loops().size())
              .put("duration_s", options.durationSeconds(), 1)
              .put("logins_per_s", login.loggedIn() / (login.elapsedNanos() / 1e9), 0)
              .put("disconnects", fleet.disconnects() - disconnectsBefore);
      LoginScenario.Memory.addTo(summary, rssBefore, rssAfter, fleet.size());
      if (heapBefore.isPresent() && heapAfter.isPresent()) {
        summary
            .put("heap_before_kb", heapBefore.getAsLong())
            .put("heap_after_kb", heapAfter.getAsLong())
            .put(
                "heap_per_session_kb",
                (heapAfter.getAsLong() - heapBefore.getAsLong()) / (double) fleet.size(),
                2);
      } else {
        summary.unknown("heap_before_kb").unknown("heap_after_kb").unknown("heap_per_session_kb");
      }
      use.addTo(summary, null, 0);
      return summary;
    }
  }
}
