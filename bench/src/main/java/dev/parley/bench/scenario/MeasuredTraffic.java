package dev.parley.bench.scenario;

import dev.parley.bench.client.EventLoop;
import dev.parley.bench.client.Traffic;

/** A traffic that {@link Phase} can drive: paced or closed-loop sends, counted and timed. */
interface MeasuredTraffic extends Traffic {

  /** Counters read by the controlling thread while the phase runs. */
  record Snapshot(long sent, long accepted, long refused, long delivered, long backlog) {
    long unanswered() {
      return sent - accepted - refused;
    }
  }

  /** A new phase for this loop's users (on the loop, before anything is sent). */
  void reset(EventLoop loop);

  /** Paced: the pacer whose sends {@link #dispatch} hands out, given before it starts. */
  void pace(Pacer pacer);

  /** Paced, on the pacer's thread: sends {@code first .. first+count-1} are due. */
  void dispatch(long first, int count);

  /** Closed loop: replies are followed by new sends while this is on. */
  void sending(boolean on);

  /** Closed loop, on each loop: fill the windows. */
  void fill(EventLoop loop);

  Snapshot snapshot();

  /** Every send answered and every delivery made. */
  boolean settled();

  Latency latency();

  /** When the last delivery arrived ({@link dev.parley.bench.client.MonotonicClock}), or 0. */
  long lastDelivery();
}
