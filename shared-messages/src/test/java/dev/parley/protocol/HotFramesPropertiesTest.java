package dev.parley.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import akka.util.ByteString;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The hand-written paths of the codec ({@link HotFrameEncoder}, {@link HotFrameDecoder}) against
 * Jackson's over arbitrary input: the same bytes for any frame they write, and the same {@link
 * Inbound} (frame, or the very same reason) for any line, whether the fast path reads it or
 * declines it. Each property also checks that the fast path is taken where it should be, so that a
 * path that always declines cannot pass for an equivalent one.
 */
final class HotFramesPropertiesTest {

  /** Past Jackson's output buffer (8000 bytes), where a writer may split a string in segments. */
  private static final int LONG_TEXT_CHARS = 20_000;

  private static final int SHORT_TEXT_CHARS = 120;

  /** Fields and values of every JSON type, to put where the canonical shape has none. */
  private static final List<String> ODD_MEMBERS =
      List.of(
          "\"id\":null",
          "\"id\":5",
          "\"id\":\"\"",
          "\"to\":\"carol\"",
          "\"text\":\"again\"",
          "\"type\":\"ack\"",
          "\"type\":\"message\"",
          "\"seq\":\"5\"",
          "\"seq\":5",
          "\"seq\":1.0",
          "\"extra\":{\"a\":[1,2]}",
          "\"extra\":true");

  /** UTF-8 that is not well-formed, and the edges of what is. */
  private static final byte[][] ODD_UTF8 = {
    {(byte) 0xC0, (byte) 0xAF},
    {(byte) 0xC1, (byte) 0xBF},
    {(byte) 0xC2, (byte) 0x80},
    {(byte) 0xDF, (byte) 0xBF},
    {(byte) 0xE0, (byte) 0x80, (byte) 0xAF},
    {(byte) 0xE0, (byte) 0x9F, (byte) 0xBF},
    {(byte) 0xE0, (byte) 0xA0, (byte) 0x80},
    {(byte) 0xED, (byte) 0x9F, (byte) 0xBF},
    {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
    {(byte) 0xED, (byte) 0xBF, (byte) 0xBF},
    {(byte) 0xED, (byte) 0xA0, (byte) 0xBD, (byte) 0xED, (byte) 0xB8, (byte) 0x80},
    {(byte) 0xEF, (byte) 0xBF, (byte) 0xBF},
    {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF},
    {(byte) 0xF0, (byte) 0x8F, (byte) 0xBF, (byte) 0xBF},
    {(byte) 0xF0, (byte) 0x90, (byte) 0x80, (byte) 0x80},
    {(byte) 0xF4, (byte) 0x8F, (byte) 0xBF, (byte) 0xBF},
    {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80},
    {(byte) 0xF5, (byte) 0x80, (byte) 0x80, (byte) 0x80},
    {(byte) 0xF8, (byte) 0x88, (byte) 0x80, (byte) 0x80, (byte) 0x80},
    {(byte) 0xF0, (byte) 0x9F, (byte) 0x98},
    {(byte) 0xE2, (byte) 0x82},
    {(byte) 0xC3},
    {(byte) 0x80},
    {(byte) 0xBF},
    {(byte) 0xFE},
    {(byte) 0xFF},
    {(byte) 0xC3, (byte) 0x22},
    {(byte) 0xE2, (byte) 0x5C, (byte) 0x6E},
  };

  @Test
  void shouldWriteJacksonsBytesForAnyText() {
    Property.forAllTexts(
        "hot frames write Jackson's bytes for any text",
        600,
        g ->
            g.chance(0.05)
                ? g.text(LONG_TEXT_CHARS)
                : g.chance(0.3)
                    ? g.textWithLoneSurrogates(SHORT_TEXT_CHARS)
                    : g.text(SHORT_TEXT_CHARS),
        text -> {
          String nonBlank = text.isBlank() ? text + "x" : text;
          for (long seq : new long[] {1, 9, 10, 123_456, Long.MAX_VALUE}) {
            assertSameBytes(new ServerMessage.MessageReceived(nonBlank, text, seq, text));
            assertSameBytes(new ServerMessage.MessageReceived(nonBlank, text, seq, null));
          }
          assertSameBytes(new ServerMessage.MessageReceived("alice", text, 1, "id-1"));
          assertSameBytes(new ServerMessage.MessageAccepted(text, true));
          assertSameBytes(new ServerMessage.MessageAccepted(text, false));
          assertSameBytes(new ServerMessage.BroadcastReceived(nonBlank, text));
          assertSameBytes(new ServerMessage.BroadcastReceived("alice", text));
        });
  }

  @Test
  void shouldWriteJacksonsBytesForArbitraryHotFrames() {
    Property.forAll(
        "hot frames write Jackson's bytes for arbitrary frames",
        1_500,
        g -> {
          assertSameBytes(
              new ServerMessage.MessageReceived(
                  g.nonBlankText(SHORT_TEXT_CHARS),
                  g.chance(0.1) ? g.nearLimitText(Protocol.MAX_TEXT_BYTES) : g.text(300),
                  g.longAtLeast(1),
                  g.chance(0.3) ? null : g.token(ClientMessage.SendMessage.MAX_ID_LENGTH)));
          assertSameBytes(
              new ServerMessage.MessageAccepted(
                  g.chance(0.3) ? null : g.token(ClientMessage.SendMessage.MAX_ID_LENGTH),
                  g.chance(0.5)));
          assertSameBytes(
              new ServerMessage.BroadcastReceived(g.name(), g.nearLimitText(g.between(0, 200))));
        });
  }

  @Test
  void shouldReadMessagesAsJacksonDoesWhenWrittenAsTheCodecWritesThem() {
    Property.forAll(
        "the fast path reads messages as Jackson does",
        1_500,
        g -> {
          ClientMessage.SendMessage message = message(g);
          byte[] line = line(message);
          assertSameInbound(line);
          assertNotNull(
              HotFrameDecoder.decode(line, 0, line.length), () -> "declined " + show(line));
        });
  }

  @Test
  void shouldReadAnyStringSyntaxAsJacksonDoes() {
    // Escapes of every kind, \\u escapes of lone surrogates and U+0000, in every field.
    Property.forAll(
        "strings written any way read as Jackson reads them",
        2_000,
        g -> {
          String to =
              HostileJson.string(g, g.chance(0.8) ? g.name() : g.textWithLoneSurrogates(20));
          String text = HostileJson.string(g, g.textWithLoneSurrogates(SHORT_TEXT_CHARS));
          String id = HostileJson.string(g, g.chance(0.8) ? g.token(64) : g.text(70));
          assertSameInbound(
              utf8(
                  "{\"type\":\"message\",\"to\":"
                      + to
                      + ",\"text\":"
                      + text
                      + ",\"id\":"
                      + id
                      + "}"));
          assertSameInbound(utf8("{\"type\":\"message\",\"to\":" + to + ",\"text\":" + text + "}"));
        });
  }

  @Test
  void shouldReadOddUtf8AsJacksonDoes() {
    // Overlong forms, surrogates, code points past U+10FFFF, cut sequences and stray bytes, in a
    // line of the canonical shape: the fast path must leave all of them to Jackson.
    Property.forAll(
        "odd UTF-8 in a message gets Jackson's answer",
        2_000,
        g -> {
          byte[] valid = line(message(g));
          byte[] odd = g.chance(0.6) ? g.pick(ODD_UTF8) : g.bytes(6);
          int quote = g.between(0, 2);
          int at = nthIndexOf(valid, ":\"".getBytes(StandardCharsets.US_ASCII), quote + 1) + 2;
          if (at < 2) {
            at = valid.length / 2;
          }
          at = Math.min(valid.length, at + g.between(0, 3));
          byte[] line = new byte[valid.length + odd.length];
          System.arraycopy(valid, 0, line, 0, at);
          System.arraycopy(odd, 0, line, at, odd.length);
          System.arraycopy(valid, at, line, at + odd.length, valid.length - at);
          assertSameInbound(line);
        });
  }

  @Test
  void shouldReadAcksAsJacksonDoes() {
    Property.forAll(
        "acks read as Jackson reads them",
        1_000,
        g -> {
          String seq =
              g.chance(0.5)
                  ? Long.toString(g.longAtLeast(Long.MIN_VALUE))
                  : g.pick(
                      "0",
                      "-0",
                      "01",
                      "1",
                      "-1",
                      "1.0",
                      "1e2",
                      "1E2",
                      "+1",
                      "\"1\"",
                      "null",
                      "true",
                      "9223372036854775807",
                      "9223372036854775808",
                      "99999999999999999",
                      "999999999999999999",
                      "9999999999999999999",
                      "1 ",
                      " 1",
                      "");
          assertSameInbound(utf8("{\"type\":\"ack\",\"seq\":" + seq + "}"));
        });
  }

  @Test
  void shouldAnswerAsJacksonDoesToMutatedHotFrames() {
    Property.forAll(
        "mutated hot frames get Jackson's answer",
        5_000,
        g -> {
          byte[] valid =
              g.chance(0.7)
                  ? line(message(g))
                  : line(new ClientMessage.Acknowledge(g.longAtLeast(1)));
          byte[] line =
              switch (g.between(0, 4)) {
                case 0 -> HostileJson.mutated(g, valid);
                case 1 -> HostileJson.truncated(g, valid);
                case 2 -> withMember(g, valid);
                case 3 -> withWhitespaceOrGarbage(g, valid);
                default -> withByteReplaced(g, valid);
              };
          assertSameInbound(line);
        });
  }

  @Test
  void shouldAnswerAsJacksonDoesToHostileLines() {
    Property.forAll(
        "hostile lines get Jackson's answer", 3_000, g -> assertSameInbound(HostileJson.line(g)));
  }

  @Test
  void shouldReadALineInTheMiddleOfAChunk() {
    // The framing decodes lines in place, between the bytes of others.
    Property.forAll(
        "a line is read in place, whatever surrounds it",
        500,
        g -> {
          byte[] line = g.chance(0.5) ? line(message(g)) : HostileJson.mutated(g, line(message(g)));
          byte[] before = g.bytes(16);
          byte[] after = g.chance(0.5) ? utf8("\"}") : g.bytes(16);
          byte[] chunk = new byte[before.length + line.length + after.length];
          System.arraycopy(before, 0, chunk, 0, before.length);
          System.arraycopy(line, 0, chunk, before.length, line.length);
          System.arraycopy(after, 0, chunk, before.length + line.length, after.length);
          assertEquals(
              JsonCodec.CLIENT.decodeWithJackson(line, 0, line.length),
              JsonCodec.CLIENT.decode(chunk, before.length, line.length),
              () -> "in place: " + show(line));
        });
  }

  private static ClientMessage.SendMessage message(Gen g) {
    return new ClientMessage.SendMessage(
        g.name(),
        g.chance(0.05) ? g.nearLimitText(Protocol.MAX_TEXT_BYTES) : g.nonBlankText(300),
        g.chance(0.3) ? null : g.token(ClientMessage.SendMessage.MAX_ID_LENGTH));
  }

  /** Where the {@code n}th occurrence of {@code wanted} starts in {@code bytes}, or -1. */
  private static int nthIndexOf(byte[] bytes, byte[] wanted, int n) {
    int found = 0;
    for (int i = 0; i + wanted.length <= bytes.length; i++) {
      if (Arrays.equals(bytes, i, i + wanted.length, wanted, 0, wanted.length) && ++found == n) {
        return i;
      }
    }
    return -1;
  }

  /** Another member before, after or in place of one of the line's. */
  private static byte[] withMember(Gen g, byte[] line) {
    String json = new String(line, StandardCharsets.UTF_8);
    String member = g.pick(ODD_MEMBERS);
    return utf8(
        switch (g.between(0, 3)) {
          case 0 -> json.replaceFirst("^\\{", "{" + member + ",");
          case 1 -> json.replaceFirst("}$", "," + member + "}");
          case 2 -> json.replaceFirst(",\"(to|id|seq)\":(\"[^\"]*\"|[0-9]+)", "," + member);
          default -> json.replaceFirst(",", "," + member + ",");
        });
  }

  private static byte[] withWhitespaceOrGarbage(Gen g, byte[] line) {
    String json = new String(line, StandardCharsets.UTF_8);
    String insert = g.pick(" ", "\t", "\r", "\n", "  ", "x", "}", "{}", ",", "\u00A0", "\uFEFF");
    int at = g.chance(0.4) ? json.length() : g.chance(0.2) ? 0 : g.between(0, json.length());
    return utf8(json.substring(0, at) + insert + json.substring(at));
  }

  private static byte[] withByteReplaced(Gen g, byte[] line) {
    byte[] bytes = Arrays.copyOf(line, line.length);
    if (bytes.length > 0) {
      bytes[g.between(0, bytes.length - 1)] = (byte) g.between(0, 255);
    }
    return bytes;
  }

  private static void assertSameBytes(ServerMessage frame) {
    ByteString jackson = JsonCodec.SERVER.encodeWithJackson(frame);
    assertEquals(
        Gen.show(jackson),
        Gen.show(JsonCodec.SERVER.encode(frame)),
        () -> "for " + frame.getClass().getSimpleName());
    assertEquals(jackson, JsonCodec.SERVER.encode(frame));
    if (!hasUnpairedSurrogate(frame.toString())) {
      assertNotNull(HotFrameEncoder.encode(frame), () -> "declined " + Gen.show(frame.toString()));
    }
  }

  private static void assertSameInbound(byte[] line) {
    assertEquals(
        JsonCodec.CLIENT.decodeWithJackson(line, 0, line.length),
        JsonCodec.CLIENT.decode(line, 0, line.length),
        () -> "for " + show(line));
  }

  private static boolean hasUnpairedSurrogate(String text) {
    return text.codePoints()
        .anyMatch(c -> c >= Character.MIN_SURROGATE && c <= Character.MAX_SURROGATE);
  }

  private static byte[] line(ClientMessage frame) {
    ByteString encoded = JsonCodec.CLIENT.encode(frame);
    return encoded.take(encoded.length() - 1).toArray();
  }

  private static String show(byte[] line) {
    return Gen.show(ByteString.fromArray(line));
  }

  private static byte[] utf8(String text) {
    return HostileJson.utf8(text);
  }
}
