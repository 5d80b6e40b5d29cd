package dev.parley.client.server;

import java.time.Duration;

/**
 * The waits between attempts to reconnect to the server: {@code min} before the first, doubling
 * after each failed attempt up to {@code max}, each made longer by a random share of up to {@code
 * randomFactor} of it (as Akka's own backoff does), so that clients cut off together, as by a
 * server restart, do not all come back at the same instant.
 */
record Backoff(Duration min, Duration max, double randomFactor) {

  /**
   * The wait before attempt number {@code attempt} (0 for the first).
   *
   * @param random a number from 0 (inclusive) to 1 (exclusive), picking the random share
   */
  Duration delay(int attempt, double random) {
    Duration base = min;
    // Doubling stops at max, so it cannot overflow however many attempts have failed.
    for (int i = 0; i < attempt && base.compareTo(max) < 0; i++) {
      base = base.multipliedBy(2);
    }
    if (base.compareTo(max) > 0) {
      base = max;
    }
    long nanos = base.toNanos();
    return Duration.ofNanos(nanos + (long) (nanos * randomFactor * random));
  }
}
