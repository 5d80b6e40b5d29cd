package dev.parley.protocol;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.util.ByteString;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.protocol.SampleFrames.Sample;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The JSON codec of all three frame families: round trips, the wire names, and bad input. */
final class JsonCodecTest {

  /** Reads encoded lines back as plain JSON trees, independently of the codec under test. */
  private static final ObjectMapper TREES = new ObjectMapper();

  private static final ByteString LINE_FEED = ByteString.fromString("\n");

  @Nested
  final class RoundTrip {

    static Stream<Sample<ClientMessage>> clientFrames() {
      return SampleFrames.client().stream();
    }

    static Stream<Sample<ServerMessage>> serverFrames() {
      return SampleFrames.server().stream();
    }

    static Stream<Sample<PeerMessage>> peerFrames() {
      return SampleFrames.peer().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("clientFrames")
    void shouldRoundTripEveryClientFrame(Sample<ClientMessage> sample) throws Exception {
      assertRoundTrip(JsonCodec.CLIENT, sample);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("serverFrames")
    void shouldRoundTripEveryServerFrame(Sample<ServerMessage> sample) throws Exception {
      assertRoundTrip(JsonCodec.SERVER, sample);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("peerFrames")
    void shouldRoundTripEveryPeerFrame(Sample<PeerMessage> sample) throws Exception {
      assertRoundTrip(JsonCodec.PEER, sample);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("clientFrames")
    void shouldNameEveryClientFrame(Sample<ClientMessage> sample) {
      assertEquals(sample.typeName(), sample.frame().typeName());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("serverFrames")
    void shouldNameEveryServerFrame(Sample<ServerMessage> sample) {
      assertEquals(sample.typeName(), sample.frame().typeName());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("peerFrames")
    void shouldNameEveryPeerFrame(Sample<PeerMessage> sample) {
      assertEquals(sample.typeName(), sample.frame().typeName());
    }

    @Test
    void shouldHaveASampleOfEveryRecord() {
      // Without this a record added to a family would escape every round-trip test above.
      assertAll(
          () ->
              assertEquals(
                  SampleFrames.recordsOf(ClientMessage.class),
                  SampleFrames.classesOf(SampleFrames.client())),
          () ->
              assertEquals(
                  SampleFrames.recordsOf(ServerMessage.class),
                  SampleFrames.classesOf(SampleFrames.server())),
          () ->
              assertEquals(
                  SampleFrames.recordsOf(PeerMessage.class),
                  SampleFrames.classesOf(SampleFrames.peer())));
    }

    @Test
    void shouldKeepTypeNamesUniqueWithinAFamily() {
      assertAll(
          () -> assertUniqueNames(SampleFrames.client()),
          () -> assertUniqueNames(SampleFrames.server()),
          () -> assertUniqueNames(SampleFrames.peer()));
    }

    private static <T> void assertRoundTrip(JsonCodec<T> codec, Sample<T> sample) throws Exception {
      ByteString encoded = codec.encode(sample.frame());

      assertTrue(encoded.endsWith(LINE_FEED), "a frame ends with its line feed");
      ByteString line = encoded.dropRight(1);
      assertFalse(line.contains((byte) '\n'), "exactly one line feed per frame");
      JsonNode tree = TREES.readTree(line.utf8String());
      assertEquals(sample.typeName(), tree.path("type").asText(), "the type field on the wire");
      assertEquals(new Inbound.Frame<>(sample.frame()), codec.decode(line));
      assertEquals(line.utf8String(), codec.toJson(sample.frame()));
    }

    private static void assertUniqueNames(List<? extends Sample<?>> samples) {
      List<String> names = samples.stream().map(Sample::typeName).toList();
      assertEquals(names.size(), names.stream().distinct().count(), () -> "duplicates in " + names);
    }
  }

  @Nested
  final class EnumWireNames {

    static Stream<Arguments> everyEnumValue() {
      Map<ServerMessage.LoginFailed.Reason, String> loginFailed =
          new EnumMap<>(ServerMessage.LoginFailed.Reason.class);
      loginFailed.put(ServerMessage.LoginFailed.Reason.UNKNOWN_USER, "unknown-user");
      loginFailed.put(ServerMessage.LoginFailed.Reason.INVALID_PASSWORD, "invalid-password");
      loginFailed.put(ServerMessage.LoginFailed.Reason.ALREADY_ONLINE, "already-online");
      loginFailed.put(ServerMessage.LoginFailed.Reason.RESUME_REFUSED, "resume-refused");

      Map<ServerMessage.Error.Code, String> codes = new EnumMap<>(ServerMessage.Error.Code.class);
      codes.put(ServerMessage.Error.Code.INVALID_USER, "invalid-user");
      codes.put(ServerMessage.Error.Code.SELF, "self");
      codes.put(ServerMessage.Error.Code.BLOCKED_BY_USER, "blocked-by-user");
      codes.put(ServerMessage.Error.Code.ALREADY_BLOCKED, "already-blocked");
      codes.put(ServerMessage.Error.Code.NOT_BLOCKED, "not-blocked");
      codes.put(ServerMessage.Error.Code.USER_OFFLINE, "user-offline");
      codes.put(ServerMessage.Error.Code.PRIVATE_UNSUPPORTED, "private-unsupported");
      codes.put(ServerMessage.Error.Code.MAILBOX_FULL, "mailbox-full");
      codes.put(ServerMessage.Error.Code.UNAVAILABLE, "unavailable");
      codes.put(ServerMessage.Error.Code.INVALID_ARGUMENT, "invalid-argument");
      codes.put(ServerMessage.Error.Code.MALFORMED_FRAME, "malformed-frame");
      codes.put(ServerMessage.Error.Code.UNKNOWN_FRAME, "unknown-frame");
      codes.put(ServerMessage.Error.Code.UNEXPECTED_FRAME, "unexpected-frame");
      codes.put(ServerMessage.Error.Code.INVALID_TEXT, "invalid-text");
      codes.put(ServerMessage.Error.Code.RATE_LIMITED, "rate-limited");

      Map<ServerMessage.Goodbye.Reason, String> goodbye =
          new EnumMap<>(ServerMessage.Goodbye.Reason.class);
      goodbye.put(ServerMessage.Goodbye.Reason.LOGGED_OUT, "logged-out");
      goodbye.put(ServerMessage.Goodbye.Reason.TIMED_OUT, "timed-out");
      goodbye.put(ServerMessage.Goodbye.Reason.ACCOUNT_LOCKED, "account-locked");
      goodbye.put(ServerMessage.Goodbye.Reason.ACCOUNT_BLOCKED, "account-blocked");
      goodbye.put(ServerMessage.Goodbye.Reason.UNSUPPORTED_VERSION, "unsupported-version");
      goodbye.put(ServerMessage.Goodbye.Reason.FRAME_TOO_LONG, "frame-too-long");
      goodbye.put(ServerMessage.Goodbye.Reason.PROTOCOL_VIOLATION, "protocol-violation");
      goodbye.put(ServerMessage.Goodbye.Reason.SERVER_BUSY, "server-busy");
      goodbye.put(ServerMessage.Goodbye.Reason.SERVER_SHUTDOWN, "server-shutdown");
      goodbye.put(ServerMessage.Goodbye.Reason.RATE_LIMITED, "rate-limited");
      goodbye.put(ServerMessage.Goodbye.Reason.ACCOUNT_REMOVED, "account-removed");
      goodbye.put(ServerMessage.Goodbye.Reason.RESUMED, "resumed");
      goodbye.put(ServerMessage.Goodbye.Reason.UNRESPONSIVE, "unresponsive");

      Map<PeerMessage.Bye.Reason, String> bye = new EnumMap<>(PeerMessage.Bye.Reason.class);
      bye.put(PeerMessage.Bye.Reason.STOPPED, "stopped");
      bye.put(PeerMessage.Bye.Reason.LOGGED_OUT, "logged-out");
      bye.put(PeerMessage.Bye.Reason.TIMED_OUT, "timed-out");
      bye.put(PeerMessage.Bye.Reason.DISCONNECTED, "disconnected");
      bye.put(PeerMessage.Bye.Reason.ALREADY_CHATTING, "already-chatting");
      bye.put(PeerMessage.Bye.Reason.PROTOCOL_VIOLATION, "protocol-violation");

      // A constant added to an enum without a wire name here fails this check first.
      assertAll(
          () -> assertEquals(ServerMessage.LoginFailed.Reason.values().length, loginFailed.size()),
          () -> assertEquals(ServerMessage.Error.Code.values().length, codes.size()),
          () -> assertEquals(ServerMessage.Goodbye.Reason.values().length, goodbye.size()),
          () -> assertEquals(PeerMessage.Bye.Reason.values().length, bye.size()));

      List<Arguments> cases = new ArrayList<>();
      loginFailed.forEach(
          (reason, name) ->
              cases.add(
                  Arguments.of(
                      JsonCodec.SERVER,
                      new ServerMessage.LoginFailed(reason, null),
                      "reason",
                      name)));
      codes.forEach(
          (code, name) ->
              cases.add(
                  Arguments.of(
                      JsonCodec.SERVER, new ServerMessage.Error(code, null, null), "code", name)));
      goodbye.forEach(
          (reason, name) ->
              cases.add(
                  Arguments.of(
                      JsonCodec.SERVER, new ServerMessage.Goodbye(reason), "reason", name)));
      bye.forEach(
          (reason, name) ->
              cases.add(Arguments.of(JsonCodec.PEER, new PeerMessage.Bye(reason), "reason", name)));
      return cases.stream();
    }

    @ParameterizedTest(name = "{3}")
    @MethodSource("everyEnumValue")
    <T> void shouldWriteAndReadEveryEnumValueUnderItsWireName(
        JsonCodec<T> codec, T frame, String field, String wireName) throws Exception {
      String json = codec.toJson(frame);

      assertEquals(wireName, TREES.readTree(json).path(field).asText());
      assertEquals(new Inbound.Frame<>(frame), codec.decode(json));
    }

    @Test
    void shouldRejectTheJavaConstantName() {
      assertInstanceOf(
          Inbound.Malformed.class,
          JsonCodec.SERVER.decode("{\"type\":\"goodbye\",\"reason\":\"LOGGED_OUT\"}"));
    }

    @Test
    void shouldRejectAnUnknownEnumValue() {
      assertInstanceOf(
          Inbound.Malformed.class,
          JsonCodec.SERVER.decode("{\"type\":\"goodbye\",\"reason\":\"bored\"}"));
    }
  }

  @Nested
  final class Encoding {

    @Test
    void shouldOmitAnAbsentMessageId() {
      assertEquals(
          ByteString.fromString("{\"type\":\"message\",\"to\":\"bob\",\"text\":\"hi\"}\n"),
          JsonCodec.CLIENT.encode(new ClientMessage.SendMessage("bob", "hi")));
    }

    @Test
    void shouldOmitEveryAbsentOptionalField() {
      assertAll(
          () ->
              assertEquals(
                  "{\"type\":\"message-accepted\",\"stored\":false}",
                  JsonCodec.SERVER.toJson(new ServerMessage.MessageAccepted(null, false))),
          () ->
              assertEquals(
                  "{\"type\":\"error\",\"code\":\"self\"}",
                  JsonCodec.SERVER.toJson(
                      new ServerMessage.Error(ServerMessage.Error.Code.SELF, null, null))),
          () ->
              assertEquals(
                  "{\"type\":\"login-failed\",\"reason\":\"unknown-user\"}",
                  JsonCodec.SERVER.toJson(
                      new ServerMessage.LoginFailed(
                          ServerMessage.LoginFailed.Reason.UNKNOWN_USER, null))),
          () ->
              assertEquals(
                  "{\"type\":\"hello\",\"version\":1}",
                  JsonCodec.SERVER.toJson(new ServerMessage.Hello(1, null))));
    }

    @Test
    void shouldWriteFieldsUnderTheirDocumentedNames() {
      assertAll(
          () ->
              assertEquals(
                  "{\"type\":\"password\",\"password\":\"pw\",\"peerPort\":5000}",
                  JsonCodec.CLIENT.toJson(new ClientMessage.Password("pw", 5000))),
          () ->
              assertEquals(
                  "{\"type\":\"peer-address\","
                      + "\"user\":\"bob\",\"host\":\"10.0.0.2\",\"port\":5001}",
                  JsonCodec.SERVER.toJson(new ServerMessage.PeerAddress("bob", "10.0.0.2", 5001))),
          () ->
              assertEquals(
                  "{\"type\":\"recent-users\",\"seconds\":60,\"users\":[]}",
                  JsonCodec.SERVER.toJson(new ServerMessage.RecentUsers(60, List.of()))),
          () ->
              assertEquals(
                  "{\"type\":\"private\",\"seq\":3,\"text\":\"ok\"}",
                  JsonCodec.PEER.toJson(new PeerMessage.Text(3, "ok"))));
    }

    @Test
    void shouldKeepNewlinesAndUnicodeInsideOneLine() {
      String text = "line one\nline two\r\n\ttab \"quoted\" back\\slash é ü 中文 😀 \u2028 end";
      List<ByteString> encoded =
          List.of(
              JsonCodec.CLIENT.encode(new ClientMessage.SendMessage("bob", text)),
              JsonCodec.CLIENT.encode(new ClientMessage.Broadcast(text)),
              JsonCodec.SERVER.encode(new ServerMessage.MessageReceived("alice", text, 1, null)),
              JsonCodec.PEER.encode(new PeerMessage.Text(1, text)));

      for (ByteString frame : encoded) {
        assertEquals(frame.length() - 1, frame.indexOf((byte) '\n'), "only the terminator");
        assertFalse(frame.contains((byte) '\r'), "no raw carriage return either");
      }
      assertAll(
          () ->
              assertEquals(
                  new Inbound.Frame<>(new ClientMessage.SendMessage("bob", text)),
                  JsonCodec.CLIENT.decode(encoded.get(0).dropRight(1))),
          () ->
              assertEquals(
                  new Inbound.Frame<>(new ClientMessage.Broadcast(text)),
                  JsonCodec.CLIENT.decode(encoded.get(1).dropRight(1))),
          () ->
              assertEquals(
                  new Inbound.Frame<>(new ServerMessage.MessageReceived("alice", text, 1, null)),
                  JsonCodec.SERVER.decode(encoded.get(2).dropRight(1))),
          () ->
              assertEquals(
                  new Inbound.Frame<>(new PeerMessage.Text(1, text)),
                  JsonCodec.PEER.decode(encoded.get(3).dropRight(1))));
    }

    @Test
    void shouldHideThePasswordFromToString() {
      String shown = new ClientMessage.Password("s3cret-Pa55", 5000).toString();

      assertFalse(shown.contains("s3cret-Pa55"), shown);
      assertTrue(shown.contains("5000"), "the port is still useful in logs: " + shown);
    }

    @Test
    void shouldCopyUserLists() {
      List<String> users = new ArrayList<>(List.of("bob"));
      ServerMessage.OnlineUsers frame = new ServerMessage.OnlineUsers(users);
      users.add("carol");

      assertEquals(List.of("bob"), frame.users());
      assertThrows(UnsupportedOperationException.class, () -> frame.users().add("dave"));
    }
  }

  @Nested
  final class Decoding {

    @ParameterizedTest
    @ValueSource(
        strings = {
          "not json",
          "{\"type\":\"logout\"",
          "{type:\"logout\"}",
          "{'type':'logout'}",
          ""
        })
    void shouldReportInvalidJsonAsMalformed(String line) {
      assertMalformed(JsonCodec.CLIENT.decode(line));
    }

    @ParameterizedTest
    @ValueSource(
        strings = {
          "{\"type\":\"logout\"} x",
          "{\"type\":\"logout\"}{\"type\":\"logout\"}",
          "{\"type\":\"logout\"},"
        })
    void shouldReportTrailingGarbageAsMalformed(String line) {
      assertMalformed(JsonCodec.CLIENT.decode(line));
    }

    @Test
    void shouldReportInvalidUtf8AsMalformed() {
      ByteString line =
          ByteString.fromString("{\"type\":\"broadcast\",\"text\":\"")
              .concat(ByteString.fromArray(new byte[] {(byte) 0xC3, (byte) 0x28}))
              .concat(ByteString.fromString("\"}"));

      assertMalformed(JsonCodec.CLIENT.decode(line));
    }

    @ParameterizedTest
    @ValueSource(
        strings = {"{\"username\":\"alice\"}", "{\"type\":null,\"username\":\"alice\"}", "{}"})
    void shouldReportAMissingTypeAsMalformed(String line) {
      assertEquals(
          new Inbound.Malformed<>("field 'type' is required"), JsonCodec.CLIENT.decode(line));
    }

    @ParameterizedTest
    @ValueSource(strings = {"42", "\"hello\"", "null", "[]", "true"})
    void shouldReportAnythingButAnObjectAsMalformed(String line) {
      assertEquals(
          new Inbound.Malformed<>("a frame must be a JSON object"), JsonCodec.CLIENT.decode(line));
    }

    @Test
    void shouldReportAnUnknownTypeByName() {
      assertEquals(
          new Inbound.UnknownType<>("shout"),
          JsonCodec.CLIENT.decode("{\"type\":\"shout\",\"text\":\"hi\"}"));
    }

    @Test
    void shouldTreatTypeNamesAsCaseSensitive() {
      assertEquals(
          new Inbound.UnknownType<>("Logout"), JsonCodec.CLIENT.decode("{\"type\":\"Logout\"}"));
    }

    @Test
    void shouldNotAcceptAnotherFamilysFrame() {
      // A server frame sent to the server, or a peer frame to a client's server link.
      assertAll(
          () ->
              assertEquals(
                  new Inbound.UnknownType<>("login-accepted"),
                  JsonCodec.CLIENT.decode("{\"type\":\"login-accepted\",\"username\":\"alice\"}")),
          () ->
              assertEquals(
                  new Inbound.UnknownType<>("private"),
                  JsonCodec.SERVER.decode("{\"type\":\"private\",\"seq\":1,\"text\":\"hi\"}")),
          () ->
              assertEquals(
                  new Inbound.UnknownType<>("message"),
                  JsonCodec.PEER.decode("{\"type\":\"message\",\"to\":\"bob\",\"text\":\"hi\"}")));
    }

    @Test
    void shouldNameAMissingRequiredTextField() {
      assertAll(
          () ->
              assertEquals(
                  new Inbound.Malformed<>("field 'username' is required"),
                  JsonCodec.CLIENT.decode("{\"type\":\"username\"}")),
          () ->
              assertEquals(
                  new Inbound.Malformed<>("field 'text' is required"),
                  JsonCodec.CLIENT.decode("{\"type\":\"message\",\"to\":\"bob\"}")),
          () ->
              assertEquals(
                  new Inbound.Malformed<>("field 'users' is required"),
                  JsonCodec.SERVER.decode("{\"type\":\"online-users\"}")),
          () ->
              assertEquals(
                  new Inbound.Malformed<>("field 'reason' is required"),
                  JsonCodec.PEER.decode("{\"type\":\"peer-bye\"}")));
    }

    @Test
    void shouldReportAMissingNumberAsMalformed() {
      assertAll(
          () -> assertMalformed(JsonCodec.CLIENT.decode("{\"type\":\"hello\"}")),
          () -> assertMalformed(JsonCodec.CLIENT.decode("{\"type\":\"ack\"}")),
          () -> assertMalformed(JsonCodec.CLIENT.decode("{\"type\":\"whoelsesince\"}")),
          () -> assertMalformed(JsonCodec.SERVER.decode("{\"type\":\"broadcast-sent\"}")),
          () -> assertMalformed(JsonCodec.PEER.decode("{\"type\":\"private-ack\"}")));
    }

    @Test
    void shouldRejectBlankRequiredText() {
      assertAll(
          () ->
              assertEquals(
                  new Inbound.Malformed<>("field 'username' is required"),
                  JsonCodec.CLIENT.decode("{\"type\":\"username\",\"username\":\"  \"}")),
          () ->
              assertEquals(
                  new Inbound.Malformed<>("field 'text' is required"),
                  JsonCodec.CLIENT.decode("{\"type\":\"broadcast\",\"text\":\"\"}")),
          () ->
              assertEquals(
                  new Inbound.Malformed<>("field 'to' is required"),
                  JsonCodec.CLIENT.decode(
                      "{\"type\":\"message\",\"to\":\"\\t\",\"text\":\"hi\"}")));
    }

    @ParameterizedTest
    @ValueSource(
        strings = {
          "{\"type\":\"username\",\"username\":{\"first\":\"alice\"}}",
          "{\"type\":\"username\",\"username\":[\"alice\"]}",
          "{\"type\":\"hello\",\"version\":\"one\"}",
          "{\"type\":\"hello\",\"version\":true}",
          "{\"type\":\"hello\",\"version\":null}",
          "{\"type\":\"hello\",\"version\":99999999999}",
          "{\"type\":\"whoelsesince\",\"seconds\":\"soon\"}",
          "{\"type\":\"password\",\"password\":\"pw\",\"peerPort\":[5000]}"
        })
    void shouldReportAWrongFieldTypeAsMalformed(String line) {
      assertMalformed(JsonCodec.CLIENT.decode(line));
    }

    @Test
    void shouldReportAWrongFieldTypeInServerFramesAsMalformed() {
      assertAll(
          () ->
              assertMalformed(
                  JsonCodec.SERVER.decode("{\"type\":\"online-users\",\"users\":\"bob\"}")),
          () ->
              assertMalformed(
                  JsonCodec.SERVER.decode("{\"type\":\"message-accepted\",\"stored\":\"maybe\"}")));
    }

    @ParameterizedTest
    @ValueSource(ints = {0, -1, 65_536, 100_000})
    void shouldRejectAPeerPortOutOfRange(int port) {
      assertEquals(
          new Inbound.Malformed<>("field 'peerPort' must be a port between 1 and 65535"),
          JsonCodec.CLIENT.decode(
              "{\"type\":\"password\",\"password\":\"pw\",\"peerPort\":" + port + "}"));
    }

    @Test
    void shouldAcceptThePortLimits() {
      assertAll(
          () ->
              assertEquals(
                  new Inbound.Frame<>(new ClientMessage.Password("pw", 1)),
                  JsonCodec.CLIENT.decode(
                      "{\"type\":\"password\",\"password\":\"pw\",\"peerPort\":1}")),
          () ->
              assertEquals(
                  new Inbound.Frame<>(new ClientMessage.Password("pw", 65_535)),
                  JsonCodec.CLIENT.decode(
                      "{\"type\":\"password\",\"password\":\"pw\",\"peerPort\":65535}")));
    }

    @Test
    void shouldRejectAPeerAddressPortOutOfRange() {
      assertEquals(
          new Inbound.Malformed<>("field 'port' must be a port between 1 and 65535"),
          JsonCodec.SERVER.decode(
              "{\"type\":\"peer-address\",\"user\":\"bob\",\"host\":\"10.0.0.2\",\"port\":0}"));
    }

    @Test
    void shouldRejectNegativeSecondsAndSequenceNumbers() {
      assertAll(
          () ->
              assertEquals(
                  new Inbound.Malformed<>("field 'seconds' must not be negative"),
                  JsonCodec.CLIENT.decode("{\"type\":\"whoelsesince\",\"seconds\":-1}")),
          () ->
              assertEquals(
                  new Inbound.Malformed<>("field 'seq' must be 1 or more"),
                  JsonCodec.PEER.decode("{\"type\":\"private\",\"seq\":0,\"text\":\"hi\"}")),
          () ->
              assertEquals(
                  new Inbound.Malformed<>("field 'seq' must not be negative"),
                  JsonCodec.PEER.decode("{\"type\":\"private-ack\",\"seq\":-1}")));
    }

    @Test
    void shouldAcceptZeroSeconds() {
      assertEquals(
          new Inbound.Frame<>(new ClientMessage.WhoElseSince(0)),
          JsonCodec.CLIENT.decode("{\"type\":\"whoelsesince\",\"seconds\":0}"));
    }

    @Test
    void shouldIgnoreUnknownFields() {
      assertAll(
          () ->
              assertEquals(
                  new Inbound.Frame<>(new ClientMessage.WhoElse()),
                  JsonCodec.CLIENT.decode(
                      "{\"type\":\"whoelse\",\"verbose\":true,\"filter\":{\"prefix\":[\"a\",1]}}")),
          () ->
              assertEquals(
                  new Inbound.Frame<>(new ClientMessage.Username("alice")),
                  JsonCodec.CLIENT.decode(
                      "{\"type\":\"username\",\"username\":\"alice\",\"client\":\"web 2.0\"}")),
          () ->
              assertEquals(
                  new Inbound.Frame<>(new ServerMessage.BroadcastSent(true)),
                  JsonCodec.SERVER.decode(
                      "{\"type\":\"broadcast-sent\",\"complete\":true,\"recipients\":3}")));
    }

    @Test
    void shouldAcceptFieldsInAnyOrder() {
      assertEquals(
          new Inbound.Frame<>(new ClientMessage.Password("pw", 5000)),
          JsonCodec.CLIENT.decode("{\"peerPort\":5000,\"password\":\"pw\",\"type\":\"password\"}"));
    }

    @Test
    void shouldTreatANullOrAbsentMessageIdAlike() {
      Inbound<ClientMessage> expected =
          new Inbound.Frame<>(new ClientMessage.SendMessage("bob", "hi"));

      assertAll(
          () ->
              assertEquals(
                  expected,
                  JsonCodec.CLIENT.decode("{\"type\":\"message\",\"to\":\"bob\",\"text\":\"hi\"}")),
          () ->
              assertEquals(
                  expected,
                  JsonCodec.CLIENT.decode(
                      "{\"type\":\"message\",\"to\":\"bob\",\"text\":\"hi\",\"id\":null}")));
    }

    @Test
    void shouldDecodeTextAndBytesAlike() {
      String line = "{\"type\":\"broadcast\",\"text\":\"héllo\"}";

      assertEquals(
          JsonCodec.CLIENT.decode(line), JsonCodec.CLIENT.decode(ByteString.fromString(line)));
    }

    private static void assertMalformed(Inbound<?> inbound) {
      Inbound.Malformed<?> malformed = assertInstanceOf(Inbound.Malformed.class, inbound);
      assertNotNull(malformed.reason(), "a reason to put in the error frame");
      assertFalse(malformed.reason().isBlank(), "a reason to put in the error frame");
    }
  }

  /**
   * Input Jackson would accept by default but which is not part of the protocol, and reasons that
   * must describe the input rather than the implementation (they are sent back to the peer).
   */
  @Nested
  final class Strictness {

    @Test
    void shouldNotDecodeJsonNullAsAFrame() {
      assertInstanceOf(Inbound.Malformed.class, JsonCodec.CLIENT.decode("null"));
    }

    @Test
    void shouldDecodeAPasswordWithoutAPeerPortAsAClientThatTakesNoPrivateChats() {
      assertEquals(
          new Inbound.Frame<>(new ClientMessage.Password("pw", null, null)),
          JsonCodec.CLIENT.decode("{\"type\":\"password\",\"password\":\"pw\"}"));
    }

    @Test
    void shouldNameAMissingNumberField() {
      Inbound.Malformed<?> malformed =
          assertInstanceOf(Inbound.Malformed.class, JsonCodec.CLIENT.decode("{\"type\":\"ack\"}"));

      assertTrue(malformed.reason().contains("seq"), malformed.reason());
      assertFalse(malformed.reason().contains("DeserializationFeature"), malformed.reason());
    }

    @Test
    void shouldAlwaysGiveAReason() {
      Inbound.Malformed<?> malformed =
          assertInstanceOf(
              Inbound.Malformed.class,
              JsonCodec.SERVER.decode("{\"type\":\"online-users\",\"users\":[\"bob\",null]}"));

      assertNotNull(malformed.reason());
    }

    @ParameterizedTest
    @ValueSource(
        strings = {
          "{\"type\":\"username\",\"username\":42}",
          "{\"type\":\"username\",\"username\":true}",
          "{\"type\":\"hello\",\"version\":\"1\"}",
          "{\"type\":\"hello\",\"version\":1.5}"
        })
    void shouldRejectScalarsOfTheWrongType(String line) {
      assertInstanceOf(Inbound.Malformed.class, JsonCodec.CLIENT.decode(line));
    }

    @Test
    void shouldRejectTheArrayWrapperForm() {
      assertInstanceOf(
          Inbound.Malformed.class,
          JsonCodec.CLIENT.decode("[\"username\",{\"username\":\"alice\"}]"));
    }

    @Test
    void shouldKeepJavaNamesOutOfReasons() {
      for (String line : List.of("[]", "{\"type\":\"logout\"")) {
        Inbound.Malformed<?> malformed =
            assertInstanceOf(Inbound.Malformed.class, JsonCodec.CLIENT.decode(line));
        assertFalse(malformed.reason().contains("dev.parley"), malformed.reason());
        assertFalse(malformed.reason().contains("StreamReadFeature"), malformed.reason());
      }
    }

    @Test
    void shouldRefuseToEncodeNull() {
      assertThrows(NullPointerException.class, () -> JsonCodec.SERVER.encode(null));
    }
  }
}
