package dev.parley.bench;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * A stream a command line prints to while it runs in another thread, read line by line as they
 * come: a test waits (boundedly) for the line that tells it to act, such as the reconnect
 * scenario's "waiting for restart 1".
 */
final class WatchedOutput extends OutputStream {

  private final ByteArrayOutputStream partial = new ByteArrayOutputStream();
  private final List<String> lines = new ArrayList<>();
  private final PrintStream print = new PrintStream(this, true, StandardCharsets.UTF_8);

  /** A print stream onto this, for {@link Main#run}. */
  PrintStream printStream() {
    return print;
  }

  @Override
  public synchronized void write(int b) {
    if (b == '\n') {
      lines.add(partial.toString(StandardCharsets.UTF_8));
      partial.reset();
      notifyAll();
    } else {
      partial.write(b);
    }
  }

  /** Every complete line so far. */
  synchronized List<String> lines() {
    return List.copyOf(lines);
  }

  /** All that was printed, for failure messages. */
  synchronized String text() {
    return String.join("\n", lines) + (partial.size() > 0 ? "\n" + partial : "");
  }

  /**
   * Waits until a line matching {@code wanted} has been printed (or {@code finished} says the
   * printer stopped) and returns it; fails after {@code atMost}.
   */
  synchronized String await(Predicate<String> wanted, Duration atMost, Finished finished)
      throws InterruptedException {
    long deadline = System.nanoTime() + atMost.toNanos();
    int seen = 0;
    while (true) {
      for (; seen < lines.size(); seen++) {
        if (wanted.test(lines.get(seen))) {
          return lines.get(seen);
        }
      }
      long left = deadline - System.nanoTime();
      if (left <= 0 || finished.finished()) {
        throw new AssertionError("no such line within " + atMost + "; printed:\n" + text());
      }
      // Woken by each new line; the bounded wait also notices that the printer has stopped.
      wait(Math.max(1, Math.min(200, left / 1_000_000)));
    }
  }

  /** Whether whoever prints has stopped, so that waiting longer is pointless. */
  @FunctionalInterface
  interface Finished {
    boolean finished();
  }
}
