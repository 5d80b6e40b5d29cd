package dev.parley.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import akka.util.ByteString;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * The edge cases of the hand-written paths by name: what each writes or reads, where it declines
 * and leaves the frame to Jackson, and that the codec's answer is Jackson's either way.
 */
final class HotFramesTest {

  // ---- encoding ----

  @Test
  void shouldWriteFieldsInRecordOrderAfterTheType() {
    assertEncodes(
        "{\"type\":\"message-received\",\"from\":\"alice\",\"text\":\"hi\",\"seq\":42,\"id\":\"m1\"}",
        new ServerMessage.MessageReceived("alice", "hi", 42, "m1"));
    assertEncodes(
        "{\"type\":\"message-accepted\",\"id\":\"m1\",\"stored\":true}",
        new ServerMessage.MessageAccepted("m1", true));
    assertEncodes(
        "{\"type\":\"broadcast-received\",\"from\":\"alice\",\"text\":\"hi\"}",
        new ServerMessage.BroadcastReceived("alice", "hi"));
  }

  @Test
  void shouldLeaveOutAnAbsentId() {
    assertEncodes(
        "{\"type\":\"message-received\",\"from\":\"alice\",\"text\":\"\",\"seq\":1}",
        new ServerMessage.MessageReceived("alice", "", 1, null));
    assertEncodes(
        "{\"type\":\"message-accepted\",\"stored\":false}",
        new ServerMessage.MessageAccepted(null, false));
  }

  @Test
  void shouldWriteTheLargestSeq() {
    assertEncodes(
        "{\"type\":\"message-received\",\"from\":\"a\",\"text\":\"b\",\"seq\":9223372036854775807}",
        new ServerMessage.MessageReceived("a", "b", Long.MAX_VALUE, null));
  }

  @Test
  void shouldEscapeQuotesBackslashesAndControlsAsJacksonDoes() {
    // Short escapes where JSON has them, otherwise \\u00XX in upper-case hex.
    assertEncodes(
        "{\"type\":\"broadcast-received\",\"from\":\"a\",\"text\":"
            + "\"\\\"\\\\\\n\\t\\r\\b\\f\\u0000\\u001B\\u001F\"}",
        new ServerMessage.BroadcastReceived("a", "\"\\\n\t\r\b\f\u0000\u001b\u001f"));
  }

  @Test
  void shouldWriteSlashDelAndLineSeparatorsAsTheyAre() {
    // Jackson escapes none of them: '/', U+007F, U+2028 and U+2029 go out raw.
    assertEncodes(
        "{\"type\":\"broadcast-received\",\"from\":\"a\",\"text\":\"/\u007f\u2028\u2029\"}",
        new ServerMessage.BroadcastReceived("a", "/\u007f\u2028\u2029"));
  }

  @Test
  void shouldWriteCharactersOutsideTheBmpAsFourBytes() {
    ServerMessage frame = new ServerMessage.BroadcastReceived("zoë", "\uD83D\uDE00 \u00e9\u4e2d");
    assertEncodes("{\"type\":\"broadcast-received\",\"from\":\"zoë\",\"text\":\"😀 é中\"}", frame);
    assertEquals(
        WireText.encodedLength("\uD83D\uDE00"), 4, "the emoji is one four-byte UTF-8 sequence");
  }

  @Test
  void shouldLeaveUnpairedSurrogatesToJackson() {
    for (String text : new String[] {"\uD800", "a\uDC00", "\uDE00\uD83D", "x\uD83D"}) {
      ServerMessage frame = new ServerMessage.MessageReceived("a", text, 1, null);
      assertNull(HotFrameEncoder.encode(frame), () -> Gen.show(text));
      assertEquals(JsonCodec.SERVER.encodeWithJackson(frame), JsonCodec.SERVER.encode(frame));
    }
    ServerMessage accepted = new ServerMessage.MessageAccepted("\uDBFF", true);
    assertNull(HotFrameEncoder.encode(accepted));
    assertEquals(JsonCodec.SERVER.encodeWithJackson(accepted), JsonCodec.SERVER.encode(accepted));
  }

  @Test
  void shouldLeaveOtherFramesToJackson() {
    assertNull(HotFrameEncoder.encode(new ServerMessage.BroadcastSent(true)));
    assertNull(HotFrameEncoder.encode(new ClientMessage.SendMessage("bob", "hi")));
  }

  // ---- decoding ----

  @Test
  void shouldReadTheCanonicalMessage() {
    assertReads(
        new ClientMessage.SendMessage("bob", "hi", "m1"),
        "{\"type\":\"message\",\"to\":\"bob\",\"text\":\"hi\",\"id\":\"m1\"}");
    assertReads(
        new ClientMessage.SendMessage("bob", "hi", null),
        "{\"type\":\"message\",\"to\":\"bob\",\"text\":\"hi\"}");
    assertReads(new ClientMessage.Acknowledge(42), "{\"type\":\"ack\",\"seq\":42}");
    assertReads(
        new ClientMessage.Acknowledge(999_999_999_999_999_999L),
        "{\"type\":\"ack\",\"seq\":999999999999999999}");
  }

  @Test
  void shouldReadEveryJsonEscape() {
    assertReads(
        new ClientMessage.SendMessage("bob", "\"\\/\n\t\r\b\f é\u00e9\uD83D\uDE00\uD800", null),
        "{\"type\":\"message\",\"to\":\"bob\",\"text\":"
            + "\"\\\"\\\\\\/\\n\\t\\r\\b\\f \\u00e9\\u00E9\\ud83d\\uDE00\\uD800\"}");
  }

  @Test
  void shouldReadUtf8AsItIs() {
    assertReads(
        new ClientMessage.SendMessage("zoë", "中文 \uD83D\uDE00 \u2028", null),
        "{\"type\":\"message\",\"to\":\"zoë\",\"text\":\"中文 😀 \u2028\"}");
  }

  @Test
  void shouldLeaveNonCanonicalShapesToJackson() {
    for (String line :
        new String[] {
          "{\"type\":\"message\",\"to\":\"bob\",\"text\":\"hi\",\"id\":null}",
          "{\"type\":\"message\",\"to\":\"bob\",\"text\":\"hi\"} ",
          " {\"type\":\"message\",\"to\":\"bob\",\"text\":\"hi\"}",
          "{\"type\":\"message\",\"to\":\"bob\",\"text\":\"hi\"}\r",
          "{\"type\":\"message\", \"to\":\"bob\",\"text\":\"hi\"}",
          "{\"type\":\"message\",\"text\":\"hi\",\"to\":\"bob\"}",
          "{\"to\":\"bob\",\"type\":\"message\",\"text\":\"hi\"}",
          "{\"type\":\"message\",\"to\":\"bob\",\"text\":\"hi\",\"extra\":1}",
          "{\"type\":\"message\",\"to\":\"bob\",\"text\":\"hi\",\"text\":\"again\"}",
          "{\"type\":\"message\",\"to\":\"bob\",\"text\":\"hi\"}}",
          "{\"type\":\"message\",\"to\":\"bob\",\"text\":\"hi\"}x",
          "{\"type\":\"message\",\"to\":\"bob\",\"text\":\"a\\qb\"}",
          "{\"type\":\"message\",\"to\":\"bob\",\"text\":\"a\\u12G4\"}",
          "{\"type\":\"message\",\"to\":\"bob\",\"text\":\"a\tb\"}",
          "{\"type\":\"message\",\"to\":\"bob\",\"text\":5}",
          "{\"type\":\"ack\",\"seq\":\"5\"}",
          "{\"type\":\"ack\",\"seq\":05}",
          "{\"type\":\"ack\",\"seq\":5.0}",
          "{\"type\":\"ack\",\"seq\":-5}",
          "{\"type\":\"ack\",\"seq\":9223372036854775807}",
          "{\"type\":\"ack\",\"seq\":1}\n",
          "{\"type\":\"ack\",\"seq\":}",
        }) {
      assertDeclined(utf8(line));
    }
  }

  @Test
  void shouldLeaveFieldsTheRecordRefusesToJackson() {
    // Jackson words the refusal: the fast path never makes up a reason.
    for (String line :
        new String[] {
          "{\"type\":\"message\",\"to\":\"bob\",\"text\":\"  \"}",
          "{\"type\":\"message\",\"to\":\"\",\"text\":\"hi\"}",
          "{\"type\":\"message\",\"to\":\"b b\",\"text\":\"hi\"}",
          "{\"type\":\"message\",\"to\":\"bob\",\"text\":\"hi\",\"id\":\"\"}",
          "{\"type\":\"message\",\"to\":\"bob\",\"text\":\"hi\",\"id\":\"" + "x".repeat(65) + "\"}",
          "{\"type\":\"message\",\"to\":\"\\uD800\",\"text\":\"hi\"}",
          "{\"type\":\"ack\",\"seq\":0}",
        }) {
      byte[] bytes = utf8(line);
      assertNull(HotFrameDecoder.decode(bytes, 0, bytes.length), line);
      Inbound<ClientMessage> decoded = JsonCodec.CLIENT.decode(bytes, 0, bytes.length);
      assertEquals(JsonCodec.CLIENT.decodeWithJackson(bytes, 0, bytes.length), decoded, line);
      assertEquals(Inbound.Malformed.class, decoded.getClass(), line);
    }
  }

  @Test
  void shouldLeaveUtf8ThatIsNotWellFormedToJackson() {
    byte[][] oddSequences = {
      {(byte) 0xC0, (byte) 0xAF}, // overlong '/'
      {(byte) 0xE0, (byte) 0x80, (byte) 0xAF}, // overlong '/'
      {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, // a surrogate (CESU-8)
      {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, // past U+10FFFF
      {(byte) 0xF0, (byte) 0x9F, (byte) 0x98}, // cut short
      {(byte) 0x80}, // a continuation on its own
      {(byte) 0xFF},
    };
    for (byte[] odd : oddSequences) {
      byte[] head = utf8("{\"type\":\"message\",\"to\":\"bob\",\"text\":\"a");
      byte[] tail = utf8("b\"}");
      byte[] line = new byte[head.length + odd.length + tail.length];
      System.arraycopy(head, 0, line, 0, head.length);
      System.arraycopy(odd, 0, line, head.length, odd.length);
      System.arraycopy(tail, 0, line, head.length + odd.length, tail.length);
      assertDeclined(line);
    }
  }

  @Test
  void shouldReadOnlyClientFrames() {
    byte[] line = utf8("{\"type\":\"message\",\"to\":\"bob\",\"text\":\"hi\"}");
    assertEquals(
        new Inbound.UnknownType<>("message"), JsonCodec.SERVER.decode(line, 0, line.length));
  }

  private static void assertEncodes(String json, ServerMessage frame) {
    ByteString expected = ByteString.fromString(json + "\n");
    assertNotNull(HotFrameEncoder.encode(frame), json);
    assertEquals(Gen.show(expected), Gen.show(JsonCodec.SERVER.encode(frame)));
    assertEquals(expected, JsonCodec.SERVER.encodeWithJackson(frame), "Jackson writes it so too");
  }

  private static void assertReads(ClientMessage expected, String json) {
    byte[] line = utf8(json);
    assertEquals(expected, HotFrameDecoder.decode(line, 0, line.length), json);
    assertEquals(new Inbound.Frame<>(expected), JsonCodec.CLIENT.decode(line, 0, line.length));
    assertEquals(
        new Inbound.Frame<>(expected),
        JsonCodec.CLIENT.decodeWithJackson(line, 0, line.length),
        "Jackson reads it so too");
  }

  private static void assertDeclined(byte[] line) {
    String shown = Gen.show(ByteString.fromArray(line));
    assertNull(HotFrameDecoder.decode(line, 0, line.length), shown);
    assertEquals(
        JsonCodec.CLIENT.decodeWithJackson(line, 0, line.length),
        JsonCodec.CLIENT.decode(line, 0, line.length),
        shown);
  }

  private static byte[] utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }
}
