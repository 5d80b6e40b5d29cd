package dev.parley.server.store;

import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs blocking store calls on a fixed number of threads, with a bounded queue in front of them:
 * when the queue is full, {@link #execute} throws {@link RejectedExecutionException} at once, and
 * {@link StoreCalls#supply} turns that into a failed future, which the caller answers with "busy".
 * A burst of logins against a slow database then costs a bounded amount of memory and gets a quick
 * answer, instead of queueing without end behind each other.
 *
 * <p>Not an Akka dispatcher: Akka's {@code thread-pool-executor} with a bounded {@code
 * task-queue-size} runs a rejected task on the caller's thread (its rejection policy is
 * caller-runs), which would make the actor that submitted it block on the database.
 *
 * <p>Threads are daemons, so that a forgotten executor never keeps the JVM alive; {@link
 * #shutdown()} still belongs in the server's shutdown, after the actors that submit to it.
 */
public final class BoundedExecutor implements Executor, AutoCloseable {

  private final ThreadPoolExecutor pool;

  /**
   * @param name prefix of the threads' names (name-1, name-2, ...), for thread dumps
   * @param threads how many calls run at once (for store reads: the read pool's connections)
   * @param queueCapacity how many calls may wait for a thread before further ones are rejected
   */
  public BoundedExecutor(String name, int threads, int queueCapacity) {
    if (threads <= 0 || queueCapacity <= 0) {
      throw new IllegalArgumentException("threads and queue capacity must be positive");
    }
    pool =
        new ThreadPoolExecutor(
            threads,
            threads,
            0,
            TimeUnit.MILLISECONDS,
            new ArrayBlockingQueue<>(queueCapacity),
            daemonThreads(name),
            new ThreadPoolExecutor.AbortPolicy());
  }

  /**
   * The executor for the store's reads: one thread per read connection (more would only wait for a
   * connection, holding a thread), and {@code read-queue} waiting calls.
   */
  public static BoundedExecutor forReads(StoreSettings settings) {
    return new BoundedExecutor("parley-store-read", settings.readPoolSize(), settings.readQueue());
  }

  /**
   * Runs {@code task} on one of the threads.
   *
   * @throws RejectedExecutionException when the queue is full, or after {@link #shutdown()}
   */
  @Override
  public void execute(Runnable task) {
    pool.execute(task);
  }

  /** Calls waiting for a thread. */
  public int queued() {
    return pool.getQueue().size();
  }

  /** Takes no more calls; those queued and running finish. */
  public void shutdown() {
    pool.shutdown();
  }

  /** Waits up to {@code timeout} for the calls to finish after {@link #shutdown()}. */
  public boolean awaitTermination(Duration timeout) throws InterruptedException {
    return pool.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  @Override
  public void close() {
    shutdown();
  }

  private static ThreadFactory daemonThreads(String name) {
    AtomicInteger count = new AtomicInteger();
    return task -> {
      Thread thread = new Thread(task, name + "-" + count.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    };
  }
}
