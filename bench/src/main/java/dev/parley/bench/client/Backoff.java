package dev.parley.bench.client;

import java.time.Duration;

/**
 * The waits of a simulated user between attempts to come back, the way Parley's client waits
 * ({@code reconnect-backoff-min}, {@code -max} and {@code -random-factor} in the client's {@code
 * reference.conf}): {@code min} before the first attempt, doubling after each failed one up to
 * {@code max}, each made longer by a random share of up to {@code randomFactor} of it. Kept in step
 * with the client's own {@code Backoff} by hand: the generator does not depend on the client.
 */
public record Backoff(Duration min, Duration max, double randomFactor) {

  /** The client's defaults: 200 ms, doubling up to 5 s, up to 20 % longer at random. */
  public static final Backoff CLIENT_DEFAULTS =
      new Backoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.2);

  public Backoff {
    if (min.isNegative() || min.isZero() || max.compareTo(min) < 0) {
      throw new IllegalArgumentException("need 0 < min <= max, not " + min + " and " + max);
    }
    if (!(randomFactor >= 0) || Double.isInfinite(randomFactor)) {
      throw new IllegalArgumentException("randomFactor must be 0 or more, not " + randomFactor);
    }
  }

  /**
   * The wait before attempt number {@code attempt} (0 for the first), in nanoseconds.
   *
   * @param random a number from 0 (inclusive) to 1 (exclusive), picking the random share
   */
  public long delayNanos(int attempt, double random) {
    long base = min.toNanos();
    long ceiling = max.toNanos();
    // Doubling stops at max, so it cannot overflow however many attempts have failed.
    for (int i = 0; i < attempt && base < ceiling; i++) {
      base *= 2;
    }
    base = Math.min(base, ceiling);
    return base + (long) (base * randomFactor * random);
  }
}
