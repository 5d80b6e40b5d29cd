package dev.parley.client.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BackoffTest {

  private static final Duration MIN = Duration.ofMillis(200);
  private static final Duration MAX = Duration.ofSeconds(5);

  @Test
  void shouldDoubleFromTheMinimumUpToTheMaximum() {
    Backoff backoff = new Backoff(MIN, MAX, 0);
    assertEquals(Duration.ofMillis(200), backoff.delay(0, 0.5));
    assertEquals(Duration.ofMillis(400), backoff.delay(1, 0.5));
    assertEquals(Duration.ofMillis(800), backoff.delay(2, 0.5));
    assertEquals(Duration.ofMillis(3200), backoff.delay(4, 0.5));
    assertEquals(MAX, backoff.delay(5, 0.5));
    assertEquals(MAX, backoff.delay(Integer.MAX_VALUE, 0.5));
  }

  @Test
  void shouldLengthenEachWaitByARandomShare() {
    Backoff backoff = new Backoff(MIN, MAX, 0.2);
    assertEquals(Duration.ofMillis(200), backoff.delay(0, 0));
    assertEquals(Duration.ofMillis(220), backoff.delay(0, 0.5));
    assertEquals(Duration.ofMillis(6000), backoff.delay(10, 1));
  }
}
