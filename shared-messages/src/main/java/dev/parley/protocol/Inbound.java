package dev.parley.protocol;

/**
 * What the inbound side of a connection yields for each line: a frame, or the reason the line is
 * not one. Bad input is a value rather than a stream failure so that the receiving actor can answer
 * it with an error frame and carry on (or close the connection politely).
 *
 * @param <T> the frame family expected on this connection
 */
public sealed interface Inbound<T> {

  /** A line that decoded into a frame. */
  record Frame<T>(T frame) implements Inbound<T> {}

  /** A line that is not valid JSON, lacks a required field, or has a field of the wrong type. */
  record Malformed<T>(String reason) implements Inbound<T> {}

  /** A line whose {@code type} is not part of this frame family. */
  record UnknownType<T>(String type) implements Inbound<T> {}

  /**
   * A line longer than the connection's frame limit. It is always the last element: the framing
   * cannot find the next frame boundary reliably, so the connection must close (the receiver closes
   * it, after saying why).
   */
  record Oversized<T>(int limitBytes) implements Inbound<T> {}
}
