package dev.parley.protocol;

import java.util.Optional;

/**
 * The rules for what text a frame can carry, and what it costs on the wire. Every limit on a text
 * is counted in the bytes of its JSON encoding as {@link JsonCodec} writes it, so that whatever its
 * characters, a text the server accepts fits every recipient's frame:
 *
 * <ul>
 *   <li>{@code "} and {@code \} take two bytes; tab, line feed, carriage return, backspace and form
 *       feed take two ({@code \t}, ...); every other character below U+0020 takes six ({@code
 *       \u001B}); every other character takes its UTF-8 length, one to four bytes, a character
 *       outside the Basic Multilingual Plane (an emoji) four.
 *   <li>U+0000 and unpaired surrogates are refused: PostgreSQL cannot store the first, and the
 *       second is not text in any encoding a receiver can decode.
 * </ul>
 */
public final class WireText {

  private WireText() {}

  /** Bytes {@code text} takes between the quotes of a JSON string, as Parley writes it. */
  public static int encodedLength(CharSequence text) {
    int bytes = 0;
    int length = text.length();
    for (int i = 0; i < length; i++) {
      char c = text.charAt(i);
      if (c < 0x20) {
        bytes += hasShortEscape(c) ? 2 : 6;
      } else if (c == '"' || c == '\\') {
        bytes += 2;
      } else if (c < 0x80) {
        bytes += 1;
      } else if (c < 0x800) {
        bytes += 2;
      } else if (Character.isHighSurrogate(c)
          && i + 1 < length
          && Character.isLowSurrogate(text.charAt(i + 1))) {
        bytes += 4;
        i++;
      } else if (Character.isSurrogate(c)) {
        // Unpaired: the codec would escape it (six bytes), though such a text is never accepted.
        bytes += 6;
      } else {
        bytes += 3;
      }
    }
    return bytes;
  }

  /**
   * Why {@code text} cannot be carried, or empty if it can: it holds U+0000 or an unpaired
   * surrogate, or its encoding is longer than {@code maxBytes}. The reason names the problem and is
   * fit to send back to whoever sent the text.
   */
  public static Optional<String> refusal(CharSequence text, int maxBytes) {
    int length = text.length();
    for (int i = 0; i < length; i++) {
      char c = text.charAt(i);
      if (c == '\0') {
        return Optional.of("text contains U+0000 at character " + (i + 1));
      }
      if (Character.isHighSurrogate(c)
          && i + 1 < length
          && Character.isLowSurrogate(text.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        return Optional.of("text contains an unpaired surrogate at character " + (i + 1));
      }
    }
    int bytes = encodedLength(text);
    if (bytes > maxBytes) {
      return Optional.of("text is " + bytes + " bytes encoded, over the limit of " + maxBytes);
    }
    return Optional.empty();
  }

  /**
   * Whether {@code name} can be a user name: 1 to {@link Protocol#MAX_NAME_LENGTH} characters, with
   * no whitespace, no control character and no unpaired surrogate. Every account has such a name,
   * so a frame naming anything else is malformed rather than about an unknown user.
   */
  public static boolean isValidName(String name) {
    if (name == null || name.isEmpty() || name.length() > Protocol.MAX_NAME_LENGTH) {
      return false;
    }
    return isPlainToken(name);
  }

  /**
   * Whether {@code value} is free of whitespace, control characters and unpaired surrogates: what a
   * name or an identifier that ends up in a database and a log line may hold.
   */
  static boolean isPlainToken(String value) {
    int length = value.length();
    for (int i = 0; i < length; i++) {
      char c = value.charAt(i);
      if (Character.isWhitespace(c) || Character.isISOControl(c) || Character.isSpaceChar(c)) {
        return false;
      }
      if (Character.isHighSurrogate(c)
          && i + 1 < length
          && Character.isLowSurrogate(value.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        return false;
      }
    }
    return true;
  }

  private static boolean hasShortEscape(char c) {
    return c == '\t' || c == '\n' || c == '\r' || c == '\b' || c == '\f';
  }
}
