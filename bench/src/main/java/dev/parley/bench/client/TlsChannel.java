package dev.parley.bench.client;

import dev.parley.transport.DelegatedTasks;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;

/**
 * TLS over one non-blocking connection, driven by hand with an {@link SSLEngine} on the loop thread
 * that owns the connection: the handshake (its delegated tasks run inline: they are a certificate
 * check or two per connection, and a pool would only move that CPU elsewhere on the same cores),
 * then records wrapped from the frames to send and unwrapped into the plaintext handed on.
 *
 * <p>Memory is what thousands of connections can afford: the large buffers ({@link Scratch}) are
 * the loop's, used by one connection at a time. A connection keeps only what must outlive a call:
 * the start of a record whose rest has not arrived ({@code carry}, at most one record) and the
 * records the socket did not take ({@code pending}, at most one scratch's worth: more are made into
 * it only as far as they fit, and the frames wait in their own buffer meanwhile). Each is allocated
 * the first time it is needed, then reused.
 *
 * <p>Not thread-safe: every call comes from the loop's thread.
 */
public final class TlsChannel {

  /** {@link #read} at the end of the stream: the server's close_notify, or the socket's end. */
  public static final int END = -1;

  /** Records the outgoing scratch holds, so that one write system call sends several. */
  static final int RECORDS_PER_WRITE = 4;

  /** Bytes read from the socket at most at once, past the carried start of a record. */
  static final int READ_BYTES = 64 * 1024;

  private static final ByteBuffer NOTHING = ByteBuffer.allocate(0).asReadOnlyBuffer();

  /** Where decrypted bytes go, as they arrive (a loop's {@link LineSplitter}, say). */
  @FunctionalInterface
  public interface Sink {
    void plaintext(byte[] bytes, int from, int length) throws IOException;
  }

  /**
   * The buffers one loop's connections share, one connection at a time, sized for the engines'
   * largest record.
   */
  public static final class Scratch {
    final int packetBytes;
    final ByteBuffer netIn;
    final ByteBuffer appIn;
    final ByteBuffer netOut;

    /**
     * @param packetBytes the largest TLS record ({@code SSLSession.getPacketBufferSize()})
     * @param applicationBytes the largest plaintext of one record ({@code
     *     getApplicationBufferSize()})
     */
    public Scratch(int packetBytes, int applicationBytes) {
      this.packetBytes = packetBytes;
      this.netIn = ByteBuffer.allocate(packetBytes + READ_BYTES);
      this.appIn = ByteBuffer.allocate(applicationBytes);
      this.netOut = ByteBuffer.allocate(packetBytes * RECORDS_PER_WRITE);
    }
  }

  private final SSLEngine engine;
  private final ByteChannel channel;
  private final Scratch scratch;
  private ByteBuffer carry;
  private ByteBuffer pending;
  private boolean handshakeDone;
  private boolean filled;
  private boolean closed;

  /**
   * @param engine a client engine whose handshake has not begun
   * @param channel the connected socket, non-blocking (or anything that reads and writes as one)
   */
  public TlsChannel(SSLEngine engine, ByteChannel channel, Scratch scratch) {
    this.engine = engine;
    this.channel = channel;
    this.scratch = scratch;
  }

  /** Starts the handshake: the first {@link #write} sends the client's hello. */
  public void begin() throws SSLException {
    engine.beginHandshake();
  }

  /** Whether the handshake has finished: plaintext written from now on is sent. */
  public boolean handshakeDone() {
    return handshakeDone;
  }

  /** The engine, for what it negotiated. */
  public SSLEngine engine() {
    return engine;
  }

  /** Whether the last {@link #read} filled the buffer, so that the socket may hold more. */
  public boolean filled() {
    return filled;
  }

  /**
   * Whether something waits to be written that a {@link #write} would send: records the socket did
   * not take, or handshake records the engine has to make.
   */
  public boolean wantsWrite() {
    return hasPending() || engine.getHandshakeStatus() == HandshakeStatus.NEED_WRAP;
  }

  /**
   * Reads what the socket has (as much as the loop's buffer takes), decrypts it record by record,
   * hands each record's plaintext to {@code sink}, and answers the handshake as it goes. A record
   * cut short by the read is kept until its rest arrives. The sink may {@link #close} this channel;
   * reading stops then.
   *
   * @return the bytes read from the socket (0 when it had none), or {@link #END}
   * @throws SSLException when the server's records do not make sense as TLS, or its certificate is
   *     not trusted (an {@code SSLHandshakeException} whose message says why)
   */
  public int read(Sink sink) throws IOException {
    ByteBuffer in = scratch.netIn;
    in.clear();
    if (carry != null && carry.position() > 0) {
      carry.flip();
      in.put(carry);
      carry.clear();
    }
    int room = in.remaining();
    int read = channel.read(in);
    filled = read == room;
    in.flip();
    if (read < 0) {
      // A stream cut off without close_notify (or in the middle of a record): over either way.
      return END;
    }
    return unwrapAll(in, sink) ? read : END;
  }

  /**
   * Sends what can be sent now: first the records the socket did not take before, then the
   * handshake's records, then (once the handshake is done) {@code plaintext} wrapped into records,
   * as much of it as the socket takes. What is not wrapped stays in {@code plaintext}.
   *
   * @param plaintext bytes to send, ready to be read (position to limit)
   * @return true when the socket took everything there is to send now; false when it is full and
   *     the caller must wait until it is writable again
   */
  public boolean write(ByteBuffer plaintext) throws IOException {
    if (closed) {
      return true;
    }
    while (true) {
      // Records are made after those still waiting, as far as they fit; else in the scratch.
      boolean waiting = hasPending();
      ByteBuffer net = waiting ? pending : scratch.netOut.clear();
      boolean more = wrapInto(net, plaintext);
      net.flip();
      if (net.hasRemaining()) {
        channel.write(net);
      }
      boolean all = !net.hasRemaining();
      if (waiting) {
        net.compact();
      } else if (!all) {
        keepPending(net);
      }
      if (!all) {
        return false;
      }
      if (!more) {
        return true;
      }
    }
  }

  /**
   * Ends TLS as politely as a non-blocking connection can: the closing alert (close_notify, or the
   * alert saying why the handshake failed), if the socket takes it right now. Does not close the
   * socket.
   */
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (hasPending()) {
      // The alert would go after records the server has not even received.
      return;
    }
    engine.closeOutbound();
    ByteBuffer net = scratch.netOut;
    net.clear();
    try {
      engine.wrap(NOTHING, net);
      net.flip();
      channel.write(net);
    } catch (IOException e) {
      // Closing anyway: the alert is a courtesy.
    }
  }

  /** Unwraps every whole record of {@code in}; false when the server closed TLS. */
  private boolean unwrapAll(ByteBuffer in, Sink sink) throws IOException {
    ByteBuffer app = scratch.appIn;
    while (in.hasRemaining() && !closed) {
      app.clear();
      SSLEngineResult result = engine.unwrap(in, app);
      switch (result.getStatus()) {
        case BUFFER_UNDERFLOW -> {
          keepCarry(in);
          return true;
        }
        case BUFFER_OVERFLOW ->
            // The buffer holds the largest plaintext the session allows: a bug, or a broken peer.
            throw new SSLException(
                "a TLS record of more than " + app.capacity() + " bytes of plaintext");
        case CLOSED -> {
          deliver(app, sink);
          return false;
        }
        case OK -> deliver(app, sink);
      }
      HandshakeStatus status = handshake(result.getHandshakeStatus());
      if (status == HandshakeStatus.NEED_WRAP) {
        // The server waits for the client's answer (its Finished, say): made now, and sent as far
        // as the socket takes it (the rest when it is writable: wantsWrite).
        write(NOTHING);
        if (engine.getHandshakeStatus() == HandshakeStatus.NEED_WRAP) {
          // Only when a full pending buffer leaves no room for it, which a handshake never does.
          throw new SSLException("no room left to answer the server's TLS handshake");
        }
      } else if (result.bytesConsumed() == 0 && result.bytesProduced() == 0) {
        keepCarry(in);
        return true;
      }
    }
    return true;
  }

  private void deliver(ByteBuffer app, Sink sink) throws IOException {
    if (app.position() > 0) {
      sink.plaintext(app.array(), app.arrayOffset(), app.position());
    }
  }

  /**
   * Wraps into {@code net} what there is to send: handshake records, then plaintext once the
   * handshake is done, until {@code net} may not fit another record. True when there may be more.
   */
  private boolean wrapInto(ByteBuffer net, ByteBuffer plaintext) throws IOException {
    while (true) {
      HandshakeStatus status = handshake(engine.getHandshakeStatus());
      boolean handshaking = status == HandshakeStatus.NEED_WRAP;
      if (!handshaking
          && (status != HandshakeStatus.NOT_HANDSHAKING || !plaintext.hasRemaining())) {
        // Waiting for the server's handshake records, or nothing to send.
        return false;
      }
      if (net.remaining() < scratch.packetBytes) {
        return true;
      }
      SSLEngineResult result = engine.wrap(handshaking ? NOTHING : plaintext, net);
      switch (result.getStatus()) {
        case OK -> handshake(result.getHandshakeStatus());
        case BUFFER_OVERFLOW -> {
          if (net.position() == 0) {
            throw new SSLException("a TLS record larger than " + net.capacity() + " bytes");
          }
          return true;
        }
        case CLOSED -> throw new SSLException("TLS is closed: nothing more can be sent");
        case BUFFER_UNDERFLOW -> throw new IllegalStateException("wrap cannot underflow");
      }
    }
  }

  /** Runs what the engine delegates, notes the end of the handshake; the status after that. */
  private HandshakeStatus handshake(HandshakeStatus status) {
    if (status == HandshakeStatus.FINISHED) {
      handshakeDone = true;
    }
    if (status != HandshakeStatus.NEED_TASK) {
      return status;
    }
    DelegatedTasks.runAll(engine);
    return engine.getHandshakeStatus();
  }

  private boolean hasPending() {
    return pending != null && pending.position() > 0;
  }

  /** Keeps what the socket did not take; only when nothing was pending, so it fits. */
  private void keepPending(ByteBuffer net) {
    if (pending == null) {
      pending = ByteBuffer.allocate(scratch.netOut.capacity());
    }
    pending.put(net);
  }

  /** Keeps the start of a record until the rest of it is read. */
  private void keepCarry(ByteBuffer in) throws SSLException {
    int bytes = in.remaining();
    if (bytes == 0) {
      return;
    }
    // A whole record is always unwrapped, so a partial one is smaller than the largest record;
    // more would mean the engine stopped for another reason, which nothing here waits out.
    if (bytes > scratch.packetBytes) {
      throw new SSLException(
          "TLS stopped with "
              + bytes
              + " bytes unread (status "
              + engine.getHandshakeStatus()
              + ")");
    }
    if (carry == null) {
      carry = ByteBuffer.allocate(scratch.packetBytes);
    }
    carry.put(in);
  }
}
