package dev.parley.transport.nio;

import akka.NotUsed;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Source;
import akka.stream.javadsl.Tcp;
import akka.util.ByteString;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * Parley's own TCP for streams, without Akka IO's actor per connection: listening sockets as
 * sources of connections ({@link #bind}), each connection's socket as a flow of bytes that writes
 * and reads on the stream's own thread ({@link SocketStage}), and a few selector threads that say
 * when a socket that would have blocked is ready ({@link SelectorLoop}).
 *
 * <p>Its connections are handled as Akka's are, through {@link Tcp.IncomingConnection}, with
 * half-close on: the code above the socket does not know which TCP runs under it.
 *
 * <p>It owns its selector threads: {@link #close} stops them, once the sockets are closed.
 */
public final class SocketIo implements AutoCloseable {

  private final List<SelectorLoop> loops = new ArrayList<>();
  private final ReadBuffers readBuffers;
  private final int gatherBytes;
  private final WriteFlusher flusher;
  private int nextLoop;

  /**
   * @param selectors selector threads; connections are spread over them in turn
   * @param readBytes most bytes one read takes from a socket
   * @param gatherBytes most bytes a connection gathers for one write
   * @param writeHold the longest a due write waits for the streams' thread to run dry ({@link
   *     WriteFlusher})
   * @param name the threads' names are this with their number
   */
  public SocketIo(int selectors, int readBytes, int gatherBytes, Duration writeHold, String name) {
    if (selectors <= 0 || gatherBytes <= 0) {
      throw new IllegalArgumentException(
          "selectors and gather bytes must be positive, not " + selectors + ", " + gatherBytes);
    }
    this.readBuffers = new ReadBuffers(readBytes);
    this.gatherBytes = gatherBytes;
    this.flusher = new WriteFlusher(writeHold.toNanos(), System::nanoTime);
    for (int i = 0; i < selectors; i++) {
      loops.add(SelectorLoop.start(name + "-" + i));
    }
  }

  /**
   * The connections accepted on {@code address}, as a listening socket with {@code backlog}
   * connections waiting in the kernel at most; bound when the source starts.
   *
   * @param acceptRetry how long an accept that failed waits before the next try
   */
  public Source<Tcp.IncomingConnection, CompletionStage<SocketBinding>> bind(
      InetSocketAddress address, int backlog, Duration acceptRetry) {
    return Source.fromGraph(new AcceptStage(this, address, backlog, acceptRetry));
  }

  /** {@code channel} (connected, non-blocking) as a flow, on the next selector thread. */
  Flow<ByteString, ByteString, NotUsed> connection(SocketChannel channel) {
    return Flow.fromGraph(new SocketStage(channel, nextLoop(), readBuffers, gatherBytes, flusher));
  }

  /** The selector thread of the next socket, in turn; called by the streams of accepting. */
  synchronized SelectorLoop nextLoop() {
    SelectorLoop loop = loops.get(nextLoop);
    nextLoop = (nextLoop + 1) % loops.size();
    return loop;
  }

  @Override
  public void close() {
    loops.forEach(SelectorLoop::close);
  }
}
