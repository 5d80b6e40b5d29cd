package dev.parley.client.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.ManualTime;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.stream.javadsl.Tcp;
import dev.parley.client.ClientSettings;
import dev.parley.client.console.Console;
import dev.parley.client.testing.RawPeer;
import dev.parley.client.testing.StartSignal;
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
import dev.parley.transport.ServerVerifier;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A private chat over real loopback TLS, against a test-driven peer or another chat actor (see
 * {@link PeerLinkTlsTest} for what TLS refuses).
 */
class PrivateChatTest {

  private static final ActorTestKit testKit = TestKits.withManualTime();
  private static final ManualTime manualTime = ManualTime.get(testKit.system());
  private static final ClientSettings settings = TestSettings.defaults();
  private static final String LOOPBACK = TestListener.LOOPBACK;

  /** The identities of hans's and luke's clients. */
  private static final Security HANS = TestSecurity.create();

  private static final Security LUKE = TestSecurity.create();

  /** How long a raw socket waits for the chat, in milliseconds: a failure, not a wait. */
  private static final int SOCKET_TIMEOUT_MILLIS = 5_000;

  private static final int BUFFER_BYTES = 1024;

  /** The one-time token the server gave hans for his chat with luke. */
  private static final String TOKEN = "Xk3v9QmT1bZr8LwN2pYs4hGd7uJc0aEf5oRi6nKt-_w";

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  /** A chat hans opened to a test-driven luke: the actor, hans's lines and luke's end. */
  private record Opened(
      ActorRef<PrivateChat.Command> chat,
      TestProbe<String> lines,
      TestProbe<PrivateChat.Notification> parent,
      RawPeer<PeerMessage, PeerMessage> luke) {}

  /** Where luke accepts private chats, and the token the server gave hans for it. */
  private static PrivateChat.Contact toLuke(int port) {
    return new PrivateChat.Contact("luke", LOOPBACK, port, LUKE.identity().fingerprint(), TOKEN);
  }

  private static TestProbe<PrivateChat.Notification> parent() {
    return testKit.createTestProbe();
  }

  /**
   * The chat reports its end with the lines to show about it, is released by its parent, and stops.
   */
  private static void expectEndedAndRelease(
      TestProbe<PrivateChat.Notification> parent,
      ActorRef<PrivateChat.Command> chat,
      String... farewell) {
    parent.expectMessage(new PrivateChat.Ended(chat, List.of(farewell)));
    chat.tell(PrivateChat.Release.INSTANCE);
    parent.expectTerminated(chat);
  }

  private static TestProbe<String> lines() {
    return testKit.createTestProbe();
  }

  private static ActorRef<Console.Command> console(TestProbe<String> lines) {
    return testKit.spawn(TestConsole.create(lines.ref()));
  }

  /** luke's end of a connection hans's chat opened, presenting luke's certificate. */
  private static RawPeer<PeerMessage, PeerMessage> acceptRaw(TestListener listener) {
    return RawPeer.handleTls(
        listener.expectConnection(),
        LUKE.peerListenerTls(),
        JsonCodec.PEER,
        JsonCodec.PEER,
        testKit.system());
  }

  /** hans's end of a connection to luke's listener, verifying that it is luke's. */
  private static RawPeer<PeerMessage, PeerMessage> connectRaw(TestListener listener) {
    return RawPeer.connectTls(
        listener.port(),
        HANS.tls(),
        ServerVerifier.pinned(LUKE.identity().fingerprint()),
        JsonCodec.PEER,
        JsonCodec.PEER,
        testKit.system());
  }

  /** hans opens a chat to a test-driven luke and luke answers the hello. */
  private static Opened openedByHans(ClientSettings settings) {
    TestListener listener = TestListener.bind(testKit);
    TestProbe<String> lines = lines();
    TestProbe<PrivateChat.Notification> parent = parent();
    ActorRef<PrivateChat.Command> chat =
        testKit.spawn(
            PrivateChat.connect(
                settings, console(lines), HANS, "hans", toLuke(listener.port()), parent.ref()));
    RawPeer<PeerMessage, PeerMessage> luke = acceptRaw(listener);
    luke.expectFrame(new Hello(Protocol.VERSION, "hans", TOKEN));
    luke.send(new Hello(Protocol.VERSION, "luke"));
    lines.expectMessage("Start private messaging with luke");
    listener.unbind();
    return new Opened(chat, lines, parent, luke);
  }

  @Test
  void shouldExchangeTextsWithAcknowledgementsAfterOpening() {
    Opened hans = openedByHans(settings);
    RawPeer<PeerMessage, PeerMessage> luke = hans.luke();

    hans.chat().tell(new PrivateChat.Send("hey dude"));
    luke.expectFrame(new Text(1, "hey dude"));
    luke.send(new Ack(1));
    luke.send(new Text(1, "hello"));
    hans.lines().expectMessage("luke(private): hello");
    luke.expectFrame(new Ack(1));
    hans.chat().tell(new PrivateChat.Send("second"));
    luke.expectFrame(new Text(2, "second"));
    luke.send(new Ack(2));
    luke.send(new Text(2, "bye now"));
    hans.lines().expectMessage("luke(private): bye now");
    luke.expectFrame(new Ack(2));

    hans.chat().tell(new PrivateChat.Stop(Bye.Reason.STOPPED));
    hans.lines().expectMessage("Stopped private messaging with luke");
    luke.expectFrame(new Bye(Bye.Reason.STOPPED));
    // The one who reads a bye closes; the one who said it reads on until then.
    luke.close();
    luke.expectClosed();
    expectEndedAndRelease(hans.parent(), hans.chat());
    // Everything sent was acknowledged, so nothing is reported as undelivered.
    hans.lines().expectNoMessage(Duration.ofMillis(100));
  }

  @Test
  void shouldAnswerTheHelloOfAnAcceptedConnectionOnlyOnceTheParentAgrees() {
    TestListener listener = TestListener.bind(testKit);
    RawPeer<PeerMessage, PeerMessage> hans = connectRaw(listener);
    Tcp.IncomingConnection incoming = listener.expectConnection();
    TestProbe<String> lines = lines();
    TestProbe<PrivateChat.Notification> parent = parent();
    ActorRef<PrivateChat.Command> chat =
        testKit.spawn(
            PrivateChat.accept(settings, console(lines), LUKE, "luke", incoming, parent.ref()));

    hans.send(new Hello(Protocol.VERSION, "hans", TOKEN));
    parent.expectMessage(new PrivateChat.Identified("hans", TOKEN, chat));
    chat.tell(PrivateChat.Accept.INSTANCE);
    hans.expectFrame(new Hello(Protocol.VERSION, "luke"));
    lines.expectMessage("hans started private messaging with you");

    hans.send(new Text(1, "hey dude"));
    lines.expectMessage("hans(private): hey dude");
    hans.expectFrame(new Ack(1));
    chat.tell(new PrivateChat.Send("hello"));
    hans.expectFrame(new Text(1, "hello"));

    hans.send(new Bye(Bye.Reason.STOPPED));
    hans.expectClosed();
    expectEndedAndRelease(
        parent,
        chat,
        "hans stopped private messaging with you",
        "Error. Private message to hans could not be delivered: hello");
    listener.unbind();
  }

  @Test
  void shouldSayHelloWithoutATokenWhenTheServerGaveNone() {
    TestListener listener = TestListener.bind(testKit);
    TestProbe<String> lines = lines();
    testKit.spawn(
        PrivateChat.connect(
            settings,
            console(lines),
            HANS,
            "hans",
            new PrivateChat.Contact(
                "luke", LOOPBACK, listener.port(), LUKE.identity().fingerprint(), null),
            parent().ref()));
    RawPeer<PeerMessage, PeerMessage> luke = acceptRaw(listener);
    luke.expectFrame(new Hello(Protocol.VERSION, "hans"));
    luke.send(new Hello(Protocol.VERSION, "luke"));
    lines.expectMessage("Start private messaging with luke");
    listener.unbind();
  }

  @Test
  void shouldTellTheParentThatAHelloCameWithoutAToken() {
    TestListener listener = TestListener.bind(testKit);
    RawPeer<PeerMessage, PeerMessage> hans = connectRaw(listener);
    TestProbe<PrivateChat.Notification> parent = parent();
    ActorRef<PrivateChat.Command> chat =
        testKit.spawn(
            PrivateChat.accept(
                settings,
                console(lines()),
                LUKE,
                "luke",
                listener.expectConnection(),
                parent.ref()));
    hans.send(new Hello(Protocol.VERSION, "hans"));
    parent.expectMessage(new PrivateChat.Identified("hans", null, chat));
    listener.unbind();
  }

  @Test
  void shouldCloseWithoutAWordWhenTheParentDropsTheConnection() {
    TestListener listener = TestListener.bind(testKit);
    RawPeer<PeerMessage, PeerMessage> impostor = connectRaw(listener);
    TestProbe<String> lines = lines();
    TestProbe<PrivateChat.Notification> parent = parent();
    ActorRef<PrivateChat.Command> chat =
        testKit.spawn(
            PrivateChat.accept(
                settings, console(lines), LUKE, "luke", listener.expectConnection(), parent.ref()));

    impostor.send(new Hello(Protocol.VERSION, "hans", "not-the-token"));
    parent.expectMessage(new PrivateChat.Identified("hans", "not-the-token", chat));
    chat.tell(PrivateChat.Drop.INSTANCE);
    // No frame at all, not even a peer-bye; and nothing for luke to read.
    impostor.expectClosed();
    expectEndedAndRelease(parent, chat);
    lines.expectNoMessage(Duration.ofMillis(100));
    listener.unbind();
  }

  @Test
  void shouldHideTokensFromLogLines() {
    ActorRef<PrivateChat.Command> chat = testKit.createTestProbe(PrivateChat.Command.class).ref();
    String identified = new PrivateChat.Identified("hans", TOKEN, chat).toString();
    String contact = toLuke(4000).toString();
    assertFalse(identified.contains(TOKEN), identified);
    assertFalse(contact.contains(TOKEN), contact);
    assertTrue(contact.contains("luke") && contact.contains("4000"), contact);
  }

  @Test
  void shouldRejectADuplicateChatWithAlreadyChatting() {
    TestListener listener = TestListener.bind(testKit);
    RawPeer<PeerMessage, PeerMessage> hans = connectRaw(listener);
    TestProbe<String> lines = lines();
    TestProbe<PrivateChat.Notification> parent = parent();
    ActorRef<PrivateChat.Command> chat =
        testKit.spawn(
            PrivateChat.accept(
                settings, console(lines), LUKE, "luke", listener.expectConnection(), parent.ref()));

    hans.send(new Hello(Protocol.VERSION, "hans", TOKEN));
    parent.expectMessage(new PrivateChat.Identified("hans", TOKEN, chat));
    chat.tell(PrivateChat.Reject.INSTANCE);
    hans.expectFrame(new Bye(Bye.Reason.ALREADY_CHATTING));
    hans.expectClosed();
    expectEndedAndRelease(parent, chat);
    lines.expectNoMessage(Duration.ofMillis(100));
    listener.unbind();
  }

  @Test
  void shouldTellBothUsersWhenEitherSideStops() {
    for (boolean initiatorStops : new boolean[] {true, false}) {
      Both chats = openedBetweenChats();
      ActorRef<PrivateChat.Command> hans = chats.hans();
      ActorRef<PrivateChat.Command> luke = chats.luke();
      TestProbe<String> hansLines = chats.hansLines();
      TestProbe<String> lukeLines = chats.lukeLines();
      TestProbe<PrivateChat.Notification> hansParent = chats.hansParent();
      TestProbe<PrivateChat.Notification> parent = chats.lukeParent();

      // Each side shows a text only after it has seen the acknowledgements sent before it, so
      // ending with a text towards the side that stops leaves nothing unacknowledged.
      hans.tell(new PrivateChat.Send("hey dude"));
      lukeLines.expectMessage("hans(private): hey dude");
      luke.tell(new PrivateChat.Send("hello"));
      hansLines.expectMessage("luke(private): hello");
      if (!initiatorStops) {
        hans.tell(new PrivateChat.Send("how are you"));
        lukeLines.expectMessage("hans(private): how are you");
      }

      if (initiatorStops) {
        hans.tell(new PrivateChat.Stop(Bye.Reason.STOPPED));
        hansLines.expectMessage("Stopped private messaging with luke");
        expectEndedAndRelease(hansParent, hans);
        expectEndedAndRelease(parent, luke, "hans stopped private messaging with you");
      } else {
        luke.tell(new PrivateChat.Stop(Bye.Reason.STOPPED));
        lukeLines.expectMessage("Stopped private messaging with hans");
        expectEndedAndRelease(hansParent, hans, "luke stopped private messaging with you");
        expectEndedAndRelease(parent, luke);
      }
      hansLines.expectNoMessage(Duration.ofMillis(100));
      lukeLines.expectNoMessage(Duration.ofMillis(100));
    }
  }

  /** A chat between two chat actors, hans's opened to luke's listener and accepted there. */
  private record Both(
      ActorRef<PrivateChat.Command> hans,
      ActorRef<PrivateChat.Command> luke,
      TestProbe<String> hansLines,
      TestProbe<String> lukeLines,
      TestProbe<PrivateChat.Notification> hansParent,
      TestProbe<PrivateChat.Notification> lukeParent) {}

  private static Both openedBetweenChats() {
    TestListener listener = TestListener.bind(testKit);
    TestProbe<String> hansLines = lines();
    TestProbe<String> lukeLines = lines();
    TestProbe<PrivateChat.Notification> hansParent = parent();
    TestProbe<PrivateChat.Notification> lukeParent = parent();
    ActorRef<PrivateChat.Command> hans =
        testKit.spawn(
            PrivateChat.connect(
                settings,
                console(hansLines),
                HANS,
                "hans",
                toLuke(listener.port()),
                hansParent.ref()));
    ActorRef<PrivateChat.Command> luke =
        testKit.spawn(
            PrivateChat.accept(
                settings,
                console(lukeLines),
                LUKE,
                "luke",
                listener.expectConnection(),
                lukeParent.ref()));
    lukeParent.expectMessage(new PrivateChat.Identified("hans", TOKEN, luke));
    luke.tell(PrivateChat.Accept.INSTANCE);
    lukeLines.expectMessage("hans started private messaging with you");
    hansLines.expectMessage("Start private messaging with luke");
    listener.unbind();
    return new Both(hans, luke, hansLines, lukeLines, hansParent, lukeParent);
  }

  @Test
  void shouldNotReportATextUndeliveredWhenTheChatStopsRightAfterIt() {
    Both chats = openedBetweenChats();

    // stopprivate typed the moment after the text: luke's acknowledgement cannot have come yet.
    chats.hans().tell(new PrivateChat.Send("hey dude"));
    chats.hans().tell(new PrivateChat.Stop(Bye.Reason.STOPPED));

    chats.hansLines().expectMessage("Stopped private messaging with luke");
    chats.lukeLines().expectMessage("hans(private): hey dude");
    expectEndedAndRelease(
        chats.lukeParent(), chats.luke(), "hans stopped private messaging with you");
    // Shown to luke, so not reported undelivered to hans.
    expectEndedAndRelease(chats.hansParent(), chats.hans());
    chats.hansLines().expectNoMessage(Duration.ofMillis(100));
  }

  /** A chat hans opened to a test-driven luke, on a console whose receipts the test gives. */
  private record Showing(
      ActorRef<PrivateChat.Command> chat,
      TestProbe<Console.Command> console,
      TestProbe<PrivateChat.Notification> parent,
      RawPeer<PeerMessage, PeerMessage> luke) {

    /** The peer's text reaches the console; its receipt is the test's to give. */
    Console.PrintWithReceipt expectShowing(String line) {
      Console.PrintWithReceipt showing = console.expectMessageClass(Console.PrintWithReceipt.class);
      assertEquals(line, showing.line());
      console.expectMessageClass(Console.UserSeen.class);
      return showing;
    }
  }

  private static Showing openedByHansOnAConsoleProbe() {
    TestListener listener = TestListener.bind(testKit);
    TestProbe<Console.Command> console = testKit.createTestProbe();
    TestProbe<PrivateChat.Notification> parent = parent();
    ActorRef<PrivateChat.Command> chat =
        testKit.spawn(
            PrivateChat.connect(
                settings, console.ref(), HANS, "hans", toLuke(listener.port()), parent.ref()));
    RawPeer<PeerMessage, PeerMessage> luke = acceptRaw(listener);
    luke.expectFrame(new Hello(Protocol.VERSION, "hans", TOKEN));
    luke.send(new Hello(Protocol.VERSION, "luke"));
    assertEquals(
        "Start private messaging with luke",
        console.expectMessageClass(Console.Print.class).line());
    listener.unbind();
    return new Showing(chat, console, parent, luke);
  }

  @Test
  void shouldAcknowledgeTheTextsItIsShowingBeforeClosingOnABye() {
    Showing hans = openedByHansOnAConsoleProbe();
    hans.luke().send(new Text(1, "last words"));
    hans.luke().send(new Bye(Bye.Reason.STOPPED));
    Console.PrintWithReceipt showing = hans.expectShowing("luke(private): last words");
    // The bye has been read, and the chat waits for the text to be shown before it ends.
    hans.parent().expectNoMessage(Duration.ofMillis(200));
    hans.luke().expectNoFrame();

    showing.replyTo().tell(new Console.Receipt(showing.ticket()));
    hans.luke().expectFrame(new Ack(1));
    hans.luke().expectClosed();
    expectEndedAndRelease(hans.parent(), hans.chat(), "luke stopped private messaging with you");
  }

  @Test
  void shouldAcknowledgeTheTextsItIsShowingBeforeItsOwnBye() {
    Showing hans = openedByHansOnAConsoleProbe();
    hans.luke().send(new Text(1, "are you there?"));
    Console.PrintWithReceipt showing = hans.expectShowing("luke(private): are you there?");

    hans.chat().tell(new PrivateChat.Stop(Bye.Reason.LOGGED_OUT));
    // No bye before the acknowledgement: luke reads on only until he has read the bye.
    hans.luke().expectNoFrame();
    showing.replyTo().tell(new Console.Receipt(showing.ticket()));
    hans.luke().expectFrame(new Ack(1));
    hans.luke().expectFrame(new Bye(Bye.Reason.LOGGED_OUT));
    hans.luke().close();
    expectEndedAndRelease(hans.parent(), hans.chat());
  }

  @Test
  void shouldCountAcknowledgementsThatComeAfterItsBye() {
    Opened hans = openedByHans(settings);
    RawPeer<PeerMessage, PeerMessage> luke = hans.luke();
    hans.chat().tell(new PrivateChat.Send("seen"));
    hans.chat().tell(new PrivateChat.Send("unseen"));
    luke.expectFrame(new Text(1, "seen"));
    luke.expectFrame(new Text(2, "unseen"));

    hans.chat().tell(new PrivateChat.Stop(Bye.Reason.STOPPED));
    hans.lines().expectMessage("Stopped private messaging with luke");
    luke.expectFrame(new Bye(Bye.Reason.STOPPED));
    // luke had shown the first text before he read the bye; the second came too late.
    luke.send(new Ack(1));
    luke.close();
    luke.expectClosed();
    expectEndedAndRelease(
        hans.parent(),
        hans.chat(),
        "Error. Private message to luke could not be delivered: unseen");
    hans.lines().expectNoMessage(Duration.ofMillis(100));
  }

  @Test
  void shouldCloseAPeerThatNeverClosesAfterItsByeOnceTheCloseTimeoutPasses() {
    Opened hans = openedByHans(settings);
    hans.chat().tell(new PrivateChat.Send("unanswered"));
    hans.luke().expectFrame(new Text(1, "unanswered"));
    hans.chat().tell(new PrivateChat.Stop(Bye.Reason.STOPPED));
    hans.luke().expectFrame(new Bye(Bye.Reason.STOPPED));
    hans.parent().expectNoMessage(Duration.ofMillis(100));

    manualTime.timePasses(settings.closeTimeout());
    hans.luke().expectClosed();
    expectEndedAndRelease(
        hans.parent(),
        hans.chat(),
        "Error. Private message to luke could not be delivered: unanswered");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "LOGGED_OUT|Private messaging with luke closed: luke logged out",
        "TIMED_OUT|Private messaging with luke closed: luke timed out",
        "DISCONNECTED|Private messaging with luke closed: connection lost",
        "STOPPED|luke stopped private messaging with you"
      })
  void shouldSayWhyThePeerEndedTheChat(Bye.Reason reason, String line) {
    Opened hans = openedByHans(settings);
    hans.luke().send(new Bye(reason));
    hans.luke().expectClosed();
    expectEndedAndRelease(hans.parent(), hans.chat(), line);
  }

  @Test
  void shouldEndTheChatWhenThePeerSendsAnOverlongLineAndOpenANewOneAfterwards() {
    Opened hans = openedByHans(settings);
    RawPeer<PeerMessage, PeerMessage> luke = hans.luke();
    hans.chat().tell(new PrivateChat.Send("unanswered"));
    luke.expectFrame(new Text(1, "unanswered"));

    luke.send(new Text(1, "x".repeat(settings.maxFrameBytes())));
    // Nothing after the line could be read: the chat ends, and both sides are told why.
    luke.expectFrame(new Bye(Bye.Reason.PROTOCOL_VIOLATION));
    luke.expectClosed();
    expectEndedAndRelease(
        hans.parent(),
        hans.chat(),
        "Private messaging with luke closed: luke sent a line longer than 65536 bytes",
        "Error. Private message to luke could not be delivered: unanswered");
    hans.lines().expectNoMessage(Duration.ofMillis(100));

    // A new chat with the same peer works as ever.
    Opened again = openedByHans(settings);
    again.chat().tell(new PrivateChat.Send("hello again"));
    again.luke().expectFrame(new Text(1, "hello again"));
    again.luke().send(new Text(1, "loud and clear"));
    again.lines().expectMessage("luke(private): loud and clear");
    again.luke().expectFrame(new Ack(1));
  }

  @Test
  void shouldEndTheChatWithAProtocolViolationForAMalformedFrame() {
    Opened hans = openedByHans(settings);
    hans.luke().send(new Text(1, "before"));
    hans.lines().expectMessage("luke(private): before");
    hans.luke().expectFrame(new Ack(1));
    // A frame of a type this version does not know is skipped; a malformed one ends the chat.
    hans.luke().sendRaw("{\"type\":\"private-typing\"}");
    hans.luke().sendRaw("{\"type\":\"private\",\"seq\":\"two\",\"text\":\"x\"}");
    hans.luke().expectFrame(new Bye(Bye.Reason.PROTOCOL_VIOLATION));
    hans.luke().expectClosed();
    expectEndedAndRelease(
        hans.parent(), hans.chat(), "Private messaging with luke closed: protocol error");
  }

  @Test
  void shouldReportATextSentAsTheChatEndedInsteadOfLosingIt() {
    Opened hans = openedByHans(settings);
    hans.luke().send(new Bye(Bye.Reason.LOGGED_OUT));
    hans.parent()
        .expectMessage(
            new PrivateChat.Ended(
                hans.chat(), List.of("Private messaging with luke closed: luke logged out")));
    // Routed here before the parent learnt of the end: answered, not dropped.
    hans.chat().tell(new PrivateChat.Send("too late"));
    hans.lines().expectMessage("Error. Private message to luke could not be delivered: too late");
    hans.chat().tell(PrivateChat.Release.INSTANCE);
    hans.parent().expectTerminated(hans.chat());
  }

  @Test
  void shouldReportUnacknowledgedTextsWhenTheConnectionDrops() {
    Opened hans = openedByHans(settings);
    RawPeer<PeerMessage, PeerMessage> luke = hans.luke();

    hans.chat().tell(new PrivateChat.Send("delivered"));
    luke.expectFrame(new Text(1, "delivered"));
    luke.send(new Ack(1));
    // A dropped connection discards what the peer has not read yet. Hans answering a text sent
    // after the ack shows that he has read the ack.
    luke.send(new Text(1, "got it"));
    hans.lines().expectMessage("luke(private): got it");
    luke.expectFrame(new Ack(1));
    hans.chat().tell(new PrivateChat.Send("lost one"));
    hans.chat().tell(new PrivateChat.Send("lost two"));
    luke.expectFrame(new Text(2, "lost one"));
    luke.expectFrame(new Text(3, "lost two"));
    luke.drop();

    expectEndedAndRelease(
        hans.parent(),
        hans.chat(),
        "Private messaging with luke closed: connection lost",
        "Error. Private message to luke could not be delivered: lost one",
        "Error. Private message to luke could not be delivered: lost two");
  }

  @Test
  void shouldSayGoodbyeWithoutALineWhenClosedForLogout() {
    Opened hans = openedByHans(settings);
    hans.chat().tell(new PrivateChat.Stop(Bye.Reason.LOGGED_OUT));
    hans.luke().expectFrame(new Bye(Bye.Reason.LOGGED_OUT));
    hans.luke().close();
    hans.luke().expectClosed();
    expectEndedAndRelease(hans.parent(), hans.chat());
    hans.lines().expectNoMessage(Duration.ofMillis(100));
  }

  @Test
  void shouldRefuseTextsBeyondTheUnacknowledgedBound() {
    ClientSettings tight = TestSettings.with("max-unacked-private = 2");
    Opened hans = openedByHans(tight);
    hans.chat().tell(new PrivateChat.Send("one"));
    hans.chat().tell(new PrivateChat.Send("two"));
    hans.chat().tell(new PrivateChat.Send("three"));
    hans.lines()
        .expectMessage(
            "Error. Too many private messages to luke are awaiting delivery; message not sent");
    hans.luke().expectFrame(new Text(1, "one"));
    hans.luke().expectFrame(new Text(2, "two"));
  }

  @Test
  void shouldGiveUpOnAPeerThatNeverAnswersTheHello() {
    TestListener listener = TestListener.bind(testKit);
    TestProbe<String> lines = lines();
    TestProbe<PrivateChat.Notification> parent = parent();
    ActorRef<PrivateChat.Command> chat =
        testKit.spawn(
            PrivateChat.connect(
                settings, console(lines), HANS, "hans", toLuke(listener.port()), parent.ref()));
    RawPeer<PeerMessage, PeerMessage> luke = acceptRaw(listener);
    // The hello proves the chat has started, and with it the handshake timer.
    luke.expectFrame(new Hello(Protocol.VERSION, "hans", TOKEN));
    chat.tell(new PrivateChat.Send("too early"));

    manualTime.timePasses(settings.peerHandshakeTimeout());
    luke.expectClosed();
    expectEndedAndRelease(
        parent,
        chat,
        "Error. Could not reach luke for private messaging",
        "Error. Private message to luke could not be delivered: too early");
    listener.unbind();
  }

  @Test
  void shouldGiveUpOnAListenerThatNeverAnswersTheHandshake() throws IOException {
    try (ServerSocket silent = new ServerSocket(0, 1, InetAddress.getByName(LOOPBACK))) {
      TestProbe<String> lines = lines();
      TestProbe<PrivateChat.Notification> parent = parent();
      ActorRef<PrivateChat.Command> chat =
          testKit.spawn(
              PrivateChat.connect(
                  settings,
                  console(lines),
                  HANS,
                  "hans",
                  toLuke(silent.getLocalPort()),
                  parent.ref()));
      try (Socket connection = silent.accept()) {
        connection.setSoTimeout(SOCKET_TIMEOUT_MILLIS);
        InputStream in = connection.getInputStream();
        // The ClientHello proves the chat has started, and with it the handshake timer.
        assertTrue(in.read() >= 0, "no ClientHello");

        manualTime.timePasses(settings.peerHandshakeTimeout());
        expectEndedAndRelease(parent, chat, "Error. Could not reach luke for private messaging");
        // The rest of the ClientHello, and then the end: TLS itself would have waited for ever.
        byte[] buffer = new byte[BUFFER_BYTES];
        while (in.read(buffer) >= 0) {
          // Not of interest.
        }
      }
    }
  }

  @Test
  void shouldCloseAnAcceptedConnectionThatStaysSilent() {
    TestListener listener = TestListener.bind(testKit);
    RawPeer<PeerMessage, PeerMessage> silent = connectRaw(listener);
    TestProbe<String> lines = lines();
    TestProbe<StartSignal.Started> started = testKit.createTestProbe();
    TestProbe<PrivateChat.Notification> parent = parent();
    ActorRef<PrivateChat.Command> chat =
        testKit.spawn(
            StartSignal.signalling(
                PrivateChat.Command.class,
                started.ref(),
                PrivateChat.accept(
                    settings,
                    console(lines),
                    LUKE,
                    "luke",
                    listener.expectConnection(),
                    parent.ref())));
    started.expectMessage(StartSignal.Started.INSTANCE);

    manualTime.expectNoMessageFor(settings.peerHandshakeTimeout().minusMillis(1), parent);
    manualTime.timePasses(Duration.ofMillis(1));
    silent.expectClosed();
    expectEndedAndRelease(parent, chat);
    lines.expectNoMessage(Duration.ofMillis(100));
    listener.unbind();
  }

  @Test
  void shouldSayWhenThePeerCannotBeReached() throws IOException {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    TestProbe<String> lines = lines();
    TestProbe<PrivateChat.Notification> parent = parent();
    ActorRef<PrivateChat.Command> chat =
        testKit.spawn(
            PrivateChat.connect(
                settings, console(lines), HANS, "hans", toLuke(closedPort), parent.ref()));
    expectEndedAndRelease(parent, chat, "Error. Could not reach luke for private messaging");
  }

  @Test
  void shouldRefuseAPeerThatAnswersUnderAnotherName() {
    TestListener listener = TestListener.bind(testKit);
    TestProbe<String> lines = lines();
    TestProbe<PrivateChat.Notification> parent = parent();
    ActorRef<PrivateChat.Command> chat =
        testKit.spawn(
            PrivateChat.connect(
                settings, console(lines), HANS, "hans", toLuke(listener.port()), parent.ref()));
    RawPeer<PeerMessage, PeerMessage> impostor = acceptRaw(listener);
    impostor.expectFrame(new Hello(Protocol.VERSION, "hans", TOKEN));
    impostor.send(new Hello(Protocol.VERSION, "vader"));
    impostor.expectFrame(new Bye(Bye.Reason.PROTOCOL_VIOLATION));
    impostor.expectClosed();
    expectEndedAndRelease(parent, chat, "Error. Could not reach luke for private messaging");
    listener.unbind();
  }

  @Test
  void shouldSayAlreadyEnabledWhenThePeerHasAChatWithUsAlready() {
    TestListener listener = TestListener.bind(testKit);
    TestProbe<String> lines = lines();
    TestProbe<PrivateChat.Notification> parent = parent();
    ActorRef<PrivateChat.Command> chat =
        testKit.spawn(
            PrivateChat.connect(
                settings, console(lines), HANS, "hans", toLuke(listener.port()), parent.ref()));
    RawPeer<PeerMessage, PeerMessage> luke = acceptRaw(listener);
    luke.expectFrame(new Hello(Protocol.VERSION, "hans", TOKEN));
    luke.send(new Bye(Bye.Reason.ALREADY_CHATTING));
    expectEndedAndRelease(parent, chat, "Error. Private messaging with luke is already enabled");
    listener.unbind();
  }
}
