package dev.parley.server.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The executor in front of the store's reads: a fixed number of threads, a bounded queue, and a
 * quick refusal beyond it, which {@link StoreCalls#supply} turns into a failed future.
 */
class BoundedExecutorTest {

  private static final long WAIT_SECONDS = 10;

  private final CountDownLatch release = new CountDownLatch(1);
  private final CountDownLatch started = new CountDownLatch(1);
  private final BoundedExecutor executor = new BoundedExecutor("test-store-read", 1, 1);

  @AfterEach
  void shutdown() throws InterruptedException {
    release.countDown();
    executor.shutdown();
    assertTrue(executor.awaitTermination(Duration.ofSeconds(WAIT_SECONDS)));
  }

  @Test
  void shouldRejectACallWhenItsThreadsAreBusyAndItsQueueIsFull() throws Exception {
    CompletableFuture<String> running = StoreCalls.supply(this::blockUntilReleased, executor);
    assertTrue(started.await(WAIT_SECONDS, TimeUnit.SECONDS));
    CompletableFuture<String> queued = StoreCalls.supply(() -> "queued", executor);
    assertEquals(1, executor.queued());

    // Neither thrown at the caller (an actor) nor queued: failed at once.
    CompletableFuture<String> rejected = StoreCalls.supply(() -> "rejected", executor);

    assertTrue(rejected.isCompletedExceptionally());
    ExecutionException failure = assertThrows(ExecutionException.class, rejected::get);
    assertTrue(failure.getCause() instanceof RejectedExecutionException, failure.toString());
    assertTrue(StoreCalls.isRejected(failure));
    assertThrows(RejectedExecutionException.class, () -> executor.execute(() -> {}));

    release.countDown();
    assertEquals("ran", running.get(WAIT_SECONDS, TimeUnit.SECONDS));
    assertEquals("queued", queued.get(WAIT_SECONDS, TimeUnit.SECONDS));
    // Room again once the queue has drained.
    assertEquals(
        "again", StoreCalls.supply(() -> "again", executor).get(WAIT_SECONDS, TimeUnit.SECONDS));
  }

  @Test
  void shouldTellAStoreFailureFromARejection() {
    CompletableFuture<String> failed =
        StoreCalls.supply(
            () -> {
              throw new SQLException("no such table", "42P01");
            },
            executor);

    ExecutionException failure = assertThrows(ExecutionException.class, failed::get);
    assertTrue(failure.getCause() instanceof SQLException, failure.toString());
    assertFalse(StoreCalls.isRejected(failure));
  }

  @Test
  void shouldRunOnNamedDaemonThreadsAndRefuseCallsAfterShutdown() throws Exception {
    Thread thread =
        StoreCalls.supply(Thread::currentThread, executor).get(WAIT_SECONDS, TimeUnit.SECONDS);

    assertEquals("test-store-read-1", thread.getName());
    assertTrue(thread.isDaemon());
    executor.shutdown();
    assertTrue(
        StoreCalls.isRejected(
            assertThrows(
                ExecutionException.class, StoreCalls.supply(() -> "late", executor)::get)));
  }

  @Test
  void shouldRefuseNoThreadsOrNoQueue() {
    assertThrows(IllegalArgumentException.class, () -> new BoundedExecutor("x", 0, 1));
    assertThrows(IllegalArgumentException.class, () -> new BoundedExecutor("x", 1, 0));
  }

  private String blockUntilReleased() {
    started.countDown();
    try {
      assertTrue(release.await(WAIT_SECONDS, TimeUnit.SECONDS));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return "ran";
  }
}
