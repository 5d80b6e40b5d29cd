package dev.parley.server.login;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.LoggingTestKit;
import akka.actor.testkit.typed.javadsl.ManualTime;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.DispatcherSelector;
import dev.parley.protocol.CommandRate;
import dev.parley.server.ServerSettings;
import dev.parley.server.limits.AddressBuckets;
import dev.parley.server.limits.AddressRange;
import dev.parley.server.login.LoginGuard.Authenticate;
import dev.parley.server.login.LoginGuard.CheckUsername;
import dev.parley.server.login.LoginGuard.PasswordVerdict;
import dev.parley.server.login.LoginGuard.UsernameVerdict;
import dev.parley.server.store.BoundedExecutor;
import dev.parley.server.store.Change;
import dev.parley.server.store.Journal;
import dev.parley.server.store.Store;
import dev.parley.server.store.StoreSnapshot;
import dev.parley.server.testing.LogCapturingExtension;
import dev.parley.server.testing.MutableClock;
import dev.parley.server.testing.TestDatabase;
import dev.parley.server.testing.TestKits;
import java.net.InetAddress;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The login guard with real {@link Credentials} over a real store (the embedded H2 database) and
 * real password hashes (with few iterations, to keep the tests fast); a probe stands in for the
 * journal, so that the test sees every lockout change the guard records. Timers run on {@link
 * ManualTime}; the guard's clock, which dates the end of a block, is a {@link MutableClock}.
 */
@ExtendWith(LogCapturingExtension.class)
class LoginGuardTest {

  /** Where the tests' logins come from: exempt from nothing, since the limits are off. */
  private static final InetAddress CLIENT = InetAddress.getLoopbackAddress();

  private static final ActorTestKit testKit = TestKits.withManualTime();
  private static final ManualTime manualTime = ManualTime.get(testKit.system());

  private static final int MAX_FAILURES = 3;
  private static final Duration BLOCK_DURATION = Duration.ofSeconds(60);
  private static final LoginGuard.Settings SETTINGS =
      new LoginGuard.Settings(MAX_FAILURES, BLOCK_DURATION, null);
  private static final int ITERATIONS = 1_000;
  private static final Instant T0 = Instant.parse("2030-05-04T12:00:00Z");

  private static final String HANS_PASSWORD = "falcon*solo";
  private static final String YODA_PASSWORD = "wise@!man";

  @TempDir Path dir;

  private TestDatabase database;
  private Store store;
  private PasswordHasher hasher;
  private MutableClock clock;
  private TestProbe<Journal.Command> journal;
  private TestProbe<UsernameVerdict> usernameVerdicts;
  private TestProbe<PasswordVerdict> passwordVerdicts;
  private ActorRef<LoginGuard.Command> guard;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void openStore() throws SQLException {
    database = TestDatabase.h2(dir);
    store = database.open();
    hasher = new PasswordHasher(ITERATIONS);
    store.addAccount("hans", hasher.hash(HANS_PASSWORD), T0);
    store.addAccount("yoda", hasher.hash(YODA_PASSWORD), T0);
    clock = new MutableClock(T0);
    journal = testKit.createTestProbe(Journal.Command.class);
    usernameVerdicts = testKit.createTestProbe(UsernameVerdict.class);
    passwordVerdicts = testKit.createTestProbe(PasswordVerdict.class);
  }

  @AfterEach
  void stop() throws SQLException {
    if (guard != null) {
      testKit.stop(guard);
    }
    database.close();
  }

  // ---- usernames and passwords ----

  @Test
  void shouldAnswerUnknownUserForAUsernameWithoutAnAccount() {
    startGuard();

    guard.tell(new CheckUsername("bob", CLIENT, usernameVerdicts.ref()));
    usernameVerdicts.expectMessage(UsernameVerdict.UNKNOWN_USER);

    authenticate("bob", "anything", PasswordVerdict.UNKNOWN_USER);
    // An unknown username is not a failure of any account.
    journal.expectNoMessage();
  }

  @Test
  void shouldAuthenticateTheRightPasswordAndRecordNothing() {
    startGuard();

    authenticate("hans", HANS_PASSWORD, PasswordVerdict.AUTHENTICATED);

    // No failures to reset, and the hash is as strong as new ones: nothing to write.
    journal.expectNoMessage();
  }

  @Test
  void shouldSeeAnAccountAddedAfterItStarted() throws SQLException {
    startGuard();
    guard.tell(new CheckUsername("leia", CLIENT, usernameVerdicts.ref()));
    usernameVerdicts.expectMessage(UsernameVerdict.UNKNOWN_USER);

    store.addAccount("leia", hasher.hash("rebel-scum"), T0);

    checkUsername("leia", UsernameVerdict.PASSWORD_REQUIRED);
    authenticate("leia", "rebel-scum", PasswordVerdict.AUTHENTICATED);
  }

  @Test
  void shouldRecordEveryFailureAndTheBlockInTheJournal() {
    startGuard();

    authenticate("hans", "wrong-1", PasswordVerdict.INVALID_PASSWORD);
    expectLockoutRecorded("hans", 1, null);
    authenticate("hans", "wrong-2", PasswordVerdict.INVALID_PASSWORD);
    expectLockoutRecorded("hans", 2, null);
    LoggingTestKit.warn("login blocked user=hans failures=3 for=60s")
        .expect(
            testKit.system(),
            () -> {
              authenticate("hans", "wrong-3", PasswordVerdict.BLOCKED_NOW);
              return null;
            });

    // The block's end is recorded, not its length: a restart cannot extend it.
    expectLockoutRecorded("hans", 3, T0.plus(BLOCK_DURATION));
  }

  @Test
  void shouldResetTheFailureCountOnASuccessfulLogin() {
    startGuard();
    authenticate("hans", "wrong-1", PasswordVerdict.INVALID_PASSWORD);
    authenticate("hans", "wrong-2", PasswordVerdict.INVALID_PASSWORD);
    expectLockoutRecorded("hans", 1, null);
    expectLockoutRecorded("hans", 2, null);

    authenticate("hans", HANS_PASSWORD, PasswordVerdict.AUTHENTICATED);
    expectLockoutRecorded("hans", 0, null);

    // Two more failures would have blocked without the reset; the third after it does.
    authenticate("hans", "wrong-3", PasswordVerdict.INVALID_PASSWORD);
    authenticate("hans", "wrong-4", PasswordVerdict.INVALID_PASSWORD);
    authenticate("hans", "wrong-5", PasswordVerdict.BLOCKED_NOW);
  }

  @Test
  void shouldRefuseABlockedUsernameAtBothStepsEvenWithTheRightPassword() {
    startGuard();
    blockHans();

    guard.tell(new CheckUsername("hans", CLIENT, usernameVerdicts.ref()));
    usernameVerdicts.expectMessage(UsernameVerdict.BLOCKED);
    authenticate("hans", HANS_PASSWORD, PasswordVerdict.BLOCKED);
    authenticate("hans", "wrong", PasswordVerdict.BLOCKED);
    // Attempts on a blocked username change nothing.
    journal.expectNoMessage();
  }

  @Test
  void shouldCountFailuresPerUsernameWhicheverConnectionAsks() {
    startGuard();
    TestProbe<PasswordVerdict> firstConnection = testKit.createTestProbe();
    TestProbe<PasswordVerdict> secondConnection = testKit.createTestProbe();
    TestProbe<PasswordVerdict> thirdConnection = testKit.createTestProbe();

    guard.tell(new Authenticate("hans", "wrong-1", CLIENT, firstConnection.ref()));
    firstConnection.expectMessage(PasswordVerdict.INVALID_PASSWORD);
    guard.tell(new Authenticate("hans", "wrong-2", CLIENT, secondConnection.ref()));
    secondConnection.expectMessage(PasswordVerdict.INVALID_PASSWORD);
    guard.tell(new Authenticate("hans", "wrong-3", CLIENT, thirdConnection.ref()));
    thirdConnection.expectMessage(PasswordVerdict.BLOCKED_NOW);

    guard.tell(new Authenticate("hans", HANS_PASSWORD, CLIENT, firstConnection.ref()));
    firstConnection.expectMessage(PasswordVerdict.BLOCKED);
  }

  @Test
  void shouldLeaveOtherUsernamesUnaffected() {
    startGuard();
    authenticate("hans", "wrong-1", PasswordVerdict.INVALID_PASSWORD);
    authenticate("hans", "wrong-2", PasswordVerdict.INVALID_PASSWORD);
    // yoda's failure does not add to hans's count, nor hans's to yoda's.
    authenticate("yoda", "wrong-1", PasswordVerdict.INVALID_PASSWORD);
    authenticate("yoda", "wrong-2", PasswordVerdict.INVALID_PASSWORD);
    authenticate("hans", "wrong-3", PasswordVerdict.BLOCKED_NOW);

    checkUsername("yoda", UsernameVerdict.PASSWORD_REQUIRED);
    authenticate("yoda", YODA_PASSWORD, PasswordVerdict.AUTHENTICATED);
  }

  // ---- blocks end on time ----

  @Test
  void shouldLiftTheBlockAfterTheBlockDurationWithAFreshCount() {
    startGuard();
    blockHans();

    manualTime.timePasses(BLOCK_DURATION.minusSeconds(1));
    authenticate("hans", HANS_PASSWORD, PasswordVerdict.BLOCKED);
    journal.expectNoMessage();

    LoggingTestKit.info("login block expired user=hans")
        .expect(
            testKit.system(),
            () -> {
              manualTime.timePasses(Duration.ofSeconds(1));
              return null;
            });
    expectLockoutRecorded("hans", 0, null);
    checkUsername("hans", UsernameVerdict.PASSWORD_REQUIRED);
    // The count starts again from zero: two failures are allowed, the third blocks again.
    authenticate("hans", "wrong-4", PasswordVerdict.INVALID_PASSWORD);
    authenticate("hans", "wrong-5", PasswordVerdict.INVALID_PASSWORD);
    authenticate("hans", HANS_PASSWORD, PasswordVerdict.AUTHENTICATED);
  }

  @Test
  void shouldBlockAgainAfterAnExpiredBlockOnlyOnAFullNewRunOfFailures() {
    startGuard();
    blockHans();
    manualTime.timePasses(BLOCK_DURATION);

    authenticate("hans", "wrong-4", PasswordVerdict.INVALID_PASSWORD);
    authenticate("hans", "wrong-5", PasswordVerdict.INVALID_PASSWORD);
    authenticate("hans", "wrong-6", PasswordVerdict.BLOCKED_NOW);
  }

  // ---- after a restart ----

  @Test
  void shouldStillBlockAfterARestartAndLiftTheBlockWhenItWasDueToEnd() throws SQLException {
    startGuard();
    // What the journal would write: the guard's records, applied to the store.
    store.apply(blockHans());
    testKit.stop(guard);

    // The server comes back 20 s into the 60 s block.
    clock.set(T0.plusSeconds(20));
    startGuard(store.load(clock.instant()));

    guard.tell(new CheckUsername("hans", CLIENT, usernameVerdicts.ref()));
    usernameVerdicts.expectMessage(UsernameVerdict.BLOCKED);
    authenticate("hans", HANS_PASSWORD, PasswordVerdict.BLOCKED);
    manualTime.timePasses(Duration.ofSeconds(39));
    authenticate("hans", HANS_PASSWORD, PasswordVerdict.BLOCKED);
    journal.expectNoMessage();

    manualTime.timePasses(Duration.ofSeconds(1));

    expectLockoutRecorded("hans", 0, null);
    checkUsername("hans", UsernameVerdict.PASSWORD_REQUIRED);
    authenticate("hans", HANS_PASSWORD, PasswordVerdict.AUTHENTICATED);
  }

  @Test
  void shouldResumeABlockFromTheSnapshotAndEndItAtTheRecordedMoment() {
    clock.set(T0.plusSeconds(100));
    startGuard(
        snapshotWithLockouts(
            Map.of("hans", new StoreSnapshot.Lockout(MAX_FAILURES, T0.plusSeconds(130)))));

    authenticate("hans", HANS_PASSWORD, PasswordVerdict.BLOCKED);
    manualTime.timePasses(Duration.ofSeconds(29));
    authenticate("hans", HANS_PASSWORD, PasswordVerdict.BLOCKED);

    manualTime.timePasses(Duration.ofSeconds(1));

    expectLockoutRecorded("hans", 0, null);
    authenticate("hans", HANS_PASSWORD, PasswordVerdict.AUTHENTICATED);
  }

  @Test
  void shouldClearABlockThatEndedWhileTheServerWasDown() {
    clock.set(T0.plusSeconds(100));
    startGuard(
        snapshotWithLockouts(
            Map.of("hans", new StoreSnapshot.Lockout(MAX_FAILURES, T0.plusSeconds(99)))));

    expectLockoutRecorded("hans", 0, null);
    checkUsername("hans", UsernameVerdict.PASSWORD_REQUIRED);
    // With a fresh count.
    authenticate("hans", "wrong-1", PasswordVerdict.INVALID_PASSWORD);
    authenticate("hans", "wrong-2", PasswordVerdict.INVALID_PASSWORD);
    authenticate("hans", HANS_PASSWORD, PasswordVerdict.AUTHENTICATED);
  }

  @Test
  void shouldCarryOnCountingTheFailuresOfBeforeTheRestart() {
    startGuard(snapshotWithLockouts(Map.of("hans", new StoreSnapshot.Lockout(2, null))));
    // Nothing to clear at start.
    journal.expectNoMessage();

    authenticate("hans", "wrong-3", PasswordVerdict.BLOCKED_NOW);
    expectLockoutRecorded("hans", 3, T0.plus(BLOCK_DURATION));
    authenticate("yoda", "wrong-1", PasswordVerdict.INVALID_PASSWORD);
  }

  // ---- hashes ----

  @Test
  void shouldRehashAPasswordStoredWithFewerIterationsWhenItsOwnerLogsIn() throws SQLException {
    String weakHash = new PasswordHasher(ITERATIONS / 2).hash(HANS_PASSWORD);
    store.setPasswordHash("hans", weakHash);
    startGuard();

    authenticate("hans", HANS_PASSWORD, PasswordVerdict.AUTHENTICATED);

    Journal.Record record = journal.expectMessageClass(Journal.Record.class);
    assertNull(record.replyTo());
    Change.PasswordRehashed rehashed = (Change.PasswordRehashed) record.change();
    assertEquals("hans", rehashed.user());
    assertNotEquals(weakHash, rehashed.passwordHash());
    assertTrue(hasher.verify(HANS_PASSWORD, rehashed.passwordHash()));
    assertFalse(hasher.needsRehash(rehashed.passwordHash()));
    assertFalse(rehashed.toString().contains(rehashed.passwordHash()), rehashed.toString());

    // Once written, the next login finds nothing to do.
    store.apply(List.of(rehashed));
    authenticate("hans", HANS_PASSWORD, PasswordVerdict.AUTHENTICATED);
    journal.expectNoMessage();
  }

  @Test
  void shouldNotRehashOnAWrongPassword() throws SQLException {
    store.setPasswordHash("hans", new PasswordHasher(ITERATIONS / 2).hash(HANS_PASSWORD));
    startGuard();

    authenticate("hans", "wrong-1", PasswordVerdict.INVALID_PASSWORD);

    expectLockoutRecorded("hans", 1, null);
    journal.expectNoMessage();
  }

  // ---- the store ----

  @Test
  void shouldAnswerUnavailableWhenTheStoreCannotBeRead() {
    startGuard();
    store.close();

    LoggingTestKit.warn("password check failed user=hans")
        .expect(
            testKit.system(),
            () -> {
              authenticate("hans", HANS_PASSWORD, PasswordVerdict.UNAVAILABLE);
              return null;
            });
    // Not the user's failure: nothing counted.
    journal.expectNoMessage();

    // The username step says so at once: no password is asked for that cannot be checked.
    LoggingTestKit.warn("account lookup failed user=hans")
        .expect(
            testKit.system(),
            () -> {
              guard.tell(new CheckUsername("hans", CLIENT, usernameVerdicts.ref()));
              usernameVerdicts.expectMessage(UsernameVerdict.BUSY);
              return null;
            });
  }

  // ---- bounded work and per-address limits ----

  @Test
  void shouldAnswerBusyWhenTooManyPasswordChecksAreWaiting() {
    // No thread, and no room to wait: the check is refused at once rather than queued.
    BoundedExecutor full = new BoundedExecutor("full", 1, 1);
    java.util.concurrent.CountDownLatch hold = new java.util.concurrent.CountDownLatch(1);
    try {
      full.execute(() -> awaitQuietly(hold));
      full.execute(() -> {});
      guard =
          testKit.spawn(
              LoginGuard.create(
                  new Credentials(store, executor(ServerSettings.STORE_DISPATCHER), hasher, full),
                  journal.ref(),
                  SETTINGS,
                  Map.of(),
                  clock));

      authenticate("hans", HANS_PASSWORD, PasswordVerdict.BUSY);
      journal.expectNoMessage();
    } finally {
      hold.countDown();
      full.shutdown();
    }
  }

  @Test
  void shouldLimitLoginAttemptsPerAddressAcrossUsernamesButNotExemptAddresses() throws Exception {
    InetAddress attacker = InetAddress.getByName("192.0.2.66");
    InetAddress neighbour = InetAddress.getByName("192.0.2.67");
    InetAddress exempt = InetAddress.getByName("10.1.2.3");
    startGuard(
        new LoginGuard.Settings(
            MAX_FAILURES,
            BLOCK_DURATION,
            new AddressBuckets(
                new CommandRate(1, 3), List.of(AddressRange.parse("10.0.0.0/8")), 1000)),
        StoreSnapshot.empty());

    // A burst of three attempts, whatever the usernames...
    guard.tell(new CheckUsername("bob", attacker, usernameVerdicts.ref()));
    usernameVerdicts.expectMessage(UsernameVerdict.UNKNOWN_USER);
    guard.tell(new CheckUsername("leia", attacker, usernameVerdicts.ref()));
    usernameVerdicts.expectMessage(UsernameVerdict.UNKNOWN_USER);
    guard.tell(new Authenticate("yoda", "guess", attacker, passwordVerdicts.ref()));
    passwordVerdicts.expectMessage(PasswordVerdict.INVALID_PASSWORD);
    journal.receiveMessage();
    // ...then refused, without a lookup or a hash, and without counting against yoda.
    guard.tell(new Authenticate("yoda", "guess", attacker, passwordVerdicts.ref()));
    passwordVerdicts.expectMessage(PasswordVerdict.RATE_LIMITED);
    guard.tell(new CheckUsername("hans", attacker, usernameVerdicts.ref()));
    usernameVerdicts.expectMessage(UsernameVerdict.RATE_LIMITED);
    journal.expectNoMessage();

    // Another address has its own budget, and an exempt one has none.
    guard.tell(new CheckUsername("bob", neighbour, usernameVerdicts.ref()));
    usernameVerdicts.expectMessage(UsernameVerdict.UNKNOWN_USER);
    for (int i = 0; i < 10; i++) {
      guard.tell(new CheckUsername("bob", exempt, usernameVerdicts.ref()));
      usernameVerdicts.expectMessage(UsernameVerdict.UNKNOWN_USER);
    }

    // The bucket refills with time.
    clock.advance(Duration.ofSeconds(1));
    guard.tell(new CheckUsername("bob", attacker, usernameVerdicts.ref()));
    usernameVerdicts.expectMessage(UsernameVerdict.UNKNOWN_USER);
  }

  @Test
  void shouldLiftALockoutAtOnceWhenAnAdministratorChangesThePassword() {
    startGuard();
    blockHans();
    authenticate("hans", HANS_PASSWORD, PasswordVerdict.BLOCKED);

    guard.tell(new LoginGuard.LiftLockout("hans"));

    authenticate("hans", HANS_PASSWORD, PasswordVerdict.AUTHENTICATED);
    // And the old block's timer no longer fires to undo anything.
    manualTime.timePasses(BLOCK_DURATION);
    journal.expectNoMessage();
  }

  private static void awaitQuietly(java.util.concurrent.CountDownLatch latch) {
    try {
      latch.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Test
  void shouldNeverShowThePassword() {
    startGuard();
    Authenticate authenticate =
        new Authenticate("hans", HANS_PASSWORD, CLIENT, passwordVerdicts.ref());
    assertFalse(authenticate.toString().contains(HANS_PASSWORD), authenticate.toString());

    LoggingTestKit.messageContains("wrong-secret")
        .withOccurrences(0)
        .expect(
            testKit.system(),
            () -> {
              authenticate("hans", "wrong-secret", PasswordVerdict.INVALID_PASSWORD);
              authenticate("hans", "wrong-secret", PasswordVerdict.INVALID_PASSWORD);
              authenticate("hans", "wrong-secret", PasswordVerdict.BLOCKED_NOW);
              return null;
            });
  }

  // ---- helpers ----

  private void startGuard() {
    startGuard(StoreSnapshot.empty());
  }

  private void startGuard(StoreSnapshot snapshot) {
    startGuard(SETTINGS, snapshot);
  }

  private void startGuard(LoginGuard.Settings settings, StoreSnapshot snapshot) {
    Credentials credentials =
        new Credentials(
            store,
            executor(ServerSettings.STORE_DISPATCHER),
            hasher,
            executor(ServerSettings.STORE_DISPATCHER));
    guard =
        testKit.spawn(
            LoginGuard.create(credentials, journal.ref(), settings, snapshot.lockouts(), clock));
  }

  private static Executor executor(String dispatcher) {
    return testKit.system().dispatchers().lookup(DispatcherSelector.fromConfig(dispatcher));
  }

  private static StoreSnapshot snapshotWithLockouts(Map<String, StoreSnapshot.Lockout> lockouts) {
    StoreSnapshot empty = StoreSnapshot.empty();
    return new StoreSnapshot(
        empty.usernames(),
        empty.blocks(),
        empty.lastLogouts(),
        lockouts,
        empty.lastSeqs(),
        empty.ackedSeqs(),
        empty.pending(),
        empty.resumptions());
  }

  private void authenticate(String username, String password, PasswordVerdict expected) {
    guard.tell(new Authenticate(username, password, CLIENT, passwordVerdicts.ref()));
    passwordVerdicts.expectMessage(expected);
  }

  /** Three wrong passwords for hans; returns the changes the guard recorded meanwhile. */
  private List<Change> blockHans() {
    authenticate("hans", "wrong-1", PasswordVerdict.INVALID_PASSWORD);
    authenticate("hans", "wrong-2", PasswordVerdict.INVALID_PASSWORD);
    authenticate("hans", "wrong-3", PasswordVerdict.BLOCKED_NOW);
    List<Change> recorded =
        journal.receiveSeveralMessages(MAX_FAILURES).stream()
            .map(command -> ((Journal.Record) command).change())
            .toList();
    assertEquals(
        List.of(
            new Change.LockoutChanged("hans", 1, null),
            new Change.LockoutChanged("hans", 2, null),
            new Change.LockoutChanged("hans", 3, clock.instant().plus(BLOCK_DURATION))),
        recorded);
    return recorded;
  }

  private void expectLockoutRecorded(String user, int failures, Instant blockedUntil) {
    journal.expectMessage(
        new Journal.Record(new Change.LockoutChanged(user, failures, blockedUntil), null));
  }

  /** Step one, which says nothing of whether the user is online. */
  private void checkUsername(String username, UsernameVerdict expected) {
    guard.tell(new CheckUsername(username, CLIENT, usernameVerdicts.ref()));
    usernameVerdicts.expectMessage(expected);
  }
}
