package dev.parley.bench;

import java.util.Arrays;

/** Latencies in nanoseconds, kept whole (a run holds at most a few million) and sorted once. */
final class Histogram {

  private long[] values = new long[1024];
  private int size;

  synchronized void record(long nanos) {
    if (size == values.length) {
      values = Arrays.copyOf(values, size * 2);
    }
    values[size++] = nanos;
  }

  /** The value below which {@code fraction} of the recorded ones fall, in milliseconds. */
  synchronized double percentileMillis(double fraction) {
    if (size == 0) {
      return Double.NaN;
    }
    long[] sorted = Arrays.copyOf(values, size);
    Arrays.sort(sorted);
    int index = (int) Math.min(size - 1, Math.ceil(fraction * size) - 1);
    return sorted[Math.max(index, 0)] / 1e6;
  }

  synchronized int count() {
    return size;
  }
}
