package dev.parley.bench.client;

/**
 * The text of a measured message or broadcast: {@code TOKEN:SENDER:NUMBER:STAMP:} padded with
 * {@code x} to the payload size. TOKEN names the measured phase (so that a message from an earlier
 * run or phase is recognised as stale), SENDER is the sender's index and NUMBER its count of sends
 * in this phase (together they find duplicates), STAMP is when the send was due, from {@link
 * MonotonicClock}. Only ASCII letters, digits and colons: nothing the server has to escape.
 */
public final class Payload {

  private static final byte[] TEXT_KEY = Frames.key("text");
  private static final byte SEPARATOR = ':';
  private static final byte PADDING = 'x';

  private Payload() {}

  /**
   * Writes the text (without quotes), padded so that it is {@code payloadBytes} long if it fits.
   */
  public static void write(
      FrameBuffer out, byte[] token, int sender, long number, long stamp, int payloadBytes) {
    int start = out.size();
    out.put(token)
        .put(SEPARATOR)
        .putDecimal(sender)
        .put(SEPARATOR)
        .putDecimal(number)
        .put(SEPARATOR)
        .putDecimal(stamp)
        .put(SEPARATOR);
    int written = out.size() - start;
    if (written < payloadBytes) {
      out.repeat(PADDING, payloadBytes - written);
    }
  }

  /**
   * Reads the payload of a received frame's {@code text} field. One per loop thread: its fields
   * hold the last payload read.
   */
  public static final class Reader {

    private final byte[] token;
    private int sender;
    private long number;
    private long stamp;
    private long value;

    public Reader(byte[] token) {
      this.token = token;
    }

    /** True when the frame carries a payload of this phase; its parts are then available. */
    public boolean read(byte[] buf, int from, int to) {
      int at = Frames.valueAt(buf, from, to, TEXT_KEY);
      if (at < 0 || at >= to || buf[at] != '"') {
        return false;
      }
      at++;
      if (!Frames.startsWith(buf, at, to, token) || at + token.length >= to) {
        return false;
      }
      at += token.length;
      if (buf[at++] != SEPARATOR) {
        return false;
      }
      at = readNumber(buf, at, to);
      if (at < 0) {
        return false;
      }
      sender = (int) value;
      at = readNumber(buf, at, to);
      if (at < 0) {
        return false;
      }
      number = value;
      at = readNumber(buf, at, to);
      if (at < 0) {
        return false;
      }
      stamp = value;
      return true;
    }

    /** Reads digits and their separator into {@link #value}; the position after, or -1. */
    private int readNumber(byte[] buf, int at, int to) {
      value = Frames.digitsAt(buf, at, to);
      if (value < 0) {
        return -1;
      }
      while (at < to && buf[at] >= '0' && buf[at] <= '9') {
        at++;
      }
      return at < to && buf[at] == SEPARATOR ? at + 1 : -1;
    }

    public int sender() {
      return sender;
    }

    public long number() {
      return number;
    }

    public long stamp() {
      return stamp;
    }
  }
}
