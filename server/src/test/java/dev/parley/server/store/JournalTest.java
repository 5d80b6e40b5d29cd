package dev.parley.server.store;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The journal writing to a real store (the embedded H2 database). Its transactions run on a {@link
 * ManualExecutor}: each waits until the test runs it, so a test decides exactly what is "in flight"
 * and counts the transactions, with no timing involved. The retry and purge timers run on {@link
 * ManualTime}.
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
        List.of(
            new Journal.Recorded.Outcome(second, Outcome.STORED),
            new Journal.Recorded.Outcome(third, Outcome.STORED)),
        recorded.expectMessageClass(Journal.Recorded.class).outcomes());
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
  void shouldFailMessagesKeepOtherChangesAndWriteThemWhenTheDatabaseIsBack() throws Exception {
    startJournal(100, 100);
    Change loggedIn = new Change.LoggedIn("hans", T0);
    record(loggedIn);
    executor.runNext();
    expectOutcome(loggedIn, Outcome.APPLIED);

    takeTablesAway();
    Change first = appended(1, "hans", "m-1");
    Change block = new Change.BlockAdded("luke", "yoda");
    Change second = appended(2, "yoda", "y-1");
    record(first);
    record(block);
    record(second);
    expectError("store write failed, retrying in PT1S changes=1", executor::runNext);

    // The messages are answered (their senders send them again); the block waits.
    expectOutcome(first, Outcome.FAILED);
    expectOutcome(second, Outcome.FAILED);
    // While the database is down, a message fails at once, without a transaction.
    int transactions = executor.submitted();
    Change third = appended(3, "hans", "m-3");
    record(third);
    expectOutcome(third, Outcome.FAILED);
    Change lockout = new Change.LockoutChanged("hans", 1, null);
    record(lockout);
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

    bringTablesBack();
    LoggingTestKit.info("store available again")
        .expect(
            testKit.system(),
            () -> {
              manualTime.timePasses(RETRY_DELAY);
              runNext();
              return null;
            });

    expectOutcome(block, Outcome.APPLIED);
    expectOutcome(lockout, Outcome.APPLIED);
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
    takeTablesAway();
    Change first = appended(1, "hans", "m-1");
    record(first);
    expectError("store write failed", executor::runNext);
    expectOutcome(first, Outcome.FAILED);
    bringTablesBack();

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
    // Other changes are held for when the database is back, which a flush does not wait for.
    record(new Change.LoggedIn("hans", T0));
    journal.tell(new Journal.Flush(flushed.ref()));
    flushed.expectMessage(Done.getInstance());
    recorded.expectNoMessage();
    assertEquals(1, executor.submitted());
  }

  @Test
  void shouldDropChangesBeyondMaxPendingWhileTheDatabaseIsDown() throws Exception {
    startJournal(100, 2);
    takeTablesAway();
    Change first = appended(1, "hans", "m-1");
    record(first);
    expectError("store write failed", executor::runNext);
    expectOutcome(first, Outcome.FAILED);
    Change kept1 = new Change.LoggedIn("hans", T0);
    Change kept2 = new Change.LoggedIn("yoda", T0);
    Change dropped = new Change.LoggedIn("luke", T0);
    record(kept1);
    record(kept2);

    expectError("journal full, change dropped pending=2 change=" + dropped, () -> record(dropped));

    expectOutcome(dropped, Outcome.FAILED);
    bringTablesBack();
    manualTime.timePasses(RETRY_DELAY);
    runNext();
    expectOutcome(kept1, Outcome.APPLIED);
    expectOutcome(kept2, Outcome.APPLIED);
    assertEquals(Set.of("hans", "yoda"), store.load(T0).lastLogouts().keySet());
  }

  @Disabled(
      "bug: a change the database refuses for itself (here a message text longer than the"
          + " body column's 65536 characters, possible when max-frame-bytes is raised above"
          + " 65536) is taken for an outage: every message in its batch fails, and every message"
          + " from anyone fails at once until the next retry; resent, it does it again")
  @Test
  void shouldRefuseOnlyAMessageTheDatabaseCannotTakeAndStayAvailable() throws Exception {
    startJournal(100, 100);
    Change first = new Change.LoggedIn("hans", T0);
    Change fine = appended(1, "hans", "m-1");
    Change tooLong =
        new Change.MessageAppended(
            new StoredMessage("luke", 2, "yoda", "y-1", "x".repeat(65_537), T0));
    record(first);
    record(fine);
    record(tooLong);
    executor.runNext();
    expectOutcome(first, Outcome.APPLIED);

    executor.runNext();

    expectOutcome(fine, Outcome.STORED);
    expectOutcome(tooLong, Outcome.FAILED);
    Change next = appended(3, "hans", "m-3");
    record(next);
    executor.runNext();
    expectOutcome(next, Outcome.STORED);
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

  // ---- helpers ----

  /** Outcomes received and not yet checked: the journal answers a batch in one message. */
  private final java.util.ArrayDeque<Journal.Recorded.Outcome> outcomes =
      new java.util.ArrayDeque<>();

  /** The next outcome the journal reported, whichever reply it came in, is this one. */
  private void expectOutcome(Change change, Outcome outcome) {
    if (outcomes.isEmpty()) {
      outcomes.addAll(recorded.receiveMessage().outcomes());
    }
    assertEquals(new Journal.Recorded.Outcome(change, outcome), outcomes.poll());
  }

  private void startJournal(int maxBatch, int maxPendingChanges) {
    StoreSettings settings = database.settings(maxBatch, RETRY_DELAY, maxPendingChanges, RETENTION);
    journal = testKit.spawn(Journal.create(store, executor, settings, clock));
  }

  private void startPausingJournal(int maxBatch, Duration pause) {
    StoreSettings base = database.settings(maxBatch, RETRY_DELAY, 100, RETENTION);
    StoreSettings settings =
        new StoreSettings(
            base.url(),
            base.user(),
            base.password(),
            base.dataDir(),
            base.poolSize(),
            base.connectTimeout(),
            base.maxBatch(),
            pause,
            base.retryDelay(),
            base.maxPendingChanges(),
            base.messageRetention());
    journal = testKit.spawn(Journal.create(store, executor, settings, clock));
  }

  private void record(Change change) {
    journal.tell(new Journal.Record(change, recorded.ref()));
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

  /**
   * The database stops accepting the journal's writes (as if it had gone away) while the store and
   * its connections stay as they are: the tables every change touches are renamed.
   */
  private void takeTablesAway() throws SQLException {
    execute("ALTER TABLE messages RENAME TO messages_away");
    execute("ALTER TABLE accounts RENAME TO accounts_away");
  }

  private void bringTablesBack() throws SQLException {
    execute("ALTER TABLE accounts_away RENAME TO accounts");
    execute("ALTER TABLE messages_away RENAME TO messages");
  }

  private void execute(String sql) throws SQLException {
    try (Connection c = store.dataSource().getConnection();
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
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
