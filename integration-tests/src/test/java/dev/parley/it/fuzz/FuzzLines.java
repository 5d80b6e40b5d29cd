package dev.parley.it.fuzz;

import dev.parley.protocol.ClientMessage;
import dev.parley.protocol.JsonCodec;
import dev.parley.protocol.PeerMessage;
import dev.parley.protocol.Protocol;
import dev.parley.protocol.ServerMessage;
import dev.parley.protocol.WireNames;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * What the fuzzers send: one line at a time (without its line feed), each with the category it is
 * counted under. Valid commands with odd values, frames at every size limit, and every kind of
 * malformed line: fields of the wrong JSON type, unknown and near-miss types, duplicate keys,
 * numbers out of range, nesting far past the codec's limit, invalid UTF-8, cut and mutated frames,
 * frames of the wrong family, random bytes.
 */
final class FuzzLines {

  /** A line to send and what it is counted as. */
  record Line(String category, byte[] bytes) {
    static Line of(String category, String json) {
      return new Line(category, json.getBytes(StandardCharsets.UTF_8));
    }
  }

  /** The demo accounts; the fuzzers log in as them and name them in commands. */
  static final List<String> USERS = List.of("hans", "yoda", "luke", "vader", "r2d2");

  /** Every client frame type there is, read from the protocol's own registry of them. */
  static final List<String> CLIENT_TYPES = WireNames.namesOf(ClientMessage.class);

  private static final List<String> OTHER_TYPES =
      List.of(
          "login-accepted",
          "message-received",
          "goodbye",
          "error",
          "peer-hello",
          "private",
          "private-ack",
          "peer-bye",
          "encoded",
          "HELLO",
          "hello ",
          " whoelse",
          "",
          "\u0000",
          "who\u0000else",
          "\u202Ewhoelse",
          "x".repeat(300));

  /** The fields of client frames (read from the protocol's registry) and of server frames. */
  private static final List<String> FIELDS =
      java.util.stream.Stream.of(
              List.of("type"),
              WireNames.fieldsOf(ClientMessage.class),
              WireNames.fieldsOf(ServerMessage.class),
              List.of("@class", ""))
          .flatMap(List::stream)
          .distinct()
          .toList();

  private static final List<String> NUMBERS =
      List.of(
          "0",
          "-0",
          "1",
          "-1",
          "2",
          "65535",
          "65536",
          "2147483647",
          "2147483648",
          "9223372036854775807",
          "9223372036854775808",
          "-9223372036854775809",
          "123456789012345678901234567890123",
          "1.0",
          "1e2",
          "1E400",
          "-1e-400",
          "0x10",
          "01",
          "+1",
          ".5",
          "NaN",
          "Infinity");

  /**
   * Categories left out of a run ({@code -Dfuzz.skip=a,b}): for running green past a finding that
   * is reported and not fixed yet, without losing the rest of the run.
   */
  static final Set<String> SKIPPED =
      Set.of(System.getProperty("fuzz.skip", "").split("\\s*,\\s*")).stream()
          .filter(category -> !category.isBlank())
          .collect(java.util.stream.Collectors.toUnmodifiableSet());

  private final FuzzRandom random;

  FuzzLines(FuzzRandom random) {
    this.random = random;
  }

  // ---- valid frames ---------------------------------------------------------------------------

  static Line client(String category, ClientMessage frame) {
    byte[] line = JsonCodec.CLIENT.encode(frame).toArray();
    return new Line(category, Arrays.copyOf(line, line.length - 1));
  }

  static Line peer(String category, PeerMessage frame) {
    byte[] line = JsonCodec.PEER.encode(frame).toArray();
    return new Line(category, Arrays.copyOf(line, line.length - 1));
  }

  /** A valid command of the active phase, with random and edge values. */
  Line command() {
    return switch (random.between(0, 11)) {
      case 0, 1, 2 ->
          client(
              "valid-command",
              new ClientMessage.SendMessage(
                  user(), random.nonBlankText(random.chance(0.05) ? 4_000 : 200), messageId()));
      case 3 -> client("valid-command", new ClientMessage.Broadcast(random.nonBlankText(300)));
      case 4 -> client("valid-command", new ClientMessage.WhoElse());
      case 5 ->
          client(
              "valid-command",
              new ClientMessage.WhoElseSince(
                  random.chance(0.5)
                      ? random.between(0, 1_000)
                      : random.pick(0L, Long.MAX_VALUE, (long) Integer.MAX_VALUE + 1)));
      case 6 -> client("valid-command", new ClientMessage.Block(user()));
      case 7 -> client("valid-command", new ClientMessage.Unblock(user()));
      case 8 -> client("valid-command", new ClientMessage.StartPrivate(user()));
      case 9 -> client("valid-command", new ClientMessage.NoteActivity());
      case 10 ->
          client(
              "valid-command",
              new ClientMessage.Acknowledge(
                  random.pick(1L, 2L, 1_000L, Long.MAX_VALUE, (long) random.between(1, 100))));
      default -> textAtALimit();
    };
  }

  /** A demo user, or a name no account has. */
  String user() {
    return random.chance(0.85) ? random.pick(USERS) : random.token(Protocol.MAX_NAME_LENGTH);
  }

  private String messageId() {
    return switch (random.between(0, 3)) {
      case 0 -> null;
      case 1 -> random.token(ClientMessage.SendMessage.MAX_ID_LENGTH);
      // Ids are meant to be unique per sender; a repeated one is a resend.
      case 2 -> "dup-" + random.between(0, 3);
      default -> "m-" + random.nextLong();
    };
  }

  /**
   * A message or broadcast whose text is right at a limit: the text limit (in encoded bytes, made
   * of the costliest characters) or the frame limit itself (the whole line exactly {@link
   * Protocol#MAX_FRAME_BYTES} bytes or a few under).
   */
  Line textAtALimit() {
    boolean broadcast = random.chance(0.5);
    String to = user();
    if (random.chance(0.5) || SKIPPED.contains("text-at-frame-limit")) {
      String text = heavyText(Protocol.MAX_TEXT_BYTES + random.between(-8, 8));
      ClientMessage frame =
          broadcast
              ? new ClientMessage.Broadcast(text)
              : new ClientMessage.SendMessage(to, text, messageId());
      return client("text-at-text-limit", frame);
    }
    // The whole line at the frame limit or a few bytes under: the most a client may send, which
    // leaves a server's relayed frame (longer type, sender, seq) no room of its own.
    ClientMessage empty =
        broadcast ? new ClientMessage.Broadcast("x") : new ClientMessage.SendMessage(to, "x", null);
    int envelope = JsonCodec.CLIENT.encode(empty).length() - 1 - 1;
    int room = Protocol.MAX_FRAME_BYTES - envelope - random.between(0, 3);
    String text = random.chance(0.5) ? "a".repeat(room) : heavyText(room);
    ClientMessage frame =
        broadcast
            ? new ClientMessage.Broadcast(text)
            : new ClientMessage.SendMessage(to, text, null);
    return client("text-at-frame-limit", frame);
  }

  /** Text whose JSON takes about {@code bytes}: runs of emoji, escaped controls, quotes, CJK. */
  String heavyText(int bytes) {
    StringBuilder text = new StringBuilder();
    int used = 0;
    int[][] units = {
      {0x1F600, 4}, {0x01, 6}, {'"', 2}, {'\n', 2}, {0x4E2D, 3}, {0xE9, 2}, {'a', 1}
    };
    int[] unit = units[random.between(0, units.length - 1)];
    while (used + unit[1] <= bytes) {
      text.appendCodePoint(unit[0]);
      used += unit[1];
      if (random.chance(0.01)) {
        unit = units[random.between(0, units.length - 1)];
      }
    }
    while (used < bytes) {
      text.append('a');
      used++;
    }
    return text.toString();
  }

  /** A frame of a client type with values at or past the edges of what it accepts. */
  Line edgeFrame() {
    String json =
        switch (random.between(0, 9)) {
          case 0 -> "{\"type\":\"hello\",\"version\":" + random.pick(NUMBERS) + "}";
          case 1 ->
              "{\"type\":\"username\",\"username\":"
                  + string(
                      random.pick(
                          "x".repeat(Protocol.MAX_NAME_LENGTH),
                          "x".repeat(Protocol.MAX_NAME_LENGTH + 1),
                          "hans ",
                          " hans",
                          "hans\u0000",
                          "ha\nns",
                          "\u00A0",
                          "hans\u202E",
                          "\uD83D\uDE00".repeat(32),
                          "\uD83D\uDE00".repeat(33),
                          random.token(80)))
                  + "}";
          case 2 ->
              "{\"type\":\"password\",\"password\":"
                  + string(
                      random.pick(
                          "p".repeat(Protocol.MAX_PASSWORD_LENGTH),
                          "p".repeat(Protocol.MAX_PASSWORD_LENGTH + 1),
                          "\uD83D\uDE00".repeat(600),
                          " ",
                          random.text(40)))
                  + ",\"peerPort\":"
                  + random.pick(NUMBERS)
                  + "}";
          case 3 ->
              "{\"type\":\"message\",\"to\":"
                  + string(user())
                  + ",\"text\":"
                  + string(random.pick("", " ", "\t\n", "\u0000", "x", random.text(50)))
                  + ",\"id\":"
                  + string(
                      random.pick(
                          "",
                          " ",
                          "x".repeat(64),
                          "x".repeat(65),
                          "a b",
                          "\u0000",
                          "\uD83D\uDE00".repeat(32)))
                  + "}";
          case 4 -> "{\"type\":\"message\",\"to\":\"vader\",\"text\":\"\\uD800 lone\"}";
          case 5 -> "{\"type\":\"broadcast\",\"text\":\"\\u0000\"}";
          case 6 -> "{\"type\":\"whoelsesince\",\"seconds\":" + random.pick(NUMBERS) + "}";
          case 7 -> "{\"type\":\"ack\",\"seq\":" + random.pick(NUMBERS) + "}";
          case 8 ->
              "{\"type\":"
                  + string(random.pick("block", "unblock", "startprivate"))
                  + ",\"user\":"
                  + string(random.pick("", "nobody", "x".repeat(65), random.token(64)))
                  + "}";
          default ->
              "{\"type\":\"message\",\"to\":\"yoda\",\"text\":\""
                  + "\\u0041".repeat(random.between(1, 9_000))
                  + "\"}";
        };
    return Line.of("edge-frame", json);
  }

  // ---- malformed lines ------------------------------------------------------------------------

  /** Any malformed line (never longer than the frame limit). */
  Line hostile() {
    return switch (random.between(0, 12)) {
      case 12 -> echoed();
      case 0 -> new Line("random-bytes", withoutLineFeeds(random.bytes(random.size(300))));
      case 1, 2 -> Line.of("type-confused", object(0));
      case 3 ->
          Line.of(
              "unknown-type",
              "{\"type\":" + string(random.pick(OTHER_TYPES)) + ",\"text\":\"hi\"}");
      case 4 -> Line.of("nested", nested());
      case 5 ->
          Line.of(
              "huge-number",
              "{\"type\":"
                  + string(random.pick(CLIENT_TYPES))
                  + ",\""
                  + random.pick("seq", "seconds", "version", "peerPort")
                  + "\":"
                  + "9".repeat(random.between(20, 20_000))
                  + "}");
      case 6 -> Line.of("duplicate-keys", duplicateKeys());
      case 7 -> new Line("truncated", truncated(command().bytes()));
      case 8 -> new Line("mutated", mutated(command().bytes()));
      case 9 -> new Line("invalid-utf8", invalidUtf8());
      case 10 -> wrongFamily();
      default ->
          Line.of(
              "blank-or-control",
              random.pick(
                  "",
                  " ",
                  "\t \t",
                  "\r",
                  " \r",
                  "\u0000",
                  "{}",
                  "[]",
                  "null",
                  "\"hello\"",
                  "{\"type\":null}",
                  "{\"type\":[\"hello\"]}",
                  "{\"type\":{\"type\":\"hello\"}}"));
    };
  }

  /**
   * A frame whose {@code type} is unknown and made to be echoed: a server answers an unknown type
   * by naming it in an error (and logs it), so its length and its characters travel on.
   */
  Line echoed() {
    if (random.chance(0.5) && !SKIPPED.contains("unknown-type-at-frame-limit")) {
      String envelope = "{\"type\":\"\"}";
      int room = Protocol.MAX_FRAME_BYTES - envelope.length() - random.between(0, 2);
      return Line.of("unknown-type-at-frame-limit", "{\"type\":\"" + "t".repeat(room) + "\"}");
    }
    String type =
        random.pick(
            "x\\n2026-01-01T00:00:00.000Z ERROR Main - forged by a client",
            "x\\r\\nforged",
            "\\u001b[2J\\u001b[31mred",
            "nul\\u0000byte",
            "\\u2028separator",
            "\\u202Ereversed");
    if (SKIPPED.contains("unknown-type-with-controls")) {
      return Line.of("unknown-type", "{\"type\":\"shout\"}");
    }
    return Line.of("unknown-type-with-controls", "{\"type\":\"" + type + "\"}");
  }

  /** A frame of the server's or the peer family, sent where it does not belong. */
  Line wrongFamily() {
    if (random.chance(0.5)) {
      byte[] line =
          JsonCodec.SERVER
              .encode(new ServerMessage.MessageReceived("hans", random.text(30) + "x", 1, null))
              .toArray();
      return new Line("wrong-family", Arrays.copyOf(line, line.length - 1));
    }
    return peer("wrong-family", new PeerMessage.Text(1, random.text(30)));
  }

  /** A line longer than the frame limit: the connection must end with frame-too-long. */
  byte[] oversized() {
    int length = Protocol.MAX_FRAME_BYTES + random.pick(1, 2, random.between(3, 200_000));
    byte[] line = new byte[length];
    byte[] start = "{\"type\":\"broadcast\",\"text\":\"".getBytes(StandardCharsets.UTF_8);
    System.arraycopy(start, 0, line, 0, start.length);
    Arrays.fill(line, start.length, length, (byte) (random.chance(0.5) ? 'a' : ' '));
    return line;
  }

  /** A JSON object of protocol field names with values of any JSON type. */
  String object(int depth) {
    StringBuilder json = new StringBuilder("{");
    if (random.chance(0.9)) {
      json.append("\"type\":")
          .append(random.chance(0.85) ? string(random.pick(CLIENT_TYPES)) : value(depth + 1));
    }
    int fields = random.size(6);
    for (int i = 0; i < fields; i++) {
      comma(json);
      json.append(string(random.pick(FIELDS))).append(':').append(value(depth + 1));
    }
    return json.append('}').toString();
  }

  private String value(int depth) {
    return switch (random.between(0, depth > 3 ? 4 : 6)) {
      case 0, 1 -> string(random.chance(0.5) ? random.text(30) : random.pick(USERS));
      case 2 -> random.pick(NUMBERS);
      case 3 -> random.pick("true", "false", "null", "\"\"", "\" \"");
      case 4 -> random.pick("[]", "{}", "\"\\uD800\"", "\"\\u0000\"", "[null]");
      case 5 -> "[" + value(depth + 1) + "," + value(depth + 1) + "]";
      default -> object(depth + 1);
    };
  }

  private String nested() {
    int depth = random.chance(0.3) ? random.between(14, 20) : random.between(20, 30_000);
    boolean arrays = random.chance(0.5);
    String body =
        (arrays ? "[" : "{\"a\":").repeat(depth)
            + "1"
            + (arrays ? "]" : "}").repeat(random.chance(0.8) ? depth : depth / 3);
    return random.chance(0.5)
        ? "{\"type\":\"message\",\"to\":\"yoda\",\"text\":" + body + "}"
        : "{\"extra\":" + body + ",\"type\":\"whoelse\"}";
  }

  private String duplicateKeys() {
    StringBuilder json = new StringBuilder("{");
    int fields = random.between(2, 8);
    for (int i = 0; i < fields; i++) {
      comma(json);
      String name = random.chance(0.5) ? "type" : random.pick(FIELDS);
      json.append(string(name))
          .append(':')
          .append(name.equals("type") ? string(random.pick(CLIENT_TYPES)) : value(3));
    }
    return json.append('}').toString();
  }

  private byte[] truncated(byte[] line) {
    return Arrays.copyOf(line, random.between(0, Math.max(0, line.length - 1)));
  }

  private byte[] mutated(byte[] line) {
    byte[] bytes = line.clone();
    int mutations = random.between(1, 4);
    for (int m = 0; m < mutations && bytes.length > 0; m++) {
      bytes[random.between(0, bytes.length - 1)] =
          (byte) random.pickInt('"', '\\', '{', '}', '[', ']', ':', ',', '0', 0x80, 0xFF, 0, '\r');
    }
    return bytes;
  }

  private byte[] invalidUtf8() {
    byte[][] invalid = {
      {(byte) 0x80},
      {(byte) 0xC0, (byte) 0x80},
      {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
      {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80},
      {(byte) 0xFF},
      {(byte) 0xE2, (byte) 0x82}
    };
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(
        "{\"type\":\"message\",\"to\":\"yoda\",\"text\":\"a".getBytes(StandardCharsets.UTF_8));
    out.writeBytes(invalid[random.between(0, invalid.length - 1)]);
    out.writeBytes("b\"}".getBytes(StandardCharsets.UTF_8));
    return out.toByteArray();
  }

  private static byte[] withoutLineFeeds(byte[] bytes) {
    for (int i = 0; i < bytes.length; i++) {
      if (bytes[i] == '\n') {
        bytes[i] = ' ';
      }
    }
    return bytes;
  }

  // ---- peer lines ------------------------------------------------------------------------------

  /** A malformed or misplaced peer-hello. */
  Line garbageHello() {
    String json =
        switch (random.between(0, 7)) {
          case 0 ->
              "{\"type\":\"peer-hello\",\"version\":" + random.pick(NUMBERS) + ",\"user\":\"fz\"}";
          case 1 -> "{\"type\":\"peer-hello\",\"version\":" + Protocol.VERSION + "}";
          case 2 ->
              "{\"type\":\"peer-hello\",\"version\":"
                  + Protocol.VERSION
                  + ",\"user\":"
                  + string(random.pick("", " ", "a b", "x".repeat(65), "\u0000", "tab\t", "nl\n"))
                  + "}";
          case 3 -> "{\"type\":\"peer-hello\",\"version\":\"2\",\"user\":\"fz\"}";
          case 4 -> "{\"type\":\"peer-hello\",\"version\":2,\"user\":42}";
          case 5 -> "{\"type\":\"peer-hello\",\"user\":[\"fz\"],\"version\":2}";
          case 6 ->
              "{\"type\":\"peer-hello\",\"version\":"
                  + random.pickInt(1, 3, 0, -1, Integer.MAX_VALUE)
                  + ",\"user\":\"fz-old\"}";
          default -> "{\"type\":\"peer-hello\",\"version\":2,\"user\":\"fz\",\"user\":\"\"}";
        };
    return Line.of("peer-garbage-hello", json);
  }

  /** A peer frame with random and edge values: valid in itself, perhaps not in its place. */
  Line peerFrame() {
    return switch (random.between(0, 5)) {
      case 0, 1 ->
          peer(
              "peer-frame",
              new PeerMessage.Text(
                  random.pick(1L, 2L, Long.MAX_VALUE, (long) random.between(1, 50)),
                  random.text(random.chance(0.05) ? 20_000 : 200)));
      case 2 ->
          peer(
              "peer-frame",
              new PeerMessage.Ack(
                  random.pick(0L, 1L, Long.MAX_VALUE, (long) random.between(0, 50))));
      case 3 ->
          peer("peer-frame", new PeerMessage.Bye(random.pick(PeerMessage.Bye.Reason.values())));
      case 4 ->
          Line.of(
              "peer-frame",
              "{\"type\":\"private\",\"seq\":"
                  + random.pick(NUMBERS)
                  + ",\"text\":"
                  + string(random.text(40))
                  + "}");
      default ->
          Line.of("peer-frame", "{\"type\":\"private-ack\",\"seq\":" + random.pick(NUMBERS) + "}");
    };
  }

  // ---- JSON helpers ----------------------------------------------------------------------------

  /** A JSON string literal, sometimes with every non-ASCII character escaped. */
  String string(String text) {
    return "\"" + escape(text) + "\"";
  }

  private String escape(String text) {
    boolean escapeAll = random.chance(0.2);
    StringBuilder json = new StringBuilder(text.length() + 16);
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '"' || c == '\\') {
        json.append('\\').append(c);
      } else if (c < 0x20 || (escapeAll && c > 0x7E)) {
        json.append(String.format("\\u%04X", (int) c));
      } else {
        json.append(c);
      }
    }
    return json.toString();
  }

  private static void comma(StringBuilder json) {
    char last = json.charAt(json.length() - 1);
    if (last != '{' && last != '[') {
      json.append(',');
    }
  }
}
