package dev.parley.protocol;

import akka.util.ByteString;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Seeded generators for the property tests: text from every plane, weighted towards the characters
 * that stress a JSON encoder and a line framing (controls, quotes, backslashes, line separators,
 * characters outside the Basic Multilingual Plane), valid user names and ids, edge numbers, and
 * ways to cut a byte stream into chunks. The same seed always gives the same values, so that a
 * failure is reproduced by its seed alone (see {@link Property}).
 */
final class Gen {

  /** Code points that are not text on their own (the UTF-16 surrogate range). */
  private static final int SURROGATE_MIN = 0xD800;

  private static final int SURROGATE_MAX = 0xDFFF;

  private static final int[] LINE_BREAKS = {'\n', '\r', 0x0B, 0x0C, 0x85, 0x2028, 0x2029};
  private static final int[] JSON_SPECIALS = {'"', '\\', '/', '\'', '{', '}', '[', ']', ':', ','};
  private static final int[] SPACES = {' ', '\t', 0xA0, 0x1680, 0x2003, 0x200B, 0x3000, 0xFEFF};

  /** Characters an encoder or a terminal may special-case. */
  private static final int[] ODD_BMP = {0xFFFD, 0xFFFE, 0xFFFF, 0xFDD0, 0x202E, 0x0300, 0xE000};

  /** Outside the Basic Multilingual Plane: emoji, and the first and last code points. */
  private static final int[] ODD_ASTRAL = {0x10000, 0x1F600, 0x1F4A9, 0x1F9D1, 0xE0001, 0x10FFFF};

  private final SplittableRandom random;

  Gen(long seed) {
    this.random = new SplittableRandom(seed);
  }

  // ---- numbers and choices ----

  /** Uniform in {@code [min, max]}. */
  int between(int min, int max) {
    return min + random.nextInt(max - min + 1);
  }

  boolean chance(double probability) {
    return random.nextDouble() < probability;
  }

  @SafeVarargs
  final <T> T pick(T... values) {
    return values[random.nextInt(values.length)];
  }

  <T> T pick(List<T> values) {
    return values.get(random.nextInt(values.size()));
  }

  int pick(int[] values) {
    return values[random.nextInt(values.length)];
  }

  /** A size that is usually small and sometimes up to {@code max}: most bugs need few elements. */
  int size(int max) {
    if (max <= 0) {
      return 0;
    }
    return switch (random.nextInt(4)) {
      case 0 -> random.nextInt(Math.min(max, 4) + 1);
      case 1 -> random.nextInt(Math.min(max, 32) + 1);
      case 2 -> random.nextInt(max + 1);
      default -> max - random.nextInt(Math.min(max, 3) + 1);
    };
  }

  /** Any int, often an edge of the range. */
  int anyInt() {
    return chance(0.5)
        ? pick(new int[] {Integer.MIN_VALUE, -1, 0, 1, 2, 3, Integer.MAX_VALUE})
        : random.nextInt();
  }

  /** A long of at least {@code min}, often an edge. */
  long longAtLeast(long min) {
    if (chance(0.5)) {
      return pick(
          List.of(min, min + 1, (long) Integer.MAX_VALUE + 1, Long.MAX_VALUE - 1, Long.MAX_VALUE));
    }
    long value = random.nextLong(Long.MAX_VALUE);
    return Math.max(min, chance(0.5) ? value : value % 10_000);
  }

  /** A TCP port, often 1 or 65535. */
  int port() {
    return chance(0.4) ? pick(new int[] {1, 65_535}) : between(1, 65_535);
  }

  <E extends Enum<E>> E anyOf(Class<E> type) {
    E[] values = type.getEnumConstants();
    return values[random.nextInt(values.length)];
  }

  byte[] bytes(int maxLength) {
    byte[] bytes = new byte[size(maxLength)];
    for (int i = 0; i < bytes.length; i++) {
      bytes[i] = (byte) random.nextInt(256);
    }
    return bytes;
  }

  // ---- text ----

  /**
   * A code point of any plane, weighted towards the ones an encoder treats specially; never a
   * surrogate (those are not text).
   */
  int codePoint() {
    int kind = random.nextInt(100);
    if (kind < 28) {
      return between(0x20, 0x7E);
    } else if (kind < 38) {
      return pick(JSON_SPECIALS);
    } else if (kind < 48) {
      return chance(0.9) ? between(0x00, 0x1F) : 0x7F;
    } else if (kind < 54) {
      return pick(LINE_BREAKS);
    } else if (kind < 58) {
      return pick(SPACES);
    } else if (kind < 62) {
      return between(0x80, 0xFF);
    } else if (kind < 70) {
      return between(0x100, 0x7FF);
    } else if (kind < 80) {
      return chance(0.2) ? pick(ODD_BMP) : bmpAbove(0x800);
    } else {
      return chance(0.3) ? pick(ODD_ASTRAL) : between(0x10000, 0x10FFFF);
    }
  }

  /** A code point in {@code [from, 0xFFFF]} outside the surrogate range. */
  private int bmpAbove(int from) {
    int c;
    do {
      c = between(from, 0xFFFF);
    } while (c >= SURROGATE_MIN && c <= SURROGATE_MAX);
    return c;
  }

  /** Any text of at most {@code maxChars} UTF-16 units, without unpaired surrogates. */
  String text(int maxChars) {
    int target = size(maxChars);
    StringBuilder text = new StringBuilder(target);
    if (chance(0.2)) {
      // One character repeated: runs of escapes or of emoji.
      int c = codePoint();
      while (text.length() + Character.charCount(c) <= target) {
        text.appendCodePoint(c);
      }
      return text.toString();
    }
    while (text.length() < target) {
      int c = codePoint();
      if (text.length() + Character.charCount(c) > target) {
        c = between(0x20, 0x7E);
      }
      text.appendCodePoint(c);
    }
    return text.toString();
  }

  /** Text that is not blank in the sense of {@link String#isBlank()} (a required text field). */
  String nonBlankText(int maxChars) {
    String text = text(maxChars);
    if (text.isBlank()) {
      int keep = Math.max(0, Math.min(text.length(), maxChars - 2));
      return text.substring(0, keep) + (chance(0.5) ? "x" : "\uD83D\uDE00");
    }
    return text;
  }

  /**
   * Text that may hold unpaired surrogates (a lone high or low half, or a pair the wrong way round)
   * and U+0000, for the checks that must refuse them.
   */
  String textWithLoneSurrogates(int maxChars) {
    StringBuilder text = new StringBuilder(text(maxChars));
    int insertions = between(0, 3);
    for (int i = 0; i < insertions; i++) {
      int at = between(0, text.length());
      // Never between the two halves of a pair: that would make two lone halves, also fine.
      String odd =
          pick(
              String.valueOf((char) between(0xD800, 0xDBFF)),
              String.valueOf((char) between(0xDC00, 0xDFFF)),
              "\uDE00\uD83D",
              "\0");
      text.insert(at, odd);
    }
    return text.toString();
  }

  /**
   * A text whose JSON encoding is a few bytes either side of {@code limitBytes}, made mostly of one
   * of the costliest units (a 4-byte emoji, a 6-byte escaped control, a 2-byte escaped quote or
   * line feed, a 3-byte CJK character), switching unit now and then, topped up with ASCII.
   */
  String nearLimitText(int limitBytes) {
    int target = Math.max(0, limitBytes + between(-12, 6));
    StringBuilder text = new StringBuilder();
    int bytes = 0;
    int unit = heavyUnit();
    while (bytes + unitBytes(unit) <= target) {
      text.appendCodePoint(unit);
      bytes += unitBytes(unit);
      if (chance(0.02)) {
        unit = heavyUnit();
      }
    }
    while (bytes < target) {
      text.append('a');
      bytes++;
    }
    return text.toString();
  }

  private int heavyUnit() {
    return switch (random.nextInt(5)) {
      case 0 -> chance(0.5) ? between(0x1F300, 0x1FAFF) : between(0x10000, 0x10FFFF);
      case 1 -> pick(new int[] {0x01, 0x07, 0x0B, 0x0E, 0x1B, 0x1F});
      case 2 -> pick(new int[] {'"', '\\', '\n', '\t', '\r', '\b', '\f'});
      case 3 -> between(0x4E00, 0x9FFF);
      default -> between(0x80, 0x7FF);
    };
  }

  /** What {@link #heavyUnit} costs in JSON, as the protocol documents it. */
  private static int unitBytes(int unit) {
    if (unit >= 0x10000) {
      return 4;
    } else if (unit == '"' || unit == '\\' || "\n\t\r\b\f".indexOf(unit) >= 0) {
      return 2;
    } else if (unit < 0x20) {
      return 6;
    } else if (unit >= 0x800) {
      return 3;
    }
    return 2;
  }

  /** A code point allowed in a user name or id: no whitespace, no control, no space. */
  int plainCodePoint() {
    int c;
    do {
      c = codePoint();
    } while (!isPlain(c));
    return c;
  }

  private static boolean isPlain(int c) {
    return !Character.isWhitespace(c) && !Character.isISOControl(c) && !Character.isSpaceChar(c);
  }

  /** A valid user name, 1 to {@link Protocol#MAX_NAME_LENGTH} UTF-16 units of any plane. */
  String name() {
    return token(Protocol.MAX_NAME_LENGTH);
  }

  /** A valid message id or name of at most {@code maxChars} UTF-16 units. */
  String token(int maxChars) {
    int target = Math.max(1, size(maxChars));
    StringBuilder token = new StringBuilder(target);
    while (token.length() < target) {
      int c = plainCodePoint();
      if (token.length() + Character.charCount(c) > target) {
        c = between('a', 'z');
      }
      token.appendCodePoint(c);
    }
    return token.toString();
  }

  /**
   * A valid name (or id) of {@code maxChars} UTF-16 units that takes the most bytes a name can
   * take: three per unit, since no character allowed in a name is escaped and a character outside
   * the BMP takes four bytes for two units.
   */
  String longestToken(int maxChars) {
    StringBuilder token = new StringBuilder(maxChars);
    while (token.length() < maxChars) {
      int c = bmpAbove(0x800);
      if (isPlain(c)) {
        token.appendCodePoint(c);
      }
    }
    return token.toString();
  }

  /** Spaces and tabs only: what the framing skips as a blank line. */
  String blank() {
    StringBuilder blank = new StringBuilder();
    int length = between(0, 4);
    for (int i = 0; i < length; i++) {
      blank.append(chance(0.5) ? ' ' : '\t');
    }
    return blank.toString();
  }

  // ---- byte streams ----

  /**
   * {@code bytes} cut into chunks: in one piece, byte by byte, at random places, or right around
   * its line feeds and carriage returns, where a framing is most likely to slip.
   */
  List<ByteString> chunks(ByteString bytes) {
    int length = bytes.length();
    List<ByteString> chunks = new ArrayList<>();
    int strategy = random.nextInt(length <= 4096 ? 4 : 3);
    int from = 0;
    for (int i = 1; i < length; i++) {
      boolean cut =
          switch (strategy) {
            case 0 -> false;
            case 1 -> chance(2.0 / Math.max(2, Math.min(length, 64)));
            case 2 -> {
              byte at = bytes.apply(i);
              byte before = bytes.apply(i - 1);
              yield at == '\n' || at == '\r' || before == '\n' || before == '\r'
                  ? chance(0.7)
                  : chance(0.01);
            }
            default -> true;
          };
      if (cut) {
        chunks.add(bytes.slice(from, i));
        from = i;
      }
    }
    chunks.add(bytes.slice(from, length));
    if (chance(0.1)) {
      // Empty chunks happen (a read that returned nothing new); they must change nothing.
      chunks.add(between(0, chunks.size()), ByteString.emptyByteString());
    }
    return chunks;
  }

  /** Shows a text with everything but printable ASCII escaped, for failure messages. */
  static String show(CharSequence text) {
    StringBuilder shown = new StringBuilder("\"");
    text.codePoints()
        .forEach(
            c -> {
              if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
                shown.append((char) c);
              } else {
                shown.append(String.format("\\u{%X}", c));
              }
            });
    return shown.append("\" (").append(text.length()).append(" chars)").toString();
  }

  static String show(ByteString bytes) {
    return show(bytes.decodeString(StandardCharsets.UTF_8));
  }
}
