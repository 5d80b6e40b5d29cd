package dev.parley.protocol;

import akka.util.ByteString;

/**
 * Newline framing with a hard frame limit, and the decoding of each line, for one connection. Kept
 * apart from any stage, so that the client's {@link FrameDecoder} and the server's {@code
 * SessionPort} frame alike, and the server's port frames a connection's bytes itself instead of
 * having a stage of its own do it (issue 11: each stage costs every idle connection its logic and
 * links).
 *
 * <ul>
 *   <li>A line feed ends a frame; a carriage return before it is dropped; blank lines (spaces and
 *       tabs only) are skipped; a final line without a line feed is a frame once the input has
 *       {@link #end ended}.
 *   <li>A line longer than the limit (its carriage return included) becomes {@link
 *       Inbound.Oversized}, as soon as the limit is passed, without waiting for its line feed. The
 *       frames before it come first. After it come no more frames: what is offered is dropped, so
 *       the buffer never grows past the limit and the connection's owner decides when to close.
 * </ul>
 *
 * <p>Not thread-safe: it belongs to one stage's logic.
 *
 * @param <T> the frame family expected on the connection
 */
public final class LineFramer<T> implements Framer<ByteString, T> {

  private static final byte LINE_FEED = Protocol.FRAME_DELIMITER;
  private static final byte CARRIAGE_RETURN = '\r';

  /** Small: an idle connection should cost little; the buffer grows with the lines it sees. */
  private static final int INITIAL_BUFFER = 512;

  private final JsonCodec<T> codec;
  private final int maxFrameBytes;

  /**
   * Bytes of a frame not yet complete, {@code buffer[start, end)}; null when none are pending. An
   * idle connection holds none between its frames, so it keeps no buffer then: across thousands of
   * idle sessions the buffers were a measurable part of the heap (issue 11, docs/performance.md). A
   * plain array, searched and decoded in place, so that a line costs no copy besides the one that
   * brings its chunk in.
   */
  private byte[] buffer;

  private int start;
  private int end;

  /** How many bytes after {@code start} are known to hold no line feed. */
  private int scanned;

  /** After an oversized line: drop the rest of the input. */
  private boolean discarding;

  /** The input has ended: what is left is the last frame. */
  private boolean ended;

  /**
   * @param maxFrameBytes longest accepted line, line feed excluded
   */
  public LineFramer(JsonCodec<T> codec, int maxFrameBytes) {
    checkLimit(maxFrameBytes);
    this.codec = codec;
    this.maxFrameBytes = maxFrameBytes;
  }

  /**
   * Fails on a limit no framer can have: for a stage that makes a framer per connection to check
   * its configuration when it is made, not when its first connection comes.
   */
  public static void checkLimit(int maxFrameBytes) {
    if (maxFrameBytes <= 0) {
      throw new IllegalArgumentException("maxFrameBytes must be positive");
    }
  }

  @Override
  public void offer(ByteString chunk) {
    if (discarding) {
      return;
    }
    int length = chunk.length();
    if (start == end) {
      start = 0;
      end = 0;
    }
    if (buffer == null) {
      buffer = new byte[Math.max(INITIAL_BUFFER, length)];
    }
    if (end + length > buffer.length) {
      // Move what is pending to the front, and grow only if that is not enough.
      int pending = end - start;
      byte[] target =
          pending + length > buffer.length
              ? new byte[Math.max(buffer.length * 2, pending + length)]
              : buffer;
      System.arraycopy(buffer, start, target, 0, pending);
      buffer = target;
      start = 0;
      end = pending;
    }
    chunk.copyToArray(buffer, end, length);
    end += length;
  }

  @Override
  public void end() {
    ended = true;
  }

  /** An oversized line has been framed: what is offered from now on is dropped. */
  public boolean discarding() {
    return discarding;
  }

  /** No bytes are pending: nothing is left to frame until more are offered. */
  public boolean isEmpty() {
    return buffer == null;
  }

  @Override
  public Inbound<T> next() {
    if (discarding || buffer == null) {
      return null;
    }
    Inbound<T> next = nextLine();
    if (next instanceof Inbound.Oversized) {
      discarding = true;
      start = end;
    } else if (next == null && ended) {
      next = lastLine();
    }
    if (start == end) {
      buffer = null;
      start = 0;
      end = 0;
      scanned = 0;
    }
    return next;
  }

  /** The next line ended by a line feed, or an oversized one; null if there is none yet. */
  private Inbound<T> nextLine() {
    while (true) {
      int lineFeed = indexOfLineFeed();
      if (lineFeed < 0) {
        scanned = end - start;
        return end - start > maxFrameBytes ? new Inbound.Oversized<>(maxFrameBytes) : null;
      }
      int length = lineFeed - start;
      if (length > maxFrameBytes) {
        return new Inbound.Oversized<>(maxFrameBytes);
      }
      int from = start;
      start = lineFeed + 1;
      scanned = 0;
      length = withoutCarriageReturn(from, length);
      if (!isBlank(buffer, from, length)) {
        return codec.decode(buffer, from, length);
      }
    }
  }

  /** What is left after the input's end, without a line feed: a frame unless blank. */
  private Inbound<T> lastLine() {
    int from = start;
    int length = withoutCarriageReturn(from, end - from);
    start = end;
    return isBlank(buffer, from, length) ? null : codec.decode(buffer, from, length);
  }

  private int indexOfLineFeed() {
    for (int i = start + scanned; i < end; i++) {
      if (buffer[i] == LINE_FEED) {
        return i;
      }
    }
    return -1;
  }

  private int withoutCarriageReturn(int from, int length) {
    return length > 0 && buffer[from + length - 1] == CARRIAGE_RETURN ? length - 1 : length;
  }

  /** Spaces and tabs only: what someone typing into a raw socket sends to keep it alive. */
  private static boolean isBlank(byte[] bytes, int from, int length) {
    for (int i = from; i < from + length; i++) {
      if (bytes[i] != ' ' && bytes[i] != '\t') {
        return false;
      }
    }
    return true;
  }
}
