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

  private final int capacity;
  private final Supplier<String> newId;
  private final Map<String, Entry> entries = new LinkedHashMap<>();

  /** Messages whose "will be sent again" notice the user has already seen: one per message. */
  private final Set<String> retryNoticed = new HashSet<>();

  /** An outbox of at most {@code capacity} messages, with time-ordered UUIDs as ids. */
  Outbox(int capacity) {
    this(capacity, new TimeOrderedIds());
  }

  Outbox(int capacity, Supplier<String> newId) {
    this.capacity = capacity;
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

  /** Keeps a new message under a fresh id. */
  Entry add(String to, String text) {
    if (isFull()) {
      throw new IllegalStateException("the outbox is full (" + capacity + " messages)");
    }
    Entry entry = new Entry(newId.get(), to, text);
    entries.put(entry.id(), entry);
    return entry;
  }

  Optional<Entry> find(String id) {
    return id == null ? Optional.empty() : Optional.ofNullable(entries.get(id));
  }

  /** Forgets a message the server has accepted or refused for good; empty if it was not here. */
  Optional<Entry> remove(String id) {
    if (id == null) {
      return Optional.empty();
    }
    retryNoticed.remove(id);
    return Optional.ofNullable(entries.remove(id));
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
