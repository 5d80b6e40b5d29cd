package dev.parley.client.server;

import dev.parley.protocol.ClientMessage;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The direct messages the user has sent that the server has not accepted yet, oldest first. Each
 * gets a fresh id when it is typed and keeps it: sent again (after a lost connection, or after the
 * server could not store it), it carries the same id, so the server can tell it from a new message
 * and never stores or delivers it twice.
 *
 * <p>Paced: at most {@code window} messages are <em>in flight</em> (sent on the current connection
 * and not answered yet) at any time. A message typed while the window is full waits here, and
 * {@link #releaseNext()} hands out the oldest waiting one as answers free places (and, on a server
 * that limits its rate, as the {@link Pacer} has a token for it), so they go out in the order they
 * were typed. That keeps what a connection holds for the server bounded whatever the user queued
 * (after a reconnect, a thousand messages would otherwise be written at once into an outbound
 * buffer sized for a few dozen). A message the server could not take now ({@code unavailable},
 * {@code rate-limited}) is {@linkplain #hold held}: it frees its place and waits until its resend
 * is due ({@link #retry}).
 *
 * <p>Head of line: nothing typed after a held message is released before it, so the server takes a
 * user's messages in the order they were typed even when it refuses one for a while. (Messages
 * already in flight when one is refused cannot be called back; the order they are taken in is the
 * server's.)
 *
 * <p>Bounded: the caller checks {@link #isFull()} before {@link #add}. Not an actor and not
 * thread-safe: the {@link ServerConnection} owns it.
 */
final class Outbox {

  /** One message the server has not accepted yet. */
  record Entry(String id, String to, String text) {

    /** The frame that sends (or sends again) this message. */
    ClientMessage.SendMessage frame() {
      return new ClientMessage.SendMessage(to, text, id);
    }
  }

  /** Where a message is on its way to the server. */
  private enum State {
    /**
     * To be sent once it is the oldest waiting, no held message is older and the window has room.
     */
    WAITING,
    /** Sent on the current connection; its answer has not come yet. */
    IN_FLIGHT,
    /** The server could not take it now; sent again, before anything younger, once it is due. */
    HELD
  }

  private final int capacity;
  private final int window;
  private final Supplier<String> newId;
  private final Map<String, Entry> entries = new LinkedHashMap<>();
  private final Map<String, State> states = new LinkedHashMap<>();
  private int inFlight;

  /** Messages whose "will be sent again" notice the user has already seen: one per message. */
  private final Set<String> retryNoticed = new HashSet<>();

  /**
   * Messages the server refused for its rate and has not accepted since: while there are any, the
   * user has been told to expect a slower pace, once.
   */
  private final Set<String> slowedDown = new HashSet<>();

  /**
   * An outbox of at most {@code capacity} messages, {@code window} of them in flight, with
   * time-ordered UUIDs as ids.
   */
  Outbox(int capacity, int window) {
    this(capacity, window, new TimeOrderedIds());
  }

  Outbox(int capacity, int window, Supplier<String> newId) {
    if (capacity <= 0 || window <= 0) {
      throw new IllegalArgumentException("capacity and window must be positive");
    }
    this.capacity = capacity;
    this.window = window;
    this.newId = newId;
  }

  boolean isFull() {
    return entries.size() >= capacity;
  }

  boolean isEmpty() {
    return entries.isEmpty();
  }

  int size() {
    return entries.size();
  }

  /** Messages sent on the current connection and not answered yet. */
  int inFlight() {
    return inFlight;
  }

  /**
   * Whether some message waits to be sent ahead of any held one. Those behind a held message wait
   * for its resend, so while it is not due they do not count.
   */
  boolean hasWaiting() {
    for (State state : states.values()) {
      if (state == State.HELD) {
        return false;
      } else if (state == State.WAITING) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether {@link #releaseNext()} would hand out a message now: one waits and the window has room.
   */
  boolean canRelease() {
    return inFlight < window && hasWaiting();
  }

  /** Keeps a new message under a fresh id; it waits until {@link #releaseNext()} hands it out. */
  Entry add(String to, String text) {
    if (isFull()) {
      throw new IllegalStateException("the outbox is full (" + capacity + " messages)");
    }
    Entry entry = new Entry(newId.get(), to, text);
    entries.put(entry.id(), entry);
    states.put(entry.id(), State.WAITING);
    return entry;
  }

  /**
   * The oldest waiting message, if the window has room for it and no held message is older; it
   * counts as in flight from now on: the caller sends it.
   */
  Optional<Entry> releaseNext() {
    if (inFlight >= window) {
      return Optional.empty();
    }
    for (Map.Entry<String, State> state : states.entrySet()) {
      if (state.getValue() == State.HELD) {
        // Head of line: what was typed after it waits until it has gone again.
        return Optional.empty();
      } else if (state.getValue() == State.WAITING) {
        state.setValue(State.IN_FLIGHT);
        inFlight++;
        return Optional.of(entries.get(state.getKey()));
      }
    }
    return Optional.empty();
  }

  /**
   * The message in flight that an answer with this id is about. The server answers a connection's
   * commands in order, so an answer without an id is about the oldest message in flight.
   */
  Optional<Entry> answered(String id) {
    if (id == null) {
      return states.entrySet().stream()
          .filter(state -> state.getValue() == State.IN_FLIGHT)
          .findFirst()
          .map(state -> entries.get(state.getKey()));
    }
    return states.get(id) == State.IN_FLIGHT ? Optional.of(entries.get(id)) : Optional.empty();
  }

  Optional<Entry> find(String id) {
    return id == null ? Optional.empty() : Optional.ofNullable(entries.get(id));
  }

  /**
   * Forgets a message the server has accepted or refused for good, freeing its place in the window
   * if it was in flight; empty if it was not here.
   */
  Optional<Entry> remove(String id) {
    if (id == null || !entries.containsKey(id)) {
      return Optional.empty();
    }
    if (states.remove(id) == State.IN_FLIGHT) {
      inFlight--;
    }
    retryNoticed.remove(id);
    slowedDown.remove(id);
    return Optional.of(entries.remove(id));
  }

  /**
   * The server could not take this message now: it frees its place in the window, and neither it
   * nor any younger message is released until {@link #retry}; empty if it was not here.
   */
  Optional<Entry> hold(String id) {
    Optional<Entry> entry = find(id);
    entry.ifPresent(
        held -> {
          if (states.put(held.id(), State.HELD) == State.IN_FLIGHT) {
            inFlight--;
          }
        });
    return entry;
  }

  /**
   * The server refused this message for its rate: held as by {@link #hold}; true if that begins an
   * episode (no other message refused for the rate waits to be accepted), which the user is told
   * about once.
   */
  boolean holdForRate(String id) {
    if (hold(id).isEmpty()) {
      return false;
    }
    boolean first = slowedDown.isEmpty();
    slowedDown.add(id);
    return first;
  }

  /** The resend of a held message is due: it waits for a place again, ahead of younger ones. */
  void retry(String id) {
    states.replace(id, State.HELD, State.WAITING);
  }

  /**
   * The connection is gone, and with it every answer still due: nothing is in flight, and every
   * message (held ones too) waits to be sent again on the next connection, in order. The next
   * connection has a rate of its own: a refusal there begins a new episode.
   */
  void connectionLost() {
    states.replaceAll((id, state) -> State.WAITING);
    inFlight = 0;
    slowedDown.clear();
  }

  /** Whether the user is yet to be told that this message will be sent again (true only once). */
  boolean firstRetry(String id) {
    return entries.containsKey(id) && retryNoticed.add(id);
  }

  /** Every message not accepted yet, oldest first. */
  List<Entry> entries() {
    return List.copyOf(entries.values());
  }
}
