package dev.parley.client.chat;

import static org.junit.jupiter.api.Assertions.assertFalse;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.LoggingTestKit;
import akka.actor.testkit.typed.javadsl.ManualTime;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
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
import dev.parley.protocol.PeerMessage.Ack;
import dev.parley.protocol.PeerMessage.Bye;
import dev.parley.protocol.PeerMessage.Hello;
import dev.parley.protocol.PeerMessage.Text;
import dev.parley.protocol.Protocol;
import dev.parley.protocol.ServerMessage;
import dev.parley.transport.ServerVerifier;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Which accepted connections hans's client lets go on: on a server of protocol 3, only one whose
 * hello presents a token the server announced for the user it claims to be, unexpired and unused;
 * every other is closed without a frame and without a line for hans. Manual time drives the expiry
 * of invitations and the handshake timeout, which bounds how long a hello waits for its invitation;
 * a connection is known to wait once the chats have logged it.
 */
class PrivateChatsInvitationsTest {

  private static final ActorTestKit testKit = TestKits.withManualTime();
  private static final ManualTime manualTime = ManualTime.get(testKit.system());
  private static final ClientSettings settings = TestSettings.defaults();

  /** The identities of hans's client, and of the peers' clients. */
  private static final Security HANS = TestSecurity.create();

  private static final Security PEERS = TestSecurity.create();

  /** Long enough that no handshake timeout in a test lets an invitation expire. */
  private static final Duration LONG_TTL = Duration.ofMinutes(10);

  private static final Duration QUIET = Duration.ofMillis(100);
  private static final CapturedLog log = CapturedLog.start();
  private static final SecureRandom random = new SecureRandom();

  @AfterAll
  static void shutdown() {
    log.close();
    testKit.shutdownTestKit();
  }

  private final TestProbe<String> lines = testKit.createTestProbe();
  private final TestProbe<PrivateChats.ServerRequest> server = testKit.createTestProbe();
  private final List<String> tokens = new ArrayList<>();

  /** Whatever happened, no token the test used reached the log. */
  @AfterEach
  void noTokenLogged() {
    String logged = log.text();
    for (String token : tokens) {
      assertFalse(logged.contains(token), () -> "a token was logged: " + token);
    }
  }

  private ActorRef<PrivateChats.Command> loggedInAsHans(ClientSettings settings, int version) {
    ActorRef<PrivateChats.Command> chats =
        testKit.spawn(
            PrivateChats.create(settings, testKit.spawn(TestConsole.create(lines.ref()))));
    chats.tell(new PrivateChats.LoggedIn("hans", server.ref(), version, HANS));
    return chats;
  }

  private ActorRef<PrivateChats.Command> loggedInAsHans() {
    return loggedInAsHans(settings, Protocol.VERSION);
  }

  /** A fresh token, as the server makes them: 32 random bytes in URL-safe base64. */
  private String token() {
    byte[] bytes = new byte[32];
    random.nextBytes(bytes);
    String token = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    tokens.add(token);
    return token;
  }

  /** The server tells hans's client that {@code user} may connect with a new token; returns it. */
  private String invite(ActorRef<PrivateChats.Command> chats, String user, Duration ttl) {
    String token = token();
    chats.tell(new PrivateChats.Invited(user, token, ttl));
    return token;
  }

  private String invite(ActorRef<PrivateChats.Command> chats, String user) {
    return invite(chats, user, LONG_TTL);
  }

  /**
   * A test-driven peer connects to hans's listener over TLS and says hello as {@code user} with
   * {@code token} (none if null).
   */
  private RawPeer<PeerMessage, PeerMessage> connectAs(
      ActorRef<PrivateChats.Command> chats, String user, String token) {
    TestListener listener = TestListener.bind(testKit);
    RawPeer<PeerMessage, PeerMessage> peer =
        RawPeer.connectTls(
            listener.port(),
            PEERS.tls(),
            ServerVerifier.pinned(HANS.identity().fingerprint()),
            JsonCodec.PEER,
            JsonCodec.PEER,
            testKit.system());
    chats.tell(new PrivateChats.AcceptConnection(listener.expectConnection()));
    listener.unbind();
    peer.send(new Hello(Protocol.VERSION, user, token));
    return peer;
  }

  /** As {@link #connectAs}, returning once the chats hold the connection for its invitation. */
  private RawPeer<PeerMessage, PeerMessage> connectAwaitingInvitation(
      ActorRef<PrivateChats.Command> chats, String user, String token) {
    return LoggingTestKit.debug("Private chat connection as " + user + " waits for its invitation")
        .expect(testKit.system(), () -> connectAs(chats, user, token));
  }

  /** The connection is accepted: hans's client answers the hello and tells hans. */
  private void expectAccepted(RawPeer<PeerMessage, PeerMessage> peer, String user) {
    peer.expectFrame(new Hello(Protocol.VERSION, "hans"));
    lines.expectMessage(user + " started private messaging with you");
  }

  /** The peer ends the chat it opened; hans is told. */
  private void stopChat(RawPeer<PeerMessage, PeerMessage> peer, String user) {
    peer.send(new Bye(Bye.Reason.STOPPED));
    peer.expectClosed();
    lines.expectMessage(user + " stopped private messaging with you");
  }

  /** Closed without a frame, hans's terminal untouched; the log says so, without the token. */
  private void expectClosedWithoutAWord(RawPeer<PeerMessage, PeerMessage> peer) {
    peer.expectClosed();
    lines.expectNoMessage(QUIET);
  }

  /**
   * The handshake timeout passes with no invitation for the waiting connection of {@code user}: it
   * is closed without a word, and a warning is logged.
   */
  private void expectRefusedOnceTheHandshakeTimesOut(
      RawPeer<PeerMessage, PeerMessage> peer, String user) {
    LoggingTestKit.warn("Refused a private chat connection claiming to be " + user)
        .expect(
            testKit.system(),
            () -> {
              manualTime.timePasses(settings.peerHandshakeTimeout());
              return null;
            });
    expectClosedWithoutAWord(peer);
  }

  /**
   * Returns once the chats have handled everything told them before: a line only they print comes
   * after it.
   */
  private void sync(ActorRef<PrivateChats.Command> chats) {
    chats.tell(new PrivateChats.SendPrivate("nobody", "anyone there?"));
    lines.expectMessage("Error. Private messaging to nobody not enabled");
  }

  @Test
  void shouldPresentTheTokenOfThePeerAddressInTheHello() {
    ActorRef<PrivateChats.Command> chats = loggedInAsHans();
    TestListener luke = TestListener.bind(testKit);
    Security lukes = TestSecurity.create();
    String token = token();
    chats.tell(new PrivateChats.Start("luke"));
    server.expectMessage(new PrivateChats.RequestPeerAddress("luke"));
    chats.tell(
        new PrivateChats.PeerAddressReceived(
            "luke",
            new ServerMessage.PeerAddress(
                "luke", TestListener.LOOPBACK, luke.port(), lukes.fingerprint(), token)));
    RawPeer<PeerMessage, PeerMessage> lukesEnd =
        RawPeer.handleTls(
            luke.expectConnection(),
            lukes.peerListenerTls(),
            JsonCodec.PEER,
            JsonCodec.PEER,
            testKit.system());
    lukesEnd.expectFrame(new Hello(Protocol.VERSION, "hans", token));
    lukesEnd.send(new Hello(Protocol.VERSION, "luke"));
    lines.expectMessage("Start private messaging with luke");
    luke.unbind();
  }

  @Test
  void shouldAcceptAnInvitedPeerOnceWithItsToken() {
    ActorRef<PrivateChats.Command> chats = loggedInAsHans();
    String token = invite(chats, "yoda");
    RawPeer<PeerMessage, PeerMessage> yoda = connectAs(chats, "yoda", token);
    expectAccepted(yoda, "yoda");
    yoda.send(new Text(1, "hello there"));
    lines.expectMessage("yoda(private): hello there");
    yoda.expectFrame(new Ack(1));
    stopChat(yoda, "yoda");

    // The same token again, though no chat with yoda is open: used up.
    RawPeer<PeerMessage, PeerMessage> replay = connectAwaitingInvitation(chats, "yoda", token);
    expectRefusedOnceTheHandshakeTimesOut(replay, "yoda");
  }

  @Test
  void shouldCloseAHelloWithoutATokenAtOnceWithoutAWord() {
    ActorRef<PrivateChats.Command> chats = loggedInAsHans();
    // Even the user who was invited.
    String token = invite(chats, "yoda");
    RawPeer<PeerMessage, PeerMessage> yoda =
        LoggingTestKit.warn(
                "Refused a private chat connection claiming to be yoda: its hello has no")
            .expect(testKit.system(), () -> connectAs(chats, "yoda", null));
    expectClosedWithoutAWord(yoda);
    expectClosedWithoutAWord(connectAs(chats, "vader", null));

    // The invitation still stands for the connection that has it.
    expectAccepted(connectAs(chats, "yoda", token), "yoda");
  }

  @Test
  void shouldRefuseAWrongTokenWithoutAWordAndKeepTheInvitation() {
    ActorRef<PrivateChats.Command> chats = loggedInAsHans();
    String token = invite(chats, "yoda");
    RawPeer<PeerMessage, PeerMessage> guess = connectAwaitingInvitation(chats, "yoda", token());
    expectRefusedOnceTheHandshakeTimesOut(guess, "yoda");

    expectAccepted(connectAs(chats, "yoda", token), "yoda");
  }

  @Test
  void shouldRefuseTheTokenOfAnotherUserWithoutAWord() {
    ActorRef<PrivateChats.Command> chats = loggedInAsHans();
    String yodasToken = invite(chats, "yoda");
    RawPeer<PeerMessage, PeerMessage> vader = connectAwaitingInvitation(chats, "vader", yodasToken);
    expectRefusedOnceTheHandshakeTimesOut(vader, "vader");

    expectAccepted(connectAs(chats, "yoda", yodasToken), "yoda");
  }

  @Test
  void shouldRefuseATokenOnceItHasExpired() {
    ActorRef<PrivateChats.Command> chats = loggedInAsHans();
    Duration ttl = Duration.ofSeconds(30);
    String first = invite(chats, "yoda", ttl);
    String second = invite(chats, "yoda", ttl);
    // Both invitations are kept, with their timers running, before time moves.
    sync(chats);

    manualTime.timePasses(ttl.minusMillis(1));
    RawPeer<PeerMessage, PeerMessage> inTime = connectAs(chats, "yoda", first);
    expectAccepted(inTime, "yoda");
    stopChat(inTime, "yoda");

    manualTime.timePasses(Duration.ofMillis(1));
    RawPeer<PeerMessage, PeerMessage> late = connectAwaitingInvitation(chats, "yoda", second);
    expectRefusedOnceTheHandshakeTimesOut(late, "yoda");
  }

  @Test
  void shouldAcceptAHelloThatCameBeforeItsInvitationOnceTheInvitationComes() {
    ActorRef<PrivateChats.Command> chats = loggedInAsHans();
    String token = token();
    RawPeer<PeerMessage, PeerMessage> yoda = connectAwaitingInvitation(chats, "yoda", token);
    // A second connection with the same token, also ahead of the invitation.
    RawPeer<PeerMessage, PeerMessage> copy = connectAwaitingInvitation(chats, "yoda", token);
    yoda.expectNoFrame();
    lines.expectNoMessage(QUIET);

    chats.tell(new PrivateChats.Invited("yoda", token, LONG_TTL));
    expectAccepted(yoda, "yoda");
    // The token was good for one connection only.
    expectClosedWithoutAWord(copy);
    yoda.send(new Text(1, "just in time"));
    lines.expectMessage("yoda(private): just in time");
  }

  @Test
  void shouldRefuseAHelloWhoseInvitationDoesNotComeWithinTheHandshakeTimeout() {
    ActorRef<PrivateChats.Command> chats = loggedInAsHans();
    String token = token();
    RawPeer<PeerMessage, PeerMessage> yoda = connectAwaitingInvitation(chats, "yoda", token);
    manualTime.expectNoMessageFor(settings.peerHandshakeTimeout().minusMillis(1), lines);
    LoggingTestKit.warn("Refused a private chat connection claiming to be yoda")
        .expect(
            testKit.system(),
            () -> {
              manualTime.timePasses(Duration.ofMillis(1));
              return null;
            });
    expectClosedWithoutAWord(yoda);

    // Too late: the invitation is kept, for a connection still to come, and nothing is shown.
    chats.tell(new PrivateChats.Invited("yoda", token, LONG_TTL));
    lines.expectNoMessage(QUIET);
  }

  @Test
  void shouldKeepAtMostTheConfiguredInvitationsForgettingTheOldest() {
    ActorRef<PrivateChats.Command> chats =
        loggedInAsHans(TestSettings.with("max-private-chat-invitations = 2"), Protocol.VERSION);
    String yodas = invite(chats, "yoda");
    String lukes = invite(chats, "luke");
    String vaders =
        LoggingTestKit.warn("Forgot the invitation of yoda to make room: 2 kept at most")
            .expect(testKit.system(), () -> invite(chats, "vader"));

    RawPeer<PeerMessage, PeerMessage> yoda = connectAwaitingInvitation(chats, "yoda", yodas);
    expectRefusedOnceTheHandshakeTimesOut(yoda, "yoda");
    expectAccepted(connectAs(chats, "luke", lukes), "luke");
    expectAccepted(connectAs(chats, "vader", vaders), "vader");
  }

  @Test
  void shouldForgetOnlyTheFloodingUsersOwnInvitationsPastItsShare() {
    ActorRef<PrivateChats.Command> chats =
        loggedInAsHans(
            TestSettings.with(
                "max-private-chat-invitations = 3\nmax-private-chat-invitations-per-user = 2"),
            Protocol.VERSION);
    String yodas = invite(chats, "yoda");
    String vaders = invite(chats, "vader");
    invite(chats, "vader");
    // vader keeps inviting: his own oldest goes, never yoda's.
    LoggingTestKit.warn("Forgot the invitation of vader to make room: 2 from one user kept at most")
        .expect(testKit.system(), () -> invite(chats, "vader"));

    expectAccepted(connectAs(chats, "yoda", yodas), "yoda");
    RawPeer<PeerMessage, PeerMessage> forgotten = connectAwaitingInvitation(chats, "vader", vaders);
    expectRefusedOnceTheHandshakeTimesOut(forgotten, "vader");
  }

  @Test
  void shouldStillRejectASecondChatWithAPeerWhoseTokenIsGood() {
    ActorRef<PrivateChats.Command> chats = loggedInAsHans();
    expectAccepted(connectAs(chats, "yoda", invite(chats, "yoda")), "yoda");
    RawPeer<PeerMessage, PeerMessage> second = connectAs(chats, "yoda", invite(chats, "yoda"));
    second.expectFrame(new Bye(Bye.Reason.ALREADY_CHATTING));
    expectClosedWithoutAWord(second);
  }

  @Test
  void shouldCloseAConnectionAwaitingItsInvitationWithoutAWordWhenClosingEverything() {
    ActorRef<PrivateChats.Command> chats = loggedInAsHans();
    RawPeer<PeerMessage, PeerMessage> yoda = connectAwaitingInvitation(chats, "yoda", token());
    TestProbe<PrivateChats.AllClosed> closed = testKit.createTestProbe();
    chats.tell(new PrivateChats.CloseAll(Bye.Reason.LOGGED_OUT, closed.ref()));
    expectClosedWithoutAWord(yoda);
    closed.expectMessage(PrivateChats.AllClosed.INSTANCE);
  }

  @Test
  void shouldTakeAHelloAtItsWordFromAServerThatIssuesNoTokens() {
    ActorRef<PrivateChats.Command> chats = loggedInAsHans(settings, Protocol.VERSION - 1);
    expectAccepted(connectAs(chats, "yoda", null), "yoda");

    // Logged in again on a server that issues tokens: they are required from now on.
    chats.tell(new PrivateChats.LoggedIn("hans", server.ref(), Protocol.VERSION, HANS));
    expectClosedWithoutAWord(connectAs(chats, "luke", null));
  }
}
