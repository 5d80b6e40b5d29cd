package dev.parley.protocol;

/**
 * Turns what a connection's transport delivers (a TCP connection's bytes, a WebSocket's decoded
 * messages) into the frames its owner handles, one at a time, so that a stage can ask for more
 * input only when no frame is left. After an {@link Inbound.Oversized} frame no more frames come,
 * and what is offered is dropped: the owner closes the connection once it has told the peer why.
 * One per connection; not thread-safe.
 *
 * @param <I> what the transport delivers
 * @param <T> the frame family expected on the connection
 */
public interface Framer<I, T> {

  /** Takes what the transport delivered; asked for only when {@link #next} has returned null. */
  void offer(I input);

  /** The next frame, or null when none is complete yet (or, after {@link #end}, none is left). */
  Inbound<T> next();

  /** The input has ended: a last frame without its delimiter counts now. */
  void end();
}
