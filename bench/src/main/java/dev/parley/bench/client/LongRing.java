package dev.parley.bench.client;

/**
 * A bounded first-in first-out queue of longs for one thread; its array is allocated on first use
 * and grows up to the bound, so that a connection that never queues anything costs nothing.
 */
public final class LongRing {

  private static final int FIRST_CAPACITY = 8;

  private final int bound;
  private long[] values;
  private int head;
  private int size;

  public LongRing(int bound) {
    if (bound < 1) {
      throw new IllegalArgumentException("bound must be positive: " + bound);
    }
    this.bound = bound;
  }

  /** Adds at the end; false (and nothing added) when the queue holds {@code bound} values. */
  public boolean offer(long value) {
    if (size == bound) {
      return false;
    }
    if (values == null || size == values.length) {
      grow();
    }
    values[(head + size) % values.length] = value;
    size++;
    return true;
  }

  /** Removes and returns the first value; the queue must not be empty. */
  public long poll() {
    if (size == 0) {
      throw new IllegalStateException("empty");
    }
    long value = values[head];
    head = (head + 1) % values.length;
    size--;
    return value;
  }

  public boolean isEmpty() {
    return size == 0;
  }

  public int size() {
    return size;
  }

  public void clear() {
    head = 0;
    size = 0;
  }

  private void grow() {
    int capacity =
        values == null ? Math.min(FIRST_CAPACITY, bound) : Math.min(values.length * 2, bound);
    long[] bigger = new long[capacity];
    for (int i = 0; i < size; i++) {
      bigger[i] = values[(head + i) % values.length];
    }
    values = bigger;
    head = 0;
  }
}
