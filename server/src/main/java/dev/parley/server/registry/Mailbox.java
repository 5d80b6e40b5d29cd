package dev.parley.server.registry;

import java.util.Arrays;

/**
 * What the registry keeps of one user's direct messages: their numbering, how far the user has
 * acknowledged, and an index of the messages stored and not yet acknowledged, with where each is in
 * the store and its size. The texts stay in the store: a message is read back (a page at a time)
 * only to be sent, so a full mailbox costs the server about twenty bytes per message, not the
 * message.
 *
 * <p>While the user is online it also tracks delivery: messages up to {@link #sentSeq()} have been
 * handed to the connection, and no more than the delivery window may be handed over ahead of the
 * client's acknowledgements. A message stored while the user is caught up and the window has room
 * goes out at once (live); otherwise it waits in the store and goes out with a later page.
 *
 * <p>Not an actor and not thread-safe: the {@link UserRegistry} owns it.
 */
final class Mailbox {

  private static final int INITIAL_CAPACITY = 4;

  private long lastSeq;
  private long ackedSeq;

  /** Stored, unacknowledged messages, ordered by seq: a ring of parallel arrays. */
  private long[] seqs = new long[0];

  private long[] ids = new long[0];
  private int[] sizes = new int[0];
  private int head;
  private int count;
  private long storedBytes;

  /** Messages on their way to the store (counted against the limits before they are stored). */
  private int writing;

  private long writingBytes;

  /** Delivery, while online: the highest seq handed to the connection. */
  private long sentSeq;

  private int sentCount;
  private long sentBytes;

  /** A page is being read from the store for the connection. */
  private boolean reading;

  /** The highest acknowledgement on its way to the store; it counts once it is stored. */
  private long acknowledging;

  Mailbox(long lastSeq, long ackedSeq) {
    this.lastSeq = lastSeq;
    this.ackedSeq = ackedSeq;
    this.sentSeq = ackedSeq;
    this.acknowledging = ackedSeq;
  }

  /** Starts from the stored, unacknowledged messages of a snapshot (in seq order). */
  void restore(long[] storedSeqs, long[] storedIds, int[] storedSizes) {
    for (int i = 0; i < storedSeqs.length; i++) {
      if (storedSeqs[i] > ackedSeq) {
        append(storedSeqs[i], storedIds[i], storedSizes[i]);
      }
    }
  }

  long lastSeq() {
    return lastSeq;
  }

  long ackedSeq() {
    return ackedSeq;
  }

  long sentSeq() {
    return sentSeq;
  }

  /** Messages not acknowledged yet, stored or being stored. */
  int waiting() {
    return count + writing;
  }

  /** Their encoded text, in bytes. */
  long waitingBytes() {
    return storedBytes + writingBytes;
  }

  /** Whether messages to the user are on their way to the store. */
  boolean isWriting() {
    return writing > 0;
  }

  /** Whether nothing is stored, being stored or waiting for an acknowledgement to be stored. */
  boolean isIdle() {
    return count == 0 && writing == 0 && acknowledging == ackedSeq;
  }

  // ---- storing ----

  /** A new message is on its way to the store: its seq. */
  long startWriting(int size) {
    writing++;
    writingBytes += size;
    return ++lastSeq;
  }

  /** A message on its way is stored (true) or given up on (false). */
  void finishWriting(int size) {
    writing--;
    writingBytes -= size;
  }

  /**
   * A message is stored: it joins the index. Answers whether it may go to the connection now, live:
   * only when every stored message before it has gone and the window has room for it.
   */
  boolean stored(long seq, long id, int size, int window, long windowBytes) {
    boolean caughtUp = count == 0 || seqAt(count - 1) <= sentSeq;
    append(seq, id, size);
    return caughtUp && hasRoom(size, window, windowBytes);
  }

  // ---- delivery ----

  /** The user's connection is new: nothing of the index has been handed to it yet. */
  void connected() {
    sentSeq = ackedSeq;
    sentCount = 0;
    sentBytes = 0;
    reading = false;
  }

  /** The message with this seq went to the connection. */
  void sent(long seq, int size) {
    sentSeq = seq;
    sentCount++;
    sentBytes += size;
  }

  /**
   * The ids of the next stored messages to send, as many as the window has room for (at least one
   * when nothing is out, whatever its size) and at most {@code pageSize}; empty when there are none
   * or no room, or a page is being read already. Marks a page as being read.
   */
  long[] nextPage(int window, long windowBytes, int pageSize) {
    if (reading) {
      return new long[0];
    }
    int first = firstAfter(sentSeq);
    int taken = 0;
    int room = Math.min(pageSize, window - sentCount);
    long bytes = sentBytes;
    while (first + taken < count && taken < room) {
      int size = sizeAt(first + taken);
      if ((sentCount > 0 || taken > 0) && bytes + size > windowBytes) {
        break;
      }
      bytes += size;
      taken++;
    }
    long[] page = new long[taken];
    for (int i = 0; i < taken; i++) {
      page[i] = idAt(first + i);
    }
    reading = taken > 0;
    return page;
  }

  /** The page asked for has been read (or could not be). */
  void pageDone() {
    reading = false;
  }

  /** The size the index holds for the message with this seq, or -1 if it is not there. */
  int sizeOf(long seq) {
    int index = firstAfter(seq - 1);
    return index < count && seqAt(index) == seq ? sizeAt(index) : -1;
  }

  /**
   * Skips the messages of a page the store no longer has (their account was removed meanwhile):
   * whatever the page asked for up to and including this seq counts as sent.
   */
  void skipTo(long seq) {
    if (seq > sentSeq) {
      sentSeq = seq;
    }
  }

  /** The seq of the stored message with this id among those not sent yet, or -1. */
  long seqOfId(long id) {
    for (int i = firstAfter(sentSeq); i < count; i++) {
      if (idAt(i) == id) {
        return seqAt(i);
      }
    }
    return -1;
  }

  // ---- acknowledgements ----

  /**
   * The client acknowledged up to {@code seq}: the acknowledgement to store, clamped to the newest
   * stored message (an ack beyond would mark messages as shown before they exist, and the store's
   * purge relies on it never passing the newest), or -1 if it adds nothing. Not clamped to what
   * this connection was sent: a client that reconnects acknowledges what the previous one showed.
   */
  long acknowledge(long seq) {
    long newestStored = count == 0 ? ackedSeq : seqAt(count - 1);
    long upTo = Math.min(seq, newestStored);
    if (upTo <= acknowledging) {
      return -1;
    }
    acknowledging = upTo;
    return upTo;
  }

  /** Storing an acknowledgement failed: the next one from the client tries again. */
  void acknowledgementFailed(long seq) {
    if (acknowledging == seq) {
      acknowledging = ackedSeq;
    }
  }

  /** An acknowledgement is stored: the messages it covers leave the index and the window. */
  void acknowledged(long seq) {
    if (seq <= ackedSeq) {
      return;
    }
    ackedSeq = seq;
    acknowledging = Math.max(acknowledging, seq);
    while (count > 0 && seqAt(0) <= seq) {
      int size = sizeAt(0);
      storedBytes -= size;
      if (seqAt(0) <= sentSeq && sentCount > 0) {
        sentCount--;
        sentBytes -= size;
      }
      head = (head + 1) % seqs.length;
      count--;
    }
    if (sentSeq < ackedSeq) {
      sentSeq = ackedSeq;
    }
  }

  // ---- the ring ----

  private boolean hasRoom(int size, int window, long windowBytes) {
    return sentCount == 0 || (sentCount < window && sentBytes + size <= windowBytes);
  }

  private void append(long seq, long id, int size) {
    if (count == seqs.length) {
      grow();
    }
    int slot = (head + count) % seqs.length;
    seqs[slot] = seq;
    ids[slot] = id;
    sizes[slot] = size;
    count++;
    storedBytes += size;
  }

  private void grow() {
    int capacity = Math.max(INITIAL_CAPACITY, seqs.length * 2);
    long[] newSeqs = new long[capacity];
    long[] newIds = new long[capacity];
    int[] newSizes = new int[capacity];
    for (int i = 0; i < count; i++) {
      newSeqs[i] = seqAt(i);
      newIds[i] = idAt(i);
      newSizes[i] = sizeAt(i);
    }
    seqs = newSeqs;
    ids = newIds;
    sizes = newSizes;
    head = 0;
  }

  /** Index of the first stored message with a seq above {@code seq} (count if none). */
  private int firstAfter(long seq) {
    int low = 0;
    int high = count;
    while (low < high) {
      int middle = (low + high) >>> 1;
      if (seqAt(middle) <= seq) {
        low = middle + 1;
      } else {
        high = middle;
      }
    }
    return low;
  }

  private long seqAt(int index) {
    return seqs[(head + index) % seqs.length];
  }

  private long idAt(int index) {
    return ids[(head + index) % ids.length];
  }

  private int sizeAt(int index) {
    return sizes[(head + index) % sizes.length];
  }

  @Override
  public String toString() {
    long[] stored = new long[count];
    for (int i = 0; i < count; i++) {
      stored[i] = seqAt(i);
    }
    return "Mailbox[last="
        + lastSeq
        + ", acked="
        + ackedSeq
        + ", sent="
        + sentSeq
        + ", stored="
        + Arrays.toString(stored)
        + ", writing="
        + writing
        + "]";
  }
}
