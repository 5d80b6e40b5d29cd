package dev.parley.client.testing;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.read.ListAppender;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * Every log event of the process while it is open, for tests that look for what must never be
 * logged (a token): the whole of each event is searched, its arguments, context and exceptions
 * included, not only the formatted line.
 */
public final class CapturedLog implements AutoCloseable {

  private final ListAppender<ILoggingEvent> events = new ListAppender<>();
  private final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);

  private CapturedLog() {
    events.start();
    root.addAppender(events);
  }

  /** Starts capturing. */
  public static CapturedLog start() {
    return new CapturedLog();
  }

  /** Everything captured so far, one line per event. */
  public String text() {
    List<ILoggingEvent> captured;
    synchronized (events) {
      captured = new ArrayList<>(events.list);
    }
    StringBuilder text = new StringBuilder();
    for (ILoggingEvent event : captured) {
      text.append(event.getLoggerName())
          .append(' ')
          .append(event.getFormattedMessage())
          .append(' ')
          .append(event.getMDCPropertyMap());
      if (event.getArgumentArray() != null) {
        for (Object argument : event.getArgumentArray()) {
          text.append(' ').append(argument);
        }
      }
      for (IThrowableProxy t = event.getThrowableProxy(); t != null; t = t.getCause()) {
        text.append(' ').append(t.getClassName()).append(": ").append(t.getMessage());
      }
      text.append('\n');
    }
    return text.toString();
  }

  /** How many events have been captured so far: a mark for {@link #linesSince}. */
  public int mark() {
    synchronized (events) {
      return events.list.size();
    }
  }

  /**
   * The formatted messages of the events captured since {@code mark}, at {@code level} or above, of
   * the loggers whose names start with {@code loggerPrefix}.
   */
  public List<String> linesSince(int mark, Level level, String loggerPrefix) {
    List<ILoggingEvent> captured;
    synchronized (events) {
      captured = new ArrayList<>(events.list.subList(mark, events.list.size()));
    }
    return captured.stream()
        .filter(event -> event.getLevel().isGreaterOrEqual(level))
        .filter(event -> event.getLoggerName().startsWith(loggerPrefix))
        .map(event -> event.getLevel() + " " + event.getFormattedMessage())
        .toList();
  }

  @Override
  public void close() {
    root.detachAppender(events);
    events.stop();
  }
}
