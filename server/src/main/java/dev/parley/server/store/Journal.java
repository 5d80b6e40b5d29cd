package dev.parley.server.store;

import akka.Done;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;

/**
 * The single writer of the server's durable state. Changes are applied in the order they are
 * recorded, in batches: while one batch is being written (on the store's dispatcher, never on this
 * actor's thread), the changes that arrive wait, and go together in the next transaction. That is
 * group commit: under load, one commit covers many messages; when idle, a change is written at
 * once.
 *
 * <p>A stored message is acknowledged to its recorder ({@link Recorded}) only after its transaction
 * has committed. If a write fails, the messages in it are reported {@link Store.Outcome#FAILED}
 * (their senders are told to send again) and so are the messages recorded until the database is
 * back; the other changes are kept, up to a bound, and written when it is. While the database is
 * down, a retry (an empty transaction if nothing else waits) probes it every {@code retry-delay}.
 */
public final class Journal extends AbstractBehavior<Journal.Command> {

  /** What the journal understands. */
  public sealed interface Command {}

  /** Record a change; {@code replyTo} (may be null) hears how it went once it is durable. */
  public record Record(Change change, ActorRef<Recorded> replyTo) implements Command {}

  /** Answers once everything recorded before it has been written (or has failed). */
  public record Flush(ActorRef<Done> replyTo) implements Command {}

  /**
   * Reply to {@link Record}: what became of the recorder's changes once written (or given up on),
   * in the order they were recorded; one reply covers all of them in one transaction.
   */
  public record Recorded(List<Outcome> outcomes) {
    public Recorded {
      outcomes = List.copyOf(outcomes);
    }

    /** What became of one change. */
    public record Outcome(Change change, Store.Outcome outcome) {}
  }

  private record BatchWritten(List<Record> batch, List<Store.Outcome> outcomes, long startedNanos)
      implements Command {}

  private record BatchFailed(List<Record> batch, Throwable cause) implements Command {}

  private enum RetryDue implements Command {
    INSTANCE
  }

  private enum PauseOver implements Command {
    INSTANCE
  }

  private enum PurgeDue implements Command {
    INSTANCE
  }

  private record Purged(int count, Throwable failure) implements Command {}

  private static final String RETRY_TIMER = "retry";
  private static final String PAUSE_TIMER = "pause";
  private static final String PURGE_TIMER = "purge";
  private static final java.time.Duration FIRST_PURGE = java.time.Duration.ofMinutes(1);

  /**
   * @param store where to write
   * @param executor the store's dispatcher, where the blocking writes run
   */
  public static Behavior<Command> create(
      Store store, Executor executor, StoreSettings settings, Clock clock) {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers -> new Journal(context, timers, store, executor, settings, clock)));
  }

  private final TimerScheduler<Command> timers;
  private final Store store;
  private final Executor executor;
  private final StoreSettings settings;
  private final Clock clock;
  private final ArrayDeque<Record> pending = new ArrayDeque<>();
  private final List<ActorRef<Done>> flushWaiters = new ArrayList<>();
  private boolean writing;

  /** Just committed: what arrives now waits for the pause to end, or for a full batch. */
  private boolean pausing;

  /** After a failed write: the database is presumed down until a retry succeeds. */
  private boolean unavailable;

  private Journal(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      Store store,
      Executor executor,
      StoreSettings settings,
      Clock clock) {
    super(context);
    this.timers = timers;
    this.store = store;
    this.executor = executor;
    this.settings = settings;
    this.clock = clock;
    // Soon after start (a server restarted often must purge too), then twice per retention period.
    timers.startTimerWithFixedDelay(
        PURGE_TIMER, PurgeDue.INSTANCE, FIRST_PURGE, settings.messageRetention().dividedBy(2));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Record.class, this::onRecord)
        .onMessage(BatchWritten.class, this::onBatchWritten)
        .onMessage(BatchFailed.class, this::onBatchFailed)
        .onMessage(Flush.class, this::onFlush)
        .onMessage(RetryDue.class, due -> writeNextBatch())
        .onMessage(PauseOver.class, over -> onPauseOver())
        .onMessage(PurgeDue.class, due -> onPurgeDue())
        .onMessage(Purged.class, this::onPurged)
        .build();
  }

  private Behavior<Command> onRecord(Record record) {
    if (unavailable && record.change() instanceof Change.MessageAppended) {
      // Fail fast while the database is down: the sender keeps the message and sends it again.
      fail(record);
      return this;
    }
    if (pending.size() >= settings.maxPendingChanges()) {
      getContext()
          .getLog()
          .error(
              "journal full, change dropped pending={} change={}", pending.size(), record.change());
      fail(record);
      return this;
    }
    pending.addLast(record);
    if (pausing && pending.size() >= settings.maxBatch()) {
      // A full batch gains nothing from waiting.
      timers.cancel(PAUSE_TIMER);
      pausing = false;
    }
    return writing || pausing || unavailable ? this : writeNextBatch();
  }

  private Behavior<Command> onPauseOver() {
    pausing = false;
    return writing ? this : writeNextBatch();
  }

  private Behavior<Command> writeNextBatch() {
    if (pending.isEmpty() && !unavailable) {
      writing = false;
      answerFlushWaiters();
      return this;
    }
    List<Record> batch = new ArrayList<>(Math.min(pending.size(), settings.maxBatch()));
    while (!pending.isEmpty() && batch.size() < settings.maxBatch()) {
      batch.add(pending.pollFirst());
    }
    List<Change> changes = new ArrayList<>(batch.size());
    batch.forEach(record -> changes.add(record.change()));
    writing = true;
    long started = System.nanoTime();
    getContext()
        .pipeToSelf(
            StoreCalls.supply(() -> store.apply(changes), executor),
            (outcomes, failure) ->
                failure == null
                    ? new BatchWritten(batch, outcomes, started)
                    : new BatchFailed(batch, failure));
    return this;
  }

  private Behavior<Command> onBatchWritten(BatchWritten written) {
    getContext()
        .getLog()
        .debug(
            "batch written changes={} micros={} waiting={}",
            written.batch().size(),
            (System.nanoTime() - written.startedNanos()) / 1000,
            pending.size());
    if (unavailable) {
      unavailable = false;
      getContext().getLog().info("store available again");
    }
    answer(written.batch(), written.outcomes());
    if (settings.commitPause().isZero() || pending.size() >= settings.maxBatch()) {
      return writeNextBatch();
    }
    // A commit costs about the same whatever it holds: under a light load, waiting a moment lets
    // the next one carry many changes instead of a few, for a fraction of the CPU.
    writing = false;
    pausing = true;
    timers.startSingleTimer(PAUSE_TIMER, PauseOver.INSTANCE, settings.commitPause());
    answerFlushWaiters();
    return this;
  }

  private Behavior<Command> onBatchFailed(BatchFailed failed) {
    Throwable cause =
        failed.cause().getCause() != null ? failed.cause().getCause() : failed.cause();
    getContext()
        .getLog()
        .error(
            "store write failed, retrying in {} changes={} cause={}",
            settings.retryDelay(),
            failed.batch().size(),
            cause.toString());
    unavailable = true;
    writing = false;
    // Messages are answered now (their senders will send them again); other changes wait.
    List<Record> retry = new ArrayList<>();
    for (Record record : failed.batch()) {
      if (record.change() instanceof Change.MessageAppended) {
        fail(record);
      } else {
        retry.add(record);
      }
    }
    for (int i = retry.size() - 1; i >= 0; i--) {
      pending.addFirst(retry.get(i));
    }
    pending.removeIf(
        record -> {
          if (record.change() instanceof Change.MessageAppended) {
            fail(record);
            return true;
          }
          return false;
        });
    answerFlushWaiters();
    timers.startSingleTimer(RETRY_TIMER, RetryDue.INSTANCE, settings.retryDelay());
    return this;
  }

  private Behavior<Command> onFlush(Flush flush) {
    flushWaiters.add(flush.replyTo());
    if (!writing) {
      answerFlushWaiters();
    }
    return this;
  }

  private Behavior<Command> onPurgeDue() {
    getContext()
        .pipeToSelf(
            StoreCalls.supply(
                () -> store.purgeAcknowledged(clock.instant().minus(settings.messageRetention())),
                executor),
            Purged::new);
    return this;
  }

  private Behavior<Command> onPurged(Purged purged) {
    if (purged.failure() != null) {
      getContext()
          .getLog()
          .warn("purge of acknowledged messages failed cause={}", purged.failure().toString());
    } else if (purged.count() > 0) {
      getContext().getLog().info("purged acknowledged messages count={}", purged.count());
    }
    return this;
  }

  /** Flush waiters are answered when nothing is in flight (written, or given up on). */
  private void answerFlushWaiters() {
    if (!writing && (pending.isEmpty() || unavailable)) {
      flushWaiters.forEach(waiter -> waiter.tell(Done.getInstance()));
      flushWaiters.clear();
    }
  }

  /**
   * Answers a written batch: one message per recorder, carrying its changes' outcomes in the order
   * they were recorded, rather than one message per change.
   */
  private static void answer(List<Record> batch, List<Store.Outcome> outcomes) {
    java.util.Map<ActorRef<Recorded>, List<Recorded.Outcome>> byRecorder =
        new java.util.LinkedHashMap<>();
    for (int i = 0; i < batch.size(); i++) {
      Record record = batch.get(i);
      if (record.replyTo() != null) {
        byRecorder
            .computeIfAbsent(record.replyTo(), recorder -> new ArrayList<>())
            .add(new Recorded.Outcome(record.change(), outcomes.get(i)));
      }
    }
    byRecorder.forEach((recorder, results) -> recorder.tell(new Recorded(results)));
  }

  private static void fail(Record record) {
    if (record.replyTo() != null) {
      record
          .replyTo()
          .tell(new Recorded(List.of(new Recorded.Outcome(record.change(), Store.Outcome.FAILED))));
    }
  }
}
