package dev.parley.server.registry;

import akka.actor.typed.ActorRef;
import dev.parley.protocol.ServerMessage;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * The replies owed to each sender of messages, released in the order of its messages. A connection
 * may have several messages in flight, answered at different times (an error found at once, a
 * store's commit, another node's owner of the recipient); the protocol promises its client the
 * answers in the order of its commands, so none may overtake the answers owed before it.
 *
 * <p>Not thread-safe: one per actor.
 *
 * @param <K> what identifies an answer that is owed (unique per sender among those outstanding)
 */
final class RepliesInOrder<K> {

  /** A reply owed to a sender: known at once (an error), or once its key is answered. */
  private static final class Owed<K> {
    private final K key;
    private ServerMessage reply;

    Owed(K key, ServerMessage reply) {
      this.key = key;
      this.reply = reply;
    }
  }

  private final Map<ActorRef<ServerMessage>, ArrayDeque<Owed<K>>> owed = new HashMap<>();

  /** {@code sender} will be answered for {@code key}, after what it is owed already. */
  void expect(ActorRef<ServerMessage> sender, K key) {
    owed.computeIfAbsent(sender, s -> new ArrayDeque<>()).addLast(new Owed<>(key, null));
  }

  /** Answers {@code sender} now, or after the answers it is still owed for earlier messages. */
  void inTurn(ActorRef<ServerMessage> sender, ServerMessage reply) {
    ArrayDeque<Owed<K>> waiting = owed.get(sender);
    if (waiting == null) {
      sender.tell(reply);
    } else {
      waiting.addLast(new Owed<>(null, reply));
    }
  }

  /** Settles the reply owed for {@code key} and sends every reply now due, in order. */
  void answer(ActorRef<ServerMessage> sender, K key, ServerMessage reply) {
    ArrayDeque<Owed<K>> waiting = owed.get(sender);
    if (waiting == null) {
      sender.tell(reply);
      return;
    }
    for (Owed<K> entry : waiting) {
      if (key.equals(entry.key) && entry.reply == null) {
        entry.reply = reply;
        break;
      }
    }
    while (!waiting.isEmpty() && waiting.peekFirst().reply != null) {
      sender.tell(waiting.pollFirst().reply);
    }
    if (waiting.isEmpty()) {
      owed.remove(sender);
    }
  }

  /** Forgets what {@code sender} is owed (it has gone: nobody reads the answers). */
  void forget(ActorRef<ServerMessage> sender) {
    owed.remove(sender);
  }
}
