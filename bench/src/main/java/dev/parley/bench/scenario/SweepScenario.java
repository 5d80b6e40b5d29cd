package dev.parley.bench.scenario;

import dev.parley.bench.BenchOptions;
import dev.parley.bench.client.Fleet;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalDouble;

/**
 * {@code sweep}: the {@code direct} scenario at increasing offered rates, on one set of logged-in
 * clients, until a step misses the objective: p99 latency within {@code --slo-p99-ms}, nothing
 * lost, refused or duplicated, no disconnects, and the whole rate actually offered. It prints one
 * line per step as it goes, then the summary with the highest rate that met the objective.
 */
public final class SweepScenario {

  private static final long PAUSE_BETWEEN_STEPS_MILLIS = 500;

  private SweepScenario() {}

  public static Summary run(ScenarioContext context) throws InterruptedException {
    BenchOptions options = context.options();
    List<Double> rates = options.sweepRates();
    try (Fleet fleet = context.startFleet(options.clients())) {
      context.requireAllLoggedIn(context.logIn(fleet, "sweep"));
      context.warnIfRateLimited(fleet);
      context.awaitQuiet(fleet);
      List<Summary> steps = new ArrayList<>();
      DirectScenario.Result best = null;
      String stopReason = "to_reached";
      Double stoppedAt = null;
      for (int i = 0; i < rates.size(); i++) {
        double rate = rates.get(i);
        String label = String.format(Locale.ROOT, "sweep %d/%d %.0f/s", i + 1, rates.size(), rate);
        DirectScenario.Result result =
            DirectScenario.measure(context, fleet, OptionalDouble.of(rate), label);
        String miss = result.miss(options.sloP99Millis());
        Summary step =
            context.summary("sweep-step").put("step", i + 1).put("clients", fleet.size());
        result.addTo(step);
        step.put("meets_slo", miss == null).put("miss", miss == null ? "none" : miss);
        context.out().println(step.line());
        context.out().flush();
        steps.add(step);
        if (miss != null) {
          stopReason = miss;
          stoppedAt = rate;
          break;
        }
        best = result;
        Thread.sleep(PAUSE_BETWEEN_STEPS_MILLIS);
      }
      Summary summary =
          context
              .summary("sweep")
              .put("clients", options.clients())
              .put("threads", fleet.loops().size())
              .put("window", options.window())
              .put("payload", options.payloadBytes())
              .put("duration_s", options.durationSeconds(), 1)
              .put("slo_p99_ms", options.sloP99Millis(), 1)
              .put("steps", steps.size());
      if (best == null) {
        summary
            .unknown("best_offered_per_s")
            .unknown("best_delivered_per_s")
            .unknown("best_p99_ms")
            .unknown("best_server_cpu_us_per_msg");
      } else {
        summary
            .rate("best_offered_per_s", best.offered())
            .put("best_delivered_per_s", best.deliveredPerSecond(), 0)
            .put("best_p99_ms", Latency.millis(best.latency(), 99), 2)
            .put("best_server_cpu_us_per_msg", best.use().serverMicrosPer(best.delivered()), 1);
      }
      if (stoppedAt == null) {
        summary.unknown("stopped_at_per_s");
      } else {
        summary.put("stopped_at_per_s", stoppedAt, 0);
      }
      summary.put("stop_reason", stopReason).put("disconnects", fleet.disconnects());
      return summary.steps(steps);
    }
  }
}
