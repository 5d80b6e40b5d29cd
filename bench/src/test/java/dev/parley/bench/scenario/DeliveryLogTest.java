package dev.parley.bench.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class DeliveryLogTest {

  @Test
  void shouldRecogniseASecondDelivery() {
    DeliveryLog log = new DeliveryLog(3);
    assertTrue(log.firstDelivery(1, 0));
    assertTrue(log.firstDelivery(2, 0));
    assertTrue(log.firstDelivery(1, 1_000_000));
    assertFalse(log.firstDelivery(1, 0));
    assertFalse(log.firstDelivery(1, 1_000_000));
    assertTrue(log.firstDelivery(1, 4095));
    assertTrue(log.firstDelivery(1, 4096));
    assertFalse(log.firstDelivery(3, 0));
    assertFalse(log.firstDelivery(-1, 0));
  }

  @Test
  void shouldCountEachMessageOnceAcrossThreads() throws InterruptedException {
    DeliveryLog log = new DeliveryLog(2);
    AtomicLong firsts = new AtomicLong();
    Runnable deliverAll =
        () -> {
          for (long n = 0; n < 100_000; n++) {
            if (log.firstDelivery((int) (n % 2), n / 2)) {
              firsts.incrementAndGet();
            }
          }
        };
    Thread one = new Thread(deliverAll);
    Thread two = new Thread(deliverAll);
    one.start();
    two.start();
    one.join();
    two.join();
    assertEquals(100_000, firsts.get());
  }
}
