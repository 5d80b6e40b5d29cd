package dev.parley.transport.nio;

import java.nio.ByteBuffer;

/**
 * The buffer each thread reads sockets into, direct so that a read is one copy (kernel to buffer)
 * before the exact bytes are taken out; a heap buffer would cost the JDK's own direct buffer and a
 * second copy. Streams run on a bounded pool of threads, so there are as many buffers as threads,
 * not connections.
 */
final class ReadBuffers {

  private final ThreadLocal<ByteBuffer> buffers;

  /**
   * @param bytes most bytes one read takes from a socket
   */
  ReadBuffers(int bytes) {
    if (bytes <= 0) {
      throw new IllegalArgumentException("a read buffer must hold a byte, not " + bytes);
    }
    this.buffers = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(bytes));
  }

  /** This thread's buffer, empty; the caller leaves it empty again. */
  ByteBuffer get() {
    return buffers.get();
  }
}
