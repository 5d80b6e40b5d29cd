package dev.parley.bench.scenario;

import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.SingleWriterRecorder;

/**
 * Send-to-receive latencies of one measured phase: each loop thread records into its own recorder
 * (no sharing on the hot path), and the controlling thread harvests them about once a second into
 * an interval histogram (for progress) and the phase's total.
 */
final class Latency {

  private static final long LOWEST_NANOS = 1_000;
  private static final long HIGHEST_NANOS = TimeUnit.HOURS.toNanos(1);
  private static final int DIGITS = 3;

  private final SingleWriterRecorder[] recorders;
  private final Histogram[] recycled;
  private final Histogram interval = histogram();
  private final Histogram total = histogram();

  Latency(int loops) {
    recorders = new SingleWriterRecorder[loops];
    recycled = new Histogram[loops];
    for (int i = 0; i < loops; i++) {
      recorders[i] = new SingleWriterRecorder(LOWEST_NANOS, HIGHEST_NANOS, DIGITS);
    }
  }

  private static Histogram histogram() {
    return new Histogram(LOWEST_NANOS, HIGHEST_NANOS, DIGITS);
  }

  /** Records on loop {@code loop}'s thread. */
  void record(int loop, long nanos) {
    recorders[loop].recordValue(Math.max(0, Math.min(nanos, HIGHEST_NANOS)));
  }

  /**
   * Moves what was recorded since the last harvest into the total and returns it (valid until the
   * next harvest). Controlling thread only.
   */
  Histogram harvest() {
    interval.reset();
    for (int i = 0; i < recorders.length; i++) {
      recycled[i] = recorders[i].getIntervalHistogram(recycled[i]);
      interval.add(recycled[i]);
    }
    total.add(interval);
    return interval;
  }

  /** Everything harvested so far. */
  Histogram total() {
    return total;
  }

  /** A percentile in milliseconds; NaN when nothing was recorded. */
  static double millis(Histogram histogram, double percentile) {
    if (histogram.getTotalCount() == 0) {
      return Double.NaN;
    }
    long nanos =
        percentile >= 100 ? histogram.getMaxValue() : histogram.getValueAtPercentile(percentile);
    return nanos / 1e6;
  }

  /** Adds {@code p50_ms p95_ms p99_ms p999_ms max_ms}. */
  static void addPercentiles(Summary summary, Histogram histogram) {
    summary
        .put("p50_ms", millis(histogram, 50), 2)
        .put("p95_ms", millis(histogram, 95), 2)
        .put("p99_ms", millis(histogram, 99), 2)
        .put("p999_ms", millis(histogram, 99.9), 2)
        .put("max_ms", millis(histogram, 100), 2);
  }
}
