package dev.parley.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.util.ByteString;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@link WireText}'s rules against what the codec really writes, over arbitrary text: the byte
 * count it promises is the one on the wire, characters outside the BMP travel as four raw UTF-8
 * bytes, and {@link WireText#refusal} refuses exactly what it says it refuses. The codec is the
 * oracle throughout, so a change of Jackson (or of its settings) that changes the wire breaks these
 * properties rather than the server's limits.
 */
final class WireTextPropertiesTest {

  /**
   * An escaped surrogate, {@code \uD83D} or {@code \udc00}: what an astral character must not be.
   */
  private static final Pattern ESCAPED_SURROGATE = Pattern.compile("\\\\u[dD][89a-fA-F]");

  private static final ByteString EMPTY_TEXT_FRAME =
      JsonCodec.SERVER.encode(new ServerMessage.BroadcastReceived("a", ""));

  /** Bytes the codec writes for {@code text} inside a frame: with the text, minus without it. */
  private static int measured(String text) {
    return encodedWith(text).length() - EMPTY_TEXT_FRAME.length();
  }

  private static ByteString encodedWith(String text) {
    return JsonCodec.SERVER.encode(new ServerMessage.BroadcastReceived("a", text));
  }

  @Test
  void shouldCountExactlyTheBytesTheCodecWrites() {
    Property.forAllTexts(
        "encodedLength equals the bytes written",
        2_000,
        g -> g.text(g.chance(0.1) ? 4_000 : 200),
        text -> assertEquals(measured(text), WireText.encodedLength(text)));
  }

  @Test
  void shouldCountUnpairedSurrogatesAsTheSixByteEscapesTheCodecWrites() {
    // Never accepted as a message, but a server echoes other input (an unknown frame type) and
    // must still know what that costs.
    Property.forAllTexts(
        "encodedLength equals the bytes written, unpaired surrogates included",
        500,
        g -> g.textWithLoneSurrogates(100),
        text -> assertEquals(measured(text), WireText.encodedLength(text)));
  }

  @Test
  void shouldCountTheSameInEveryFrameThatCarriesText() {
    // The subtraction must not depend on the frame: the text is written the same way everywhere.
    Property.forAllTexts(
        "encodedLength is the same in every text-bearing frame",
        300,
        g -> g.text(200),
        text -> {
          int bytes = WireText.encodedLength(text);
          assertEquals(
              bytes,
              difference(
                  JsonCodec.PEER, new PeerMessage.Text(1, text), new PeerMessage.Text(1, "")));
          assertEquals(
              bytes,
              difference(
                  JsonCodec.SERVER,
                  new ServerMessage.MessageReceived("a", text, 1, "i"),
                  new ServerMessage.MessageReceived("a", "", 1, "i")));
          if (!text.isBlank()) {
            assertEquals(
                bytes,
                difference(
                        JsonCodec.CLIENT,
                        new ClientMessage.SendMessage("b", text, "i"),
                        new ClientMessage.SendMessage("b", "x", "i"))
                    + 1);
            assertEquals(
                bytes,
                difference(
                        JsonCodec.CLIENT,
                        new ClientMessage.Broadcast(text),
                        new ClientMessage.Broadcast("x"))
                    + 1);
          }
        });
  }

  @Test
  void shouldWriteCharactersOutsideTheBmpAsFourRawBytes() {
    Property.forAllTexts(
        "astral characters are raw UTF-8",
        1_000,
        g -> {
          StringBuilder text = new StringBuilder(g.text(60));
          int astral = g.between(0x10000, 0x10FFFF);
          text.insert(
              text.offsetByCodePoints(0, g.between(0, text.codePointCount(0, text.length()))),
              Character.toChars(astral));
          return text.toString();
        },
        text -> {
          ByteString encoded = encodedWith(text);
          String json = encoded.decodeString(StandardCharsets.UTF_8);
          assertFalse(ESCAPED_SURROGATE.matcher(json).find(), () -> "escaped surrogate in " + json);
          text.codePoints()
              .filter(c -> c >= 0x10000)
              .forEach(
                  c -> {
                    ByteString raw = ByteString.fromString(new String(Character.toChars(c)));
                    assertEquals(4, raw.length());
                    assertTrue(
                        encoded.indexOfSlice(raw) >= 0,
                        () -> String.format("U+%X is not written as its UTF-8 bytes", c));
                  });
        });
  }

  @Test
  void shouldRefuseExactlyNulUnpairedSurrogatesAndTextsOverTheLimit() {
    Property.forAll(
        "refusal refuses exactly U+0000, unpaired surrogates and too many bytes",
        2_000,
        g -> {
          String text = g.chance(0.5) ? g.textWithLoneSurrogates(120) : g.text(120);
          boolean unpaired = text.codePoints().anyMatch(c -> c >= 0xD800 && c <= 0xDFFF);
          boolean nul = text.indexOf('\0') >= 0;
          // Only text without unpaired surrogates has a length the codec can be asked about.
          int bytes = unpaired ? WireText.encodedLength(text) : measured(text);
          // Around the text's own size, where an off-by-one would show.
          int limit = Math.max(0, bytes + g.between(-3, 3));
          Optional<String> refusal = WireText.refusal(text, limit);
          assertEquals(
              nul || unpaired || bytes > limit,
              refusal.isPresent(),
              () -> Gen.show(text) + " limit " + limit + " bytes " + bytes + " refusal " + refusal);
        });
  }

  @Test
  void shouldAcceptEveryTextTheClientMayTypeUpToTheLimit() {
    // Near the real limit, built of the costliest units: 4-byte emoji, 6-byte escapes, 2-byte
    // quotes, 3-byte CJK.
    Property.forAll(
        "a text just under MAX_TEXT_BYTES is accepted, one just over refused",
        200,
        g -> {
          String text = g.nearLimitText(Protocol.MAX_TEXT_BYTES);
          int bytes = measured(text);
          assertEquals(bytes, WireText.encodedLength(text));
          assertEquals(
              bytes > Protocol.MAX_TEXT_BYTES,
              WireText.refusal(text, Protocol.MAX_TEXT_BYTES).isPresent(),
              () -> bytes + " bytes");
        });
  }

  private static <T> int difference(JsonCodec<T> codec, T with, T without) {
    return codec.encode(with).length() - codec.encode(without).length();
  }
}
