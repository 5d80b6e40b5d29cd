package dev.parley.bench.scenario;

import dev.parley.bench.BenchOptions;
import dev.parley.bench.client.Fleet;
import java.util.Locale;
import java.util.Map;

/**
 * {@code fanout}: N members log in; {@code --senders} of them broadcast for the duration at a total
 * offered rate (or closed-loop with {@code --rate max}), and every other member should receive each
 * broadcast. The summary gives deliveries per second, expected against delivered deliveries, what
 * was lost or duplicated, the latency from send to each delivery, and the CPU both sides used.
 */
public final class FanoutScenario {

  private FanoutScenario() {}

  public static Summary run(ScenarioContext context) throws InterruptedException {
    BenchOptions options = context.options();
    try (Fleet fleet = context.startFleet(options.clients())) {
      context.requireAllLoggedIn(context.logIn(fleet, "fanout"));
      context.warnIfRateLimited(fleet);
      context.awaitQuiet(fleet);
      FanoutTraffic traffic =
          new FanoutTraffic(
              fleet,
              ScenarioContext.newToken(),
              options.senders(),
              options.window(),
              options.payloadBytes(),
              options.rate().isPresent());
      Phase.Timing timing =
          Phase.run(context, fleet, traffic, options.rate(), "fanout", "deliveries");
      MeasuredTraffic.Snapshot end = traffic.snapshot();
      long expected = traffic.expected();
      long lost = Math.max(0, expected - end.delivered());
      long unsent = timing.skipped() + traffic.unsent() + end.backlog();
      Summary summary =
          context
              .summary("fanout")
              .put("members", options.clients())
              .put("senders", options.senders())
              .put("threads", fleet.loops().size())
              .put("window", options.window())
              .put("payload", options.payloadBytes())
              .put("duration_s", options.durationSeconds(), 1)
              .rate("offered_per_s", options.rate())
              .put("broadcasts_sent", end.sent())
              .put("broadcasts_per_s", end.sent() / timing.seconds(), 1)
              .put("unsent", unsent)
              .put("pacer_skipped", timing.skipped())
              .put("accepted", end.accepted())
              .put("refused", end.refused())
              .put("incomplete", traffic.incomplete())
              .put("unanswered", Math.max(0, end.unanswered()))
              .put("expected", expected)
              .put("delivered", end.delivered())
              .put("duplicated", traffic.duplicated())
              .put("lost", lost)
              .put("stale", traffic.stale())
              .put(
                  "deliveries_per_s", timing.perSecond(end.delivered(), traffic.lastDelivery()), 0);
      Latency.addPercentiles(summary, traffic.latency().total());
      summary.put("disconnects", timing.disconnects());
      timing.use().addTo(summary, "server_cpu_us_per_delivery", end.delivered());

      Map<String, Long> errors = traffic.errorCodes();
      if (!errors.isEmpty()) {
        context.warn("the server answered with errors: " + errors);
      }
      if (unsent > 0) {
        context.warn(unsent + " broadcasts that fell due were not made: the rate was not reached");
      }
      if (lost > 0) {
        context.warn(
            String.format(
                Locale.ROOT,
                "after the grace period, %d of %d expected deliveries had not arrived",
                lost,
                expected));
      }
      return summary;
    }
  }
}
