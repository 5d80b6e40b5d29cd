package dev.parley.transport.nio;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.Iterator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One thread that waits for sockets to become ready, and tells each socket's owner which of the
 * operations it asked for may now proceed. It does no I/O of its own: the owners (a {@link
 * SocketStage} per connection, an {@link AcceptStage} per listening socket) read, write and accept
 * on their own threads, and ask this loop only when the socket would block.
 *
 * <p>Interest is one-shot: when an operation becomes ready the loop takes it out of the key's
 * interest before it tells the owner, so that a socket the owner has not yet served does not wake
 * the loop again, and the owner asks ({@link #arm}) the next time it would block.
 *
 * <p>Asking costs the loop a wake-up only while it is blocked in {@code select}: between two
 * selects it takes the new interest in at the next one (Java's selector queues interest changes and
 * applies them when a select starts).
 */
final class SelectorLoop implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(SelectorLoop.class);

  /** What a registered channel's owner is told: the operations now ready. */
  interface ReadyHandler {
    void ready(int readyOps);
  }

  private final Selector selector;
  private final Thread thread;

  /**
   * The loop is in, or about to enter, {@code select}: an owner that adds interest must wake it.
   * Written before select starts; an owner's interest change made before it reads false here is
   * seen by that select, since both pass through the selector's update lock.
   */
  private volatile boolean selecting;

  private volatile boolean closed;

  private SelectorLoop(Selector selector, String name) {
    this.selector = selector;
    this.thread = new Thread(this::run, name);
    // The loop must not keep a stopped node's JVM alive.
    thread.setDaemon(true);
  }

  /** Opens a selector and starts its thread, named {@code name}. */
  static SelectorLoop start(String name) {
    try {
      SelectorLoop loop = new SelectorLoop(Selector.open(), name);
      loop.thread.start();
      return loop;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open a selector", e);
    }
  }

  /**
   * Registers {@code channel} (non-blocking) with no interest yet; its owner asks with {@link
   * #arm}.
   */
  SelectionKey register(SelectableChannel channel, ReadyHandler handler)
      throws ClosedChannelException {
    return channel.register(selector, 0, handler);
  }

  /**
   * Asks to be told when {@code ops} are ready on {@code key}'s channel. A key cancelled meanwhile
   * (its channel closed) is ignored: its owner has stopped.
   */
  void arm(SelectionKey key, int ops) {
    try {
      key.interestOpsOr(ops);
    } catch (CancelledKeyException closedMeanwhile) {
      return;
    }
    if (selecting) {
      selector.wakeup();
    }
  }

  /**
   * Closes {@code channel}, and wakes the loop: a registered channel's socket is released only when
   * its key leaves the selector, which happens in a select.
   */
  void close(SelectableChannel channel) {
    try {
      channel.close();
    } catch (IOException e) {
      LOG.debug("closing a channel failed: {}", e.toString());
    }
    selector.wakeup();
  }

  private void run() {
    while (!closed) {
      try {
        selecting = true;
        selector.select();
        selecting = false;
        Iterator<SelectionKey> ready = selector.selectedKeys().iterator();
        while (ready.hasNext()) {
          SelectionKey key = ready.next();
          ready.remove();
          tell(key);
        }
      } catch (IOException | RuntimeException e) {
        // A selector that fails stops every socket it serves; say so loudly, and keep going.
        LOG.error("selector loop {} failed: {}", thread.getName(), e.toString(), e);
      }
    }
    try {
      selector.close();
    } catch (IOException e) {
      LOG.debug("closing the selector failed: {}", e.toString());
    }
  }

  private static void tell(SelectionKey key) {
    int readyOps;
    try {
      readyOps = key.readyOps();
      key.interestOpsAnd(~readyOps);
    } catch (CancelledKeyException closedMeanwhile) {
      return;
    }
    ((ReadyHandler) key.attachment()).ready(readyOps);
  }

  /** Stops the thread; the channels still registered are the owners' to close. */
  @Override
  public void close() {
    closed = true;
    selector.wakeup();
  }
}
