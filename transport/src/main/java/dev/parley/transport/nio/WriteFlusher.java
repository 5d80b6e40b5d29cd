package dev.parley.transport.nio;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;

/**
 * When the connections' due writes go out: once the streams' thread that would run them has nothing
 * else queued, or once the oldest has waited {@code holdNanos}, whichever comes first; all of them
 * together.
 *
 * <p>Why wait at all: a write is a system call, and a reader's read is another. While the server
 * keeps up, its threads run dry between bursts of work and each write goes out at the end of the
 * burst that made it. When it falls behind, they never run dry, and the frames of the next bursts
 * (the next broadcasts of a fanout) join the writes still due, so each system call, and each read
 * of the client's, carries several. That is the gathering Akka IO's TCP gets from its late
 * acknowledgements under load, without its round trip when there is no load (issue 11, sixteenth
 * round, docs/performance.md). The hold bounds the latency it may add. Direct messages keep a
 * worker busy even at moderate rates (sessions, the registry, the store's replies), so their writes
 * would wait the hold too, for nothing (their p99 rose by up to the hold): a write that carries a
 * connection's own frames may not wait ({@link WriteMark}), and the flush it is due in goes out on
 * its first turn, with every write then due (the seventeenth round).
 *
 * <p>"Nothing else queued" is the local queue of the fork-join worker that runs the flusher: Akka's
 * dispatchers queue an actor's turn there when a message to it is sent from that thread, so the
 * work of a burst lands there, and the flusher, queued behind it, comes round once it is done. On
 * any other executor it flushes on its first turn.
 *
 * <p>Thread-safe: the streams of many connections mark their writes due from several threads.
 */
final class WriteFlusher {

  private final long holdNanos;
  private final LongSupplier nanoClock;

  /** The writes due; each connection has at most one here at a time. */
  private final Queue<Runnable> due = new ConcurrentLinkedQueue<>();

  /** A flush is queued on {@link #executor}. */
  private final AtomicBoolean queued = new AtomicBoolean();

  private volatile Executor executor;

  /** When the first of the writes due was marked. */
  private volatile long firstDueAt;

  /** A write due may not wait: the next flush goes out on its first turn. */
  private volatile boolean expedited;

  private final Runnable flush = this::flush;

  /**
   * @param holdNanos the longest a write waits for the streams' threads to run dry
   * @param nanoClock the time, as {@link System#nanoTime()}
   */
  WriteFlusher(long holdNanos, LongSupplier nanoClock) {
    if (holdNanos < 0) {
      throw new IllegalArgumentException("the hold must not be negative: " + holdNanos);
    }
    this.holdNanos = holdNanos;
    this.nanoClock = nanoClock;
  }

  /**
   * Marks a connection's write due: {@code write} runs with the next flush, queued on {@code
   * executor} if none is. If it may not wait ({@link WriteMark}), that flush holds nothing back.
   */
  void due(Runnable write, Executor executor, boolean mayWait) {
    if (!mayWait) {
      expedited = true;
    }
    due.add(write);
    if (queued.compareAndSet(false, true)) {
      firstDueAt = nanoClock.getAsLong();
      this.executor = executor;
      executor.execute(flush);
    }
  }

  /** A write already due now holds bytes that may not wait: the next flush holds nothing back. */
  void expedite() {
    expedited = true;
  }

  private void flush() {
    if (!expedited && queuedBehind() && nanoClock.getAsLong() - firstDueAt < holdNanos) {
      executor.execute(flush);
      return;
    }
    // Cleared first: a write marked due from here on queues the next flush, even if this one
    // happens to take it.
    expedited = false;
    queued.set(false);
    Runnable write;
    while ((write = due.poll()) != null) {
      write.run();
    }
  }

  /** Work is queued on this fork-join worker, which runs it before a flush queued after it. */
  private static boolean queuedBehind() {
    return Thread.currentThread() instanceof ForkJoinWorkerThread
        && ForkJoinTask.getQueuedTaskCount() > 0;
  }
}
