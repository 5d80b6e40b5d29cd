package dev.parley.bench.scenario;

import dev.parley.bench.client.MonotonicClock;
import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Progress lines on standard error, about once a second, for phases that last more than a few
 * seconds (shorter ones stay silent, as do runs with {@code --quiet}).
 */
final class Progress {

  private static final long INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);
  private static final double FEW_SECONDS = 3;

  private final PrintStream err;
  private final boolean enabled;
  private final String label;
  private final double expectedSeconds;
  private final long start = MonotonicClock.now();
  private long last = start;

  Progress(PrintStream err, boolean quiet, String label, double expectedSeconds) {
    this.err = err;
    this.enabled = !quiet;
    this.label = label;
    this.expectedSeconds = expectedSeconds;
  }

  /** Whether a line is due now. */
  boolean due() {
    long now = MonotonicClock.now();
    double elapsed = (now - start) / 1e9;
    return enabled
        && now - last >= INTERVAL_NANOS
        && (expectedSeconds > FEW_SECONDS || elapsed > FEW_SECONDS);
  }

  /** Seconds since the last line (or the start), for rates over the interval. */
  double intervalSeconds() {
    return Math.max(1e-9, (MonotonicClock.now() - last) / 1e9);
  }

  void print(String text) {
    long now = MonotonicClock.now();
    err.printf(Locale.ROOT, "[%s %5.1fs] %s%n", label, (now - start) / 1e9, text);
    last = now;
  }
}
