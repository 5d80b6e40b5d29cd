package dev.parley.server.session;

import static org.junit.jupiter.api.Assertions.assertEquals;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.FishingOutcomes;
import akka.actor.testkit.typed.javadsl.LoggingTestKit;
import akka.actor.testkit.typed.javadsl.ManualTime;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.javadsl.Behaviors;
import akka.stream.BufferOverflowException;
import dev.parley.protocol.ClientMessage;
import dev.parley.protocol.Inbound;
import dev.parley.protocol.Protocol;
import dev.parley.protocol.ServerMessage;
import dev.parley.protocol.ServerMessage.Error.Code;
import dev.parley.protocol.ServerMessage.Goodbye.Reason;
import dev.parley.server.ServerSettings;
import dev.parley.server.broadcast.Broadcaster;
import dev.parley.server.login.LoginGuard;
import dev.parley.server.login.LoginGuard.PasswordVerdict;
import dev.parley.server.login.LoginGuard.UsernameVerdict;
import dev.parley.server.registry.UserRegistry;
import dev.parley.server.registry.UserRegistry.Registration;
import dev.parley.server.session.Session.StreamAck;
import dev.parley.server.testing.LogCapturingExtension;
import dev.parley.server.testing.MutableClock;
import dev.parley.server.testing.TestKits;
import dev.parley.server.testing.TestSettings;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Drives a session exactly as its TCP stream would ({@link Session.StreamStarted}, one {@link
 * Session.FrameReceived} per {@link StreamAck}, then {@link Session.StreamCompleted} or {@link
 * Session.StreamFailed}), with probes standing in for the outbound queue, the registry, the login
 * guard and the broadcaster. Every timer runs on {@link ManualTime}.
 */
@ExtendWith(LogCapturingExtension.class)
class SessionTest {

  private static final ActorTestKit testKit = TestKits.withManualTime();
  private static final ManualTime manualTime = ManualTime.get(testKit.system());

  private static final Duration IDLE_TIMEOUT = Duration.ofSeconds(600);
  private static final Duration LOGIN_TIMEOUT = Duration.ofSeconds(120);
  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(5);
  private static final Duration HEARTBEAT_INTERVAL = Duration.ofSeconds(15);
  private static final Duration HEARTBEAT_TIMEOUT = Duration.ofSeconds(45);
  private static final String CLIENT_CERT = "SHA256:client-certificate";
  private static final String PEER_CERT = "SHA256:peer-listener-certificate";
  private static final int MAX_BAD_FRAMES = 3;
  private static final ServerSettings SETTINGS =
      TestSettings.with(
          "idle-timeout = 600s\n"
              + "login-timeout = 120s\n"
              + "heartbeat-interval = 15s\n"
              + "heartbeat-timeout = 45s\n"
              + "close-timeout = 5s\n"
              + "max-bad-frames = 3\n"
              + "max-frame-bytes = 65536\n"
              + "max-text-bytes = 60 KiB\n"
              + "request-timeout = 30s\n"
              + "limits.commands { per-second = 1000, burst = 1000 }\n"
              + "message-window = 2");

  private static final int PEER_PORT = 50001;
  private static final Instant T0 = Instant.parse("2026-12-05T12:00:00Z");
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
  private static final int COMMAND_BURST = 5;
  private static final int DISCONNECT_AFTER = 4;

  /** Tight flood control, for the tests of it: a burst of five frames, then one a second. */
  private static final ServerSettings FLOOD_SETTINGS =
      TestSettings.with(
          "limits.commands { per-second = 1, burst = 5 }\n" + "limits.disconnect-after = 4");

  /** Each session comes from its own port, so that log lines can be told apart. */
  private static final AtomicInteger nextRemotePort = new AtomicInteger(40_000);

  private TestProbe<UserRegistry.Command> registry;
  private TestProbe<LoginGuard.Command> guard;
  private TestProbe<Broadcaster.Command> broadcaster;
  private TestProbe<ServerMessage> outbox;
  private TestProbe<StreamAck> ack;

  /** Every message the session handles, in the order it handles them. */
  private TestProbe<Session.Command> handled;

  private TestProbe<Void> deathWatch;
  private MutableClock clock;
  private InetSocketAddress remote;
  private AtomicReference<ActorRef<Session.Command>> attachedTo;
  private ActorRef<Session.Command> session;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void spawnSession() {
    spawnSession(SETTINGS);
  }

  /** The settings of the session under test. */
  private ServerSettings settings;

  private void spawnSession(ServerSettings settings) {
    this.settings = settings;
    registry = testKit.createTestProbe(UserRegistry.Command.class);
    guard = testKit.createTestProbe(LoginGuard.Command.class);
    broadcaster = testKit.createTestProbe(Broadcaster.Command.class);
    outbox = testKit.createTestProbe(ServerMessage.class);
    ack = testKit.createTestProbe(StreamAck.class);
    handled = testKit.createTestProbe(Session.Command.class);
    deathWatch = testKit.createTestProbe();
    remote = new InetSocketAddress("127.0.0.1", nextRemotePort.getAndIncrement());
    clock = new MutableClock(T0);
    attachedTo = new AtomicReference<>();
    Session.Services services =
        new Session.Services(registry.ref(), guard.ref(), broadcaster.ref());
    session =
        testKit.spawn(
            Behaviors.monitor(
                Session.Command.class,
                handled.ref(),
                Session.create(settings, services, remote, clock, attachedTo::set)));
  }

  @AfterEach
  void stopSession() {
    testKit.stop(session);
  }

  // ---- handshake ----

  @Test
  void shouldAttachTheConnectionToItself() {
    startStream();

    assertEquals(session, attachedTo.get());
  }

  @Test
  void shouldAnswerHelloWithTheServersHello() {
    startStream();

    send(new ClientMessage.Hello(1));

    outbox.expectMessage(
        new ServerMessage.Hello(Protocol.VERSION, "parley", settings.limits().commands()));
    ack.expectMessage(StreamAck.INSTANCE);
  }

  @Test
  void shouldSayGoodbyeToAVersionItDoesNotSpeak() {
    startStream();

    expectOneWarning(
        "unsupported protocol remote=" + remote + " version=4",
        () -> {
          send(new ClientMessage.Hello(4));
          outbox.expectMessage(new ServerMessage.Goodbye(Reason.UNSUPPORTED_VERSION));
        });

    session.tell(Session.StreamCompleted.INSTANCE);
    deathWatch.expectTerminated(session);
  }

  @Test
  void shouldStopWithoutAWordWhenClosedBeforeItsStreamStarts() {
    // The server stops while the connection's stream is still being started: there is no queue
    // to say goodbye on yet, and the stream, when it starts, finds the session gone and closes.
    session.tell(Session.Shutdown.INSTANCE);

    deathWatch.expectTerminated(session);
    outbox.expectNoMessage();
  }

  @Test
  void shouldWriteToTheQueueItsStreamNamesAtTheStart() {
    TestProbe<ServerMessage> laterOutbox = testKit.createTestProbe(ServerMessage.class);
    session.tell(new Session.StreamStarted(ack.ref(), laterOutbox.ref()));
    ack.expectMessage(StreamAck.INSTANCE);

    send(new ClientMessage.Hello(1));

    laterOutbox.expectMessageClass(ServerMessage.Hello.class);
    outbox.expectNoMessage();
  }

  @Test
  void shouldRefuseCommandsBeforeHelloAndStayInTheHandshake() {
    startStream();

    send(new ClientMessage.WhoElse());
    expectError(Code.UNEXPECTED_FRAME, "whoelse");
    ack.expectMessage(StreamAck.INSTANCE);
    send(new ClientMessage.Username("hans"));
    expectError(Code.UNEXPECTED_FRAME, "username");
    ack.expectMessage(StreamAck.INSTANCE);

    hello();
    guard.expectNoMessage();
    registry.expectNoMessage();
  }

  @Test
  void shouldAnswerAnUnexpectedFrameExactlyAsTheProtocolDocumentSays() {
    startStream();

    send(new ClientMessage.WhoElse());

    outbox.expectMessage(new ServerMessage.Error(Code.UNEXPECTED_FRAME, "whoelse", null));
  }

  // ---- awaiting username ----

  @Test
  void shouldAskForThePasswordOfAUsernameTheGuardAccepts() {
    startStream();
    hello();

    send(new ClientMessage.Username("hans"));
    LoginGuard.CheckUsername check = guard.expectMessageClass(LoginGuard.CheckUsername.class);
    assertEquals("hans", check.username());
    // Not acknowledged until answered: the next frame waits for the verdict.
    ack.expectNoMessage();
    check.replyTo().tell(UsernameVerdict.PASSWORD_REQUIRED);

    outbox.expectMessage(new ServerMessage.PasswordRequired("hans"));
    ack.expectMessage(StreamAck.INSTANCE);
  }

  @Test
  void shouldReportAnUnknownUsernameAndTakeAnother() {
    startStream();
    hello();

    username("bob", UsernameVerdict.UNKNOWN_USER);

    outbox.expectMessage(
        new ServerMessage.LoginFailed(ServerMessage.LoginFailed.Reason.UNKNOWN_USER, "bob"));
    ack.expectMessage(StreamAck.INSTANCE);
    username("hans", UsernameVerdict.PASSWORD_REQUIRED);
    outbox.expectMessage(new ServerMessage.PasswordRequired("hans"));
  }

  @Test
  void shouldSayGoodbyeToABlockedUsername() {
    startStream();
    hello();

    username("hans", UsernameVerdict.BLOCKED);

    outbox.expectMessage(new ServerMessage.Goodbye(Reason.ACCOUNT_BLOCKED));
    session.tell(Session.StreamCompleted.INSTANCE);
    deathWatch.expectTerminated(session);
  }

  @Test
  void shouldRefuseAPasswordBeforeTheUsername() {
    startStream();
    hello();

    send(new ClientMessage.Password("falcon*solo", PEER_PORT));

    expectError(Code.UNEXPECTED_FRAME, "password");
    ack.expectMessage(StreamAck.INSTANCE);
    guard.expectNoMessage();
  }

  // ---- awaiting password ----

  @Test
  void shouldAuthenticateAndRegisterWithTheConnectionsAddressAndPeerPort() {
    awaitPassword("hans");

    send(new ClientMessage.Password("falcon*solo", PEER_PORT));
    LoginGuard.Authenticate authenticate = guard.expectMessageClass(LoginGuard.Authenticate.class);
    assertEquals(
        new LoginGuard.Authenticate(
            "hans", "falcon*solo", remote.getAddress(), authenticate.replyTo()),
        authenticate);
    assertEquals("falcon*solo", authenticate.password());
    authenticate.replyTo().tell(PasswordVerdict.AUTHENTICATED);

    UserRegistry.Register register = registry.expectMessageClass(UserRegistry.Register.class);
    assertEquals(
        new UserRegistry.Register(
            "hans",
            new UserRegistry.Attachment(
                session,
                outbox.ref(),
                register.attachment().evictTo(),
                "127.0.0.1",
                PEER_PORT,
                null,
                null,
                1),
            register.replyTo()),
        register);
    // The registry writes login-accepted; the session only asks for the next frame.
    ack.expectNoMessage();
    register.replyTo().tell(Registration.REGISTERED);
    ack.expectMessage(StreamAck.INSTANCE);
    outbox.expectNoMessage();

    send(new ClientMessage.WhoElse());
    assertEquals("hans", registry.expectMessageClass(UserRegistry.ListOnline.class).requester());
  }

  @Test
  void shouldLetTheClientRetryAWrongPasswordForTheSameUsername() {
    awaitPassword("hans");

    password("wrong", PasswordVerdict.INVALID_PASSWORD);

    outbox.expectMessage(
        new ServerMessage.LoginFailed(ServerMessage.LoginFailed.Reason.INVALID_PASSWORD, "hans"));
    ack.expectMessage(StreamAck.INSTANCE);
    send(new ClientMessage.Password("falcon*solo", PEER_PORT));
    assertEquals("hans", guard.expectMessageClass(LoginGuard.Authenticate.class).username());
  }

  @Test
  void shouldSayAccountLockedOnTheFailureThatBlocks() {
    awaitPassword("hans");

    password("wrong", PasswordVerdict.BLOCKED_NOW);

    outbox.expectMessage(new ServerMessage.Goodbye(Reason.ACCOUNT_LOCKED));
    session.tell(Session.StreamCompleted.INSTANCE);
    deathWatch.expectTerminated(session);
  }

  @Test
  void shouldSayAccountBlockedWhenTheUsernameWasBlockedMeanwhile() {
    awaitPassword("hans");

    password("falcon*solo", PasswordVerdict.BLOCKED);

    outbox.expectMessage(new ServerMessage.Goodbye(Reason.ACCOUNT_BLOCKED));
  }

  @Test
  void shouldSayTheServerIsBusyWhenThePasswordCannotBeChecked() {
    awaitPassword("hans");

    password("falcon*solo", PasswordVerdict.UNAVAILABLE);

    outbox.expectMessage(new ServerMessage.Goodbye(Reason.SERVER_BUSY));
    registry.expectNoMessage();
    session.tell(Session.StreamCompleted.INSTANCE);
    deathWatch.expectTerminated(session);
  }

  @Test
  void shouldGoBackToTheUsernameWhenThePasswordStepFindsNoAccount() {
    awaitPassword("hans");

    password("falcon*solo", PasswordVerdict.UNKNOWN_USER);

    outbox.expectMessage(
        new ServerMessage.LoginFailed(ServerMessage.LoginFailed.Reason.UNKNOWN_USER, "hans"));
    ack.expectMessage(StreamAck.INSTANCE);
    username("yoda", UsernameVerdict.PASSWORD_REQUIRED);
  }

  @Test
  void shouldGoBackToTheUsernameWhenAnotherSessionRegisteredFirst() {
    awaitPassword("hans");
    password("falcon*solo", PasswordVerdict.AUTHENTICATED);

    registry
        .expectMessageClass(UserRegistry.Register.class)
        .replyTo()
        .tell(Registration.ALREADY_ONLINE);

    outbox.expectMessage(
        new ServerMessage.LoginFailed(ServerMessage.LoginFailed.Reason.ALREADY_ONLINE, "hans"));
    ack.expectMessage(StreamAck.INSTANCE);
    username("yoda", UsernameVerdict.PASSWORD_REQUIRED);
  }

  @Test
  void shouldSayTheServerIsBusyWhenTheUsersOwnerCannotBeReached() {
    awaitPassword("hans");
    password("falcon*solo", PasswordVerdict.AUTHENTICATED);

    registry
        .expectMessageClass(UserRegistry.Register.class)
        .replyTo()
        .tell(Registration.UNAVAILABLE);

    outbox.expectMessage(new ServerMessage.Goodbye(Reason.SERVER_BUSY));
  }

  // ---- active ----

  @Test
  void shouldLetMessagesRunAheadOfTheirRepliesUpToTheWindow() {
    login();

    send(new ClientMessage.SendMessage("yoda", "one", "m-1"));
    UserRegistry.SendDirect first = registry.expectMessageClass(UserRegistry.SendDirect.class);
    assertEquals(
        new UserRegistry.SendDirect("hans", "yoda", "one", "m-1", 3, first.replyTo()), first);
    // A window of two: the next frame may come before the first is answered.
    ack.expectMessage(StreamAck.INSTANCE);
    send(new ClientMessage.SendMessage("yoda", "two", "m-2"));
    UserRegistry.SendDirect second = registry.expectMessageClass(UserRegistry.SendDirect.class);
    ack.expectNoMessage();

    first.replyTo().tell(new ServerMessage.MessageAccepted("m-1", false));
    outbox.expectMessage(new ServerMessage.MessageAccepted("m-1", false));
    ack.expectMessage(StreamAck.INSTANCE);
    second.replyTo().tell(new ServerMessage.MessageAccepted("m-2", false));
    outbox.expectMessage(new ServerMessage.MessageAccepted("m-2", false));
    // One acknowledgement per frame.
    ack.expectNoMessage();
  }

  @Test
  void shouldHoldOtherCommandsUntilTheMessagesBeforeThemAreAnswered() {
    login();
    send(new ClientMessage.SendMessage("yoda", "one", "m-1"));
    UserRegistry.SendDirect message = registry.expectMessageClass(UserRegistry.SendDirect.class);
    ack.expectMessage(StreamAck.INSTANCE);

    send(new ClientMessage.WhoElse());
    registry.expectNoMessage();

    message.replyTo().tell(new ServerMessage.MessageAccepted("m-1", false));
    outbox.expectMessage(new ServerMessage.MessageAccepted("m-1", false));
    UserRegistry.ListOnline whoElse = registry.expectMessageClass(UserRegistry.ListOnline.class);
    ack.expectNoMessage();
    whoElse.replyTo().tell(new ServerMessage.OnlineUsers(List.of("yoda")));
    outbox.expectMessage(new ServerMessage.OnlineUsers(List.of("yoda")));
    ack.expectMessage(StreamAck.INSTANCE);
  }

  @Test
  void shouldPassAnErrorReplyToTheClient() {
    login();

    send(new ClientMessage.SendMessage("bob", "party time"));
    UserRegistry.SendDirect request = registry.expectMessageClass(UserRegistry.SendDirect.class);
    assertEquals(
        new UserRegistry.SendDirect("hans", "bob", "party time", null, 10, request.replyTo()),
        request);

    replyAndExpectAck(
        request.replyTo(), new ServerMessage.Error(Code.INVALID_USER, "message", "bob"));
  }

  @Test
  void shouldTellTheClientToSendAgainAMessageTheServerCouldNotStore() {
    login();

    send(new ClientMessage.SendMessage("yoda", "Hey Dude", "m-1"));
    UserRegistry.SendDirect request = registry.expectMessageClass(UserRegistry.SendDirect.class);

    replyAndExpectAck(
        request.replyTo(), new ServerMessage.Error(Code.UNAVAILABLE, "message", "yoda", "m-1"));
  }

  @Test
  void shouldPassAnAcknowledgementToTheRegistryAndTakeTheNextFrameWithoutAReply() {
    login();

    send(new ClientMessage.Acknowledge(42));

    registry.expectMessage(new UserRegistry.Acknowledge("hans", 42));
    ack.expectMessage(StreamAck.INSTANCE);
    outbox.expectNoMessage();
    // The next command is taken at once.
    send(new ClientMessage.WhoElse());
    assertEquals("hans", registry.expectMessageClass(UserRegistry.ListOnline.class).requester());
  }

  @Test
  void shouldRefuseAnAcknowledgementBeforeLogin() {
    startStream();
    hello();

    send(new ClientMessage.Acknowledge(1));

    expectError(Code.UNEXPECTED_FRAME, "ack");
    ack.expectMessage(StreamAck.INSTANCE);
    registry.expectNoMessage();
  }

  @Test
  void shouldSendABroadcastThroughTheBroadcaster() {
    login();

    send(new ClientMessage.Broadcast("vader sucks"));
    Broadcaster.Broadcast request = broadcaster.expectMessageClass(Broadcaster.Broadcast.class);
    assertEquals(new Broadcaster.Broadcast("hans", "vader sucks", request.replyTo()), request);
    ack.expectNoMessage();

    replyAndExpectAck(request.replyTo(), new ServerMessage.BroadcastSent(false));
    registry.expectNoMessage();
  }

  @Test
  void shouldAskTheRegistryWhoElseIsOnline() {
    login();

    send(new ClientMessage.WhoElse());
    UserRegistry.ListOnline request = registry.expectMessageClass(UserRegistry.ListOnline.class);
    assertEquals(new UserRegistry.ListOnline("hans", request.replyTo()), request);

    replyAndExpectAck(request.replyTo(), new ServerMessage.OnlineUsers(List.of("yoda", "luke")));
  }

  @Test
  void shouldAskTheRegistryWhoElseWasOnlineRecently() {
    login();

    send(new ClientMessage.WhoElseSince(200));
    UserRegistry.ListRecent request = registry.expectMessageClass(UserRegistry.ListRecent.class);
    assertEquals(new UserRegistry.ListRecent("hans", 200, request.replyTo()), request);

    replyAndExpectAck(
        request.replyTo(), new ServerMessage.RecentUsers(200, List.of("yoda", "vader")));
  }

  @Test
  void shouldAskTheRegistryToBlockAndToUnblock() {
    login();

    send(new ClientMessage.Block("luke"));
    UserRegistry.Block block = registry.expectMessageClass(UserRegistry.Block.class);
    assertEquals(new UserRegistry.Block("hans", "luke", block.replyTo()), block);
    replyAndExpectAck(block.replyTo(), new ServerMessage.BlockConfirmed("luke"));

    send(new ClientMessage.Unblock("luke"));
    UserRegistry.Unblock unblock = registry.expectMessageClass(UserRegistry.Unblock.class);
    assertEquals(new UserRegistry.Unblock("hans", "luke", unblock.replyTo()), unblock);
    replyAndExpectAck(unblock.replyTo(), new ServerMessage.UnblockConfirmed("luke"));
  }

  @Test
  void shouldAskTheRegistryWhereAPeerAcceptsPrivateChats() {
    login();

    send(new ClientMessage.StartPrivate("luke"));
    UserRegistry.LocatePeer request = registry.expectMessageClass(UserRegistry.LocatePeer.class);
    assertEquals(new UserRegistry.LocatePeer("hans", "luke", request.replyTo()), request);

    replyAndExpectAck(request.replyTo(), new ServerMessage.PeerAddress("luke", "192.0.2.7", 50002));
  }

  @Test
  void shouldNoteActivityItself() {
    login();

    send(new ClientMessage.NoteActivity());

    outbox.expectMessage(new ServerMessage.ActivityNoted());
    ack.expectMessage(StreamAck.INSTANCE);
    registry.expectNoMessage();
    broadcaster.expectNoMessage();
  }

  @Test
  void shouldRefuseLoginFramesOnceLoggedIn() {
    login();

    send(new ClientMessage.Hello(1));
    expectError(Code.UNEXPECTED_FRAME, "hello");
    ack.expectMessage(StreamAck.INSTANCE);
    // (A third bad frame would end the connection: max-bad-frames is 3.)
    send(new ClientMessage.Password("wise@!man", PEER_PORT));
    expectError(Code.UNEXPECTED_FRAME, "password");
    ack.expectMessage(StreamAck.INSTANCE);
    guard.expectNoMessage();
  }

  @Test
  void shouldLeaveTheRegistryAndSayGoodbyeOnLogoutThenStopWhenTheStreamCompletes() {
    login();

    send(new ClientMessage.Logout());

    UserRegistry.Leave leave = registry.expectMessageClass(UserRegistry.Leave.class);
    assertEquals(new UserRegistry.Leave("hans", session, leave.replyTo()), leave);
    // The goodbye waits until the logout, and every ack before it, is stored.
    outbox.expectNoMessage();
    leave.replyTo().tell(UserRegistry.Left.INSTANCE);
    outbox.expectMessage(new ServerMessage.Goodbye(Reason.LOGGED_OUT));
    // Still there while the goodbye is being written...
    awaitHandled(Session.Shutdown.INSTANCE);
    // ...and gone once the connection has closed.
    session.tell(Session.StreamCompleted.INSTANCE);
    deathWatch.expectTerminated(session);
    registry.expectNoMessage();
  }

  // ---- timers ----

  @Test
  void shouldLogOutAUserWhoSendsNothingForTheIdleTimeout() {
    login();

    timePasses(IDLE_TIMEOUT.minusSeconds(1));
    outbox.expectNoMessage();

    timePasses(Duration.ofSeconds(1));
    registry.expectMessage(new UserRegistry.Unregister("hans", session));
    outbox.expectMessage(new ServerMessage.Goodbye(Reason.TIMED_OUT));
  }

  @Test
  void shouldRestartTheIdleTimerOnEveryCommand() {
    login();

    timePasses(IDLE_TIMEOUT.minusSeconds(1));
    send(new ClientMessage.NoteActivity());
    outbox.expectMessage(new ServerMessage.ActivityNoted());
    ack.expectMessage(StreamAck.INSTANCE);

    timePasses(IDLE_TIMEOUT.minusSeconds(1));
    send(new ClientMessage.WhoElse());
    replyAndExpectAck(
        registry.expectMessageClass(UserRegistry.ListOnline.class).replyTo(),
        new ServerMessage.OnlineUsers(List.of()));

    timePasses(IDLE_TIMEOUT.minusSeconds(1));
    outbox.expectNoMessage();
    timePasses(Duration.ofSeconds(1));
    registry.expectMessage(new UserRegistry.Unregister("hans", session));
    outbox.expectMessage(new ServerMessage.Goodbye(Reason.TIMED_OUT));
  }

  @Test
  void shouldNotRestartTheIdleTimerOnAnAcknowledgement() {
    login();

    // Acknowledgements are sent by the client on its own as messages arrive: not activity.
    timePasses(IDLE_TIMEOUT.minusSeconds(1));
    send(new ClientMessage.Acknowledge(7));
    registry.expectMessage(new UserRegistry.Acknowledge("hans", 7));
    ack.expectMessage(StreamAck.INSTANCE);

    timePasses(Duration.ofSeconds(1));

    registry.expectMessage(new UserRegistry.Unregister("hans", session));
    outbox.expectMessage(new ServerMessage.Goodbye(Reason.TIMED_OUT));
  }

  @Test
  void shouldCloseAConnectionThatHasNotLoggedInWithinTheLoginTimeout() {
    startStream();
    hello();

    // Frames do not extend the deadline: it runs from the connection's start.
    timePasses(LOGIN_TIMEOUT.minusSeconds(1));
    username("hans", UsernameVerdict.PASSWORD_REQUIRED);
    outbox.expectMessage(new ServerMessage.PasswordRequired("hans"));
    ack.expectMessage(StreamAck.INSTANCE);
    timePasses(Duration.ofSeconds(1));

    outbox.expectMessage(new ServerMessage.Goodbye(Reason.TIMED_OUT));
    registry.expectNoMessage();
  }

  @Test
  void shouldStopTheLoginTimerOnceLoggedIn() {
    login();

    timePasses(LOGIN_TIMEOUT);

    outbox.expectNoMessage();
  }

  @Test
  void shouldStopAfterTheCloseTimeoutWhenTheStreamNeverCompletes() {
    login();
    logOut();
    // The close timer is started right after the goodbye is written: let that finish first.
    awaitHandled(Session.Shutdown.INSTANCE);

    timePasses(CLOSE_TIMEOUT.minusMillis(1));
    // Still there just before the deadline...
    awaitHandled(Session.Shutdown.INSTANCE);
    // ...and gone at it.
    timePasses(Duration.ofMillis(1));

    deathWatch.expectTerminated(session);
  }

  // ---- bad input ----

  @Test
  void shouldAnswerAMalformedFrameWithAnErrorAndOneWarning() {
    startStream();
    hello();

    expectOneWarning(
        "bad frame remote=" + remote + " user=null code=MALFORMED_FRAME",
        () -> {
          session.tell(
              new Session.FrameReceived(
                  ack.ref(), new Inbound.Malformed<>("field 'username' is required")));
          outbox.expectMessage(
              new ServerMessage.Error(Code.MALFORMED_FRAME, null, "field 'username' is required"));
        });
    ack.expectMessage(StreamAck.INSTANCE);
  }

  @Test
  void shouldAnswerAnUnknownFrameTypeWithAnErrorNamingIt() {
    startStream();
    hello();

    expectOneWarning(
        "bad frame remote=" + remote + " user=null code=UNKNOWN_FRAME",
        () -> {
          session.tell(new Session.FrameReceived(ack.ref(), new Inbound.UnknownType<>("shout")));
          ServerMessage.Error error = outbox.expectMessageClass(ServerMessage.Error.class);
          assertEquals(Code.UNKNOWN_FRAME, error.code());
          assertEquals("shout", error.subject());
        });
    ack.expectMessage(StreamAck.INSTANCE);
  }

  @Test
  void shouldAnswerAnUnknownFrameTypeExactlyAsTheProtocolDocumentSays() {
    startStream();
    hello();

    session.tell(new Session.FrameReceived(ack.ref(), new Inbound.UnknownType<>("shout")));

    outbox.expectMessage(new ServerMessage.Error(Code.UNKNOWN_FRAME, null, "shout"));
  }

  @Test
  void shouldEndTheConnectionAtTheLastBadFrameAllowed() {
    login();

    LoggingTestKit.warn("bad frame remote=" + remote + " user=hans")
        .withOccurrences(MAX_BAD_FRAMES)
        .expect(
            testKit.system(),
            () -> {
              session.tell(new Session.FrameReceived(ack.ref(), new Inbound.Malformed<>("junk")));
              expectError(Code.MALFORMED_FRAME, null);
              ack.expectMessage(StreamAck.INSTANCE);
              session.tell(
                  new Session.FrameReceived(ack.ref(), new Inbound.UnknownType<>("shout")));
              expectError(Code.UNKNOWN_FRAME);
              ack.expectMessage(StreamAck.INSTANCE);
              // Valid frames in between do not reset the count.
              send(new ClientMessage.NoteActivity());
              outbox.expectMessage(new ServerMessage.ActivityNoted());
              ack.expectMessage(StreamAck.INSTANCE);
              send(new ClientMessage.Hello(1));
              return null;
            });

    registry.expectMessage(new UserRegistry.Unregister("hans", session));
    outbox.expectMessage(new ServerMessage.Goodbye(Reason.PROTOCOL_VIOLATION));
    ack.expectNoMessage();
  }

  @Test
  void shouldSayFrameTooLongAndCloseOnAnOversizedLine() {
    login();

    expectOneWarning(
        "frame too long remote=" + remote + " user=hans limit=65536",
        () -> {
          session.tell(new Session.FrameReceived(ack.ref(), new Inbound.Oversized<>(65_536)));
          registry.expectMessage(new UserRegistry.Unregister("hans", session));
          outbox.expectMessage(new ServerMessage.Goodbye(Reason.FRAME_TOO_LONG));
        });
    session.tell(Session.StreamCompleted.INSTANCE);
    deathWatch.expectTerminated(session);
  }

  // ---- the end of the connection ----

  @Test
  void shouldLeaveTheRegistryAndStopWhenTheClientClosesTheConnection() {
    login();

    expectOneWarning(
        "connection closed without logout remote=" + remote + " user=hans",
        () -> {
          session.tell(Session.StreamCompleted.INSTANCE);
          registry.expectMessage(new UserRegistry.Unregister("hans", session));
          deathWatch.expectTerminated(session);
        });
    outbox.expectNoMessage();
  }

  @Test
  void shouldLeaveTheRegistryAndStopWhenTheConnectionFails() {
    login();

    expectOneWarning(
        "connection failed remote=" + remote + " user=hans cause=java.io.IOException: reset",
        () -> {
          session.tell(new Session.StreamFailed(new IOException("reset")));
          registry.expectMessage(new UserRegistry.Unregister("hans", session));
          deathWatch.expectTerminated(session);
        });
  }

  @Test
  void shouldSayAClientThatCouldNotKeepUpWasTooSlow() {
    login();

    expectOneWarning(
        "client too slow, disconnected remote=" + remote + " user=hans",
        () -> {
          session.tell(new Session.StreamFailed(new BufferOverflowException("buffer full")));
          registry.expectMessage(new UserRegistry.Unregister("hans", session));
          deathWatch.expectTerminated(session);
        });
  }

  @Test
  void shouldJustStopWhenAConnectionEndsBeforeLogin() {
    startStream();
    hello();

    session.tell(Session.StreamCompleted.INSTANCE);

    deathWatch.expectTerminated(session);
    registry.expectNoMessage();
  }

  @Test
  void shouldSayGoodbyeOnServerShutdown() {
    login();

    session.tell(Session.Shutdown.INSTANCE);

    registry.expectMessage(new UserRegistry.Unregister("hans", session));
    outbox.expectMessage(new ServerMessage.Goodbye(Reason.SERVER_SHUTDOWN));
    session.tell(Session.StreamCompleted.INSTANCE);
    deathWatch.expectTerminated(session);
  }

  @Test
  void shouldSayGoodbyeOnServerShutdownBeforeLogin() {
    startStream();

    session.tell(Session.Shutdown.INSTANCE);

    outbox.expectMessage(new ServerMessage.Goodbye(Reason.SERVER_SHUTDOWN));
    registry.expectNoMessage();
  }

  @Test
  void shouldLeaveTheRegistryWhenARegistrationCompletesAfterTheGoodbye() {
    awaitPassword("hans");
    password("falcon*solo", PasswordVerdict.AUTHENTICATED);
    UserRegistry.Register register = registry.expectMessageClass(UserRegistry.Register.class);

    session.tell(Session.Shutdown.INSTANCE);
    outbox.expectMessage(new ServerMessage.Goodbye(Reason.SERVER_SHUTDOWN));
    register.replyTo().tell(Registration.REGISTERED);

    registry.expectMessage(new UserRegistry.Unregister("hans", session));
  }

  // ---- flood control, texts, request timeouts, eviction ----

  @Test
  void shouldRefuseAFrameOverTheRateWithRateLimitedAndTakeTheNextAfterARefill() {
    testKit.stop(session);
    spawnSession(FLOOD_SETTINGS);
    login(); // hello, username, password: three of the five frames of the burst

    send(new ClientMessage.WhoElse());
    replyAndExpectAck(
        registry.expectMessageClass(UserRegistry.ListOnline.class).replyTo(),
        new ServerMessage.OnlineUsers(List.of()));
    send(new ClientMessage.WhoElse());
    replyAndExpectAck(
        registry.expectMessageClass(UserRegistry.ListOnline.class).replyTo(),
        new ServerMessage.OnlineUsers(List.of()));
    send(new ClientMessage.WhoElse());

    outbox.expectMessage(new ServerMessage.Error(Code.RATE_LIMITED, "whoelse", null));
    ack.expectMessage(StreamAck.INSTANCE);
    registry.expectNoMessage();

    clock.advance(Duration.ofSeconds(1));
    send(new ClientMessage.WhoElse());
    registry.expectMessageClass(UserRegistry.ListOnline.class);
  }

  @Test
  void shouldCloseAConnectionThatKeepsSendingPastTheRateWithGoodbyeRateLimited() {
    testKit.stop(session);
    spawnSession(FLOOD_SETTINGS);
    login();
    send(new ClientMessage.NoteActivity());
    outbox.expectMessage(new ServerMessage.ActivityNoted());
    ack.expectMessage(StreamAck.INSTANCE);
    send(new ClientMessage.NoteActivity());
    outbox.expectMessage(new ServerMessage.ActivityNoted());
    ack.expectMessage(StreamAck.INSTANCE);

    for (int refused = 1; refused < DISCONNECT_AFTER; refused++) {
      send(new ClientMessage.NoteActivity());
      outbox.expectMessage(new ServerMessage.Error(Code.RATE_LIMITED, "activity", null));
      ack.expectMessage(StreamAck.INSTANCE);
    }
    send(new ClientMessage.NoteActivity());

    registry.expectMessage(new UserRegistry.Unregister("hans", session));
    outbox.expectMessage(new ServerMessage.Goodbye(Reason.RATE_LIMITED));
  }

  @Test
  void shouldLetAcknowledgementsAndALogoutThroughWhateverTheRate() {
    testKit.stop(session);
    spawnSession(FLOOD_SETTINGS);
    login();
    for (int i = 0; i < COMMAND_BURST; i++) {
      send(new ClientMessage.NoteActivity());
      outbox.receiveMessage();
      ack.expectMessage(StreamAck.INSTANCE);
    }

    for (long seq = 1; seq <= 10; seq++) {
      send(new ClientMessage.Acknowledge(seq));
      registry.expectMessage(new UserRegistry.Acknowledge("hans", seq));
      ack.expectMessage(StreamAck.INSTANCE);
    }
    // A logout, too, ends the work rather than adding to it.
    logOut();
  }

  @Test
  void shouldAnswerARefusedMessageOnlyAfterTheMessagesAheadOfIt() {
    testKit.stop(session);
    spawnSession(FLOOD_SETTINGS);
    login();
    send(new ClientMessage.SendMessage("yoda", "one", "m-1"));
    UserRegistry.SendDirect first = registry.expectMessageClass(UserRegistry.SendDirect.class);
    ack.expectMessage(StreamAck.INSTANCE);
    send(new ClientMessage.SendMessage("yoda", "two", "m-2"));
    UserRegistry.SendDirect second = registry.expectMessageClass(UserRegistry.SendDirect.class);
    ack.expectMessage(StreamAck.INSTANCE);

    send(new ClientMessage.SendMessage("yoda", "three", "m-3"));
    // Over the rate, but its answer must not overtake the answers to m-1 and m-2.
    outbox.expectNoMessage();
    first.replyTo().tell(new ServerMessage.MessageAccepted("m-1", false));
    second.replyTo().tell(new ServerMessage.MessageAccepted("m-2", false));

    outbox.expectMessage(new ServerMessage.MessageAccepted("m-1", false));
    outbox.expectMessage(new ServerMessage.MessageAccepted("m-2", false));
    outbox.expectMessage(new ServerMessage.Error(Code.RATE_LIMITED, "message", "yoda", "m-3"));
    ack.expectMessage(StreamAck.INSTANCE);
    registry.expectNoMessage();
  }

  @Test
  void shouldRefuseTextsItCannotCarryWithInvalidTextWithoutAskingAnyone() {
    login();

    send(new ClientMessage.SendMessage("yoda", "nul \u0000 inside", "m-1"));
    outbox.expectMessage(
        new ServerMessage.Error(
            Code.INVALID_TEXT, "message", "text contains U+0000 at character 5", "m-1"));
    ack.expectMessage(StreamAck.INSTANCE);

    send(new ClientMessage.SendMessage("yoda", "half \uD83D pair", "m-2"));
    expectError(Code.INVALID_TEXT, "message");
    ack.expectMessage(StreamAck.INSTANCE);

    // 15,361 four-byte emoji: 61,444 bytes encoded, just over 60 KiB.
    send(new ClientMessage.Broadcast("\uD83D\uDE00".repeat(15_361)));
    outbox.expectMessage(
        new ServerMessage.Error(
            Code.INVALID_TEXT,
            "broadcast",
            "text is 61444 bytes encoded, over the limit of 61440"));
    ack.expectMessage(StreamAck.INSTANCE);

    registry.expectNoMessage();
    broadcaster.expectNoMessage();
  }

  @Test
  void shouldTakeATextAtTheLimitWithItsSizeInBytes() {
    login();

    send(new ClientMessage.SendMessage("yoda", "\uD83D\uDE00".repeat(15_360), "m-1"));

    assertEquals(61_440, registry.expectMessageClass(UserRegistry.SendDirect.class).size());
  }

  @Test
  void shouldTellTheClientUnavailableAndCloseWhenACommandIsNotAnsweredInTime() {
    login();
    send(new ClientMessage.WhoElse());
    registry.expectMessageClass(UserRegistry.ListOnline.class);
    awaitHandled(new Session.StreamStarted(ack.ref(), outbox.ref()));
    ack.expectMessage(StreamAck.INSTANCE);

    timePasses(REQUEST_TIMEOUT);

    outbox.expectMessage(new ServerMessage.Error(Code.UNAVAILABLE, "whoelse", null));
    registry.expectMessage(new UserRegistry.Unregister("hans", session));
    outbox.expectMessage(new ServerMessage.Goodbye(Reason.SERVER_BUSY));
  }

  @Test
  void shouldRunTheRequestTimeoutFromTheLatestAnswerWhileOthersAreStillOwed() {
    login();
    send(new ClientMessage.SendMessage("yoda", "one", "m-1"));
    UserRegistry.SendDirect first = registry.expectMessageClass(UserRegistry.SendDirect.class);
    ack.expectMessage(StreamAck.INSTANCE);
    timePasses(REQUEST_TIMEOUT.minusSeconds(1));
    send(new ClientMessage.SendMessage("yoda", "two", "m-2"));
    registry.expectMessageClass(UserRegistry.SendDirect.class);
    awaitHandled(new Session.StreamStarted(ack.ref(), outbox.ref()));
    ack.expectMessage(StreamAck.INSTANCE);

    // Due 30 s after the first message, the timeout now runs from the second.
    timePasses(Duration.ofSeconds(1));
    outbox.expectNoMessage();
    timePasses(REQUEST_TIMEOUT.minusSeconds(2));
    first.replyTo().tell(new ServerMessage.MessageAccepted("m-1", false));
    outbox.expectMessage(new ServerMessage.MessageAccepted("m-1", false));

    // The answer to the first restarted it: the second is still owed.
    timePasses(REQUEST_TIMEOUT.minusSeconds(1));
    outbox.expectNoMessage();
    timePasses(Duration.ofSeconds(1));
    outbox.expectMessage(new ServerMessage.Error(Code.UNAVAILABLE, "message", null));
    registry.expectMessage(new UserRegistry.Unregister("hans", session));
    outbox.expectMessage(new ServerMessage.Goodbye(Reason.SERVER_BUSY));
  }

  @Test
  void shouldNotTimeOutOnceEveryRequestIsAnswered() {
    login();
    send(new ClientMessage.WhoElse());
    UserRegistry.ListOnline whoElse = registry.expectMessageClass(UserRegistry.ListOnline.class);
    awaitHandled(new Session.StreamStarted(ack.ref(), outbox.ref()));
    ack.expectMessage(StreamAck.INSTANCE);
    timePasses(REQUEST_TIMEOUT.minusSeconds(1));
    replyAndExpectAck(whoElse.replyTo(), new ServerMessage.OnlineUsers(List.of()));

    timePasses(REQUEST_TIMEOUT);
    outbox.expectNoMessage();
    registry.expectNoMessage();
  }

  @Test
  void shouldCloseWithServerBusyWhenTheLoginGuardNeverAnswers() {
    startStream();
    hello();
    send(new ClientMessage.Username("hans"));
    guard.expectMessageClass(LoginGuard.CheckUsername.class);
    awaitHandled(new Session.StreamStarted(ack.ref(), outbox.ref()));
    ack.expectMessage(StreamAck.INSTANCE);

    timePasses(REQUEST_TIMEOUT);

    outbox.expectMessage(new ServerMessage.Goodbye(Reason.SERVER_BUSY));
  }

  @Test
  void shouldCloseWithServerBusyWhenTheAccountsCannotBeCheckedNow() {
    startStream();
    hello();

    username("hans", UsernameVerdict.BUSY);

    outbox.expectMessage(new ServerMessage.Goodbye(Reason.SERVER_BUSY));
  }

  @Test
  void shouldCloseWithServerBusyWhenThePasswordCannotBeCheckedNow() {
    awaitPassword("hans");

    password("falcon*solo", PasswordVerdict.BUSY);

    outbox.expectMessage(new ServerMessage.Goodbye(Reason.SERVER_BUSY));
  }

  @Test
  void shouldAnswerALoginStepOverTheAddressRateWithRateLimitedAndLetItBeTriedAgain() {
    startStream();
    hello();

    username("hans", UsernameVerdict.RATE_LIMITED);
    outbox.expectMessage(new ServerMessage.Error(Code.RATE_LIMITED, "username", null));
    ack.expectMessage(StreamAck.INSTANCE);

    username("hans", UsernameVerdict.PASSWORD_REQUIRED);
    outbox.expectMessage(new ServerMessage.PasswordRequired("hans"));
    password("falcon*solo", PasswordVerdict.RATE_LIMITED);
    outbox.expectMessage(new ServerMessage.Error(Code.RATE_LIMITED, "password", null));
    ack.expectMessage(StreamAck.INSTANCE);
    password("falcon*solo", PasswordVerdict.AUTHENTICATED);
    registry.expectMessageClass(UserRegistry.Register.class);
  }

  @Test
  void shouldSayGoodbyeWithTheRegistrysReasonWhenEvicted() {
    UserRegistry.Register register = login();

    register.attachment().evictTo().tell(new UserRegistry.Evict(Reason.ACCOUNT_REMOVED));

    registry.expectMessage(new UserRegistry.Unregister("hans", session));
    outbox.expectMessage(new ServerMessage.Goodbye(Reason.ACCOUNT_REMOVED));
  }

  @Test
  void shouldSayGoodbyeAfterALogoutWhoseStoringIsNeverAnswered() {
    login();
    send(new ClientMessage.Logout());
    registry.expectMessageClass(UserRegistry.Leave.class);
    awaitHandled(Session.Shutdown.INSTANCE);
    outbox.expectNoMessage();

    timePasses(REQUEST_TIMEOUT);

    outbox.expectMessage(new ServerMessage.Goodbye(Reason.LOGGED_OUT));
  }

  @Test
  void shouldEchoNoMoreThanTheStartOfAnUnknownTypeHoweverLong() {
    login();

    session.tell(
        new Session.FrameReceived(ack.ref(), new Inbound.UnknownType<>("t".repeat(60_000))));

    ServerMessage.Error error = outbox.expectMessageClass(ServerMessage.Error.class);
    assertEquals(Code.UNKNOWN_FRAME, error.code());
    assertEquals("t".repeat(128) + "...", error.subject());
  }

  @Test
  void shouldLogAClientsBadFrameQuotedSoThatItCannotForgeALogLine() {
    login();

    expectOneWarning(
        "detail=\"evil\\u000a2026-12-05 INFO forged\"",
        () -> {
          session.tell(
              new Session.FrameReceived(
                  ack.ref(), new Inbound.UnknownType<>("evil\n2026-12-05 INFO forged")));
          expectError(Code.UNKNOWN_FRAME);
        });
  }

  // ---- heartbeats ----

  @Test
  void shouldSendHeartbeatsToASilentClientAndCloseItAtTheHeartbeatTimeout() {
    loginOverVersion3();

    timePasses(HEARTBEAT_INTERVAL.minusSeconds(1));
    outbox.expectNoMessage();
    timePasses(Duration.ofSeconds(1));
    outbox.expectMessage(new ServerMessage.Heartbeat());
    timePasses(HEARTBEAT_INTERVAL);
    outbox.expectMessage(new ServerMessage.Heartbeat());
    registry.expectNoMessage();

    expectOneWarning(
        "client unresponsive, disconnected remote=" + remote + " user=hans silent=45s",
        () -> timePasses(HEARTBEAT_TIMEOUT.minus(HEARTBEAT_INTERVAL.multipliedBy(2))));
    registry.expectMessage(new UserRegistry.Unregister("hans", session));
    outbox.expectMessage(new ServerMessage.Goodbye(Reason.UNRESPONSIVE));
  }

  @Test
  void shouldCountAnyFrameAsALifeSignButOnlyCommandsAsTheUsersActivity() {
    loginOverVersion3();

    // The client answers each heartbeat, and sends an acknowledgement once: it stays connected,
    // however long, until the idle timeout, which neither holds off.
    Duration elapsed = Duration.ZERO;
    while (elapsed.plus(HEARTBEAT_INTERVAL).compareTo(IDLE_TIMEOUT) < 0) {
      timePasses(HEARTBEAT_INTERVAL);
      elapsed = elapsed.plus(HEARTBEAT_INTERVAL);
      outbox.expectMessage(new ServerMessage.Heartbeat());
      send(
          elapsed.equals(HEARTBEAT_INTERVAL)
              ? new ClientMessage.Acknowledge(1)
              : new ClientMessage.Heartbeat());
      if (elapsed.equals(HEARTBEAT_INTERVAL)) {
        registry.expectMessage(new UserRegistry.Acknowledge("hans", 1));
      }
      ack.expectMessage(StreamAck.INSTANCE);
    }
    registry.expectNoMessage();
    timePasses(IDLE_TIMEOUT.minus(elapsed));
    registry.expectMessage(new UserRegistry.Unregister("hans", session));
    // A heartbeat falls due at the same moment, and may go out first.
    outbox.fishForMessage(
        Duration.ofSeconds(5),
        frame ->
            frame.equals(new ServerMessage.Goodbye(Reason.TIMED_OUT))
                ? FishingOutcomes.complete()
                : frame instanceof ServerMessage.Heartbeat
                    ? FishingOutcomes.continueAndIgnore()
                    : FishingOutcomes.fail("unexpected " + frame));
  }

  @Test
  void shouldSendNoHeartbeatsToAClientOfAnEarlierVersion() {
    login();

    // It would not know the frame: only the idle timeout watches it.
    timePasses(HEARTBEAT_TIMEOUT.plus(HEARTBEAT_INTERVAL));
    outbox.expectNoMessage();
    registry.expectNoMessage();
  }

  @Test
  void shouldWatchAConnectionThatHasNotLoggedInYet() {
    startStream();
    send(new ClientMessage.Hello(Protocol.VERSION));
    outbox.expectMessageClass(ServerMessage.Hello.class);
    ack.expectMessage(StreamAck.INSTANCE);

    timePasses(HEARTBEAT_INTERVAL);
    outbox.expectMessage(new ServerMessage.Heartbeat());
    send(new ClientMessage.Heartbeat());
    ack.expectMessage(StreamAck.INSTANCE);
    // The answer is not a login step: the username is still asked for.
    username("hans", UsernameVerdict.PASSWORD_REQUIRED);
    outbox.expectMessage(new ServerMessage.PasswordRequired("hans"));
  }

  @Test
  void shouldNeverRateLimitHeartbeats() {
    testKit.stop(session);
    spawnSession(FLOOD_SETTINGS);
    loginOverVersion3();

    for (int i = 0; i < COMMAND_BURST + DISCONNECT_AFTER; i++) {
      send(new ClientMessage.Heartbeat());
      ack.expectMessage(StreamAck.INSTANCE);
    }
    outbox.expectNoMessage();
  }

  // ---- resumption ----

  @Test
  void shouldResumeWithTheTokenTheConnectionsCertificateAndThePeerListenersFingerprint() {
    startStream();
    session.tell(new Session.ClientCertificatePresented(CLIENT_CERT));
    send(new ClientMessage.Hello(Protocol.VERSION));
    outbox.expectMessageClass(ServerMessage.Hello.class);
    ack.expectMessage(StreamAck.INSTANCE);

    send(new ClientMessage.Resume("hans", "the-token", PEER_PORT, PEER_CERT));
    LoginGuard.AdmitResumption admit = guard.expectMessageClass(LoginGuard.AdmitResumption.class);
    assertEquals(remote.getAddress(), admit.from());
    admit.replyTo().tell(LoginGuard.Admission.ADMITTED);
    UserRegistry.Resume resume = registry.expectMessageClass(UserRegistry.Resume.class);
    assertEquals(
        new UserRegistry.Resume(
            "hans",
            "the-token",
            new UserRegistry.Attachment(
                session,
                outbox.ref(),
                resume.attachment().evictTo(),
                "127.0.0.1",
                PEER_PORT,
                PEER_CERT,
                CLIENT_CERT,
                Protocol.VERSION),
            resume.replyTo()),
        resume);
    // The registry writes login-accepted; the session only asks for the next frame.
    ack.expectNoMessage();
    resume.replyTo().tell(UserRegistry.Resumption.RESUMED);
    ack.expectMessage(StreamAck.INSTANCE);

    send(new ClientMessage.WhoElse());
    assertEquals("hans", registry.expectMessageClass(UserRegistry.ListOnline.class).requester());
    // The old connection, if it is still open, is told why it goes.
  }

  @Test
  void shouldSayARefusedResumptionAndLetTheClientLogInWithThePassword() {
    startStream();
    hello();

    send(new ClientMessage.Resume("hans", "stolen", PEER_PORT, null));
    guard
        .expectMessageClass(LoginGuard.AdmitResumption.class)
        .replyTo()
        .tell(LoginGuard.Admission.ADMITTED);
    registry
        .expectMessageClass(UserRegistry.Resume.class)
        .replyTo()
        .tell(UserRegistry.Resumption.REFUSED);

    outbox.expectMessage(
        new ServerMessage.LoginFailed(ServerMessage.LoginFailed.Reason.RESUME_REFUSED, "hans"));
    ack.expectMessage(StreamAck.INSTANCE);
    username("hans", UsernameVerdict.PASSWORD_REQUIRED);
    outbox.expectMessage(new ServerMessage.PasswordRequired("hans"));
  }

  @Test
  void shouldRefuseAResumptionOverTheAddressesLoginRate() {
    startStream();
    hello();

    send(new ClientMessage.Resume("hans", "the-token", PEER_PORT, null));
    guard
        .expectMessageClass(LoginGuard.AdmitResumption.class)
        .replyTo()
        .tell(LoginGuard.Admission.RATE_LIMITED);

    outbox.expectMessage(new ServerMessage.Error(Code.RATE_LIMITED, "resume", null));
    ack.expectMessage(StreamAck.INSTANCE);
    registry.expectNoMessage();
  }

  @Test
  void shouldSayGoodbyeResumedWhenTheClientTookTheSessionOverElsewhere() {
    UserRegistry.Register register = login();

    register.attachment().evictTo().tell(new UserRegistry.Evict(Reason.RESUMED));

    // The registry ignores the old session's leaving: the user is online on the new one.
    registry.expectMessage(new UserRegistry.Unregister("hans", session));
    outbox.expectMessage(new ServerMessage.Goodbye(Reason.RESUMED));
  }

  // ---- helpers ----

  /** The inbound stream starts, and the session asks for the first frame. */
  private void startStream() {
    session.tell(new Session.StreamStarted(ack.ref(), outbox.ref()));
    ack.expectMessage(StreamAck.INSTANCE);
  }

  private void send(ClientMessage frame) {
    session.tell(new Session.FrameReceived(ack.ref(), new Inbound.Frame<>(frame)));
  }

  private void hello() {
    send(new ClientMessage.Hello(1));
    outbox.expectMessage(
        new ServerMessage.Hello(Protocol.VERSION, "parley", settings.limits().commands()));
    ack.expectMessage(StreamAck.INSTANCE);
  }

  /** Sends a username and answers the guard's check with {@code verdict}. */
  private void username(String name, UsernameVerdict verdict) {
    send(new ClientMessage.Username(name));
    LoginGuard.CheckUsername check = guard.expectMessageClass(LoginGuard.CheckUsername.class);
    assertEquals(name, check.username());
    check.replyTo().tell(verdict);
  }

  /** Sends a password and answers the guard's check with {@code verdict}. */
  private void password(String password, PasswordVerdict verdict) {
    send(new ClientMessage.Password(password, PEER_PORT));
    LoginGuard.Authenticate authenticate = guard.expectMessageClass(LoginGuard.Authenticate.class);
    assertEquals(password, authenticate.password());
    authenticate.replyTo().tell(verdict);
  }

  private void awaitPassword(String name) {
    startStream();
    hello();
    username(name, UsernameVerdict.PASSWORD_REQUIRED);
    outbox.expectMessage(new ServerMessage.PasswordRequired(name));
    ack.expectMessage(StreamAck.INSTANCE);
  }

  /** Logs in as hans, the registry admitting the session; returns the registration. */
  private UserRegistry.Register login() {
    awaitPassword("hans");
    password("falcon*solo", PasswordVerdict.AUTHENTICATED);
    UserRegistry.Register register = registry.expectMessageClass(UserRegistry.Register.class);
    register.replyTo().tell(Registration.REGISTERED);
    ack.expectMessage(StreamAck.INSTANCE);
    return register;
  }

  /** Moves the session's timers and its clock together. */
  private void timePasses(Duration duration) {
    clock.advance(duration);
    manualTime.timePasses(duration);
  }

  /** Logs in as hans from a client that speaks protocol 3, and so answers heartbeats. */
  private UserRegistry.Register loginOverVersion3() {
    startStream();
    send(new ClientMessage.Hello(Protocol.VERSION));
    outbox.expectMessageClass(ServerMessage.Hello.class);
    ack.expectMessage(StreamAck.INSTANCE);
    username("hans", UsernameVerdict.PASSWORD_REQUIRED);
    outbox.expectMessage(new ServerMessage.PasswordRequired("hans"));
    ack.expectMessage(StreamAck.INSTANCE);
    password("falcon*solo", PasswordVerdict.AUTHENTICATED);
    UserRegistry.Register register = registry.expectMessageClass(UserRegistry.Register.class);
    register.replyTo().tell(Registration.REGISTERED);
    ack.expectMessage(StreamAck.INSTANCE);
    return register;
  }

  /** Logs out, the registry storing the logout at once. */
  private void logOut() {
    send(new ClientMessage.Logout());
    registry
        .expectMessageClass(UserRegistry.Leave.class)
        .replyTo()
        .tell(UserRegistry.Left.INSTANCE);
    outbox.expectMessage(new ServerMessage.Goodbye(Reason.LOGGED_OUT));
  }

  /** Answers the session's request; the reply goes to the client, then the next frame is asked. */
  private void replyAndExpectAck(ActorRef<ServerMessage> replyTo, ServerMessage reply) {
    replyTo.tell(reply);
    outbox.expectMessage(reply);
    ack.expectMessage(StreamAck.INSTANCE);
  }

  /** An error frame with the code and command the protocol gives it. */
  private void expectError(Code code, String command) {
    ServerMessage.Error error = outbox.expectMessageClass(ServerMessage.Error.class);
    assertEquals(code, error.code());
    assertEquals(command, error.command());
  }

  /** An error frame with the code the protocol gives it. */
  private void expectError(Code code) {
    assertEquals(code, outbox.expectMessageClass(ServerMessage.Error.class).code());
  }

  /**
   * Sends {@code marker} and returns once the session has handled it, and so everything sent before
   * it: a synchronisation point before moving {@link ManualTime}. Only for phases in which the
   * marker changes nothing.
   */
  private void awaitHandled(Session.Command marker) {
    session.tell(marker);
    handled.fishForMessage(
        Duration.ofSeconds(5),
        message ->
            message.equals(marker)
                ? FishingOutcomes.complete()
                : FishingOutcomes.continueAndIgnore());
  }

  /** Runs {@code action} and checks that it made the session log {@code text} once, at WARN. */
  private void expectOneWarning(String text, Runnable action) {
    LoggingTestKit.warn(text)
        .expect(
            testKit.system(),
            () -> {
              action.run();
              return null;
            });
  }
}
