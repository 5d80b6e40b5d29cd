package dev.parley.protocol;

/**
 * Checks shared by the wire records' constructors, so that a decoded frame is well-formed or not a
 * frame at all. A failed check surfaces from the codec as {@link Inbound.Malformed}.
 */
final class Fields {

  private Fields() {}

  /** A mandatory text field: present and not blank. */
  static String required(String value, String name) {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException("field '" + name + "' is required");
    }
    return value;
  }

  /**
   * A mandatory user name: 1 to {@link Protocol#MAX_NAME_LENGTH} characters without whitespace,
   * control characters or unpaired surrogates (see {@link WireText#isValidName}).
   */
  static String name(String value, String name) {
    required(value, name);
    if (!WireText.isValidName(value)) {
      throw new IllegalArgumentException(
          "field '"
              + name
              + "' must be a user name: 1 to "
              + Protocol.MAX_NAME_LENGTH
              + " characters, no spaces or control characters");
    }
    return value;
  }

  /**
   * An optional identifier the server stores and echoes: when present, 1 to {@code maxLength}
   * characters without whitespace, control characters or unpaired surrogates.
   */
  static String optionalToken(String value, String name, int maxLength) {
    if (value != null
        && (value.isEmpty() || value.length() > maxLength || !WireText.isPlainToken(value))) {
      throw new IllegalArgumentException(
          "field '"
              + name
              + "' must be 1 to "
              + maxLength
              + " characters, no spaces or control characters, when present");
    }
    return value;
  }

  /** A mandatory field of any type. */
  static <T> T present(T value, String name) {
    if (value == null) {
      throw new IllegalArgumentException("field '" + name + "' is required");
    }
    return value;
  }

  /** A TCP port a peer can be reached on. */
  static int validPort(int value, String name) {
    if (value < 1 || value > 65_535) {
      throw new IllegalArgumentException("field '" + name + "' must be a port between 1 and 65535");
    }
    return value;
  }

  /** A port, or null when the field is absent. */
  static Integer optionalPort(Integer value, String name) {
    return value == null ? null : validPort(value, name);
  }

  /** A sequence number, counted from 1. */
  static long positive(long value, String name) {
    if (value < 1) {
      throw new IllegalArgumentException("field '" + name + "' must be 1 or more");
    }
    return value;
  }

  /** A count or duration that cannot be negative. */
  static long nonNegative(long value, String name) {
    if (value < 0) {
      throw new IllegalArgumentException("field '" + name + "' must not be negative");
    }
    return value;
  }
}
