package dev.parley.bench.scenario;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PacerTest {

  private static final long MS = 1_000_000;
  private static final long SECOND = 1_000 * MS;

  @Test
  void shouldHandOutSendsAsTheyFallDue() {
    // 1000/s from t=5s: send k is due at 5s + k ms.
    Pacer pacer = new Pacer(1000, 5 * SECOND, SECOND, 1000);
    assertEquals(0, pacer.due(4 * SECOND));
    assertEquals(1, pacer.due(5 * SECOND));
    assertEquals(0, pacer.batchFirst());
    assertEquals(0, pacer.due(5 * SECOND + MS / 2));
    assertEquals(10, pacer.due(5 * SECOND + 10 * MS));
    assertEquals(1, pacer.batchFirst());
    assertEquals(11, pacer.handedOut());
  }

  @Test
  void shouldStopAtRateTimesDuration() {
    Pacer pacer = new Pacer(250, 0, 2 * SECOND, 10_000);
    assertEquals(500, pacer.total());
    long handed = 0;
    for (long t = 0; t <= 3 * SECOND; t += 7 * MS) {
      handed += pacer.due(t);
    }
    assertEquals(500, handed);
    assertTrue(pacer.finished());
    assertEquals(0, pacer.due(10 * SECOND));
  }

  @Test
  void shouldSkipRatherThanCatchUpWhenAskedLate() {
    Pacer pacer = new Pacer(1000, 0, 10 * SECOND, Pacer.burstFor(1000));
    assertEquals(100, Pacer.burstFor(1000));
    assertEquals(1, pacer.due(0));
    // Half a second late: 500 more are due, but only a burst of 100 goes out.
    assertEquals(100, pacer.due(500 * MS));
    assertEquals(401, pacer.batchFirst());
    assertEquals(400, pacer.skipped());
    assertEquals(101, pacer.handedOut());
    // Back on time, the schedule goes on where it stands.
    assertEquals(1, pacer.due(501 * MS));
    assertEquals(501, pacer.batchFirst());
  }

  @Test
  void shouldGiveEachSendItsDueTime() {
    Pacer pacer = new Pacer(4, SECOND, 10 * SECOND, 10);
    assertEquals(SECOND, pacer.dueAt(0));
    assertEquals(SECOND + 250 * MS, pacer.dueAt(1));
    assertEquals(SECOND + 10 * SECOND - 250 * MS, pacer.dueAt(39));
    assertEquals(40, pacer.total());
    assertFalse(pacer.finished());
  }

  @Test
  void shouldRoundTheTotalOfAFractionalRate() {
    assertEquals(3, new Pacer(2.5, 0, SECOND + SECOND / 5, 1).total());
  }

  @Test
  void shouldSplitEvenlyAndRotateTheRemainder() {
    assertArrayEquals(new int[] {4, 3, 3}, Pacer.split(10, 3, 0));
    assertArrayEquals(new int[] {3, 4, 3}, Pacer.split(10, 3, 1));
    assertArrayEquals(new int[] {4, 3, 4}, Pacer.split(11, 3, 2));
    assertArrayEquals(new int[] {0, 1, 0, 0}, Pacer.split(1, 4, 5));
    assertArrayEquals(new int[] {7}, Pacer.split(7, 1, 3));
  }
}
