package dev.parley.client;

import ch.qos.logback.classic.AsyncAppender;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.FileAppender;
import ch.qos.logback.core.spi.ContextAwareBase;
import ch.qos.logback.core.status.NopStatusListener;
import java.nio.file.Path;
import java.util.function.UnaryOperator;

/**
 * The client's logging, set up in code rather than read from a {@code logback.xml}: logback's XML
 * configuration loads some 550 classes (its XML parser and configuration model) and took about a
 * tenth of the time before the first prompt (docs/performance.md, "Terminal client start and
 * idle"). Logback finds this class through {@code META-INF/services}.
 *
 * <p>The terminal belongs to the user: nothing is logged to the console. Warnings and errors go to
 * a file, by default {@code client.log} in the client's own directory ({@code ~/.parley}, or {@code
 * $PARLEY_HOME}), which only its user writes to: a fixed name in the shared {@code /tmp} could be
 * made in advance, or be a link, by another user of the machine. {@code -Dparley.client.log=PATH}
 * moves it.
 *
 * <p>Any other configuration wins, and this one then steps aside: {@code
 * -Dlogback.configurationFile}, or a {@code logback-test.xml} or {@code logback.xml} on the class
 * path (the tests', or the server's when both run in one JVM).
 */
public final class ClientLogging extends ContextAwareBase implements Configurator {

  /** The property that moves the log file. */
  static final String LOG_FILE_PROPERTY = "parley.client.log";

  private static final String HOME_VARIABLE = "PARLEY_HOME";
  private static final String DEFAULT_HOME = ".parley";
  private static final String LOG_FILE_NAME = "client.log";
  private static final String PATTERN =
      "%date{ISO8601} %-5level [%thread] %logger{36} %X{akkaSource} - %msg%n";

  /** Events waiting for the file: past it they are dropped rather than hold up an actor. */
  private static final int QUEUE_SIZE = 1024;

  private static final String[] OTHER_CONFIGURATIONS = {"logback-test.xml", "logback.xml"};

  public ClientLogging() {}

  @Override
  public ExecutionStatus configure(LoggerContext context) {
    if (anotherConfiguration()) {
      return ExecutionStatus.INVOKE_NEXT_IF_ANY;
    }
    apply(context, logFile(System::getProperty, System::getenv));
    return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
  }

  private static boolean anotherConfiguration() {
    if (System.getProperty("logback.configurationFile") != null) {
      return true;
    }
    ClassLoader loader = ClientLogging.class.getClassLoader();
    for (String name : OTHER_CONFIGURATIONS) {
      if (loader.getResource(name) != null) {
        return true;
      }
    }
    return false;
  }

  /**
   * Where the log goes: {@code parley.client.log}, else {@code client.log} in {@code PARLEY_HOME}
   * (a system property or the environment variable), else in {@code ~/.parley}.
   */
  static Path logFile(UnaryOperator<String> properties, UnaryOperator<String> environment) {
    String file = properties.apply(LOG_FILE_PROPERTY);
    if (file != null && !file.isBlank()) {
      return Path.of(file);
    }
    String home = properties.apply(HOME_VARIABLE);
    if (home == null || home.isBlank()) {
      home = environment.apply(HOME_VARIABLE);
    }
    return home == null || home.isBlank()
        ? Path.of(properties.apply("user.home"), DEFAULT_HOME, LOG_FILE_NAME)
        : Path.of(home, LOG_FILE_NAME);
  }

  /** Warnings and errors, appended to {@code file} off the logging thread; nothing else. */
  static void apply(LoggerContext context, Path file) {
    // Logback prints its own problems (an unwritable log file, say) to stdout; not here.
    context.getStatusManager().add(new NopStatusListener());

    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(context);
    encoder.setPattern(PATTERN);
    encoder.start();

    FileAppender<ILoggingEvent> fileAppender = new FileAppender<>();
    fileAppender.setContext(context);
    fileAppender.setName("FILE");
    fileAppender.setFile(file.toString());
    fileAppender.setAppend(true);
    fileAppender.setEncoder(encoder);
    fileAppender.start();

    // Logging must never hold up an actor waiting on the disk.
    AsyncAppender async = new AsyncAppender();
    async.setContext(context);
    async.setName("ASYNC");
    async.setQueueSize(QUEUE_SIZE);
    async.setNeverBlock(true);
    async.addAppender(fileAppender);
    async.start();

    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    root.setLevel(Level.WARN);
    root.addAppender(async);
  }
}
