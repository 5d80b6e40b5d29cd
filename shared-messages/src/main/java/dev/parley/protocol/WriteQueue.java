package dev.parley.protocol;

import akka.stream.BufferOverflowException;
import akka.util.ByteString;
import java.util.ArrayDeque;

/**
 * The encoded bytes of a connection waiting for its socket, bounded in bytes, and handed out joined
 * into writes of up to {@code writeBatchBytes}: under load that saves a system call per frame; when
 * idle each frame is written at once. Kept apart from any stage, so that the client's {@link
 * OutboundBuffer} and the server's {@code SessionPort} bound and batch alike.
 *
 * <p>Bounded in bytes, not frames: what a connection may hold is what it costs in memory, whether
 * that is many small presence notices or a few large messages. Not thread-safe: it belongs to one
 * stage's logic.
 */
public final class WriteQueue {

  /** Writes the queue has room for before it first grows. */
  private static final int INITIAL_WAITING_WRITES = 1;

  private final long maxBytes;
  private final int writeBatchBytes;

  // Sized for the usual one write waiting: it grows when the socket falls behind, and the default
  // 16 slots were kept, unused, by every idle connection.
  private final ArrayDeque<ByteString> waiting = new ArrayDeque<>(INITIAL_WAITING_WRITES);
  private long waitingBytes;

  /**
   * @param maxBytes most bytes that may wait
   * @param writeBatchBytes most bytes joined into one write; 1 writes each frame on its own
   */
  public WriteQueue(long maxBytes, int writeBatchBytes) {
    checkBounds(maxBytes, writeBatchBytes);
    this.maxBytes = maxBytes;
    this.writeBatchBytes = writeBatchBytes;
  }

  /**
   * Fails on bounds no queue can have: for a stage that makes a queue per connection to check its
   * configuration when it is made, not when its first connection comes.
   */
  public static void checkBounds(long maxBytes, int writeBatchBytes) {
    if (maxBytes <= 0 || writeBatchBytes <= 0) {
      throw new IllegalArgumentException("maxBytes and writeBatchBytes must be positive");
    }
  }

  /**
   * Queues one encoded frame.
   *
   * @return false when more than the bound now waits: the other end does not read, and the
   *     connection is to be failed with {@link #overflow()}
   */
  public boolean add(ByteString bytes) {
    waiting.addLast(bytes);
    waitingBytes += bytes.length();
    return waitingBytes <= maxBytes;
  }

  public boolean isEmpty() {
    return waiting.isEmpty();
  }

  /** What waits, up to one batch (or one frame, if a single one is larger); the queue not empty. */
  public ByteString nextWrite() {
    ByteString batch = waiting.pollFirst();
    int length = batch.length();
    ByteString next = waiting.peekFirst();
    while (next != null && length + next.length() <= writeBatchBytes) {
      batch = batch.concat(waiting.pollFirst());
      length += next.length();
      next = waiting.peekFirst();
    }
    waitingBytes -= length;
    return batch;
  }

  /** Why the connection fails once {@link #add} has returned false. */
  public BufferOverflowException overflow() {
    return new BufferOverflowException(
        "the other end left more than " + maxBytes + " bytes unread");
  }
}
