package dev.parley.server.registry;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import dev.parley.protocol.ServerMessage;
import dev.parley.protocol.ServerMessage.Error.Code;
import dev.parley.server.broadcast.Broadcaster;
import dev.parley.server.registry.UserRegistry.Registration;
import dev.parley.server.testing.LogCapturingExtension;
import dev.parley.server.testing.MutableClock;
import dev.parley.server.testing.TestKits;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LogCapturingExtension.class)
class UserRegistryTest {

  private static final ActorTestKit testKit = TestKits.create();

  /** The accounts of the reference sample run, and leia, who never logs in. */
  private static final Set<String> USERNAMES =
      Set.of("hans", "yoda", "luke", "vader", "r2d2", "leia");

  private static final int MAILBOX_CAPACITY = 3;

  private MutableClock clock;
  private TestProbe<Broadcaster.Command> broadcaster;
  private TestProbe<ServerMessage> replies;
  private TestProbe<Registration> registrations;
  private ActorRef<UserRegistry.Command> registry;

  /** A logged-in user as the registry sees it: the session actor and its outbound queue. */
  private record Online(String name, TestProbe<Object> session, TestProbe<ServerMessage> outbox) {}

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void startRegistry() {
    clock = new MutableClock(Instant.parse("2030-05-04T12:00:00Z"));
    broadcaster = testKit.createTestProbe(Broadcaster.Command.class);
    replies = testKit.createTestProbe(ServerMessage.class);
    registrations = testKit.createTestProbe(Registration.class);
    registry =
        testKit.spawn(UserRegistry.create(USERNAMES, broadcaster.ref(), MAILBOX_CAPACITY, clock));
  }

  // ---- register and unregister ----

  @Test
  void shouldWelcomeARegisteredSessionTellTheBroadcasterAndReplyRegistered() {
    TestProbe<Object> session = testKit.createTestProbe();
    TestProbe<ServerMessage> outbox = testKit.createTestProbe();

    registry.tell(
        new UserRegistry.Register(
            "hans", session.ref(), outbox.ref(), "192.0.2.7", 50001, registrations.ref()));

    outbox.expectMessage(new ServerMessage.LoginAccepted("hans"));
    broadcaster.expectMessage(new Broadcaster.MemberJoined("hans", outbox.ref(), Set.of()));
    registrations.expectMessage(Registration.REGISTERED);
    expectOnline("hans", true);
  }

  @Test
  void shouldRefuseASecondSessionOfAnOnlineUserAndKeepTheFirst() {
    Online hans = login("hans");
    Online yoda = login("yoda");
    TestProbe<Object> secondSession = testKit.createTestProbe();
    TestProbe<ServerMessage> secondOutbox = testKit.createTestProbe();

    registry.tell(
        new UserRegistry.Register(
            "hans",
            secondSession.ref(),
            secondOutbox.ref(),
            "192.0.2.8",
            50009,
            registrations.ref()));

    registrations.expectMessage(Registration.ALREADY_ONLINE);
    // Nothing changed: the others are not told, and hans's messages still reach the first session.
    send("yoda", "hans", "still you?", "m-1");
    hans.outbox().expectMessage(new ServerMessage.MessageReceived("yoda", "still you?"));
    replies.expectMessage(new ServerMessage.MessageAccepted("m-1", false));
    secondOutbox.expectNoMessage();
    broadcaster.expectNoMessage();
    yoda.outbox().expectNoMessage();
  }

  @Test
  void shouldLogOutOnUnregisterAndTellTheBroadcaster() {
    Online hans = login("hans");

    registry.tell(new UserRegistry.Unregister("hans", hans.session().ref()));

    broadcaster.expectMessage(new Broadcaster.MemberLeft("hans"));
    expectOnline("hans", false);
  }

  @Test
  void shouldIgnoreUnregisterFromAStaleSession() {
    login("hans");
    TestProbe<Object> staleSession = testKit.createTestProbe();

    registry.tell(new UserRegistry.Unregister("hans", staleSession.ref()));

    expectOnline("hans", true);
    broadcaster.expectNoMessage();
  }

  @Test
  void shouldNoticeASessionThatStopsWithoutUnregistering() {
    Online hans = login("hans");

    hans.session().stop();

    broadcaster.expectMessage(new Broadcaster.MemberLeft("hans"));
    expectOnline("hans", false);
  }

  @Test
  void shouldNotLetTheEndOfAnEarlierSessionLogOutTheCurrentOne() {
    Online first = login("hans");
    registry.tell(new UserRegistry.Unregister("hans", first.session().ref()));
    broadcaster.expectMessage(new Broadcaster.MemberLeft("hans"));
    login("hans");

    first.session().stop();

    expectOnline("hans", true);
    broadcaster.expectNoMessage();
  }

  // ---- direct messages, checked in the contract's order ----

  @Test
  void shouldRefuseAMessageToAnUnknownUser() {
    login("hans");

    send("hans", "bob", "party time", null);

    replies.expectMessage(new ServerMessage.Error(Code.INVALID_USER, "message", "bob"));
  }

  @Test
  void shouldRefuseAMessageToSelf() {
    Online hans = login("hans");

    send("hans", "hans", "note to self", null);

    replies.expectMessage(new ServerMessage.Error(Code.SELF, "message", "hans"));
    hans.outbox().expectNoMessage();
  }

  @Test
  void shouldRefuseAMessageToAnOnlineUserWhoBlockedTheSender() {
    login("hans");
    Online luke = login("luke");
    block("luke", "hans");

    send("hans", "luke", "You angry?", "m-1");

    replies.expectMessage(new ServerMessage.Error(Code.BLOCKED_BY_USER, "message", "luke"));
    luke.outbox().expectNoMessage();
  }

  @Test
  void shouldRefuseAndNotKeepAMessageToAnOfflineUserWhoBlockedTheSender() {
    login("hans");
    Online luke = login("luke");
    block("luke", "hans");
    logout(luke);

    send("hans", "luke", "You angry?", "m-1");

    replies.expectMessage(new ServerMessage.Error(Code.BLOCKED_BY_USER, "message", "luke"));
    Online lukeAgain = login("luke", Set.of("hans"));
    lukeAgain.outbox().expectNoMessage();
  }

  @Test
  void shouldCheckTheBlockBeforeTheMailboxLimit() {
    login("hans");
    Online luke = login("luke");
    block("luke", "hans");
    logout(luke);
    login("yoda");
    fillLukesMailbox("yoda");

    send("hans", "luke", "let me in", null);

    replies.expectMessage(new ServerMessage.Error(Code.BLOCKED_BY_USER, "message", "luke"));
  }

  @Test
  void shouldDeliverAMessageToAnOnlineUserAtOnce() {
    login("hans");
    Online yoda = login("yoda");

    send("hans", "yoda", "Hey Dude", "m-1");

    yoda.outbox().expectMessage(new ServerMessage.MessageReceived("hans", "Hey Dude"));
    replies.expectMessage(new ServerMessage.MessageAccepted("m-1", false));
    send("hans", "yoda", "no id this time", null);
    yoda.outbox().expectMessage(new ServerMessage.MessageReceived("hans", "no id this time"));
    replies.expectMessage(new ServerMessage.MessageAccepted(null, false));
  }

  @Test
  void shouldKeepMessagesForAnOfflineUserAndDeliverThemInOrderAfterTheWelcome() {
    login("hans");
    login("yoda");

    send("hans", "luke", "Let's rock", "m-1");
    replies.expectMessage(new ServerMessage.MessageAccepted("m-1", true));
    send("yoda", "luke", "Do or do not", "m-2");
    replies.expectMessage(new ServerMessage.MessageAccepted("m-2", true));
    send("hans", "luke", "There is no try", null);
    replies.expectMessage(new ServerMessage.MessageAccepted(null, true));

    TestProbe<Object> session = testKit.createTestProbe();
    TestProbe<ServerMessage> outbox = testKit.createTestProbe();
    registry.tell(
        new UserRegistry.Register(
            "luke", session.ref(), outbox.ref(), "127.0.0.1", 50003, registrations.ref()));
    outbox.expectMessage(new ServerMessage.LoginAccepted("luke"));
    outbox.expectMessage(new ServerMessage.MessageReceived("hans", "Let's rock"));
    outbox.expectMessage(new ServerMessage.MessageReceived("yoda", "Do or do not"));
    outbox.expectMessage(new ServerMessage.MessageReceived("hans", "There is no try"));
    broadcaster.expectMessage(new Broadcaster.MemberJoined("luke", outbox.ref(), Set.of()));
    registrations.expectMessage(Registration.REGISTERED);

    // Delivered once: the next login finds the mailbox empty.
    logout(new Online("luke", session, outbox));
    Online lukeAgain = login("luke");
    lukeAgain.outbox().expectNoMessage();
  }

  @Test
  void shouldRefuseAMessageWhenTheOfflineUsersMailboxIsFull() {
    login("hans");

    fillLukesMailbox("hans");
    send("hans", "luke", "one too many", "m-4");

    replies.expectMessage(new ServerMessage.Error(Code.MAILBOX_FULL, "message", "luke"));
    Online luke = login("luke");
    for (int i = 1; i <= MAILBOX_CAPACITY; i++) {
      luke.outbox().expectMessage(new ServerMessage.MessageReceived("hans", "kept " + i));
    }
    luke.outbox().expectNoMessage();
  }

  @Test
  void shouldMakeRoomInTheMailboxOnceItWasDelivered() {
    login("hans");
    fillLukesMailbox("hans");
    Online luke = login("luke");
    luke.outbox().receiveSeveralMessages(MAILBOX_CAPACITY);
    logout(luke);

    send("hans", "luke", "room again", "m-5");

    replies.expectMessage(new ServerMessage.MessageAccepted("m-5", true));
  }

  // ---- whoelse ----

  @Test
  void shouldListTheOtherOnlineUsersInLoginOrder() {
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
    login("hans");

    registry.tell(new UserRegistry.ListOnline("hans", replies.ref()));

    replies.expectMessage(new ServerMessage.OnlineUsers(List.of()));
  }

  // ---- whoelsesince ----

  @Test
  void shouldListWhoseOnlineTimeOverlapsTheWindowAsInTheReferenceRun() {
    sampleRunHistory();

    registry.tell(new UserRegistry.ListRecent("luke", 200, replies.ref()));
    replies.expectMessage(new ServerMessage.RecentUsers(200, List.of("hans", "yoda", "vader")));

    registry.tell(new UserRegistry.ListRecent("yoda", 500, replies.ref()));
    replies.expectMessage(
        new ServerMessage.RecentUsers(500, List.of("hans", "luke", "vader", "r2d2")));
  }

  @Test
  void shouldCountALogoutExactlyAtTheStartOfTheWindow() {
    sampleRunHistory(); // vader logged out 120 s ago, r2d2 300 s ago

    registry.tell(new UserRegistry.ListRecent("hans", 120, replies.ref()));
    replies.expectMessage(new ServerMessage.RecentUsers(120, List.of("yoda", "luke", "vader")));
    registry.tell(new UserRegistry.ListRecent("hans", 119, replies.ref()));
    replies.expectMessage(new ServerMessage.RecentUsers(119, List.of("yoda", "luke")));
    registry.tell(new UserRegistry.ListRecent("hans", 0, replies.ref()));
    replies.expectMessage(new ServerMessage.RecentUsers(0, List.of("yoda", "luke")));
  }

  @Test
  void shouldNeverListUsersWhoHaveNotLoggedInSinceTheServerStarted() {
    sampleRunHistory();

    registry.tell(new UserRegistry.ListRecent("hans", 10_000_000, replies.ref()));

    // leia has an account but was never online: she is not listed however far back one looks.
    replies.expectMessage(
        new ServerMessage.RecentUsers(10_000_000, List.of("yoda", "luke", "vader", "r2d2")));
  }

  @Test
  void shouldRefuseANegativeWindow() {
    login("hans");

    registry.tell(new UserRegistry.ListRecent("hans", -1, replies.ref()));

    replies.expectMessage(
        new ServerMessage.Error(Code.INVALID_ARGUMENT, "whoelsesince", "seconds"));
  }

  @Test
  void shouldAnswerAWindowLongerThanTimeItself() {
    sampleRunHistory();

    registry.tell(new UserRegistry.ListRecent("hans", Long.MAX_VALUE, replies.ref()));

    replies.expectMessage(
        new ServerMessage.RecentUsers(Long.MAX_VALUE, List.of("yoda", "luke", "vader", "r2d2")));
  }

  // ---- block and unblock ----

  @Test
  void shouldBlockAUserAndGiveTheBroadcasterTheNewBlockList() {
    login("hans");
    login("luke");

    registry.tell(new UserRegistry.Block("luke", "hans", replies.ref()));

    replies.expectMessage(new ServerMessage.BlockConfirmed("hans"));
    broadcaster.expectMessage(new Broadcaster.BlocksChanged("luke", Set.of("hans")));
    registry.tell(new UserRegistry.Block("luke", "yoda", replies.ref()));
    replies.expectMessage(new ServerMessage.BlockConfirmed("yoda"));
    broadcaster.expectMessage(new Broadcaster.BlocksChanged("luke", Set.of("hans", "yoda")));
  }

  @Test
  void shouldRefuseToBlockAnUnknownUserOneselfOrSomeoneAlreadyBlocked() {
    login("hans");
    login("luke");
    block("luke", "hans");

    registry.tell(new UserRegistry.Block("luke", "bob", replies.ref()));
    replies.expectMessage(new ServerMessage.Error(Code.INVALID_USER, "block", "bob"));
    registry.tell(new UserRegistry.Block("hans", "hans", replies.ref()));
    replies.expectMessage(new ServerMessage.Error(Code.SELF, "block", "hans"));
    registry.tell(new UserRegistry.Block("luke", "hans", replies.ref()));
    replies.expectMessage(new ServerMessage.Error(Code.ALREADY_BLOCKED, "block", "hans"));
    // A refused block changes nobody's block list.
    broadcaster.expectNoMessage();
  }

  @Test
  void shouldUnblockABlockedUserAndGiveTheBroadcasterTheNewBlockList() {
    login("hans");
    login("luke");
    block("luke", "hans");

    registry.tell(new UserRegistry.Unblock("luke", "hans", replies.ref()));

    replies.expectMessage(new ServerMessage.UnblockConfirmed("hans"));
    broadcaster.expectMessage(new Broadcaster.BlocksChanged("luke", Set.of()));
    send("hans", "luke", "friends again?", "m-1");
    replies.expectMessage(new ServerMessage.MessageAccepted("m-1", false));
  }

  @Test
  void shouldRefuseToUnblockAnUnknownUserOneselfOrSomeoneNotBlocked() {
    login("luke");

    registry.tell(new UserRegistry.Unblock("luke", "bob", replies.ref()));
    replies.expectMessage(new ServerMessage.Error(Code.INVALID_USER, "unblock", "bob"));
    registry.tell(new UserRegistry.Unblock("luke", "luke", replies.ref()));
    replies.expectMessage(new ServerMessage.Error(Code.SELF, "unblock", "luke"));
    registry.tell(new UserRegistry.Unblock("luke", "yoda", replies.ref()));
    replies.expectMessage(new ServerMessage.Error(Code.NOT_BLOCKED, "unblock", "yoda"));
    broadcaster.expectNoMessage();
  }

  @Test
  void shouldKeepBlocksAcrossLoginsAndHandThemToTheBroadcasterAtLogin() {
    Online luke = login("luke");
    block("luke", "hans");
    logout(luke);

    login("luke", Set.of("hans"));
  }

  @Test
  void shouldNotTellTheBroadcasterAboutTheBlocksOfAnOfflineUser() {
    registry.tell(new UserRegistry.Block("luke", "hans", replies.ref()));

    replies.expectMessage(new ServerMessage.BlockConfirmed("hans"));
    // The broadcaster's roster holds online users only; luke's list reaches it when he logs in.
    broadcaster.expectNoMessage();
  }

  // ---- startprivate ----

  @Test
  void shouldGiveThePeerAddressTheTargetRegisteredWith() {
    login("hans");
    TestProbe<Object> session = testKit.createTestProbe();
    TestProbe<ServerMessage> outbox = testKit.createTestProbe();
    registry.tell(
        new UserRegistry.Register(
            "luke", session.ref(), outbox.ref(), "192.0.2.7", 50002, registrations.ref()));
    registrations.expectMessage(Registration.REGISTERED);

    registry.tell(new UserRegistry.LocatePeer("hans", "luke", replies.ref()));

    replies.expectMessage(new ServerMessage.PeerAddress("luke", "192.0.2.7", 50002));
  }

  @Test
  void shouldRefuseAPeerAddressForAnUnknownUserOrOneself() {
    login("hans");

    registry.tell(new UserRegistry.LocatePeer("hans", "bob", replies.ref()));
    replies.expectMessage(new ServerMessage.Error(Code.INVALID_USER, "startprivate", "bob"));
    registry.tell(new UserRegistry.LocatePeer("hans", "hans", replies.ref()));
    replies.expectMessage(new ServerMessage.Error(Code.SELF, "startprivate", "hans"));
  }

  @Test
  void shouldRefuseAPeerAddressOfATargetWhoBlockedTheRequester() {
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
  void shouldRefuseAPeerAddressOfAnOfflineUser() {
    login("hans");

    registry.tell(new UserRegistry.LocatePeer("hans", "luke", replies.ref()));

    replies.expectMessage(new ServerMessage.Error(Code.USER_OFFLINE, "startprivate", "luke"));
  }

  // ---- helpers ----

  private Online login(String name) {
    return login(name, Set.of());
  }

  /** Registers a new session of {@code name}, whose block list is {@code blocks}. */
  private Online login(String name, Set<String> blocks) {
    TestProbe<Object> session = testKit.createTestProbe();
    TestProbe<ServerMessage> outbox = testKit.createTestProbe();
    registry.tell(
        new UserRegistry.Register(
            name, session.ref(), outbox.ref(), "127.0.0.1", 50000, registrations.ref()));
    outbox.expectMessage(new ServerMessage.LoginAccepted(name));
    broadcaster.expectMessage(new Broadcaster.MemberJoined(name, outbox.ref(), blocks));
    registrations.expectMessage(Registration.REGISTERED);
    return new Online(name, session, outbox);
  }

  private void logout(Online user) {
    registry.tell(new UserRegistry.Unregister(user.name(), user.session().ref()));
    broadcaster.expectMessage(new Broadcaster.MemberLeft(user.name()));
  }

  private void send(String from, String to, String text, String id) {
    registry.tell(new UserRegistry.SendDirect(from, to, text, id, replies.ref()));
  }

  /** {@code blocker}, online, blocks {@code target}. */
  private void block(String blocker, String target) {
    registry.tell(new UserRegistry.Block(blocker, target, replies.ref()));
    replies.expectMessage(new ServerMessage.BlockConfirmed(target));
    broadcaster.expectMessageClass(Broadcaster.BlocksChanged.class);
  }

  private void fillLukesMailbox(String from) {
    for (int i = 1; i <= MAILBOX_CAPACITY; i++) {
      send(from, "luke", "kept " + i, "m-" + i);
      replies.expectMessage(new ServerMessage.MessageAccepted("m-" + i, true));
    }
  }

  private void expectOnline(String name, boolean online) {
    TestProbe<UserRegistry.OnlineStatus> status = testKit.createTestProbe();
    registry.tell(new UserRegistry.IsOnline(name, status.ref()));
    status.expectMessage(new UserRegistry.OnlineStatus(name, online));
  }

  /**
   * The history of the reference sample run (SPEC A7), ending now: hans, yoda and luke logged in,
   * in that order, and are online; r2d2 was online from 10 to 5 minutes ago, vader from 5 to 2
   * minutes ago.
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
