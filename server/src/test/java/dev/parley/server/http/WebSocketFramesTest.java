package dev.parley.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.http.javadsl.model.ws.BinaryMessage;
import akka.http.javadsl.model.ws.Message;
import akka.http.javadsl.model.ws.TextMessage;
import akka.stream.BufferOverflowException;
import akka.stream.Materializer;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.stream.testkit.TestSubscriber;
import akka.stream.testkit.javadsl.TestSink;
import akka.util.ByteString;
import dev.parley.protocol.ClientMessage;
import dev.parley.protocol.Inbound;
import dev.parley.protocol.ServerMessage;
import dev.parley.server.testing.TestKits;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** One JSON frame per text message, with the frame limit, as lines are over TCP. */
class WebSocketFramesTest {

  private static final ActorTestKit TEST_KIT = TestKits.create();
  private static final Materializer MATERIALIZER = Materializer.matFromSystem(TEST_KIT.system());
  private static final int LIMIT = 64;
  private static final long BUFFER_BYTES = 64 * 1024;

  /** Frames handed over at once, as a login hands over a full delivery window. */
  private static final int WINDOW = 500;

  @AfterAll
  static void stop() {
    TEST_KIT.shutdownTestKit();
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
  void shouldEndWithOversizedForAStrictOrStreamedMessageOverTheLimit() throws Exception {
    String tooLong = "{\"type\":\"broadcast\",\"text\":\"" + "x".repeat(LIMIT) + "\"}";
    List<Inbound<ClientMessage>> strict =
        decode(TextMessage.create(tooLong), TextMessage.create("{\"type\":\"whoelse\"}"));
    assertEquals(List.of(new Inbound.Oversized<ClientMessage>(LIMIT)), strict);
    List<Inbound<ClientMessage>> streamed =
        decode(
            TextMessage.create(Source.from(List.of(tooLong, tooLong, tooLong))),
            TextMessage.create("{\"type\":\"whoelse\"}"));
    assertEquals(List.of(new Inbound.Oversized<ClientMessage>(LIMIT)), streamed);
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
  void shouldSendEachFrameAsOneTextMessage() throws Exception {
    List<Message> messages =
        Source.single(
                (ServerMessage) new ServerMessage.Goodbye(ServerMessage.Goodbye.Reason.SERVER_BUSY))
            .via(WebSocketFrames.encoder(BUFFER_BYTES))
            .runWith(Sink.seq(), MATERIALIZER)
            .toCompletableFuture()
            .get(5, TimeUnit.SECONDS);
    assertEquals(1, messages.size());
    String text = messages.get(0).asTextMessage().getStrictText();
    assertTrue(text.contains("\"goodbye\"") && !text.endsWith("\n"), text);
  }

  @Test
  void shouldHoldManySmallFramesForAReaderThatHasNotReadYet() {
    TestSubscriber.Probe<Message> reader =
        Source.range(1, WINDOW)
            .map(seq -> (ServerMessage) new ServerMessage.MessageReceived("bob", "hi", seq, null))
            .via(WebSocketFrames.encoder(BUFFER_BYTES))
            .runWith(TestSink.probe(TEST_KIT.system().classicSystem()), MATERIALIZER);

    // Nothing read while all of them are handed over: bounded in bytes, they fit.
    reader.ensureSubscription();
    reader.expectNoMessage(Duration.ofMillis(100));
    reader.request(WINDOW);
    for (int seq = 1; seq <= WINDOW; seq++) {
      String text = reader.expectNext().asTextMessage().getStrictText();
      assertEquals(
          "{\"type\":\"message-received\",\"from\":\"bob\",\"text\":\"hi\",\"seq\":" + seq + "}",
          text);
    }
    reader.expectComplete();
  }

  @Test
  void shouldCutOffAReaderThatLeavesMoreBytesUnreadThanTheBuffer() {
    String text = "x".repeat(1024);
    TestSubscriber.Probe<Message> reader =
        Source.repeat((ServerMessage) new ServerMessage.BroadcastReceived("bob", text))
            .via(WebSocketFrames.encoder(BUFFER_BYTES))
            .runWith(TestSink.probe(TEST_KIT.system().classicSystem()), MATERIALIZER);

    reader.ensureSubscription();
    assertInstanceOf(BufferOverflowException.class, reader.expectError());
  }
}
