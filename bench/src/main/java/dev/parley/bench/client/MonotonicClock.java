package dev.parley.bench.client;

/**
 * The generator's one clock: {@link System#nanoTime()} from an origin taken when the class loads,
 * so that times are positive, fit comfortably in a payload and mean the same in every thread. A
 * send stamp and the receive time it is compared with both come from here (same JVM).
 */
public final class MonotonicClock {

  private static final long ORIGIN = System.nanoTime();

  private MonotonicClock() {}

  /** Nanoseconds since this JVM's generator started. */
  public static long now() {
    return System.nanoTime() - ORIGIN;
  }
}
