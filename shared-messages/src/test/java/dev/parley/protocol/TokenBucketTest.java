package dev.parley.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class TokenBucketTest {

  private static final long MILLI = 1_000_000L;

  @Test
  void shouldAllowABurstThenTheSustainedRate() {
    TokenBucket bucket = new TokenBucket(new CommandRate(10, 3));

    assertTrue(bucket.tryTake(0));
    assertTrue(bucket.tryTake(0));
    assertTrue(bucket.tryTake(0));
    assertFalse(bucket.tryTake(0));
    assertEquals(100 * MILLI, bucket.delayNanos(0));
    assertFalse(bucket.tryTake(99 * MILLI));
    assertTrue(bucket.tryTake(100 * MILLI));
    assertFalse(bucket.tryTake(100 * MILLI));
  }

  @Test
  void shouldRefillToTheBurstAndNoFurther() {
    TokenBucket bucket = new TokenBucket(new CommandRate(10, 2));
    bucket.tryTake(0);
    bucket.tryTake(0);

    long muchLater = 10_000 * MILLI;
    assertTrue(bucket.isFull(muchLater));
    assertEquals(0, bucket.delayNanos(muchLater));
    assertTrue(bucket.tryTake(muchLater));
    assertTrue(bucket.tryTake(muchLater));
    assertFalse(bucket.tryTake(muchLater));
  }

  @Test
  void shouldRefuseARateThatIsNotOne() {
    assertThrows(IllegalArgumentException.class, () -> new CommandRate(0, 1));
    assertThrows(IllegalArgumentException.class, () -> new CommandRate(1, 0));
    assertThrows(IllegalArgumentException.class, () -> new CommandRate(Double.NaN, 1));
  }
}
