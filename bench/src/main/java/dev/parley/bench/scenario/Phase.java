package dev.parley.bench.scenario;

import dev.parley.bench.BenchOptions;
import dev.parley.bench.client.Fleet;
import dev.parley.bench.client.MonotonicClock;
import java.util.Locale;
import java.util.OptionalDouble;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * One measured phase on users who are all logged in: sends for {@code --duration} (paced by a
 * {@link PaceThread}, or closed-loop), then waits at most {@code --grace} for every send to be
 * answered and every delivery made, acknowledges what was received, and measures the CPU both sides
 * used over the whole of it. Progress goes to standard error about once a second.
 */
final class Phase {

  private static final long POLL_MILLIS = 10;
  private static final long PACER_LEAD_NANOS = TimeUnit.MILLISECONDS.toNanos(2);

  /** When the phase ran and what it cost; {@code skipped} are sends the pacer could not make. */
  record Timing(
      long start, long sendEnd, double seconds, long skipped, ResourceUse use, long disconnects) {

    /** Deliveries per second, from the start to the last delivery (or the end of sending). */
    double perSecond(long deliveries, long lastDelivery) {
      long until = Math.max(lastDelivery, sendEnd);
      return deliveries / Math.max(1e-9, (until - start) / 1e9);
    }
  }

  private Phase() {}

  static Timing run(
      ScenarioContext context,
      Fleet fleet,
      MeasuredTraffic traffic,
      OptionalDouble rate,
      String label,
      String deliveries)
      throws InterruptedException {
    BenchOptions options = context.options();
    long durationNanos = (long) (options.durationSeconds() * 1e9);
    long disconnectsBefore = fleet.disconnects();
    fleet.install(traffic, traffic::reset);

    ResourceUse.Sample before = ResourceUse.Sample.take(fleet, context.server());
    Progress progress = context.progress(label, options.durationSeconds());
    PaceThread paceThread = null;
    long start;
    if (rate.isPresent()) {
      // A little ahead, so that the first sends are not already late when the thread runs.
      start = MonotonicClock.now() + PACER_LEAD_NANOS;
      double perSecond = rate.getAsDouble();
      Pacer pacer = new Pacer(perSecond, start, durationNanos, Pacer.burstFor(perSecond));
      traffic.pace(pacer);
      paceThread = new PaceThread(pacer, traffic::dispatch);
      paceThread.start();
    } else {
      start = MonotonicClock.now();
      traffic.sending(true);
      fleet.onEachLoop(traffic::fill);
    }
    long sendEnd = start + durationNanos;
    Reporter reporter = new Reporter(progress, traffic, fleet, disconnectsBefore, deliveries);
    while (MonotonicClock.now() < sendEnd) {
      long next = Math.min(sendEnd, MonotonicClock.now() + TimeUnit.MILLISECONDS.toNanos(100));
      TimeUnit.NANOSECONDS.sleep(Math.max(0, next - MonotonicClock.now()));
      reporter.maybePrint();
    }
    traffic.sending(false);
    long skipped = 0;
    if (paceThread != null) {
      paceThread.join();
      skipped = paceThread.skipped();
    }
    long graceEnd = MonotonicClock.now() + (long) (options.graceSeconds() * 1e9);
    while (!traffic.settled() && MonotonicClock.now() < graceEnd) {
      Thread.sleep(POLL_MILLIS);
      reporter.maybePrint();
    }
    fleet.acknowledgeAll();
    ResourceUse use = ResourceUse.between(before, ResourceUse.Sample.take(fleet, context.server()));
    context.checkLoops(fleet);
    traffic.latency().harvest();
    context.checkGeneratorCpu(use, fleet.loops().size());
    context.reportDisconnects(fleet, disconnectsBefore);
    return new Timing(
        start,
        sendEnd,
        options.durationSeconds(),
        skipped,
        use,
        fleet.disconnects() - disconnectsBefore);
  }

  /** The progress line: rates over the last interval, its p99, what is still outstanding. */
  private static final class Reporter {
    private final Progress progress;
    private final MeasuredTraffic traffic;
    private final Fleet fleet;
    private final long disconnectsBefore;
    private final String deliveries;
    private MeasuredTraffic.Snapshot last;

    Reporter(
        Progress progress,
        MeasuredTraffic traffic,
        Fleet fleet,
        long disconnectsBefore,
        String deliveries) {
      this.progress = progress;
      this.traffic = traffic;
      this.fleet = fleet;
      this.disconnectsBefore = disconnectsBefore;
      this.deliveries = deliveries;
      this.last = traffic.snapshot();
    }

    void maybePrint() {
      if (!progress.due()) {
        return;
      }
      double seconds = progress.intervalSeconds();
      MeasuredTraffic.Snapshot now = traffic.snapshot();
      Histogram interval = traffic.latency().harvest();
      progress.print(
          String.format(
              Locale.ROOT,
              "sent %.0f/s %s %.0f/s p99 %.1f ms unanswered %d backlog %d disconnects %d",
              (now.sent() - last.sent()) / seconds,
              deliveries,
              (now.delivered() - last.delivered()) / seconds,
              Latency.millis(interval, 99),
              now.unanswered(),
              now.backlog(),
              fleet.disconnects() - disconnectsBefore));
      last = now;
    }
  }
}
