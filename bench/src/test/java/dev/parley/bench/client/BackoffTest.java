package dev.parley.bench.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class BackoffTest {

  private static long millis(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(nanos);
  }

  @Test
  void shouldDoubleFromTheMinimumUpToTheMaximumAsTheClientDoes() {
    Backoff backoff = Backoff.CLIENT_DEFAULTS;
    long[] expected = {200, 400, 800, 1600, 3200, 5000, 5000};
    for (int attempt = 0; attempt < expected.length; attempt++) {
      assertEquals(expected[attempt], millis(backoff.delayNanos(attempt, 0)), "attempt " + attempt);
    }
    // However many attempts failed: no overflow.
    assertEquals(5000, millis(backoff.delayNanos(Integer.MAX_VALUE, 0)));
  }

  @Test
  void shouldMakeEachWaitUpToTheRandomFactorLonger() {
    Backoff backoff = Backoff.CLIENT_DEFAULTS;
    assertEquals(220, millis(backoff.delayNanos(0, 0.5)));
    assertEquals(5999, millis(backoff.delayNanos(9, 0.99999)));
    Backoff exact = new Backoff(Duration.ofMillis(100), Duration.ofMillis(100), 0);
    assertEquals(100, millis(exact.delayNanos(3, 0.9)));
  }

  @Test
  void shouldRefuseWaitsThatMakeNoSense() {
    assertThrows(
        IllegalArgumentException.class,
        () -> new Backoff(Duration.ZERO, Duration.ofSeconds(1), 0.2));
    assertThrows(
        IllegalArgumentException.class,
        () -> new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(1), 0.2));
    assertThrows(
        IllegalArgumentException.class,
        () -> new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(1), -0.1));
  }
}
