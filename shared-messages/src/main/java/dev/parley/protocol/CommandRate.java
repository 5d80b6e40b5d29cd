package dev.parley.protocol;

import java.time.Duration;

/**
 * A rate with a burst: on average {@code perSecond} events a second, and up to {@code burst} at
 * once after a quiet spell. The server announces the rate at which it takes a connection's commands
 * in its {@link ServerMessage.Hello}, so that a client can pace itself and never be refused; both
 * sides count with a {@link TokenBucket}.
 */
public record CommandRate(double perSecond, int burst) {

  public CommandRate {
    if (!(perSecond > 0) || Double.isInfinite(perSecond) || burst < 1) {
      throw new IllegalArgumentException(
          "field 'commandRate' needs perSecond > 0 and burst >= 1, not "
              + perSecond
              + " and "
              + burst);
    }
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
