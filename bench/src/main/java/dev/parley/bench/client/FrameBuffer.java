package dev.parley.bench.client;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * A connection's outgoing bytes: frames are written into it by hand (ASCII pieces and decimal
 * numbers, no strings built) by the connection's loop thread, and flushed to the socket once per
 * loop iteration, so that the frames one read causes leave in one write. It grows while the socket
 * is slower than the frames, up to a limit that only a server which stopped reading reaches.
 */
public final class FrameBuffer {

  /** Far more than the in-flight windows allow; reaching it means the server stopped reading. */
  static final int MAX_BYTES = 16 * 1024 * 1024;

  private ByteBuffer buffer;

  public FrameBuffer(int initialBytes) {
    this.buffer = ByteBuffer.allocate(initialBytes);
  }

  public FrameBuffer put(byte[] bytes) {
    ensure(bytes.length);
    buffer.put(bytes);
    return this;
  }

  public FrameBuffer put(byte b) {
    ensure(1);
    buffer.put(b);
    return this;
  }

  /** {@code count} copies of {@code b}. */
  public FrameBuffer repeat(byte b, int count) {
    ensure(count);
    for (int i = 0; i < count; i++) {
      buffer.put(b);
    }
    return this;
  }

  /** A number as 16 lowercase hex digits, so that ids carrying it sort as the numbers do. */
  public FrameBuffer putHex16(long value) {
    ensure(16);
    for (int shift = 60; shift >= 0; shift -= 4) {
      buffer.put((byte) Character.forDigit((int) (value >>> shift) & 0xf, 16));
    }
    return this;
  }

  /** A non-negative number in decimal. */
  public FrameBuffer putDecimal(long value) {
    if (value < 0) {
      throw new IllegalArgumentException("negative: " + value);
    }
    int digits = 1;
    for (long rest = value / 10; rest > 0; rest /= 10) {
      digits++;
    }
    ensure(digits);
    int end = buffer.position() + digits;
    byte[] array = buffer.array();
    int at = end;
    long rest = value;
    do {
      array[--at] = (byte) ('0' + rest % 10);
      rest /= 10;
    } while (rest > 0);
    buffer.position(end);
    return this;
  }

  /** Bytes written so far and not yet flushed. */
  public int size() {
    return buffer.position();
  }

  public boolean isEmpty() {
    return buffer.position() == 0;
  }

  /** Drops what was not sent: for a new connection. */
  public void clear() {
    buffer.clear();
  }

  /** Writes what the socket takes now; true when nothing is left. */
  public boolean writeTo(SocketChannel channel) throws IOException {
    buffer.flip();
    try {
      channel.write(buffer);
      return !buffer.hasRemaining();
    } finally {
      buffer.compact();
    }
  }

  /**
   * Sends through {@code tls} what it takes now; true unless the socket is full (during the
   * handshake the frames wait, and the socket's being writable would not help them).
   */
  public boolean writeTo(TlsChannel tls) throws IOException {
    buffer.flip();
    try {
      return tls.write(buffer);
    } finally {
      buffer.compact();
    }
  }

  /** The bytes written so far (for tests). */
  byte[] contents() {
    return java.util.Arrays.copyOf(buffer.array(), buffer.position());
  }

  private void ensure(int more) {
    if (buffer.remaining() >= more) {
      return;
    }
    int needed = buffer.position() + more;
    if (needed > MAX_BYTES) {
      throw new IllegalStateException(
          "more than " + MAX_BYTES + " bytes waiting to be sent: the server stopped reading");
    }
    int size = buffer.capacity();
    while (size < needed) {
      size *= 2;
    }
    ByteBuffer bigger = ByteBuffer.allocate(Math.min(size, MAX_BYTES));
    buffer.flip();
    bigger.put(buffer);
    buffer = bigger;
  }
}
