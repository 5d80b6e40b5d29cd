package dev.parley.client.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.LoggingTestKit;
import akka.actor.testkit.typed.javadsl.ManualTime;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import ch.qos.logback.classic.Level;
import dev.parley.client.ClientSettings;
import dev.parley.client.testing.CapturedLog;
import dev.parley.client.testing.RawPeer;
import dev.parley.client.testing.TestConsole;
import dev.parley.client.testing.TestKits;
import dev.parley.client.testing.TestListener;
import dev.parley.client.testing.TestSecurity;
import dev.parley.client.testing.TestSettings;
import dev.parley.client.tls.Security;
import dev.parley.protocol.JsonCodec;
import dev.parley.protocol.PeerMessage;
import dev.parley.protocol.PeerMessage.Hello;
import dev.parley.protocol.Protocol;
import dev.parley.protocol.ServerMessage;
import dev.parley.transport.ServerVerifier;
import dev.parley.transport.testing.TestTls;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SSLEngine;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The peer link is TLS, whatever the connection to the server: each client here is its real
 * private-chat actors ({@link PeerListener} bound on loopback, {@link PrivateChats} logged in on a
 * protocol-3 server played by a probe), and the other end is another such client or a test-driven
 * one. A chat opens only with the certificate the server announced; anything on the listener's port
 * that is not TLS, or does not finish its handshake in time, is closed without a line for the user
 * and with at most one line in the log, never a token. Manual time drives the handshake timeout.
 */
class PeerLinkTlsTest {

  private static final ActorTestKit testKit = TestKits.withManualTime();
  private static final ManualTime manualTime = ManualTime.get(testKit.system());
  private static final ClientSettings settings = TestSettings.defaults();
  private static final String LOOPBACK = TestListener.LOOPBACK;
  private static final Duration TOKEN_TTL = Duration.ofMinutes(10);
  private static final Duration QUIET = Duration.ofMillis(200);

  /**
   * How long a raw socket waits for the listener's side, in milliseconds: a failure, not a wait.
   */
  private static final int SOCKET_TIMEOUT_MILLIS = 5_000;

  /** How long a raw socket must stay open for the listener to count as not having closed it. */
  private static final int STILL_OPEN_MILLIS = 200;

  /** TLS's record content types (change_cipher_spec 20 to heartbeat 24). */
  private static final int FIRST_CONTENT_TYPE = 20;

  private static final int LAST_CONTENT_TYPE = 24;

  /**
   * The high bit of a first byte that marks an SSLv2-style record header, which the JDK still
   * parses for a ClientHello: such garbage reads as the start of a long record, and the listener
   * rightly waits for the rest until its handshake timeout.
   */
  private static final int SSL2_HEADER_BIT = 0x80;

  private static final int GARBAGE_BYTES = 512;

  private static final CapturedLog log = CapturedLog.start();
  private static final SecureRandom random = new SecureRandom();

  @AfterAll
  static void shutdown() {
    log.close();
    testKit.shutdownTestKit();
  }

  private final List<String> tokens = new ArrayList<>();

  /** Whatever happened, no token the test used reached the log. */
  @AfterEach
  void noTokenLogged() {
    String logged = log.text();
    for (String token : tokens) {
      assertFalse(logged.contains(token), () -> "a token was logged: " + token);
    }
  }

  /** One client's private-chat actors, logged in as {@code name}, listening on {@code port}. */
  private record Client(
      String name,
      Security security,
      ActorRef<PrivateChats.Command> chats,
      TestProbe<String> lines,
      TestProbe<PrivateChats.ServerRequest> server,
      int port) {}

  private static Client start(String name) {
    Security security = TestSecurity.create();
    TestProbe<String> lines = testKit.createTestProbe();
    TestProbe<PrivateChats.ServerRequest> server = testKit.createTestProbe();
    ActorRef<PrivateChats.Command> chats =
        testKit.spawn(
            PrivateChats.create(settings, testKit.spawn(TestConsole.create(lines.ref()))));
    ActorRef<PeerListener.Command> listener =
        testKit.spawn(PeerListener.create(settings, chats.narrow()));
    TestProbe<PeerListener.ListenResult> result = testKit.createTestProbe();
    listener.tell(new PeerListener.Listen(LOOPBACK, result.ref()));
    int port = result.expectMessageClass(PeerListener.Listening.class).address().getPort();
    chats.tell(new PrivateChats.LoggedIn(name, server.ref(), Protocol.VERSION, security));
    // Answered only once logged in: what the chats log about the login is behind the test.
    chats.tell(new PrivateChats.SendPrivate("nobody", "anyone there?"));
    lines.expectMessage("Error. Private messaging to nobody not enabled");
    return new Client(name, security, chats, lines, server, port);
  }

  /** A fresh token, as the server makes them. */
  private String token() {
    byte[] bytes = new byte[32];
    random.nextBytes(bytes);
    String token = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    tokens.add(token);
    return token;
  }

  /** The server tells {@code to}'s client that {@code from} may connect; returns the token. */
  private String invite(Client to, String from) {
    String token = token();
    to.chats().tell(new PrivateChats.Invited(from, token, TOKEN_TTL));
    return token;
  }

  /** {@code from} runs startprivate with {@code to}; the server answers with this address. */
  private static void startPrivate(
      Client from, String to, int port, String fingerprint, String token) {
    from.chats().tell(new PrivateChats.Start(to));
    from.server().expectMessage(new PrivateChats.RequestPeerAddress(to));
    from.chats()
        .tell(
            new PrivateChats.PeerAddressReceived(
                to, new ServerMessage.PeerAddress(to, LOOPBACK, port, fingerprint, token)));
  }

  /** A test-driven peer's TLS connection to {@code client}'s listener, checking it is its. */
  private static RawPeer<PeerMessage, PeerMessage> connectTls(Client client) {
    return RawPeer.connectTls(
        client.port(),
        TestSecurity.create().tls(),
        ServerVerifier.pinned(client.security().identity().fingerprint()),
        JsonCodec.PEER,
        JsonCodec.PEER,
        testKit.system());
  }

  /** A chat between hans and luke opens with luke's token, {@code token}. */
  private static void expectChatOpens(Client hans, Client luke, String token) {
    startPrivate(hans, "luke", luke.port(), luke.security().fingerprint(), token);
    hans.lines().expectMessage("Start private messaging with luke");
    luke.lines().expectMessage("hans started private messaging with you");
  }

  /** {@code socket}'s other end closes it, after whatever TLS records it sent before. */
  private static void expectClosed(Socket socket) throws IOException {
    socket.setSoTimeout(SOCKET_TIMEOUT_MILLIS);
    InputStream in = socket.getInputStream();
    byte[] buffer = new byte[GARBAGE_BYTES];
    try {
      while (in.read(buffer) >= 0) {
        // A TLS alert, or the rest of the listener's handshake: not of interest.
      }
    } catch (SocketTimeoutException open) {
      throw new AssertionError("the listener left the connection open", open);
    } catch (SocketException reset) {
      // Closed with unread bytes on the listener's side: a reset is a close too.
    }
  }

  /** {@code socket} is still open: what it was sent is read and nothing more comes for a moment. */
  private static void expectStillOpen(Socket socket) throws IOException {
    socket.setSoTimeout(STILL_OPEN_MILLIS);
    InputStream in = socket.getInputStream();
    byte[] buffer = new byte[GARBAGE_BYTES];
    assertThrows(
        SocketTimeoutException.class,
        () -> {
          while (true) {
            assertTrue(in.read(buffer) >= 0, "the listener closed the connection too early");
          }
        });
  }

  @Test
  void shouldChatBetweenTwoClientsOverTlsWithTheAnnouncedCertificates() {
    Client hans = start("hans");
    Client luke = start("luke");
    expectChatOpens(hans, luke, invite(luke, "hans"));

    hans.chats().tell(new PrivateChats.SendPrivate("luke", "hey dude"));
    luke.lines().expectMessage("hans(private): hey dude");
    luke.chats().tell(new PrivateChats.SendPrivate("hans", "hello"));
    hans.lines().expectMessage("luke(private): hello");
    hans.chats().tell(new PrivateChats.StopPrivate("luke"));
    hans.lines().expectMessage("Stopped private messaging with luke");
    luke.lines().expectMessage("hans stopped private messaging with you");
  }

  @Test
  void shouldNotStartAChatWithAListenerPresentingAnotherCertificateAndSendNothing() {
    Client hans = start("hans");
    Security luke = TestSecurity.create();
    Security impostor = TestSecurity.create();
    TestListener address = TestListener.bind(testKit);
    String token = token();

    LoggingTestKit.warn("Refused the private-chat listener of luke at 127.0.0.1:" + address.port())
        .expect(
            testKit.system(),
            () -> {
              startPrivate(hans, "luke", address.port(), luke.fingerprint(), token);
              // Someone else answers at luke's address, with a certificate of its own.
              RawPeer<PeerMessage, PeerMessage> answered =
                  RawPeer.handleTls(
                      address.expectConnection(),
                      impostor.peerListenerTls(),
                      JsonCodec.PEER,
                      JsonCodec.PEER,
                      testKit.system());
              // Not a frame, not the hello with its token: the handshake ends first.
              answered.expectClosed();
              return null;
            });
    hans.lines()
        .expectMessage(
            "Error. Could not start private messaging with luke: the certificate presented is not"
                + " luke's");
    hans.lines().expectNoMessage(QUIET);
    // No chat is left behind: a text for luke is refused, and startprivate may be run again.
    hans.chats().tell(new PrivateChats.SendPrivate("luke", "hey dude"));
    hans.lines().expectMessage("Error. Private messaging to luke not enabled");
    hans.chats().tell(new PrivateChats.Start("luke"));
    hans.server().expectMessage(new PrivateChats.RequestPeerAddress("luke"));
    address.unbind();
  }

  @Test
  void shouldCloseAPlainTextHelloWithoutAWordAndWithOneLogLine() {
    Client hans = start("hans");
    Client luke = start("luke");
    String token = invite(luke, "hans");
    int mark = log.mark();

    RawPeer<PeerMessage, PeerMessage> plain =
        RawPeer.connect(luke.port(), JsonCodec.PEER, JsonCodec.PEER, testKit.system());
    plain.send(new Hello(Protocol.VERSION, "hans", token));
    plain.expectClosed();
    luke.lines().expectNoMessage(QUIET);
    List<String> logged = log.linesSince(mark, Level.INFO, "dev.parley");
    assertEquals(1, logged.size(), logged::toString);
    assertTrue(logged.get(0).contains("closed: TLS failed"), logged::toString);

    // The hello was never read: its token still opens the chat, over TLS.
    expectChatOpens(hans, luke, token);
  }

  @Test
  void shouldCloseGarbageInsteadOfAHandshakeWithoutAWord() throws IOException {
    Client luke = start("luke");
    byte[] garbage = new byte[GARBAGE_BYTES];
    random.nextBytes(garbage);
    // Random, except that it does not even start like a TLS record or an SSLv2-style header.
    while ((garbage[0] >= FIRST_CONTENT_TYPE && garbage[0] <= LAST_CONTENT_TYPE)
        || (garbage[0] & SSL2_HEADER_BIT) != 0) {
      garbage[0] = (byte) random.nextInt();
    }
    try (Socket socket = new Socket(LOOPBACK, luke.port())) {
      socket.getOutputStream().write(garbage);
      socket.getOutputStream().flush();
      expectClosed(socket);
    }
    luke.lines().expectNoMessage(QUIET);
  }

  @Test
  void shouldCloseAHandshakeLeftUnfinishedOnceTheHandshakeTimeoutPasses() throws IOException {
    Client luke = start("luke");
    // A client's first flight, its ClientHello, and then nothing: the handshake never finishes.
    SSLEngine client =
        TestTls.context(Optional.empty(), Optional.empty()).createSSLEngine(LOOPBACK, luke.port());
    client.setUseClientMode(true);
    ByteBuffer hello = ByteBuffer.allocate(client.getSession().getPacketBufferSize());
    client.wrap(ByteBuffer.allocate(0), hello);
    hello.flip();
    try (Socket socket = new Socket(LOOPBACK, luke.port())) {
      socket.getOutputStream().write(hello.array(), 0, hello.limit());
      socket.getOutputStream().flush();
      // The listener's own flight came back (so the chat that runs the handshake has started, and
      // its handshake timer with it), and then it waits.
      socket.setSoTimeout(SOCKET_TIMEOUT_MILLIS);
      assertTrue(socket.getInputStream().read() >= 0, "no answer to the ClientHello");
      expectStillOpen(socket);

      manualTime.timePasses(settings.peerHandshakeTimeout());
      expectClosed(socket);
    }
    luke.lines().expectNoMessage(QUIET);
  }

  @Test
  void shouldCloseAHelloWithoutATokenAfterTheHandshakeWithoutAWord() {
    Client luke = start("luke");
    invite(luke, "hans");
    RawPeer<PeerMessage, PeerMessage> hans = connectTls(luke);
    LoggingTestKit.warn("Refused a private chat connection claiming to be hans")
        .expect(
            testKit.system(),
            () -> {
              hans.send(new Hello(Protocol.VERSION, "hans", null));
              return null;
            });
    hans.expectClosed();
    luke.lines().expectNoMessage(QUIET);
  }
}
