package dev.parley.it.support;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * What a client writes to its terminal, split into lines as they complete. The login prompts stay
 * unterminated on the terminal (the next line is written after them), so they are taken off the
 * front of a line and recorded as prompts of their own.
 *
 * <p>Waiting is for an event with a deadline, never for a fixed time: a line is there as soon as
 * the client has written it.
 */
public final class Screen extends OutputStream {

  private static final List<String> PROMPTS = List.of("Username: ", "Password: ");

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private final ByteArrayOutputStream partial = new ByteArrayOutputStream();
  private final List<String> lines = new ArrayList<>();
  private final List<String> prompts = new ArrayList<>();
  private int read;

  @Override
  public void write(int b) {
    write(new byte[] {(byte) b}, 0, 1);
  }

  @Override
  public void write(byte[] bytes, int offset, int length) {
    lock.lock();
    try {
      for (int i = offset; i < offset + length; i++) {
        if (bytes[i] == '\n') {
          addLine(partial.toString(StandardCharsets.UTF_8));
          partial.reset();
        } else {
          partial.write(bytes[i]);
        }
      }
      takePromptsOffThePartialLine();
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  private void takePromptsOffThePartialLine() {
    String text = partial.toString(StandardCharsets.UTF_8);
    boolean found = true;
    while (found) {
      found = false;
      for (String prompt : PROMPTS) {
        if (text.startsWith(prompt)) {
          prompts.add(prompt);
          text = text.substring(prompt.length());
          found = true;
        }
      }
    }
    partial.reset();
    partial.writeBytes(text.getBytes(StandardCharsets.UTF_8));
  }

  private void addLine(String line) {
    lines.add(line);
  }

  /**
   * The next line not yet taken, waiting up to {@code timeout} for it.
   *
   * @throws AssertionError if none arrives in time (with everything seen so far)
   */
  public String nextLine(Duration timeout) {
    String line = pollLine(timeout);
    if (line == null) {
      throw new AssertionError(
          "no further line within " + timeout + "; the terminal shows:\n" + transcript());
    }
    return line;
  }

  /** The next line not yet taken, or null if none comes within {@code timeout}. */
  public String pollLine(Duration timeout) {
    lock.lock();
    try {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (read >= lines.size()) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return null;
        }
        changed.awaitNanos(left);
      }
      return lines.get(read++);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    } finally {
      lock.unlock();
    }
  }

  /**
   * The next line not yet taken, or null once {@code count} prompts have been shown in all,
   * whichever comes first; for answers that are either a message or a prompt.
   */
  public String nextLineOrPrompts(int count, Duration timeout) {
    lock.lock();
    try {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (read >= lines.size() && prompts.size() < count) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new AssertionError(
              "neither a line nor prompt "
                  + count
                  + " within "
                  + timeout
                  + "; the terminal shows:\n"
                  + transcript());
        }
        changed.awaitNanos(left);
      }
      return read < lines.size() ? lines.get(read++) : null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    } finally {
      lock.unlock();
    }
  }

  /**
   * The first line so far, taken or not, that holds {@code fragment}, waiting up to {@code timeout}
   * for one; the lines taken stay as they were. For a log whose lines come in an order that does
   * not matter, some perhaps before the test started to look.
   *
   * @throws AssertionError if none arrives in time (with everything seen so far)
   */
  public String awaitLineContaining(String fragment, Duration timeout) {
    lock.lock();
    try {
      long deadline = System.nanoTime() + timeout.toNanos();
      int searched = 0;
      while (true) {
        for (; searched < lines.size(); searched++) {
          if (lines.get(searched).contains(fragment)) {
            return lines.get(searched);
          }
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new AssertionError(
              "no line with '"
                  + fragment
                  + "' within "
                  + timeout
                  + "; the terminal shows:\n"
                  + transcript());
        }
        changed.awaitNanos(left);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    } finally {
      lock.unlock();
    }
  }

  /** Waits until {@code count} prompts have been shown in all (the first is number 1). */
  public void awaitPrompts(int count, Duration timeout) {
    lock.lock();
    try {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (prompts.size() < count) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new AssertionError(
              "expected "
                  + count
                  + " prompts, saw "
                  + prompts
                  + "; the terminal shows:\n"
                  + transcript());
        }
        changed.await(left, TimeUnit.NANOSECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    } finally {
      lock.unlock();
    }
  }

  /** The prompts shown so far, in order. */
  public List<String> prompts() {
    lock.lock();
    try {
      return List.copyOf(prompts);
    } finally {
      lock.unlock();
    }
  }

  /** Every complete line so far, taken or not. */
  public List<String> lines() {
    lock.lock();
    try {
      return List.copyOf(lines);
    } finally {
      lock.unlock();
    }
  }

  /** Lines not yet taken. */
  public List<String> unread() {
    lock.lock();
    try {
      return List.copyOf(lines.subList(read, lines.size()));
    } finally {
      lock.unlock();
    }
  }

  /** Everything seen, for failure messages. */
  public String transcript() {
    lock.lock();
    try {
      StringBuilder text = new StringBuilder();
      for (int i = 0; i < lines.size(); i++) {
        text.append(i < read ? "  " : "> ").append(lines.get(i)).append('\n');
      }
      text.append("  [prompts: ").append(prompts).append("]");
      return text.toString();
    } finally {
      lock.unlock();
    }
  }
}
