package dev.parley.bench.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LongRingTest {

  @Test
  void shouldKeepOrderAcrossWrapAroundAndGrowth() {
    LongRing ring = new LongRing(1000);
    long next = 0;
    long expected = 0;
    for (int round = 0; round < 50; round++) {
      for (int i = 0; i < round % 7 + 1; i++) {
        assertTrue(ring.offer(next++));
      }
      for (int i = 0; i < round % 5 && !ring.isEmpty(); i++) {
        assertEquals(expected++, ring.poll());
      }
    }
    while (!ring.isEmpty()) {
      assertEquals(expected++, ring.poll());
    }
    assertEquals(next, expected);
  }

  @Test
  void shouldRefuseBeyondItsBound() {
    LongRing ring = new LongRing(3);
    assertTrue(ring.offer(1));
    assertTrue(ring.offer(2));
    assertTrue(ring.offer(3));
    assertFalse(ring.offer(4));
    assertEquals(3, ring.size());
    assertEquals(1, ring.poll());
    assertTrue(ring.offer(4));
    ring.clear();
    assertTrue(ring.isEmpty());
  }
}
