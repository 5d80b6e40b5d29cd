package dev.parley.server.limits;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * A rate with a burst: on average {@code perSecond} events a second, and up to {@code burst} at
 * once after a quiet spell. Read from a configuration section with {@code per-second} and {@code
 * burst}.
 */
public record Rate(double perSecond, int burst) {

  public Rate {
    if (!(perSecond > 0) || burst < 1) {
      throw new IllegalArgumentException(
          "a rate needs per-second > 0 and burst >= 1, not " + perSecond + " and " + burst);
    }
  }

  /** The {@code per-second} and {@code burst} keys of {@code section}. */
  public static Rate fromConfig(Config section) {
    return new Rate(section.getDouble("per-second"), section.getInt("burst"));
  }

  /** Time between two events at the sustained rate, in nanoseconds. */
  long intervalNanos() {
    return Math.max(1L, Math.round(Duration.ofSeconds(1).toNanos() / perSecond));
  }

  /** How far ahead of the sustained rate a burst may run, in nanoseconds. */
  long toleranceNanos() {
    return (burst - 1) * intervalNanos();
  }
}
