package dev.parley.server.timing;

import akka.actor.typed.javadsl.TimerScheduler;
import java.time.Clock;
import java.time.Duration;

/**
 * A timeout that is restarted far more often than it runs out, such as an idle timeout restarted by
 * every message. Restarting an Akka timer costs a cancel, an allocation and a schedule, and the
 * scheduler's work on both: three times per message, that was about 5% of a server's CPU at 20,000
 * msg/s. Restarting this one moves a deadline; the timer is set only when none is, and when it
 * fires before the deadline it is set again for the rest.
 *
 * <p>The same Akka timer can also wake the actor for checks of its own ({@link #wakeAt}): each Akka
 * timer set costs an actor about 130 bytes (the timer, its message, the scheduler's task), which an
 * idle session holds for as long as it lives (issue 11: idle sessions).
 *
 * <p>Used by one actor, on its own thread, like the {@link TimerScheduler} it wraps. The deadline
 * is read from the actor's clock, so a test moves that clock with ManualTime.
 *
 * @param <T> the actor's message type
 */
public final class DeadlineTimer<T> {

  private static final long NOT_DUE = Long.MAX_VALUE;

  private final TimerScheduler<T> timers;
  private final Object key;
  private final T fires;
  private final Duration timeout;
  private final Clock clock;

  /** When the timeout runs out, by {@link #clock}; {@link #NOT_DUE} while stopped. */
  private long dueMillis = NOT_DUE;

  /** When the Akka timer was last set to fire, by {@link #clock}. */
  private long setForMillis = NOT_DUE;

  /**
   * @param key the timer's key among the actor's timers
   * @param fires the message the actor receives when the timer fires, to pass to {@link #fired}
   * @param timeout the same for every restart: so a timer already set always fires at or before the
   *     deadline, never after it
   */
  public DeadlineTimer(
      TimerScheduler<T> timers, Object key, T fires, Duration timeout, Clock clock) {
    this.timers = timers;
    this.key = key;
    this.fires = fires;
    this.timeout = timeout;
    this.clock = clock;
  }

  /** The timeout runs (again) from now. */
  public void restart() {
    dueMillis = clock.millis() + timeout.toMillis();
    // A timer set earlier fires earlier, and fired() sets it again for the rest.
    if (!timers.isTimerActive(key)) {
      setFor(dueMillis);
    }
  }

  /**
   * The timer fires at {@code atMillis} (by the clock) at the latest, whatever the deadline: for a
   * check of the actor's own on the same timer. When the message comes, {@link #fired} answers for
   * the deadline, and the actor's own time says whether its check is due; if it is not (the timer
   * fired for the deadline first), the actor asks again.
   */
  public void wakeAt(long atMillis) {
    if (!timers.isTimerActive(key) || atMillis < setForMillis) {
      setFor(atMillis);
    }
  }

  /** The timeout no longer runs: the timer may still fire, and {@link #fired} then says so. */
  public void stop() {
    dueMillis = NOT_DUE;
  }

  /**
   * To call when the actor receives the timer's message: true if the timeout has run out (it is
   * then stopped), false if it is stopped or not due yet (the timer is then set for the rest).
   */
  public boolean fired() {
    return fired(NOT_DUE);
  }

  /**
   * As {@link #fired()}, for an actor that also wakes itself on this timer: the timer is set once,
   * for the earlier of the rest of the timeout and {@code wakeAtMillis} (by the clock; {@link
   * Long#MAX_VALUE} for no wake-up). {@link #fired()} and then {@link #wakeAt} would set it twice
   * each time it fires, a schedule and its cancellation for nothing.
   */
  public boolean fired(long wakeAtMillis) {
    boolean ranOut = dueMillis <= clock.millis();
    if (ranOut) {
      dueMillis = NOT_DUE;
    }
    long next = Math.min(dueMillis, wakeAtMillis);
    if (next != NOT_DUE) {
      setFor(next);
    }
    return ranOut;
  }

  private void setFor(long atMillis) {
    setForMillis = atMillis;
    timers.startSingleTimer(key, fires, Duration.ofMillis(Math.max(0, atMillis - clock.millis())));
  }
}
