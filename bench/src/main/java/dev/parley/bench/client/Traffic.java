package dev.parley.bench.client;

/**
 * What a scenario does with the frames its logged-in users receive, apart from what every user does
 * itself (ignore presence, acknowledge messages, notice goodbyes). Called on the user's loop
 * thread, one frame at a time; an implementation keeps whatever it counts per loop or in
 * thread-safe counters.
 */
@FunctionalInterface
public interface Traffic {

  /** Before and between measured phases: nothing is measured. */
  Traffic NONE = (user, type, line, from, to) -> {};

  /** A frame for a logged-in user: its type, and the line as {@code line[from, to)}. */
  void onFrame(SimUser user, FrameType type, byte[] line, int from, int to);

  /**
   * A {@code message-received} that the user had already received on an earlier connection (its
   * {@code seq} is not above what it had then), sent again because it was not acknowledged. The
   * user does not pass it on as a message; a traffic may check it.
   */
  default void onResent(SimUser user, byte[] line, int from, int to) {}
}
