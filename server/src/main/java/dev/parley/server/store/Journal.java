package dev.parley.server.store;

import akka.Done;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import dev.parley.protocol.WireText;
import dev.parley.server.metrics.Metrics;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;

/**
 * The single writer of the server's durable state. Changes are applied in the order they are
 * recorded, in batches: while one batch is being written (on the store's dispatcher, never on this
 * actor's thread), the changes that arrive wait, and go together in the next transaction. That is
 * group commit: under load, one commit covers many messages; when idle, a change is written at
 * once.
 *
 * <p>A change is answered to its recorder ({@link Recorded}) only after its transaction has
 * committed; a stored message's answer carries its row id. A change the database refuses because of
 * its data (a text it cannot hold) is found by {@link IsolatingWriter}, which writes the rest of
 * its batch without it: that change alone is answered {@link Store.Outcome#REFUSED}, and nobody
 * else notices.
 *
 * <p>Only an outage (the database unreachable, see {@link StoreFailures#isOutage}) makes the
 * journal <em>unavailable</em>: the changes of the failed write that someone waits for are answered
 * {@link Store.Outcome#FAILED} (their recorders retry or report it), and so is every change
 * recorded with a {@code replyTo} until the database is back; the changes nobody waits for are
 * kept, up to {@code max-pending-changes}, and written when it is. While the database is down, a
 * retry (an empty transaction if nothing else waits) probes it every {@code retry-delay}.
 *
 * <p>Memory is bounded in bytes too: the texts of the messages held (waiting or being written) may
 * not exceed {@code max-pending-bytes}; beyond it a new message is answered FAILED at once.
 *
 * <p>It also purges acknowledged messages older than the retention, in short chunks that interleave
 * with the batches (see {@link Store#purgeAcknowledged(Instant, long, int)}).
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

    /**
     * What became of one change.
     *
     * @param messageId the messages table's id of a {@link Store.Outcome#STORED} message (for
     *     {@link Store#readMessages}); 0 otherwise
     */
    public record Outcome(Change change, Store.Outcome outcome, long messageId) {

      /** An outcome without a message id. */
      public Outcome(Change change, Store.Outcome outcome) {
        this(change, outcome, 0);
      }
    }
  }

  private record BatchWritten(List<Entry> batch, IsolatingWriter.Written written, long startedNanos)
      implements Command {}

  /** The write did not even run (an error of the JVM, an executor that refused it). */
  private record BatchFailed(List<Entry> batch, Throwable cause) implements Command {}

  private enum RetryDue implements Command {
    INSTANCE
  }

  private enum PauseOver implements Command {
    INSTANCE
  }

  private enum PurgeDue implements Command {
    INSTANCE
  }

  /** The purge's next chunk, after the message id where the last one ended. */
  private record PurgeNext(long afterId) implements Command {}

  private record Purged(Store.PurgeChunk chunk, Throwable failure) implements Command {}

  /** A record held by the journal, with the bytes of its message's text (0 for other changes). */
  private record Entry(Record record, int bytes) {}

  private static final String RETRY_TIMER = "retry";
  private static final String PAUSE_TIMER = "pause";
  private static final String PURGE_TIMER = "purge";
  private static final Duration FIRST_PURGE = Duration.ofMinutes(1);

  /**
   * @param store where to write
   * @param executor the store's dispatcher, where the blocking writes run
   */
  public static Behavior<Command> create(
      Store store, Executor executor, StoreSettings settings, Clock clock) {
    return create(store, store::apply, executor, settings, clock);
  }

  /**
   * A journal whose batches go to {@code writes} instead of straight to {@code store} (the purge
   * still goes to the store): for tests that make the database fail.
   */
  static Behavior<Command> create(
      Store store,
      IsolatingWriter.Target writes,
      Executor executor,
      StoreSettings settings,
      Clock clock) {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers ->
                    new Journal(
                        context,
                        timers,
                        store,
                        new IsolatingWriter(writes),
                        executor,
                        settings,
                        clock)));
  }

  private final TimerScheduler<Command> timers;
  private final Store store;
  private final IsolatingWriter writer;
  private final Executor executor;
  private final StoreSettings settings;
  private final Clock clock;
  private final Metrics metrics;
  private final ArrayDeque<Entry> pending = new ArrayDeque<>();
  private final List<ActorRef<Done>> flushWaiters = new ArrayList<>();
  private boolean writing;

  /** Text bytes of the messages held: waiting in {@link #pending} or in the batch being written. */
  private long heldBytes;

  /** Messages refused for {@code max-pending-bytes} since the bound was reached (0: it was not). */
  private int refusedForBytes;

  /** Just committed: what arrives now waits for the pause to end, or for a full batch. */
  private boolean pausing;

  /** After an outage: the database is presumed down until a retry succeeds. */
  private boolean unavailable;

  /** A purge is under way (its chunks follow each other); null when none is. */
  private Instant purgeCutoff;

  private long purgedSoFar;
  private int purgeChunks;

  private Journal(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      Store store,
      IsolatingWriter writer,
      Executor executor,
      StoreSettings settings,
      Clock clock) {
    super(context);
    // Named for the class: detected from the stack, the name can come out as Akka's ActorCell,
    // whose level (WARN) then hides this actor's INFO lines.
    context.setLoggerName(Journal.class);
    this.timers = timers;
    this.store = store;
    this.writer = writer;
    this.executor = executor;
    this.settings = settings;
    this.clock = clock;
    this.metrics = Metrics.get(context.getSystem());
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
        .onMessage(PurgeNext.class, this::onPurgeNext)
        .onMessage(Purged.class, this::onPurged)
        .build();
  }

  private Behavior<Command> onRecord(Record record) {
    if (unavailable && record.replyTo() != null) {
      // Fail fast while the database is down: whoever waits hears it now (a sender keeps its
      // message and sends it again; a block or an ack is not confirmed), not after the outage.
      fail(record);
      return this;
    }
    int bytes =
        record.change() instanceof Change.MessageAppended appended
            ? WireText.encodedLength(appended.message().text())
            : 0;
    if (bytes > 0 && heldBytes + bytes > settings.maxPendingBytes()) {
      refuseForBytes(record);
      return this;
    }
    if (pending.size() >= settings.maxPendingChanges()) {
      getContext()
          .getLog()
          .error(
              "journal full, change dropped pending={} {}",
              pending.size(),
              Change.summary(record.change()));
      fail(record);
      return this;
    }
    if (refusedForBytes > 0 && bytes > 0) {
      getContext()
          .getLog()
          .info("journal takes messages again refused={} heldBytes={}", refusedForBytes, heldBytes);
      refusedForBytes = 0;
    }
    pending.addLast(new Entry(record, bytes));
    heldBytes += bytes;
    if (pausing && pending.size() >= settings.maxBatch()) {
      // A full batch gains nothing from waiting.
      timers.cancel(PAUSE_TIMER);
      pausing = false;
    }
    return writing || pausing || unavailable ? this : writeNextBatch();
  }

  /** Refuses a message for the byte bound; warns once per episode, not once per message. */
  private void refuseForBytes(Record record) {
    if (refusedForBytes == 0) {
      getContext()
          .getLog()
          .warn(
              "journal holds too many message bytes, refusing new messages heldBytes={}"
                  + " max-pending-bytes={} pending={}",
              heldBytes,
              settings.maxPendingBytes(),
              pending.size());
    }
    refusedForBytes++;
    fail(record);
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
    List<Entry> batch = new ArrayList<>(Math.min(pending.size(), settings.maxBatch()));
    while (!pending.isEmpty() && batch.size() < settings.maxBatch()) {
      batch.add(pending.pollFirst());
    }
    List<Change> changes = new ArrayList<>(batch.size());
    batch.forEach(entry -> changes.add(entry.record().change()));
    writing = true;
    long started = System.nanoTime();
    IsolatingWriter batchWriter = writer;
    getContext()
        .pipeToSelf(
            StoreCalls.supply(() -> batchWriter.write(changes), executor),
            (written, failure) ->
                failure == null
                    ? new BatchWritten(batch, written, started)
                    : new BatchFailed(batch, failure));
    return this;
  }

  private Behavior<Command> onBatchWritten(BatchWritten batchWritten) {
    List<Entry> batch = batchWritten.batch();
    IsolatingWriter.Written written = batchWritten.written();
    int done = written.results().size();
    answer(batch.subList(0, done), written.results());
    release(batch.subList(0, done));
    if (written.outage() != null) {
      return onOutage(batch.subList(done, batch.size()), written.outage());
    }
    long nanos = System.nanoTime() - batchWritten.startedNanos();
    metrics.journalBatch(batch.size(), nanos);
    getContext()
        .getLog()
        .debug(
            "batch written changes={} micros={} waiting={}",
            batch.size(),
            nanos / 1000,
            pending.size());
    if (unavailable) {
      unavailable = false;
      getContext().getLog().info("store available again");
    }
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
    // Not a verdict on the data (that is the writer's): treated as an outage, the safe side.
    return onOutage(failed.batch(), failed.cause());
  }

  /** {@code unwritten} could not be written because the database is out of reach. */
  private Behavior<Command> onOutage(List<Entry> unwritten, Throwable cause) {
    metrics.storeOutages.increment();
    getContext()
        .getLog()
        .error(
            "store write failed, retrying in {} changes={} cause={}",
            settings.retryDelay(),
            unwritten.size(),
            StoreFailures.describe(cause));
    unavailable = true;
    writing = false;
    // Whoever waits is answered now; changes nobody waits for are kept, in order, for the retry.
    List<Entry> retry = new ArrayList<>();
    for (Entry entry : unwritten) {
      if (entry.record().replyTo() != null) {
        failHeld(entry);
      } else {
        retry.add(entry);
      }
    }
    for (int i = retry.size() - 1; i >= 0; i--) {
      pending.addFirst(retry.get(i));
    }
    pending.removeIf(
        entry -> {
          if (entry.record().replyTo() != null) {
            failHeld(entry);
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

  // ---- purge ----

  private Behavior<Command> onPurgeDue() {
    if (purgeCutoff != null) {
      // The last purge is still going (a very long one, or a short retention): it will do.
      return this;
    }
    purgeCutoff = clock.instant().minus(settings.messageRetention());
    purgedSoFar = 0;
    purgeChunks = 0;
    return purgeChunk(0);
  }

  private Behavior<Command> onPurgeNext(PurgeNext next) {
    return purgeChunk(next.afterId());
  }

  private Behavior<Command> purgeChunk(long afterId) {
    Instant cutoff = purgeCutoff;
    int maxRows = settings.purgeChunk();
    getContext()
        .pipeToSelf(
            StoreCalls.supply(() -> store.purgeAcknowledged(cutoff, afterId, maxRows), executor),
            Purged::new);
    return this;
  }

  private Behavior<Command> onPurged(Purged purged) {
    purgeChunks++;
    if (purged.failure() != null) {
      getContext()
          .getLog()
          .warn(
              "purge of acknowledged messages failed count={} chunks={} cause={}",
              purgedSoFar,
              purgeChunks,
              StoreFailures.describe(purged.failure()));
      purgeCutoff = null;
      return this;
    }
    purgedSoFar += purged.chunk().deleted();
    if (!purged.chunk().done()) {
      // Through the mailbox rather than at once: the changes recorded meanwhile are taken (and
      // their batch handed to the store) before the next chunk is.
      getContext().getSelf().tell(new PurgeNext(purged.chunk().lastId()));
      return this;
    }
    if (purgedSoFar > 0) {
      getContext()
          .getLog()
          .info("purged acknowledged messages count={} chunks={}", purgedSoFar, purgeChunks);
    }
    purgeCutoff = null;
    return this;
  }

  // ---- answers ----

  /** Flush waiters are answered when nothing is in flight (written, or given up on). */
  private void answerFlushWaiters() {
    if (!writing && (pending.isEmpty() || unavailable)) {
      flushWaiters.forEach(waiter -> waiter.tell(Done.getInstance()));
      flushWaiters.clear();
    }
  }

  /**
   * Answers written changes: one message per recorder, carrying its changes' outcomes in the order
   * they were recorded, rather than one message per change.
   */
  private static void answer(List<Entry> written, List<Store.Result> results) {
    Map<ActorRef<Recorded>, List<Recorded.Outcome>> byRecorder = new LinkedHashMap<>();
    for (int i = 0; i < written.size(); i++) {
      Record record = written.get(i).record();
      if (record.replyTo() != null) {
        Store.Result result = results.get(i);
        byRecorder
            .computeIfAbsent(record.replyTo(), recorder -> new ArrayList<>())
            .add(new Recorded.Outcome(record.change(), result.outcome(), result.messageId()));
      }
    }
    byRecorder.forEach((recorder, outcomes) -> recorder.tell(new Recorded(outcomes)));
  }

  private void release(List<Entry> entries) {
    for (Entry entry : entries) {
      heldBytes -= entry.bytes();
    }
  }

  /** Fails a record the journal held (its bytes counted). */
  private void failHeld(Entry entry) {
    heldBytes -= entry.bytes();
    fail(entry.record());
  }

  private static void fail(Record record) {
    if (record.replyTo() != null) {
      record
          .replyTo()
          .tell(new Recorded(List.of(new Recorded.Outcome(record.change(), Store.Outcome.FAILED))));
    }
  }
}
