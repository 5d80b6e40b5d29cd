package dev.parley.protocol;

import java.nio.charset.StandardCharsets;

/**
 * Reads the client frames received once per chat message ({@code message}, {@code ack}) without
 * databind, when a line is in exactly the shape {@link JsonCodec} writes them: no whitespace,
 * fields in record order after {@code type}, an optional {@code id} left out rather than null,
 * strings of well-formed UTF-8 with JSON's own escapes, and a sequence number of plain digits:
 *
 * <pre>
 * {"type":"message","to":"bob","text":"hi","id":"3f2b8c1e"}
 * {"type":"ack","seq":42}
 * </pre>
 *
 * <p>Anything else, and any line whose fields the record refuses, it declines, and the codec reads
 * it with Jackson: every error, limit and reason stays Jackson's and the codec's, and a line this
 * class accepts is one Jackson reads into the same frame (the codec's tests hold the two paths to
 * that). The frame is made by the record's constructor, so its checks run as they do for Jackson.
 */
final class HotFrameDecoder {

  /** What a scanning step returns when it declines the line. */
  private static final int DECLINED = -1;

  /**
   * Digits of the longest number read here: every number of 18 digits fits a long, so no overflow
   * (which Jackson reports in its own words) can reach this class.
   */
  private static final int MAX_SEQ_DIGITS = 18;

  private static final int DECIMAL_RADIX = 10;
  private static final int HEX_RADIX = 16;
  private static final int HEX_ESCAPE_DIGITS = 4;
  private static final int FIRST_NON_CONTROL = 0x20;
  private static final int FIRST_NON_ASCII = 0x80;

  private static final int BYTE_MASK = 0xFF;

  // UTF-8's well-formed sequences (Unicode, table 3-7): lead bytes, the continuation range, and the
  // narrower range of the second byte after the leads that could otherwise start an overlong form,
  // a surrogate or a code point past U+10FFFF.
  private static final int CONTINUATION_MIN = 0x80;
  private static final int CONTINUATION_MAX = 0xBF;
  private static final int TWO_BYTE_LEAD_MIN = 0xC2;
  private static final int THREE_BYTE_LEAD_MIN = 0xE0;
  private static final int THREE_BYTE_OVERLONG_BOUND = 0xA0;
  private static final int SURROGATES_LEAD = 0xED;
  private static final int SURROGATES_BOUND = 0x9F;
  private static final int FOUR_BYTE_LEAD_MIN = 0xF0;
  private static final int FOUR_BYTE_OVERLONG_BOUND = 0x90;
  private static final int FOUR_BYTE_LEAD_MAX = 0xF4;
  private static final int PAST_UNICODE_BOUND = 0x8F;

  private static final byte[] MESSAGE_TO =
      ascii(head(ClientMessage.SendMessage.class) + ",\"to\":\"");
  private static final byte[] ACK_SEQ = ascii(head(ClientMessage.Acknowledge.class) + ",\"seq\":");
  private static final byte[] TEXT_AFTER_STRING = ascii("\",\"text\":\"");
  private static final byte[] ID_AFTER_STRING = ascii("\",\"id\":\"");
  private static final byte[] END_AFTER_STRING = ascii("\"}");

  private HotFrameDecoder() {}

  /**
   * The frame held in {@code line[offset, offset + length)}, or null if this class leaves the line
   * to Jackson.
   */
  static ClientMessage decode(byte[] line, int offset, int length) {
    int end = offset + length;
    if (startsWith(line, offset, end, MESSAGE_TO)) {
      return message(line, offset + MESSAGE_TO.length, end);
    } else if (startsWith(line, offset, end, ACK_SEQ)) {
      return ack(line, offset + ACK_SEQ.length, end);
    }
    return null;
  }

  private static ClientMessage message(byte[] line, int toStart, int end) {
    int toEnd = closingQuote(line, toStart, end);
    if (!startsWith(line, toEnd, end, TEXT_AFTER_STRING)) {
      return null;
    }
    int textStart = toEnd + TEXT_AFTER_STRING.length;
    int textEnd = closingQuote(line, textStart, end);
    int idStart = DECLINED;
    int idEnd = DECLINED;
    if (startsWith(line, textEnd, end, ID_AFTER_STRING)) {
      idStart = textEnd + ID_AFTER_STRING.length;
      idEnd = closingQuote(line, idStart, end);
      if (!endsAt(line, idEnd, end)) {
        return null;
      }
    } else if (!endsAt(line, textEnd, end)) {
      return null;
    }
    try {
      return new ClientMessage.SendMessage(
          string(line, toStart, toEnd),
          string(line, textStart, textEnd),
          idStart == DECLINED ? null : string(line, idStart, idEnd));
    } catch (IllegalArgumentException refused) {
      // Jackson reports the record's refusal in the codec's words.
      return null;
    }
  }

  private static ClientMessage ack(byte[] line, int seqStart, int end) {
    int closing = end - 1;
    int digits = closing - seqStart;
    // No leading zero, sign, fraction or exponent: those are Jackson's to accept or refuse.
    if (digits < 1 || digits > MAX_SEQ_DIGITS || line[closing] != '}' || line[seqStart] == '0') {
      return null;
    }
    long seq = 0;
    for (int i = seqStart; i < closing; i++) {
      int digit = line[i] - '0';
      if (digit < 0 || digit >= DECIMAL_RADIX) {
        return null;
      }
      seq = seq * DECIMAL_RADIX + digit;
    }
    return new ClientMessage.Acknowledge(seq);
  }

  /**
   * Where the JSON string whose content starts at {@code from} ends (the index of its closing
   * quote), or {@link #DECLINED} if it holds anything but well-formed UTF-8 without control
   * characters, and JSON's escapes. Jackson refuses the rest, or reads them in ways left to it.
   */
  private static int closingQuote(byte[] line, int from, int end) {
    if (from == DECLINED) {
      return DECLINED;
    }
    int i = from;
    while (i < end) {
      int b = line[i] & BYTE_MASK;
      if (b == '"') {
        return i;
      } else if (b == '\\') {
        i = afterEscape(line, i + 1, end);
      } else if (b >= FIRST_NON_ASCII) {
        i = afterUtf8Sequence(line, i, end);
      } else if (b < FIRST_NON_CONTROL) {
        return DECLINED;
      } else {
        i++;
      }
      if (i == DECLINED) {
        return DECLINED;
      }
    }
    return DECLINED;
  }

  /** Where the escape whose letter is at {@code at} ends, or {@link #DECLINED}. */
  private static int afterEscape(byte[] line, int at, int end) {
    if (at >= end) {
      return DECLINED;
    }
    if (line[at] == 'u') {
      int digitsEnd = at + 1 + HEX_ESCAPE_DIGITS;
      if (digitsEnd > end) {
        return DECLINED;
      }
      return hexValue(line, at + 1) == DECLINED ? DECLINED : digitsEnd;
    }
    return unescaped(line[at]) == DECLINED ? DECLINED : at + 1;
  }

  /** The character a one-letter escape stands for, or {@link #DECLINED} for any other letter. */
  private static int unescaped(byte letter) {
    return switch (letter) {
      case '"' -> '"';
      case '\\' -> '\\';
      case '/' -> '/';
      case 'n' -> '\n';
      case 't' -> '\t';
      case 'r' -> '\r';
      case 'b' -> '\b';
      case 'f' -> '\f';
      default -> DECLINED;
    };
  }

  /**
   * The value of the four hex digits of a {@code \\u} escape at {@code from}, or {@link #DECLINED}
   * if one is not a hex digit.
   */
  private static int hexValue(byte[] line, int from) {
    int value = 0;
    for (int i = from; i < from + HEX_ESCAPE_DIGITS; i++) {
      // Negative for a byte outside ASCII, so only 0-9, a-f and A-F count, as for Jackson.
      int digit = Character.digit(line[i], HEX_RADIX);
      if (digit < 0) {
        return DECLINED;
      }
      value = value * HEX_RADIX + digit;
    }
    return value;
  }

  /**
   * Where the UTF-8 sequence starting at {@code at} ends, or {@link #DECLINED} unless it is
   * well-formed in the sense of the Unicode standard's table 3-7: no overlong form, no surrogate,
   * nothing past U+10FFFF. Every decoder reads such a sequence the same way; what Jackson does with
   * the others is left to Jackson.
   */
  private static int afterUtf8Sequence(byte[] line, int at, int end) {
    int lead = line[at] & BYTE_MASK;
    int length;
    int secondMin = CONTINUATION_MIN;
    int secondMax = CONTINUATION_MAX;
    if (lead >= TWO_BYTE_LEAD_MIN && lead < THREE_BYTE_LEAD_MIN) {
      length = 2;
    } else if (lead >= THREE_BYTE_LEAD_MIN && lead < FOUR_BYTE_LEAD_MIN) {
      length = 3;
      if (lead == THREE_BYTE_LEAD_MIN) {
        secondMin = THREE_BYTE_OVERLONG_BOUND;
      } else if (lead == SURROGATES_LEAD) {
        secondMax = SURROGATES_BOUND;
      }
    } else if (lead >= FOUR_BYTE_LEAD_MIN && lead <= FOUR_BYTE_LEAD_MAX) {
      length = 4;
      if (lead == FOUR_BYTE_LEAD_MIN) {
        secondMin = FOUR_BYTE_OVERLONG_BOUND;
      } else if (lead == FOUR_BYTE_LEAD_MAX) {
        secondMax = PAST_UNICODE_BOUND;
      }
    } else {
      return DECLINED;
    }
    if (end - at < length) {
      return DECLINED;
    }
    int second = line[at + 1] & BYTE_MASK;
    if (second < secondMin || second > secondMax) {
      return DECLINED;
    }
    for (int i = at + 2; i < at + length; i++) {
      int next = line[i] & BYTE_MASK;
      if (next < CONTINUATION_MIN || next > CONTINUATION_MAX) {
        return DECLINED;
      }
    }
    return at + length;
  }

  /** The content of a string {@link #closingQuote} accepted, as Jackson decodes it. */
  private static String string(byte[] line, int from, int to) {
    int escape = indexOf(line, from, to, (byte) '\\');
    if (escape == DECLINED) {
      return new String(line, from, to - from, StandardCharsets.UTF_8);
    }
    StringBuilder text = new StringBuilder(to - from);
    int run = from;
    while (escape != DECLINED) {
      // A backslash is never part of a multi-byte sequence, so each run is UTF-8 on its own.
      text.append(new String(line, run, escape - run, StandardCharsets.UTF_8));
      byte letter = line[escape + 1];
      if (letter == 'u') {
        int digits = escape + 2;
        text.append((char) hexValue(line, digits));
        run = digits + HEX_ESCAPE_DIGITS;
      } else {
        text.append((char) unescaped(letter));
        run = escape + 2;
      }
      escape = indexOf(line, run, to, (byte) '\\');
    }
    return text.append(new String(line, run, to - run, StandardCharsets.UTF_8)).toString();
  }

  private static int indexOf(byte[] line, int from, int to, byte wanted) {
    for (int i = from; i < to; i++) {
      if (line[i] == wanted) {
        return i;
      }
    }
    return DECLINED;
  }

  private static boolean startsWith(byte[] line, int at, int end, byte[] prefix) {
    if (at == DECLINED || end - at < prefix.length) {
      return false;
    }
    for (int i = 0; i < prefix.length; i++) {
      if (line[at + i] != prefix[i]) {
        return false;
      }
    }
    return true;
  }

  /** Whether the line ends right after the string that closes at {@code closingQuote}. */
  private static boolean endsAt(byte[] line, int closingQuote, int end) {
    return closingQuote != DECLINED
        && end - closingQuote == END_AFTER_STRING.length
        && startsWith(line, closingQuote, end, END_AFTER_STRING);
  }

  /** The start of a frame's object, up to and including its {@code type}. */
  private static String head(Class<? extends ClientMessage> frame) {
    return "{\"type\":\"" + WireNames.ofRecord(frame) + "\"";
  }

  private static byte[] ascii(String text) {
    return text.getBytes(StandardCharsets.US_ASCII);
  }
}
