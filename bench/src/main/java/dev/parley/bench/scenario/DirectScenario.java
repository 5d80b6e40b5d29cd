package dev.parley.bench.scenario;

import dev.parley.bench.BenchOptions;
import dev.parley.bench.client.Fleet;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalDouble;
import org.HdrHistogram.Histogram;

/**
 * {@code direct}: N users log in; then, for the duration, messages go from random users to random
 * other users at an offered rate, or as fast as the server answers with each user keeping its
 * window of messages unanswered ({@code --rate max}). After sending stops the receivers get a
 * bounded grace to catch up; then the summary says what was offered, sent, accepted, refused,
 * delivered, duplicated and lost, the latency percentiles, and the CPU both sides used.
 */
public final class DirectScenario {

  /** The share of due sends that may go unmade before a sweep step counts as not offered. */
  static final double UNSENT_TOLERANCE = 0.01;

  private DirectScenario() {}

  /** What one measured phase gave; {@code offered} is empty for {@code max}. */
  record Result(
      OptionalDouble offered,
      double seconds,
      long sent,
      long unsent,
      long pacerSkipped,
      long accepted,
      long refused,
      long stored,
      long unanswered,
      long delivered,
      long duplicated,
      long lost,
      long stale,
      double deliveredPerSecond,
      Histogram latency,
      long disconnects,
      ResourceUse use) {

    void addTo(Summary summary) {
      summary
          .rate("offered_per_s", offered)
          .put("sent", sent)
          .put("sent_per_s", sent / seconds, 0)
          .put("unsent", unsent)
          .put("pacer_skipped", pacerSkipped)
          .put("accepted", accepted)
          .put("refused", refused)
          .put("stored", stored)
          .put("unanswered", unanswered)
          .put("delivered", delivered)
          .put("duplicated", duplicated)
          .put("lost", lost)
          .put("stale", stale)
          .put("delivered_per_s", deliveredPerSecond, 0);
      Latency.addPercentiles(summary, latency);
      summary.put("disconnects", disconnects);
      use.addTo(summary, "server_cpu_us_per_msg", delivered);
    }

    /** Why this phase misses the objective, or null when it meets it. */
    String miss(double sloP99Millis) {
      double p99 = Latency.millis(latency, 99);
      if (disconnects > 0) {
        return "disconnects";
      }
      if (lost > 0 || unanswered > 0) {
        return "lost";
      }
      if (refused > 0) {
        return "refused";
      }
      if (duplicated > 0) {
        return "duplicated";
      }
      // The pacer may lose a few sends to a machine that is busy elsewhere; more is a miss.
      if (unsent > sent * UNSENT_TOLERANCE) {
        return "rate_not_offered";
      }
      if (Double.isNaN(p99) || p99 > sloP99Millis) {
        return "p99_over_slo";
      }
      return null;
    }
  }

  public static Summary run(ScenarioContext context) throws InterruptedException {
    BenchOptions options = context.options();
    try (Fleet fleet = context.startFleet(options.clients())) {
      context.requireAllLoggedIn(context.logIn(fleet, "direct"));
      context.warnIfRateLimited(fleet);
      context.awaitQuiet(fleet);
      Result result = measure(context, fleet, options.rate(), "direct");
      Summary summary =
          context
              .summary("direct")
              .put("clients", options.clients())
              .put("threads", fleet.loops().size())
              .put("window", options.window())
              .put("payload", options.payloadBytes())
              .put("duration_s", options.durationSeconds(), 1);
      result.addTo(summary);
      return summary;
    }
  }

  /** One measured phase on logged-in users. */
  static Result measure(ScenarioContext context, Fleet fleet, OptionalDouble rate, String label)
      throws InterruptedException {
    BenchOptions options = context.options();
    DirectTraffic traffic =
        new DirectTraffic(
            fleet,
            ScenarioContext.newToken(),
            options.window(),
            options.payloadBytes(),
            rate.isPresent());
    Phase.Timing timing = Phase.run(context, fleet, traffic, rate, label, "delivered");
    MeasuredTraffic.Snapshot end = traffic.snapshot();
    Result result =
        new Result(
            rate,
            timing.seconds(),
            end.sent(),
            timing.skipped() + traffic.unsent() + end.backlog(),
            timing.skipped(),
            end.accepted(),
            end.refused(),
            traffic.stored(),
            Math.max(0, end.unanswered()),
            end.delivered(),
            traffic.duplicated(),
            Math.max(0, end.accepted() - end.delivered()),
            traffic.stale(),
            timing.perSecond(end.delivered(), traffic.lastDelivery()),
            traffic.latency().total(),
            timing.disconnects(),
            timing.use());
    warnAbout(context, result, traffic);
    return result;
  }

  private static void warnAbout(ScenarioContext context, Result result, DirectTraffic traffic) {
    Map<String, Long> errors = traffic.errorCodes();
    if (!errors.isEmpty()) {
      context.warn("the server answered with errors: " + errors);
    }
    if (result.unsent() > 0) {
      context.warn(
          String.format(
              Locale.ROOT,
              "%d sends that fell due were not made, %d of them because the pacer thread was"
                  + " scheduled late (a machine busy elsewhere) and the rest because the clients'"
                  + " windows and backlogs were full (a server not keeping up): the offered rate"
                  + " was not quite reached",
              result.unsent(),
              result.pacerSkipped()));
    }
    if (result.lost() > 0 || result.unanswered() > 0) {
      context.warn(
          String.format(
              Locale.ROOT,
              "after the grace period, %d accepted messages had not been delivered and %d sends"
                  + " had not been answered",
              result.lost(),
              result.unanswered()));
    }
    if (result.duplicated() > 0) {
      context.warn(result.duplicated() + " messages were delivered more than once");
    }
  }
}
