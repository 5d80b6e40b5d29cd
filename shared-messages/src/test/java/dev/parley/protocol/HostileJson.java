package dev.parley.protocol;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Lines a hostile or broken peer might send, for the decoder's robustness properties: JSON objects
 * made of the protocol's own type and field names with values of the wrong JSON type, numbers out
 * of every range, duplicate keys, nesting far past the codec's limit, invalid UTF-8, and valid
 * frames cut short or mutated byte by byte.
 */
final class HostileJson {

  /** Every type of the three families, near misses, and names of no family. */
  static final List<String> TYPES =
      java.util.stream.Stream.of(
              WireNames.namesOf(ClientMessage.class),
              WireNames.namesOf(ServerMessage.class),
              WireNames.namesOf(PeerMessage.class),
              List.of(
                  "",
                  " ",
                  "HELLO",
                  "hello ",
                  "Hello",
                  "encoded",
                  "Encoded",
                  "shout",
                  "null",
                  "0",
                  "\u0000",
                  "h\u00E9llo",
                  "hello\n",
                  "\uD83D\uDE00"))
          .flatMap(List::stream)
          .toList();

  /** Every field name of the three families, and a few that belong to none. */
  static final List<String> FIELDS =
      java.util.stream.Stream.of(
              List.of("type"),
              WireNames.fieldsOf(ClientMessage.class),
              WireNames.fieldsOf(ServerMessage.class),
              WireNames.fieldsOf(PeerMessage.class),
              List.of("@class", "", "Type", "TYPE"))
          .flatMap(List::stream)
          .distinct()
          .toList();

  /** Numbers JSON allows, at and past the edges of int and long, and beyond any double. */
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
          "-2147483649",
          "9223372036854775807",
          "9223372036854775808",
          "-9223372036854775809",
          "99999999999999999999999999999999999999",
          "1.0",
          "1.5",
          "-0.0",
          "1e2",
          "1E400",
          "1e-400");

  /** Numbers as JavaScript or a sloppy writer spells them, which JSON does not allow. */
  private static final List<String> NOT_JSON_NUMBERS =
      List.of("0x10", "01", "+1", ".5", "1.", "NaN", "Infinity", "-Infinity");

  private HostileJson() {}

  /** One hostile line, without its line feed. */
  static byte[] line(Gen g) {
    return switch (g.between(0, 9)) {
      case 0 -> g.bytes(200);
      case 1, 2, 3 -> utf8(object(g, 0));
      case 4 -> nested(g);
      case 5 -> utf8(hugeNumberFrame(g));
      case 6 -> mutated(g, validFrame(g));
      case 7 -> truncated(g, validFrame(g));
      case 8 -> withInvalidUtf8(g);
      default -> utf8(duplicateKeys(g));
    };
  }

  /** A JSON object of protocol fields with values of any JSON type. */
  static String object(Gen g, int depth) {
    StringBuilder json = new StringBuilder("{");
    int fields = g.size(6);
    boolean typed = g.chance(0.9);
    int typeAt = g.between(0, fields);
    for (int i = 0; i <= fields; i++) {
      if (i == typeAt && typed) {
        comma(json);
        json.append("\"type\":")
            .append(g.chance(0.85) ? string(g, g.pick(TYPES)) : value(g, depth + 1));
      }
      if (i < fields) {
        comma(json);
        json.append(string(g, g.chance(0.9) ? g.pick(FIELDS) : g.text(12)))
            .append(':')
            .append(value(g, depth + 1));
      }
    }
    return json.append('}').toString();
  }

  /** Any JSON value, of bounded depth. */
  static String value(Gen g, int depth) {
    int kind = g.between(0, depth > 4 ? 5 : 8);
    return switch (kind) {
      case 0, 1 -> string(g, g.chance(0.7) ? g.text(40) : g.name());
      case 2 -> g.chance(0.8) ? g.pick(NUMBERS) : g.pick(NOT_JSON_NUMBERS);
      case 3 -> Long.toString(g.longAtLeast(Long.MIN_VALUE));
      case 4 -> g.pick("true", "false", "null");
      case 5 -> g.pick("\"\"", "\" \"", "[]", "{}", "\"\\u0000\"", "\"\\uD800\"", "\"\\uDC00x\"");
      case 6 -> {
        StringBuilder array = new StringBuilder("[");
        int items = g.size(4);
        for (int i = 0; i < items; i++) {
          comma(array);
          array.append(value(g, depth + 1));
        }
        yield array.append(']').toString();
      }
      default -> object(g, depth + 1);
    };
  }

  /** A value JSON allows (any type, nested a little), for places where the syntax must hold. */
  static String validValue(Gen g, int depth) {
    return switch (g.between(0, depth > 3 ? 3 : 5)) {
      case 0 -> string(g, g.text(40));
      // The codec reads numbers of at most 32 characters, even where it skips them.
      case 1 -> g.pick(NUMBERS.stream().filter(n -> n.length() <= 32).toList());
      case 2 -> g.pick("true", "false", "null");
      case 3 -> g.pick("\"\"", "[]", "{}", "\"\\uD800\"");
      case 4 -> "[" + validValue(g, depth + 1) + "," + validValue(g, depth + 1) + "]";
      default ->
          "{\"type\":" + validValue(g, depth + 1) + ",\"b\":" + validValue(g, depth + 1) + "}";
    };
  }

  /**
   * A JSON string literal for {@code text}: escaped the usual way, or with every non-ASCII
   * character as a {@code \\uXXXX} escape, which also reaches the decoder's surrogate handling.
   */
  static String string(Gen g, String text) {
    boolean escapeAll = g.chance(0.3);
    StringBuilder json = new StringBuilder("\"");
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
    return json.append('"').toString();
  }

  /** Arrays or objects nested from a few levels below the limit of 16 to far above it. */
  static byte[] nested(Gen g) {
    int depth = g.chance(0.5) ? g.between(12, 20) : g.between(20, 20_000);
    boolean arrays = g.chance(0.5);
    String open = arrays ? "[" : "{\"a\":";
    String close = arrays ? "]" : "}";
    String inner = g.pick("1", "\"x\"", "null", "{}", "[]");
    String body = open.repeat(depth) + inner + close.repeat(g.chance(0.9) ? depth : depth / 2);
    String field = g.pick(FIELDS);
    String json =
        switch (g.between(0, 2)) {
          case 0 -> body;
          case 1 -> "{\"type\":" + string(g, g.pick(TYPES)) + ",\"" + field + "\":" + body + "}";
          default -> "{\"" + field + "\":" + body + ",\"type\":\"whoelse\"}";
        };
    return utf8(json);
  }

  static String hugeNumberFrame(Gen g) {
    String digits = "9".repeat(g.between(15, 5_000));
    String number =
        g.pick(
            digits,
            "-" + digits,
            "1e" + digits,
            "0." + digits,
            digits + ".5",
            g.pick(NUMBERS),
            g.pick(NOT_JSON_NUMBERS));
    return "{\"type\":"
        + string(g, g.pick(TYPES))
        + ",\""
        + g.pick("seq", "seconds", "version", "peerPort", "port", "text", "to", "stored")
        + "\":"
        + number
        + "}";
  }

  static String duplicateKeys(Gen g) {
    StringBuilder json = new StringBuilder("{");
    int fields = g.between(2, 8);
    for (int i = 0; i < fields; i++) {
      comma(json);
      String name = g.chance(0.5) ? "type" : g.pick(FIELDS);
      String value = name.equals("type") && g.chance(0.8) ? string(g, g.pick(TYPES)) : value(g, 3);
      json.append('"').append(name).append("\":").append(value);
    }
    return json.append('}').toString();
  }

  /** A valid frame of any family, as the codec writes it, without the line feed. */
  static byte[] validFrame(Gen g) {
    byte[] line =
        switch (g.between(0, 2)) {
          case 0 -> JsonCodec.CLIENT.encode(ArbitraryFrames.client(g)).toArray();
          case 1 -> JsonCodec.SERVER.encode(ArbitraryFrames.server(g)).toArray();
          default -> JsonCodec.PEER.encode(ArbitraryFrames.peer(g)).toArray();
        };
    return java.util.Arrays.copyOf(line, line.length - 1);
  }

  /** Some bytes of {@code line} replaced, removed, doubled or inserted. */
  static byte[] mutated(Gen g, byte[] line) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(line);
    byte[] bytes = out.toByteArray();
    int mutations = g.between(1, 4);
    for (int m = 0; m < mutations && bytes.length > 0; m++) {
      int at = g.between(0, bytes.length - 1);
      ByteArrayOutputStream next = new ByteArrayOutputStream();
      switch (g.between(0, 3)) {
        case 0 -> {
          bytes[at] =
              (byte)
                  g.pick(
                      new int[] {'"', '\\', '{', '}', '[', ']', ':', ',', '0', 'x', 0x80, 0xFF, 0});
          continue;
        }
        case 1 -> {
          int end = Math.min(bytes.length, at + g.between(1, 8));
          next.write(bytes, 0, at);
          next.write(bytes, end, bytes.length - end);
        }
        case 2 -> {
          int end = Math.min(bytes.length, at + g.between(1, 16));
          next.write(bytes, 0, end);
          next.write(bytes, at, bytes.length - at);
        }
        default -> {
          next.write(bytes, 0, at);
          next.writeBytes(utf8(value(g, 3)));
          next.write(bytes, at, bytes.length - at);
        }
      }
      bytes = next.toByteArray();
    }
    return bytes;
  }

  static byte[] truncated(Gen g, byte[] line) {
    return java.util.Arrays.copyOf(line, g.between(0, Math.max(0, line.length - 1)));
  }

  /** A frame whose text holds bytes that are not UTF-8, or UTF-8 for a surrogate (CESU-8). */
  static byte[] withInvalidUtf8(Gen g) {
    byte[][] invalid = {
      {(byte) 0x80},
      {(byte) 0xC0, (byte) 0x80},
      {(byte) 0xC3},
      {(byte) 0xE2, (byte) 0x82},
      {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
      {(byte) 0xED, (byte) 0xB0, (byte) 0x80},
      {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80},
      {(byte) 0xF8, (byte) 0x88},
      {(byte) 0xFF},
      {(byte) 0xFE},
      {(byte) 0xF0, (byte) 0x9F, (byte) 0x98}
    };
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(
        utf8(
            "{\"type\":\""
                + g.pick("broadcast", "private", "username", "message")
                + "\",\""
                + g.pick("text", "username", "to", "user")
                + "\":\"a"));
    int count = g.between(1, 3);
    for (int i = 0; i < count; i++) {
      out.writeBytes(invalid[g.between(0, invalid.length - 1)]);
      out.writeBytes(utf8(g.text(4).replace("\"", "").replace("\\", "")));
    }
    out.writeBytes(utf8("\",\"to\":\"bob\",\"seq\":1,\"version\":2,\"user\":\"bob\"}"));
    return out.toByteArray();
  }

  static byte[] utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  private static void comma(StringBuilder json) {
    char last = json.charAt(json.length() - 1);
    if (last != '{' && last != '[') {
      json.append(',');
    }
  }
}
