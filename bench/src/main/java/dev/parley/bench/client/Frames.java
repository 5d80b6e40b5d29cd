package dev.parley.bench.client;

import java.nio.charset.StandardCharsets;

/**
 * Reads fields out of one line of JSON with plain byte searches instead of a JSON parser, which
 * keeps the generator's cost per frame far below the server's. This is sound for the frames Parley
 * sends: inside a JSON string every quote is escaped, so a search for {@code "key":} can only match
 * a real key, and the values the generator reads back (numbers, its own payloads, codes and
 * reasons) contain no escapes. Lines are given as {@code buf[from, to)}, without the line feed.
 */
public final class Frames {

  private static final byte[] TYPE_KEY = key("type");
  private static final byte[] TRUE = ascii("true");
  private static final int NOT_FOUND = -1;

  private Frames() {}

  /** The bytes of {@code "name":}, for the searches below. */
  public static byte[] key(String name) {
    return ascii("\"" + name + "\":");
  }

  public static byte[] ascii(String text) {
    return text.getBytes(StandardCharsets.US_ASCII);
  }

  /** The frame's type; {@link FrameType#OTHER} for a type the generator does not know. */
  public static FrameType type(byte[] buf, int from, int to) {
    // Parley writes the type first ({"type":"...); look further only for other writers.
    int at = startsWith(buf, from + 1, to, TYPE_KEY) ? from + 1 : indexOf(buf, from, to, TYPE_KEY);
    if (at < 0) {
      return FrameType.OTHER;
    }
    int start = at + TYPE_KEY.length;
    if (start >= to || buf[start] != '"') {
      return FrameType.OTHER;
    }
    start++;
    int end = indexOf(buf, start, to, (byte) '"');
    if (end < 0) {
      return FrameType.OTHER;
    }
    int length = end - start;
    for (FrameType type : FrameType.KNOWN) {
      if (type.wire.length == length && startsWith(buf, start, end, type.wire)) {
        return type;
      }
    }
    return FrameType.OTHER;
  }

  /** Where {@code needle} first starts in {@code buf[from, to)}, or -1. */
  public static int indexOf(byte[] buf, int from, int to, byte[] needle) {
    int last = to - needle.length;
    byte first = needle[0];
    for (int i = from; i <= last; i++) {
      if (buf[i] == first && startsWith(buf, i, to, needle)) {
        return i;
      }
    }
    return NOT_FOUND;
  }

  /** Where {@code b} first occurs in {@code buf[from, to)}, or -1. */
  public static int indexOf(byte[] buf, int from, int to, byte b) {
    for (int i = from; i < to; i++) {
      if (buf[i] == b) {
        return i;
      }
    }
    return NOT_FOUND;
  }

  /** Whether {@code buf[at, to)} starts with {@code prefix}. */
  public static boolean startsWith(byte[] buf, int at, int to, byte[] prefix) {
    if (at < 0 || to - at < prefix.length) {
      return false;
    }
    for (int i = 0; i < prefix.length; i++) {
      if (buf[at + i] != prefix[i]) {
        return false;
      }
    }
    return true;
  }

  /** Where the value of {@code key} (made by {@link #key}) starts, or -1 without that key. */
  public static int valueAt(byte[] buf, int from, int to, byte[] key) {
    int at = indexOf(buf, from, to, key);
    return at < 0 ? NOT_FOUND : at + key.length;
  }

  /** The non-negative integer at {@code buf[at]}, or -1 when no digit is there. */
  public static long digitsAt(byte[] buf, int at, int to) {
    if (at < 0 || at >= to || buf[at] < '0' || buf[at] > '9') {
      return NOT_FOUND;
    }
    long value = 0;
    for (int i = at; i < to && buf[i] >= '0' && buf[i] <= '9'; i++) {
      value = value * 10 + (buf[i] - '0');
    }
    return value;
  }

  /** A non-negative integer field, or -1 when it is missing. */
  public static long longField(byte[] buf, int from, int to, byte[] key) {
    return digitsAt(buf, valueAt(buf, from, to, key), to);
  }

  /**
   * A non-negative number field written as digits with an optional fraction ({@code 20.0}), or NaN
   * when it is missing or written otherwise. Only for the rare paths.
   */
  public static double decimalField(byte[] buf, int from, int to, byte[] key) {
    int at = valueAt(buf, from, to, key);
    if (at < 0) {
      return Double.NaN;
    }
    int end = at;
    while (end < to && ((buf[end] >= '0' && buf[end] <= '9') || buf[end] == '.')) {
      end++;
    }
    try {
      return Double.parseDouble(new String(buf, at, end - at, StandardCharsets.US_ASCII));
    } catch (NumberFormatException e) {
      return Double.NaN;
    }
  }

  /** Whether a boolean field is {@code true}. */
  public static boolean isTrue(byte[] buf, int from, int to, byte[] key) {
    return startsWith(buf, valueAt(buf, from, to, key), to, TRUE);
  }

  /**
   * A string field without escapes (codes, reasons, the generator's own ids), or null when it is
   * missing. Only for the rare paths: it allocates.
   */
  public static String stringField(byte[] buf, int from, int to, byte[] key) {
    int at = valueAt(buf, from, to, key);
    if (at < 0 || at >= to || buf[at] != '"') {
      return null;
    }
    int end = indexOf(buf, at + 1, to, (byte) '"');
    return end < 0 ? null : new String(buf, at + 1, end - at - 1, StandardCharsets.UTF_8);
  }

  /** {@code text} as the inside of a JSON string (without the quotes). */
  public static String escape(String text) {
    StringBuilder out = new StringBuilder(text.length());
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    return out.toString();
  }

  /** A line as text, for error messages. */
  public static String text(byte[] buf, int from, int to) {
    return new String(buf, from, Math.min(to - from, 200), StandardCharsets.UTF_8);
  }
}
