package dev.parley.server.testing;

import akka.actor.testkit.typed.internal.CapturingAppender;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.opentest4j.TestAbortedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * JUnit 5 counterpart of Akka's JUnit 4 {@code LogCapturing} rule: the log lines of a test are kept
 * in memory by the {@code CapturingAppender} configured in {@code logback-test.xml} and printed
 * only when the test fails, so a green build stays quiet and a red one shows its story.
 */
public final class LogCapturingExtension implements BeforeEachCallback, AfterEachCallback {

  private static final Logger log = LoggerFactory.getLogger(LogCapturingExtension.class);

  @Override
  public void beforeEach(ExtensionContext context) {
    CapturingAppender.get("").clear();
    log.info("--- test started: {}", context.getDisplayName());
  }

  @Override
  public void afterEach(ExtensionContext context) {
    CapturingAppender appender = CapturingAppender.get("");
    // A test skipped by an assumption (TestAbortedException) has nothing to show.
    if (context
        .getExecutionException()
        .filter(failure -> !(failure instanceof TestAbortedException))
        .isPresent()) {
      log.info("--- test failed: {}", context.getDisplayName());
      appender.flush();
    }
    appender.clear();
  }
}
