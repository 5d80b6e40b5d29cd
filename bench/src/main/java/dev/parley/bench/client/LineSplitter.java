package dev.parley.bench.client;

import java.io.IOException;

/**
 * Cuts a connection's byte stream into lines. Complete lines are handed over where they lie in the
 * read buffer, without copying; only the unfinished tail of a read is kept, in a buffer that exists
 * only while a line is split across reads (an idle connection holds none). A trailing carriage
 * return is removed and empty lines are skipped, as the protocol says.
 */
public final class LineSplitter {

  /** Receives each line as {@code buf[from, to)}, without its line feed. */
  @FunctionalInterface
  public interface Sink {
    void onLine(byte[] buf, int from, int to) throws IOException;
  }

  private static final int FIRST_TAIL_BYTES = 256;

  private final int maxLineBytes;
  private byte[] tail;
  private int tailLength;

  /** Lines longer than {@code maxLineBytes} are refused, as the server refuses them. */
  public LineSplitter(int maxLineBytes) {
    this.maxLineBytes = maxLineBytes;
  }

  /** Hands every line that {@code data[off, off+len)} completes to {@code sink}. */
  public void feed(byte[] data, int off, int len, Sink sink) throws IOException {
    int end = off + len;
    int start = off;
    if (tailLength > 0) {
      int lineFeed = Frames.indexOf(data, off, end, (byte) '\n');
      if (lineFeed < 0) {
        keep(data, off, end);
        return;
      }
      keep(data, off, lineFeed);
      int length = tailLength;
      tailLength = 0;
      emit(tail, 0, length, sink);
      start = lineFeed + 1;
    }
    for (int lineFeed = Frames.indexOf(data, start, end, (byte) '\n');
        lineFeed >= 0;
        lineFeed = Frames.indexOf(data, start, end, (byte) '\n')) {
      emit(data, start, lineFeed, sink);
      start = lineFeed + 1;
    }
    if (start < end) {
      keep(data, start, end);
    }
  }

  /** At the end of the stream: a last line without a line feed is still a line. */
  public void finish(Sink sink) throws IOException {
    if (tailLength > 0) {
      int length = tailLength;
      tailLength = 0;
      emit(tail, 0, length, sink);
    }
  }

  /** Forgets an unfinished line: for a new connection. */
  public void reset() {
    tailLength = 0;
  }

  /** Bytes of an unfinished line held. */
  public int pending() {
    return tailLength;
  }

  private void keep(byte[] data, int from, int to) throws IOException {
    int length = to - from;
    if (tailLength + length > maxLineBytes + 1) {
      // +1: the carriage return the limit allows before the line feed.
      throw new IOException("the server sent a line longer than " + maxLineBytes + " bytes");
    }
    if (tail == null || tail.length < tailLength + length) {
      int size = tail == null ? FIRST_TAIL_BYTES : tail.length;
      while (size < tailLength + length) {
        size *= 2;
      }
      tail = tail == null ? new byte[size] : java.util.Arrays.copyOf(tail, size);
    }
    System.arraycopy(data, from, tail, tailLength, length);
    tailLength += length;
  }

  private static void emit(byte[] buf, int from, int to, Sink sink) throws IOException {
    if (to > from && buf[to - 1] == '\r') {
      to--;
    }
    if (to > from) {
      sink.onLine(buf, from, to);
    }
  }
}
