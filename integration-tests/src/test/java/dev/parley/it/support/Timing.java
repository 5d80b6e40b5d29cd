package dev.parley.it.support;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;

/** How soon things must happen: a bystander's command is answered promptly, attack or not. */
public final class Timing {

  /**
   * How soon a bystander's command must be answered while another user attacks the server: far more
   * than it takes (milliseconds), far less than a server that is stuck would need.
   */
  public static final Duration PROMPTLY = Duration.ofSeconds(3);

  private Timing() {}

  /**
   * Runs {@code exchange} (a command typed and its answer expected) and checks that it took no
   * longer than {@link #PROMPTLY}.
   */
  public static void promptly(String what, Runnable exchange) {
    long start = System.nanoTime();
    exchange.run();
    Duration took = Duration.ofNanos(System.nanoTime() - start);
    assertTrue(
        took.compareTo(PROMPTLY) <= 0,
        what + " took " + took.toMillis() + " ms, more than " + PROMPTLY.toMillis() + " ms");
  }
}
