package dev.parley.server.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.SerializationTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.DispatcherSelector;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.cluster.sharding.typed.javadsl.EntityRef;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.SelfUp;
import akka.cluster.typed.Subscribe;
import dev.parley.protocol.Protocol;
import dev.parley.protocol.ServerMessage;
import dev.parley.protocol.ServerMessage.Error.Code;
import dev.parley.protocol.ServerMessage.Goodbye;
import dev.parley.protocol.WireText;
import dev.parley.server.ServerSettings;
import dev.parley.server.broadcast.Broadcaster;
import dev.parley.server.login.Credentials;
import dev.parley.server.login.LoginGuard;
import dev.parley.server.login.PasswordHasher;
import dev.parley.server.store.Change;
import dev.parley.server.store.Journal;
import dev.parley.server.store.ResumeGrant;
import dev.parley.server.store.Store;
import dev.parley.server.store.Store.Outcome;
import dev.parley.server.store.StoreSnapshot;
import dev.parley.server.store.StoredMessage;
import dev.parley.server.store.UserSnapshot;
import dev.parley.server.testing.LogCapturingExtension;
import dev.parley.server.testing.MutableClock;
import dev.parley.server.testing.TestDatabase;
import dev.parley.server.testing.TestKits;
import java.net.InetAddress;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The owner of each user ({@link UserEntity}) behind a node's {@link ClusterRegistry}, on a real
 * single-node cluster with sharding: sessions speak the registry's protocol, and the owners load
 * users from a store the test fills, write through a journal the test plays (answering each change
 * with the outcome it chooses), and answer across the same serialization as between nodes.
 *
 * <p>Owners live as long as the cluster, so each test uses names of its own ({@link #name}), and
 * answers every write it lets the owners start: an owner stops (at the end, as the node leaves)
 * only once its writes are answered.
 */
@ExtendWith(LogCapturingExtension.class)
class UserEntityTest {

  private static final ActorTestKit testKit = TestKits.clusterMember("UserEntityTest");

  private static final Instant T0 = Instant.parse("2030-05-04T12:00:00Z");
  private static final Duration RESUME_WINDOW = Duration.ofMinutes(10);
  private static final Duration PEER_TOKEN_TTL = Duration.ofSeconds(30);
  private static final Duration JOINING = Duration.ofSeconds(10);
  private static final String CERT = "SHA256:client-certificate";
  private static final int MAX_FAILURES = 3;
  private static final String STALLED = "stalled";
  private static final int HASH_ITERATIONS = 1000;
  private static final String STORE_DISPATCHER = ServerSettings.STORE_DISPATCHER;
  private static final Duration OWNER_TIMEOUT = Duration.ofSeconds(1);
  private static final int OWNER_ATTEMPTS = 2;
  private static final Duration BLOCK_DURATION = Duration.ofSeconds(60);

  /** The journal of the running test: the owners, started once, write to it through a relay. */
  private static final AtomicReference<ActorRef<Journal.Command>> journalOfTest =
      new AtomicReference<>();

  /** The store as the owners read it: users by name, and stored messages by row id. */
  private static final Map<String, UserSnapshot> users = new ConcurrentHashMap<>();

  private static final Map<Long, StoredMessage> stored = new ConcurrentHashMap<>();
  private static final MutableClock clock = new MutableClock(T0);
  private static final AtomicInteger tests = new AtomicInteger();
  private static ClusterSharding sharding;

  private final String suffix = "-" + tests.incrementAndGet();
  private TestProbe<Journal.Command> journal;
  private TestProbe<Broadcaster.Command> broadcaster;
  private TestProbe<ServerMessage> replies;
  private TestProbe<UserRegistry.Evict> evictions;
  private ActorRef<UserRegistry.Command> registry;
  private long nextMessageId = 1000;

  /** A logged-in user: its session and outbound queue, and the resumption token it was given. */
  private record Online(
      String name, TestProbe<Object> session, TestProbe<ServerMessage> outbox, String token) {}

  @BeforeAll
  static void formAClusterOfOneWithSharding() {
    Cluster cluster = Cluster.get(testKit.system());
    TestProbe<SelfUp> up = testKit.createTestProbe();
    cluster.subscriptions().tell(Subscribe.create(up.ref(), SelfUp.class));
    TestKits.joinItself(testKit);
    up.expectMessageClass(SelfUp.class, JOINING);
    ActorRef<Journal.Command> relay =
        testKit.spawn(
            Behaviors.receiveMessage(
                command -> {
                  journalOfTest.get().tell(command);
                  return Behaviors.same();
                }));
    sharding = ClusterSharding.get(testKit.system());
    sharding.init(
        UserEntity.entity(
            sharding,
            relay,
            new UserEntity.Reads() {
              @Override
              public CompletableFuture<UserSnapshot> loadUser(String username, Instant now) {
                if (username.startsWith(STALLED)) {
                  // A store that never answers: the owner keeps loading, answering nothing.
                  return new CompletableFuture<>();
                }
                return CompletableFuture.completedFuture(
                    users.getOrDefault(username, UserSnapshot.absent(username)));
              }

              @Override
              public CompletableFuture<List<StoredMessage>> read(String recipient, long[] ids) {
                List<StoredMessage> page = new ArrayList<>();
                for (long id : ids) {
                  StoredMessage message = stored.get(id);
                  if (message != null && message.recipient().equals(recipient)) {
                    page.add(message);
                  }
                }
                page.sort(Comparator.comparingLong(StoredMessage::seq));
                return CompletableFuture.completedFuture(page);
              }
            },
            new UserEntity.Settings(
                registrySettings(), Duration.ofMinutes(10), 100, MAX_FAILURES, BLOCK_DURATION),
            clock));
  }

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void startRegistry() {
    journal = testKit.createTestProbe(Journal.Command.class);
    journalOfTest.set(journal.ref());
    broadcaster = testKit.createTestProbe(Broadcaster.Command.class);
    replies = testKit.createTestProbe(ServerMessage.class);
    evictions = testKit.createTestProbe(UserRegistry.Evict.class);
    registry =
        testKit.spawn(
            ClusterRegistry.create(
                user -> sharding.entityRefFor(UserEntity.TYPE_KEY, user),
                broadcaster.ref(),
                new ClusterRegistry.Reads() {
                  @Override
                  public CompletableFuture<List<String>> usernames() {
                    return CompletableFuture.completedFuture(List.copyOf(users.keySet()));
                  }

                  @Override
                  public CompletableFuture<Map<String, Instant>> logoutsSince(Instant since) {
                    Map<String, Instant> logouts = new ConcurrentHashMap<>();
                    users.forEach(
                        (name, user) -> {
                          if (user.lastLogout() != null && !user.lastLogout().isBefore(since)) {
                            logouts.put(name, user.lastLogout());
                          }
                        });
                    return CompletableFuture.completedFuture(logouts);
                  }
                },
                registrySettings(),
                OWNER_TIMEOUT,
                OWNER_ATTEMPTS,
                clock));
  }

  private static UserRegistry.Settings registrySettings() {
    return new UserRegistry.Settings(
        new ServerSettings.Mailbox(3, 1000, 3, 500, 2),
        4,
        1000,
        Duration.ofMinutes(10),
        Duration.ofSeconds(1),
        RESUME_WINDOW,
        PEER_TOKEN_TTL);
  }

  /**
   * This test's user called {@code base}, with an account, which the registry hears of as it would
   * from the account watcher (its list of accounts was read before the test made it).
   */
  private String name(String base) {
    return name(base, UserEntityTest::account);
  }

  /** This test's user called {@code base}, whose stored state is {@code state}. */
  private String name(String base, java.util.function.Function<String, UserSnapshot> state) {
    String name = base + suffix;
    if (users.putIfAbsent(name, state.apply(name)) == null) {
      registry.tell(new UserRegistry.AccountAdded(name));
    }
    return name;
  }

  private static UserSnapshot account(String name) {
    return new UserSnapshot(
        name, true, Set.of(), null, false, null, 0, 0, UserSnapshot.nonePending(), null);
  }

  // ---- logins ----

  @Test
  void shouldWelcomeASessionTellTheRosterRecordTheLoginAndRefuseASecondOne() {
    String hans = name("hans");
    Online first = login(hans);

    TestProbe<UserRegistry.Registration> second = testKit.createTestProbe();
    registry.tell(new UserRegistry.Register(hans, attachment(), second.ref()));

    second.expectMessage(UserRegistry.Registration.ALREADY_ONLINE);
    first.outbox().expectNoMessage(Duration.ofMillis(200));
    broadcaster.expectNoMessage(Duration.ZERO);
  }

  @Test
  void shouldAdmitASessionAskedForAgainWithoutWelcomingItTwice() {
    String hans = name("hans");
    TestProbe<Object> session = testKit.createTestProbe();
    TestProbe<ServerMessage> outbox = testKit.createTestProbe();
    UserRegistry.Attachment attachment = attachment(session, outbox, null);
    TestProbe<UserEntity.Admission> admissions = testKit.createTestProbe();
    EntityRef<UserEntity.Command> owner = sharding.entityRefFor(UserEntity.TYPE_KEY, hans);

    owner.tell(new UserEntity.Register(attachment, admissions.ref()));
    assertEquals(true, admissions.receiveMessage().admitted());
    expectLoginRecorded(hans, expectWelcome(outbox, hans), null);
    // The answer was lost on its way: the node asks again.
    owner.tell(new UserEntity.Register(attachment, admissions.ref()));

    assertEquals(true, admissions.receiveMessage().admitted());
    outbox.expectNoMessage(Duration.ofMillis(200));
    journal.expectNoMessage(Duration.ZERO);
  }

  @Test
  void shouldAnswerALoginUnavailableWhenTheOwnerNeverAnswers() {
    String stalled = name(STALLED + "-login");
    TestProbe<UserRegistry.Registration> registered = testKit.createTestProbe();

    registry.tell(new UserRegistry.Register(stalled, attachment(), registered.ref()));

    registered.expectMessage(
        OWNER_TIMEOUT.multipliedBy(OWNER_ATTEMPTS + 2), UserRegistry.Registration.UNAVAILABLE);
    broadcaster.expectNoMessage(Duration.ZERO);
  }

  @Test
  void shouldStoreThenDeliverAMessageAndAcceptIt() {
    String hans = name("hans");
    String yoda = name("yoda");
    Online h = login(hans);
    login(yoda);

    send(yoda, hans, "hello there", "m-1");
    answer(expectAppended(hans, 1, yoda, "m-1", "hello there"), Outcome.STORED);

    h.outbox().expectMessage(new ServerMessage.MessageReceived(yoda, "hello there", 1, "m-1"));
    replies.expectMessage(new ServerMessage.MessageAccepted("m-1", false));
  }

  @Test
  void shouldAnswerASendersMessagesInTheirOrderWhateverOrderTheOwnersAnswerIn() {
    String hans = name("hans");
    String luke = name("luke");
    String yoda = name("yoda");
    login(yoda);

    send(yoda, hans, "first", "m-1");
    Journal.Record first = expectAppended(hans, 1, yoda, "m-1", "first");
    send(yoda, luke, "second", "m-2");
    Journal.Record second = expectAppended(luke, 1, yoda, "m-2", "second");
    send(yoda, "nobody" + suffix, "third", "m-3");

    answer(second, Outcome.STORED);
    replies.expectNoMessage(Duration.ofMillis(200));
    answer(first, Outcome.STORED);

    replies.expectMessage(new ServerMessage.MessageAccepted("m-1", true));
    replies.expectMessage(new ServerMessage.MessageAccepted("m-2", true));
    replies.expectMessage(
        new ServerMessage.Error(Code.INVALID_USER, "message", "nobody" + suffix, "m-3"));
  }

  @Test
  void shouldAnswerUnavailableInTurnWhenAnOwnerDoesNotAnswerInTime() {
    String stalled = name(STALLED);
    String hans = name("hans");
    String yoda = name("yoda");
    login(yoda);

    send(yoda, stalled, "into the void", "m-1");
    send(yoda, hans, "after it", "m-2");
    answer(expectAppended(hans, 1, yoda, "m-2", "after it"), Outcome.STORED);

    // The second is answered only after the first, which its owner never answers, however often
    // it is handed over.
    replies.expectNoMessage(OWNER_TIMEOUT.multipliedBy(OWNER_ATTEMPTS - 1));
    replies.expectMessage(
        OWNER_TIMEOUT.multipliedBy(OWNER_ATTEMPTS + 2),
        new ServerMessage.Error(Code.UNAVAILABLE, "message", stalled, "m-1"));
    replies.expectMessage(new ServerMessage.MessageAccepted("m-2", true));
  }

  @Test
  void shouldRefuseYourselfAtTheNodeAndABlockedSenderAtTheOwner() {
    String hans = name("hans");
    String yoda = name("yoda");
    login(hans);
    login(yoda);

    send(yoda, yoda, "me", "m-1");
    replies.expectMessage(new ServerMessage.Error(Code.SELF, "message", yoda, "m-1"));

    registry.tell(new UserRegistry.Block(hans, yoda, replies.ref()));
    expectRecordedAndAnswer(new Change.BlockAdded(hans, yoda), Outcome.APPLIED);
    // Confirmed only once the roster of every node has the block.
    Broadcaster.BlocksChanged changed =
        broadcaster.expectMessageClass(Broadcaster.BlocksChanged.class);
    assertEquals(Set.of(yoda), changed.blocked());
    replies.expectNoMessage(Duration.ofMillis(200));
    changed.replyTo().tell(new Broadcaster.RosterWritten(hans, true));
    replies.expectMessage(new ServerMessage.BlockConfirmed(yoda));

    send(yoda, hans, "let me in", "m-2");
    replies.expectMessage(new ServerMessage.Error(Code.BLOCKED_BY_USER, "message", hans, "m-2"));

    registry.tell(new UserRegistry.Block(hans, yoda, replies.ref()));
    replies.expectMessage(new ServerMessage.Error(Code.ALREADY_BLOCKED, "block", yoda));
  }

  @Test
  void shouldAskTheTargetsOwnerAboutAnAccountTheNodeHasNotHeardOf() {
    String hans = name("hans");
    login(hans);
    // Created after the node read its list of accounts, and the news not here yet.
    String newcomer = "newcomer" + suffix;
    users.put(newcomer, account(newcomer));

    registry.tell(new UserRegistry.Block(hans, newcomer, replies.ref()));
    expectRecordedAndAnswer(new Change.BlockAdded(hans, newcomer), Outcome.APPLIED);
    broadcaster
        .expectMessageClass(Broadcaster.BlocksChanged.class)
        .replyTo()
        .tell(new Broadcaster.RosterWritten(hans, true));
    replies.expectMessage(new ServerMessage.BlockConfirmed(newcomer));

    registry.tell(new UserRegistry.Block(hans, "ghost" + suffix, replies.ref()));
    replies.expectMessage(new ServerMessage.Error(Code.INVALID_USER, "block", "ghost" + suffix));
    send(hans, "ghost" + suffix, "anyone?", "m-1");
    replies.expectMessage(
        new ServerMessage.Error(Code.INVALID_USER, "message", "ghost" + suffix, "m-1"));
  }

  @Test
  void shouldNotConfirmABlockTheJournalCouldNotStore() {
    String hans = name("hans");
    String yoda = name("yoda");
    login(hans);

    registry.tell(new UserRegistry.Block(hans, yoda, replies.ref()));
    expectRecordedAndAnswer(new Change.BlockAdded(hans, yoda), Outcome.FAILED);

    replies.expectMessage(new ServerMessage.Error(Code.UNAVAILABLE, "block", yoda));
    broadcaster.expectNoMessage(Duration.ofMillis(200));
    send(yoda, hans, "still open", "m-1");
    answer(expectAppended(hans, 1, yoda, "m-1", "still open"), Outcome.STORED);
    replies.expectMessage(new ServerMessage.MessageAccepted("m-1", false));
  }

  // ---- loading ----

  @Test
  void shouldLoadTheUsersMailboxAndDeliverItFromTheLastAcknowledgement() {
    String hans = name("hans");
    String luke =
        name(
            "luke",
            named ->
                new UserSnapshot(
                    named,
                    true,
                    Set.of(),
                    null,
                    false,
                    null,
                    4,
                    2,
                    new StoreSnapshot.PendingMessages(
                        new long[] {3, 4}, new long[] {501, 502}, new int[] {7, 8}),
                    null));
    stored.put(501L, new StoredMessage(luke, 3, hans, "k-3", "third", T0));
    stored.put(502L, new StoredMessage(luke, 4, hans, "k-4", "fourth", T0));

    Online l = login(luke);

    l.outbox().expectMessage(new ServerMessage.MessageReceived(hans, "third", 3, "k-3"));
    l.outbox().expectMessage(new ServerMessage.MessageReceived(hans, "fourth", 4, "k-4"));
    send(hans, luke, "fifth", "k-5");
    answer(expectAppended(luke, 5, hans, "k-5", "fifth"), Outcome.STORED);
    replies.expectMessage(new ServerMessage.MessageAccepted("k-5", false));
  }

  @Test
  void shouldCloseAPreviousOwnersOpenSessionWhenLoadingAndLetItsClientResume() {
    SecretTokens tokens = new SecretTokens();
    String token = tokens.newToken();
    String vader =
        name(
            "vader",
            named ->
                new UserSnapshot(
                    named,
                    true,
                    Set.of(),
                    T0.minusSeconds(60),
                    true,
                    null,
                    0,
                    0,
                    UserSnapshot.nonePending(),
                    new ResumeGrant(tokens.hash(token), CERT, null)));

    TestProbe<UserRegistry.Resumption> resumed = testKit.createTestProbe();
    TestProbe<ServerMessage> outbox = testKit.createTestProbe();
    TestProbe<Object> session = testKit.createTestProbe();
    registry.tell(
        new UserRegistry.Resume(vader, token, attachment(session, outbox, CERT), resumed.ref()));

    // The crashed owner's session is recorded as ended now, resumable for the window.
    journal.expectMessage(
        new Journal.Record(new Change.LoggedOut(vader, T0, T0.plus(RESUME_WINDOW)), null));
    String next = expectWelcome(outbox, vader);
    assertNotEquals(token, next);
    expectLoginRecorded(vader, next, CERT);
    resumed.expectMessage(UserRegistry.Resumption.RESUMED);
    broadcaster.expectMessage(new Broadcaster.MemberJoined(vader, outbox.ref(), Set.of()));
  }

  @Test
  void shouldRefuseAResumptionFromAnotherCertificateOrWithAnUsedToken() {
    String hans = name("hans");
    Online h = login(hans, CERT);

    TestProbe<UserRegistry.Resumption> resumed = testKit.createTestProbe();
    registry.tell(
        new UserRegistry.Resume(
            hans,
            h.token(),
            attachment(testKit.createTestProbe(), testKit.createTestProbe(), "SHA256:thief"),
            resumed.ref()));
    resumed.expectMessage(UserRegistry.Resumption.REFUSED);

    registry.tell(
        new UserRegistry.Resume(
            hans,
            "not-the-token",
            attachment(testKit.createTestProbe(), testKit.createTestProbe(), CERT),
            resumed.ref()));
    resumed.expectMessage(UserRegistry.Resumption.REFUSED);
    evictions.expectNoMessage(Duration.ofMillis(200));
  }

  @Test
  void shouldTakeOverAnOpenSessionOnResumptionEvictingTheOldOneUnseenByTheOthers() {
    String hans = name("hans");
    Online h = login(hans, CERT);
    TestProbe<UserRegistry.Resumption> resumed = testKit.createTestProbe();
    TestProbe<ServerMessage> outbox = testKit.createTestProbe();

    registry.tell(
        new UserRegistry.Resume(
            hans, h.token(), attachment(testKit.createTestProbe(), outbox, CERT), resumed.ref()));

    evictions.expectMessage(new UserRegistry.Evict(Goodbye.Reason.RESUMED));
    String next = expectWelcome(outbox, hans);
    expectLoginRecorded(hans, next, CERT);
    resumed.expectMessage(UserRegistry.Resumption.RESUMED);
    broadcaster.expectMessage(new Broadcaster.MemberMoved(hans, outbox.ref()));
  }

  @Test
  void shouldAnswerALogoutOnceStoredAndTakeTheUserOffTheRoster() {
    String hans = name("hans");
    Online h = login(hans);
    TestProbe<UserRegistry.Left> left = testKit.createTestProbe();

    registry.tell(new UserRegistry.Leave(hans, h.session().ref(), left.ref()));

    // The roster of every node first, then the owner.
    Broadcaster.MemberLeft leaving = broadcaster.expectMessageClass(Broadcaster.MemberLeft.class);
    assertEquals(h.outbox().ref(), leaving.outbox());
    journal.expectNoMessage(Duration.ofMillis(200));
    leaving.replyTo().tell(new Broadcaster.RosterWritten(hans, true));
    Journal.Record record = journal.expectMessageClass(Journal.Record.class);
    assertEquals(new Change.LoggedOut(hans, T0, null), record.change());
    left.expectNoMessage(Duration.ofMillis(200));
    answer(record, Outcome.APPLIED);
    left.expectMessage(UserRegistry.Left.INSTANCE);

    // Gone for good: a message now waits in the store.
    send(name("yoda"), hans, "later", "m-1");
    answer(expectAppended(hans, 1, name("yoda"), "m-1", "later"), Outcome.STORED);
    replies.expectMessage(new ServerMessage.MessageAccepted("m-1", true));
  }

  @Test
  void shouldSendTheSessionBackToItsClientWhenItsOwnerIsHandedOff() {
    String hans = name("hans");
    login(hans);

    sharding.entityRefFor(UserEntity.TYPE_KEY, hans).tell(new UserEntity.HandOff());

    evictions.expectMessage(new UserRegistry.Evict(Goodbye.Reason.SERVER_SHUTDOWN));
  }

  // ---- lockout ----

  @Test
  void shouldCountWrongPasswordsFromAnyNodeAndBlockTheUsernameUntilLifted() {
    String hans = name("hans");
    EntityRef<UserEntity.Command> owner = sharding.entityRefFor(UserEntity.TYPE_KEY, hans);
    TestProbe<UserEntity.LoginCount> counts = testKit.createTestProbe();

    expectLockout(owner, false);
    for (int failure = 1; failure < MAX_FAILURES; failure++) {
      owner.tell(new UserEntity.CountLogin(false, counts.ref()));
      counts.expectMessage(UserEntity.LoginCount.INVALID_PASSWORD);
      expectLockoutRecorded(hans, failure, null);
    }
    owner.tell(new UserEntity.CountLogin(false, counts.ref()));
    counts.expectMessage(UserEntity.LoginCount.BLOCKED_NOW);
    expectLockoutRecorded(hans, MAX_FAILURES, T0.plus(BLOCK_DURATION));

    expectLockout(owner, true);
    owner.tell(new UserEntity.CountLogin(true, counts.ref()));
    counts.expectMessage(UserEntity.LoginCount.BLOCKED);

    owner.tell(new UserEntity.LiftLockout());
    expectLockout(owner, false);
    owner.tell(new UserEntity.CountLogin(true, counts.ref()));
    counts.expectMessage(UserEntity.LoginCount.AUTHENTICATED);
    journal.expectNoMessage(Duration.ofMillis(200));
  }

  @Test
  void shouldTakeUpAStoredLockoutAndResetTheCountOnTheRightPassword() {
    String yoda =
        name(
            "yoda",
            named ->
                new UserSnapshot(
                    named,
                    true,
                    Set.of(),
                    null,
                    false,
                    new StoreSnapshot.Lockout(MAX_FAILURES, T0.plusSeconds(30)),
                    0,
                    0,
                    UserSnapshot.nonePending(),
                    null));
    String luke =
        name(
            "luke",
            named ->
                new UserSnapshot(
                    named,
                    true,
                    Set.of(),
                    null,
                    false,
                    new StoreSnapshot.Lockout(1, null),
                    0,
                    0,
                    UserSnapshot.nonePending(),
                    null));
    TestProbe<UserEntity.LoginCount> counts = testKit.createTestProbe();

    expectLockout(sharding.entityRefFor(UserEntity.TYPE_KEY, yoda), true);
    sharding
        .entityRefFor(UserEntity.TYPE_KEY, luke)
        .tell(new UserEntity.CountLogin(true, counts.ref()));
    counts.expectMessage(UserEntity.LoginCount.AUTHENTICATED);
    expectLockoutRecorded(luke, 0, null);
    expectLockout(sharding.entityRefFor(UserEntity.TYPE_KEY, "nobody" + suffix), false, false);
  }

  @Test
  void shouldCountWrongPasswordsTriedThroughTheGuardsOfTwoNodes(@TempDir Path dir)
      throws SQLException {
    String victor = name("victor");
    PasswordHasher hasher = new PasswordHasher(HASH_ITERATIONS);
    try (TestDatabase database = TestDatabase.h2(dir)) {
      Store store = database.open();
      store.addAccount(victor, hasher.hash("right"), T0);
      Executor executor =
          testKit.system().dispatchers().lookup(DispatcherSelector.fromConfig(STORE_DISPATCHER));
      Credentials credentials = new Credentials(store, executor, hasher, executor);
      // Two nodes' guards, each with its own address limits, on one cluster of owners.
      List<ActorRef<LoginGuard.Command>> guards = new ArrayList<>();
      for (int node = 0; node < 2; node++) {
        guards.add(
            testKit.spawn(
                LoginGuard.clustered(
                    credentials,
                    journal.ref(),
                    new LoginGuard.Settings(MAX_FAILURES, BLOCK_DURATION, null),
                    user -> sharding.entityRefFor(UserEntity.TYPE_KEY, user),
                    OWNER_TIMEOUT,
                    OWNER_ATTEMPTS,
                    clock)));
      }
      TestProbe<LoginGuard.PasswordVerdict> verdicts = testKit.createTestProbe();
      InetAddress from = InetAddress.getLoopbackAddress();

      for (int attempt = 1; attempt <= MAX_FAILURES; attempt++) {
        guards
            .get(attempt % 2)
            .tell(new LoginGuard.Authenticate(victor, "wrong-" + attempt, from, verdicts.ref()));
        verdicts.expectMessage(
            attempt < MAX_FAILURES
                ? LoginGuard.PasswordVerdict.INVALID_PASSWORD
                : LoginGuard.PasswordVerdict.BLOCKED_NOW);
      }
      for (ActorRef<LoginGuard.Command> guard : guards) {
        guard.tell(new LoginGuard.Authenticate(victor, "right", from, verdicts.ref()));
        verdicts.expectMessage(LoginGuard.PasswordVerdict.BLOCKED);
        TestProbe<LoginGuard.UsernameVerdict> usernames = testKit.createTestProbe();
        guard.tell(new LoginGuard.CheckUsername(victor, from, usernames.ref()));
        usernames.expectMessage(LoginGuard.UsernameVerdict.BLOCKED);
      }
      guards.forEach(testKit::stop);
    }
  }

  // ---- private chats ----

  @Test
  void shouldBrokerAPrivateChatWithATokenForTheInvitedPeer() {
    String hans = name("hans");
    String luke = name("luke");
    login(hans);
    Online l = login(luke);

    registry.tell(new UserRegistry.LocatePeer(hans, luke, replies.ref()));

    ServerMessage.PeerInvited invited =
        l.outbox().expectMessageClass(ServerMessage.PeerInvited.class);
    assertEquals(hans, invited.user());
    ServerMessage.PeerAddress address = replies.expectMessageClass(ServerMessage.PeerAddress.class);
    assertEquals(luke, address.user());
    assertEquals(50000, address.port());
    assertEquals(invited.token(), address.token());

    registry.tell(new UserRegistry.LocatePeer(hans, name("leia"), replies.ref()));
    replies.expectMessage(new ServerMessage.Error(Code.USER_OFFLINE, "startprivate", name("leia")));
  }

  @Test
  void shouldRefuseAPrivateChatWithAUserWhoseClientTakesNone() {
    String hans = name("hans");
    String luke = name("luke");
    login(hans);
    // A web browser's session: it sent no peerPort.
    TestProbe<ServerMessage> outbox = testKit.createTestProbe();
    TestProbe<UserRegistry.Registration> registered = testKit.createTestProbe();
    registry.tell(
        new UserRegistry.Register(
            luke,
            new UserRegistry.Attachment(
                testKit.createTestProbe().ref(),
                outbox.ref(),
                evictions.ref(),
                "127.0.0.1",
                UserRegistry.Attachment.NO_PEER_PORT,
                null,
                null,
                Protocol.VERSION),
            registered.ref()));
    expectWelcome(outbox, luke);
    registered.expectMessage(UserRegistry.Registration.REGISTERED);

    registry.tell(new UserRegistry.LocatePeer(hans, luke, replies.ref()));

    replies.expectMessage(new ServerMessage.Error(Code.PRIVATE_UNSUPPORTED, "startprivate", luke));
    outbox.expectNoMessage(Duration.ofMillis(100));
  }

  // ---- lists ----

  @Test
  void shouldListRecentUsersFromTheRosterThenTheSharedLoginHistory() {
    String hans = name("hans");
    String r2d2 = name("r2d2", named -> withLastLogout(named, T0.minusSeconds(30)));
    name("leia", named -> withLastLogout(named, T0.minusSeconds(3000)));

    registry.tell(new UserRegistry.ListRecent(hans, 600, replies.ref()));

    Broadcaster.ListOnline asked = broadcaster.expectMessageClass(Broadcaster.ListOnline.class);
    assertEquals(hans, asked.requester());
    asked.replyTo().tell(new ServerMessage.OnlineUsers(List.of(name("yoda")), null));
    ServerMessage.RecentUsers recent = replies.expectMessageClass(ServerMessage.RecentUsers.class);
    assertEquals(
        List.of(name("yoda"), r2d2),
        recent.users().stream().filter(u -> u.endsWith(suffix)).toList());
  }

  @Test
  void shouldAskTheRosterForWhoelse() {
    String hans = name("hans");
    registry.tell(new UserRegistry.ListOnline(hans, replies.ref()));

    Broadcaster.ListOnline asked = broadcaster.expectMessageClass(Broadcaster.ListOnline.class);
    assertEquals(new Broadcaster.ListOnline(hans, 4, 1000, replies.ref()), asked);
  }

  // ---- what crosses nodes ----

  @Test
  void shouldCarryEveryMessageBetweenNodesThroughTheClusterSerializer() {
    SerializationTestKit serialization = testKit.serializationTestKit();
    TestProbe<Object> session = testKit.createTestProbe();
    TestProbe<ServerMessage> outbox = testKit.createTestProbe();
    UserRegistry.Attachment attachment = attachment(session, outbox, CERT);
    List<Object> crossing =
        List.of(
            new UserEntity.Register(
                attachment, testKit.<UserEntity.Admission>createTestProbe().ref()),
            new UserEntity.Resume(
                "token", attachment, testKit.<UserEntity.Admission>createTestProbe().ref()),
            new UserEntity.Admission(
                true, false, Set.of("yoda"), testKit.<UserEntity.Command>createTestProbe().ref()),
            new UserEntity.Deliver(
                "yoda",
                "hi ünïcode",
                "m-1",
                12,
                7,
                testKit.<UserEntity.MessageAnswer>createTestProbe().ref()),
            new UserEntity.MessageAnswer(
                7, new ServerMessage.Error(Code.MAILBOX_FULL, "message", "hans", "m-1")),
            new UserEntity.BlockAnswer(new ServerMessage.BlockConfirmed("yoda"), Set.of("yoda")),
            new UserEntity.Locate("hans", true, outbox.ref()),
            new UserEntity.Leave(session.ref(), testKit.<UserRegistry.Left>createTestProbe().ref()),
            new UserEntity.Acknowledge(3),
            new UserEntity.HandOff(),
            new UserRegistry.Evict(Goodbye.Reason.RESUMED),
            UserRegistry.Left.INSTANCE,
            new ServerMessage.MessageReceived("yoda", "hi", 3, "m-1"),
            new ServerMessage.LoginAccepted("hans", "token"),
            new ServerMessage.PeerInvited("hans", "token", 30),
            new ServerMessage.PeerAddress("luke", "127.0.0.1", 50000, "SHA256:x", "token"),
            new ServerMessage.Goodbye(Goodbye.Reason.RESUMED));
    for (Object message : crossing) {
      assertEquals(message, serialization.verifySerialization(message, true), message.toString());
    }
  }

  // ---- helpers ----

  private void expectLockout(EntityRef<UserEntity.Command> owner, boolean blocked) {
    expectLockout(owner, true, blocked);
  }

  private void expectLockout(EntityRef<UserEntity.Command> owner, boolean exists, boolean blocked) {
    TestProbe<UserEntity.LockoutStatus> status = testKit.createTestProbe();
    owner.tell(new UserEntity.CheckLockout(status.ref()));
    status.expectMessage(new UserEntity.LockoutStatus(exists, blocked));
  }

  private void expectLockoutRecorded(String user, int failures, Instant blockedUntil) {
    journal.expectMessage(
        new Journal.Record(new Change.LockoutChanged(user, failures, blockedUntil), null));
  }

  private static UserSnapshot withLastLogout(String name, Instant at) {
    return new UserSnapshot(
        name, true, Set.of(), at, false, null, 0, 0, UserSnapshot.nonePending(), null);
  }

  private UserRegistry.Attachment attachment() {
    return attachment(testKit.createTestProbe(), testKit.createTestProbe(), null);
  }

  private UserRegistry.Attachment attachment(
      TestProbe<Object> session, TestProbe<ServerMessage> outbox, String cert) {
    return new UserRegistry.Attachment(
        session.ref(),
        outbox.ref(),
        evictions.ref(),
        "127.0.0.1",
        50000,
        "SHA256:peer",
        cert,
        Protocol.VERSION);
  }

  private Online login(String name) {
    return login(name, null);
  }

  private Online login(String name, String cert) {
    TestProbe<Object> session = testKit.createTestProbe();
    TestProbe<ServerMessage> outbox = testKit.createTestProbe();
    TestProbe<UserRegistry.Registration> registered = testKit.createTestProbe();
    registry.tell(
        new UserRegistry.Register(name, attachment(session, outbox, cert), registered.ref()));
    String token = expectWelcome(outbox, name);
    expectLoginRecorded(name, token, cert);
    registered.expectMessage(UserRegistry.Registration.REGISTERED);
    broadcaster.expectMessage(new Broadcaster.MemberJoined(name, outbox.ref(), Set.of()));
    return new Online(name, session, outbox, token);
  }

  private static String expectWelcome(TestProbe<ServerMessage> outbox, String name) {
    ServerMessage.LoginAccepted accepted =
        outbox.expectMessageClass(ServerMessage.LoginAccepted.class);
    assertEquals(name, accepted.username());
    assertNotNull(accepted.resumeToken());
    return accepted.resumeToken();
  }

  private void expectLoginRecorded(String name, String token, String certificate) {
    journal.expectMessage(
        new Journal.Record(
            new Change.LoggedIn(
                name, T0, new ResumeGrant(new SecretTokens().hash(token), certificate, null)),
            null));
  }

  private void send(String from, String to, String text, String id) {
    registry.tell(
        new UserRegistry.SendDirect(
            from, to, text, id, WireText.encodedLength(text), replies.ref()));
  }

  private Journal.Record expectAppended(String to, long seq, String from, String id, String text) {
    Journal.Record record = journal.expectMessageClass(Journal.Record.class);
    assertEquals(
        new Change.MessageAppended(new StoredMessage(to, seq, from, id, text, T0)),
        record.change());
    assertNotNull(record.replyTo(), "the owner waits for the outcome");
    return record;
  }

  private void expectRecordedAndAnswer(Change change, Outcome outcome) {
    Journal.Record record = journal.expectMessageClass(Journal.Record.class);
    assertEquals(change, record.change());
    answer(record, outcome);
  }

  private void answer(Journal.Record record, Outcome outcome) {
    long id = 0;
    if (outcome == Outcome.STORED && record.change() instanceof Change.MessageAppended appended) {
      id = nextMessageId++ + 10_000L * tests.get();
      stored.put(id, appended.message());
    }
    record
        .replyTo()
        .tell(
            new Journal.Recorded(
                List.of(new Journal.Recorded.Outcome(record.change(), outcome, id))));
  }
}
