package dev.parley.protocol;

import akka.util.ByteString;
import java.nio.charset.StandardCharsets;

/**
 * Writes the server frames sent once per chat message ({@code message-received}, {@code
 * message-accepted}, {@code broadcast-received}) without databind, which costs several times more
 * for them than the bytes themselves. The output is byte for byte what {@link JsonCodec}'s mapper
 * writes for the same frame (fields in record order after {@code type}, nulls left out, the same
 * escapes), so that nothing on the wire and no byte count of {@link WireText} depends on which path
 * wrote a frame; the codec's tests hold the two paths to that.
 *
 * <p>Each frame goes into one array of exactly its size. A text this class does not write the way
 * Jackson does (one holding an unpaired surrogate, which Jackson escapes) makes it decline, and the
 * codec writes that frame with Jackson.
 */
final class HotFrameEncoder {

  /** What a writing step returns when it declines the frame. */
  private static final int DECLINED = -1;

  private static final int HEX_RADIX = 16;
  private static final int DECIMAL_RADIX = 10;
  private static final int FIRST_NON_CONTROL = 0x20;
  private static final int FIRST_NON_ASCII = 0x80;
  private static final int FIRST_THREE_BYTE = 0x800;
  private static final int CONTINUATION = 0x80;
  private static final int CONTINUATION_BITS = 6;
  private static final int CONTINUATION_MASK = 0x3F;
  private static final int TWO_BYTE_LEAD = 0xC0;
  private static final int THREE_BYTE_LEAD = 0xE0;
  private static final int FOUR_BYTE_LEAD = 0xF0;

  /** {@code \\u00XX}: the escape of a control character without a short one. */
  private static final byte[] UNICODE_ESCAPE_PREFIX = ascii("\\u00");

  private static final byte[] HEX_DIGITS = ascii("0123456789ABCDEF");

  private static final byte[] RECEIVED_FROM =
      ascii(head(ServerMessage.MessageReceived.class) + ",\"from\":\"");
  private static final byte[] BROADCAST_FROM =
      ascii(head(ServerMessage.BroadcastReceived.class) + ",\"from\":\"");
  private static final byte[] ACCEPTED = ascii(head(ServerMessage.MessageAccepted.class));
  private static final byte[] TEXT_AFTER_STRING = ascii("\",\"text\":\"");
  private static final byte[] SEQ_AFTER_STRING = ascii("\",\"seq\":");
  private static final byte[] ID_AFTER_VALUE = ascii(",\"id\":\"");
  private static final byte[] STORED_AFTER_VALUE = ascii(",\"stored\":");
  private static final byte[] END_AFTER_STRING = ascii("\"}\n");
  private static final byte[] END_AFTER_VALUE = ascii("}\n");
  private static final byte[] TRUE = ascii("true");
  private static final byte[] FALSE = ascii("false");

  private HotFrameEncoder() {}

  /**
   * {@code frame} as its line of JSON, line feed included, or null when this class does not write
   * that frame (another record, or a text it leaves to Jackson).
   */
  static ByteString encode(Object frame) {
    if (frame instanceof ServerMessage.MessageReceived received) {
      return messageReceived(received);
    } else if (frame instanceof ServerMessage.MessageAccepted accepted) {
      return messageAccepted(accepted);
    } else if (frame instanceof ServerMessage.BroadcastReceived broadcast) {
      return broadcastReceived(broadcast);
    }
    return null;
  }

  private static ByteString messageReceived(ServerMessage.MessageReceived frame) {
    // Positive: the record checks it.
    long seq = frame.seq();
    String id = frame.id();
    int seqDigits = decimalDigits(seq);
    int fromBytes = WireText.encodedLength(frame.from());
    int textBytes = WireText.encodedLength(frame.text());
    int idBytes = id == null ? 0 : WireText.encodedLength(id);
    int size =
        RECEIVED_FROM.length
            + fromBytes
            + TEXT_AFTER_STRING.length
            + textBytes
            + SEQ_AFTER_STRING.length
            + seqDigits
            + (id == null
                ? END_AFTER_VALUE.length
                : ID_AFTER_VALUE.length + idBytes + END_AFTER_STRING.length);
    byte[] line = new byte[size];
    int at = put(line, 0, RECEIVED_FROM);
    at = putString(line, at, frame.from(), fromBytes);
    at = putAfter(line, at, TEXT_AFTER_STRING);
    at = putString(line, at, frame.text(), textBytes);
    at = putAfter(line, at, SEQ_AFTER_STRING);
    if (at == DECLINED) {
      return null;
    }
    at = putDecimal(line, at, seq, seqDigits);
    if (id == null) {
      put(line, at, END_AFTER_VALUE);
    } else {
      at = put(line, at, ID_AFTER_VALUE);
      at = putString(line, at, id, idBytes);
      if (putAfter(line, at, END_AFTER_STRING) == DECLINED) {
        return null;
      }
    }
    return ByteString.fromArrayUnsafe(line);
  }

  private static ByteString messageAccepted(ServerMessage.MessageAccepted frame) {
    String id = frame.id();
    byte[] stored = frame.stored() ? TRUE : FALSE;
    int idBytes = id == null ? 0 : WireText.encodedLength(id);
    int size =
        ACCEPTED.length
            + (id == null ? 0 : ID_AFTER_VALUE.length + idBytes + 1)
            + STORED_AFTER_VALUE.length
            + stored.length
            + END_AFTER_VALUE.length;
    byte[] line = new byte[size];
    int at = put(line, 0, ACCEPTED);
    if (id != null) {
      at = put(line, at, ID_AFTER_VALUE);
      at = putString(line, at, id, idBytes);
      if (at == DECLINED) {
        return null;
      }
      line[at++] = '"';
    }
    at = put(line, at, STORED_AFTER_VALUE);
    at = put(line, at, stored);
    put(line, at, END_AFTER_VALUE);
    return ByteString.fromArrayUnsafe(line);
  }

  private static ByteString broadcastReceived(ServerMessage.BroadcastReceived frame) {
    int fromBytes = WireText.encodedLength(frame.from());
    int textBytes = WireText.encodedLength(frame.text());
    int size =
        BROADCAST_FROM.length
            + fromBytes
            + TEXT_AFTER_STRING.length
            + textBytes
            + END_AFTER_STRING.length;
    byte[] line = new byte[size];
    int at = put(line, 0, BROADCAST_FROM);
    at = putString(line, at, frame.from(), fromBytes);
    at = putAfter(line, at, TEXT_AFTER_STRING);
    at = putString(line, at, frame.text(), textBytes);
    return putAfter(line, at, END_AFTER_STRING) == DECLINED
        ? null
        : ByteString.fromArrayUnsafe(line);
  }

  /**
   * Writes {@code text}, which takes {@code encodedBytes} ({@link WireText#encodedLength}), between
   * a JSON string's quotes as Jackson does ({@link WireText} documents the rules) and returns where
   * it ends, or {@link #DECLINED} (from {@code at} onwards too) if the text holds an unpaired
   * surrogate.
   */
  private static int putString(byte[] to, int at, String text, int encodedBytes) {
    if (at == DECLINED) {
      return DECLINED;
    }
    int length = text.length();
    if (encodedBytes == length) {
      // Every character takes at least one byte, so here each takes one: printable ASCII with
      // nothing to escape, the usual text, copied without a test per character.
      for (int i = 0; i < length; i++) {
        to[at + i] = (byte) text.charAt(i);
      }
      return at + length;
    }
    for (int i = 0; i < length; i++) {
      char c = text.charAt(i);
      if (c < FIRST_NON_ASCII) {
        if (c >= FIRST_NON_CONTROL && c != '"' && c != '\\') {
          to[at++] = (byte) c;
        } else {
          at = putEscaped(to, at, c);
        }
      } else if (c < FIRST_THREE_BYTE) {
        to[at++] = (byte) (TWO_BYTE_LEAD | c >> CONTINUATION_BITS);
        to[at++] = continuation(c, 0);
      } else if (!Character.isSurrogate(c)) {
        to[at++] = (byte) (THREE_BYTE_LEAD | c >> 2 * CONTINUATION_BITS);
        to[at++] = continuation(c, 1);
        to[at++] = continuation(c, 0);
      } else if (Character.isHighSurrogate(c)
          && i + 1 < length
          && Character.isLowSurrogate(text.charAt(i + 1))) {
        int codePoint = Character.toCodePoint(c, text.charAt(++i));
        to[at++] = (byte) (FOUR_BYTE_LEAD | codePoint >> 3 * CONTINUATION_BITS);
        to[at++] = continuation(codePoint, 2);
        to[at++] = continuation(codePoint, 1);
        to[at++] = continuation(codePoint, 0);
      } else {
        return DECLINED;
      }
    }
    return at;
  }

  private static int putEscaped(byte[] to, int at, char c) {
    byte shortEscape =
        switch (c) {
          case '"' -> '"';
          case '\\' -> '\\';
          case '\n' -> 'n';
          case '\t' -> 't';
          case '\r' -> 'r';
          case '\b' -> 'b';
          case '\f' -> 'f';
          default -> 0;
        };
    if (shortEscape != 0) {
      to[at++] = '\\';
      to[at++] = shortEscape;
      return at;
    }
    at = put(to, at, UNICODE_ESCAPE_PREFIX);
    to[at++] = HEX_DIGITS[c / HEX_RADIX];
    to[at++] = HEX_DIGITS[c % HEX_RADIX];
    return at;
  }

  /** The {@code index}th continuation byte of a UTF-8 sequence, counted from the last. */
  private static byte continuation(int codePoint, int index) {
    return (byte) (CONTINUATION | codePoint >> index * CONTINUATION_BITS & CONTINUATION_MASK);
  }

  private static int putAfter(byte[] to, int at, byte[] from) {
    return at == DECLINED ? DECLINED : put(to, at, from);
  }

  private static int put(byte[] to, int at, byte[] from) {
    System.arraycopy(from, 0, to, at, from.length);
    return at + from.length;
  }

  /** A non-negative number in its {@code digits} decimal digits. */
  private static int putDecimal(byte[] to, int at, long value, int digits) {
    for (int i = at + digits - 1; i >= at; i--) {
      to[i] = (byte) ('0' + value % DECIMAL_RADIX);
      value /= DECIMAL_RADIX;
    }
    return at + digits;
  }

  private static int decimalDigits(long nonNegative) {
    int digits = 1;
    for (long rest = nonNegative / DECIMAL_RADIX; rest > 0; rest /= DECIMAL_RADIX) {
      digits++;
    }
    return digits;
  }

  /** The start of a frame's object, up to and including its {@code type}. */
  private static String head(Class<? extends ServerMessage> frame) {
    return "{\"type\":\"" + WireNames.ofRecord(frame) + "\"";
  }

  private static byte[] ascii(String text) {
    return text.getBytes(StandardCharsets.US_ASCII);
  }
}
