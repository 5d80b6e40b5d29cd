package dev.parley.client.testing;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.ManualTime;
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

  /** Logging set up before the actor system keeps SLF4J from printing its replay notice. */
  private static void initLogging() {
    LoggerFactory.getLogger(TestKits.class);
  }
}
