package dev.parley.bench.scenario;

/**
 * The arithmetic of an offered rate: send number {@code k} (from 0) is due at {@code start + k /
 * rate}, until {@code rate × duration} sends have been due. Asked at any moment, it hands out the
 * sends that have fallen due since it was last asked. When it is asked late (the pacing thread was
 * not scheduled) it hands out at most {@code maxBurst} at once and skips the rest, counted, rather
 * than catching up with a burst that would measure the generator's hiccup instead of the server.
 * One thread asks; {@link #dueAt} may be called from any.
 */
public final class Pacer {

  private final long start;
  private final double nanosPerSend;
  private final double sendsPerNano;
  private final long total;
  private final long maxBurst;
  private long position;
  private long skipped;
  private long batchFirst;

  public Pacer(double ratePerSecond, long startNanos, long durationNanos, long maxBurst) {
    if (!(ratePerSecond > 0) || durationNanos < 0 || maxBurst < 1) {
      throw new IllegalArgumentException(
          "rate " + ratePerSecond + ", duration " + durationNanos + ", burst " + maxBurst);
    }
    this.start = startNanos;
    this.sendsPerNano = ratePerSecond / 1e9;
    this.nanosPerSend = 1e9 / ratePerSecond;
    this.total = Math.round(ratePerSecond * durationNanos / 1e9);
    this.maxBurst = maxBurst;
  }

  /** The sends a burst may hold: a tenth of a second's worth, at least one. */
  public static long burstFor(double ratePerSecond) {
    return Math.max(1, (long) Math.ceil(ratePerSecond / 10));
  }

  /**
   * Sends due by {@code now} and not handed out yet (at most {@code maxBurst}); they are numbered
   * from {@link #batchFirst()}.
   */
  public long due(long now) {
    if (now < start) {
      return 0;
    }
    long target = Math.min(total, (long) Math.floor((now - start) * sendsPerNano) + 1);
    long owed = target - position;
    if (owed <= 0) {
      return 0;
    }
    if (owed > maxBurst) {
      skipped += owed - maxBurst;
      position = target - maxBurst;
      owed = maxBurst;
    }
    batchFirst = position;
    position = target;
    return owed;
  }

  /** The number of the first send of the last batch {@link #due} returned. */
  public long batchFirst() {
    return batchFirst;
  }

  /** When send {@code k} was due. */
  public long dueAt(long k) {
    return start + (long) (k * nanosPerSend);
  }

  /** Whether every send has been handed out or skipped. */
  public boolean finished() {
    return position >= total;
  }

  /** Sends over the whole duration. */
  public long total() {
    return total;
  }

  /** Sends handed out so far. */
  public long handedOut() {
    return position - skipped;
  }

  /** Sends skipped because the pacer was asked too late. */
  public long skipped() {
    return skipped;
  }

  /**
   * {@code count} split over {@code parts} as evenly as possible; the remainder goes to the parts
   * from {@code rotation} on, so that no part is always favoured.
   */
  public static int[] split(long count, int parts, int rotation) {
    int[] shares = new int[parts];
    long base = count / parts;
    int extra = (int) (count % parts);
    for (int i = 0; i < parts; i++) {
      shares[i] = (int) base;
    }
    for (int i = 0; i < extra; i++) {
      shares[Math.floorMod(rotation + i, parts)]++;
    }
    return shares;
  }
}
