package dev.parley.server.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.Done;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.LoggingTestKit;
import akka.actor.testkit.typed.javadsl.ManualTime;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import dev.parley.server.store.Store.Outcome;
import dev.parley.server.testing.LogCapturingExtension;
import dev.parley.server.testing.ManualExecutor;
import dev.parley.server.testing.MutableClock;
import dev.parley.server.testing.TestDatabase;
import dev.parley.server.testing.TestKits;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The journal writing to a real store (the embedded H2 database). Its transactions run on a {@link
 * ManualExecutor}: each waits until the test runs it, so a test decides exactly what is "in flight"
 * and counts the transactions, with no timing involved. The retry and purge timers run on {@link
 * ManualTime}. An outage is a switch in front of the store that makes every write fail as a lost
 * connection does; a change the database refuses is a real one (a text too long for its column).
 */
@ExtendWith(LogCapturingExtension.class)
class JournalTest {

  private static final ActorTestKit testKit = TestKits.withManualTime();
  private static final ManualTime manualTime = ManualTime.get(testKit.system());

  private static final Instant T0 = Instant.parse("2030-05-04T12:00:00Z");
  private static final Duration RETRY_DELAY = Duration.ofSeconds(1);
  private static final Duration RETENTION = Duration.ofMinutes(10);

  /** The journal purges a minute after it starts (then every half retention). */
  private static final Duration FIRST_PURGE = Duration.ofMinutes(1);

  @TempDir Path dir;

  private TestDatabase database;
  private Store store;
  private ManualExecutor executor;
  private MutableClock clock;
  private TestProbe<Journal.Recorded> recorded;
  private TestProbe<Done> flushed;
  private ActorRef<Journal.Command> journal;

  /** While set, every write fails as if the connection to the database were lost. */
  private volatile boolean databaseDown;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void openStore() throws SQLException {
    database = TestDatabase.h2(dir);
    store = database.open();
    for (String user : List.of("hans", "yoda", "luke")) {
      store.addAccount(user, "hash-of-" + user, T0);
    }
    executor = new ManualExecutor();
    clock = new MutableClock(T0);
    recorded = testKit.createTestProbe(Journal.Recorded.class);
    flushed = testKit.createTestProbe(Done.class);
  }

  @AfterEach
  void stop() throws SQLException {
    if (journal != null) {
      testKit.stop(journal);
    }
    database.close();
  }

  // ---- writing ----

  @Test
  void shouldPauseAfterACommitSoThatTheNextCarriesWhatArrivedMeanwhile() throws Exception {
    startPausingJournal(100, Duration.ofMillis(5));
    Change first = appended(1, "hans", "m-1");
    record(first);
    executor.runNext();
    expectOutcome(first, Outcome.STORED);

    Change second = appended(2, "hans", "m-2");
    Change third = appended(3, "hans", "m-3");
    record(second);
    record(third);
    // Paused: the next transaction has not started.
    recorded.expectNoMessage();
    assertEquals(1, executor.submitted());

    manualTime.timePasses(Duration.ofMillis(5));
    executor.runNext();
    assertEquals(
        List.of(second, third),
        recorded.expectMessageClass(Journal.Recorded.class).outcomes().stream()
            .map(Journal.Recorded.Outcome::change)
            .toList());
    assertEquals(2, executor.submitted());
  }

  @Test
  void shouldNotPauseWhenAFullBatchIsWaiting() throws Exception {
    startPausingJournal(2, Duration.ofSeconds(10));
    Change first = appended(1, "hans", "m-1");
    record(first);
    executor.runNext();
    expectOutcome(first, Outcome.STORED);

    record(appended(2, "hans", "m-2"));
    record(appended(3, "hans", "m-3"));
    // Two waiting make a full batch: written at once, long before the pause would end.
    executor.runNext();
    assertEquals(2, recorded.expectMessageClass(Journal.Recorded.class).outcomes().size());
  }

  @Test
  void shouldAnswerARecordOnlyOnceItsTransactionHasCommitted() throws Exception {
    startJournal(100, 100);
    Change message = appended(1, "hans", "m-1");

    record(message);
    // The transaction is in flight: nothing is answered, nothing is in the database yet.
    recorded.expectNoMessage();
    assertEquals(List.of(), messagesInDatabase());

    executor.runNext();

    expectOutcome(message, Outcome.STORED);
    assertEquals(List.of("luke 1 hans m-1"), messagesInDatabase());
  }

  @Test
  void shouldAnswerEveryRecordWithItsOutcomeInTheOrderRecorded() throws Exception {
    startJournal(100, 100);
    Change stored = appended(1, "hans", "m-1");
    Change duplicate = appended(2, "hans", "m-1");
    Change noRecipient = new Change.MessageAppended(message("bob", 1, "hans", "m-2"));
    Change loggedIn = new Change.LoggedIn("hans", T0);

    record(stored);
    record(duplicate);
    record(noRecipient);
    record(loggedIn);
    journal.tell(new Journal.Record(new Change.LoggedIn("yoda", T0), null));
    executor.runNext();
    executor.runNext();

    expectOutcome(stored, Outcome.STORED);
    expectOutcome(duplicate, Outcome.DUPLICATE);
    expectOutcome(noRecipient, Outcome.NO_RECIPIENT);
    expectOutcome(loggedIn, Outcome.APPLIED);
    // A record without anyone to tell is written all the same.
    flush();
    recorded.expectNoMessage();
    assertEquals(Map.of("hans", T0, "yoda", T0), store.load(T0).lastLogouts());
  }

  @Test
  void shouldWriteWhatIsRecordedDuringATransactionTogetherInTheNext() throws Exception {
    startJournal(100, 100);
    List<Change> changes = new ArrayList<>();
    for (int seq = 1; seq <= 6; seq++) {
      changes.add(appended(seq, "hans", "m-" + seq));
    }
    changes.add(new Change.BlockAdded("luke", "yoda"));

    // The first starts a transaction at once; the other six wait for it to end.
    changes.forEach(this::record);
    executor.runNext();

    expectOutcome(changes.get(0), Outcome.STORED);
    assertEquals(List.of("luke 1 hans m-1"), messagesInDatabase());

    executor.runNext();
    // One answer for the whole transaction.
    assertEquals(6, recorded.expectMessageClass(Journal.Recorded.class).outcomes().size());
    flush();
    // Seven changes, two transactions.
    assertEquals(2, executor.submitted());
    assertEquals(6, messagesInDatabase().size());
    assertEquals(Map.of("luke", Set.of("yoda")), store.load(T0).blocks());
  }

  @Test
  void shouldWriteAtMostMaxBatchChangesInOneTransaction() throws Exception {
    startJournal(2, 100);

    for (int seq = 1; seq <= 5; seq++) {
      record(appended(seq, "hans", "m-" + seq));
    }
    executor.runNext();
    executor.runNext();
    executor.runNext();

    for (int seq = 1; seq <= 5; seq++) {
      expectOutcome(appended(seq, "hans", "m-" + seq), Outcome.STORED);
    }
    flush();
    // [1], then [2, 3] and [4, 5].
    assertEquals(3, executor.submitted());
  }

  @Test
  void shouldAnswerFlushOnceEverythingRecordedBeforeItIsWritten() throws Exception {
    startJournal(100, 100);
    journal.tell(new Journal.Flush(flushed.ref()));
    // Nothing to write: answered at once.
    flushed.expectMessage(Done.getInstance());

    record(appended(1, "hans", "m-1"));
    record(appended(2, "hans", "m-2"));
    journal.tell(new Journal.Flush(flushed.ref()));
    flushed.expectNoMessage();
    executor.runNext();
    expectOutcome(appended(1, "hans", "m-1"), Outcome.STORED);
    // The second message is being written now.
    flushed.expectNoMessage();

    executor.runNext();

    expectOutcome(appended(2, "hans", "m-2"), Outcome.STORED);
    flushed.expectMessage(Done.getInstance());
  }

  // ---- when the database fails ----

  @Test
  void shouldFailWhatIsWaitedForKeepTheRestAndWriteItWhenTheDatabaseIsBack() throws Exception {
    startJournal(100, 100);
    Change loggedIn = new Change.LoggedIn("hans", T0);
    record(loggedIn);
    executor.runNext();
    expectOutcome(loggedIn, Outcome.APPLIED);

    databaseGoesDown();
    Change first = appended(1, "hans", "m-1");
    Change block = new Change.BlockAdded("luke", "yoda");
    Change second = appended(2, "yoda", "y-1");
    Change unblock = new Change.BlockRemoved("hans", "luke");
    record(first);
    recordUnanswered(block);
    record(second);
    record(unblock);
    expectError("store write failed, retrying in PT1S changes=1", executor::runNext);

    // Whoever waits is answered (a sender sends again, a block is not confirmed); the block that
    // nobody waits for is kept.
    expectOutcome(first, Outcome.FAILED);
    expectOutcome(second, Outcome.FAILED);
    expectOutcome(unblock, Outcome.FAILED);
    // While the database is down, whatever is waited for fails at once, without a transaction.
    int transactions = executor.submitted();
    Change third = appended(3, "hans", "m-3");
    Change ack = new Change.Acknowledged("luke", 1);
    record(third);
    expectOutcome(third, Outcome.FAILED);
    record(ack);
    expectOutcome(ack, Outcome.FAILED);
    Change lockout = new Change.LockoutChanged("hans", 1, null);
    recordUnanswered(lockout);
    recorded.expectNoMessage();
    assertEquals(transactions, executor.submitted());

    // Still down at the first retry: the kept changes are kept again.
    expectError(
        "store write failed, retrying in PT1S changes=2",
        () -> {
          manualTime.timePasses(RETRY_DELAY);
          executor.runNext();
        });
    recorded.expectNoMessage();

    databaseComesBack();
    LoggingTestKit.info("store available again")
        .expect(
            testKit.system(),
            () -> {
              manualTime.timePasses(RETRY_DELAY);
              runNext();
              return null;
            });

    flush();
    StoreSnapshot snapshot = store.load(T0);
    assertEquals(Map.of("luke", Set.of("yoda")), snapshot.blocks());
    assertEquals(Map.of("hans", new StoreSnapshot.Lockout(1, null)), snapshot.lockouts());
    assertEquals(List.of(), messagesInDatabase());
    // Messages are taken again, and written.
    Change resent = appended(4, "hans", "m-1");
    record(resent);
    executor.runNext();
    expectOutcome(resent, Outcome.STORED);
  }

  @Test
  void shouldProbeTheDatabaseWithAnEmptyTransactionWhenNothingWaits() throws Exception {
    startJournal(100, 100);
    databaseGoesDown();
    Change first = appended(1, "hans", "m-1");
    record(first);
    expectError("store write failed", executor::runNext);
    expectOutcome(first, Outcome.FAILED);
    databaseComesBack();

    // Nothing but messages was recorded (and they were answered): the retry writes nothing, and
    // finds the database reachable.
    LoggingTestKit.info("store available again")
        .expect(
            testKit.system(),
            () -> {
              manualTime.timePasses(RETRY_DELAY);
              runNext();
              return null;
            });

    Change second = appended(2, "hans", "m-2");
    record(second);
    executor.runNext();
    expectOutcome(second, Outcome.STORED);
  }

  @Test
  void shouldFailEveryMessageOnceTheStoreIsClosedAndStillAnswerFlush() throws Exception {
    startJournal(100, 100);
    store.close();
    Change first = appended(1, "hans", "m-1");
    record(first);

    expectError("store write failed", executor::runNext);

    expectOutcome(first, Outcome.FAILED);
    Change second = appended(2, "hans", "m-2");
    record(second);
    expectOutcome(second, Outcome.FAILED);
    Change waitedFor = new Change.LoggedIn("yoda", T0);
    record(waitedFor);
    expectOutcome(waitedFor, Outcome.FAILED);
    // Changes nobody waits for are held for when the database is back, which a flush does not
    // wait for.
    recordUnanswered(new Change.LoggedIn("hans", T0));
    journal.tell(new Journal.Flush(flushed.ref()));
    flushed.expectMessage(Done.getInstance());
    recorded.expectNoMessage();
    assertEquals(1, executor.submitted());
  }

  @Test
  void shouldDropChangesBeyondMaxPendingWhileTheDatabaseIsDown() throws Exception {
    startJournal(100, 2);
    databaseGoesDown();
    Change first = appended(1, "hans", "m-1");
    record(first);
    expectError("store write failed", executor::runNext);
    expectOutcome(first, Outcome.FAILED);
    Change kept1 = new Change.LoggedIn("hans", T0);
    Change kept2 = new Change.LoggedIn("yoda", T0);
    Change dropped = new Change.LoggedIn("luke", T0);
    recordUnanswered(kept1);
    recordUnanswered(kept2);

    // The change's kind and user only: a dropped message's text must not reach the log.
    expectError(
        "journal full, change dropped pending=2 kind=LoggedIn user=luke",
        () -> recordUnanswered(dropped));

    databaseComesBack();
    manualTime.timePasses(RETRY_DELAY);
    runNext();
    flush();
    assertEquals(Set.of("hans", "yoda"), store.load(T0).lastLogouts().keySet());
  }

  // ---- changes the database refuses ----

  @Test
  void shouldRefuseOnlyAMessageTheDatabaseCannotTakeAndStayAvailable() throws Exception {
    startJournal(100, 100);
    Change first = new Change.LoggedIn("hans", T0);
    Change fine = appended(1, "hans", "m-1");
    // Longer than the body column's 65536 characters: possible when max-frame-bytes is raised.
    Change tooLong =
        new Change.MessageAppended(
            new StoredMessage("luke", 2, "yoda", "y-1", "x".repeat(65_537), T0));
    Change after = appended(3, "hans", "m-2");
    record(first);
    record(fine);
    record(tooLong);
    record(after);
    executor.runNext();
    expectOutcome(first, Outcome.APPLIED);

    LoggingTestKit.warn("store refused a change, answered refused kind=MessageAppended user=yoda")
        .expect(
            testKit.system(),
            () -> {
              runNext();
              return null;
            });

    expectOutcome(fine, Outcome.STORED);
    expectOutcome(tooLong, Outcome.REFUSED);
    expectOutcome(after, Outcome.STORED);
    // The journal stays available: the next message is written as usual.
    Change next = appended(4, "hans", "m-3");
    record(next);
    executor.runNext();
    expectOutcome(next, Outcome.STORED);
    assertEquals(
        List.of("luke 1 hans m-1", "luke 3 hans m-2", "luke 4 hans m-3"), messagesInDatabase());
  }

  @Test
  void shouldRefuseOnlyThePoisonedChangeOfAMixedBatchAndWriteTheRestInOrder() throws Exception {
    startJournal(100, 100);
    // The opener is written alone; what is recorded while it is in flight makes the next batch.
    Change opener = new Change.LoggedIn("luke", T0);
    record(opener);

    List<Change> batch = new ArrayList<>();
    for (int seq = 1; seq <= 5; seq++) {
      batch.add(appended(seq, "hans", "m-" + seq));
    }
    Change poison =
        new Change.MessageAppended(
            new StoredMessage("luke", 6, "yoda", "y-1", "y".repeat(65_537), T0));
    batch.add(poison);
    batch.add(new Change.BlockAdded("luke", "yoda"));
    for (int seq = 7; seq <= 9; seq++) {
      batch.add(appended(seq, "hans", "m-" + seq));
    }
    // The block is answered to whoever records it, after the messages before it.
    batch.add(new Change.Acknowledged("luke", 2));
    batch.forEach(this::record);
    executor.runNext();
    expectOutcome(opener, Outcome.APPLIED);

    // One task on the store's thread, however many transactions the isolation takes inside it.
    executor.runNext();
    assertEquals(2, executor.submitted());

    for (Change change : batch) {
      Outcome expected =
          change == poison
              ? Outcome.REFUSED
              : change instanceof Change.MessageAppended ? Outcome.STORED : Outcome.APPLIED;
      expectOutcome(change, expected);
    }
    assertEquals(
        List.of(
            "luke 1 hans m-1",
            "luke 2 hans m-2",
            "luke 3 hans m-3",
            "luke 4 hans m-4",
            "luke 5 hans m-5",
            "luke 7 hans m-7",
            "luke 8 hans m-8",
            "luke 9 hans m-9"),
        messagesInDatabase());
    StoreSnapshot snapshot = store.load(T0);
    assertEquals(Map.of("luke", Set.of("yoda")), snapshot.blocks());
    assertEquals(2L, snapshot.ackedSeqs().get("luke"));
    // Never unavailable: a message recorded next is written.
    Change next = appended(10, "hans", "m-10");
    record(next);
    executor.runNext();
    expectOutcome(next, Outcome.STORED);
  }

  @Test
  void shouldGiveTheRecorderTheRowIdOfEachStoredMessage() throws Exception {
    startJournal(100, 100);
    Change first = appended(1, "hans", "m-1");
    Change second = appended(2, "yoda", "y-1");
    Change duplicate = appended(3, "hans", "m-1");
    record(first);
    executor.runNext();
    long firstId = expectOutcome(first, Outcome.STORED).messageId();
    record(second);
    record(duplicate);
    executor.runNext();
    executor.runNext();
    long secondId = expectOutcome(second, Outcome.STORED).messageId();
    assertEquals(0, expectOutcome(duplicate, Outcome.DUPLICATE).messageId());

    assertTrue(firstId > 0 && secondId > firstId, firstId + " " + secondId);
    assertEquals(
        List.of(message("luke", 1, "hans", "m-1"), message("luke", 2, "yoda", "y-1")),
        store.readMessages("luke", new long[] {secondId, firstId}));
  }

  // ---- bounds ----

  @Test
  void shouldRefuseMessagesBeyondMaxPendingBytesAndWarnOncePerEpisode() throws Exception {
    // "text of m-1" is 11 bytes: one message fits, two do not.
    startJournal("max-pending-bytes = 20");
    Change first = appended(1, "hans", "m-1");
    record(first);
    // The first is being written (its bytes are held until it is answered).
    Change second = appended(2, "hans", "m-2");
    Change third = appended(3, "hans", "m-3");
    LoggingTestKit.warn(
            "journal holds too many message bytes, refusing new messages heldBytes=11"
                + " max-pending-bytes=20")
        .expect(
            testKit.system(),
            () -> {
              record(second);
              expectOutcome(second, Outcome.FAILED);
              record(third);
              expectOutcome(third, Outcome.FAILED);
              return null;
            });
    // Other changes are not held back by the texts' bound.
    Change block = new Change.BlockAdded("luke", "yoda");
    record(block);

    executor.runNext();
    expectOutcome(first, Outcome.STORED);
    // The block went on its own as soon as the first was written; the bytes are free again.
    Change fourth = appended(4, "hans", "m-4");
    LoggingTestKit.info("journal takes messages again refused=2")
        .expect(
            testKit.system(),
            () -> {
              record(fourth);
              return null;
            });
    executor.runNext();
    expectOutcome(block, Outcome.APPLIED);
    executor.runNext();
    expectOutcome(fourth, Outcome.STORED);
    assertEquals(List.of("luke 1 hans m-1", "luke 4 hans m-4"), messagesInDatabase());
  }

  // ---- purge ----

  @Test
  void shouldPurgeAcknowledgedMessagesOlderThanTheRetentionOnItsTimer() throws Exception {
    startJournal(100, 100);
    Instant old = T0.minus(RETENTION).minusSeconds(1);
    store.apply(
        List.of(
            new Change.MessageAppended(new StoredMessage("luke", 1, "hans", "m-1", "old", old)),
            new Change.MessageAppended(new StoredMessage("luke", 2, "hans", "m-2", "old", old)),
            new Change.MessageAppended(new StoredMessage("luke", 3, "hans", "m-3", "new", T0)),
            new Change.Acknowledged("luke", 3)));

    manualTime.timePasses(FIRST_PURGE.minusSeconds(1));
    assertEquals(0, executor.waiting());
    LoggingTestKit.info("purged acknowledged messages count=2")
        .expect(
            testKit.system(),
            () -> {
              manualTime.timePasses(Duration.ofSeconds(1));
              runNext();
              return null;
            });

    assertEquals(List.of("luke 3 hans m-3"), messagesInDatabase());
  }

  @Test
  void shouldPurgeInChunksThatLetRecordedChangesThrough() throws Exception {
    startJournal("purge-chunk = 2");
    Instant old = T0.minus(RETENTION).minusSeconds(1);
    List<Change> oldMessages = new ArrayList<>();
    for (int seq = 1; seq <= 5; seq++) {
      oldMessages.add(
          new Change.MessageAppended(
              new StoredMessage("luke", seq, "hans", "m-" + seq, "old", old)));
    }
    oldMessages.add(new Change.Acknowledged("luke", 5));
    store.apply(oldMessages);

    // The first chunk is due; a message is recorded before it has run.
    manualTime.timePasses(FIRST_PURGE);
    Change recent = appended(6, "yoda", "y-1");
    record(recent);
    // Chunk 1 (ids 1-2) runs, and asks for chunk 2 through the journal's mailbox...
    executor.runNext();
    assertEquals(List.of("luke 3", "luke 4", "luke 5"), seqsInDatabase());
    // ...behind the batch recorded meanwhile, which is written before the purge goes on.
    executor.runNext();
    expectOutcome(recent, Outcome.STORED);
    executor.runNext();
    assertEquals(List.of("luke 5", "luke 6"), seqsInDatabase());
    LoggingTestKit.info("purged acknowledged messages count=4 chunks=3")
        .expect(
            testKit.system(),
            () -> {
              runNext();
              return null;
            });

    // Three chunks and one batch. luke's 5 stays: a message at the recipient's cursor is never
    // purged (it may be their newest, whose seq their numbering goes on from).
    assertEquals(4, executor.submitted());
    assertEquals(0, executor.waiting());
    assertEquals(List.of("luke 5", "luke 6"), seqsInDatabase());
  }

  // ---- helpers ----

  /** The store's writes, failing as over a lost connection while the database is down. */
  private List<Store.Result> write(List<Change> changes) throws SQLException {
    if (databaseDown) {
      throw new SQLTransientConnectionException("connection lost (test)", "08006");
    }
    return store.apply(changes);
  }

  private void databaseGoesDown() {
    databaseDown = true;
  }

  private void databaseComesBack() {
    databaseDown = false;
  }

  /** Outcomes received and not yet checked: the journal answers a batch in one message. */
  private final java.util.ArrayDeque<Journal.Recorded.Outcome> outcomes =
      new java.util.ArrayDeque<>();

  /**
   * The next outcome the journal reported, whichever reply it came in, is this one (with a message
   * id for a stored message, and none otherwise); returns it.
   */
  private Journal.Recorded.Outcome expectOutcome(Change change, Outcome outcome) {
    if (outcomes.isEmpty()) {
      outcomes.addAll(recorded.receiveMessage().outcomes());
    }
    Journal.Recorded.Outcome received = outcomes.poll();
    assertEquals(change, received.change());
    assertEquals(outcome, received.outcome(), change.toString());
    assertEquals(outcome == Outcome.STORED, received.messageId() > 0, received.toString());
    return received;
  }

  private void startJournal(int maxBatch, int maxPendingChanges) {
    start(database.settings(maxBatch, RETRY_DELAY, maxPendingChanges, RETENTION));
  }

  /** A journal with these settings (HOCON), the others as {@link #startJournal(int, int)}'s. */
  private void startJournal(String overrides) {
    start(
        database.settings(
            "retry-delay = 1s\nmessage-retention = " + RETENTION.toMinutes() + "m\n" + overrides));
  }

  private void startPausingJournal(int maxBatch, Duration pause) {
    startJournal("max-batch = " + maxBatch + "\ncommit-pause = " + pause.toMillis() + "ms");
  }

  private void start(StoreSettings settings) {
    journal = testKit.spawn(Journal.create(store, this::write, executor, settings, clock));
  }

  private void record(Change change) {
    journal.tell(new Journal.Record(change, recorded.ref()));
  }

  /** Records a change nobody waits for (as the registry records logins and cursors). */
  private void recordUnanswered(Change change) {
    journal.tell(new Journal.Record(change, null));
  }

  private void flush() {
    journal.tell(new Journal.Flush(flushed.ref()));
    flushed.expectMessage(Done.getInstance());
  }

  /** {@link ManualExecutor#runNext()} for lambdas that may not throw checked exceptions. */
  private void runNext() {
    try {
      executor.runNext();
    } catch (InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }

  private interface Action {
    void run() throws Exception;
  }

  private void expectError(String text, Action action) {
    LoggingTestKit.error(text)
        .expect(
            testKit.system(),
            () -> {
              try {
                action.run();
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
              return null;
            });
  }

  private static StoredMessage message(String recipient, long seq, String sender, String id) {
    return new StoredMessage(recipient, seq, sender, id, "text of " + id, T0);
  }

  /** A message to luke. */
  private static Change appended(long seq, String sender, String id) {
    return new Change.MessageAppended(message("luke", seq, sender, id));
  }

  private List<String> seqsInDatabase() throws SQLException {
    return messagesInDatabase().stream()
        .map(row -> row.substring(0, row.indexOf(' ', row.indexOf(' ') + 1)))
        .toList();
  }

  private List<String> messagesInDatabase() throws SQLException {
    try (Connection c = store.dataSource().getConnection();
        PreparedStatement s =
            c.prepareStatement(
                "SELECT recipient, seq, sender, client_id FROM messages ORDER BY recipient, seq");
        ResultSet rows = s.executeQuery()) {
      List<String> result = new ArrayList<>();
      while (rows.next()) {
        result.add(
            rows.getString(1)
                + " "
                + rows.getLong(2)
                + " "
                + rows.getString(3)
                + " "
                + rows.getString(4));
      }
      return result;
    }
  }
}
