package dev.parley.client.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.Done;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.LoggingTestKit;
import akka.actor.testkit.typed.javadsl.ManualTime;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.javadsl.Behaviors;
import dev.parley.client.ClientSettings;
import dev.parley.client.ExitStatus;
import dev.parley.client.chat.PeerListener;
import dev.parley.client.chat.PrivateChats;
import dev.parley.client.console.Console;
import dev.parley.client.testing.RawPeer;
import dev.parley.client.testing.TestKits;
import dev.parley.client.testing.TestListener;
import dev.parley.client.testing.TestSecurity;
import dev.parley.client.testing.TestSettings;
import dev.parley.client.text.Texts;
import dev.parley.client.tls.LazySecurity;
import dev.parley.client.tls.Security;
import dev.parley.protocol.ClientMessage;
import dev.parley.protocol.CommandRate;
import dev.parley.protocol.JsonCodec;
import dev.parley.protocol.PeerMessage.Bye;
import dev.parley.protocol.Protocol;
import dev.parley.protocol.ServerMessage;
import dev.parley.protocol.ServerMessage.Error.Code;
import dev.parley.protocol.ServerMessage.Goodbye;
import dev.parley.protocol.ServerMessage.LoginFailed;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The session against a fake server on real loopback TCP; the console, the private chats and the
 * peer listener are probes, so every prompt, line and hand-over is checked in order.
 */
class ServerConnectionTest {

  private static final ActorTestKit testKit = TestKits.withManualTime();
  private static final ManualTime manualTime = ManualTime.get(testKit.system());

  /** The defaults, with exact reconnection waits so that manual time can step right onto them. */
  private static final ClientSettings settings =
      TestSettings.with("reconnect-backoff-random-factor = 0");

  private static final ClientSettings noReconnect = TestSettings.with("reconnect-window = 0");
  private static final Duration FIRST_WAIT = settings.reconnectBackoffMin();
  private static final String LOOPBACK = TestListener.LOOPBACK;
  private static final int PEER_PORT = 40_404;
  private static final CommandRate TWO_A_SECOND_THREE_AT_ONCE = new CommandRate(2.0, 3);
  private static final Duration HALF_SECOND = Duration.ofMillis(500);
  private static final String MESSAGE_QUEUED =
      "Not connected: your message will be sent once the connection is back";

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private final TestProbe<Console.Command> console = testKit.createTestProbe();

  /** The names the console is told of for Tab completion, apart from what it shows. */
  private final TestProbe<Console.Command> users = testKit.createTestProbe();

  private final ActorRef<Console.Command> consoleRef =
      testKit.spawn(
          Behaviors.receive(Console.Command.class)
              .onAnyMessage(
                  command -> {
                    if (command instanceof Console.UserSeen
                        || command instanceof Console.UserGone) {
                      users.ref().tell(command);
                    } else {
                      console.ref().tell(command);
                    }
                    return Behaviors.same();
                  })
              .build());
  private final TestProbe<PrivateChats.Command> chats = testKit.createTestProbe();
  private final TestProbe<PeerListener.Command> listener = testKit.createTestProbe();
  private final TestProbe<ServerConnection.Finished> parent = testKit.createTestProbe();
  private final TestListener server = TestListener.bind(testKit);

  /** A logged-in session: the fake server's end, the pending command read, the chats' link. */
  private record Session(
      RawPeer<ClientMessage, ServerMessage> server,
      ActorRef<Console.Input> input,
      ActorRef<PrivateChats.ServerRequest> fromChats) {}

  private void spawnSession(int port) {
    spawnSession(port, settings);
  }

  private void spawnSession(int port, ClientSettings settings) {
    testKit.spawn(
        ServerConnection.create(
            settings,
            LOOPBACK,
            port,
            new ServerConnection.Collaborators(
                consoleRef, chats.ref(), listener.ref(), parent.ref()),
            TestKits.manualNanoClock(testKit)));
  }

  /** Connects, lets the listener bind and returns the server's end after the hello. */
  private RawPeer<ClientMessage, ServerMessage> connect() {
    return connect(settings);
  }

  private RawPeer<ClientMessage, ServerMessage> connect(ClientSettings settings) {
    spawnSession(server.port(), settings);
    return acceptFirstConnection(server);
  }

  /** A session given several servers, in this order. */
  private void spawnSession(List<ServerAddress> servers) {
    testKit.spawn(
        ServerConnection.create(
            settings,
            servers,
            new ServerConnection.Collaborators(
                consoleRef, chats.ref(), listener.ref(), parent.ref()),
            TestKits.manualNanoClock(testKit)));
  }

  private static ServerAddress loopback(int port) {
    return new ServerAddress(LOOPBACK, port);
  }

  /** A port on which nothing listens: bound to find a free one, then closed. */
  private static int deadPort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  /** {@code on} takes the session's first connection; the listener binds; the hello comes. */
  private RawPeer<ClientMessage, ServerMessage> acceptFirstConnection(TestListener on) {
    RawPeer<ClientMessage, ServerMessage> connection =
        RawPeer.handle(on.expectConnection(), JsonCodec.CLIENT, JsonCodec.SERVER, testKit.system());
    PeerListener.Listen listen = listener.expectMessageClass(PeerListener.Listen.class);
    // By default the listener binds where the server sees this client.
    assertEquals(LOOPBACK, listen.host());
    listen.replyTo().tell(new PeerListener.Listening(new InetSocketAddress(LOOPBACK, PEER_PORT)));
    connection.expectFrame(new ClientMessage.Hello(Protocol.VERSION));
    return connection;
  }

  private ActorRef<Console.Input> expectPrompt(String prompt, boolean masked) {
    Console.ReadLine read = console.expectMessageClass(Console.ReadLine.class);
    assertEquals(prompt, read.prompt());
    assertEquals(masked, read.masked());
    return read.replyTo();
  }

  private void answer(ActorRef<Console.Input> input, String line) {
    input.tell(new Console.LineRead(line));
  }

  private void expectLines(String... lines) {
    for (String line : lines) {
      assertEquals(line, console.expectMessageClass(Console.Print.class).line());
    }
  }

  private ActorRef<Console.Input> expectCommandRead() {
    return console.expectMessageClass(Console.ReadCommand.class).replyTo();
  }

  private void enterUsername(RawPeer<ClientMessage, ServerMessage> connection, String name) {
    answer(expectPrompt("Username: ", false), name);
    connection.expectFrame(new ClientMessage.Username(name));
  }

  private void enterPassword(RawPeer<ClientMessage, ServerMessage> connection, String password) {
    answer(expectPrompt("Password: ", true), password);
    connection.expectFrame(new ClientMessage.Password(password, PEER_PORT));
  }

  private Session logIn() {
    return logIn(settings);
  }

  private Session logIn(ClientSettings settings) {
    return logIn(connect(settings));
  }

  /**
   * Logged in on a server whose hello announces {@code rate}; the burst, which the hello, the
   * username and the password took from, is full again (manual time has passed).
   */
  private Session logInPaced(CommandRate rate) {
    RawPeer<ClientMessage, ServerMessage> connection = connect(settings);
    connection.send(new ServerMessage.Hello(Protocol.VERSION, "parley", rate));
    Session session = logIn(connection);
    manualTime.timePasses(timeFor(rate, rate.burst()));
    return session;
  }

  /** How long {@code frames} tokens of {@code rate} take to come. */
  private static Duration timeFor(CommandRate rate, int frames) {
    return Duration.ofMillis(Math.round(frames * 1000 / rate.perSecond()));
  }

  private Session logIn(RawPeer<ClientMessage, ServerMessage> connection) {
    enterUsername(connection, "hans");
    connection.send(new ServerMessage.PasswordRequired("hans"));
    enterPassword(connection, "falcon");
    connection.send(new ServerMessage.LoginAccepted("hans"));
    expectLines("Welcome to the greatest messaging application ever!");
    PrivateChats.LoggedIn loggedIn = chats.expectMessageClass(PrivateChats.LoggedIn.class);
    assertEquals("hans", loggedIn.me());
    return new Session(connection, expectCommandRead(), loggedIn.server());
  }

  /** A direct message shown with a print receipt; returns where the receipt goes. */
  private ActorRef<Console.Receipt> expectShown(String line, long seq) {
    Console.PrintWithReceipt print = console.expectMessageClass(Console.PrintWithReceipt.class);
    assertEquals(line, print.line());
    assertEquals(seq, print.ticket());
    return print.replyTo();
  }

  /** The next frame is a direct message to {@code to}; returns its id. */
  private static String expectMessageFrame(
      RawPeer<ClientMessage, ServerMessage> connection, String to, String text) {
    ClientMessage.SendMessage message =
        assertInstanceOf(ClientMessage.SendMessage.class, connection.expectFrame());
    assertEquals(to, message.to());
    assertEquals(text, message.text());
    assertNotNull(message.id());
    // A UUID, which the server's limit on ids leaves room for.
    assertEquals(message.id(), UUID.fromString(message.id()).toString());
    return message.id();
  }

  /**
   * Types a command at the command prompt, expects the lines it prints, then the next read: the
   * command has been carried out by then, and nothing of it is left for the console probe.
   */
  private void type(Session session, String line, String... lines) {
    answer(session.input(), line);
    expectLines(lines);
    expectCommandRead();
  }

  /**
   * The next frame the server gets is the one of a command typed now: the session sent nothing else
   * (no message beyond its window, say) before it.
   */
  private void expectNothingElseSent(
      Session session, RawPeer<ClientMessage, ServerMessage> server) {
    type(session, "whoelse");
    server.expectFrame(new ClientMessage.WhoElse());
  }

  /** The session logs in again on its next connection, after the first reconnection wait. */
  private RawPeer<ClientMessage, ServerMessage> reconnectAfterTheFirstWait() {
    manualTime.timePasses(FIRST_WAIT);
    RawPeer<ClientMessage, ServerMessage> again = acceptLoginAgain();
    again.send(new ServerMessage.LoginAccepted("hans"));
    expectReconnected();
    return again;
  }

  /**
   * The session has logged in again: the user is told, and so are the private chats (with the
   * version of the new connection's server).
   */
  private void expectReconnected() {
    expectLines("Reconnected to the server");
    assertEquals("hans", chats.expectMessageClass(PrivateChats.LoggedIn.class).me());
  }

  /** The fake server drops the connection; the session says it is reconnecting. */
  private void dropAndExpectReconnecting(RawPeer<ClientMessage, ServerMessage> connection) {
    connection.drop();
    // The reconnection timers run from before this line is shown.
    expectLines("Lost connection to the server; reconnecting...");
  }

  /**
   * The fake server takes the session's next connection and gets hello, username and password,
   * without any prompt, as the first login gave them.
   */
  private RawPeer<ClientMessage, ServerMessage> acceptLoginAgain() {
    RawPeer<ClientMessage, ServerMessage> connection =
        RawPeer.handle(
            server.expectConnection(), JsonCodec.CLIENT, JsonCodec.SERVER, testKit.system());
    connection.expectFrame(new ClientMessage.Hello(Protocol.VERSION));
    connection.expectFrame(new ClientMessage.Username("hans"));
    connection.send(new ServerMessage.PasswordRequired("hans"));
    connection.expectFrame(new ClientMessage.Password("falcon", PEER_PORT));
    return connection;
  }

  /** The session closes the chats with {@code reason}, closes the console and reports. */
  private void expectFinished(Bye.Reason reason, int exitStatus) {
    PrivateChats.CloseAll close = chats.expectMessageClass(PrivateChats.CloseAll.class);
    assertEquals(reason, close.reason());
    console.expectNoMessage(Duration.ofMillis(50));
    close.replyTo().tell(PrivateChats.AllClosed.INSTANCE);
    console.expectMessageClass(Console.Close.class).replyTo().tell(Done.getInstance());
    parent.expectMessage(new ServerConnection.Finished(exitStatus));
  }

  @Test
  void shouldLogInAfterAWrongPassword() {
    RawPeer<ClientMessage, ServerMessage> connection = connect();
    enterUsername(connection, "hans");
    connection.send(new ServerMessage.PasswordRequired("hans"));
    enterPassword(connection, "wrong");
    connection.send(new LoginFailed(LoginFailed.Reason.INVALID_PASSWORD, "hans"));
    expectLines("Invalid Password. Please try again");
    enterPassword(connection, "falcon");
    connection.send(new ServerMessage.LoginAccepted("hans"));
    expectLines("Welcome to the greatest messaging application ever!");
    assertEquals("hans", chats.expectMessageClass(PrivateChats.LoggedIn.class).me());
    expectCommandRead();
  }

  @Test
  void shouldAskForAnotherUsernameWhenUnknownOrAlreadyOnline() {
    RawPeer<ClientMessage, ServerMessage> connection = connect();
    enterUsername(connection, "bob");
    connection.send(new LoginFailed(LoginFailed.Reason.UNKNOWN_USER, "bob"));
    expectLines("Error. Unknown username bob. Please try again");
    enterUsername(connection, "yoda");
    connection.send(new LoginFailed(LoginFailed.Reason.ALREADY_ONLINE, "yoda"));
    expectLines("Error. yoda is already logged in elsewhere");
    enterUsername(connection, "hans");
  }

  @Test
  void shouldLetTheUserTryALoginStepAgainWhenTheAddressIsRateLimited() {
    RawPeer<ClientMessage, ServerMessage> connection = connect();
    enterUsername(connection, "hans");
    connection.send(
        new ServerMessage.Error(ServerMessage.Error.Code.RATE_LIMITED, "username", null));
    expectLines(Texts.LOGIN_RATE_LIMITED);
    enterUsername(connection, "hans");
    connection.send(new ServerMessage.PasswordRequired("hans"));
    enterPassword(connection, "falcon");
    connection.send(
        new ServerMessage.Error(ServerMessage.Error.Code.RATE_LIMITED, "password", null));
    expectLines(Texts.LOGIN_RATE_LIMITED);
    enterPassword(connection, "falcon");
  }

  @Test
  void shouldAskAgainForBlankAnswersWithoutBotheringTheServer() {
    RawPeer<ClientMessage, ServerMessage> connection = connect();
    answer(expectPrompt("Username: ", false), "   ");
    enterUsername(connection, "hans");
    connection.send(new ServerMessage.PasswordRequired("hans"));
    answer(expectPrompt("Password: ", true), "");
    enterPassword(connection, "falcon");
  }

  @Test
  void shouldExitWithStatusOneWhenTheAccountGetsLocked() {
    RawPeer<ClientMessage, ServerMessage> connection = connect();
    enterUsername(connection, "hans");
    connection.send(new ServerMessage.PasswordRequired("hans"));
    enterPassword(connection, "wrong1");
    connection.send(new LoginFailed(LoginFailed.Reason.INVALID_PASSWORD, "hans"));
    expectLines("Invalid Password. Please try again");
    enterPassword(connection, "wrong2");
    connection.send(new LoginFailed(LoginFailed.Reason.INVALID_PASSWORD, "hans"));
    expectLines("Invalid Password. Please try again");
    enterPassword(connection, "wrong3");
    connection.send(new Goodbye(Goodbye.Reason.ACCOUNT_LOCKED));
    expectLines("Invalid Password. Your account has been blocked. Please try again later");
    expectFinished(Bye.Reason.DISCONNECTED, 1);
    connection.expectClosed();
  }

  @Test
  void shouldExitWithStatusOneWhenTheAccountIsStillBlocked() {
    RawPeer<ClientMessage, ServerMessage> connection = connect();
    enterUsername(connection, "hans");
    connection.send(new Goodbye(Goodbye.Reason.ACCOUNT_BLOCKED));
    expectLines("Your account is blocked due to multiple login failures. Please try again later");
    expectFinished(Bye.Reason.DISCONNECTED, 1);
  }

  @Test
  void shouldSendCommandsAndShowRepliesWithoutWaitingForThem() {
    Session session = logIn();
    RawPeer<ClientMessage, ServerMessage> connection = session.server();

    answer(session.input(), "message yoda Hey Dude");
    String id = expectMessageFrame(connection, "yoda", "Hey Dude");
    ActorRef<Console.Input> input = expectCommandRead();
    answer(input, "whoelse");
    connection.expectFrame(new ClientMessage.WhoElse());
    input = expectCommandRead();
    connection.send(new ServerMessage.MessageAccepted(id, false));
    connection.send(new ServerMessage.OnlineUsers(List.of("yoda", "luke")));
    expectLines("yoda", "luke");

    answer(input, "broadcast vader sucks");
    connection.expectFrame(new ClientMessage.Broadcast("vader sucks"));
    input = expectCommandRead();
    answer(input, "whoelsesince 200");
    connection.expectFrame(new ClientMessage.WhoElseSince(200));
    input = expectCommandRead();
    answer(input, "block hans");
    connection.expectFrame(new ClientMessage.Block("hans"));
    input = expectCommandRead();
    answer(input, "unblock yoda");
    connection.expectFrame(new ClientMessage.Unblock("yoda"));
    input = expectCommandRead();
    connection.send(new ServerMessage.BroadcastSent(false));
    connection.send(new ServerMessage.Error(ServerMessage.Error.Code.SELF, "block", "hans"));
    connection.send(
        new ServerMessage.Error(ServerMessage.Error.Code.NOT_BLOCKED, "unblock", "yoda"));
    connection.send(new ServerMessage.MessageReceived("yoda", "force is strong", 1, "y-1"));
    expectLines(
        "Your message could not be delivered to some recipients",
        "Error. Cannot block self",
        "Error. yoda was not blocked");
    expectShown("yoda: force is strong", 1).tell(new Console.Receipt(1));
    connection.expectFrame(new ClientMessage.Acknowledge(1));
  }

  @Test
  void shouldNoteActivityForCommandsHandledLocally() {
    Session session = logIn();
    RawPeer<ClientMessage, ServerMessage> connection = session.server();

    answer(session.input(), "whatsthetime");
    expectLines("Error. Invalid command");
    connection.expectFrame(new ClientMessage.NoteActivity());
    ActorRef<Console.Input> input = expectCommandRead();
    answer(input, "block");
    expectLines("Error. Usage: block <user>");
    connection.expectFrame(new ClientMessage.NoteActivity());
    input = expectCommandRead();
    answer(input, "whoelsesince -5");
    expectLines("Error. Time must be a whole number of seconds, 0 or more");
    connection.expectFrame(new ClientMessage.NoteActivity());
    input = expectCommandRead();
    // A blank line is nothing at all: the next frame is the next command's.
    answer(input, "   ");
    input = expectCommandRead();
    answer(input, "whoelse");
    connection.expectFrame(new ClientMessage.WhoElse());
  }

  @Test
  void shouldHandPrivateChatCommandsToThePrivateChats() {
    Session session = logIn();
    RawPeer<ClientMessage, ServerMessage> connection = session.server();

    answer(session.input(), "startprivate luke");
    chats.expectMessage(new PrivateChats.Start("luke"));
    ActorRef<Console.Input> input = expectCommandRead();
    session.fromChats().tell(new PrivateChats.RequestPeerAddress("luke"));
    connection.expectFrame(new ClientMessage.StartPrivate("luke"));

    answer(input, "startprivate yoda");
    chats.expectMessage(new PrivateChats.Start("yoda"));
    input = expectCommandRead();
    session.fromChats().tell(new PrivateChats.RequestPeerAddress("yoda"));
    connection.expectFrame(new ClientMessage.StartPrivate("yoda"));

    // Answers come in request order: an address for luke, an error for yoda.
    connection.send(new ServerMessage.PeerAddress("luke", LOOPBACK, 5555));
    connection.send(
        new ServerMessage.Error(ServerMessage.Error.Code.USER_OFFLINE, "startprivate", "yoda"));
    chats.expectMessage(
        new PrivateChats.PeerAddressReceived(
            "luke", new ServerMessage.PeerAddress("luke", LOOPBACK, 5555, null, null)));
    chats.expectMessage(new PrivateChats.PeerAddressRefused("yoda"));
    expectLines("Error. yoda is offline");

    answer(input, "private luke hey dude");
    chats.expectMessage(new PrivateChats.SendPrivate("luke", "hey dude"));
    connection.expectFrame(new ClientMessage.NoteActivity());
    input = expectCommandRead();
    answer(input, "stopprivate luke");
    chats.expectMessage(new PrivateChats.StopPrivate("luke"));
    connection.expectFrame(new ClientMessage.NoteActivity());
    expectCommandRead();
    session.fromChats().tell(PrivateChats.ReportActivity.INSTANCE);
    connection.expectFrame(new ClientMessage.NoteActivity());
  }

  @Test
  void shouldHandTheTokensOfPrivateChatsToThePrivateChatsWithoutShowingThem() {
    RawPeer<ClientMessage, ServerMessage> connection = connect();
    connection.send(new ServerMessage.Hello(Protocol.VERSION, "parley", null));
    Session session = logIn(connection);

    answer(session.input(), "startprivate luke");
    chats.expectMessage(new PrivateChats.Start("luke"));
    expectCommandRead();
    session.fromChats().tell(new PrivateChats.RequestPeerAddress("luke"));
    connection.expectFrame(new ClientMessage.StartPrivate("luke"));
    String lukesToken = "7Tq0cW3bZk1uD9sLw2nXgA";
    connection.send(
        new ServerMessage.PeerAddress("luke", LOOPBACK, 5555, "SHA256:bHVrZXM", lukesToken));
    chats.expectMessage(
        new PrivateChats.PeerAddressReceived(
            "luke",
            new ServerMessage.PeerAddress("luke", LOOPBACK, 5555, "SHA256:bHVrZXM", lukesToken)));

    // yoda ran startprivate hans: the chats learn whom to expect; the user sees nothing of it.
    String yodasToken = "q2x9-4fU8kLmPz0aR7vYtw";
    connection.send(new ServerMessage.PeerInvited("yoda", yodasToken, 30));
    chats.expectMessage(new PrivateChats.Invited("yoda", yodasToken, Duration.ofSeconds(30)));
    console.expectNoMessage(Duration.ofMillis(50));
    expectNothingElseSent(session, connection);
  }

  @Test
  void shouldTellThePrivateChatsTheVersionOfTheServerAtEveryLogin() {
    RawPeer<ClientMessage, ServerMessage> connection = connect();
    connection.send(new ServerMessage.Hello(Protocol.VERSION, "parley", null));
    enterUsername(connection, "hans");
    connection.send(new ServerMessage.PasswordRequired("hans"));
    enterPassword(connection, "falcon");
    connection.send(new ServerMessage.LoginAccepted("hans"));
    expectLines("Welcome to the greatest messaging application ever!");
    PrivateChats.LoggedIn first = chats.expectMessageClass(PrivateChats.LoggedIn.class);
    assertEquals(Protocol.VERSION, first.serverVersion());
    expectCommandRead();

    // Back on a server of an earlier version, which issues no tokens.
    dropAndExpectReconnecting(connection);
    manualTime.timePasses(FIRST_WAIT);
    RawPeer<ClientMessage, ServerMessage> again = acceptLoginAgain();
    again.send(new ServerMessage.Hello(Protocol.VERSION - 1, "parley", null));
    again.send(new ServerMessage.LoginAccepted("hans"));
    expectLines("Reconnected to the server");
    chats.expectMessage(
        new PrivateChats.LoggedIn("hans", first.server(), Protocol.VERSION - 1, null));
  }

  @Test
  void shouldLogOutAndExitWithStatusZero() {
    Session session = logIn();
    answer(session.input(), "logout");
    session.server().expectFrame(new ClientMessage.Logout());
    session.server().send(new ServerMessage.UserLoggedOut("luke"));
    session.server().send(new Goodbye(Goodbye.Reason.LOGGED_OUT));
    expectLines("luke logged out", "You are logged out");
    expectFinished(Bye.Reason.LOGGED_OUT, 0);
    session.server().expectClosed();
  }

  @Test
  void shouldStyleLinesByKindAndTellTheConsoleWhoIsAround() {
    Session session = logIn();
    session.server().send(new ServerMessage.UserLoggedIn("luke"));
    assertEquals(
        new Console.Print("luke logged in", Console.Kind.PRESENCE),
        console.expectMessageClass(Console.Print.class));
    users.expectMessage(new Console.UserSeen("luke"));
    session.server().send(new ServerMessage.MessageReceived("yoda", "hi", 1, "y-1"));
    Console.PrintWithReceipt shown = console.expectMessageClass(Console.PrintWithReceipt.class);
    assertEquals("yoda: hi", shown.line());
    assertEquals(Console.Kind.INCOMING, shown.kind());
    users.expectMessage(new Console.UserSeen("yoda"));
    session.server().send(new ServerMessage.UserLoggedOut("luke"));
    assertEquals(
        new Console.Print("luke logged out", Console.Kind.PRESENCE),
        console.expectMessageClass(Console.Print.class));
    users.expectMessage(new Console.UserGone("luke"));
  }

  /** help is the client's own: its lines are shown and nothing reaches the server. */
  @Test
  void shouldAnswerHelpItselfWithoutTheServer() {
    Session session = logIn();
    answer(session.input(), "help");
    expectLines(Texts.HELP.toArray(String[]::new));
    answer(expectCommandRead(), "help block");
    expectLines(Texts.help("block").toArray(String[]::new));
    answer(expectCommandRead(), "hepl");
    expectLines("Error. Invalid command");
    answer(expectCommandRead(), "whoelse");
    // Nothing of help reaches the server: only the activity notice every local command sends,
    // for the server's idle timer.
    for (int i = 0; i < 3; i++) {
      session.server().expectFrame(new ClientMessage.NoteActivity());
    }
    session.server().expectFrame(new ClientMessage.WhoElse());
  }

  @Test
  void shouldLogOutAtTheEndOfInput() {
    Session session = logIn();
    session.input().tell(Console.InputEnded.INSTANCE);
    session.server().expectFrame(new ClientMessage.Logout());
    session.server().send(new Goodbye(Goodbye.Reason.LOGGED_OUT));
    expectLines("You are logged out");
    expectFinished(Bye.Reason.LOGGED_OUT, 0);
  }

  @Test
  void shouldExitAfterLogoutEvenWithoutTheServersGoodbye() {
    Session session = logIn();
    answer(session.input(), "logout");
    // The logout timer starts before the frame is sent, so it is running now.
    session.server().expectFrame(new ClientMessage.Logout());
    manualTime.expectNoMessageFor(settings.logoutTimeout().minusMillis(1), chats);
    manualTime.timePasses(Duration.ofMillis(1));
    expectLines("You are logged out");
    expectFinished(Bye.Reason.LOGGED_OUT, 0);
    session.server().expectClosed();
  }

  @Test
  void shouldTakeAConnectionClosedAfterLogoutAsLoggedOut() {
    Session session = logIn();
    answer(session.input(), "logout");
    session.server().expectFrame(new ClientMessage.Logout());
    session.server().close();
    expectLines("You are logged out");
    expectFinished(Bye.Reason.LOGGED_OUT, 0);
  }

  @Test
  void shouldQuitWithoutLoggingInWhenInputEndsAtThePrompt() {
    RawPeer<ClientMessage, ServerMessage> connection = connect();
    expectPrompt("Username: ", false).tell(Console.InputEnded.INSTANCE);
    expectFinished(Bye.Reason.LOGGED_OUT, 0);
    connection.expectClosed();
  }

  @Test
  void shouldExitWithStatusFourWhenLoggedOutForInactivity() {
    Session session = logIn();
    session.server().send(new Goodbye(Goodbye.Reason.TIMED_OUT));
    expectLines("You have been logged out due to inactivity");
    expectFinished(Bye.Reason.TIMED_OUT, 4);
    session.server().expectClosed();
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "SERVER_SHUTDOWN|The server is shutting down. You have been logged out",
        "PROTOCOL_VIOLATION|Error. The server closed the connection (protocol-violation)"
      })
  void shouldExitWithStatusThreeWhenTheServerClosesTheSessionAndReconnectingIsDisabled(
      Goodbye.Reason reason, String line) {
    Session session = logIn(noReconnect);
    session.server().send(new Goodbye(reason));
    expectLines(line);
    expectFinished(Bye.Reason.DISCONNECTED, 3);
  }

  @Test
  void shouldExitWithStatusThreeWhenTheServerIsBusy() {
    RawPeer<ClientMessage, ServerMessage> connection = connect();
    connection.send(new Goodbye(Goodbye.Reason.SERVER_BUSY));
    // The username prompt was already on its way; the goodbye follows it.
    expectPrompt("Username: ", false);
    expectLines("Error. The server is busy. Please try again later");
    expectFinished(Bye.Reason.DISCONNECTED, 3);
  }

  @Test
  void shouldExitWithStatusThreeAtOnceWhenTheConnectionIsLostAndReconnectingIsDisabled() {
    Session session = logIn(noReconnect);
    type(session, "message yoda still there?");
    expectMessageFrame(session.server(), "yoda", "still there?");
    session.server().drop();
    expectLines("Error. Lost connection to the server", "Error. 1 message(s) could not be sent");
    expectFinished(Bye.Reason.DISCONNECTED, 3);
  }

  @Test
  void shouldExitWithStatusThreeWhenTheServerClosesTheSessionForGood() {
    Session session = logIn();
    session.server().send(new Goodbye(Goodbye.Reason.PROTOCOL_VIOLATION));
    expectLines("Error. The server closed the connection (protocol-violation)");
    expectFinished(Bye.Reason.DISCONNECTED, 3);
  }

  @Test
  void shouldExitWithStatusThreeWhenTheServerClosesWithoutGoodbye() {
    RawPeer<ClientMessage, ServerMessage> connection = connect();
    expectPrompt("Username: ", false);
    connection.close();
    expectLines("Error. Lost connection to the server");
    expectFinished(Bye.Reason.DISCONNECTED, 3);
  }

  @Test
  void shouldExitWithStatusThreeWhenTheServerCannotBeReached() throws IOException {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    spawnSession(closedPort);
    String line = console.expectMessageClass(Console.Print.class).line();
    String expected =
        "Error. Cannot connect to the server at " + LOOPBACK + ":" + closedPort + ": ";
    assertTrue(line.startsWith(expected), line);
    assertTrue(line.length() > expected.length(), line);
    expectFinished(Bye.Reason.DISCONNECTED, 3);
    listener.expectNoMessage(Duration.ofMillis(50));
  }

  @Test
  void shouldExitWithStatusThreeWhenPrivateChatsCannotBeAccepted() {
    spawnSession(server.port());
    server.expectConnection();
    PeerListener.Listen listen = listener.expectMessageClass(PeerListener.Listen.class);
    listen.replyTo().tell(new PeerListener.ListenFailed(LOOPBACK, "Address already in use"));
    expectLines("Error. Cannot accept private chats on 127.0.0.1: Address already in use");
    expectFinished(Bye.Reason.DISCONNECTED, 3);
  }

  // Delivery of direct messages.

  @Test
  void shouldGiveEveryMessageItsOwnId() {
    Session session = logIn();
    type(session, "message yoda one");
    String first = expectMessageFrame(session.server(), "yoda", "one");
    type(session, "message yoda one");
    String second = expectMessageFrame(session.server(), "yoda", "one");
    assertNotEquals(first, second);
  }

  @Test
  void shouldForgetAcceptedMessagesAndShowRefusedOnes() {
    Session session = logIn();
    RawPeer<ClientMessage, ServerMessage> connection = session.server();
    type(session, "message yoda Hey Dude");
    String accepted = expectMessageFrame(connection, "yoda", "Hey Dude");
    type(session, "message bob party time");
    String refused = expectMessageFrame(connection, "bob", "party time");
    type(session, "message luke You angry?");
    expectMessageFrame(connection, "luke", "You angry?");

    connection.send(new ServerMessage.MessageAccepted(accepted, false));
    connection.send(new ServerMessage.Error(Code.INVALID_USER, "message", "bob", refused));
    expectLines("Error. Invalid user");

    // Only the message still unanswered at the goodbye is reported.
    answer(session.input(), "logout");
    connection.expectFrame(new ClientMessage.Logout());
    connection.send(new Goodbye(Goodbye.Reason.LOGGED_OUT));
    expectLines("You are logged out", "Error. 1 message(s) could not be sent");
    expectFinished(Bye.Reason.LOGGED_OUT, 0);
  }

  @Test
  void shouldSendAMessageAgainWithTheSameIdWhenTheServerCouldNotStoreIt() {
    Session session = logIn();
    RawPeer<ClientMessage, ServerMessage> connection = session.server();
    type(session, "message yoda Hey Dude");
    String id = expectMessageFrame(connection, "yoda", "Hey Dude");
    connection.send(new ServerMessage.Error(Code.UNAVAILABLE, "message", "yoda", id));
    // The resend timer runs from before this line is shown.
    expectLines(
        "Error. The server could not store your message to yoda yet; it will be sent again");

    // Not a moment before the resend delay: the next frame is the next command's.
    manualTime.timePasses(settings.resendDelay().minusMillis(1));
    type(session, "whoelse");
    connection.expectFrame(new ClientMessage.WhoElse());
    manualTime.timePasses(Duration.ofMillis(1));
    assertEquals(id, expectMessageFrame(connection, "yoda", "Hey Dude"));

    // Still not stored: sent again, without telling the user again.
    connection.send(new ServerMessage.OnlineUsers(List.of("yoda")));
    connection.send(new ServerMessage.Error(Code.UNAVAILABLE, "message", "yoda", id));
    connection.send(new ServerMessage.OnlineUsers(List.of("luke")));
    expectLines("yoda", "luke");
    manualTime.timePasses(settings.resendDelay());
    assertEquals(id, expectMessageFrame(connection, "yoda", "Hey Dude"));
    connection.send(new ServerMessage.MessageAccepted(id, true));

    answer(session.input(), "logout");
    connection.expectFrame(new ClientMessage.Logout());
    connection.send(new Goodbye(Goodbye.Reason.LOGGED_OUT));
    // Accepted in the end: nothing is reported as unsent.
    expectLines("You are logged out");
    expectFinished(Bye.Reason.LOGGED_OUT, 0);
  }

  @Test
  void shouldRefuseMessagesBeyondTheUnsentBound() {
    Session session = logIn(TestSettings.with("max-unsent-messages = 2"));
    RawPeer<ClientMessage, ServerMessage> connection = session.server();
    type(session, "message yoda one");
    String first = expectMessageFrame(connection, "yoda", "one");
    type(session, "message yoda two");
    expectMessageFrame(connection, "yoda", "two");
    type(
        session,
        "message yoda three",
        "Error. 2 messages are already waiting to be sent; message not sent");
    connection.expectFrame(new ClientMessage.NoteActivity());
    // Room again once one is accepted.
    connection.send(new ServerMessage.MessageAccepted(first, false));
    connection.send(new ServerMessage.OnlineUsers(List.of("yoda")));
    expectLines("yoda");
    type(session, "message yoda three");
    expectMessageFrame(connection, "yoda", "three");
  }

  @Test
  void shouldShowEachMessageOnceAndAcknowledgeOnlyWhatIsPrinted() {
    Session session = logIn();
    RawPeer<ClientMessage, ServerMessage> connection = session.server();
    connection.send(new ServerMessage.MessageReceived("yoda", "one", 3, null));
    connection.send(new ServerMessage.MessageReceived("yoda", "one", 3, null));
    connection.send(new ServerMessage.MessageReceived("luke", "older", 2, null));
    connection.send(new ServerMessage.MessageReceived("yoda", "two", 5, null));
    // The repeated and the older message are not shown: the next line is seq 5's.
    ActorRef<Console.Receipt> three = expectShown("yoda: one", 3);
    ActorRef<Console.Receipt> five = expectShown("yoda: two", 5);

    // Nothing printed yet, nothing acknowledged: the next frame is the next command's.
    type(session, "whoelse");
    connection.expectFrame(new ClientMessage.WhoElse());
    // One of two printed: still no ack, since one ack covers both once both are printed.
    three.tell(new Console.Receipt(3));
    type(session, "whoelse");
    connection.expectFrame(new ClientMessage.WhoElse());
    five.tell(new Console.Receipt(5));
    connection.expectFrame(new ClientMessage.Acknowledge(5));

    // Sent again (as if its ack had been lost): not shown, and the ack sent covers it already.
    connection.send(new ServerMessage.MessageReceived("yoda", "two", 5, null));
    connection.send(new ServerMessage.MessageReceived("yoda", "three", 8, null));
    expectShown("yoda: three", 8).tell(new Console.Receipt(8));
    connection.expectFrame(new ClientMessage.Acknowledge(8));
  }

  @Test
  void shouldAcknowledgeWhatIsShownBeforeLoggingOutAndLeaveLaterMessagesForTheNextLogin() {
    Session session = logIn();
    RawPeer<ClientMessage, ServerMessage> connection = session.server();
    connection.send(new ServerMessage.MessageReceived("yoda", "one", 3, null));
    connection.send(new ServerMessage.MessageReceived("yoda", "two", 4, null));
    expectShown("yoda: one", 3).tell(new Console.Receipt(3));
    expectShown("yoda: two", 4);

    // Seq 4 is still being printed; what is shown is acknowledged before the logout.
    answer(session.input(), "logout");
    connection.expectFrame(new ClientMessage.Acknowledge(3));
    connection.expectFrame(new ClientMessage.Logout());
    // Too late to acknowledge it: not shown now, so that the next login shows it once.
    connection.send(new ServerMessage.MessageReceived("luke", "wait!", 6, null));
    connection.send(new Goodbye(Goodbye.Reason.LOGGED_OUT));
    expectLines("You are logged out");
    expectFinished(Bye.Reason.LOGGED_OUT, 0);
  }

  // Reconnecting.

  @Test
  void shouldReconnectLogInAgainAndSendUnsentMessagesWithTheirIds() {
    Session session = logIn();
    RawPeer<ClientMessage, ServerMessage> first = session.server();
    first.send(new ServerMessage.MessageReceived("yoda", "before", 4, "y-1"));
    expectShown("yoda: before", 4).tell(new Console.Receipt(4));
    first.expectFrame(new ClientMessage.Acknowledge(4));
    type(session, "message yoda in flight");
    String inFlight = expectMessageFrame(first, "yoda", "in flight");

    dropAndExpectReconnecting(first);
    type(
        session,
        "message luke while away",
        "Not connected: your message will be sent once the connection is back");
    // Said once per disconnection: this one prints nothing.
    type(session, "message luke still away");
    type(session, "whoelse", "Error. Not connected to the server; try again once reconnected");
    // Private chats are direct: they go on, and are not closed.
    type(session, "private luke hey dude");
    chats.expectMessage(new PrivateChats.SendPrivate("luke", "hey dude"));

    manualTime.timePasses(FIRST_WAIT);
    RawPeer<ClientMessage, ServerMessage> second = acceptLoginAgain();
    second.send(new ServerMessage.LoginAccepted("hans"));
    expectReconnected();
    // An ack sent on a lost connection may not have arrived: it goes again, first.
    second.expectFrame(new ClientMessage.Acknowledge(4));
    assertEquals(inFlight, expectMessageFrame(second, "yoda", "in flight"));
    String away = expectMessageFrame(second, "luke", "while away");
    String stillAway = expectMessageFrame(second, "luke", "still away");
    assertNotEquals(away, stillAway);

    // The server sends again what it had not seen acknowledged: shown only if new.
    second.send(new ServerMessage.MessageReceived("yoda", "before", 4, "y-1"));
    second.send(new ServerMessage.MessageReceived("yoda", "after", 6, "y-2"));
    expectShown("yoda: after", 6).tell(new Console.Receipt(6));
    second.expectFrame(new ClientMessage.Acknowledge(6));

    // Commands reach the server again; the private-chat listener was not bound again.
    type(session, "whoelse");
    second.expectFrame(new ClientMessage.WhoElse());
    listener.expectNoMessage(Duration.ofMillis(50));
    second.send(new ServerMessage.MessageAccepted(inFlight, false));
    second.send(new ServerMessage.MessageAccepted(away, true));
    second.send(new ServerMessage.MessageAccepted(stillAway, true));
    answer(session.input(), "logout");
    second.expectFrame(new ClientMessage.Logout());
    second.send(new Goodbye(Goodbye.Reason.LOGGED_OUT));
    expectLines("You are logged out");
    expectFinished(Bye.Reason.LOGGED_OUT, 0);
    second.expectClosed();
  }

  @Test
  void shouldKeepTryingWhileTheServerStillHasTheLostSession() {
    Session session = logIn();
    dropAndExpectReconnecting(session.server());

    manualTime.timePasses(FIRST_WAIT);
    RawPeer<ClientMessage, ServerMessage> refused = acceptLoginAgain();
    refused.send(new LoginFailed(LoginFailed.Reason.ALREADY_ONLINE, "hans"));
    // The next attempt is scheduled by the time the connection closes.
    refused.expectClosed();
    // The wait doubles: nothing after the first wait again, the next attempt after twice it.
    manualTime.timePasses(FIRST_WAIT);
    server.expectNoConnection();
    manualTime.timePasses(FIRST_WAIT);
    RawPeer<ClientMessage, ServerMessage> accepted = acceptLoginAgain();
    accepted.send(new ServerMessage.LoginAccepted("hans"));
    expectReconnected();
    type(session, "whoelse");
    accepted.expectFrame(new ClientMessage.WhoElse());
  }

  @Test
  void shouldReconnectAfterTheServerShutsDown() {
    Session session = logIn();
    session.server().send(new Goodbye(Goodbye.Reason.SERVER_SHUTDOWN));
    expectLines(
        "The server is shutting down. You have been logged out",
        "Lost connection to the server; reconnecting...");
    session.server().expectClosed();

    manualTime.timePasses(FIRST_WAIT);
    RawPeer<ClientMessage, ServerMessage> again = acceptLoginAgain();
    again.send(new ServerMessage.LoginAccepted("hans"));
    expectReconnected();
    type(session, "whoelse");
    again.expectFrame(new ClientMessage.WhoElse());
    // The private chats were never closed.
    chats.expectNoMessage(Duration.ofMillis(50));
  }

  @Test
  void shouldGiveUpAConnectionTheServerNeverAnswersAndTryAgain() {
    Session session = logInWithToken("token-1");
    session.server().send(new Goodbye(Goodbye.Reason.SERVER_SHUTDOWN));
    expectLines(
        "The server is shutting down. You have been logged out",
        "Lost connection to the server; reconnecting...");
    session.server().expectClosed();

    // Accepted but never answered, as the connections a restarted server has no room for yet.
    RawPeer<ClientMessage, ServerMessage> hanging =
        LoggingTestKit.info("Connected to")
            .expect(
                testKit.system(),
                () -> {
                  manualTime.timePasses(FIRST_WAIT);
                  return acceptResumption("token-1");
                });
    manualTime.timePasses(settings.connectTimeout().minusMillis(1));
    console.expectNoMessage(Duration.ofMillis(50));
    manualTime.timePasses(Duration.ofMillis(1));
    hanging.expectClosed();

    manualTime.timePasses(settings.reconnectBackoffMax());
    RawPeer<ClientMessage, ServerMessage> again = acceptResumption("token-1");
    again.send(new ServerMessage.LoginAccepted("hans", "token-2"));
    expectReconnected();
  }

  @Test
  void shouldExitWithStatusThreeWhenTheReconnectWindowPasses() {
    Session session = logIn();
    dropAndExpectReconnecting(session.server());
    type(
        session,
        "message yoda anyone?",
        "Not connected: your message will be sent once the connection is back");

    manualTime.timePasses(settings.reconnectWindow());
    expectLines("Error. Lost connection to the server", "Error. 1 message(s) could not be sent");
    // Only now, giving up, are the private chats closed.
    expectFinished(Bye.Reason.DISCONNECTED, 3);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "INVALID_PASSWORD|Error. Could not log in again: invalid password",
        "UNKNOWN_USER|Error. Could not log in again: unknown username hans"
      })
  void shouldExitWithStatusOneWhenTheAccountChangedMeanwhile(
      LoginFailed.Reason reason, String line) {
    Session session = logIn();
    dropAndExpectReconnecting(session.server());
    manualTime.timePasses(FIRST_WAIT);
    RawPeer<ClientMessage, ServerMessage> again = acceptLoginAgain();
    again.send(new LoginFailed(reason, "hans"));
    expectLines(line);
    expectFinished(Bye.Reason.DISCONNECTED, 1);
    again.expectClosed();
  }

  @Test
  void shouldExitWithStatusOneWhenTheAccountIsBlockedMeanwhile() {
    Session session = logIn();
    dropAndExpectReconnecting(session.server());
    manualTime.timePasses(FIRST_WAIT);
    RawPeer<ClientMessage, ServerMessage> again = acceptLoginAgain();
    again.send(new Goodbye(Goodbye.Reason.ACCOUNT_BLOCKED));
    expectLines("Your account is blocked due to multiple login failures. Please try again later");
    expectFinished(Bye.Reason.DISCONNECTED, 1);
  }

  @Test
  void shouldRefuseServerCommandsButKeepPrivateChatsWhileDisconnected() {
    Session session = logIn();
    RawPeer<ClientMessage, ServerMessage> connection = session.server();
    // A startprivate in flight when the connection drops is given up.
    type(session, "startprivate luke");
    chats.expectMessage(new PrivateChats.Start("luke"));
    session.fromChats().tell(new PrivateChats.RequestPeerAddress("luke"));
    connection.expectFrame(new ClientMessage.StartPrivate("luke"));
    dropAndExpectReconnecting(connection);
    chats.expectMessage(new PrivateChats.PeerAddressRefused("luke"));

    for (String command :
        List.of("broadcast hi", "whoelse", "whoelsesince 60", "block vader", "unblock vader")) {
      type(session, command, "Error. Not connected to the server; try again once reconnected");
    }
    type(session, "startprivate yoda");
    chats.expectMessage(new PrivateChats.Start("yoda"));
    session.fromChats().tell(new PrivateChats.RequestPeerAddress("yoda"));
    expectLines("Error. Not connected to the server; try again once reconnected");
    chats.expectMessage(new PrivateChats.PeerAddressRefused("yoda"));
    type(session, "stopprivate luke");
    chats.expectMessage(new PrivateChats.StopPrivate("luke"));
    type(session, "whatsthetime", "Error. Invalid command");
    type(
        session,
        "message yoda later",
        "Not connected: your message will be sent once the connection is back");

    // Logging out does not wait for the server; what could not be sent is counted.
    answer(session.input(), "logout");
    expectLines("You are logged out", "Error. 1 message(s) could not be sent");
    expectFinished(Bye.Reason.LOGGED_OUT, 0);
  }

  @Test
  void shouldLogOutAtTheEndOfInputWhileLoggingInAgain() {
    Session session = logIn();
    dropAndExpectReconnecting(session.server());
    manualTime.timePasses(FIRST_WAIT);
    RawPeer<ClientMessage, ServerMessage> again = acceptLoginAgain();
    session.input().tell(Console.InputEnded.INSTANCE);
    expectLines("You are logged out");
    expectFinished(Bye.Reason.LOGGED_OUT, 0);
    again.expectClosed();
  }

  // What the session cannot take from the server.

  @Test
  void shouldCloseAConnectionThatSendsAnOverlongLineAndReconnect() {
    Session session = logIn();
    RawPeer<ClientMessage, ServerMessage> first = session.server();
    first.send(
        new ServerMessage.MessageReceived("yoda", "x".repeat(settings.maxFrameBytes()), 1, "y-1"));
    expectLines(
        "Error. The server sent a line longer than 65536 bytes; closing the connection",
        "Lost connection to the server; reconnecting...");
    first.expectClosed();

    // Logged in again on a new connection, the session hears the server again.
    RawPeer<ClientMessage, ServerMessage> second = reconnectAfterTheFirstWait();
    second.send(new ServerMessage.MessageReceived("yoda", "can you hear me?", 2, "y-2"));
    expectShown("yoda: can you hear me?", 2).tell(new Console.Receipt(2));
    second.expectFrame(new ClientMessage.Acknowledge(2));
    second.send(new ServerMessage.UserLoggedIn("luke"));
    expectLines("luke logged in");
  }

  @Test
  void shouldExitWithStatusThreeAfterAnOverlongLineWhenReconnectingIsDisabled() {
    Session session = logIn(noReconnect);
    session.server().sendRaw("{\"type\":\"user-logged-in\",\"user\":\"" + "y".repeat(70_000));
    expectLines(
        "Error. The server sent a line longer than 65536 bytes; closing the connection",
        "Error. Lost connection to the server");
    expectFinished(Bye.Reason.DISCONNECTED, 3);
    session.server().expectClosed();
  }

  @Test
  void shouldSkipLinesItCannotReadAndKeepListening() {
    Session session = logIn();
    RawPeer<ClientMessage, ServerMessage> connection = session.server();
    // A reason from a newer server, a frame type it added, a line that is not JSON.
    connection.sendRaw("{\"type\":\"goodbye\",\"reason\":\"solar-flare\"}");
    connection.sendRaw("{\"type\":\"weather\",\"sky\":\"blue\"}");
    connection.sendRaw("not json");
    connection.send(new ServerMessage.UserLoggedIn("luke"));
    expectLines("luke logged in");
    type(session, "whoelse");
    connection.expectFrame(new ClientMessage.WhoElse());
  }

  // Pacing direct messages.

  @Test
  void shouldKeepAtMostTheWindowUnansweredAndSendEveryMessageInOrderWithItsId() {
    int window = settings.maxInFlightMessages();
    assertEquals(32, window);
    int count = 100;
    Session session = logIn();
    RawPeer<ClientMessage, ServerMessage> first = session.server();
    for (int i = 1; i <= count; i++) {
      type(session, "message yoda m" + i);
    }
    // ids.get(i - 1) is the id of message i, as the server first saw it.
    List<String> ids = new ArrayList<>();
    for (int i = 1; i <= window; i++) {
      ids.add(expectMessageFrame(first, "yoda", "m" + i));
    }
    expectNothingElseSent(session, first);

    // Each answer makes room for one more, the oldest waiting.
    for (int i = 0; i < 10; i++) {
      first.send(new ServerMessage.MessageAccepted(ids.get(i), false));
    }
    for (int i = window + 1; i <= window + 10; i++) {
      ids.add(expectMessageFrame(first, "yoda", "m" + i));
    }
    expectNothingElseSent(session, first);

    // Lost with messages 11 to 42 unanswered: on the next connection they go again, same ids,
    // and again no more than the window.
    dropAndExpectReconnecting(first);
    RawPeer<ClientMessage, ServerMessage> second = reconnectAfterTheFirstWait();
    for (int i = 11; i <= window + 10; i++) {
      assertEquals(ids.get(i - 1), expectMessageFrame(second, "yoda", "m" + i));
    }
    expectNothingElseSent(session, second);

    // Answered one by one, oldest first: one more message each time, and nothing else.
    int next = window + 11;
    for (int answered = 11; answered <= count; answered++) {
      second.send(new ServerMessage.MessageAccepted(ids.get(answered - 1), false));
      if (next <= count) {
        ids.add(expectMessageFrame(second, "yoda", "m" + next++));
      }
      expectNothingElseSent(session, second);
    }
    assertEquals(count, ids.size());
    assertEquals(count, ids.stream().distinct().count());

    // Everything was accepted: nothing is reported as unsent.
    answer(session.input(), "logout");
    second.expectFrame(new ClientMessage.Logout());
    second.send(new Goodbye(Goodbye.Reason.LOGGED_OUT));
    expectLines("You are logged out");
    expectFinished(Bye.Reason.LOGGED_OUT, 0);
  }

  @Test
  void shouldTakeAnAnswerWithoutIdForTheOldestMessageInFlight() {
    Session session = logIn(TestSettings.with("max-in-flight-messages = 1"));
    RawPeer<ClientMessage, ServerMessage> connection = session.server();
    type(session, "message yoda one");
    type(session, "message luke two");
    expectMessageFrame(connection, "yoda", "one");
    expectNothingElseSent(session, connection);
    connection.send(new ServerMessage.MessageAccepted(null, false));
    expectMessageFrame(connection, "luke", "two");
    connection.send(new ServerMessage.Error(Code.INVALID_USER, "message", "luke"));
    expectLines("Error. Invalid user");

    answer(session.input(), "logout");
    connection.expectFrame(new ClientMessage.Logout());
    connection.send(new Goodbye(Goodbye.Reason.LOGGED_OUT));
    // Both were answered: nothing is reported as unsent.
    expectLines("You are logged out");
    expectFinished(Bye.Reason.LOGGED_OUT, 0);
  }

  @Test
  void shouldSendAnUnstoredMessageAgainBeforeAnyTypedAfterIt() {
    Session session = logIn(TestSettings.with("max-in-flight-messages = 2"));
    RawPeer<ClientMessage, ServerMessage> connection = session.server();
    type(session, "message yoda one");
    type(session, "message luke two");
    String one = expectMessageFrame(connection, "yoda", "one");
    String two = expectMessageFrame(connection, "luke", "two");
    connection.send(new ServerMessage.Error(Code.UNAVAILABLE, "message", "yoda", one));
    expectLines(
        "Error. The server could not store your message to yoda yet; it will be sent again");

    // The window has room, but head of line: three waits behind one, which is not due yet.
    type(session, "message yoda three");
    expectNothingElseSent(session, connection);
    connection.send(new ServerMessage.MessageAccepted(two, false));
    connection.send(new ServerMessage.OnlineUsers(List.of("yoda")));
    expectLines("yoda");
    expectNothingElseSent(session, connection);

    // Due: one goes again, then three, in the order they were typed.
    manualTime.timePasses(settings.resendDelay());
    assertEquals(one, expectMessageFrame(connection, "yoda", "one"));
    String three = expectMessageFrame(connection, "yoda", "three");
    expectNothingElseSent(session, connection);
    connection.send(new ServerMessage.MessageAccepted(one, false));
    connection.send(new ServerMessage.MessageAccepted(three, false));

    answer(session.input(), "logout");
    connection.expectFrame(new ClientMessage.Logout());
    connection.send(new Goodbye(Goodbye.Reason.LOGGED_OUT));
    expectLines("You are logged out");
    expectFinished(Bye.Reason.LOGGED_OUT, 0);
  }

  @Test
  void shouldSendQueuedMessagesBeforeLoggingOut() {
    Session session = logIn(TestSettings.with("max-in-flight-messages = 2"));
    RawPeer<ClientMessage, ServerMessage> connection = session.server();
    type(session, "message yoda one");
    type(session, "message yoda two");
    type(session, "message yoda three");
    String one = expectMessageFrame(connection, "yoda", "one");
    String two = expectMessageFrame(connection, "yoda", "two");

    // The logout waits for the third message to go out: the next frame is that message's.
    answer(session.input(), "logout");
    connection.send(new ServerMessage.MessageAccepted(one, false));
    String three = expectMessageFrame(connection, "yoda", "three");
    connection.expectFrame(new ClientMessage.Logout());
    connection.send(new ServerMessage.MessageAccepted(two, false));
    connection.send(new ServerMessage.MessageAccepted(three, true));
    connection.send(new Goodbye(Goodbye.Reason.LOGGED_OUT));
    expectLines("You are logged out");
    expectFinished(Bye.Reason.LOGGED_OUT, 0);
  }

  @Test
  void shouldCountMessagesStillQueuedWhenTheLogoutTimesOut() {
    Session session = logIn(TestSettings.with("max-in-flight-messages = 1"));
    RawPeer<ClientMessage, ServerMessage> connection = session.server();
    type(session, "message yoda one");
    type(session, "message yoda two");
    expectMessageFrame(connection, "yoda", "one");
    // Seq 2 is still being printed at the logout, so seq 1 is acknowledged then: proof that the
    // logout, and its timer, have started.
    connection.send(new ServerMessage.MessageReceived("luke", "first", 1, null));
    connection.send(new ServerMessage.MessageReceived("luke", "second", 2, null));
    ActorRef<Console.Receipt> first = expectShown("luke: first", 1);
    expectShown("luke: second", 2);
    first.tell(new Console.Receipt(1));
    answer(session.input(), "logout");
    connection.expectFrame(new ClientMessage.Acknowledge(1));
    // The server never answers: the logout gives up after its timeout, and says what was lost.
    manualTime.timePasses(settings.logoutTimeout());
    expectLines("You are logged out", "Error. 2 message(s) could not be sent");
    expectFinished(Bye.Reason.LOGGED_OUT, 0);
    connection.expectClosed();
  }

  // Pacing to the rate the server announces.

  @Test
  void shouldSendABurstThenOneFrameATokenAtTheRateTheServerAnnounces() {
    Session session = logInPaced(TWO_A_SECOND_THREE_AT_ONCE);
    RawPeer<ClientMessage, ServerMessage> connection = session.server();
    for (int i = 1; i <= 10; i++) {
      type(session, "message yoda m" + i);
    }
    // The burst at once...
    List<String> ids = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      ids.add(expectMessageFrame(connection, "yoda", "m" + i));
    }
    // ...then one every 500 ms, not a moment before, in the order typed.
    for (int i = 4; i <= 10; i++) {
      manualTime.timePasses(HALF_SECOND.minusMillis(1));
      connection.expectNoFrame();
      manualTime.timePasses(Duration.ofMillis(1));
      ids.add(expectMessageFrame(connection, "yoda", "m" + i));
    }
    assertEquals(10, ids.stream().distinct().count());
    manualTime.timePasses(HALF_SECOND);
    connection.expectNoFrame();
  }

  @Test
  void shouldNotPaceWhenTheServerAnnouncesNoRate() {
    RawPeer<ClientMessage, ServerMessage> connection = connect();
    connection.send(new ServerMessage.Hello(Protocol.VERSION, "parley"));
    Session session = logIn(connection);
    for (int i = 1; i <= 10; i++) {
      type(session, "message yoda m" + i);
    }
    for (int i = 1; i <= 10; i++) {
      expectMessageFrame(connection, "yoda", "m" + i);
    }
    expectNothingElseSent(session, connection);
  }

  @Test
  void shouldSendCommandsInOrderAheadOfWaitingMessagesAndReadTheNextLineOnceSent() {
    Session session = logInPaced(TWO_A_SECOND_THREE_AT_ONCE);
    RawPeer<ClientMessage, ServerMessage> connection = session.server();
    connection.send(new ServerMessage.MessageReceived("luke", "hi", 1, "l-1"));
    ActorRef<Console.Receipt> shown = expectShown("luke: hi", 1);
    for (int i = 1; i <= 5; i++) {
      type(session, "message yoda m" + i);
    }
    for (int i = 1; i <= 3; i++) {
      expectMessageFrame(connection, "yoda", "m" + i);
    }

    // No token: the command waits, and so does the next line.
    answer(session.input(), "whoelse");
    // An acknowledgement takes no token: it goes at once (and shows the line was taken).
    shown.tell(new Console.Receipt(1));
    connection.expectFrame(new ClientMessage.Acknowledge(1));
    manualTime.expectNoMessageFor(HALF_SECOND.minusMillis(1), console);
    connection.expectNoFrame();
    manualTime.timePasses(Duration.ofMillis(1));
    // Ahead of the messages typed before it; then the next line is read.
    connection.expectFrame(new ClientMessage.WhoElse());
    answer(expectCommandRead(), "block vader");
    manualTime.timePasses(HALF_SECOND);
    connection.expectFrame(new ClientMessage.Block("vader"));
    expectCommandRead();
    manualTime.timePasses(HALF_SECOND);
    expectMessageFrame(connection, "yoda", "m4");
    manualTime.timePasses(HALF_SECOND);
    expectMessageFrame(connection, "yoda", "m5");
  }

  @Test
  void shouldDeliverAPastedBatchAtTheRateBeforeLoggingOutAtTheEndOfInput() {
    Session session = logInPaced(TWO_A_SECOND_THREE_AT_ONCE);
    RawPeer<ClientMessage, ServerMessage> connection = session.server();
    int count = 20;
    for (int i = 1; i <= count; i++) {
      type(session, "message yoda m" + i);
    }
    session.input().tell(Console.InputEnded.INSTANCE);
    List<String> ids = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      ids.add(expectMessageFrame(connection, "yoda", "m" + i));
    }
    // 8.5 s for the rest, longer than the logout timeout: it runs on top of what the rate needs.
    assertTrue(
        timeFor(TWO_A_SECOND_THREE_AT_ONCE, count - 3).compareTo(settings.logoutTimeout()) > 0);
    for (int i = 4; i <= count; i++) {
      manualTime.timePasses(HALF_SECOND);
      ids.add(expectMessageFrame(connection, "yoda", "m" + i));
    }
    // The logout last, at the next token.
    manualTime.timePasses(HALF_SECOND);
    connection.expectFrame(new ClientMessage.Logout());
    ids.forEach(id -> connection.send(new ServerMessage.MessageAccepted(id, true)));
    connection.send(new Goodbye(Goodbye.Reason.LOGGED_OUT));
    // Everything accepted: nothing is reported as unsent.
    expectLines("You are logged out");
    expectFinished(Bye.Reason.LOGGED_OUT, 0);
  }

  @Test
  void shouldPaceTheMessagesSentAgainAfterAReconnectToTheNewConnectionsRate() {
    Session session = logIn();
    dropAndExpectReconnecting(session.server());
    for (int i = 1; i <= 3; i++) {
      type(session, "message yoda m" + i, i == 1 ? new String[] {MESSAGE_QUEUED} : new String[0]);
    }
    manualTime.timePasses(FIRST_WAIT);
    RawPeer<ClientMessage, ServerMessage> again =
        RawPeer.handle(
            server.expectConnection(), JsonCodec.CLIENT, JsonCodec.SERVER, testKit.system());
    again.expectFrame(new ClientMessage.Hello(Protocol.VERSION));
    again.expectFrame(new ClientMessage.Username("hans"));
    // The hello and the username, sent before this hello came, count: the password takes the last
    // token of the burst, and the messages wait for the next ones.
    again.send(new ServerMessage.Hello(Protocol.VERSION, "parley", TWO_A_SECOND_THREE_AT_ONCE));
    again.send(new ServerMessage.PasswordRequired("hans"));
    again.expectFrame(new ClientMessage.Password("falcon", PEER_PORT));
    again.send(new ServerMessage.LoginAccepted("hans"));
    expectReconnected();
    again.expectNoFrame();
    for (int i = 1; i <= 3; i++) {
      manualTime.timePasses(HALF_SECOND);
      expectMessageFrame(again, "yoda", "m" + i);
    }
  }

  // Texts and names the protocol cannot carry.

  @Test
  void shouldRefuseTextsTheProtocolCannotCarryWithoutSendingThem() {
    Session session = logIn();
    RawPeer<ClientMessage, ServerMessage> connection = session.server();
    String over = "x".repeat(Protocol.MAX_TEXT_BYTES + 1);
    type(
        session,
        "message yoda " + over,
        "Error. Message not sent: text is 61441 bytes encoded, over the limit of 61440");
    connection.expectFrame(new ClientMessage.NoteActivity());
    type(
        session,
        "broadcast nul\0here",
        "Error. Message not sent: text contains U+0000 at character 4");
    connection.expectFrame(new ClientMessage.NoteActivity());
    type(
        session,
        "private luke \uD83D!",
        "Error. Message not sent: text contains an unpaired surrogate at character 1");
    connection.expectFrame(new ClientMessage.NoteActivity());
    chats.expectNoMessage(Duration.ofMillis(50));

    // Refused while disconnected too, rather than queued and sent once back.
    dropAndExpectReconnecting(connection);
    type(
        session,
        "message yoda " + over,
        "Error. Message not sent: text is 61441 bytes encoded, over the limit of 61440");
    RawPeer<ClientMessage, ServerMessage> again = reconnectAfterTheFirstWait();
    expectNothingElseSent(session, again);

    // The longest text that fits goes out.
    String longest = "x".repeat(Protocol.MAX_TEXT_BYTES);
    type(session, "message yoda " + longest);
    expectMessageFrame(again, "yoda", longest);
  }

  @Test
  void shouldRefuseANameNoAccountCanHaveAndGoOn() {
    Session session = logIn();
    RawPeer<ClientMessage, ServerMessage> connection = session.server();
    String tooLong = "a".repeat(Protocol.MAX_NAME_LENGTH + 1);
    for (String command : List.of("message %s hi", "block %s", "unblock %s", "startprivate %s")) {
      type(session, command.formatted(tooLong), "Error. Invalid user");
      connection.expectFrame(new ClientMessage.NoteActivity());
    }
    chats.expectNoMessage(Duration.ofMillis(50));
    expectNothingElseSent(session, connection);
  }

  // New answers of protocol version 2.

  @Test
  void shouldTellTheUserAnInvalidMessageOrARateLimitedCommandWasNotCarriedOutAndForgetIt() {
    Session session = logIn();
    RawPeer<ClientMessage, ServerMessage> connection = session.server();
    type(session, "message luke two");
    String two = expectMessageFrame(connection, "luke", "two");
    type(session, "whoelse");
    connection.expectFrame(new ClientMessage.WhoElse());
    connection.send(new ServerMessage.Error(Code.INVALID_TEXT, "message", "too long", two));
    connection.send(new ServerMessage.Error(Code.RATE_LIMITED, "whoelse", null));
    expectLines(
        "Error. Message not sent: too long",
        "Error. You are sending commands too fast; whoelse was not carried out."
            + " Please slow down and try again");

    // Refused for good: not sent again after a reconnect, and not counted as unsent.
    dropAndExpectReconnecting(connection);
    RawPeer<ClientMessage, ServerMessage> again = reconnectAfterTheFirstWait();
    expectNothingElseSent(session, again);
    answer(session.input(), "logout");
    again.expectFrame(new ClientMessage.Logout());
    again.send(new Goodbye(Goodbye.Reason.LOGGED_OUT));
    expectLines("You are logged out");
    expectFinished(Bye.Reason.LOGGED_OUT, 0);
  }

  @Test
  void shouldSendARateLimitedMessageAgainAfterTheResendDelayBeforeYoungerOnes() {
    // A stricter server than it says, or one that announces nothing: the client is refused anyway.
    Session session = logIn();
    RawPeer<ClientMessage, ServerMessage> connection = session.server();
    type(session, "message yoda one");
    type(session, "message luke two");
    String one = expectMessageFrame(connection, "yoda", "one");
    String two = expectMessageFrame(connection, "luke", "two");
    connection.send(new ServerMessage.Error(Code.RATE_LIMITED, "message", "yoda", one));
    connection.send(new ServerMessage.Error(Code.RATE_LIMITED, "message", "luke", two));
    connection.send(new ServerMessage.OnlineUsers(List.of("vader")));
    // One line for the episode, not one per message; the resend timers run from before it.
    expectLines("The server asked to slow down; your messages will be sent as it allows", "vader");

    // Typed after them: it waits behind them.
    type(session, "message yoda three");
    expectNothingElseSent(session, connection);
    manualTime.timePasses(settings.resendDelay().minusMillis(1));
    expectNothingElseSent(session, connection);
    manualTime.timePasses(Duration.ofMillis(1));
    assertEquals(one, expectMessageFrame(connection, "yoda", "one"));
    assertEquals(two, expectMessageFrame(connection, "luke", "two"));
    String three = expectMessageFrame(connection, "yoda", "three");
    connection.send(new ServerMessage.MessageAccepted(one, false));
    connection.send(new ServerMessage.MessageAccepted(two, false));
    connection.send(new ServerMessage.MessageAccepted(three, false));

    // Every message refused for the rate was accepted: a new refusal is a new episode.
    type(session, "message yoda four");
    String four = expectMessageFrame(connection, "yoda", "four");
    connection.send(new ServerMessage.Error(Code.RATE_LIMITED, "message", "yoda", four));
    expectLines("The server asked to slow down; your messages will be sent as it allows");

    // Kept, not dropped: only a session that ends before it goes counts it as unsent.
    answer(session.input(), "logout");
    connection.expectFrame(new ClientMessage.Logout());
    connection.send(new Goodbye(Goodbye.Reason.LOGGED_OUT));
    expectLines("You are logged out", "Error. 1 message(s) could not be sent");
    expectFinished(Bye.Reason.LOGGED_OUT, 0);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "RATE_LIMITED|Error. The server closed the connection: too many commands, logins or"
            + " connections from here. Please try again later|DISCONNECTED|3",
        "ACCOUNT_REMOVED|Your account has been removed. You have been logged out|LOGGED_OUT|1"
      })
  void shouldEndTheSessionWithoutReconnectingWhenRateLimitedOrRemoved(
      Goodbye.Reason reason, String line, Bye.Reason bye, int exitStatus) {
    Session session = logIn();
    session.server().send(new Goodbye(reason));
    expectLines(line);
    expectFinished(bye, exitStatus);
    session.server().expectClosed();
    manualTime.timePasses(settings.reconnectBackoffMax());
    server.expectNoConnection();
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "RATE_LIMITED|Error. The server closed the connection: too many commands, logins or"
            + " connections from here. Please try again later|DISCONNECTED|3",
        "ACCOUNT_REMOVED|Your account has been removed. You have been logged out|LOGGED_OUT|1"
      })
  void shouldEndTheSessionWhenRateLimitedOrRemovedWhileLoggingInAgain(
      Goodbye.Reason reason, String line, Bye.Reason bye, int exitStatus) {
    Session session = logIn();
    dropAndExpectReconnecting(session.server());
    manualTime.timePasses(FIRST_WAIT);
    RawPeer<ClientMessage, ServerMessage> again = acceptLoginAgain();
    again.send(new Goodbye(reason));
    expectLines(line);
    expectFinished(bye, exitStatus);
    again.expectClosed();
    manualTime.timePasses(settings.reconnectBackoffMax());
    server.expectNoConnection();
  }

  @Test
  void shouldRetryWhenTheServerIsBusyWhileReconnecting() {
    Session session = logIn();
    dropAndExpectReconnecting(session.server());
    manualTime.timePasses(FIRST_WAIT);
    RawPeer<ClientMessage, ServerMessage> busy =
        RawPeer.handle(
            server.expectConnection(), JsonCodec.CLIENT, JsonCodec.SERVER, testKit.system());
    busy.expectFrame(new ClientMessage.Hello(Protocol.VERSION));
    busy.expectFrame(new ClientMessage.Username("hans"));
    busy.send(new Goodbye(Goodbye.Reason.SERVER_BUSY));
    busy.expectClosed();
    // Not a line for the user: the session is still reconnecting, after a longer wait.
    manualTime.timePasses(FIRST_WAIT.multipliedBy(2));
    RawPeer<ClientMessage, ServerMessage> accepted = acceptLoginAgain();
    accepted.send(new ServerMessage.LoginAccepted("hans"));
    expectReconnected();
    expectNothingElseSent(session, accepted);
  }

  // Several servers: failover.

  @Test
  void shouldConnectToTheNextServerWhenTheFirstCannotBeReached() throws IOException {
    spawnSession(List.of(loopback(deadPort()), loopback(server.port())));

    // No line about the first server: the user only hears of it if none answers.
    Session session = logIn(acceptFirstConnection(server));

    expectNothingElseSent(session, session.server());
  }

  @Test
  void shouldReconnectToTheNextServerAndLogInThereWithThePasswordWhenItRefusesTheToken() {
    TestListener other = TestListener.bind(testKit);
    spawnSession(List.of(loopback(server.port()), loopback(other.port())));
    Session session = logInWithToken(acceptFirstConnection(server), "token-1");

    dropAndExpectReconnecting(session.server());
    manualTime.timePasses(FIRST_WAIT);
    // The node that was lost is not tried first: the next one in the list is.
    RawPeer<ClientMessage, ServerMessage> onOther = acceptResumption(other, "token-1");
    // Another node may not know the token: the password it is.
    onOther.send(new LoginFailed(LoginFailed.Reason.RESUME_REFUSED, "hans"));
    onOther.expectFrame(new ClientMessage.Username("hans"));
    onOther.send(new ServerMessage.PasswordRequired("hans"));
    onOther.expectFrame(new ClientMessage.Password("falcon", PEER_PORT));
    onOther.send(new ServerMessage.LoginAccepted("hans", "token-2"));
    expectReconnected();
    expectNothingElseSent(session, onOther);
    server.expectNoConnection();

    // Round robin: after the last server, the first again, with the token of the last login.
    dropAndExpectReconnecting(onOther);
    manualTime.timePasses(FIRST_WAIT);
    RawPeer<ClientMessage, ServerMessage> back = acceptResumption(server, "token-2");
    back.send(new ServerMessage.LoginAccepted("hans", "token-3"));
    expectReconnected();
    expectNothingElseSent(session, back);
  }

  @Test
  void shouldExitWithStatusThreeNamingEveryServerTriedWhenNoneCanBeReached() throws IOException {
    int first = deadPort();
    int second = deadPort();
    spawnSession(List.of(loopback(first), loopback(second)));

    String line = console.expectMessageClass(Console.Print.class).line();
    String expected = "Error. Cannot connect to the server at any of " + LOOPBACK + ":" + first;
    assertTrue(line.startsWith(expected + ": "), line);
    assertTrue(line.contains("; " + LOOPBACK + ":" + second + ": "), line);
    expectFinished(Bye.Reason.DISCONNECTED, 3);
    listener.expectNoMessage(Duration.ofMillis(50));
  }

  // Heartbeats and resumption.

  @Test
  void shouldResumeWithTheTokenOfTheLastLoginAndKeepTheNextOneForTheNextDrop() {
    Session session = logInWithToken("token-1");
    dropAndExpectReconnecting(session.server());

    manualTime.timePasses(FIRST_WAIT);
    RawPeer<ClientMessage, ServerMessage> second = acceptResumption("token-1");
    second.send(new ServerMessage.LoginAccepted("hans", "token-2"));
    expectReconnected();
    expectNothingElseSent(session, second);

    dropAndExpectReconnecting(second);
    manualTime.timePasses(FIRST_WAIT);
    RawPeer<ClientMessage, ServerMessage> third = acceptResumption("token-2");
    third.send(new ServerMessage.LoginAccepted("hans", "token-3"));
    expectReconnected();
    expectNothingElseSent(session, third);
  }

  @Test
  void shouldLogInWithThePasswordOnTheSameConnectionWhenTheResumptionIsRefused() {
    Session session = logInWithToken("token-1");
    dropAndExpectReconnecting(session.server());

    manualTime.timePasses(FIRST_WAIT);
    RawPeer<ClientMessage, ServerMessage> again = acceptResumption("token-1");
    again.send(new LoginFailed(LoginFailed.Reason.RESUME_REFUSED, "hans"));
    again.expectFrame(new ClientMessage.Username("hans"));
    again.send(new ServerMessage.PasswordRequired("hans"));
    again.expectFrame(new ClientMessage.Password("falcon", PEER_PORT));
    again.send(new ServerMessage.LoginAccepted("hans", "token-9"));
    expectReconnected();
    expectNothingElseSent(session, again);
  }

  @Test
  void shouldAnswerEveryHeartbeatAtOnceEvenWhenCommandsWaitForTheRate() {
    Session session = logInPaced(TWO_A_SECOND_THREE_AT_ONCE);
    RawPeer<ClientMessage, ServerMessage> connection = session.server();
    // The burst goes on three commands; the fourth waits for a token.
    for (int i = 0; i < TWO_A_SECOND_THREE_AT_ONCE.burst(); i++) {
      type(session, "whoelse");
      connection.expectFrame(new ClientMessage.WhoElse());
    }
    answer(session.input(), "whoelse");

    connection.send(new ServerMessage.Heartbeat());

    connection.expectFrame(new ClientMessage.Heartbeat());
    console.expectNoMessage(Duration.ofMillis(50));
  }

  @Test
  void shouldGiveUpAServerThatSaysNothingForTheHeartbeatTimeoutAndReconnect() {
    RawPeer<ClientMessage, ServerMessage> connection = connect();
    connection.send(new ServerMessage.Hello(Protocol.VERSION, "parley", null));
    Session session = logIn(connection);
    Duration timeout = settings.heartbeatTimeout();

    // A heartbeat just in time: answered, and the silence counts from it.
    manualTime.timePasses(timeout.minusSeconds(1));
    connection.send(new ServerMessage.Heartbeat());
    connection.expectFrame(new ClientMessage.Heartbeat());
    manualTime.timePasses(timeout.minusSeconds(1));
    console.expectNoMessage(Duration.ofMillis(50));

    manualTime.timePasses(Duration.ofSeconds(1));
    expectLines("Lost connection to the server; reconnecting...");
    connection.expectClosed();
    manualTime.timePasses(FIRST_WAIT);
    RawPeer<ClientMessage, ServerMessage> again = acceptLoginAgain();
    again.send(new ServerMessage.LoginAccepted("hans"));
    expectReconnected();
    expectNothingElseSent(session, again);
  }

  @Test
  void shouldNotExpectHeartbeatsFromAServerOfAnEarlierVersion() {
    RawPeer<ClientMessage, ServerMessage> connection = connect();
    connection.send(new ServerMessage.Hello(Protocol.VERSION - 1, "parley", null));
    Session session = logIn(connection);

    manualTime.timePasses(settings.heartbeatTimeout().multipliedBy(2));

    console.expectNoMessage(Duration.ofMillis(50));
    expectNothingElseSent(session, connection);
  }

  @Test
  void shouldComeBackWhenTheServerTookTheClientForDead() {
    Session session = logInWithToken("token-1");
    session.server().send(new Goodbye(Goodbye.Reason.UNRESPONSIVE));
    expectLines(
        "The server heard nothing from this client for too long",
        "Lost connection to the server; reconnecting...");
    session.server().expectClosed();

    manualTime.timePasses(FIRST_WAIT);
    RawPeer<ClientMessage, ServerMessage> again = acceptResumption("token-1");
    again.send(new ServerMessage.LoginAccepted("hans", "token-2"));
    expectReconnected();
    chats.expectNoMessage(Duration.ofMillis(50));
  }

  @Test
  void shouldExitWithStatusThreeWhenAnotherConnectionTookTheSessionOver() {
    Session session = logInWithToken("token-1");

    session.server().send(new Goodbye(Goodbye.Reason.RESUMED));

    expectLines(
        "Your session was taken over by a client on another connection."
            + " You have been logged out");
    expectFinished(Bye.Reason.DISCONNECTED, 3);
    manualTime.timePasses(settings.reconnectBackoffMax());
    server.expectNoConnection();
  }

  /** Logged in, the server's welcome carrying the resumption token {@code token}. */
  private Session logInWithToken(String token) {
    return logInWithToken(connect(), token);
  }

  private Session logInWithToken(RawPeer<ClientMessage, ServerMessage> connection, String token) {
    enterUsername(connection, "hans");
    connection.send(new ServerMessage.PasswordRequired("hans"));
    enterPassword(connection, "falcon");
    connection.send(new ServerMessage.LoginAccepted("hans", token));
    expectLines("Welcome to the greatest messaging application ever!");
    PrivateChats.LoggedIn loggedIn = chats.expectMessageClass(PrivateChats.LoggedIn.class);
    return new Session(connection, expectCommandRead(), loggedIn.server());
  }

  /** The session's next connection says hello and resumes with {@code token}, no password. */
  private RawPeer<ClientMessage, ServerMessage> acceptResumption(String token) {
    return acceptResumption(server, token);
  }

  private RawPeer<ClientMessage, ServerMessage> acceptResumption(TestListener on, String token) {
    RawPeer<ClientMessage, ServerMessage> connection =
        RawPeer.handle(on.expectConnection(), JsonCodec.CLIENT, JsonCodec.SERVER, testKit.system());
    connection.expectFrame(new ClientMessage.Hello(Protocol.VERSION));
    connection.expectFrame(new ClientMessage.Resume("hans", token, PEER_PORT, null));
    return connection;
  }

  /**
   * Security whose making the test holds back: {@code started} completes when the session starts
   * it, and it is made (on the session's executor) only once {@code release} completes.
   */
  private record HeldSecurity(
      LazySecurity lazy, CompletableFuture<Void> started, CompletableFuture<Security> release) {

    static HeldSecurity create() {
      CompletableFuture<Void> started = new CompletableFuture<>();
      CompletableFuture<Security> release = new CompletableFuture<>();
      LazySecurity lazy =
          LazySecurity.of(
              false,
              () -> {
                started.complete(null);
                // Waits on the blocking dispatcher that makes it, never on an actor's thread.
                return release.get(30, TimeUnit.SECONDS);
              });
      return new HeldSecurity(lazy, started, release);
    }
  }

  private void spawnSession(LazySecurity security) {
    testKit.spawn(
        ServerConnection.create(
            settings,
            security,
            List.of(loopback(server.port())),
            new ServerConnection.Collaborators(
                consoleRef, chats.ref(), listener.ref(), parent.ref()),
            TestKits.manualNanoClock(testKit)));
  }

  @Test
  void shouldMakeTheIdentityOnlyOnceTheFirstPromptIsAskedForAndSendItsFingerprintWithThePassword()
      throws Exception {
    HeldSecurity held = HeldSecurity.create();
    spawnSession(held.lazy());
    RawPeer<ClientMessage, ServerMessage> connection =
        RawPeer.handle(
            server.expectConnection(), JsonCodec.CLIENT, JsonCodec.SERVER, testKit.system());
    PeerListener.Listen listen = listener.expectMessageClass(PeerListener.Listen.class);
    // Connected, and the session waits for the listener: nothing has asked for the identity yet.
    assertFalse(held.started().isDone());
    listen.replyTo().tell(new PeerListener.Listening(new InetSocketAddress(LOOPBACK, PEER_PORT)));
    connection.expectFrame(new ClientMessage.Hello(Protocol.VERSION));
    enterUsername(connection, "hans");
    held.started().get(5, TimeUnit.SECONDS);
    connection.send(new ServerMessage.PasswordRequired("hans"));
    answer(expectPrompt("Password: ", true), "falcon");
    // The password waits for the fingerprint it carries.
    connection.expectNoFrame();

    Security made = TestSecurity.create();
    held.release().complete(made);
    connection.expectFrame(new ClientMessage.Password("falcon", PEER_PORT, made.fingerprint()));
    connection.send(new ServerMessage.LoginAccepted("hans"));
    expectLines("Welcome to the greatest messaging application ever!");
    // The private chats present the identity whose fingerprint the server was given.
    assertSame(made, chats.expectMessageClass(PrivateChats.LoggedIn.class).security());
    expectCommandRead();
  }

  @Test
  void shouldSendThePasswordAtOnceWhenTheIdentityIsMadeAlready() {
    Security made = TestSecurity.create();
    spawnSession(LazySecurity.made(made));
    RawPeer<ClientMessage, ServerMessage> connection = acceptFirstConnection(server);
    enterUsername(connection, "hans");
    connection.send(new ServerMessage.PasswordRequired("hans"));
    answer(expectPrompt("Password: ", true), "falcon");
    connection.expectFrame(new ClientMessage.Password("falcon", PEER_PORT, made.fingerprint()));
  }

  @Test
  void shouldEndAsAnInternalErrorWhenTheIdentityCannotBeMade() {
    spawnSession(
        LazySecurity.of(
            false,
            () -> {
              throw new IllegalStateException("no randomness today");
            }));
    RawPeer<ClientMessage, ServerMessage> connection = acceptFirstConnection(server);
    expectPrompt("Username: ", false);
    expectFinished(Bye.Reason.DISCONNECTED, ExitStatus.INTERNAL_ERROR);
    connection.expectClosed();
  }
}
