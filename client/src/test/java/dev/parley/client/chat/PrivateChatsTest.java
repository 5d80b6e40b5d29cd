package dev.parley.client.chat;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import dev.parley.client.ClientSettings;
import dev.parley.client.testing.RawPeer;
import dev.parley.client.testing.TestConsole;
import dev.parley.client.testing.TestKits;
import dev.parley.client.testing.TestListener;
import dev.parley.client.testing.TestSecurity;
import dev.parley.client.testing.TestSettings;
import dev.parley.client.tls.Security;
import dev.parley.protocol.JsonCodec;
import dev.parley.protocol.PeerMessage;
import dev.parley.protocol.PeerMessage.Bye;
import dev.parley.protocol.PeerMessage.Hello;
import dev.parley.protocol.PeerMessage.Text;
import dev.parley.protocol.Protocol;
import dev.parley.protocol.ServerMessage;
import dev.parley.transport.ServerVerifier;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Routing and bookkeeping of private chats, on a server that issues tokens: every accepted
 * connection here presents the token of an invitation (see {@link PrivateChatsInvitationsTest} for
 * the others). Manual time never moves here, so every close observed is the chats' own doing, not a
 * timeout's.
 */
class PrivateChatsTest {

  private static final ActorTestKit testKit = TestKits.withManualTime();
  private static final ClientSettings settings = TestSettings.defaults();
  private static final String LOOPBACK = TestListener.LOOPBACK;

  /** The identities of hans's client, and of the peers' clients. */
  private static final Security HANS = TestSecurity.create();

  private static final Security LUKE = TestSecurity.create();
  private static final Security OTHERS = TestSecurity.create();

  /** What the server gives hans with luke's address: the fingerprint of luke's certificate. */
  private static final String LUKES_FINGERPRINT = LUKE.fingerprint();

  /** The token the server gives hans with luke's address. */
  private static final String TOKEN = "q2x9-4fU8kLmPz0aR7vYtw";

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private final TestProbe<String> lines = testKit.createTestProbe();
  private final TestProbe<PrivateChats.ServerRequest> server = testKit.createTestProbe();
  private final TestListener peers = TestListener.bind(testKit);
  private int invitations;

  private ActorRef<PrivateChats.Command> spawnChats() {
    return testKit.spawn(
        PrivateChats.create(settings, testKit.spawn(TestConsole.create(lines.ref()))));
  }

  private ActorRef<PrivateChats.Command> loggedInAsHans() {
    ActorRef<PrivateChats.Command> chats = spawnChats();
    chats.tell(new PrivateChats.LoggedIn("hans", server.ref(), Protocol.VERSION, HANS));
    return chats;
  }

  /** Runs startprivate luke through to an open chat with a test-driven luke. */
  private RawPeer<PeerMessage, PeerMessage> openChatWithLuke(ActorRef<PrivateChats.Command> chats) {
    chats.tell(new PrivateChats.Start("luke"));
    server.expectMessage(new PrivateChats.RequestPeerAddress("luke"));
    chats.tell(
        new PrivateChats.PeerAddressReceived(
            "luke",
            new ServerMessage.PeerAddress(
                "luke", LOOPBACK, peers.port(), LUKES_FINGERPRINT, TOKEN)));
    RawPeer<PeerMessage, PeerMessage> luke =
        RawPeer.handleTls(
            peers.expectConnection(),
            LUKE.peerListenerTls(),
            JsonCodec.PEER,
            JsonCodec.PEER,
            testKit.system());
    // With the token of the address, which luke's client was told to expect from hans.
    luke.expectFrame(new Hello(Protocol.VERSION, "hans", TOKEN));
    luke.send(new Hello(Protocol.VERSION, "luke"));
    lines.expectMessage("Start private messaging with luke");
    return luke;
  }

  /**
   * A test-driven peer that hans's client was invited to take a chat from connects to hans's
   * listener and says hello as {@code user}, with the token of the invitation.
   */
  private RawPeer<PeerMessage, PeerMessage> connectAs(
      ActorRef<PrivateChats.Command> chats, String user) {
    String token = "token-of-" + user + "-" + ++invitations;
    chats.tell(new PrivateChats.Invited(user, token, Duration.ofMinutes(1)));
    TestListener listener = TestListener.bind(testKit);
    RawPeer<PeerMessage, PeerMessage> peer = connectTls(listener);
    chats.tell(new PrivateChats.AcceptConnection(listener.expectConnection()));
    listener.unbind();
    peer.send(new Hello(Protocol.VERSION, user, token));
    return peer;
  }

  /** A peer's client connecting over TLS to a listener that must present hans's certificate. */
  private static RawPeer<PeerMessage, PeerMessage> connectTls(TestListener listener) {
    return RawPeer.connectTls(
        listener.port(),
        OTHERS.tls(),
        ServerVerifier.pinned(HANS.identity().fingerprint()),
        JsonCodec.PEER,
        JsonCodec.PEER,
        testKit.system());
  }

  @Test
  void shouldSayNotEnabledWhenThereIsNoChat() {
    ActorRef<PrivateChats.Command> chats = loggedInAsHans();
    chats.tell(new PrivateChats.SendPrivate("luke", "hey dude"));
    lines.expectMessage("Error. Private messaging to luke not enabled");
    chats.tell(new PrivateChats.StopPrivate("luke"));
    lines.expectMessage("Error. Private messaging to luke not enabled");
  }

  @Test
  void shouldAskTheServerOnceWhileAChatIsBeingOpened() {
    ActorRef<PrivateChats.Command> chats = loggedInAsHans();
    chats.tell(new PrivateChats.Start("luke"));
    server.expectMessage(new PrivateChats.RequestPeerAddress("luke"));
    chats.tell(new PrivateChats.Start("luke"));
    lines.expectMessage("Error. Private messaging with luke is already enabled");
    server.expectMessage(PrivateChats.ReportActivity.INSTANCE);

    // The server refused (and said why): a new attempt is allowed.
    chats.tell(new PrivateChats.PeerAddressRefused("luke"));
    chats.tell(new PrivateChats.Start("luke"));
    server.expectMessage(new PrivateChats.RequestPeerAddress("luke"));
  }

  @Test
  void shouldOpenAChatAtTheServersAddressAndRouteTextsToIt() {
    ActorRef<PrivateChats.Command> chats = loggedInAsHans();
    RawPeer<PeerMessage, PeerMessage> luke = openChatWithLuke(chats);

    chats.tell(new PrivateChats.SendPrivate("luke", "hey dude"));
    luke.expectFrame(new Text(1, "hey dude"));
    chats.tell(new PrivateChats.Start("luke"));
    lines.expectMessage("Error. Private messaging with luke is already enabled");
    server.expectMessage(PrivateChats.ReportActivity.INSTANCE);

    chats.tell(new PrivateChats.StopPrivate("luke"));
    lines.expectMessage("Stopped private messaging with luke");
    luke.expectFrame(new Bye(Bye.Reason.STOPPED));
    // The one who reads a bye closes; hans reads on for acknowledgements until then.
    luke.close();
    luke.expectClosed();
    // luke never acknowledged it.
    lines.expectMessage("Error. Private message to luke could not be delivered: hey dude");
    chats.tell(new PrivateChats.SendPrivate("luke", "still there?"));
    lines.expectMessage("Error. Private messaging to luke not enabled");
  }

  @Test
  void shouldNotStartAChatWithoutTheFingerprintOfThePeersCertificate() {
    ActorRef<PrivateChats.Command> chats = loggedInAsHans();
    // An older server, or a peer client that does not speak TLS, gives none; or a broken one.
    for (String fingerprint : new String[] {null, "SHA256:not-a-fingerprint"}) {
      chats.tell(new PrivateChats.Start("luke"));
      server.expectMessage(new PrivateChats.RequestPeerAddress("luke"));
      chats.tell(
          new PrivateChats.PeerAddressReceived(
              "luke",
              new ServerMessage.PeerAddress("luke", LOOPBACK, peers.port(), fingerprint, TOKEN)));
      lines.expectMessage(
          "Error. Could not start private messaging with luke: luke's client cannot be verified"
              + " (the server or luke's client is too old for encrypted private chats)");
      // Not even a plain TCP connection; and no chat to route texts to.
      peers.expectNoConnection();
      chats.tell(new PrivateChats.SendPrivate("luke", "hey dude"));
      lines.expectMessage("Error. Private messaging to luke not enabled");
    }
  }

  @Test
  void shouldForgetAStartThatWasStoppedBeforeTheAddressCame() {
    ActorRef<PrivateChats.Command> chats = loggedInAsHans();
    chats.tell(new PrivateChats.Start("luke"));
    server.expectMessage(new PrivateChats.RequestPeerAddress("luke"));
    chats.tell(new PrivateChats.StopPrivate("luke"));
    lines.expectMessage("Stopped private messaging with luke");
    chats.tell(
        new PrivateChats.PeerAddressReceived(
            "luke",
            new ServerMessage.PeerAddress(
                "luke", LOOPBACK, peers.port(), LUKES_FINGERPRINT, TOKEN)));
    chats.tell(new PrivateChats.SendPrivate("luke", "hello?"));
    lines.expectMessage("Error. Private messaging to luke not enabled");
  }

  @Test
  void shouldAcceptAnIncomingChatAndRejectASecondOneWithTheSamePeer() {
    ActorRef<PrivateChats.Command> chats = loggedInAsHans();
    RawPeer<PeerMessage, PeerMessage> yoda = connectAs(chats, "yoda");
    yoda.expectFrame(new Hello(Protocol.VERSION, "hans"));
    lines.expectMessage("yoda started private messaging with you");
    chats.tell(new PrivateChats.SendPrivate("yoda", "hello master"));
    yoda.expectFrame(new Text(1, "hello master"));

    RawPeer<PeerMessage, PeerMessage> secondYoda = connectAs(chats, "yoda");
    secondYoda.expectFrame(new Bye(Bye.Reason.ALREADY_CHATTING));
    secondYoda.expectClosed();

    // The first chat is untouched.
    chats.tell(new PrivateChats.SendPrivate("yoda", "still here"));
    yoda.expectFrame(new Text(2, "still here"));
  }

  @Test
  void shouldRejectAnIncomingChatFromAPeerWeAreConnectingTo() {
    ActorRef<PrivateChats.Command> chats = loggedInAsHans();
    chats.tell(new PrivateChats.Start("luke"));
    server.expectMessage(new PrivateChats.RequestPeerAddress("luke"));
    RawPeer<PeerMessage, PeerMessage> luke = connectAs(chats, "luke");
    luke.expectFrame(new Bye(Bye.Reason.ALREADY_CHATTING));
    luke.expectClosed();
  }

  @Test
  void shouldCloseEveryChatAndAnswerOnceAllHaveStopped() {
    ActorRef<PrivateChats.Command> chats = loggedInAsHans();
    RawPeer<PeerMessage, PeerMessage> luke = openChatWithLuke(chats);
    RawPeer<PeerMessage, PeerMessage> yoda = connectAs(chats, "yoda");
    yoda.expectFrame(new Hello(Protocol.VERSION, "hans"));
    lines.expectMessage("yoda started private messaging with you");
    TestProbe<PrivateChats.AllClosed> closed = testKit.createTestProbe();

    chats.tell(new PrivateChats.CloseAll(Bye.Reason.LOGGED_OUT, closed.ref()));
    luke.expectFrame(new Bye(Bye.Reason.LOGGED_OUT));
    yoda.expectFrame(new Bye(Bye.Reason.LOGGED_OUT));
    luke.close();
    yoda.close();
    luke.expectClosed();
    yoda.expectClosed();
    closed.expectMessage(PrivateChats.AllClosed.INSTANCE);

    // Closed for good: new connections are refused, a second CloseAll answers at once.
    TestListener listener = TestListener.bind(testKit);
    RawPeer<PeerMessage, PeerMessage> late = connectTls(listener);
    chats.tell(new PrivateChats.AcceptConnection(listener.expectConnection()));
    late.expectClosed();
    listener.unbind();
    chats.tell(new PrivateChats.CloseAll(Bye.Reason.LOGGED_OUT, closed.ref()));
    closed.expectMessage(PrivateChats.AllClosed.INSTANCE);
    lines.expectNoMessage(Duration.ofMillis(100));
  }

  @Test
  void shouldRefuseConnectionsBeforeLoginAndCloseAtOnceWithoutChats() {
    ActorRef<PrivateChats.Command> chats = spawnChats();
    TestListener listener = TestListener.bind(testKit);
    RawPeer<PeerMessage, PeerMessage> early = connectTls(listener);
    chats.tell(new PrivateChats.AcceptConnection(listener.expectConnection()));
    early.expectClosed();
    listener.unbind();

    TestProbe<PrivateChats.AllClosed> closed = testKit.createTestProbe();
    chats.tell(new PrivateChats.CloseAll(Bye.Reason.DISCONNECTED, closed.ref()));
    closed.expectMessage(PrivateChats.AllClosed.INSTANCE);
  }
}
