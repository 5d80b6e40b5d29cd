package dev.parley.transport;

import javax.net.ssl.SSLEngine;

/**
 * The tasks an {@link SSLEngine} hands out while it handshakes (checking a certificate, computing a
 * key), for every place that drives an engine: {@link TlsStage}, the generator's connections and
 * the tests' and benchmarks' engines driven by hand.
 */
public final class DelegatedTasks {

  private DelegatedTasks() {}

  /**
   * Runs the engine's delegated tasks on the calling thread, until it has none.
   *
   * @return whether there was any
   */
  public static boolean runAll(SSLEngine engine) {
    boolean ran = false;
    for (Runnable task = engine.getDelegatedTask();
        task != null;
        task = engine.getDelegatedTask()) {
      // Computation, not waiting: run in place rather than handed to another thread.
      task.run();
      ran = true;
    }
    return ran;
  }
}
