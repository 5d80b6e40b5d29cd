package dev.parley.server.testing;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.ManualTime;
import org.slf4j.LoggerFactory;

/**
 * Creates the tests' actor test kits. Each test class keeps its kit in a {@code static final} field
 * and shuts it down in {@code @AfterAll} (Akka 2.6 has JUnit 4 rules only).
 */
public final class TestKits {

  private TestKits() {}

  /** A test kit on real time, configured by {@code application-test.conf}. */
  public static ActorTestKit create() {
    initLogging();
    return ActorTestKit.create();
  }

  /**
   * A test kit whose scheduler only moves when the test calls {@link ManualTime#timePasses}: every
   * timer and ask timeout of the actors under test is then under the test's control.
   */
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
