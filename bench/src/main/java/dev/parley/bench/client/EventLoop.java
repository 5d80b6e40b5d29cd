package dev.parley.bench.client;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * One selector thread serving a share of the simulated users: it connects them, reads their sockets
 * and splits what arrives into lines, runs their protocol, and flushes what they have to send once
 * per iteration. Everything about a user happens on its loop's thread; other threads (the pacer,
 * the scenario's controller) hand work over with {@link #execute}, through a lock-free queue and at
 * most one {@code selector.wakeup()} per batch of tasks.
 */
public final class EventLoop {

  private static final int READ_BUFFER_BYTES = 64 * 1024;
  private static final long MAX_SELECT_MILLIS = 100;
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  private record Timer(long at, long order, Runnable task) implements Comparable<Timer> {
    @Override
    public int compareTo(Timer other) {
      int byTime = Long.compare(at, other.at);
      return byTime != 0 ? byTime : Long.compare(order, other.order);
    }
  }

  private final int index;
  private final Selector selector;
  private final Thread thread;
  private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean wakeupPending = new AtomicBoolean();
  private final ByteBuffer readBuffer = ByteBuffer.allocate(READ_BUFFER_BYTES);

  /** The TLS buffers of this loop's users, made with the first TLS connection. */
  private TlsChannel.Scratch tlsScratch;

  private final List<SimUser> dirty = new ArrayList<>();
  private final List<SimUser> users = new ArrayList<>();
  private final PriorityQueue<Timer> timers = new PriorityQueue<>();
  private final SplittableRandom random;
  private final Consumer<Throwable> failures;
  private long timerOrder;
  private long lines;
  private volatile long linesPublished;
  private long notices;
  private volatile long noticesPublished;
  private Traffic traffic = Traffic.NONE;
  private volatile boolean running = true;

  EventLoop(int index, long seed, Consumer<Throwable> failures) {
    this.index = index;
    this.random = new SplittableRandom(seed);
    this.failures = failures;
    try {
      this.selector = Selector.open();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open a selector", e);
    }
    this.thread = new Thread(this::run, "parley-bench-loop-" + index);
    thread.setDaemon(true);
  }

  /** This loop's position among the fleet's loops, for per-loop state. */
  public int index() {
    return index;
  }

  /** The users this loop serves (loop thread only, once the fleet is built). */
  public List<SimUser> users() {
    return users;
  }

  /** This loop's random numbers (loop thread only). */
  public SplittableRandom random() {
    return random;
  }

  /** The traffic its users' frames go to (loop thread only). */
  public Traffic traffic() {
    return traffic;
  }

  /** Sets the traffic (loop thread only; see {@link Fleet#install}). */
  public void traffic(Traffic traffic) {
    this.traffic = traffic;
  }

  /** Runs {@code task} on this loop's thread soon; callable from any thread. */
  public void execute(Runnable task) {
    tasks.add(task);
    // One wakeup per batch: the loop clears the flag before it drains the queue.
    if (!wakeupPending.getAndSet(true)) {
      selector.wakeup();
    }
  }

  /** Runs {@code task} on this loop's thread after {@code delayNanos} (loop thread only). */
  public void schedule(long delayNanos, Runnable task) {
    timers.add(new Timer(MonotonicClock.now() + delayNanos, timerOrder++, task));
  }

  /** CPU time this loop's thread has used. */
  public long cpuNanos() {
    long nanos = THREADS.getThreadCpuTime(thread.getId());
    return Math.max(nanos, 0);
  }

  /** Lines other than heartbeats this loop's users have received, as of its last iteration. */
  public long linesReceived() {
    return linesPublished;
  }

  /** One more line other than a heartbeat received (loop thread only). */
  void lineReceived() {
    lines++;
  }

  /** Presence notices ({@code user-logged-in}, {@code -out}) received, as of its last iteration. */
  public long noticesReceived() {
    return noticesPublished;
  }

  /** One more presence notice received (loop thread only). */
  void noticeReceived() {
    notices++;
  }

  Selector selector() {
    return selector;
  }

  /** The buffers this loop's TLS connections share (loop thread only). */
  TlsChannel.Scratch tlsScratch(TlsDialer dialer) {
    if (tlsScratch == null) {
      tlsScratch = dialer.newScratch();
    }
    return tlsScratch;
  }

  void add(SimUser user) {
    users.add(user);
  }

  void start() {
    thread.start();
  }

  /** Stops the loop and waits briefly for its thread. */
  void stop() {
    running = false;
    selector.wakeup();
    try {
      thread.join(TimeUnit.SECONDS.toMillis(2));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** A user has bytes to send: flushed at the end of this iteration, with everything else. */
  void markDirty(SimUser user) {
    dirty.add(user);
  }

  private void run() {
    try {
      while (running) {
        long timeout = millisUntilNextTimer();
        if (!tasks.isEmpty() || timeout == 0) {
          selector.selectNow(this::onReady);
        } else {
          selector.select(this::onReady, timeout);
        }
        wakeupPending.set(false);
        runTasks();
        runDueTimers();
        flushDirty();
        // Published once per iteration rather than per line: a volatile write has a cost.
        linesPublished = lines;
        noticesPublished = notices;
      }
    } catch (IOException e) {
      throw new UncheckedIOException("selector failed", e);
    } finally {
      for (SelectionKey key : selector.keys()) {
        try {
          key.channel().close();
        } catch (IOException e) {
          // Closing anyway.
        }
      }
      try {
        selector.close();
      } catch (IOException e) {
        // Closing anyway.
      }
    }
  }

  private void onReady(SelectionKey key) {
    SimUser user = (SimUser) key.attachment();
    try {
      if (key.isConnectable()) {
        user.onConnectable();
      }
      if (key.isValid() && key.isReadable()) {
        user.onReadable(readBuffer);
      }
      if (key.isValid() && key.isWritable()) {
        user.flush();
      }
    } catch (CancelledKeyException e) {
      // Closed while this key was being handled.
    } catch (IOException e) {
      user.broken(e);
    } catch (RuntimeException e) {
      failures.accept(e);
      user.broken(e);
    }
  }

  private void runTasks() {
    for (Runnable task = tasks.poll(); task != null; task = tasks.poll()) {
      runGuarded(task);
    }
  }

  private void runDueTimers() {
    long now = MonotonicClock.now();
    while (!timers.isEmpty() && timers.peek().at() <= now) {
      runGuarded(timers.poll().task());
    }
  }

  /** A bug in a task must not stop the loop silently: the fleet reports it and the run fails. */
  private void runGuarded(Runnable task) {
    try {
      task.run();
    } catch (RuntimeException e) {
      failures.accept(e);
    }
  }

  private long millisUntilNextTimer() {
    if (timers.isEmpty()) {
      return MAX_SELECT_MILLIS;
    }
    long nanos = timers.peek().at() - MonotonicClock.now();
    if (nanos <= 0) {
      return 0;
    }
    return Math.min(MAX_SELECT_MILLIS, Math.max(1, TimeUnit.NANOSECONDS.toMillis(nanos)));
  }

  private void flushDirty() {
    // A flush may fail and close its user, which never adds to this list.
    for (int i = 0; i < dirty.size(); i++) {
      dirty.get(i).flush();
    }
    dirty.clear();
  }
}
