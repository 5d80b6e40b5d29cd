package dev.parley.protocol;

/**
 * One {@link CommandRate} enforced over time, as the generic cell rate algorithm does it: the
 * bucket keeps only the theoretical arrival time of the next event at the sustained rate, one long,
 * which makes a bucket per session or per address cheap. An event is allowed if it is not earlier
 * than that time by more than the burst's tolerance. The server counts a connection's commands with
 * it, and a client that paces itself with the rate the server announced counts the same way, so it
 * is never refused.
 *
 * <p>Not thread-safe: each bucket belongs to one actor. Times are in nanoseconds on any monotonic
 * scale the owner chooses.
 */
public final class TokenBucket {

  private final long interval;
  private final long tolerance;
  private long theoreticalArrival;

  public TokenBucket(CommandRate rate) {
    this.interval = rate.intervalNanos();
    this.tolerance = rate.toleranceNanos();
    this.theoreticalArrival = Long.MIN_VALUE;
  }

  /** Takes one event at {@code nowNanos}; false, and nothing taken, if it is over the rate. */
  public boolean tryTake(long nowNanos) {
    long next = Math.max(theoreticalArrival, nowNanos);
    if (next - nowNanos > tolerance) {
      return false;
    }
    theoreticalArrival = next + interval;
    return true;
  }

  /**
   * How long after {@code nowNanos} the next event would be allowed, in nanoseconds (0: now). Takes
   * nothing.
   */
  public long delayNanos(long nowNanos) {
    long next = Math.max(theoreticalArrival, nowNanos);
    return Math.max(0, next - nowNanos - tolerance);
  }

  /** Whether the bucket has refilled completely by {@code nowNanos}: it may then be forgotten. */
  public boolean isFull(long nowNanos) {
    return theoreticalArrival <= nowNanos;
  }
}
