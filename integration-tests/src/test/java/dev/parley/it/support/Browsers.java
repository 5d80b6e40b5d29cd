package dev.parley.it.support;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.openqa.selenium.Dimension;

/**
 * The browsers of a test class, as a JUnit extension (a static {@code @RegisterExtension} field):
 * when Chromium is not installed it skips each test, or fails the class before it starts a server
 * where {@link Browser#REQUIRE_BROWSER} is set; after each test, passed or failed, it takes a
 * screenshot of every browser the test opened, as {@code
 * target/browser-screenshots/<test>-<n>.png}, and closes them and whatever else the test tracked.
 */
public final class Browsers implements BeforeAllCallback, BeforeEachCallback, AfterEachCallback {

  /** Under the module's build directory, so that mvn clean removes them. */
  public static final Path SCREENSHOTS = Path.of("target", "browser-screenshots");

  private final List<Browser> open = new ArrayList<>();
  private final Deque<AutoCloseable> others = new ArrayDeque<>();
  private String test = "test";
  private int screenshots;

  @Override
  public void beforeAll(ExtensionContext context) {
    String missing = Browser.missing();
    if (missing != null && Browser.required()) {
      fail(missing);
    }
  }

  /** Whether the browser can run here; the class need not start its server when it cannot. */
  public boolean available() {
    return Browser.missing() == null;
  }

  @Override
  public void beforeEach(ExtensionContext context) throws IOException {
    // Skipped test by test rather than the class at once: Maven reports a class skipped in
    // beforeAll as no tests run at all, without the reason.
    String missing = Browser.missing();
    assumeTrue(missing == null, missing);
    test = context.getRequiredTestMethod().getName();
    screenshots = 0;
    // A previous run's screenshots of this test would pass for this run's.
    try (Stream<Path> old = Files.list(SCREENSHOTS)) {
      for (Path file :
          old.filter(f -> f.getFileName().toString().startsWith(test + "-")).toList()) {
        Files.delete(file);
      }
    } catch (NoSuchFileException e) {
      // No run before this one.
    }
  }

  /** A new browser at a blank page, closed after the test. */
  public Browser open(String name, Dimension size) {
    Browser browser = Browser.start(name, size);
    open.add(browser);
    return browser;
  }

  /**
   * Closed after the test's screenshots, in the reverse order of tracking: a terminal client, say,
   * which the screenshots should still show online.
   */
  public <T extends AutoCloseable> T track(T resource) {
    others.push(resource);
    return resource;
  }

  /** A screenshot of {@code browser} now, numbered after the test's others; returns its file. */
  public Path screenshot(Browser browser) {
    Path file = SCREENSHOTS.resolve(test + "-" + ++screenshots + ".png");
    browser.screenshot(file);
    return file;
  }

  @Override
  public void afterEach(ExtensionContext context) {
    RuntimeException first = null;
    for (Browser browser : open) {
      try {
        screenshot(browser);
      } catch (RuntimeException e) {
        // A browser that died cannot be photographed; the others still are, and all are closed.
        first = first == null ? e : first;
      }
    }
    for (Browser browser : open) {
      try {
        browser.close();
      } catch (RuntimeException e) {
        first = first == null ? e : first;
      }
    }
    open.clear();
    while (!others.isEmpty()) {
      try {
        others.pop().close();
      } catch (Exception e) {
        first = first == null ? new IllegalStateException("closing after the test", e) : first;
      }
    }
    if (first != null && context.getExecutionException().isEmpty()) {
      throw first;
    }
  }
}
