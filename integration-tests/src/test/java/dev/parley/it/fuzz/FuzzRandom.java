package dev.parley.it.fuzz;

import java.util.List;
import java.util.SplittableRandom;

/**
 * The randomness of one fuzz worker: seeded, so that a worker sends the same inputs for the same
 * seed (thread timing, and so the server's answers, still vary between runs). Text comes from every
 * plane, weighted towards what stresses an encoder, a framing or a terminal.
 */
final class FuzzRandom {

  private static final int[] SPECIALS = {'"', '\\', '/', '{', '}', '[', ']', ':', ',', '\'', '%'};
  private static final int[] LINE_BREAKS = {'\n', '\r', 0x0B, 0x0C, 0x85, 0x2028, 0x2029};

  /** Characters a terminal or a bidirectional renderer treats specially. */
  private static final int[] ODD = {
    0x7F, 0x9B, 0xFEFF, 0xFFFD, 0xFFFF, 0x200B, 0x202E, 0x2066, 0x0300
  };

  private final SplittableRandom random;

  FuzzRandom(long seed) {
    this.random = new SplittableRandom(seed);
  }

  /** A generator for worker {@code index} of a run with {@code seed}, unrelated to the others. */
  static FuzzRandom forWorker(long seed, String role, int index) {
    long h = seed ^ (role.hashCode() * 0x9E3779B97F4A7C15L) ^ ((index + 1) * 0xC2B2AE3D27D4EB4FL);
    h = (h ^ (h >>> 33)) * 0xFF51AFD7ED558CCDL;
    return new FuzzRandom(h ^ (h >>> 33));
  }

  int between(int min, int max) {
    return min + random.nextInt(max - min + 1);
  }

  long nextLong() {
    return random.nextLong();
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

  int pickInt(int... values) {
    return values[random.nextInt(values.length)];
  }

  /** Usually small, sometimes up to {@code max}. */
  int size(int max) {
    return switch (random.nextInt(3)) {
      case 0 -> random.nextInt(Math.min(max, 8) + 1);
      case 1 -> random.nextInt(Math.min(max, 64) + 1);
      default -> random.nextInt(max + 1);
    };
  }

  byte[] bytes(int length) {
    byte[] bytes = new byte[length];
    for (int i = 0; i < length; i++) {
      bytes[i] = (byte) random.nextInt(256);
    }
    return bytes;
  }

  /** A code point of any plane, never a surrogate. */
  int codePoint() {
    int kind = random.nextInt(100);
    if (kind < 35) {
      return between(0x20, 0x7E);
    } else if (kind < 45) {
      return pickInt(SPECIALS);
    } else if (kind < 53) {
      return between(0x01, 0x1F);
    } else if (kind < 58) {
      return pickInt(LINE_BREAKS);
    } else if (kind < 62) {
      return pickInt(ODD);
    } else if (kind < 72) {
      return between(0xA0, 0x7FF);
    } else if (kind < 84) {
      int c;
      do {
        c = between(0x800, 0xFFFF);
      } while (c >= 0xD800 && c <= 0xDFFF);
      return c;
    } else {
      return chance(0.5) ? between(0x1F300, 0x1FAFF) : between(0x10000, 0x10FFFF);
    }
  }

  /** Any text (no U+0000, no unpaired surrogate) of at most {@code maxChars} UTF-16 units. */
  String text(int maxChars) {
    int target = size(maxChars);
    StringBuilder text = new StringBuilder(target);
    while (text.length() < target) {
      int c = codePoint();
      if (text.length() + Character.charCount(c) > target) {
        c = 'x';
      }
      text.appendCodePoint(c);
    }
    return text.toString();
  }

  /** Text that is not blank (a required field). */
  String nonBlankText(int maxChars) {
    String text = text(maxChars);
    return text.isBlank() ? text + "x" : text;
  }

  /** A valid-looking name: 1 to {@code maxChars} units without whitespace or controls. */
  String token(int maxChars) {
    int target = between(1, maxChars);
    StringBuilder token = new StringBuilder();
    while (token.length() < target) {
      int c = codePoint();
      if (Character.isWhitespace(c) || Character.isISOControl(c) || Character.isSpaceChar(c)) {
        continue;
      }
      if (token.length() + Character.charCount(c) > target) {
        c = 'z';
      }
      token.appendCodePoint(c);
    }
    return token.toString();
  }
}
