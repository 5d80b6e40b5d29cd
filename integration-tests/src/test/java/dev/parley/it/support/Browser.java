package dev.parley.it.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.ExpectedCondition;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * A headless Chromium driven through ChromeDriver, both Debian's binaries named explicitly: the
 * machines the tests run on reach no download site, and with both paths given Selenium Manager has
 * nothing to look up. Each browser has a profile of its own in a temporary directory (its HOME too,
 * since Chromium keeps its certificate database there), removed on {@link #close}.
 */
public final class Browser implements AutoCloseable {

  public static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  public static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

  /** Set to 1 where the browser must be there (CI): its absence fails instead of skipping. */
  public static final String REQUIRE_BROWSER = "PARLEY_REQUIRE_BROWSER";

  public static final Dimension DESKTOP = new Dimension(1280, 800);

  /** About an iPhone 12-15's viewport in CSS pixels. */
  public static final Dimension PHONE = new Dimension(390, 844);

  /** How long a test waits for something it expects the page to show. */
  public static final Duration PATIENCE = Duration.ofSeconds(10);

  /**
   * How often a wait looks again: the page reacts in milliseconds, the default is half a second.
   */
  private static final Duration POLL = Duration.ofMillis(50);

  /** What makes headless Chromium quiet, offline and fit for a container. */
  private static final List<String> ARGUMENTS =
      List.of(
          "--headless=new",
          // Containers run tests as root, where Chromium's sandbox cannot start.
          "--no-sandbox",
          "--disable-gpu",
          // Docker's /dev/shm is 64 MB, too small for Chromium's shared memory.
          "--disable-dev-shm-usage",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          "--disable-quic");

  private final String name;
  private final Path profile;
  private final ChromeDriverService service;
  private final ChromeDriver driver;

  private Browser(String name, Path profile, ChromeDriverService service, ChromeDriver driver) {
    this.name = name;
    this.profile = profile;
    this.service = service;
    this.driver = driver;
  }

  /**
   * Why the browser cannot run here, or null when it can: both binaries must be there and
   * executable.
   */
  public static String missing() {
    for (Path binary : List.of(CHROMIUM, CHROMEDRIVER)) {
      if (!Files.isExecutable(binary)) {
        return binary
            + " is missing (Debian: apt-get install chromium chromium-driver); set "
            + REQUIRE_BROWSER
            + "=1 to fail instead of skipping";
      }
    }
    return null;
  }

  /** Whether a missing browser is a failure rather than a reason to skip. */
  public static boolean required() {
    return "1".equals(System.getenv(REQUIRE_BROWSER));
  }

  /** A new browser with a blank page, its window {@code size}; {@code name} is for messages. */
  public static Browser start(String name, Dimension size) {
    Path profile;
    try {
      profile = Files.createTempDirectory("parley-browser-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    ChromeDriverService service =
        new ChromeDriverService.Builder()
            .usingDriverExecutable(CHROMEDRIVER.toFile())
            .usingAnyFreePort()
            // Chromium keeps its certificate database and caches under HOME: not the real one.
            .withEnvironment(
                Map.of(
                    "HOME", profile.toString(),
                    "XDG_CONFIG_HOME", profile.resolve("config").toString(),
                    "XDG_CACHE_HOME", profile.resolve("cache").toString()))
            .withSilent(true)
            .build();
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments(ARGUMENTS);
    options.addArguments("--user-data-dir=" + profile.resolve("user-data"));
    options.addArguments("--window-size=" + size.getWidth() + "," + size.getHeight());
    // The node's default certificate is self-signed: the tests run over HTTPS and WSS as users do.
    options.setAcceptInsecureCerts(true);
    LoggingPreferences logs = new LoggingPreferences();
    logs.enable(LogType.BROWSER, Level.ALL);
    options.setCapability(ChromeOptions.LOGGING_PREFS, logs);
    Browser browser = null;
    try {
      service.start();
      browser = new Browser(name, profile, service, new ChromeDriver(service, options));
      browser.fitViewport(size);
      return browser;
    } catch (IOException | RuntimeException e) {
      if (browser != null) {
        browser.close();
      } else {
        service.stop();
        delete(profile);
      }
      throw e instanceof IOException io ? new UncheckedIOException(io) : (RuntimeException) e;
    }
  }

  /**
   * Makes the page's viewport (what CSS media queries see) exactly {@code size}: headless Chromium
   * takes part of the window for the browser's own frame, a part that differs between versions.
   */
  private void fitViewport(Dimension size) {
    @SuppressWarnings("unchecked")
    List<Long> frame =
        (List<Long>)
            script(
                "return [window.outerWidth - window.innerWidth,"
                    + " window.outerHeight - window.innerHeight];");
    driver
        .manage()
        .window()
        .setSize(
            new Dimension(
                size.getWidth() + frame.get(0).intValue(),
                size.getHeight() + frame.get(1).intValue()));
    until("a viewport of " + size, d -> size.equals(viewport()));
  }

  /** The page's viewport in CSS pixels. */
  public Dimension viewport() {
    @SuppressWarnings("unchecked")
    List<Long> inner = (List<Long>) script("return [window.innerWidth, window.innerHeight];");
    return new Dimension(inner.get(0).intValue(), inner.get(1).intValue());
  }

  public String name() {
    return name;
  }

  public WebDriver driver() {
    return driver;
  }

  /** Waits up to {@link #PATIENCE} for {@code condition} to hold (be non-null and not false). */
  public <T> T until(String what, ExpectedCondition<T> condition) {
    return until(what, PATIENCE, condition);
  }

  /** Waits up to {@code patience} for {@code condition} to hold (be non-null and not false). */
  public <T> T until(String what, Duration patience, ExpectedCondition<T> condition) {
    return new WebDriverWait(driver, patience)
        .pollingEvery(POLL)
        .withMessage(name + ": " + what)
        .until(condition);
  }

  /** Runs {@code script} in the page and returns its result. */
  public Object script(String script, Object... arguments) {
    return driver.executeScript(script, arguments);
  }

  /** Writes a screenshot of the page to {@code file}, and what the page logged beside it. */
  public void screenshot(Path file) {
    try {
      Files.createDirectories(file.getParent());
      Files.write(file, ((TakesScreenshot) driver).getScreenshotAs(OutputType.BYTES));
      String console =
          driver.manage().logs().get(LogType.BROWSER).getAll().stream()
              .map(LogEntry::toString)
              .collect(Collectors.joining("\n"));
      if (!console.isEmpty()) {
        String png = file.getFileName().toString();
        Files.writeString(
            file.resolveSibling(png.substring(0, png.length() - ".png".length()) + ".console.txt"),
            console + "\n");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    try {
      driver.quit();
    } finally {
      service.stop();
      delete(profile);
    }
  }

  private static void delete(Path directory) {
    try (Stream<Path> files = Files.walk(directory)) {
      files
          .sorted(Comparator.reverseOrder())
          .forEach(
              file -> {
                try {
                  Files.deleteIfExists(file);
                } catch (IOException e) {
                  // Chromium's helpers may still be letting go of a file; the rest goes anyway.
                }
              });
    } catch (IOException e) {
      // Nothing left to remove.
    }
  }
}
