package dev.parley.bench.scenario;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Which direct messages of a phase have arrived, one bit per (sender, number), so that a second
 * arrival is recognised as a duplicate however late or out of order it comes. Senders number their
 * messages densely from 0, so each sender's bits are a few lazily allocated chunks; receivers on
 * any loop thread mark them with compare-and-set.
 */
final class DeliveryLog {

  private static final int CHUNK_SHIFT = 12;
  private static final int CHUNK_MASK = (1 << CHUNK_SHIFT) - 1;

  private final Sender[] senders;

  DeliveryLog(int users) {
    senders = new Sender[users];
    for (int i = 0; i < users; i++) {
      senders[i] = new Sender();
    }
  }

  /**
   * Marks message {@code number} of {@code sender} as delivered; true the first time, false for a
   * duplicate (or a sender that does not exist).
   */
  boolean firstDelivery(int sender, long number) {
    if (sender < 0 || sender >= senders.length || number < 0) {
      return false;
    }
    return senders[sender].mark(number);
  }

  /** Whether message {@code number} of {@code sender} has arrived. */
  boolean delivered(int sender, long number) {
    return sender >= 0 && sender < senders.length && number >= 0 && senders[sender].has(number);
  }

  private static final class Sender {
    private volatile AtomicLongArray[] chunks = new AtomicLongArray[0];

    boolean has(long number) {
      AtomicLongArray[] current = chunks;
      int index = (int) (number >>> CHUNK_SHIFT);
      if (index >= current.length || current[index] == null) {
        return false;
      }
      int bit = (int) (number & CHUNK_MASK);
      return (current[index].get(bit >>> 6) & (1L << (bit & 63))) != 0;
    }

    boolean mark(long number) {
      AtomicLongArray chunk = chunk((int) (number >>> CHUNK_SHIFT));
      int bit = (int) (number & CHUNK_MASK);
      int word = bit >>> 6;
      long mask = 1L << (bit & 63);
      while (true) {
        long old = chunk.get(word);
        if ((old & mask) != 0) {
          return false;
        }
        if (chunk.compareAndSet(word, old, old | mask)) {
          return true;
        }
      }
    }

    private AtomicLongArray chunk(int index) {
      AtomicLongArray[] current = chunks;
      if (index < current.length && current[index] != null) {
        return current[index];
      }
      synchronized (this) {
        current = chunks;
        if (index < current.length && current[index] != null) {
          return current[index];
        }
        // Copied on write, then published through the volatile field, so that readers without the
        // lock see only complete arrays.
        current = Arrays.copyOf(current, Math.max(index + 1, current.length));
        current[index] = new AtomicLongArray(1 << (CHUNK_SHIFT - 6));
        chunks = current;
        return current[index];
      }
    }
  }
}
