package dev.parley.server;

import akka.actor.CoordinatedShutdown;
import java.util.List;
import java.util.function.Consumer;
import sun.misc.Signal;

/**
 * Stops a running node on the signals after which the JVM would exit (TERM, INT, HUP), by running
 * its coordinated shutdown before the JVM's exit begins, rather than from a JVM shutdown hook.
 *
 * <p>The JVM starts all its shutdown hooks at once, in no order. The embedded database has one of
 * its own (H2 closes every database at exit; it cannot be turned off while the admin command line's
 * {@code AUTO_SERVER} access is on), and it closed the database within milliseconds of a SIGTERM,
 * while the node's stop still had to write: the journal's batch in flight, the logins and
 * acknowledgements of the last moment, the sessions the stop interrupts. Those writes failed with
 * "Database is already closed" and were lost (the node's log showed it when it was stopped during a
 * login storm). Handled here, the signal runs the whole stop, which closes the store itself; only
 * then does the process exit, with the status the JVM would have given (128 plus the signal's
 * number), and H2's hook finds nothing left to close.
 *
 * <p>A signal the process was started with ignored (HUP under {@code nohup}, INT for a background
 * job) stays ignored: the JVM does not install a handler for it, here as for its own.
 */
final class StopSignals {

  /** The signals the JVM itself turns into an exit. */
  private static final List<String> NAMES = List.of("TERM", "INT", "HUP");

  /**
   * The exit status of a process ended by a signal, in the shells' convention: 128 + its number.
   */
  private static final int SIGNAL_EXIT_BASE = 128;

  private StopSignals() {}

  /** The coordinated shutdown's reason for a stop asked for by a signal. */
  record SignalReceived(String name, int number) implements CoordinatedShutdown.Reason {

    /** The exit status the JVM gives a process it ends on this signal. */
    int exitStatus() {
      return SIGNAL_EXIT_BASE + number;
    }
  }

  /**
   * From now on, the stop signals are handed to {@code stop} (on a thread of the JVM's, which it
   * must not hold) instead of making the JVM exit.
   */
  static void install(Consumer<SignalReceived> stop) {
    for (String name : NAMES) {
      try {
        Signal.handle(
            new Signal(name), signal -> stop.accept(new SignalReceived(name, signal.getNumber())));
      } catch (IllegalArgumentException unavailable) {
        // The JVM keeps this signal (-Xrs, or a platform without it): its own handling stands.
      }
    }
  }
}
