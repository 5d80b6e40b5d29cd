package dev.parley.server.broadcast;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class PresenceBatchingTest {

  private final PresenceBatching batching =
      new PresenceBatching(Duration.ofMillis(100), Duration.ofNanos(20_000), Duration.ofSeconds(2));

  @Test
  void shouldKeepTheLeastForFewRecipientsAndGrowUpToTheMost() {
    assertEquals(Duration.ofMillis(100), batching.forRecipients(0));
    assertEquals(Duration.ofMillis(100), batching.forRecipients(5_000));
    assertEquals(Duration.ofMillis(200), batching.forRecipients(10_000));
    assertEquals(Duration.ofSeconds(2), batching.forRecipients(100_000));
    assertEquals(Duration.ofSeconds(2), batching.forRecipients(Integer.MAX_VALUE));
  }

  @Test
  void shouldStayFixedWhenAskedTo() {
    PresenceBatching fixed = PresenceBatching.fixed(Duration.ofMillis(10));
    assertEquals(Duration.ofMillis(10), fixed.forRecipients(1_000_000));
  }

  @Test
  void shouldRefuseBatchesThatCannotBe() {
    assertThrows(
        IllegalArgumentException.class,
        () -> new PresenceBatching(Duration.ZERO, Duration.ZERO, Duration.ofSeconds(1)));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            new PresenceBatching(
                Duration.ofMillis(100), Duration.ofNanos(-1), Duration.ofSeconds(1)));
    assertThrows(
        IllegalArgumentException.class,
        () -> new PresenceBatching(Duration.ofMillis(100), Duration.ZERO, Duration.ofMillis(50)));
  }
}
