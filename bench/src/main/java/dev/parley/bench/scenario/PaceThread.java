package dev.parley.bench.scenario;

import dev.parley.bench.client.MonotonicClock;
import java.util.concurrent.locks.LockSupport;

/**
 * The scheduler of an offered rate: every millisecond it asks its {@link Pacer} which sends have
 * fallen due and hands them, as a numbered batch, to the traffic, which spreads them over the
 * loops. It does no I/O itself.
 */
final class PaceThread extends Thread {

  /** Receives batches of due sends: numbers {@code first .. first + count - 1}. */
  @FunctionalInterface
  interface Dispatcher {
    void dispatch(long first, int count);
  }

  private static final long TICK_NANOS = 1_000_000;

  private final Pacer pacer;
  private final Dispatcher dispatcher;
  private volatile boolean stopped;

  PaceThread(Pacer pacer, Dispatcher dispatcher) {
    super("parley-bench-pacer");
    setDaemon(true);
    this.pacer = pacer;
    this.dispatcher = dispatcher;
  }

  @Override
  public void run() {
    while (!stopped && !pacer.finished()) {
      LockSupport.parkNanos(TICK_NANOS);
      long count = pacer.due(MonotonicClock.now());
      if (count > 0) {
        dispatcher.dispatch(pacer.batchFirst(), (int) count);
      }
    }
  }

  /** Stops early (the run is being abandoned). */
  void halt() {
    stopped = true;
  }

  /** Sends skipped because this thread was scheduled late (read after it ended). */
  long skipped() {
    return pacer.skipped();
  }
}
