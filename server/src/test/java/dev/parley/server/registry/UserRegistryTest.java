package dev.parley.server.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.FishingOutcomes;
import akka.actor.testkit.typed.javadsl.LoggingTestKit;
import akka.actor.testkit.typed.javadsl.ManualTime;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.SupervisorStrategy;
import akka.actor.typed.javadsl.Behaviors;
import dev.parley.protocol.Protocol;
import dev.parley.protocol.ServerMessage;
import dev.parley.protocol.ServerMessage.Error.Code;
import dev.parley.protocol.ServerMessage.Goodbye;
import dev.parley.protocol.WireText;
import dev.parley.server.ServerSettings;
import dev.parley.server.broadcast.Broadcaster;
import dev.parley.server.registry.UserRegistry.Registration;
import dev.parley.server.store.Change;
import dev.parley.server.store.Journal;
import dev.parley.server.store.ResumeGrant;
import dev.parley.server.store.Store.Outcome;
import dev.parley.server.store.StoreSnapshot;
import dev.parley.server.store.StoredMessage;
import dev.parley.server.testing.LogCapturingExtension;
import dev.parley.server.testing.MutableClock;
import dev.parley.server.testing.TestKits;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The registry with probes for the broadcaster, the sessions and the journal: the test plays the
 * journal, answering each recorded message with the outcome it chooses, and sees every change the
 * registry records. The directory refresh timer runs on {@link ManualTime}, and the directory
 * itself is answered by the test.
 */
@ExtendWith(LogCapturingExtension.class)
class UserRegistryTest {

  private static final ActorTestKit testKit = TestKits.withManualTime();
  private static final ManualTime manualTime = ManualTime.get(testKit.system());

  /** The accounts of the reference sample run, and leia, who never logs in. */
  private static final Set<String> USERNAMES =
      Set.of("hans", "yoda", "luke", "vader", "r2d2", "leia");

  private static final int MAILBOX_CAPACITY = 3;
  private static final long MAILBOX_BYTES = 1000;
  private static final int WINDOW = 3;
  private static final long WINDOW_BYTES = 500;
  private static final int PAGE = 2;
  private static final int LIST_LIMIT = 4;
  private static final int LIST_BYTES = 1000;
  private static final Duration PAGING_RETRY = Duration.ofSeconds(1);
  private static final Duration DIRECTORY_REFRESH = Duration.ofSeconds(10);
  private static final Duration RESUME_WINDOW = Duration.ofMinutes(10);
  private static final Duration PEER_TOKEN_TTL = Duration.ofSeconds(30);
  private static final String LUKE_PEER_CERT = "SHA256:luke-peer-listener";
  private static final String HANS_CERT = "SHA256:hans-client-certificate";
  private static final Instant T0 = Instant.parse("2030-05-04T12:00:00Z");

  private MutableClock clock;
  private TestProbe<Broadcaster.Command> broadcaster;
  private TestProbe<Journal.Command> journal;
  private TestProbe<CompletableFuture<Collection<String>>> directoryReads;
  private TestProbe<ServerMessage> replies;
  private TestProbe<Registration> registrations;
  private TestProbe<UserRegistry.Evict> evictions;

  /**
   * The store as the registry reads it back: every message the test's journal answered STORED, by
   * row id. Mailbox pages are read from here (as Store.readMessages would).
   */
  private Map<Long, StoredMessage> stored;

  private long nextMessageId;

  /** While true, reading a mailbox page fails, as when the store's read pool is full. */
  private volatile boolean pagesFail;

  /** Every message the registry handles, just before it does. */
  private TestProbe<UserRegistry.Command> handled;

  private ActorRef<UserRegistry.Command> registry;

  /** A logged-in user as the registry sees it: the session actor and its outbound queue. */
  private record Online(
      String name, TestProbe<Object> session, TestProbe<ServerMessage> outbox, String token) {}

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void createProbes() {
    clock = new MutableClock(T0);
    broadcaster = testKit.createTestProbe(Broadcaster.Command.class);
    journal = testKit.createTestProbe(Journal.Command.class);
    directoryReads = testKit.createTestProbe();
    replies = testKit.createTestProbe(ServerMessage.class);
    registrations = testKit.createTestProbe(Registration.class);
    evictions = testKit.createTestProbe(UserRegistry.Evict.class);
    stored = new ConcurrentHashMap<>();
    nextMessageId = 1000;
    pagesFail = false;
    handled = testKit.createTestProbe(UserRegistry.Command.class);
  }

  @AfterEach
  void stopRegistry() {
    if (registry != null) {
      testKit.stop(registry);
    }
  }

  // ---- register and unregister ----

  @Test
  void shouldWelcomeARegisteredSessionRecordTheLoginAndReplyRegistered() {
    startRegistry();
    TestProbe<Object> session = testKit.createTestProbe();
    TestProbe<ServerMessage> outbox = testKit.createTestProbe();

    registry.tell(
        new UserRegistry.Register(
            "hans",
            new UserRegistry.Attachment(
                session.ref(),
                outbox.ref(),
                evictions.ref(),
                "192.0.2.7",
                50001,
                null,
                null,
                Protocol.VERSION),
            registrations.ref()));

    String token = expectWelcome(outbox, "hans");
    broadcaster.expectMessage(new Broadcaster.MemberJoined("hans", outbox.ref(), Set.of()));
    expectLoginRecorded("hans", token, null);
    registrations.expectMessage(Registration.REGISTERED);
    expectOnline("hans", true);
  }

  @Test
  void shouldRefuseASecondSessionOfAnOnlineUserAndKeepTheFirst() {
    startRegistry();
    Online hans = login("hans");
    Online yoda = login("yoda");
    TestProbe<Object> secondSession = testKit.createTestProbe();
    TestProbe<ServerMessage> secondOutbox = testKit.createTestProbe();

    registry.tell(
        new UserRegistry.Register(
            "hans",
            new UserRegistry.Attachment(
                secondSession.ref(),
                secondOutbox.ref(),
                evictions.ref(),
                "192.0.2.8",
                50009,
                null,
                null,
                Protocol.VERSION),
            registrations.ref()));

    registrations.expectMessage(Registration.ALREADY_ONLINE);
    // Nothing changed: the others are not told, and hans's messages still reach the first session.
    sendAndStore("yoda", "hans", "still you?", "m-1", 1);
    hans.outbox().expectMessage(new ServerMessage.MessageReceived("yoda", "still you?", 1, "m-1"));
    replies.expectMessage(new ServerMessage.MessageAccepted("m-1", false));
    secondOutbox.expectNoMessage();
    broadcaster.expectNoMessage();
    yoda.outbox().expectNoMessage();
    journal.expectNoMessage();
  }

  @Test
  void shouldLogOutOnUnregisterTellTheBroadcasterAndRecordTheLogout() {
    startRegistry();
    Online hans = login("hans");
    clock.advance(Duration.ofSeconds(30));

    registry.tell(new UserRegistry.Unregister("hans", hans.session().ref()));

    broadcaster.expectMessage(new Broadcaster.MemberLeft("hans", hans.outbox().ref()));
    journal.expectMessage(
        new Journal.Record(
            new Change.LoggedOut(
                "hans", T0.plusSeconds(30), T0.plusSeconds(30).plus(RESUME_WINDOW)),
            null));
    expectOnline("hans", false);
  }

  @Test
  void shouldIgnoreUnregisterFromAStaleSession() {
    startRegistry();
    login("hans");
    TestProbe<Object> staleSession = testKit.createTestProbe();

    registry.tell(new UserRegistry.Unregister("hans", staleSession.ref()));

    expectOnline("hans", true);
    broadcaster.expectNoMessage();
    journal.expectNoMessage();
  }

  @Test
  void shouldNoticeASessionThatStopsWithoutUnregistering() {
    startRegistry();
    Online hans = login("hans");

    hans.session().stop();

    broadcaster.expectMessage(new Broadcaster.MemberLeft("hans", hans.outbox().ref()));
    journal.expectMessage(
        new Journal.Record(new Change.LoggedOut("hans", T0, T0.plus(RESUME_WINDOW)), null));
    expectOnline("hans", false);
  }

  @Test
  void shouldNotLetTheEndOfAnEarlierSessionLogOutTheCurrentOne() {
    startRegistry();
    Online first = login("hans");
    logout(first);
    login("hans");

    first.session().stop();

    expectOnline("hans", true);
    broadcaster.expectNoMessage();
    journal.expectNoMessage();
  }

  // ---- direct messages: refused, checked in the documented order ----

  @Test
  void shouldRefuseAMessageToAnUnknownUserNamingItsId() {
    startRegistry();
    login("hans");

    send("hans", "bob", "party time", "m-1");

    replies.expectMessage(new ServerMessage.Error(Code.INVALID_USER, "message", "bob", "m-1"));
    journal.expectNoMessage();
  }

  @Test
  void shouldRefuseAMessageToSelf() {
    startRegistry();
    Online hans = login("hans");

    send("hans", "hans", "note to self", "m-1");

    replies.expectMessage(new ServerMessage.Error(Code.SELF, "message", "hans", "m-1"));
    hans.outbox().expectNoMessage();
    journal.expectNoMessage();
  }

  @Test
  void shouldRefuseAMessageToAnOnlineUserWhoBlockedTheSender() {
    startRegistry();
    login("hans");
    Online luke = login("luke");
    block("luke", "hans");

    send("hans", "luke", "You angry?", "m-1");

    replies.expectMessage(new ServerMessage.Error(Code.BLOCKED_BY_USER, "message", "luke", "m-1"));
    luke.outbox().expectNoMessage();
    journal.expectNoMessage();
  }

  @Test
  void shouldRefuseAndNotKeepAMessageToAnOfflineUserWhoBlockedTheSender() {
    startRegistry();
    login("hans");
    Online luke = login("luke");
    block("luke", "hans");
    logout(luke);

    send("hans", "luke", "You angry?", null);

    replies.expectMessage(new ServerMessage.Error(Code.BLOCKED_BY_USER, "message", "luke"));
    Online lukeAgain = login("luke", Set.of("hans"));
    lukeAgain.outbox().expectNoMessage();
  }

  @Test
  void shouldCheckTheBlockBeforeTheMailboxLimit() {
    startRegistry();
    login("hans");
    Online luke = login("luke");
    block("luke", "hans");
    logout(luke);
    login("yoda");
    fillLukesMailbox("yoda");

    send("hans", "luke", "let me in", null);

    replies.expectMessage(new ServerMessage.Error(Code.BLOCKED_BY_USER, "message", "luke"));
  }

  // ---- direct messages: recorded, then delivered ----

  @Test
  void shouldDeliverAndAcceptAMessageOnlyOnceTheJournalHasStoredIt() {
    startRegistry();
    login("hans");
    Online yoda = login("yoda");

    send("hans", "yoda", "Hey Dude", "m-1");
    Journal.Record record = expectAppended("yoda", 1, "hans", "m-1", "Hey Dude");
    // Not durable yet: neither delivered nor acknowledged to the sender.
    yoda.outbox().expectNoMessage();
    replies.expectNoMessage();

    answer(record, Outcome.STORED);

    yoda.outbox().expectMessage(new ServerMessage.MessageReceived("hans", "Hey Dude", 1, "m-1"));
    replies.expectMessage(new ServerMessage.MessageAccepted("m-1", false));
  }

  @Test
  void shouldNumberEachRecipientsMessagesOnItsOwn() {
    startRegistry();
    login("hans");
    Online yoda = login("yoda");

    sendAndStore("hans", "yoda", "one for yoda", "m-1", 1);
    sendAndStore("hans", "luke", "one for luke", "m-2", 1);
    sendAndStore("yoda", "luke", "two for luke", "y-1", 2);
    sendAndStore("hans", "yoda", "two for yoda", null, 2);

    yoda.outbox()
        .expectMessage(new ServerMessage.MessageReceived("hans", "one for yoda", 1, "m-1"));
    yoda.outbox().expectMessage(new ServerMessage.MessageReceived("hans", "two for yoda", 2, null));
    replies.expectMessage(new ServerMessage.MessageAccepted("m-1", false));
    replies.expectMessage(new ServerMessage.MessageAccepted("m-2", true));
    replies.expectMessage(new ServerMessage.MessageAccepted("y-1", true));
    replies.expectMessage(new ServerMessage.MessageAccepted(null, false));
  }

  @Test
  void shouldKeepMessagesForAnOfflineUserAndDeliverThemInOrderAfterTheWelcome() {
    startRegistry();
    login("hans");
    login("yoda");

    sendAndStore("hans", "luke", "Let's rock", "m-1", 1);
    replies.expectMessage(new ServerMessage.MessageAccepted("m-1", true));
    sendAndStore("yoda", "luke", "Do or do not", "y-1", 2);
    replies.expectMessage(new ServerMessage.MessageAccepted("y-1", true));
    sendAndStore("hans", "luke", "There is no try", null, 3);
    replies.expectMessage(new ServerMessage.MessageAccepted(null, true));

    TestProbe<Object> session = testKit.createTestProbe();
    TestProbe<ServerMessage> outbox = testKit.createTestProbe();
    registry.tell(
        new UserRegistry.Register(
            "luke",
            new UserRegistry.Attachment(
                session.ref(),
                outbox.ref(),
                evictions.ref(),
                "127.0.0.1",
                50003,
                null,
                null,
                Protocol.VERSION),
            registrations.ref()));
    expectWelcome(outbox, "luke");
    outbox.expectMessage(new ServerMessage.MessageReceived("hans", "Let's rock", 1, "m-1"));
    outbox.expectMessage(new ServerMessage.MessageReceived("yoda", "Do or do not", 2, "y-1"));
    outbox.expectMessage(new ServerMessage.MessageReceived("hans", "There is no try", 3, null));
    broadcaster.expectMessage(new Broadcaster.MemberJoined("luke", outbox.ref(), Set.of()));
    registrations.expectMessage(Registration.REGISTERED);
  }

  @Test
  void shouldAcceptAResentMessageWithoutDeliveringOrKeepingItAgain() {
    startRegistry();
    login("hans");
    Online yoda = login("yoda");
    sendAndStore("hans", "yoda", "Hey Dude", "m-1", 1);
    yoda.outbox().expectMessage(new ServerMessage.MessageReceived("hans", "Hey Dude", 1, "m-1"));
    replies.expectMessage(new ServerMessage.MessageAccepted("m-1", false));

    // hans did not hear the acceptance (a reconnect, say) and sends it again.
    send("hans", "yoda", "Hey Dude", "m-1");
    answer(expectAppended("yoda", 2, "hans", "m-1", "Hey Dude"), Outcome.DUPLICATE);

    replies.expectMessage(new ServerMessage.MessageAccepted("m-1", false));
    yoda.outbox().expectNoMessage();
    // Only the first is kept until yoda acknowledges it.
    logout(yoda);
    Online yodaAgain = login("yoda");
    yodaAgain
        .outbox()
        .expectMessage(new ServerMessage.MessageReceived("hans", "Hey Dude", 1, "m-1"));
    yodaAgain.outbox().expectNoMessage();
  }

  @Test
  void shouldTellTheSenderToSendAgainWhenTheMessageCouldNotBeStored() {
    startRegistry();
    login("hans");
    Online yoda = login("yoda");

    send("hans", "yoda", "Hey Dude", "m-1");
    answer(expectAppended("yoda", 1, "hans", "m-1", "Hey Dude"), Outcome.FAILED);

    replies.expectMessage(new ServerMessage.Error(Code.UNAVAILABLE, "message", "yoda", "m-1"));
    yoda.outbox().expectNoMessage();
    logout(yoda);
    login("yoda").outbox().expectNoMessage();
    // Sent again, it is a new message with a new number.
    sendAndStore("hans", "yoda", "Hey Dude", "m-1", 2);
    replies.expectMessage(new ServerMessage.MessageAccepted("m-1", false));
  }

  @Test
  void shouldReportAnAccountRemovedMeanwhileAsAnInvalidUser() {
    startRegistry();
    login("hans");

    send("hans", "luke", "still there?", "m-1");
    answer(expectAppended("luke", 1, "hans", "m-1", "still there?"), Outcome.NO_RECIPIENT);

    replies.expectMessage(new ServerMessage.Error(Code.INVALID_USER, "message", "luke", "m-1"));
    // From now on the registry knows: refused without asking the journal.
    send("hans", "luke", "hello?", "m-2");
    replies.expectMessage(new ServerMessage.Error(Code.INVALID_USER, "message", "luke", "m-2"));
    journal.expectNoMessage();
  }

  // ---- acknowledgements ----

  @Test
  void shouldSendUnacknowledgedMessagesAgainAtEveryLoginUntilAcknowledged() {
    startRegistry();
    login("hans");
    Online luke = login("luke");
    sendAndStore("hans", "luke", "one", "m-1", 1);
    sendAndStore("hans", "luke", "two", "m-2", 2);
    sendAndStore("hans", "luke", "three", "m-3", 3);
    luke.outbox().receiveSeveralMessages(3);

    // Shown but not acknowledged: sent again, with the same numbers.
    logout(luke);
    Online lukeAgain = login("luke");
    lukeAgain.outbox().expectMessage(new ServerMessage.MessageReceived("hans", "one", 1, "m-1"));
    lukeAgain.outbox().expectMessage(new ServerMessage.MessageReceived("hans", "two", 2, "m-2"));
    lukeAgain.outbox().expectMessage(new ServerMessage.MessageReceived("hans", "three", 3, "m-3"));

    acknowledge("luke", 2);
    logout(lukeAgain);

    Online lukeOnceMore = login("luke");
    lukeOnceMore
        .outbox()
        .expectMessage(new ServerMessage.MessageReceived("hans", "three", 3, "m-3"));
    lukeOnceMore.outbox().expectNoMessage();
  }

  @Test
  void shouldIgnoreAnAcknowledgementOfNothingNew() {
    startRegistry();
    login("hans");
    Online luke = login("luke");
    sendAndStore("hans", "luke", "one", "m-1", 1);
    sendAndStore("hans", "luke", "two", "m-2", 2);
    acknowledge("luke", 2);

    registry.tell(new UserRegistry.Acknowledge("luke", 2));
    registry.tell(new UserRegistry.Acknowledge("luke", 1));
    // yoda has nothing to acknowledge.
    registry.tell(new UserRegistry.Acknowledge("yoda", 1));

    journal.expectNoMessage();
    logout(luke);
    login("luke").outbox().expectNoMessage();
  }

  @Test
  void shouldNotLetAnAcknowledgementReachBeyondTheMessagesSent() {
    startRegistry();
    login("hans");
    Online luke = login("luke");
    sendAndStore("hans", "luke", "one", "m-1", 1);

    // A confused client acknowledges far ahead: only what was sent counts as shown.
    registry.tell(new UserRegistry.Acknowledge("luke", 100));
    expectRecordedAndAnswer(new Change.Acknowledged("luke", 1), Outcome.APPLIED);

    sendAndStore("hans", "luke", "two", "m-2", 2);
    luke.outbox().receiveSeveralMessages(2);
    logout(luke);
    Online lukeAgain = login("luke");
    lukeAgain.outbox().expectMessage(new ServerMessage.MessageReceived("hans", "two", 2, "m-2"));
    acknowledge("luke", 2);
  }

  // ---- resumption ----

  @Test
  void shouldLetAClientTakeOverItsOpenSessionWithoutTheOthersSeeingItLeave() {
    startRegistry();
    Online yoda = login("yoda");
    Online hans = login("hans", Set.of(), HANS_CERT);
    sendAndStore("yoda", "hans", "one", "y-1", 1);
    sendAndStore("yoda", "hans", "two", "y-2", 2);
    hans.outbox().receiveSeveralMessages(2);
    acknowledge("hans", 1);
    replies.receiveSeveralMessages(2);

    Resumed again = resume("hans", hans.token(), HANS_CERT);

    assertEquals(UserRegistry.Resumption.RESUMED, again.resumption());
    evictions.expectMessage(new UserRegistry.Evict(Goodbye.Reason.RESUMED));
    // The new connection carries on from the last acknowledgement: two is sent again, one is not.
    again
        .online()
        .outbox()
        .expectMessage(new ServerMessage.MessageReceived("yoda", "two", 2, "y-2"));
    broadcaster.expectMessage(new Broadcaster.MemberMoved("hans", again.online().outbox().ref()));
    expectLoginRecorded("hans", again.online().token(), HANS_CERT);
    yoda.outbox().expectNoMessage();
    // The old session's end is stale: hans stays online, and new messages reach the new session.
    registry.tell(new UserRegistry.Unregister("hans", hans.session().ref()));
    hans.session().stop();
    expectOnline("hans", true);
    sendAndStore("yoda", "hans", "three", "y-3", 3);
    again
        .online()
        .outbox()
        .expectMessage(new ServerMessage.MessageReceived("yoda", "three", 3, "y-3"));
    hans.outbox().expectNoMessage();
    broadcaster.expectNoMessage();
  }

  @Test
  void shouldGiveNoTokenToAClientThatCannotResume() {
    startRegistry();
    Online hans = login("hans");
    logout(hans);

    // The welcome has no token, and the login recorded no grant (the helper checks).
    loginWithoutTokens("hans");
    // The grant of the earlier login went with this one.
    expectResumptionRefused("hans", hans.token(), null, "reason=no-grant");
  }

  @Test
  void shouldLetEachTokenResumeOnlyOnce() {
    startRegistry();
    Online hans = login("hans");
    Resumed first = resume("hans", hans.token(), null);
    evictions.expectMessage(new UserRegistry.Evict(Goodbye.Reason.RESUMED));
    broadcaster.expectMessageClass(Broadcaster.MemberMoved.class);
    journal.expectMessageClass(Journal.Record.class);

    // The token was used: it is worth nothing now, even to the client it was given to.
    expectResumptionRefused("hans", hans.token(), null, "reason=wrong-token");
    // The one handed out with the resumption works, once.
    assertEquals(
        UserRegistry.Resumption.RESUMED, resume("hans", first.online().token(), null).resumption());
  }

  @Test
  void shouldRefuseATokenPresentedWithoutTheCertificateItIsBoundTo() {
    startRegistry();
    Online hans = login("hans", Set.of(), HANS_CERT);

    expectResumptionRefused("hans", hans.token(), "SHA256:thief", "reason=wrong-certificate");
    expectResumptionRefused("hans", hans.token(), null, "reason=wrong-certificate");
    expectResumptionRefused("hans", "not-the-token", HANS_CERT, "reason=wrong-token");
    expectResumptionRefused("yoda", hans.token(), HANS_CERT, "reason=no-grant");
    expectResumptionRefused("bob", hans.token(), HANS_CERT, "reason=no-grant");

    // Refusals change nothing: the session and its token are as they were.
    evictions.expectNoMessage();
    broadcaster.expectNoMessage();
    journal.expectNoMessage();
    assertEquals(
        UserRegistry.Resumption.RESUMED, resume("hans", hans.token(), HANS_CERT).resumption());
  }

  @Test
  void shouldResumeAnEndedSessionAsALoginWithinTheWindowOnly() {
    startRegistry();
    Online yoda = login("yoda");
    Online hans = login("hans");
    logout(hans);
    sendAndStore("yoda", "hans", "kept", "y-1", 1);

    clock.advance(RESUME_WINDOW.minusSeconds(1));
    Resumed back = resume("hans", hans.token(), null);

    assertEquals(UserRegistry.Resumption.RESUMED, back.resumption());
    // The others saw hans leave, so they hear of the return; nothing is evicted.
    broadcaster.expectMessage(
        new Broadcaster.MemberJoined("hans", back.online().outbox().ref(), Set.of()));
    back.online()
        .outbox()
        .expectMessage(new ServerMessage.MessageReceived("yoda", "kept", 1, "y-1"));
    expectLoginRecorded("hans", back.online().token(), null);
    evictions.expectNoMessage();

    logout(back.online());
    clock.advance(RESUME_WINDOW);
    expectResumptionRefused("hans", back.online().token(), null, "reason=expired");
    yoda.outbox().expectNoMessage();
  }

  @Test
  void shouldEndResumptionWithALogoutAPasswordChangeOrTheAccountsRemoval() {
    startRegistry();
    Online hans = login("hans");
    TestProbe<UserRegistry.Left> left = testKit.createTestProbe();
    registry.tell(new UserRegistry.Leave("hans", hans.session().ref(), left.ref()));
    broadcaster.expectMessage(new Broadcaster.MemberLeft("hans", hans.outbox().ref()));
    Journal.Record loggedOut = journal.expectMessageClass(Journal.Record.class);
    // A logout ends the grant in the store too.
    assertEquals(new Change.LoggedOut("hans", T0), loggedOut.change());
    expectResumptionRefused("hans", hans.token(), null, "reason=no-grant");

    Online yoda = login("yoda");
    registry.tell(new UserRegistry.PasswordChanged("yoda"));
    // Also in the store, where a login checked against the old password may have left a grant.
    assertEquals(
        new Change.ResumptionRevoked("yoda"),
        journal.expectMessageClass(Journal.Record.class).change());
    expectResumptionRefused("yoda", yoda.token(), null, "reason=no-grant");

    Online luke = login("luke");
    registry.tell(new UserRegistry.AccountRemoved("luke"));
    evictions.expectMessage(new UserRegistry.Evict(Goodbye.Reason.ACCOUNT_REMOVED));
    expectResumptionRefused("luke", luke.token(), null, "reason=no-grant");
  }

  @Test
  void shouldLetSessionsOpenWhenTheServerStoppedResumeWithinTheWindowFromTheStart() {
    String token = new SecretTokens().newToken();
    StoreSnapshot empty = StoreSnapshot.empty();
    startRegistry(
        new StoreSnapshot(
            USERNAMES,
            empty.blocks(),
            empty.lastLogouts(),
            empty.lockouts(),
            empty.lastSeqs(),
            empty.ackedSeqs(),
            empty.pending(),
            Map.of(
                "hans", new ResumeGrant(new SecretTokens().hash(token), HANS_CERT, null),
                "luke", new ResumeGrant(new SecretTokens().hash("luke's"), null, T0))));

    expectResumptionRefused("luke", "luke's", null, "reason=expired");
    clock.advance(RESUME_WINDOW.minusSeconds(1));
    assertEquals(UserRegistry.Resumption.RESUMED, resume("hans", token, HANS_CERT).resumption());
  }

  @Test
  void shouldNotTellTheOthersOfSessionsTheStopClosesAndKeepTheirGrantsForTheNextStart() {
    startRegistry();
    Online yoda = login("yoda");
    Online hans = login("hans");
    Online luke = login("luke");
    // A client that cannot resume (protocol 1): no grant.
    Online r2d2 = loginWithoutTokens("r2d2");
    clock.advance(Duration.ofSeconds(30));
    Instant stop = clock.instant();

    registry.tell(UserRegistry.ShutdownStarted.INSTANCE);
    hans.session().stop();
    broadcaster.expectMessage(new Broadcaster.MemberLeft("hans", hans.outbox().ref(), null, false));
    journal.expectMessage(new Journal.Record(new Change.SessionInterrupted("hans", stop), null));
    registry.tell(new UserRegistry.Unregister("luke", luke.session().ref()));
    broadcaster.expectMessage(new Broadcaster.MemberLeft("luke", luke.outbox().ref(), null, false));
    journal.expectMessage(new Journal.Record(new Change.SessionInterrupted("luke", stop), null));

    // It will log in again, announced: so it is seen to go, as ever.
    r2d2.session().stop();
    broadcaster.expectMessage(new Broadcaster.MemberLeft("r2d2", r2d2.outbox().ref()));
    journal.expectMessage(new Journal.Record(new Change.LoggedOut("r2d2", stop), null));

    // A logout is the user's own, stop or not: announced, and the end of the grant.
    TestProbe<UserRegistry.Left> left = testKit.createTestProbe();
    registry.tell(new UserRegistry.Leave("yoda", yoda.session().ref(), left.ref()));
    broadcaster.expectMessage(new Broadcaster.MemberLeft("yoda", yoda.outbox().ref()));
    assertEquals(
        new Change.LoggedOut("yoda", stop),
        journal.expectMessageClass(Journal.Record.class).change());
    expectOnline("hans", false);
    expectOnline("luke", false);
  }

  @Test
  void shouldBringSessionsTheLastStopInterruptedBackUnannouncedAndAnnounceThoseNotBackInTime() {
    SecretTokens secrets = new SecretTokens();
    String hansToken = secrets.newToken();
    String lukeToken = secrets.newToken();
    String vaderToken = secrets.newToken();
    StoreSnapshot empty = StoreSnapshot.empty();
    startRegistry(
        new StoreSnapshot(
            USERNAMES,
            Map.of("luke", Set.of("yoda")),
            empty.lastLogouts(),
            empty.lockouts(),
            empty.lastSeqs(),
            empty.ackedSeqs(),
            empty.pending(),
            Map.of(
                "hans", new ResumeGrant(secrets.hash(hansToken), HANS_CERT, null),
                "luke", new ResumeGrant(secrets.hash(lukeToken), null, null),
                "vader", new ResumeGrant(secrets.hash(vaderToken), null, null))));
    login("yoda");

    Resumed hans = resume("hans", hansToken, HANS_CERT);
    assertEquals(UserRegistry.Resumption.RESUMED, hans.resumption());
    broadcaster.expectMessage(
        new Broadcaster.MemberJoined("hans", hans.online().outbox().ref(), Set.of(), false));
    expectLoginRecorded("hans", hans.online().token(), HANS_CERT);
    // A login with the password is a login: announced (the helper checks).
    login("vader");

    manualTime.timePasses(RESUME_WINDOW);
    broadcaster.expectMessage(new Broadcaster.ReturnOverdue("luke", Set.of("yoda")));
    journal.expectMessage(new Journal.Record(new Change.ResumptionRevoked("luke"), null));
    broadcaster.expectNoMessage();
    expectResumptionRefused("luke", lukeToken, null, "reason=no-grant");
  }

  // ---- mailbox capacity ----

  @Test
  void shouldRefuseAMessageWhenTheRecipientHasTooManyUnacknowledged() {
    startRegistry();
    login("hans");

    fillLukesMailbox("hans");
    send("hans", "luke", "one too many", "m-4");

    replies.expectMessage(new ServerMessage.Error(Code.MAILBOX_FULL, "message", "luke", "m-4"));
    journal.expectNoMessage();
    Online luke = login("luke");
    for (int i = 1; i <= MAILBOX_CAPACITY; i++) {
      luke.outbox()
          .expectMessage(new ServerMessage.MessageReceived("hans", "kept " + i, i, "m-" + i));
    }
    luke.outbox().expectNoMessage();
  }

  @Test
  void shouldCountMessagesStillBeingWrittenTowardsTheCapacity() {
    startRegistry();
    login("hans");
    send("hans", "luke", "kept 1", "m-1");
    send("hans", "luke", "kept 2", "m-2");
    send("hans", "luke", "kept 3", "m-3");
    Journal.Record first = expectAppended("luke", 1, "hans", "m-1", "kept 1");
    Journal.Record second = expectAppended("luke", 2, "hans", "m-2", "kept 2");
    Journal.Record third = expectAppended("luke", 3, "hans", "m-3", "kept 3");

    send("hans", "luke", "one too many", "m-4");
    // Refused at once, but answered after the messages sent before it, in order.
    replies.expectNoMessage();

    // One of them could not be stored: room for one more.
    answer(first, Outcome.FAILED);
    replies.expectMessage(new ServerMessage.Error(Code.UNAVAILABLE, "message", "luke", "m-1"));
    answer(second, Outcome.STORED);
    answer(third, Outcome.STORED);
    replies.expectMessage(new ServerMessage.MessageAccepted("m-2", true));
    replies.expectMessage(new ServerMessage.MessageAccepted("m-3", true));
    replies.expectMessage(new ServerMessage.Error(Code.MAILBOX_FULL, "message", "luke", "m-4"));
    send("hans", "luke", "room again", "m-5");
    expectAppended("luke", 4, "hans", "m-5", "room again");
  }

  @Test
  void shouldMakeRoomInTheMailboxOnlyOnceMessagesAreAcknowledged() {
    startRegistry();
    login("hans");
    fillLukesMailbox("hans");
    Online luke = login("luke");
    luke.outbox().receiveSeveralMessages(MAILBOX_CAPACITY);
    logout(luke);

    // Delivered is not enough: they wait for luke's acknowledgement.
    send("hans", "luke", "no room yet", "m-4");
    replies.expectMessage(new ServerMessage.Error(Code.MAILBOX_FULL, "message", "luke", "m-4"));

    acknowledge("luke", 1);
    sendAndStore("hans", "luke", "room for one", "m-5", 4);
    replies.expectMessage(new ServerMessage.MessageAccepted("m-5", true));
    send("hans", "luke", "and no more", "m-6");
    replies.expectMessage(new ServerMessage.Error(Code.MAILBOX_FULL, "message", "luke", "m-6"));
  }

  // ---- the stored state ----

  @Test
  void shouldStartFromTheStoredStateAndNumberOnFromTheLastStoredSeq() {
    StoredMessage six = new StoredMessage("luke", 6, "yoda", "y-6", "six", T0.minusSeconds(60));
    StoredMessage seven = new StoredMessage("luke", 7, "hans", null, "seven", T0.minusSeconds(30));
    stored.put(11L, six);
    stored.put(12L, seven);
    startRegistry(
        new StoreSnapshot(
            USERNAMES,
            Map.of("luke", Set.of("hans")),
            Map.of("vader", T0.minusSeconds(120), "r2d2", T0.minusSeconds(300)),
            Map.of(),
            Map.of("luke", 7L, "yoda", 3L),
            Map.of("luke", 5L, "yoda", 3L),
            Map.of(
                "luke",
                new StoreSnapshot.PendingMessages(
                    new long[] {6, 7}, new long[] {11, 12}, new int[] {3, 5})),
            Map.of()));
    login("hans");
    login("yoda");

    // Blocks.
    send("hans", "luke", "let me in", "m-1");
    replies.expectMessage(new ServerMessage.Error(Code.BLOCKED_BY_USER, "message", "luke", "m-1"));
    // History, for whoelsesince.
    registry.tell(new UserRegistry.ListRecent("hans", 200, replies.ref()));
    replies.expectMessage(new ServerMessage.RecentUsers(200, List.of("yoda", "vader")));
    // Numbering goes on after the last stored number.
    sendAndStore("yoda", "luke", "eight", "y-8", 8);
    replies.expectMessage(new ServerMessage.MessageAccepted("y-8", true));
    sendAndStore("luke", "yoda", "for yoda", "l-1", 4);
    sendAndStore("hans", "vader", "first for vader", "m-2", 1);

    // The unacknowledged tail, then what came since, with luke's blocks.
    Online luke = login("luke", Set.of("hans"));
    luke.outbox().expectMessage(new ServerMessage.MessageReceived("yoda", "six", 6, "y-6"));
    luke.outbox().expectMessage(new ServerMessage.MessageReceived("hans", "seven", 7, null));
    luke.outbox().expectMessage(new ServerMessage.MessageReceived("yoda", "eight", 8, "y-8"));
    luke.outbox().expectNoMessage();
    // What was acknowledged before the restart stays acknowledged.
    registry.tell(new UserRegistry.Acknowledge("luke", 5));
    journal.expectNoMessage();
    acknowledge("luke", 7);
  }

  // ---- the list of accounts ----

  @Test
  void shouldLearnOfAccountsAddedAndRemovedAtEachRefresh() {
    startRegistry(StoreSnapshot.empty().withUsernames(Set.of("hans", "yoda", "luke")));
    login("hans");
    send("hans", "leia", "hello?", "m-1");
    replies.expectMessage(new ServerMessage.Error(Code.INVALID_USER, "message", "leia", "m-1"));

    manualTime.timePasses(DIRECTORY_REFRESH.minusMillis(1));
    directoryReads.expectNoMessage();
    manualTime.timePasses(Duration.ofMillis(1));
    answerDirectoryRead(List.of("hans", "yoda", "leia"));

    sendAndStore("hans", "leia", "welcome", "m-2", 1);
    send("hans", "luke", "gone?", "m-3");
    replies.expectMessage(new ServerMessage.MessageAccepted("m-2", true));
    replies.expectMessage(new ServerMessage.Error(Code.INVALID_USER, "message", "luke", "m-3"));
    registry.tell(new UserRegistry.Block("hans", "luke", replies.ref()));
    replies.expectMessage(new ServerMessage.Error(Code.INVALID_USER, "block", "luke"));

    // And again every refresh interval.
    refreshDirectory(List.of("hans", "luke"));
    sendAndStore("hans", "luke", "back again", "m-4", 1);
  }

  @Test
  void shouldKeepOnlineUsersKnownWhenARefreshDoesNotListThem() {
    startRegistry();
    login("hans");
    login("yoda");

    refreshDirectory(List.of("yoda"));

    sendAndStore("yoda", "hans", "still here", "y-1", 1);
  }

  @Test
  void shouldKeepTheAccountsItKnowsWhenARefreshFails() {
    startRegistry();
    login("hans");

    LoggingTestKit.warn("account list refresh failed")
        .expect(
            testKit.system(),
            () -> {
              manualTime.timePasses(DIRECTORY_REFRESH);
              directoryReads
                  .receiveMessage()
                  .completeExceptionally(new IllegalStateException("database down"));
              awaitDirectoryRefreshed();
              return null;
            });

    sendAndStore("hans", "luke", "still known", "m-1", 1);
  }

  @Test
  void shouldAdmitAnAccountAddedSinceTheLastRefresh() {
    startRegistry(StoreSnapshot.empty().withUsernames(Set.of("hans")));
    login("hans");

    // The login guard found leia in the store: she exists.
    login("leia");

    sendAndStore("hans", "leia", "welcome", "m-1", 1);
  }

  @Test
  void shouldNotGiveTheMessagesOfARemovedAccountToANewAccountOfTheSameName() {
    StoredMessage old = new StoredMessage("luke", 1, "yoda", "y-1", "for the old luke", T0);
    stored.put(1L, old);
    startRegistry(
        new StoreSnapshot(
            USERNAMES,
            Map.of("luke", Set.of("hans")),
            Map.of(),
            Map.of(),
            Map.of("luke", 1L),
            Map.of("luke", 0L),
            Map.of(
                "luke",
                new StoreSnapshot.PendingMessages(new long[] {1}, new long[] {1}, new int[] {16})),
            Map.of()));
    // user remove luke, then user add luke: the registry sees luke go, then come back.
    refreshDirectory(List.of("hans", "yoda"));
    refreshDirectory(List.of("hans", "yoda", "luke"));

    Online newLuke = login("luke");

    newLuke.outbox().expectNoMessage();
  }

  // ---- whoelse ----

  @Test
  void shouldListTheOtherOnlineUsersInLoginOrder() {
    startRegistry();
    login("hans");
    Online yoda = login("yoda");
    login("luke");

    registry.tell(new UserRegistry.ListOnline("hans", replies.ref()));
    replies.expectMessage(new ServerMessage.OnlineUsers(List.of("yoda", "luke")));
    registry.tell(new UserRegistry.ListOnline("luke", replies.ref()));
    replies.expectMessage(new ServerMessage.OnlineUsers(List.of("hans", "yoda")));

    // A user who logs in again goes to the end of the order.
    logout(yoda);
    login("yoda");
    registry.tell(new UserRegistry.ListOnline("hans", replies.ref()));
    replies.expectMessage(new ServerMessage.OnlineUsers(List.of("luke", "yoda")));
  }

  @Test
  void shouldListNobodyWhenAlone() {
    startRegistry();
    login("hans");

    registry.tell(new UserRegistry.ListOnline("hans", replies.ref()));

    replies.expectMessage(new ServerMessage.OnlineUsers(List.of()));
  }

  // ---- whoelsesince ----

  @Test
  void shouldListWhoseOnlineTimeOverlapsTheWindowAsInTheReferenceRun() {
    startRegistry();
    sampleRunHistory();

    registry.tell(new UserRegistry.ListRecent("luke", 200, replies.ref()));
    replies.expectMessage(new ServerMessage.RecentUsers(200, List.of("hans", "yoda", "vader")));

    registry.tell(new UserRegistry.ListRecent("yoda", 500, replies.ref()));
    replies.expectMessage(
        new ServerMessage.RecentUsers(500, List.of("hans", "luke", "vader", "r2d2")));
  }

  @Test
  void shouldCountALogoutExactlyAtTheStartOfTheWindow() {
    startRegistry();
    sampleRunHistory(); // vader logged out 120 s ago, r2d2 300 s ago

    registry.tell(new UserRegistry.ListRecent("hans", 120, replies.ref()));
    replies.expectMessage(new ServerMessage.RecentUsers(120, List.of("yoda", "luke", "vader")));
    registry.tell(new UserRegistry.ListRecent("hans", 119, replies.ref()));
    replies.expectMessage(new ServerMessage.RecentUsers(119, List.of("yoda", "luke")));
    registry.tell(new UserRegistry.ListRecent("hans", 0, replies.ref()));
    replies.expectMessage(new ServerMessage.RecentUsers(0, List.of("yoda", "luke")));
  }

  @Test
  void shouldNeverListUsersWhoHaveNotBeenOnline() {
    startRegistry();
    sampleRunHistory();

    registry.tell(new UserRegistry.ListRecent("hans", 10_000_000, replies.ref()));

    // leia has an account but was never online: she is not listed however far back one looks.
    replies.expectMessage(
        new ServerMessage.RecentUsers(10_000_000, List.of("yoda", "luke", "vader", "r2d2")));
  }

  @Test
  void shouldRefuseANegativeWindow() {
    startRegistry();
    login("hans");

    registry.tell(new UserRegistry.ListRecent("hans", -1, replies.ref()));

    replies.expectMessage(
        new ServerMessage.Error(Code.INVALID_ARGUMENT, "whoelsesince", "seconds"));
  }

  @Test
  void shouldAnswerAWindowLongerThanTimeItself() {
    startRegistry();
    sampleRunHistory();

    registry.tell(new UserRegistry.ListRecent("hans", Long.MAX_VALUE, replies.ref()));

    replies.expectMessage(
        new ServerMessage.RecentUsers(Long.MAX_VALUE, List.of("yoda", "luke", "vader", "r2d2")));
  }

  // ---- block and unblock ----

  @Test
  void shouldBlockAUserRecordItAndGiveTheBroadcasterTheNewBlockList() {
    startRegistry();
    login("hans");
    login("luke");

    registry.tell(new UserRegistry.Block("luke", "hans", replies.ref()));

    // Confirmed, and in force, only once stored.
    Journal.Record record = journal.expectMessageClass(Journal.Record.class);
    assertEquals(new Change.BlockAdded("luke", "hans"), record.change());
    replies.expectNoMessage();
    broadcaster.expectNoMessage();
    answer(record, Outcome.APPLIED);
    replies.expectMessage(new ServerMessage.BlockConfirmed("hans"));
    broadcaster.expectMessage(new Broadcaster.BlocksChanged("luke", Set.of("hans")));
    registry.tell(new UserRegistry.Block("luke", "yoda", replies.ref()));
    expectRecordedAndAnswer(new Change.BlockAdded("luke", "yoda"), Outcome.APPLIED);
    replies.expectMessage(new ServerMessage.BlockConfirmed("yoda"));
    broadcaster.expectMessage(new Broadcaster.BlocksChanged("luke", Set.of("hans", "yoda")));
  }

  @Test
  void shouldRefuseToBlockAnUnknownUserOneselfOrSomeoneAlreadyBlocked() {
    startRegistry();
    login("hans");
    login("luke");
    block("luke", "hans");

    registry.tell(new UserRegistry.Block("luke", "bob", replies.ref()));
    replies.expectMessage(new ServerMessage.Error(Code.INVALID_USER, "block", "bob"));
    registry.tell(new UserRegistry.Block("hans", "hans", replies.ref()));
    replies.expectMessage(new ServerMessage.Error(Code.SELF, "block", "hans"));
    registry.tell(new UserRegistry.Block("luke", "hans", replies.ref()));
    replies.expectMessage(new ServerMessage.Error(Code.ALREADY_BLOCKED, "block", "hans"));
    // A refused block changes nobody's block list, and nothing is written.
    broadcaster.expectNoMessage();
    journal.expectNoMessage();
  }

  @Test
  void shouldUnblockABlockedUserRecordItAndGiveTheBroadcasterTheNewBlockList() {
    startRegistry();
    login("hans");
    login("luke");
    block("luke", "hans");

    registry.tell(new UserRegistry.Unblock("luke", "hans", replies.ref()));

    expectRecordedAndAnswer(new Change.BlockRemoved("luke", "hans"), Outcome.APPLIED);
    replies.expectMessage(new ServerMessage.UnblockConfirmed("hans"));
    broadcaster.expectMessage(new Broadcaster.BlocksChanged("luke", Set.of()));
    sendAndStore("hans", "luke", "friends again?", "m-1", 1);
    replies.expectMessage(new ServerMessage.MessageAccepted("m-1", false));
  }

  @Test
  void shouldRefuseToUnblockAnUnknownUserOneselfOrSomeoneNotBlocked() {
    startRegistry();
    login("luke");

    registry.tell(new UserRegistry.Unblock("luke", "bob", replies.ref()));
    replies.expectMessage(new ServerMessage.Error(Code.INVALID_USER, "unblock", "bob"));
    registry.tell(new UserRegistry.Unblock("luke", "luke", replies.ref()));
    replies.expectMessage(new ServerMessage.Error(Code.SELF, "unblock", "luke"));
    registry.tell(new UserRegistry.Unblock("luke", "yoda", replies.ref()));
    replies.expectMessage(new ServerMessage.Error(Code.NOT_BLOCKED, "unblock", "yoda"));
    broadcaster.expectNoMessage();
    journal.expectNoMessage();
  }

  @Test
  void shouldKeepBlocksAcrossLoginsAndHandThemToTheBroadcasterAtLogin() {
    startRegistry();
    Online luke = login("luke");
    block("luke", "hans");
    logout(luke);

    login("luke", Set.of("hans"));
  }

  @Test
  void shouldNotTellTheBroadcasterAboutTheBlocksOfAnOfflineUser() {
    startRegistry();
    registry.tell(new UserRegistry.Block("luke", "hans", replies.ref()));

    expectRecordedAndAnswer(new Change.BlockAdded("luke", "hans"), Outcome.APPLIED);
    replies.expectMessage(new ServerMessage.BlockConfirmed("hans"));
    // The broadcaster's roster holds online users only; luke's list reaches it when he logs in.
    broadcaster.expectNoMessage();
  }

  // ---- startprivate ----

  @Test
  void shouldGiveThePeerAddressAndFingerprintWithATokenAndInviteThePeerWithIt() {
    startRegistry();
    login("hans");
    TestProbe<ServerMessage> lukeOutbox = registerPeer("luke", Protocol.VERSION);

    registry.tell(new UserRegistry.LocatePeer("hans", "luke", replies.ref()));

    ServerMessage.PeerAddress address = replies.expectMessageClass(ServerMessage.PeerAddress.class);
    assertEquals(
        new ServerMessage.PeerAddress("luke", "192.0.2.7", 50002, LUKE_PEER_CERT, address.token()),
        address);
    // The same token reaches luke over his own connection: only hans can present it.
    assertEquals(
        new ServerMessage.PeerInvited("hans", address.token(), PEER_TOKEN_TTL.toSeconds()),
        lukeOutbox.expectMessageClass(ServerMessage.PeerInvited.class));
    assertEquals(43, address.token().length());

    // Each startprivate gets a token of its own.
    registry.tell(new UserRegistry.LocatePeer("hans", "luke", replies.ref()));
    String second = replies.expectMessageClass(ServerMessage.PeerAddress.class).token();
    assertNotEquals(address.token(), second);
    assertEquals(second, lukeOutbox.expectMessageClass(ServerMessage.PeerInvited.class).token());
  }

  @Test
  void shouldGiveABareAddressWhenThePeerTakesNoTokens() {
    startRegistry();
    login("hans");
    TestProbe<ServerMessage> lukeOutbox = registerPeer("luke", 2);

    registry.tell(new UserRegistry.LocatePeer("hans", "luke", replies.ref()));

    replies.expectMessage(
        new ServerMessage.PeerAddress("luke", "192.0.2.7", 50002, LUKE_PEER_CERT, null));
    lukeOutbox.expectNoMessage();
  }

  /** Registers {@code name}'s session, of a client of {@code version}, with a peer certificate. */
  private TestProbe<ServerMessage> registerPeer(String name, int version) {
    TestProbe<Object> session = testKit.createTestProbe();
    TestProbe<ServerMessage> outbox = testKit.createTestProbe();
    registry.tell(
        new UserRegistry.Register(
            name,
            new UserRegistry.Attachment(
                session.ref(),
                outbox.ref(),
                evictions.ref(),
                "192.0.2.7",
                50002,
                LUKE_PEER_CERT,
                null,
                version),
            registrations.ref()));
    registrations.expectMessage(Registration.REGISTERED);
    outbox.expectMessageClass(ServerMessage.LoginAccepted.class);
    return outbox;
  }

  @Test
  void shouldRefuseAPeerAddressForAnUnknownUserOrOneself() {
    startRegistry();
    login("hans");

    registry.tell(new UserRegistry.LocatePeer("hans", "bob", replies.ref()));
    replies.expectMessage(new ServerMessage.Error(Code.INVALID_USER, "startprivate", "bob"));
    registry.tell(new UserRegistry.LocatePeer("hans", "hans", replies.ref()));
    replies.expectMessage(new ServerMessage.Error(Code.SELF, "startprivate", "hans"));
  }

  @Test
  void shouldRefuseAPeerAddressOfATargetWhoBlockedTheRequester() {
    startRegistry();
    login("hans");
    Online luke = login("luke");
    block("luke", "hans");

    registry.tell(new UserRegistry.LocatePeer("hans", "luke", replies.ref()));
    replies.expectMessage(new ServerMessage.Error(Code.BLOCKED_BY_USER, "startprivate", "luke"));

    // Blocked comes before offline: an offline blocker is not revealed as offline.
    logout(luke);
    registry.tell(new UserRegistry.LocatePeer("hans", "luke", replies.ref()));
    replies.expectMessage(new ServerMessage.Error(Code.BLOCKED_BY_USER, "startprivate", "luke"));
  }

  @Test
  void shouldRefuseAPrivateChatWithAUserWhoseClientTakesNone() {
    startRegistry();
    login("hans");
    // A web browser's session: it sent no peerPort.
    TestProbe<Object> session = testKit.createTestProbe();
    TestProbe<ServerMessage> outbox = testKit.createTestProbe();
    registry.tell(
        new UserRegistry.Register(
            "luke",
            new UserRegistry.Attachment(
                session.ref(),
                outbox.ref(),
                evictions.ref(),
                "127.0.0.1",
                UserRegistry.Attachment.NO_PEER_PORT,
                null,
                null,
                Protocol.VERSION),
            registrations.ref()));
    expectWelcome(outbox, "luke");
    registrations.expectMessage(Registration.REGISTERED);

    registry.tell(new UserRegistry.LocatePeer("hans", "luke", replies.ref()));

    replies.expectMessage(
        new ServerMessage.Error(Code.PRIVATE_UNSUPPORTED, "startprivate", "luke"));
    // Nobody is invited to a chat that cannot happen.
    outbox.expectNoMessage(Duration.ofMillis(100));
  }

  @Test
  void shouldRefuseAPeerAddressOfAnOfflineUser() {
    startRegistry();
    login("hans");

    registry.tell(new UserRegistry.LocatePeer("hans", "luke", replies.ref()));

    replies.expectMessage(new ServerMessage.Error(Code.USER_OFFLINE, "startprivate", "luke"));
  }

  // ---- delivery paced by acknowledgements ----

  @Test
  void shouldHandAClientNoMoreThanTheWindowAheadOfItsAcknowledgements() {
    startRegistryWithRoomBeyondTheWindow();
    login("hans");
    Online yoda = login("yoda");
    for (int seq = 1; seq <= 5; seq++) {
      sendAndStore("hans", "yoda", "n" + seq, "m-" + seq, seq);
    }

    yoda.outbox().expectMessage(new ServerMessage.MessageReceived("hans", "n1", 1, "m-1"));
    yoda.outbox().expectMessage(new ServerMessage.MessageReceived("hans", "n2", 2, "m-2"));
    yoda.outbox().expectMessage(new ServerMessage.MessageReceived("hans", "n3", 3, "m-3"));
    // The window (three) is full: the rest wait in the store.
    yoda.outbox().expectNoMessage();

    acknowledge("yoda", 2);
    // Two slots free: the next two are read back from the store.
    yoda.outbox().expectMessage(new ServerMessage.MessageReceived("hans", "n4", 4, "m-4"));
    yoda.outbox().expectMessage(new ServerMessage.MessageReceived("hans", "n5", 5, "m-5"));
    yoda.outbox().expectNoMessage();
    // Caught up: the next message goes out live again.
    acknowledge("yoda", 5);
    sendAndStore("hans", "yoda", "live", "m-6", 6);
    yoda.outbox().expectMessage(new ServerMessage.MessageReceived("hans", "live", 6, "m-6"));
  }

  @Test
  void shouldCountTheWindowInBytesToo() {
    startRegistryWithRoomBeyondTheWindow();
    login("hans");
    Online yoda = login("yoda");
    String big = "x".repeat(300);

    sendAndStore("hans", "yoda", big, "m-1", 1);
    sendAndStore("hans", "yoda", big, "m-2", 2);

    yoda.outbox().expectMessage(new ServerMessage.MessageReceived("hans", big, 1, "m-1"));
    // 600 bytes would be over the window's 500.
    yoda.outbox().expectNoMessage();
    acknowledge("yoda", 1);
    yoda.outbox().expectMessage(new ServerMessage.MessageReceived("hans", big, 2, "m-2"));
  }

  @Test
  void shouldReplayAFullMailboxAtLoginAPageAtATimeAsAcknowledgementsCome() {
    startRegistry();
    login("hans");
    fillLukesMailbox("hans");

    Online luke = login("luke");
    // A page of two, then one more to fill the window of three: paced by the store's reads, never
    // all at once into the connection.
    luke.outbox().expectMessage(new ServerMessage.MessageReceived("hans", "kept 1", 1, "m-1"));
    luke.outbox().expectMessage(new ServerMessage.MessageReceived("hans", "kept 2", 2, "m-2"));
    luke.outbox().expectMessage(new ServerMessage.MessageReceived("hans", "kept 3", 3, "m-3"));
    luke.outbox().expectNoMessage();
  }

  @Test
  void shouldAskForAPageAgainWhenTheStoreCouldNotReadIt() {
    startRegistry();
    login("hans");
    fillLukesMailbox("hans");
    pagesFail = true;

    Online luke = login("luke");
    luke.outbox().expectNoMessage();
    pagesFail = false;
    manualTime.timePasses(PAGING_RETRY);

    luke.outbox().expectMessage(new ServerMessage.MessageReceived("hans", "kept 1", 1, "m-1"));
  }

  @Test
  void shouldRefuseAMessageThatWouldTakeTheMailboxOverItsBytes() {
    startRegistry();
    login("hans");
    String text = "y".repeat(400);
    sendAndStore("hans", "luke", text, "m-1", 1);
    replies.expectMessage(new ServerMessage.MessageAccepted("m-1", true));
    sendAndStore("hans", "luke", text, "m-2", 2);
    replies.expectMessage(new ServerMessage.MessageAccepted("m-2", true));

    // 1,200 bytes would be over the mailbox's 1,000, though it holds only two messages of three.
    send("hans", "luke", text, "m-3");

    replies.expectMessage(new ServerMessage.Error(Code.MAILBOX_FULL, "message", "luke", "m-3"));
    journal.expectNoMessage();
    send("hans", "luke", "short", "m-4");
    expectAppended("luke", 3, "hans", "m-4", "short");
  }

  @Test
  void shouldTakeAnAcknowledgementOfMessagesShownBeforeAReconnect() {
    startRegistry();
    login("hans");
    Online luke = login("luke");
    sendAndStore("hans", "luke", "one", "m-1", 1);
    sendAndStore("hans", "luke", "two", "m-2", 2);
    luke.outbox().receiveSeveralMessages(2);
    logout(luke);

    // The client reconnects and acknowledges at once what it showed on the lost connection,
    // before the new connection has been sent anything (here the store is slow to read it back).
    pagesFail = true;
    Online lukeAgain = login("luke");
    lukeAgain.outbox().expectNoMessage();
    registry.tell(new UserRegistry.Acknowledge("luke", 2));
    expectRecordedAndAnswer(new Change.Acknowledged("luke", 2), Outcome.APPLIED);

    // Nothing is left to send again.
    pagesFail = false;
    logout(lukeAgain);
    login("luke").outbox().expectNoMessage();
  }

  @Test
  void shouldKeepMessagesAnAcknowledgementCoveredUntilTheAcknowledgementIsStored() {
    startRegistry();
    login("hans");
    Online luke = login("luke");
    sendAndStore("hans", "luke", "one", "m-1", 1);
    luke.outbox().receiveMessage();

    registry.tell(new UserRegistry.Acknowledge("luke", 1));
    // The store could not take it: not trusted, so the message is not forgotten.
    expectRecordedAndAnswer(new Change.Acknowledged("luke", 1), Outcome.FAILED);
    logout(luke);

    Online lukeAgain = login("luke");
    lukeAgain.outbox().expectMessage(new ServerMessage.MessageReceived("hans", "one", 1, "m-1"));
    // And the client's next acknowledgement is stored afresh.
    acknowledge("luke", 1);
  }

  // ---- durable before confirmed ----

  @Test
  void shouldNotBlockAndTellTheBlockerUnavailableWhenTheBlockCouldNotBeStored() {
    startRegistry();
    login("hans");
    login("luke");

    registry.tell(new UserRegistry.Block("luke", "hans", replies.ref()));
    expectRecordedAndAnswer(new Change.BlockAdded("luke", "hans"), Outcome.FAILED);

    replies.expectMessage(new ServerMessage.Error(Code.UNAVAILABLE, "block", "hans"));
    broadcaster.expectNoMessage();
    sendAndStore("hans", "luke", "not blocked", "m-1", 1);
    replies.expectMessage(new ServerMessage.MessageAccepted("m-1", false));
  }

  @Test
  void shouldAnswerALeaveOnlyOnceTheLogoutIsStored() {
    startRegistry();
    Online hans = login("hans");
    TestProbe<UserRegistry.Left> left = testKit.createTestProbe();

    registry.tell(new UserRegistry.Leave("hans", hans.session().ref(), left.ref()));

    broadcaster.expectMessage(new Broadcaster.MemberLeft("hans", hans.outbox().ref()));
    Journal.Record record = journal.expectMessageClass(Journal.Record.class);
    assertEquals(new Change.LoggedOut("hans", T0), record.change());
    left.expectNoMessage();
    answer(record, Outcome.APPLIED);
    left.expectMessage(UserRegistry.Left.INSTANCE);
  }

  @Test
  void shouldAnswerALeaveOfASessionThatIsNotTheCurrentOneAtOnce() {
    startRegistry();
    login("hans");
    TestProbe<UserRegistry.Left> left = testKit.createTestProbe();

    registry.tell(new UserRegistry.Leave("hans", testKit.createTestProbe().ref(), left.ref()));

    left.expectMessage(UserRegistry.Left.INSTANCE);
    expectOnline("hans", true);
    journal.expectNoMessage();
  }

  @Test
  void shouldTellTheSenderInvalidTextWhenTheStoreRefusedTheMessageForItsData() {
    startRegistry();
    login("hans");
    Online yoda = login("yoda");

    send("hans", "yoda", "poison", "m-1");
    answer(expectAppended("yoda", 1, "hans", "m-1", "poison"), Outcome.REFUSED);

    replies.expectMessage(
        new ServerMessage.Error(
            Code.INVALID_TEXT, "message", "the server's database cannot store this text", "m-1"));
    yoda.outbox().expectNoMessage();
    sendAndStore("hans", "yoda", "fine", "m-2", 2);
    yoda.outbox().expectMessage(new ServerMessage.MessageReceived("hans", "fine", 2, "m-2"));
  }

  // ---- accounts changed by an administrator ----

  @Test
  void shouldEvictTheSessionOfARemovedAccountAndForgetIt() {
    startRegistry();
    login("hans");
    login("luke");

    registry.tell(new UserRegistry.AccountRemoved("luke"));

    evictions.expectMessage(new UserRegistry.Evict(ServerMessage.Goodbye.Reason.ACCOUNT_REMOVED));
    send("hans", "luke", "still there?", "m-1");
    replies.expectMessage(new ServerMessage.Error(Code.INVALID_USER, "message", "luke", "m-1"));
  }

  @Test
  void shouldMakeAnAddedAccountAddressableAtOnce() {
    startRegistry(StoreSnapshot.empty().withUsernames(Set.of("hans")));
    login("hans");

    registry.tell(new UserRegistry.AccountAdded("leia"));

    sendAndStore("hans", "leia", "welcome", "m-1", 1);
    replies.expectMessage(new ServerMessage.MessageAccepted("m-1", true));
  }

  // ---- bounded lists ----

  @Test
  void shouldCapWhoelseAndSayHowManyItLeftOut() {
    startRegistry();
    login("hans");
    login("yoda");
    login("luke");
    login("vader");
    login("r2d2");
    login("leia");

    registry.tell(new UserRegistry.ListOnline("hans", replies.ref()));

    replies.expectMessage(
        new ServerMessage.OnlineUsers(List.of("yoda", "luke", "vader", "r2d2"), 1));
    registry.tell(new UserRegistry.ListRecent("hans", 10, replies.ref()));
    replies.expectMessage(
        new ServerMessage.RecentUsers(10, List.of("yoda", "luke", "vader", "r2d2"), 1));
  }

  // ---- consistency when a handler fails ----

  @Test
  void shouldKeepItsCountersInStepWhenAHandlerFailsHalfway() {
    startRegistry();
    login("hans");
    login("yoda");
    sendAndStore("hans", "luke", "one", "m-1", 1);
    replies.expectMessage(new ServerMessage.MessageAccepted("m-1", true));

    // The clock fails while a message is being handled: the handler throws before it changes
    // anything, and the registry resumes.
    clock.failNextRead();
    LoggingTestKit.error(IllegalStateException.class)
        .expect(
            testKit.system(),
            () -> {
              send("hans", "luke", "lost", "m-2");
              return null;
            });

    // Numbering and capacity as if the failed message had never been: two more fit, then full.
    sendAndStore("hans", "luke", "two", "m-3", 2);
    replies.expectMessage(new ServerMessage.MessageAccepted("m-3", true));
    sendAndStore("yoda", "luke", "three", "y-1", 3);
    replies.expectMessage(new ServerMessage.MessageAccepted("y-1", true));
    send("hans", "luke", "four", "m-4");
    replies.expectMessage(new ServerMessage.Error(Code.MAILBOX_FULL, "message", "luke", "m-4"));
  }

  // ---- helpers ----

  private void startRegistry() {
    startRegistry(StoreSnapshot.empty().withUsernames(USERNAMES));
  }

  private void startRegistry(StoreSnapshot snapshot) {
    startRegistry(
        snapshot,
        new ServerSettings.Mailbox(MAILBOX_CAPACITY, MAILBOX_BYTES, WINDOW, WINDOW_BYTES, PAGE));
  }

  /** A registry with room for more messages than the delivery window, for the window's tests. */
  private void startRegistryWithRoomBeyondTheWindow() {
    startRegistry(
        StoreSnapshot.empty().withUsernames(USERNAMES),
        new ServerSettings.Mailbox(10, 10_000, WINDOW, WINDOW_BYTES, PAGE));
  }

  private void startRegistry(StoreSnapshot snapshot, ServerSettings.Mailbox mailbox) {
    Supplier<CompletionStage<? extends Collection<String>>> directory =
        () -> {
          CompletableFuture<Collection<String>> read = new CompletableFuture<>();
          directoryReads.ref().tell(read);
          return read;
        };
    registry =
        testKit.spawn(
            Behaviors.monitor(
                UserRegistry.Command.class,
                handled.ref(),
                resumeOnFailure(
                    UserRegistry.create(
                        snapshot,
                        broadcaster.ref(),
                        journal.ref(),
                        directory,
                        this::readPage,
                        new UserRegistry.Settings(
                            mailbox,
                            LIST_LIMIT,
                            LIST_BYTES,
                            DIRECTORY_REFRESH,
                            PAGING_RETRY,
                            RESUME_WINDOW,
                            PEER_TOKEN_TTL),
                        clock))));
  }

  /** Supervised as the Guardian supervises it: a failure while handling a message resumes it. */
  private static Behavior<UserRegistry.Command> resumeOnFailure(
      Behavior<UserRegistry.Command> registry) {
    return Behaviors.supervise(registry).onFailure(SupervisorStrategy.resume());
  }

  /** The refresh timer fires, and the read of the accounts finds {@code usernames}. */
  private void refreshDirectory(List<String> usernames) {
    manualTime.timePasses(DIRECTORY_REFRESH);
    answerDirectoryRead(usernames);
  }

  /** Answers the registry's read of the accounts, and waits until it has taken the answer in. */
  private void answerDirectoryRead(List<String> usernames) {
    directoryReads.receiveMessage().complete(usernames);
    awaitDirectoryRefreshed();
  }

  /**
   * Returns once the registry has the answer to its read of the accounts: whatever the test sends
   * from now on is handled after it. (The answer reaches the registry through pipeToSelf, possibly
   * after commands the test sends right after completing the read.)
   */
  private void awaitDirectoryRefreshed() {
    handled.fishForMessage(
        Duration.ofSeconds(5),
        command ->
            command.getClass().getSimpleName().equals("DirectoryRefreshed")
                ? FishingOutcomes.complete()
                : FishingOutcomes.continueAndIgnore());
  }

  private Online login(String name) {
    return login(name, Set.of());
  }

  /** Registers a new session of {@code name}, whose block list is {@code blocks}. */
  private Online login(String name, Set<String> blocks) {
    TestProbe<Object> session = testKit.createTestProbe();
    TestProbe<ServerMessage> outbox = testKit.createTestProbe();
    registry.tell(
        new UserRegistry.Register(
            name,
            new UserRegistry.Attachment(
                session.ref(),
                outbox.ref(),
                evictions.ref(),
                "127.0.0.1",
                50000,
                null,
                null,
                Protocol.VERSION),
            registrations.ref()));
    String token = expectWelcome(outbox, name);
    broadcaster.expectMessage(new Broadcaster.MemberJoined(name, outbox.ref(), blocks));
    expectLoginRecorded(name, token, null);
    registrations.expectMessage(Registration.REGISTERED);
    return new Online(name, session, outbox, token);
  }

  /** Registers a new session of {@code name} over TLS with the client certificate {@code cert}. */
  private Online login(String name, Set<String> blocks, String cert) {
    TestProbe<Object> session = testKit.createTestProbe();
    TestProbe<ServerMessage> outbox = testKit.createTestProbe();
    registry.tell(
        new UserRegistry.Register(
            name,
            new UserRegistry.Attachment(
                session.ref(),
                outbox.ref(),
                evictions.ref(),
                "127.0.0.1",
                50000,
                null,
                cert,
                Protocol.VERSION),
            registrations.ref()));
    String token = expectWelcome(outbox, name);
    broadcaster.expectMessage(new Broadcaster.MemberJoined(name, outbox.ref(), blocks));
    expectLoginRecorded(name, token, cert);
    registrations.expectMessage(Registration.REGISTERED);
    return new Online(name, session, outbox, token);
  }

  /**
   * Registers a session of {@code name} from a client that cannot resume (protocol 1): welcomed
   * without a token, its login recorded without a grant. Its token is null.
   */
  private Online loginWithoutTokens(String name) {
    TestProbe<Object> session = testKit.createTestProbe();
    TestProbe<ServerMessage> outbox = testKit.createTestProbe();
    registry.tell(
        new UserRegistry.Register(
            name,
            new UserRegistry.Attachment(
                session.ref(), outbox.ref(), evictions.ref(), "127.0.0.1", 50000, null, null, 1),
            registrations.ref()));
    outbox.expectMessage(new ServerMessage.LoginAccepted(name));
    broadcaster.expectMessage(new Broadcaster.MemberJoined(name, outbox.ref(), Set.of()));
    journal.expectMessage(
        new Journal.Record(new Change.LoggedIn(name, clock.instant(), null), null));
    registrations.expectMessage(Registration.REGISTERED);
    return new Online(name, session, outbox, null);
  }

  /** The answer to a resumption, and the new session (its token null if refused). */
  private record Resumed(UserRegistry.Resumption resumption, Online online) {}

  /** A new session of {@code name} presents {@code token} over a connection with {@code cert}. */
  private Resumed resume(String name, String token, String cert) {
    TestProbe<Object> session = testKit.createTestProbe();
    TestProbe<ServerMessage> outbox = testKit.createTestProbe();
    TestProbe<UserRegistry.Resumption> answers = testKit.createTestProbe();
    registry.tell(
        new UserRegistry.Resume(
            name,
            token,
            new UserRegistry.Attachment(
                session.ref(),
                outbox.ref(),
                evictions.ref(),
                "192.0.2.9",
                50000,
                null,
                cert,
                Protocol.VERSION),
            answers.ref()));
    UserRegistry.Resumption resumption = answers.receiveMessage();
    String newToken =
        resumption == UserRegistry.Resumption.RESUMED ? expectWelcome(outbox, name) : null;
    return new Resumed(resumption, new Online(name, session, outbox, newToken));
  }

  /** The resumption is refused, logged with {@code reason}, and its connection is sent nothing. */
  private void expectResumptionRefused(String name, String token, String cert, String reason) {
    Resumed refused =
        LoggingTestKit.warn("resumption refused user=" + name)
            .withMessageContains(reason)
            .expect(testKit.system(), () -> resume(name, token, cert));
    assertEquals(UserRegistry.Resumption.REFUSED, refused.resumption());
    refused.online().outbox().expectNoMessage();
  }

  /** The welcome of a new session: {@code login-accepted} with a token; returns the token. */
  private static String expectWelcome(TestProbe<ServerMessage> outbox, String name) {
    ServerMessage.LoginAccepted accepted =
        outbox.expectMessageClass(ServerMessage.LoginAccepted.class);
    assertEquals(name, accepted.username());
    assertNotNull(accepted.resumeToken());
    return accepted.resumeToken();
  }

  /** The login recorded, with the grant of {@code token} bound to {@code certificate}. */
  private void expectLoginRecorded(String name, String token, String certificate) {
    journal.expectMessage(
        new Journal.Record(
            new Change.LoggedIn(
                name,
                clock.instant(),
                new ResumeGrant(new SecretTokens().hash(token), certificate, null)),
            null));
  }

  private void logout(Online user) {
    registry.tell(new UserRegistry.Unregister(user.name(), user.session().ref()));
    broadcaster.expectMessage(new Broadcaster.MemberLeft(user.name(), user.outbox().ref()));
    journal.expectMessage(
        new Journal.Record(
            new Change.LoggedOut(user.name(), clock.instant(), clock.instant().plus(RESUME_WINDOW)),
            null));
  }

  private void send(String from, String to, String text, String id) {
    registry.tell(
        new UserRegistry.SendDirect(
            from, to, text, id, WireText.encodedLength(text), replies.ref()));
  }

  /** The journal was asked to store this message; returns the request, to answer it. */
  private Journal.Record expectAppended(String to, long seq, String from, String id, String text) {
    Journal.Record record = journal.expectMessageClass(Journal.Record.class);
    assertEquals(
        new Change.MessageAppended(new StoredMessage(to, seq, from, id, text, clock.instant())),
        record.change());
    assertNotNull(record.replyTo(), "the registry waits for the outcome");
    return record;
  }

  /** Answers a recorded change as the journal would; a stored message gets a row id. */
  private void answer(Journal.Record record, Outcome outcome) {
    long id = 0;
    if (outcome == Outcome.STORED && record.change() instanceof Change.MessageAppended appended) {
      id = nextMessageId++;
      stored.put(id, appended.message());
    }
    record
        .replyTo()
        .tell(
            new Journal.Recorded(
                List.of(new Journal.Recorded.Outcome(record.change(), outcome, id))));
  }

  /** The journal was asked to store {@code change} for someone who waits; answers it. */
  private void expectRecordedAndAnswer(Change change, Outcome outcome) {
    Journal.Record record = journal.expectMessageClass(Journal.Record.class);
    assertEquals(change, record.change());
    assertNotNull(record.replyTo(), "someone waits for " + change);
    answer(record, outcome);
  }

  /** {@code user} acknowledges up to {@code seq}, and the journal stores it. */
  private void acknowledge(String user, long seq) {
    registry.tell(new UserRegistry.Acknowledge(user, seq));
    expectRecordedAndAnswer(new Change.Acknowledged(user, seq), Outcome.APPLIED);
  }

  /** The store's answer to a page: the messages with these ids it has, in seq order. */
  private CompletionStage<List<StoredMessage>> readPage(String recipient, long[] ids) {
    if (pagesFail) {
      return CompletableFuture.failedFuture(new RejectedExecutionException("reads queue full"));
    }
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

  /** Sends a message the journal stores as the {@code seq}-th of {@code to}. */
  private void sendAndStore(String from, String to, String text, String id, long seq) {
    send(from, to, text, id);
    answer(expectAppended(to, seq, from, id, text), Outcome.STORED);
  }

  /** {@code blocker}, online, blocks {@code target}. */
  private void block(String blocker, String target) {
    registry.tell(new UserRegistry.Block(blocker, target, replies.ref()));
    expectRecordedAndAnswer(new Change.BlockAdded(blocker, target), Outcome.APPLIED);
    replies.expectMessage(new ServerMessage.BlockConfirmed(target));
    broadcaster.expectMessageClass(Broadcaster.BlocksChanged.class);
  }

  private void fillLukesMailbox(String from) {
    for (int i = 1; i <= MAILBOX_CAPACITY; i++) {
      sendAndStore(from, "luke", "kept " + i, "m-" + i, i);
      replies.expectMessage(new ServerMessage.MessageAccepted("m-" + i, true));
    }
  }

  private void expectOnline(String name, boolean online) {
    TestProbe<UserRegistry.OnlineStatus> status = testKit.createTestProbe();
    registry.tell(new UserRegistry.IsOnline(name, status.ref()));
    status.expectMessage(new UserRegistry.OnlineStatus(name, online));
  }

  /**
   * The history of the classic reference sample run, ending now: hans, yoda and luke logged in, in
   * that order, and are online; r2d2 was online from 10 to 5 minutes ago, vader from 5 to 2 minutes
   * ago.
   */
  private void sampleRunHistory() {
    Instant now = clock.instant();
    clock.set(now.minus(Duration.ofMinutes(15)));
    login("hans");
    login("yoda");
    login("luke");
    clock.set(now.minus(Duration.ofMinutes(10)));
    Online r2d2 = login("r2d2");
    clock.set(now.minus(Duration.ofMinutes(5)));
    logout(r2d2);
    Online vader = login("vader");
    clock.set(now.minus(Duration.ofMinutes(2)));
    logout(vader);
    clock.set(now);
  }
}
