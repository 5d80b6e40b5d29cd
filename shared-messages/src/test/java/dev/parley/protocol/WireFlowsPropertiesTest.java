package dev.parley.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.util.ByteString;
import akka.util.ByteStringBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The framing over arbitrary byte streams, against a plain model of its rules ({@link #expected}):
 * whatever the chunks the bytes arrive in, the decoder yields exactly the frames the model finds,
 * an oversized line is reported once, last, after every frame before it, and no input makes the
 * stage fail. Frames of every family with arbitrary text, encoded and cut at random, come back
 * equal; so do the largest frames a server sends for a text at the text limit.
 */
final class WireFlowsPropertiesTest {

  /**
   * Initialises SLF4J before the actor system starts. Declared first: fields initialise in order.
   */
  private static final Logger LOG = LoggerFactory.getLogger(WireFlowsPropertiesTest.class);

  private static final ActorTestKit TEST_KIT = ActorTestKit.create();

  /** A stream that does not complete within this has hung: a failure in itself. */
  private static final long WAIT_SECONDS = 10;

  @AfterAll
  static void shutdown() {
    TEST_KIT.shutdownTestKit();
    LOG.debug("test kit shut down");
  }

  @Test
  void shouldRoundTripArbitraryFramesCutIntoArbitraryChunks() {
    Property.forAll(
        "arbitrary frames survive encoding, framing in any chunks and decoding",
        150,
        g -> {
          assertFramesSurvive(g, JsonCodec.CLIENT, ArbitraryFrames::client);
          assertFramesSurvive(g, JsonCodec.SERVER, ArbitraryFrames::server);
          assertFramesSurvive(g, JsonCodec.PEER, ArbitraryFrames::peer);
        });
  }

  @Test
  void shouldRoundTripThroughTheWholeStack() {
    // The outbound buffer in front joins frames into writes of its own choosing; the bytes are
    // then cut again at random. Whatever the batching, the frames come back in order.
    Property.forAll(
        "frames survive the encoder, random re-chunking and the decoder",
        40,
        g -> {
          List<ServerMessage> frames = new ArrayList<>();
          int count = g.between(1, 40);
          for (int i = 0; i < count; i++) {
            frames.add(ArbitraryFrames.server(g));
          }
          long rechunkSeed = g.longAtLeast(0);
          List<Inbound<ServerMessage>> decoded =
              await(
                  Source.from(frames)
                      .via(WireFlows.encoder(JsonCodec.SERVER, Long.MAX_VALUE))
                      .mapConcat(rechunker(rechunkSeed))
                      .via(WireFlows.decoder(JsonCodec.SERVER, Protocol.MAX_FRAME_BYTES))
                      .runWith(Sink.seq(), TEST_KIT.system()));
          assertEquals(frames.stream().map(WireFlowsPropertiesTest::frame).toList(), decoded);
        });
  }

  @Test
  void shouldDecodeWhatTheModelFindsWhateverTheChunks() {
    Property.forAll(
        "any chunking of any stream yields the model's frames",
        400,
        g -> {
          int limit = g.chance(0.1) ? Protocol.MAX_FRAME_BYTES : g.between(16, 400);
          ByteString stream = lines(g, limit);
          List<Inbound<ClientMessage>> expected = expected(JsonCodec.CLIENT, stream, limit);
          List<ByteString> chunks = g.chunks(stream);
          List<Inbound<ClientMessage>> decoded = decode(JsonCodec.CLIENT, limit, chunks);
          assertEquals(
              expected,
              decoded,
              () -> "limit " + limit + ", " + chunks.size() + " chunks of " + Gen.show(stream));
          assertOversizedOnlyLast(decoded);
        });
  }

  @Test
  void shouldNeverFailOnRandomBytes() {
    Property.forAll(
        "random bytes never fail the stage",
        300,
        g -> {
          int limit = g.between(1, 300);
          ByteString stream = randomBytes(g);
          List<ByteString> chunks = g.chunks(stream);
          // decode() fails the property if the stream fails or does not complete.
          List<Inbound<PeerMessage>> decoded = decode(JsonCodec.PEER, limit, chunks);
          assertOversizedOnlyLast(decoded);
          assertEquals(expected(JsonCodec.PEER, stream, limit), decoded);
        });
  }

  @Test
  void shouldCarryATextAtTheLimitInEveryFrameThatHoldsIt() {
    // The frames with the most besides their text, each other field at its own limit: a text the
    // server accepts must fit all of them, and every receiver's framing must take them.
    Property.forAll(
        "a text within MAX_TEXT_BYTES fits every frame that carries it",
        60,
        g -> {
          String text = g.nearLimitText(Protocol.MAX_TEXT_BYTES);
          if (WireText.refusal(text, Protocol.MAX_TEXT_BYTES).isPresent()) {
            return;
          }
          String name = g.longestToken(Protocol.MAX_NAME_LENGTH);
          String id = g.longestToken(ClientMessage.SendMessage.MAX_ID_LENGTH);
          assertEquals(3 * Protocol.MAX_NAME_LENGTH, WireText.encodedLength(name));
          assertFitsAndSurvives(
              JsonCodec.SERVER,
              List.of(
                  new ServerMessage.MessageReceived(name, text, Long.MAX_VALUE, id),
                  new ServerMessage.BroadcastReceived(name, text)));
          if (!text.isBlank()) {
            assertFitsAndSurvives(
                JsonCodec.CLIENT,
                List.of(
                    new ClientMessage.SendMessage(name, text, id),
                    new ClientMessage.Broadcast(text)));
          }
          assertFitsAndSurvives(
              JsonCodec.PEER, List.of(new PeerMessage.Text(Long.MAX_VALUE, text)));
        });
  }

  // ---- the model ------------------------------------------------------------------------------

  /**
   * The framing rules of {@code docs/protocol.md}, section 2, written as plainly as possible: lines
   * end at a line feed (the last may have none); a line longer than the limit, its carriage return
   * included, ends everything with one {@link Inbound.Oversized}; one carriage return before the
   * line feed is dropped; lines of only spaces and tabs are skipped; the rest is decoded.
   */
  static <T> List<Inbound<T>> expected(JsonCodec<T> codec, ByteString stream, int limit) {
    byte[] bytes = stream.toArray();
    List<Inbound<T>> frames = new ArrayList<>();
    int start = 0;
    while (start < bytes.length) {
      int lineFeed = start;
      while (lineFeed < bytes.length && bytes[lineFeed] != '\n') {
        lineFeed++;
      }
      int length = lineFeed - start;
      if (length > limit) {
        frames.add(new Inbound.Oversized<>(limit));
        return frames;
      }
      if (length > 0 && bytes[start + length - 1] == '\r') {
        length--;
      }
      if (!onlySpacesAndTabs(bytes, start, length)) {
        frames.add(
            codec.decode(java.util.Arrays.copyOfRange(bytes, start, start + length), 0, length));
      }
      start = lineFeed + 1;
    }
    return frames;
  }

  private static boolean onlySpacesAndTabs(byte[] bytes, int from, int length) {
    for (int i = from; i < from + length; i++) {
      if (bytes[i] != ' ' && bytes[i] != '\t') {
        return false;
      }
    }
    return true;
  }

  // ---- generators -----------------------------------------------------------------------------

  /**
   * A stream of lines for a framing with limit {@code limit}: frames, garbage, blank lines, lines
   * right at and past the limit, carriage returns in and at the end of lines, and sometimes a last
   * line without a line feed.
   */
  private static ByteString lines(Gen g, int limit) {
    ByteStringBuilder stream = new ByteStringBuilder();
    int count = g.size(25);
    for (int i = 0; i < count; i++) {
      byte[] line =
          switch (g.between(0, 9)) {
            case 0, 1, 2 -> withoutLineFeed(JsonCodec.CLIENT.encode(ArbitraryFrames.client(g)));
            case 3, 4 -> HostileJson.line(g);
            case 5 -> HostileJson.utf8(g.blank());
            case 6 -> padded(g, limit + g.between(-2, 1));
            case 7 -> padded(g, limit + g.between(1, 2 * limit));
            case 8 -> HostileJson.utf8(g.text(40) + "\r" + g.text(10));
            default -> HostileJson.utf8("{\"type\":\"whoelse\"}");
          };
      // No raw line feed inside a line: the line is what lies between two.
      for (byte b : line) {
        if (b != '\n') {
          stream.putByte(b);
        }
      }
      boolean last = i == count - 1;
      if (!last || g.chance(0.7)) {
        stream.putBytes(HostileJson.utf8(g.chance(0.3) ? "\r\n" : "\n"));
      }
    }
    return stream.result();
  }

  /** A username frame of exactly {@code length} bytes (or just garbage, if too short for one). */
  private static byte[] padded(Gen g, int length) {
    String prefix = "{\"type\":\"username\",\"username\":\"";
    String suffix = "\"}";
    int room = length - prefix.length() - suffix.length();
    if (room <= 0) {
      return HostileJson.utf8("x".repeat(Math.max(0, length)));
    }
    String filler = g.chance(0.2) ? " ".repeat(room) : "a".repeat(room);
    return HostileJson.utf8(prefix + filler + suffix + (g.chance(0.3) ? "\r" : ""));
  }

  private static ByteString randomBytes(Gen g) {
    ByteStringBuilder stream = new ByteStringBuilder();
    int pieces = g.size(20);
    for (int i = 0; i < pieces; i++) {
      byte[] bytes = g.bytes(g.chance(0.2) ? 2_000 : 100);
      stream.putBytes(bytes);
      if (g.chance(0.5)) {
        stream.putByte((byte) (g.chance(0.5) ? '\n' : '\r'));
      }
    }
    return stream.result();
  }

  private static byte[] withoutLineFeed(ByteString line) {
    return line.dropRight(1).toArray();
  }

  // ---- checks ---------------------------------------------------------------------------------

  private static <T> void assertFramesSurvive(Gen g, JsonCodec<T> codec, Function<Gen, T> frames) {
    List<T> sent = new ArrayList<>();
    ByteStringBuilder wire = new ByteStringBuilder();
    int count = g.between(1, 20);
    for (int i = 0; i < count; i++) {
      T frame = frames.apply(g);
      sent.add(frame);
      wire.append(codec.encode(frame));
    }
    ByteString bytes = wire.result();
    List<ByteString> chunks = g.chunks(bytes);
    assertEquals(
        sent.stream().map(WireFlowsPropertiesTest::frame).toList(),
        decode(codec, Protocol.MAX_FRAME_BYTES, chunks),
        () -> chunks.size() + " chunks of " + Gen.show(bytes));
  }

  private static <T> void assertFitsAndSurvives(JsonCodec<T> codec, List<T> frames) {
    ByteStringBuilder wire = new ByteStringBuilder();
    for (T frame : frames) {
      ByteString line = codec.encode(frame);
      int length = line.length() - 1;
      assertTrue(
          length <= Protocol.MAX_FRAME_BYTES,
          () -> frame.getClass().getSimpleName() + " takes " + length + " bytes");
      wire.append(line);
    }
    assertEquals(
        frames.stream().map(WireFlowsPropertiesTest::frame).toList(),
        decode(codec, Protocol.MAX_FRAME_BYTES, List.of(wire.result())));
  }

  private static <T> void assertOversizedOnlyLast(List<Inbound<T>> decoded) {
    for (int i = 0; i < decoded.size() - 1; i++) {
      int at = i;
      assertTrue(
          !(decoded.get(i) instanceof Inbound.Oversized),
          () -> "Oversized at " + at + " of " + decoded.size());
    }
  }

  // ---- streams --------------------------------------------------------------------------------

  private static <T> List<Inbound<T>> decode(
      JsonCodec<T> codec, int limit, List<ByteString> chunks) {
    return await(
        Source.from(chunks)
            .via(WireFlows.decoder(codec, limit))
            .runWith(Sink.seq(), TEST_KIT.system()));
  }

  /** Cuts each element at random places, with its own seeded randomness. */
  private static akka.japi.function.Function<ByteString, Iterable<ByteString>> rechunker(
      long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    return bytes -> {
      List<ByteString> pieces = new ArrayList<>();
      int from = 0;
      while (from < bytes.length()) {
        int to =
            Math.min(
                bytes.length(),
                from + 1 + random.nextInt(Math.max(1, Math.min(bytes.length(), 700))));
        pieces.add(bytes.slice(from, to));
        from = to;
      }
      return pieces;
    };
  }

  private static <T> T await(CompletionStage<T> stage) {
    try {
      return stage.toCompletableFuture().get(WAIT_SECONDS, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw new AssertionError("the stream failed: " + e.getCause(), e.getCause());
    } catch (TimeoutException e) {
      throw new AssertionError("the stream did not complete within " + WAIT_SECONDS + " s", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  private static <T> Inbound<T> frame(T frame) {
    return new Inbound.Frame<>(frame);
  }
}
