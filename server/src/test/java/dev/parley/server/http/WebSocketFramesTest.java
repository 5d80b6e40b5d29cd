package dev.parley.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.http.javadsl.model.ws.BinaryMessage;
import akka.http.javadsl.model.ws.Message;
import akka.http.javadsl.model.ws.TextMessage;
import akka.japi.Pair;
import akka.stream.Attributes;
import akka.stream.BufferOverflowException;
import akka.stream.Materializer;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Keep;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.stream.testkit.TestPublisher;
import akka.stream.testkit.TestSubscriber;
import akka.stream.testkit.javadsl.TestSink;
import akka.stream.testkit.javadsl.TestSource;
import akka.util.ByteString;
import dev.parley.protocol.ClientMessage;
import dev.parley.protocol.Inbound;
import dev.parley.protocol.ServerMessage;
import dev.parley.server.session.Session;
import dev.parley.server.session.SessionPort;
import dev.parley.server.testing.TestKits;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * One JSON frame per text message, with the frame limit, as lines are over TCP, through the same
 * session port, with a probe in the session's place.
 */
class WebSocketFramesTest {

  private static final ActorTestKit TEST_KIT = TestKits.create();
  private static final Materializer MATERIALIZER = Materializer.matFromSystem(TEST_KIT.system());
  private static final int LIMIT = 64;
  private static final long BUFFER_BYTES = 64 * 1024;

  /** Frames handed over at once, as a login hands over a full delivery window. */
  private static final int WINDOW = 500;

  private static final Duration PATIENCE = Duration.ofSeconds(5);

  @AfterAll
  static void stop() {
    TEST_KIT.shutdownTestKit();
  }

  /** A probe in the session's place; one per test (JUnit makes an instance per test). */
  private final TestProbe<Session.Command> session =
      TEST_KIT.createTestProbe(Session.Command.class);

  /** The client's messages in, the session's messages out, as the listener joins them. */
  private record Connection(
      TestPublisher.Probe<Message> client, TestSubscriber.Probe<Message> written) {}

  private Connection connect() {
    var system = TEST_KIT.system().classicSystem();
    Pair<TestPublisher.Probe<Message>, TestSubscriber.Probe<Message>> run =
        TestSource.<Message>probe(system)
            .via(WebSocketFrames.decoder(LIMIT, MATERIALIZER))
            .via(Flow.fromGraph(WebSocketFrames.port(BUFFER_BYTES)))
            .via(WebSocketFrames.encoder())
            .toMat(TestSink.<Message>probe(system), Keep.both())
            .addAttributes(Attributes.apply(new SessionPort.Target(session.ref())))
            .run(MATERIALIZER);
    return new Connection(run.first(), run.second());
  }

  private Session.StreamStarted started() {
    return session.expectMessageClass(Session.StreamStarted.class, PATIENCE);
  }

  private static List<Inbound<ClientMessage>> decode(Message... messages) throws Exception {
    return Source.from(List.of(messages))
        .via(WebSocketFrames.decoder(LIMIT, MATERIALIZER))
        .runWith(Sink.seq(), MATERIALIZER)
        .toCompletableFuture()
        .get(5, TimeUnit.SECONDS);
  }

  @Test
  void shouldDecodeStrictAndStreamedTextMessagesOneFrameEach() throws Exception {
    List<Inbound<ClientMessage>> frames =
        decode(
            TextMessage.create("{\"type\":\"whoelse\"}"),
            TextMessage.create(Source.from(List.of("{\"type\":", "\"whoelse\"}"))));
    assertEquals(2, frames.size());
    frames.forEach(frame -> assertInstanceOf(Inbound.Frame.class, frame));
  }

  @Test
  void shouldDecodeAStrictOrStreamedMessageOverTheLimitAsOversized() throws Exception {
    String tooLong = "{\"type\":\"broadcast\",\"text\":\"" + "x".repeat(LIMIT) + "\"}";
    assertEquals(
        List.of(new Inbound.Oversized<ClientMessage>(LIMIT)), decode(TextMessage.create(tooLong)));
    assertEquals(
        List.of(new Inbound.Oversized<ClientMessage>(LIMIT)),
        decode(TextMessage.create(Source.from(List.of(tooLong, tooLong, tooLong)))));
  }

  @Test
  void shouldHandTheSessionNothingAfterAnOversizedMessageButReadOn() {
    String tooLong = "{\"type\":\"broadcast\",\"text\":\"" + "x".repeat(LIMIT) + "\"}";
    Connection connection = connect();
    ActorRef<Session.StreamAck> acks = started().ackTo();

    connection.client().sendNext(TextMessage.create(tooLong));
    acks.tell(Session.StreamAck.INSTANCE);
    assertEquals(
        new Inbound.Oversized<ClientMessage>(LIMIT),
        session.expectMessageClass(Session.FrameReceived.class, PATIENCE).inbound());
    acks.tell(Session.StreamAck.INSTANCE);
    // Read and dropped, not cancelled: the session says goodbye first.
    connection.client().sendNext(TextMessage.create("{\"type\":\"whoelse\"}"));
    connection.client().sendNext(TextMessage.create("{\"type\":\"whoelse\"}"));
    session.expectNoMessage(Duration.ofMillis(200));
  }

  @Test
  void shouldCountTheLimitInUtf8Bytes() throws Exception {
    // 30 chars, 90 bytes.
    String wide = "{\"type\":\"broadcast\",\"text\":\"" + "\u20ac".repeat(30) + "\"}";
    assertEquals(
        List.of(new Inbound.Oversized<ClientMessage>(LIMIT)), decode(TextMessage.create(wide)));
  }

  @Test
  void shouldAnswerABinaryMessageAsMalformedAndGoOn() throws Exception {
    List<Inbound<ClientMessage>> frames =
        decode(
            BinaryMessage.create(ByteString.fromString("{\"type\":\"whoelse\"}")),
            TextMessage.create("{\"type\":\"whoelse\"}"));
    assertEquals(2, frames.size());
    assertInstanceOf(Inbound.Malformed.class, frames.get(0));
    assertInstanceOf(Inbound.Frame.class, frames.get(1));
  }

  @Test
  void shouldSendEachFrameAsOneTextMessage() {
    Connection connection = connect();
    ActorRef<ServerMessage> outbound = started().outbound();

    outbound.tell(new ServerMessage.BroadcastReceived("bob", "hi"));
    outbound.tell(new ServerMessage.Goodbye(ServerMessage.Goodbye.Reason.SERVER_BUSY));

    connection.written().request(3);
    assertEquals(
        "{\"type\":\"broadcast-received\",\"from\":\"bob\",\"text\":\"hi\"}",
        connection.written().expectNext().asTextMessage().getStrictText());
    String goodbye = connection.written().expectNext().asTextMessage().getStrictText();
    assertTrue(goodbye.contains("\"goodbye\"") && !goodbye.endsWith("\n"), goodbye);
    connection.written().expectComplete();
  }

  @Test
  void shouldHoldManySmallFramesForAReaderThatHasNotReadYet() {
    Connection connection = connect();
    ActorRef<ServerMessage> outbound = started().outbound();
    TestSubscriber.Probe<Message> reader = connection.written();

    // Nothing read while all of them are handed over: bounded in bytes, they fit.
    reader.ensureSubscription();
    for (int seq = 1; seq <= WINDOW; seq++) {
      outbound.tell(new ServerMessage.MessageReceived("bob", "hi", seq, null));
    }
    session.expectNoMessage(Duration.ofMillis(100));
    reader.request(WINDOW);
    for (int seq = 1; seq <= WINDOW; seq++) {
      String text = reader.expectNext().asTextMessage().getStrictText();
      assertEquals(
          "{\"type\":\"message-received\",\"from\":\"bob\",\"text\":\"hi\",\"seq\":" + seq + "}",
          text);
    }
  }

  @Test
  void shouldCutOffAReaderThatLeavesMoreBytesUnreadThanTheBuffer() {
    Connection connection = connect();
    ActorRef<ServerMessage> outbound = started().outbound();
    String text = "x".repeat(1024);

    connection.written().ensureSubscription();
    for (long sent = 0; sent <= BUFFER_BYTES; sent += text.length()) {
      outbound.tell(new ServerMessage.BroadcastReceived("bob", text));
    }

    assertInstanceOf(
        BufferOverflowException.class,
        session.expectMessageClass(Session.StreamFailed.class, PATIENCE).cause());
    assertInstanceOf(BufferOverflowException.class, connection.written().expectError());
  }
}
