package dev.parley.it.fuzz;

import dev.parley.protocol.Inbound;
import dev.parley.protocol.JsonCodec;
import dev.parley.protocol.Protocol;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A fuzzer's TCP connection to the server or to a client's private-chat port. A reader thread
 * (unless the connection plays a reader that never reads) takes every line the other end sends,
 * checks it as any receiver would (within the frame limit, a frame of the expected family, nothing
 * after the last frame) and reports what it sees to the {@link FuzzStats}; a script can wait for a
 * frame it expects, or for the other end to close.
 *
 * @param <T> the frame family the other end sends
 */
final class WireConnection<T> implements AutoCloseable {

  /** Beyond this a line is not kept whole: the other end would be sending without bound. */
  private static final int MAX_KEPT_LINE = 4 * 1024 * 1024;

  /** Frames kept for scripts to wait for; more are counted but not kept. */
  private static final int KEPT_FRAMES = 256;

  private final String role;
  private final Socket socket;
  private final OutputStream out;
  private final JsonCodec<T> codec;
  private final Predicate<T> isLast;
  private final FuzzStats stats;
  private final BlockingQueue<T> frames = new ArrayBlockingQueue<>(KEPT_FRAMES);
  private final CountDownLatch ended = new CountDownLatch(1);
  private volatile boolean lastSeen;
  private volatile long bytesReceived;

  private WireConnection(
      String role, Socket socket, JsonCodec<T> codec, Predicate<T> isLast, FuzzStats stats)
      throws IOException {
    this.role = role;
    this.socket = socket;
    this.out = socket.getOutputStream();
    this.codec = codec;
    this.isLast = isLast;
    this.stats = stats;
  }

  /**
   * Connects to {@code port} on loopback; {@code receiveBuffer} (bytes, 0 for the default) set
   * small makes a reader that stops reading fill up sooner.
   */
  static <T> WireConnection<T> open(
      String role,
      int port,
      int receiveBuffer,
      JsonCodec<T> codec,
      Predicate<T> isLast,
      FuzzStats stats)
      throws IOException {
    Socket socket = new Socket();
    if (receiveBuffer > 0) {
      socket.setReceiveBufferSize(receiveBuffer);
    }
    socket.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
    socket.setTcpNoDelay(true);
    // Over TLS, as Parley speaks by default on both ports: the fuzzing is of what comes inside.
    return new WireConnection<>(role, FuzzTls.wrap(socket, port), codec, isLast, stats);
  }

  /** Starts reading (and checking) what the other end sends, on a thread of its own. */
  WireConnection<T> startReading() {
    Thread reader = new Thread(this::read, "fuzz-reader-" + role);
    reader.setDaemon(true);
    reader.start();
    return this;
  }

  /** Sends {@code line} and a line feed; false if the connection is gone. */
  boolean send(FuzzLines.Line line) {
    return send(line, true);
  }

  /** Sends {@code line}, with or without its line feed; false if the connection is gone. */
  boolean send(FuzzLines.Line line, boolean lineFeed) {
    byte[] bytes = line.bytes();
    try {
      out.write(bytes);
      if (lineFeed) {
        out.write('\n');
      }
      out.flush();
    } catch (IOException e) {
      return false;
    }
    stats.sent(role + ": " + line.category(), bytes.length + (lineFeed ? 1 : 0));
    return true;
  }

  /** The next frame that matches, waiting up to {@code patience}; null if none came. */
  T await(Predicate<T> wanted, Duration patience) {
    long deadline = System.nanoTime() + patience.toNanos();
    try {
      while (true) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return null;
        }
        T frame =
            frames.poll(Math.min(left, TimeUnit.MILLISECONDS.toNanos(50)), TimeUnit.NANOSECONDS);
        if (frame != null && wanted.test(frame)) {
          return frame;
        }
        if (frame == null && ended.getCount() == 0 && frames.isEmpty()) {
          return null;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  /** Whether the other end closed the connection within {@code patience}. */
  boolean awaitEnd(Duration patience) {
    try {
      return ended.await(patience.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** This end's port: the server logs it as the connection's remote address. */
  int localPort() {
    return socket.getLocalPort();
  }

  /** Whether this end closed the connection (rather than the other end). */
  boolean closedHere() {
    return socket.isClosed();
  }

  boolean ended() {
    return ended.getCount() == 0;
  }

  /** Whether the other end's last frame (goodbye, peer-bye) has arrived. */
  boolean lastSeen() {
    return lastSeen;
  }

  /** Closes the sending side only: the other end reads the end of the stream. */
  void halfClose() {
    try {
      socket.shutdownOutput();
    } catch (IOException e) {
      // Already closed.
    }
  }

  /** Closes with a reset instead of an orderly close. */
  void reset() {
    try {
      socket.setSoLinger(true, 0);
    } catch (IOException e) {
      // Closing anyway.
    }
    close();
  }

  @Override
  public void close() {
    try {
      socket.close();
    } catch (IOException e) {
      // Already closed.
    }
  }

  private void read() {
    byte[] buffer = new byte[64 * 1024];
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    boolean discarding = false;
    try (InputStream in = socket.getInputStream()) {
      int n;
      while ((n = in.read(buffer)) >= 0) {
        bytesReceived += n;
        int start = 0;
        for (int i = 0; i < n; i++) {
          if (buffer[i] != '\n') {
            continue;
          }
          if (!discarding) {
            line.write(buffer, start, i - start);
            onLine(line.toByteArray());
          }
          line.reset();
          discarding = false;
          start = i + 1;
        }
        if (!discarding) {
          line.write(buffer, start, n - start);
          if (line.size() > MAX_KEPT_LINE) {
            stats.anomaly(role + " sent a line of over " + MAX_KEPT_LINE + " bytes", "");
            line.reset();
            discarding = true;
          }
        }
      }
      if (line.size() > 0) {
        stats.anomaly(role + " ended with a line without line feed", show(line.toByteArray()));
      }
    } catch (IOException e) {
      // A reset, or our own close: the connection is over either way.
    } finally {
      ended.countDown();
    }
  }

  private void onLine(byte[] bytes) {
    int length = bytes.length;
    if (length > 0 && bytes[length - 1] == '\r') {
      stats.anomaly(role + " ended a line with a carriage return", show(bytes));
      length--;
    }
    if (length > Protocol.MAX_FRAME_BYTES) {
      stats.anomaly(
          role + " sent a frame over MAX_FRAME_BYTES (a Parley client cannot read it)",
          length + " bytes: " + show(bytes));
    }
    if (lastSeen) {
      stats.anomaly(role + " sent a frame after its last one", show(bytes));
    }
    Inbound<T> inbound = codec.decode(bytes, 0, length);
    if (inbound instanceof Inbound.Frame<T> frame) {
      T value = frame.frame();
      stats.count(role + " sent " + typeName(value));
      if (isLast.test(value)) {
        lastSeen = true;
        stats.count(role + " sent " + value);
      }
      frames.offer(value);
    } else {
      stats.anomaly(role + " sent a line its own codec cannot read", inbound + ": " + show(bytes));
    }
  }

  private static String typeName(Object frame) {
    if (frame instanceof dev.parley.protocol.ServerMessage server) {
      return server.typeName();
    }
    return ((dev.parley.protocol.PeerMessage) frame).typeName();
  }

  static String show(byte[] bytes) {
    String text = new String(bytes, 0, Math.min(bytes.length, 300), StandardCharsets.UTF_8);
    return text.replace("\n", "\\n").replace("\r", "\\r") + (bytes.length > 300 ? "..." : "");
  }
}
