package dev.parley.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.Done;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.parley.client.server.ServerAddress;
import dev.parley.client.testing.PipedTerminal;
import dev.parley.client.testing.RawPeer;
import dev.parley.client.testing.TestKits;
import dev.parley.client.testing.TestListener;
import dev.parley.client.testing.TestSettings;
import dev.parley.protocol.ClientMessage;
import dev.parley.protocol.JsonCodec;
import dev.parley.protocol.Protocol;
import dev.parley.protocol.ServerMessage;
import dev.parley.protocol.ServerMessage.Goodbye;
import dev.parley.protocol.ServerMessage.LoginFailed;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Whole clients, each with its own actor system and a piped terminal, against a fake server on
 * loopback: what a script driving {@code bin/parley} through pipes sees, byte for byte. The fake
 * server speaks plain TCP, and so do these clients ({@code --plaintext}): they test the protocol
 * and the terminal, not the transport (see {@code ParleyClientTlsTest}). Private chats between them
 * are TLS all the same, as they always are.
 */
class ParleyClientTest {

  private static final ActorTestKit testKit = TestKits.create();
  private static final ClientSettings settings = TestSettings.defaults();
  private static final long EXIT_TIMEOUT_SECONDS = 10;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  /** The clients' own directory: never the user's. */
  @TempDir Path home;

  private final TestListener server = TestListener.bind(testKit);

  private ParleyClient start(PipedTerminal terminal) {
    return ParleyClient.start(
        plaintext(), settings, TestListener.LOOPBACK, server.port(), terminal.terminal());
  }

  private Config plaintext() {
    return ConfigFactory.parseMap(
            Map.of("parley.client.tls.enabled", false, "parley.client.home", home.toString()))
        .withFallback(ConfigFactory.load());
  }

  /** A port on which nothing listens: bound to find a free one, then closed. */
  private static int deadPort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  private RawPeer<ClientMessage, ServerMessage> acceptClient() {
    RawPeer<ClientMessage, ServerMessage> connection =
        RawPeer.handle(
            server.expectConnection(), JsonCodec.CLIENT, JsonCodec.SERVER, testKit.system());
    connection.expectFrame(new ClientMessage.Hello(Protocol.VERSION));
    connection.send(new ServerMessage.Hello(Protocol.VERSION, "fake"));
    return connection;
  }

  /**
   * Logs {@code user} in and returns its password frame: the port its client accepts private chats
   * on, and the fingerprint of the certificate its listener presents.
   */
  private static ClientMessage.Password logIn(
      PipedTerminal terminal, RawPeer<ClientMessage, ServerMessage> connection, String user) {
    terminal.type(user + "\n");
    connection.expectFrame(new ClientMessage.Username(user));
    connection.send(new ServerMessage.PasswordRequired(user));
    terminal.type("falcon\n");
    ClientMessage.Password password =
        assertInstanceOf(ClientMessage.Password.class, connection.expectFrame());
    assertEquals("falcon", password.password());
    connection.send(new ServerMessage.LoginAccepted(user));
    return password;
  }

  private static int exitStatus(ParleyClient client)
      throws InterruptedException, ExecutionException, TimeoutException {
    return client.exitStatus().toCompletableFuture().get(EXIT_TIMEOUT_SECONDS, TimeUnit.SECONDS);
  }

  /** Waits for a line the client prints on its own, triggered by something far away. */
  private static void awaitOutput(PipedTerminal terminal, String line) {
    TestProbe<Done> waiting = testKit.createTestProbe();
    waiting.awaitAssert(
        () -> {
          assertTrue(terminal.output().contains(line + "\n"), terminal.output());
          return Done.getInstance();
        });
  }

  @Test
  void shouldWriteExactlyThePromptsAndLinesWhenPiped() throws Exception {
    try (PipedTerminal terminal = new PipedTerminal()) {
      ParleyClient client = start(terminal);
      RawPeer<ClientMessage, ServerMessage> connection = acceptClient();
      terminal.type("hans\n");
      connection.expectFrame(new ClientMessage.Username("hans"));
      connection.send(new ServerMessage.PasswordRequired("hans"));
      terminal.type("wrong\n");
      assertInstanceOf(ClientMessage.Password.class, connection.expectFrame());
      connection.send(new LoginFailed(LoginFailed.Reason.INVALID_PASSWORD, "hans"));
      terminal.type("falcon\n");
      assertInstanceOf(ClientMessage.Password.class, connection.expectFrame());
      connection.send(new ServerMessage.LoginAccepted("hans"));
      connection.send(new ServerMessage.MessageReceived("yoda", "Hey Dude", 1, "y-1"));
      // Acknowledged once on the terminal, which is before the next line typed is read.
      awaitOutput(terminal, "yoda: Hey Dude");
      connection.expectFrame(new ClientMessage.Acknowledge(1));

      terminal.type("whoelse\n");
      connection.expectFrame(new ClientMessage.WhoElse());
      connection.send(new ServerMessage.OnlineUsers(List.of("yoda", "luke")));
      // Replies are shown whenever they come; wait for this one to keep the expected order.
      awaitOutput(terminal, "luke");
      terminal.type("whatsthetime\n");
      connection.expectFrame(new ClientMessage.NoteActivity());
      terminal.type("logout\n");
      connection.expectFrame(new ClientMessage.Logout());
      connection.send(new Goodbye(Goodbye.Reason.LOGGED_OUT));

      assertEquals(0, exitStatus(client));
      connection.expectClosed();
      assertEquals(
          "Username: Password: Invalid Password. Please try again\n"
              + "Password: Welcome to the greatest messaging application ever!\n"
              + "yoda: Hey Dude\n"
              + "yoda\n"
              + "luke\n"
              + "Error. Invalid command\n"
              + "You are logged out\n",
          terminal.output());
    }
  }

  @Test
  void shouldExitWithStatusOneAfterTheThirdWrongPassword() throws Exception {
    try (PipedTerminal terminal = new PipedTerminal()) {
      ParleyClient client = start(terminal);
      RawPeer<ClientMessage, ServerMessage> connection = acceptClient();
      terminal.type("hans\n");
      connection.expectFrame(new ClientMessage.Username("hans"));
      connection.send(new ServerMessage.PasswordRequired("hans"));
      for (int attempt = 1; attempt < 3; attempt++) {
        terminal.type("wrong\n");
        assertInstanceOf(ClientMessage.Password.class, connection.expectFrame());
        connection.send(new LoginFailed(LoginFailed.Reason.INVALID_PASSWORD, "hans"));
      }
      terminal.type("wrong\n");
      assertInstanceOf(ClientMessage.Password.class, connection.expectFrame());
      connection.send(new Goodbye(Goodbye.Reason.ACCOUNT_LOCKED));

      assertEquals(1, exitStatus(client));
      assertTrue(
          terminal
              .output()
              .endsWith(
                  "Password: Invalid Password. Your account has been blocked. Please try again"
                      + " later\n"),
          terminal.output());
    }
  }

  @Test
  void shouldLogOutCleanlyWhenTheInputEnds() throws Exception {
    try (PipedTerminal terminal = new PipedTerminal()) {
      ParleyClient client = start(terminal);
      RawPeer<ClientMessage, ServerMessage> connection = acceptClient();
      logIn(terminal, connection, "hans");
      terminal.endInput();
      connection.expectFrame(new ClientMessage.Logout());
      connection.send(new Goodbye(Goodbye.Reason.LOGGED_OUT));
      assertEquals(0, exitStatus(client));
    }
  }

  @Test
  void shouldExitWithStatusFourWhenTimedOut() throws Exception {
    try (PipedTerminal terminal = new PipedTerminal()) {
      ParleyClient client = start(terminal);
      RawPeer<ClientMessage, ServerMessage> connection = acceptClient();
      logIn(terminal, connection, "hans");
      connection.send(new Goodbye(Goodbye.Reason.TIMED_OUT));
      assertEquals(4, exitStatus(client));
      assertTrue(
          terminal.output().endsWith("You have been logged out due to inactivity\n"),
          terminal.output());
    }
  }

  @Test
  void shouldSendNothingMoreWhenKilled() throws Exception {
    try (PipedTerminal terminal = new PipedTerminal()) {
      ParleyClient client = start(terminal);
      RawPeer<ClientMessage, ServerMessage> connection = acceptClient();
      logIn(terminal, connection, "hans");
      awaitOutput(terminal, "Welcome to the greatest messaging application ever!");
      client.kill();
      assertEquals(ExitStatus.KILLED, exitStatus(client));
      // No logout, no goodbye: the connection just ends.
      connection.expectClosed();
    }
  }

  @Test
  void shouldChatPrivatelyBetweenTwoClientsAndTellThePeerOnLogout() throws Exception {
    try (PipedTerminal hansTerminal = new PipedTerminal();
        PipedTerminal lukeTerminal = new PipedTerminal()) {
      ParleyClient hans = start(hansTerminal);
      RawPeer<ClientMessage, ServerMessage> hansConnection = acceptClient();
      logIn(hansTerminal, hansConnection, "hans");
      ParleyClient luke = start(lukeTerminal);
      RawPeer<ClientMessage, ServerMessage> lukeConnection = acceptClient();
      ClientMessage.Password lukesLogin = logIn(lukeTerminal, lukeConnection, "luke");
      // Sent though the server connection is plain TCP: the peer link is TLS all the same.
      assertEquals(
          luke.identity().toCompletableFuture().join().fingerprint().value(),
          lukesLogin.peerFingerprint());

      hansTerminal.type("private luke hey dude\n");
      hansConnection.expectFrame(new ClientMessage.NoteActivity());
      awaitOutput(hansTerminal, "Error. Private messaging to luke not enabled");

      hansTerminal.type("startprivate luke\n");
      hansConnection.expectFrame(new ClientMessage.StartPrivate("luke"));
      // As the server does: luke is told first, over his own connection, whom to expect.
      String token = "hV3mQ0xT8rLp2WcZ7kNa5yB1sD4fG6jK9uE-_oRtIwM";
      lukeConnection.send(new ServerMessage.PeerInvited("hans", token, 30));
      // With the fingerprint luke's client sent at login: the only certificate hans's accepts.
      hansConnection.send(
          new ServerMessage.PeerAddress(
              "luke",
              TestListener.LOOPBACK,
              lukesLogin.peerPort(),
              lukesLogin.peerFingerprint(),
              token));
      awaitOutput(hansTerminal, "Start private messaging with luke");
      awaitOutput(lukeTerminal, "hans started private messaging with you");

      hansTerminal.type("private luke hey dude\n");
      awaitOutput(lukeTerminal, "hans(private): hey dude");
      lukeTerminal.type("private hans hello\n");
      awaitOutput(hansTerminal, "luke(private): hello");

      hansTerminal.type("logout\n");
      // Activity notes for the private commands come first; the logout is what matters here.
      ClientMessage frame;
      do {
        frame = hansConnection.expectFrame();
      } while (frame instanceof ClientMessage.NoteActivity);
      assertEquals(new ClientMessage.Logout(), frame);
      hansConnection.send(new Goodbye(Goodbye.Reason.LOGGED_OUT));
      assertEquals(0, exitStatus(hans));
      awaitOutput(lukeTerminal, "Private messaging with hans closed: hans logged out");

      lukeTerminal.type("private hans still there?\n");
      awaitOutput(lukeTerminal, "Error. Private messaging to hans not enabled");
      lukeTerminal.endInput();
      do {
        frame = lukeConnection.expectFrame();
      } while (frame instanceof ClientMessage.NoteActivity);
      assertEquals(new ClientMessage.Logout(), frame);
      lukeConnection.send(new Goodbye(Goodbye.Reason.LOGGED_OUT));
      assertEquals(0, exitStatus(luke));
    }
  }

  @Test
  void shouldExitWithStatusThreeWhenTheServerIsUnreachable() throws Exception {
    try (PipedTerminal terminal = new PipedTerminal()) {
      server.unbind().toCompletableFuture().get(EXIT_TIMEOUT_SECONDS, TimeUnit.SECONDS);
      ParleyClient client = start(terminal);
      assertEquals(3, exitStatus(client));
      assertTrue(
          terminal
              .output()
              .startsWith(
                  "Error. Cannot connect to the server at 127.0.0.1:" + server.port() + ": "),
          terminal.output());
      assertEquals(1, terminal.output().split("\n", -1).length - 1, terminal.output());
    }
  }

  @Test
  void shouldLogInOnTheSecondServerWhenTheFirstIsDown() throws Exception {
    try (PipedTerminal terminal = new PipedTerminal()) {
      int dead = deadPort();
      ParleyClient client =
          ParleyClient.start(
              plaintext(),
              settings,
              List.of(
                  new ServerAddress(TestListener.LOOPBACK, dead),
                  new ServerAddress(TestListener.LOOPBACK, server.port())),
              terminal.terminal());
      RawPeer<ClientMessage, ServerMessage> connection = acceptClient();
      logIn(terminal, connection, "hans");
      awaitOutput(terminal, "Welcome to the greatest messaging application ever!");
      terminal.type("logout\n");
      connection.expectFrame(new ClientMessage.Logout());
      connection.send(new Goodbye(Goodbye.Reason.LOGGED_OUT));
      assertEquals(0, exitStatus(client));
      // Nothing about the server that was down: the user sees the session as with one server.
      assertEquals(
          "Username: Password: Welcome to the greatest messaging application ever!\n"
              + "You are logged out\n",
          terminal.output());
    }
  }

  @Test
  void shouldExitWithStatusThreeAndOneLineWhenNoServerCanBeReached() throws Exception {
    try (PipedTerminal terminal = new PipedTerminal()) {
      int first = deadPort();
      server.unbind().toCompletableFuture().get(EXIT_TIMEOUT_SECONDS, TimeUnit.SECONDS);
      ParleyClient client =
          ParleyClient.start(
              plaintext(),
              settings,
              List.of(
                  new ServerAddress(TestListener.LOOPBACK, first),
                  new ServerAddress(TestListener.LOOPBACK, server.port())),
              terminal.terminal());
      assertEquals(3, exitStatus(client));
      String output = terminal.output();
      assertTrue(
          output.startsWith(
              "Error. Cannot connect to the server at any of 127.0.0.1:" + first + ": "),
          output);
      assertTrue(output.contains("; 127.0.0.1:" + server.port() + ": "), output);
      assertEquals(1, output.split("\n", -1).length - 1, output);
    }
  }
}
