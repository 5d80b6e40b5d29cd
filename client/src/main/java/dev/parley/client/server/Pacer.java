package dev.parley.client.server;

import dev.parley.protocol.ClientMessage;
import dev.parley.protocol.CommandRate;
import dev.parley.protocol.TokenBucket;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * Keeps what the client sends on one connection to the rate the server announced in its hello
 * ({@code commandRate}), so that the server never has to refuse a frame as {@code rate-limited}.
 * Every frame but {@code ack} takes a token from a {@link TokenBucket} built from that rate, the
 * class the server counts with, on a monotonic clock in nanoseconds. Without an announced rate (an
 * older server, or one that does not limit) nothing is held back.
 *
 * <p>What waits for a token, and in which order:
 *
 * <ul>
 *   <li>Direct messages wait in the {@link Outbox}, as they do for its in-flight window, and are
 *       released one at a time as tokens come, in the order they were typed. Until the connection
 *       is logged in none is released.
 *   <li>Every other frame (the login frames, commands such as {@code whoelse} or {@code block},
 *       address requests for private chats, {@code activity} notes) waits in one first-in first-out
 *       queue, which goes ahead of the messages: a command typed while a pasted batch of messages
 *       drains is answered after one token, not after the batch. This is the order the in-flight
 *       window already gave (a command was never held behind messages waiting for it), so within
 *       each kind everything goes out as typed, and nothing faster than the rate.
 *   <li>The logout goes last, once nothing else waits ({@link #enqueueLast}).
 * </ul>
 *
 * <p>Why this design: it is the simplest that keeps every kind in typed order and never exceeds the
 * rate: one queue, one bucket, one timer, and no setting of its own. The queue needs no limit: the
 * session reads the next command line only once no frame but an activity note waits here ({@link
 * #holdsCommand()}), so at most one typed command waits at a time and a user or a script piping
 * commands is slowed to the server's rate instead of being refused; an activity note is not queued
 * behind another frame, which resets the server's idle timer no later than the note would; and the
 * private chats ask for one address per {@code startprivate} line already read. The timer is set
 * for when the next token is due ({@link #nextTurn}).
 *
 * <p>The frames sent on a connection before its rate is known (the hello, and the username that a
 * login after a reconnect sends right after it) count once the rate is announced, as the server
 * counted them. Nothing carries over from one connection to the next ({@link #reset()}): frames
 * still queued die with the connection, as those in flight do.
 *
 * <p>Not an actor and not thread-safe: the {@link ServerConnection} owns it and does the sending.
 */
final class Pacer {

  private static final long NANOS_PER_MILLI = Duration.ofMillis(1).toNanos();
  private static final double NANOS_PER_SECOND = Duration.ofSeconds(1).toNanos();

  private final LongSupplier nanoClock;
  private final Deque<ClientMessage> queue = new ArrayDeque<>();

  /** A frame to go once nothing else waits, messages included (the logout); null if none. */
  private ClientMessage last;

  /** The rate of the current connection; null while none is known (or the server has none). */
  private CommandRate rate;

  private TokenBucket bucket;

  /** Frames sent on the current connection while no rate was known. */
  private int sentUnpaced;

  /** Whether the current connection is logged in, so that direct messages may go. */
  private boolean loggedIn;

  /** Reads the time from {@code nanoClock}, monotonic, in nanoseconds. */
  Pacer(LongSupplier nanoClock) {
    this.nanoClock = nanoClock;
  }

  /**
   * The connection is gone or new: no rate is known, nothing is queued (returns how many frames
   * were dropped) and messages wait for the next login.
   */
  int reset() {
    int dropped = queue.size() + (last == null ? 0 : 1);
    queue.clear();
    last = null;
    rate = null;
    bucket = null;
    sentUnpaced = 0;
    loggedIn = false;
    return dropped;
  }

  /**
   * The server's hello: the rate it takes this connection's frames at, or null if it does not limit
   * them. The frames already sent on the connection take their tokens now.
   */
  void rateAnnounced(CommandRate announced) {
    rate = announced;
    if (announced == null) {
      bucket = null;
      return;
    }
    bucket = new TokenBucket(announced);
    long now = nanoClock.getAsLong();
    for (int i = 0; i < sentUnpaced; i++) {
      // More than a burst before the hello's answer: the server refused the rest itself.
      bucket.tryTake(now);
    }
  }

  /** The current connection's rate, if the server announced one. */
  Optional<CommandRate> rate() {
    return Optional.ofNullable(rate);
  }

  /** The current connection is logged in: direct messages may go from now on. */
  void loggedIn() {
    loggedIn = true;
  }

  /**
   * Queues a frame (anything but a direct message or an ack) to go out in order; false if it was
   * left out: an activity note behind another frame.
   */
  boolean enqueue(ClientMessage frame) {
    if (frame instanceof ClientMessage.NoteActivity && !queue.isEmpty()) {
      return false;
    }
    queue.add(frame);
    return true;
  }

  /**
   * Queues the frame that ends the connection's traffic (the logout): it goes once nothing else
   * waits, neither a queued frame nor a direct message that can go (those held behind a message the
   * server could not take do not count).
   */
  void enqueueLast(ClientMessage frame) {
    last = frame;
  }

  /** Whether a frame other than an activity note waits: the next command line waits for it. */
  boolean holdsCommand() {
    return loggedIn
        && queue.stream().anyMatch(frame -> !(frame instanceof ClientMessage.NoteActivity));
  }

  /** How many frames wait in the queue (direct messages aside). */
  int queued() {
    return queue.size();
  }

  /**
   * The next frame to send now, which has taken its token: the oldest queued one, else the next
   * direct message the outbox releases (once logged in); empty if nothing waits or the rate allows
   * nothing more now.
   */
  Optional<ClientMessage> next(Outbox outbox) {
    if (!somethingDue(outbox) || !take()) {
      return Optional.empty();
    }
    if (!queue.isEmpty()) {
      return Optional.of(queue.remove());
    }
    Optional<ClientMessage> message =
        loggedIn ? outbox.releaseNext().map(Outbox.Entry::frame) : Optional.empty();
    if (message.isPresent()) {
      return message;
    }
    ClientMessage frame = last;
    last = null;
    return Optional.of(frame);
  }

  /**
   * How long until the rate allows the next frame, if one waits for it: in whole milliseconds,
   * rounded up, so that a timer set for it never fires before the token is there.
   */
  Optional<Duration> nextTurn(Outbox outbox) {
    if (bucket == null || !somethingDue(outbox)) {
      return Optional.empty();
    }
    long nanos = bucket.delayNanos(nanoClock.getAsLong());
    return Optional.of(
        Duration.ofMillis(Math.max(1, (nanos + NANOS_PER_MILLI - 1) / NANOS_PER_MILLI)));
  }

  /**
   * At most how long the rate makes {@code frames} more frames wait, one token interval each (what
   * is left of a burst only makes it shorter); zero without a rate.
   */
  Duration timeFor(int frames) {
    if (rate == null) {
      return Duration.ZERO;
    }
    return Duration.ofNanos(Math.round(frames * NANOS_PER_SECOND / rate.perSecond()));
  }

  /** Whether a frame would go now if the rate allowed it. */
  private boolean somethingDue(Outbox outbox) {
    return !queue.isEmpty()
        || (loggedIn && outbox.canRelease())
        || (last != null && !(loggedIn && outbox.hasWaiting()));
  }

  private boolean take() {
    if (bucket == null) {
      sentUnpaced++;
      return true;
    }
    return bucket.tryTake(nanoClock.getAsLong());
  }
}
