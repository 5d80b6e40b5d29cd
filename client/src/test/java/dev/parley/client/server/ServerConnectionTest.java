package dev.parley.client.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.Done;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.ManualTime;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import dev.parley.client.ClientSettings;
import dev.parley.client.chat.PeerListener;
import dev.parley.client.chat.PrivateChats;
import dev.parley.client.console.Console;
import dev.parley.client.testing.RawPeer;
import dev.parley.client.testing.TestKits;
import dev.parley.client.testing.TestListener;
import dev.parley.client.testing.TestSettings;
import dev.parley.protocol.ClientMessage;
import dev.parley.protocol.JsonCodec;
import dev.parley.protocol.PeerMessage.Bye;
import dev.parley.protocol.Protocol;
import dev.parley.protocol.ServerMessage;
import dev.parley.protocol.ServerMessage.Goodbye;
import dev.parley.protocol.ServerMessage.LoginFailed;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
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
  private static final ClientSettings settings = TestSettings.defaults();
  private static final String LOOPBACK = TestListener.LOOPBACK;
  private static final int PEER_PORT = 40_404;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private final TestProbe<Console.Command> console = testKit.createTestProbe();
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
    testKit.spawn(
        ServerConnection.create(
            settings,
            LOOPBACK,
            port,
            new ServerConnection.Collaborators(
                console.ref(), chats.ref(), listener.ref(), parent.ref())));
  }

  /** Connects, lets the listener bind and returns the server's end after the hello. */
  private RawPeer<ClientMessage, ServerMessage> connect() {
    spawnSession(server.port());
    RawPeer<ClientMessage, ServerMessage> connection =
        RawPeer.handle(
            server.expectConnection(), JsonCodec.CLIENT, JsonCodec.SERVER, testKit.system());
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
      console.expectMessage(new Console.Print(line));
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
    RawPeer<ClientMessage, ServerMessage> connection = connect();
    enterUsername(connection, "hans");
    connection.send(new ServerMessage.PasswordRequired("hans"));
    enterPassword(connection, "falcon");
    connection.send(new ServerMessage.LoginAccepted("hans"));
    expectLines("Welcome to the greatest messaging application ever!");
    PrivateChats.LoggedIn loggedIn = chats.expectMessageClass(PrivateChats.LoggedIn.class);
    assertEquals("hans", loggedIn.me());
    return new Session(connection, expectCommandRead(), loggedIn.server());
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
    connection.expectFrame(new ClientMessage.SendMessage("yoda", "Hey Dude"));
    ActorRef<Console.Input> input = expectCommandRead();
    answer(input, "whoelse");
    connection.expectFrame(new ClientMessage.WhoElse());
    input = expectCommandRead();
    connection.send(new ServerMessage.MessageAccepted(null, false));
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
    connection.send(new ServerMessage.MessageReceived("yoda", "force is strong"));
    expectLines(
        "Your message could not be delivered to some recipients",
        "Error. Cannot block self",
        "Error. yoda was not blocked",
        "yoda: force is strong");
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
    chats.expectMessage(new PrivateChats.PeerAddressReceived("luke", LOOPBACK, 5555));
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
  void shouldExitWithStatusThreeWhenTheServerClosesTheSession(Goodbye.Reason reason, String line) {
    Session session = logIn();
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
  void shouldExitWithStatusThreeWhenTheConnectionIsLost() {
    Session session = logIn();
    session.server().drop();
    expectLines("Error. Lost connection to the server");
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
}
