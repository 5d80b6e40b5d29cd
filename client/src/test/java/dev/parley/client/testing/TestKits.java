package dev.parley.client.testing;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.ManualTime;
import akka.actor.typed.javadsl.Adapter;
import akka.testkit.ExplicitlyTriggeredScheduler;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.LoggerFactory;

/** Creates the tests' actor test kits. */
public final class TestKits {

  private TestKits() {}

  /** A test kit on real time. */
  public static ActorTestKit create() {
    initLogging();
    return ActorTestKit.create();
  }

  /** A test kit whose scheduler only moves when the test calls {@link ManualTime#timePasses}. */
  public static ActorTestKit withManualTime() {
    initLogging();
    return ActorTestKit.create(
        ManualTime.config().withFallback(ActorTestKit.applicationTestConfig()));
  }

  /**
   * The clock of a {@link #withManualTime()} test kit, in nanoseconds: it moves only with {@link
   * ManualTime#timePasses}, in step with the timers, so that what an actor measures with it and
   * what it schedules agree.
   */
  public static LongSupplier manualNanoClock(ActorTestKit testKit) {
    ExplicitlyTriggeredScheduler scheduler =
        (ExplicitlyTriggeredScheduler) Adapter.toClassic(testKit.system()).scheduler();
    return () -> TimeUnit.MILLISECONDS.toNanos(scheduler.currentTimeMs());
  }

  /** Logging set up before the actor system keeps SLF4J from printing its replay notice. */
  private static void initLogging() {
    LoggerFactory.getLogger(TestKits.class);
  }
}
