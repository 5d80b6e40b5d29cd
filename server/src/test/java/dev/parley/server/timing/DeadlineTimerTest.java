package dev.parley.server.timing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import akka.Done;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.ManualTime;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.TimerScheduler;
import dev.parley.server.testing.MutableClock;
import dev.parley.server.testing.TestKits;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A deadline restarted far more often than it runs out, and the owner's own wake-ups on the same
 * timer, in an actor that reports each firing; on ManualTime, with the actor's clock moved
 * alongside.
 */
class DeadlineTimerTest {

  private static final ActorTestKit testKit = TestKits.withManualTime();
  private static final ManualTime manualTime = ManualTime.get(testKit.system());

  private static final Instant T0 = Instant.parse("2030-05-04T12:00:00Z");
  private static final Duration TIMEOUT = Duration.ofSeconds(10);
  private static final Duration SECOND = Duration.ofSeconds(1);

  /** What the test asks of the actor that owns the timer. */
  private sealed interface Command {}

  private enum Restart implements Command {
    INSTANCE
  }

  private enum Stop implements Command {
    INSTANCE
  }

  private record WakeIn(Duration delay) implements Command {}

  /** The owner's own wake-up every {@code period}, as a session's heartbeat checks. */
  private record WakeEvery(Duration period) implements Command {}

  private enum TimerFired implements Command {
    INSTANCE
  }

  /** What the owner finds due when the timer fires; a firing with nothing due is not reported. */
  private enum Seen {
    DEADLINE,
    WOKEN
  }

  private MutableClock clock;
  private TestProbe<Seen> seen;
  private TestProbe<Done> handled;
  private ActorRef<Command> owner;

  /** How many times the owner's timer has been set (started) so far. */
  private final AtomicInteger timersSet = new AtomicInteger();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void startOwner() {
    clock = new MutableClock(T0);
    seen = testKit.createTestProbe();
    handled = testKit.createTestProbe();
    owner = testKit.spawn(owner(clock, seen.ref(), handled.ref(), timersSet));
  }

  /**
   * Uses the timer as a session does for its idle timeout and heartbeat checks: its own wake-up
   * time beside the deadline, given again each time the timer fires. Reports what is due to {@code
   * seen}, and each command handled to {@code handled}; counts the timer's settings in {@code
   * timersSet}.
   */
  private static Behavior<Command> owner(
      MutableClock clock, ActorRef<Seen> seen, ActorRef<Done> handled, AtomicInteger timersSet) {
    return Behaviors.withTimers(
        timers ->
            Behaviors.receiveMessage(
                new Object() {
                      final DeadlineTimer<Command> timer =
                          new DeadlineTimer<>(
                              new CountingTimers<>(timers, timersSet),
                              "deadline",
                              TimerFired.INSTANCE,
                              TIMEOUT,
                              clock);
                      long wakeMillis = Long.MAX_VALUE;
                      long periodMillis;

                      Behavior<Command> onMessage(Command command) {
                        if (command == Restart.INSTANCE) {
                          timer.restart();
                        } else if (command == Stop.INSTANCE) {
                          timer.stop();
                        } else if (command instanceof WakeIn wake) {
                          wakeMillis = clock.millis() + wake.delay().toMillis();
                          timer.wakeAt(wakeMillis);
                        } else if (command instanceof WakeEvery wake) {
                          periodMillis = wake.period().toMillis();
                          wakeMillis = clock.millis() + periodMillis;
                          timer.wakeAt(wakeMillis);
                        } else if (command == TimerFired.INSTANCE) {
                          onFired();
                          return Behaviors.same();
                        }
                        handled.tell(Done.getInstance());
                        return Behaviors.same();
                      }

                      void onFired() {
                        boolean woken = wakeMillis <= clock.millis();
                        if (woken) {
                          wakeMillis =
                              periodMillis == 0 ? Long.MAX_VALUE : clock.millis() + periodMillis;
                        }
                        if (timer.fired(wakeMillis)) {
                          seen.tell(Seen.DEADLINE);
                        }
                        if (woken) {
                          seen.tell(Seen.WOKEN);
                        }
                      }
                    }
                    ::onMessage));
  }

  /** Moves the owner's timers and its clock together. */
  private void timePasses(Duration duration) {
    clock.advance(duration);
    manualTime.timePasses(duration);
  }

  /** Tells the owner {@code command} and waits until it has been handled. */
  private void tell(Command command) {
    owner.tell(command);
    handled.expectMessage(Done.getInstance());
  }

  @Test
  void shouldRunOutTheTimeoutAfterTheLastRestart() {
    tell(Restart.INSTANCE);
    timePasses(Duration.ofSeconds(6));
    tell(Restart.INSTANCE);
    // The timer set by the first restart fires at 10 s, before the deadline (16 s), and is set
    // again for the rest.
    timePasses(Duration.ofSeconds(9));
    seen.expectNoMessage(Duration.ofMillis(100));
    timePasses(SECOND);
    seen.expectMessage(Seen.DEADLINE);
    timePasses(TIMEOUT);
    seen.expectNoMessage(Duration.ofMillis(100));
  }

  @Test
  void shouldWakeTheOwnerBeforeTheDeadlineAndStillRunItOut() {
    tell(Restart.INSTANCE);
    tell(new WakeIn(Duration.ofSeconds(3)));
    timePasses(Duration.ofSeconds(3));
    seen.expectMessage(Seen.WOKEN);
    timePasses(Duration.ofSeconds(6));
    seen.expectNoMessage(Duration.ofMillis(100));
    timePasses(SECOND);
    seen.expectMessage(Seen.DEADLINE);
  }

  @Test
  void shouldWakeTheOwnerAfterTheDeadlineWhenAskedForALaterTime() {
    tell(Restart.INSTANCE);
    tell(new WakeIn(Duration.ofSeconds(15)));
    timePasses(TIMEOUT);
    seen.expectMessage(Seen.DEADLINE);
    timePasses(Duration.ofSeconds(4));
    seen.expectNoMessage(Duration.ofMillis(100));
    timePasses(SECOND);
    seen.expectMessage(Seen.WOKEN);
  }

  @Test
  void shouldWakeTheOwnerWithNoDeadlineRunningAndNotRunOutOnceStopped() {
    tell(new WakeIn(Duration.ofSeconds(2)));
    timePasses(Duration.ofSeconds(2));
    seen.expectMessage(Seen.WOKEN);
    tell(Restart.INSTANCE);
    tell(Stop.INSTANCE);
    timePasses(TIMEOUT);
    seen.expectNoMessage(Duration.ofMillis(100));
  }

  @Test
  void shouldSetTheTimerOnceEachTimeItFires() {
    tell(Restart.INSTANCE);
    tell(new WakeEvery(Duration.ofSeconds(3)));
    int before = timersSet.get();

    // At 3 and 6 s for the next wake-up; at 9 s for the deadline (10 s), earlier than 12 s.
    for (int i = 0; i < 3; i++) {
      timePasses(Duration.ofSeconds(3));
      seen.expectMessage(Seen.WOKEN);
    }
    assertEquals(before + 3, timersSet.get(), "the timer set once per firing");

    timePasses(SECOND);
    seen.expectMessage(Seen.DEADLINE);
    timePasses(Duration.ofSeconds(2));
    seen.expectMessage(Seen.WOKEN);
  }

  /** Akka's timers, counting how often one is started. */
  private record CountingTimers<T>(TimerScheduler<T> timers, AtomicInteger started)
      implements TimerScheduler<T> {

    @Override
    public void startSingleTimer(Object key, T message, Duration delay) {
      started.incrementAndGet();
      timers.startSingleTimer(key, message, delay);
    }

    @Override
    public boolean isTimerActive(Object key) {
      return timers.isTimerActive(key);
    }

    @Override
    public void cancel(Object key) {
      timers.cancel(key);
    }

    @Override
    public void cancelAll() {
      timers.cancelAll();
    }

    @Override
    public void startTimerWithFixedDelay(Object key, T message, Duration delay) {
      throw new UnsupportedOperationException("not used by DeadlineTimer");
    }

    @Override
    public void startTimerWithFixedDelay(
        Object key, T message, Duration initialDelay, Duration delay) {
      throw new UnsupportedOperationException("not used by DeadlineTimer");
    }

    @Override
    public void startTimerAtFixedRate(Object key, T message, Duration interval) {
      throw new UnsupportedOperationException("not used by DeadlineTimer");
    }

    @Override
    public void startTimerAtFixedRate(
        Object key, T message, Duration initialDelay, Duration interval) {
      throw new UnsupportedOperationException("not used by DeadlineTimer");
    }

    @Override
    public void startPeriodicTimer(Object key, T message, Duration interval) {
      throw new UnsupportedOperationException("not used by DeadlineTimer");
    }
  }
}
