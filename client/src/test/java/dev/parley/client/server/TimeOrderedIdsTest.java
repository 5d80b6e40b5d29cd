package dev.parley.client.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.HashSet;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class TimeOrderedIdsTest {

  @Test
  void shouldMakeVersion7UuidsCarryingTheTime() {
    Instant at = Instant.parse("2026-11-26T10:00:00.123Z");
    UUID id = UUID.fromString(new TimeOrderedIds(Clock.fixed(at, ZoneOffset.UTC)).get());

    assertEquals(7, id.version());
    assertEquals(2, id.variant());
    assertEquals(at.toEpochMilli(), id.getMostSignificantBits() >>> 16);
  }

  @Test
  void shouldSortLaterIdsAfterEarlierOnes() {
    MutableClock clock = new MutableClock(Instant.parse("2026-11-26T10:00:00Z"));
    TimeOrderedIds ids = new TimeOrderedIds(clock);
    String earlier = ids.get();
    clock.advanceMillis(1);
    String later = ids.get();

    assertTrue(earlier.compareTo(later) < 0, earlier + " then " + later);
  }

  @Test
  void shouldMakeDifferentIdsWithinTheSameMillisecond() {
    TimeOrderedIds ids =
        new TimeOrderedIds(Clock.fixed(Instant.EPOCH.plusSeconds(1), ZoneOffset.UTC));
    Set<String> made = new HashSet<>();
    for (int i = 0; i < 10_000; i++) {
      made.add(ids.get());
    }
    assertEquals(10_000, made.size());
    assertNotEquals(ids.get(), ids.get());
  }

  /** A clock the test moves. */
  private static final class MutableClock extends Clock {
    private Instant now;

    MutableClock(Instant now) {
      this.now = now;
    }

    void advanceMillis(long millis) {
      now = now.plusMillis(millis);
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }
}
