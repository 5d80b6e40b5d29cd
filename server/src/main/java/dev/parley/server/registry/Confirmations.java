package dev.parley.server.registry;

import akka.actor.typed.ActorRef;
import dev.parley.protocol.ServerMessage;
import dev.parley.protocol.ServerMessage.Error.Code;
import dev.parley.server.store.Change;
import dev.parley.server.store.Journal;
import dev.parley.server.store.Store;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Changes other than messages that someone waits for, by identity, and what to do once the journal
 * has answered each: a block or unblock takes effect, and is confirmed, only once stored; a logout
 * is answered once stored. Shared by the standalone {@link UserRegistry} and a cluster's {@link
 * UserEntity}.
 *
 * <p>Not an actor and not thread-safe: each actor has its own.
 */
final class Confirmations {

  private final Map<Change, Consumer<Store.Outcome>> waiting = new IdentityHashMap<>();

  /** Once the journal has answered {@code change}, {@code then} runs with its outcome. */
  void expect(Change change, Consumer<Store.Outcome> then) {
    waiting.put(change, then);
  }

  /**
   * Once {@code change} is stored, {@code apply} applies it and returns the confirmation for {@code
   * reply}; if it could not be stored, nothing changes and the requester is told {@code
   * unavailable} about {@code command} on {@code target}.
   */
  void applyOnceStored(
      Change change,
      String command,
      String target,
      Supplier<ServerMessage> apply,
      Consumer<ServerMessage> reply) {
    waiting.put(
        change,
        outcome ->
            reply.accept(
                outcome == Store.Outcome.APPLIED
                    ? apply.get()
                    : new ServerMessage.Error(Code.UNAVAILABLE, command, target)));
  }

  /**
   * The journal's record of {@code change}: when {@code onStored} is given, it runs once the
   * journal has answered (whatever the outcome), and the answer goes to {@code recorded}; otherwise
   * no answer is wanted.
   */
  Journal.Record record(Change change, Runnable onStored, ActorRef<Journal.Recorded> recorded) {
    if (onStored == null) {
      return new Journal.Record(change, null);
    }
    expect(change, outcome -> onStored.run());
    return new Journal.Record(change, recorded);
  }

  /** The journal answered {@code change}: what waited for it runs, if anything did. */
  void recorded(Change change, Store.Outcome outcome) {
    Consumer<Store.Outcome> then = waiting.remove(change);
    if (then != null) {
      then.accept(outcome);
    }
  }

  /** Whether nothing waits for the journal. */
  boolean isEmpty() {
    return waiting.isEmpty();
  }
}
