package dev.parley.transport.nio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * When due writes go out: after the work queued on the fork-join worker, bounded by the hold, and
 * at once on any other executor or when a write due may not wait. The pool has one worker in FIFO
 * mode, as Akka's dispatchers run their queues, so the order of events is fixed; the hold runs on a
 * clock the work advances.
 */
class WriteFlusherTest {

  private static final long HOLD_NANOS = Duration.ofMillis(5).toNanos();
  private static final long TICK_NANOS = Duration.ofMillis(1).toNanos();
  private static final Duration WAIT = Duration.ofSeconds(10);

  private final ForkJoinPool pool =
      new ForkJoinPool(1, ForkJoinPool.defaultForkJoinWorkerThreadFactory, null, true);
  private final AtomicLong clock = new AtomicLong();
  private final WriteFlusher flusher = new WriteFlusher(HOLD_NANOS, clock::get);
  private final List<String> events = Collections.synchronizedList(new ArrayList<>());

  @AfterEach
  void stopPool() {
    pool.shutdownNow();
  }

  @Test
  void shouldWriteOnceTheWorkQueuedBehindTheFlushHasRun() throws InterruptedException {
    CountDownLatch written = new CountDownLatch(1);
    dueThenThreeWorks(true, written);

    await(written);
    assertEquals(List.of("work 1", "work 2", "work 3", "write"), events);
  }

  @Test
  void shouldWriteAfterTheHoldWhenTheWorkerNeverRunsDry() throws InterruptedException {
    CountDownLatch done = new CountDownLatch(2);
    heldWhile(new Busy(8, done), done);

    await(done);
    assertEquals(
        List.of(
            "tick 1", "tick 2", "tick 3", "tick 4", "tick 5", "write", "tick 6", "tick 7",
            "tick 8"),
        events);
  }

  @Test
  void shouldWriteAWriteThatMayNotWaitBeforeTheWorkQueuedBehindIt() throws InterruptedException {
    CountDownLatch written = new CountDownLatch(1);
    dueThenThreeWorks(false, written);

    await(written);
    assertEquals("write", events.get(0));
  }

  @Test
  void shouldStopHoldingOnceAWriteDueMayNoLongerWait() throws InterruptedException {
    CountDownLatch done = new CountDownLatch(2);
    heldWhile(new Busy(8, done, 2, flusher::expedite), done);

    await(done);
    assertEquals(
        List.of(
            "tick 1", "tick 2", "write", "tick 3", "tick 4", "tick 5", "tick 6", "tick 7",
            "tick 8"),
        events);
  }

  @Test
  void shouldTakeEveryWriteDueMeanwhileIntoOneFlushOnItsFirstTurnOffAForkJoinWorker() {
    Queue<Runnable> queued = new ArrayDeque<>();
    Executor later = queued::add;
    flusher.due(() -> events.add("a"), later, true);
    flusher.due(() -> events.add("b"), later, true);

    assertEquals(1, queued.size());
    queued.remove().run();
    assertEquals(List.of("a", "b"), events);
    assertTrue(queued.isEmpty());
  }

  @Test
  void shouldRunAWriteMarkedDueDuringAFlushExactlyOnce() {
    Queue<Runnable> queued = new ArrayDeque<>();
    Executor later = queued::add;
    flusher.due(
        () -> {
          events.add("a");
          flusher.due(() -> events.add("b"), later, true);
        },
        later,
        true);

    while (!queued.isEmpty()) {
      queued.remove().run();
    }
    assertEquals(List.of("a", "b"), events);
  }

  /** On the worker: a write due, then three pieces of work queued behind the flush. */
  private void dueThenThreeWorks(boolean mayWait, CountDownLatch written) {
    pool.execute(
        () -> {
          flusher.due(() -> record("write", written), pool, mayWait);
          for (int i = 1; i <= 3; i++) {
            String work = "work " + i;
            pool.execute(() -> events.add(work));
          }
        });
  }

  /** On the worker: a write due that may wait, then {@code busy} queued behind the flush. */
  private void heldWhile(Busy busy, CountDownLatch written) {
    pool.execute(
        () -> {
          flusher.due(() -> record("write", written), pool, true);
          pool.execute(busy);
        });
  }

  private void record(String event, CountDownLatch latch) {
    events.add(event);
    latch.countDown();
  }

  private static void await(CountDownLatch latch) throws InterruptedException {
    assertTrue(latch.await(WAIT.toMillis(), TimeUnit.MILLISECONDS), "timed out");
  }

  /**
   * Work that queues its next step behind itself, a millisecond of the clock a step; at step {@code
   * at} it also runs {@code then}.
   */
  private final class Busy implements Runnable {
    private final int steps;
    private final CountDownLatch done;
    private final int at;
    private final Runnable then;
    private int step;

    Busy(int steps, CountDownLatch done) {
      this(steps, done, 0, () -> {});
    }

    Busy(int steps, CountDownLatch done, int at, Runnable then) {
      this.steps = steps;
      this.done = done;
      this.at = at;
      this.then = then;
    }

    @Override
    public void run() {
      step++;
      clock.addAndGet(TICK_NANOS);
      events.add("tick " + step);
      if (step == at) {
        then.run();
      }
      if (step < steps) {
        pool.execute(this);
      } else {
        done.countDown();
      }
    }
  }
}
