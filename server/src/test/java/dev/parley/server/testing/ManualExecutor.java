package dev.parley.server.testing;

import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An executor that runs nothing until the test says so: each task waits in a queue until {@link
 * #runNext()} runs it on the test's thread. Given to the journal as its store dispatcher, it lets a
 * test hold a transaction "in flight" for as long as it likes and count the transactions, without
 * any timing.
 */
public final class ManualExecutor implements Executor {

  private static final long WAIT_SECONDS = 10;

  private final BlockingQueue<Runnable> tasks = new LinkedBlockingQueue<>();
  private final AtomicInteger submitted = new AtomicInteger();

  @Override
  public void execute(Runnable task) {
    submitted.incrementAndGet();
    tasks.add(task);
  }

  /** Runs the next task, waiting (a few seconds at most) for the actor to submit it. */
  public void runNext() throws InterruptedException {
    Runnable task = tasks.poll(WAIT_SECONDS, TimeUnit.SECONDS);
    assertNotNull(task, "no task was submitted within " + WAIT_SECONDS + " s");
    task.run();
  }

  /** How many tasks have been submitted so far (run or not). */
  public int submitted() {
    return submitted.get();
  }

  /** How many tasks wait to be run. */
  public int waiting() {
    return tasks.size();
  }
}
