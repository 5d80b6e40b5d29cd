package dev.parley.server.http;

import akka.NotUsed;
import akka.http.javadsl.model.ws.Message;
import akka.http.javadsl.model.ws.TextMessage;
import akka.stream.Materializer;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Sink;
import akka.util.ByteString;
import dev.parley.protocol.ClientMessage;
import dev.parley.protocol.Framer;
import dev.parley.protocol.Inbound;
import dev.parley.protocol.JsonCodec;
import dev.parley.protocol.WireFlows;
import dev.parley.server.session.SessionPort;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The protocol's framing over WebSocket: one JSON frame per text message, as {@code
 * docs/protocol.md} describes for TCP lines. The counterpart of {@link
 * dev.parley.protocol.WireFlows} for this transport, through the same {@link SessionPort} as a TCP
 * connection.
 *
 * <p>Inbound: a text message (strict, or streamed and collected) is decoded as one line would be; a
 * message longer than the frame limit (in UTF-8 bytes) yields {@link Inbound.Oversized}, the last
 * element that reaches the session, as an overlong line does; a binary message is not a frame
 * ({@link Inbound.Malformed}). Outbound: each frame is one text message, from the port's buffer,
 * which fails the connection when the client leaves too much unread.
 */
public final class WebSocketFrames {

  private WebSocketFrames() {}

  /**
   * Text messages to decoded frames, for {@link #port}.
   *
   * @param maxFrameBytes longest accepted message, in UTF-8 bytes
   */
  public static Flow<Message, Inbound<ClientMessage>, NotUsed> decoder(
      int maxFrameBytes, Materializer materializer) {
    return Flow.<Message>create()
        .mapAsync(1, message -> decode(message, maxFrameBytes, materializer));
  }

  /**
   * The session's end of a WebSocket: each decoded message is one frame, and each frame written is
   * one element (a line, for {@link #encoder}), bounded in bytes as the TCP transport is: a login
   * that hands the client a full delivery window (500 messages) at once must fit, and a client that
   * does not read must still be cut off.
   */
  public static SessionPort<Inbound<ClientMessage>> port(long maxBufferedBytes) {
    return new SessionPort<>(
        OneFramePerMessage::new, maxBufferedBytes, WireFlows.ONE_FRAME_PER_WRITE);
  }

  /** Lines to text messages. */
  public static Flow<ByteString, Message, NotUsed> encoder() {
    // The line without its line feed: the message itself delimits the frame.
    return Flow.<ByteString>create()
        .map(line -> (Message) TextMessage.create(line.take(line.length() - 1).utf8String()));
  }

  /**
   * Frames decoded already, one per message. As with an overlong line, nothing after an oversized
   * message reaches the session, which says goodbye and closes. The messages are still read and
   * dropped rather than cancelled: Akka HTTP closes a WebSocket whose handler cancels its input at
   * once, before the goodbye is out.
   */
  private static final class OneFramePerMessage
      implements Framer<Inbound<ClientMessage>, ClientMessage> {

    private Inbound<ClientMessage> frame;
    private boolean discarding;

    @Override
    public void offer(Inbound<ClientMessage> input) {
      if (!discarding) {
        frame = input;
      }
    }

    @Override
    public Inbound<ClientMessage> next() {
      Inbound<ClientMessage> next = frame;
      frame = null;
      discarding |= next instanceof Inbound.Oversized;
      return next;
    }

    @Override
    public void end() {}
  }

  private static CompletionStage<Inbound<ClientMessage>> decode(
      Message message, int maxFrameBytes, Materializer materializer) {
    if (!message.isText()) {
      // Read and dropped, so that the connection goes on to the next message.
      return message
          .asBinaryMessage()
          .getStreamedData()
          .runWith(Sink.ignore(), materializer)
          .thenApply(done -> new Inbound.Malformed<>("binary message: frames are text messages"));
    }
    TextMessage text = message.asTextMessage();
    if (text.isStrict()) {
      return CompletableFuture.completedFuture(decode(text.getStrictText(), maxFrameBytes));
    }
    // Collected, but never much beyond the limit: once over it, the rest is read and dropped.
    return text.getStreamedText()
        .runFold(
            new StringBuilder(),
            (collected, part) ->
                collected.length() > maxFrameBytes ? collected : collected.append(part),
            materializer)
        .thenApply(collected -> decode(collected.toString(), maxFrameBytes));
  }

  private static Inbound<ClientMessage> decode(String text, int maxFrameBytes) {
    // A char is at least one UTF-8 byte: most messages are judged without encoding them.
    if (text.length() > maxFrameBytes
        || text.getBytes(StandardCharsets.UTF_8).length > maxFrameBytes) {
      return new Inbound.Oversized<>(maxFrameBytes);
    }
    return JsonCodec.CLIENT.decode(text);
  }
}
