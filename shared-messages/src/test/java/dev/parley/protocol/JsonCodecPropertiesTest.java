package dev.parley.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.util.ByteString;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The codec over arbitrary input: any frame with any text survives encode then decode unchanged,
 * and no line whatever (garbage, nesting past the limit, numbers out of range, fields of the wrong
 * JSON type, duplicate keys, invalid UTF-8) makes it throw. What it answers to bad input is a short
 * reason that names no class of this implementation, because the server sends it back.
 */
final class JsonCodecPropertiesTest {

  /** Longer than any reason the codec gives, far shorter than a frame. */
  private static final int MAX_REASON_LENGTH = 200;

  private static final List<String> IMPLEMENTATION_WORDS =
      List.of(
          "dev.parley",
          "fasterxml",
          "java.",
          "Exception",
          "ClientMessage",
          "ServerMessage",
          "PeerMessage");

  @Test
  void shouldGenerateEveryRecordOfEveryFamily() {
    for (Map.Entry<Class<?>, Set<Class<?>>> family : ArbitraryFrames.coverage().entrySet()) {
      assertEquals(
          SampleFrames.recordsOf(family.getKey()),
          family.getValue(),
          "ArbitraryFrames should make every record of " + family.getKey().getSimpleName());
    }
  }

  @Test
  void shouldRoundTripAnyTextInEveryTextField() {
    Property.forAllTexts(
        "any text survives every text field",
        500,
        g -> g.chance(0.1) ? g.text(3_000) : g.text(120),
        text -> {
          for (Object frame : framesCarrying(text)) {
            assertRoundTrip(frame);
          }
        });
  }

  @Test
  void shouldRoundTripUnpairedSurrogatesInTheFramesThatEchoInput() {
    // A client can send "\uD800" as a frame's type; the server echoes it in an error, which the
    // client must be able to read back.
    Property.forAllTexts(
        "unpaired surrogates survive an error's subject",
        300,
        g -> g.textWithLoneSurrogates(60),
        text ->
            assertRoundTrip(
                new ServerMessage.Error(ServerMessage.Error.Code.UNKNOWN_FRAME, null, text)));
  }

  @Test
  void shouldRoundTripArbitraryFramesOfEveryFamily() {
    Property.forAll(
        "arbitrary frames survive encode and decode",
        1_500,
        g -> {
          assertRoundTrip(ArbitraryFrames.client(g));
          assertRoundTrip(ArbitraryFrames.server(g));
          assertRoundTrip(ArbitraryFrames.peer(g));
        });
  }

  @Test
  void shouldNeverThrowOnHostileLines() {
    Property.forAll(
        "decode never throws on hostile lines",
        3_000,
        g -> {
          byte[] line = HostileJson.line(g);
          assertWellBehaved(JsonCodec.CLIENT, line);
          assertWellBehaved(JsonCodec.SERVER, line);
          assertWellBehaved(JsonCodec.PEER, line);
        });
  }

  @Test
  void shouldRefuseNestingPastTheLimitQuickly() {
    Property.forAll(
        "nesting past the limit is malformed",
        300,
        g -> {
          int depth = g.between(17, 50_000);
          String nested = "[".repeat(depth) + "1" + "]".repeat(depth);
          String line =
              g.chance(0.5)
                  ? "{\"type\":\"whoelse\",\"x\":" + nested + "}"
                  : "{\"type\":\"broadcast\",\"text\":" + nested + "}";
          long started = System.nanoTime();
          Inbound<ClientMessage> decoded = JsonCodec.CLIENT.decode(line);
          long millis = (System.nanoTime() - started) / 1_000_000;
          assertTrue(decoded instanceof Inbound.Malformed, () -> "depth " + depth + ": " + decoded);
          // The parser stops at the limit: the rest of the line is not even read.
          assertTrue(millis < 1_000, () -> "depth " + depth + " took " + millis + " ms");
        });
  }

  @Test
  void shouldAcceptNestingWithinTheLimitInAnUnknownField() {
    // Unknown fields are skipped, whatever they hold, as long as it is within the limit.
    Property.forAll(
        "nesting within the limit is skipped in unknown fields",
        200,
        g -> {
          // The frame is one level, the value at most five more: 16 in all, the limit.
          int depth = g.between(0, 10);
          String nested =
              "{\"a\":".repeat(depth) + HostileJson.validValue(g, 0) + "}".repeat(depth);
          String line = "{\"type\":\"whoelse\",\"extra\":" + nested + "}";
          assertEquals(
              new Inbound.Frame<ClientMessage>(new ClientMessage.WhoElse()),
              JsonCodec.CLIENT.decode(line),
              line);
        });
  }

  // ---------------------------------------------------------------------------------------------

  /** Every frame of every family that can carry {@code text} in one of its fields. */
  static List<Object> framesCarrying(String text) {
    List<Object> frames = new ArrayList<>();
    boolean required = !text.isBlank();
    frames.add(new ServerMessage.Hello(Protocol.VERSION, text));
    frames.add(new ServerMessage.LoginFailed(ServerMessage.LoginFailed.Reason.UNKNOWN_USER, text));
    frames.add(new ServerMessage.MessageReceived("bob", text, Long.MAX_VALUE, text));
    frames.add(new ServerMessage.BroadcastReceived("carol", text));
    frames.add(new ServerMessage.MessageAccepted(text, false));
    frames.add(new ServerMessage.OnlineUsers(List.of(text, text)));
    frames.add(new ServerMessage.RecentUsers(0, List.of(text)));
    frames.add(new ServerMessage.Error(ServerMessage.Error.Code.MALFORMED_FRAME, text, text, text));
    frames.add(new PeerMessage.Text(1, text));
    if (required) {
      if (text.length() <= Protocol.MAX_PASSWORD_LENGTH) {
        frames.add(new ClientMessage.Password(text, 50_001));
      }
      frames.add(new ClientMessage.SendMessage("bob", text, "m-1"));
      frames.add(new ClientMessage.Broadcast(text));
      frames.add(new ServerMessage.PasswordRequired(text));
      frames.add(new ServerMessage.LoginAccepted(text));
      frames.add(new ServerMessage.MessageReceived(text, text, 1, null));
      frames.add(new ServerMessage.BroadcastReceived(text, text));
      frames.add(new ServerMessage.UserLoggedIn(text));
      frames.add(new ServerMessage.UserLoggedOut(text));
      frames.add(new ServerMessage.BlockConfirmed(text));
      frames.add(new ServerMessage.UnblockConfirmed(text));
      frames.add(new ServerMessage.PeerAddress(text, text, 50_002));
    }
    if (WireText.isValidName(text)) {
      frames.add(new ClientMessage.Username(text));
      frames.add(new ClientMessage.Block(text));
      frames.add(new ClientMessage.Unblock(text));
      frames.add(new ClientMessage.StartPrivate(text));
      frames.add(new ClientMessage.SendMessage(text, "hi", null));
      frames.add(new PeerMessage.Hello(Protocol.VERSION, text));
    }
    if (text.length() <= ClientMessage.SendMessage.MAX_ID_LENGTH
        && WireText.isPlainToken(text)
        && !text.isEmpty()) {
      frames.add(new ClientMessage.SendMessage("bob", "hi", text));
    }
    return frames;
  }

  /** Encodes {@code frame} with its family's codec and decodes the line back. */
  @SuppressWarnings("unchecked")
  static void assertRoundTrip(Object frame) {
    if (frame instanceof ClientMessage client) {
      assertRoundTrip(JsonCodec.CLIENT, client);
    } else if (frame instanceof ServerMessage server) {
      assertRoundTrip(JsonCodec.SERVER, server);
    } else {
      assertRoundTrip(JsonCodec.PEER, (PeerMessage) frame);
    }
  }

  private static <T> void assertRoundTrip(JsonCodec<T> codec, T frame) {
    ByteString line = codec.encode(frame);
    assertEquals('\n', line.apply(line.length() - 1), "a frame ends with its line feed");
    assertEquals(
        -1,
        line.dropRight(1).indexOf((byte) '\n'),
        () -> "a raw line feed inside " + Gen.show(line));
    assertEquals(
        new Inbound.Frame<>(frame),
        codec.decode(line.dropRight(1)),
        () -> "decoding " + Gen.show(line));
  }

  /**
   * Decoding {@code line} returns a value, never throws; a frame re-encodes to a line that decodes
   * to the same frame; a reason is short and says nothing of the implementation.
   */
  private static <T> void assertWellBehaved(JsonCodec<T> codec, byte[] line) {
    Inbound<T> decoded;
    try {
      decoded = codec.decode(line, 0, line.length);
    } catch (RuntimeException e) {
      throw new AssertionError(
          codec.family().getSimpleName()
              + " codec threw on "
              + Gen.show(ByteString.fromArray(line)),
          e);
    }
    assertNotNull(decoded);
    if (decoded instanceof Inbound.Frame<T> frame) {
      ByteString again = codec.encode(frame.frame());
      assertEquals(
          decoded, codec.decode(again.dropRight(1)), () -> "re-encoded as " + Gen.show(again));
    } else if (decoded instanceof Inbound.Malformed<T> malformed) {
      String reason = malformed.reason();
      assertNotNull(reason);
      assertFalse(reason.isBlank());
      assertTrue(
          reason.length() <= MAX_REASON_LENGTH,
          () ->
              "a reason of "
                  + reason.length()
                  + " chars for "
                  + Gen.show(ByteString.fromArray(line)));
      for (String word : IMPLEMENTATION_WORDS) {
        assertFalse(
            reason.contains(word),
            () -> "reason " + Gen.show(reason) + " for " + Gen.show(ByteString.fromArray(line)));
      }
    } else {
      assertTrue(decoded instanceof Inbound.UnknownType, () -> "the codec never says " + decoded);
      assertNotNull(((Inbound.UnknownType<T>) decoded).type());
    }
  }
}
