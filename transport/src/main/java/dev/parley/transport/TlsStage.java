package dev.parley.transport;

import akka.NotUsed;
import akka.stream.Attributes;
import akka.stream.BidiShape;
import akka.stream.Inlet;
import akka.stream.Outlet;
import akka.stream.javadsl.BidiFlow;
import akka.stream.stage.AbstractInHandler;
import akka.stream.stage.AbstractOutHandler;
import akka.stream.stage.GraphStage;
import akka.stream.stage.GraphStageLogic;
import akka.stream.stage.TimerGraphStageLogic;
import akka.util.ByteString;
import akka.util.ByteStringBuilder;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;

/**
 * TLS as one stage of a connection's own stream: ciphertext from and to the network below,
 * plaintext to and from the application above.
 *
 * <p>Akka Streams' TLS stage runs as an actor of its own beside the connection's stream (a hop each
 * way for every read and write) and holds four heap buffers of 17 to 35 KB for the connection's
 * whole life: 91.5 KB of an idle session's 115 KB on a server with 10,000 sessions. This stage runs
 * fused into the connection's stream and keeps no buffer between events. It encrypts and decrypts
 * into scratch buffers of the thread it runs on and copies the result out into the {@link
 * ByteString} it hands on, which it would have had to make anyway; between events it holds only the
 * engine, at most one element in each direction, and the few bytes of a record that has not wholly
 * arrived.
 *
 * <p>How it closes, as Akka's stage does with {@code TLSClosing.ignoreCancel}:
 *
 * <ul>
 *   <li>the end of the application's bytes sends TLS's closing alert after the last of them, then
 *       ends the bytes to the network;
 *   <li>the peer's closing alert, or the end of the network's bytes, ends the plaintext to the
 *       application (a stream cut without the alert is not a failure: the application cannot tell a
 *       truncated stream from a closed one, and Parley's protocol says itself when it is done);
 *   <li>the application's ceasing to read is not a close: what arrives is dropped, and the
 *       application's last bytes still go out. A protocol stream cancels its inbound the moment its
 *       outbound completes, and the goodbye it wrote must not be lost to that.
 * </ul>
 *
 * <p>A failure of TLS (a handshake that fails, a record that does not decrypt) sends the engine's
 * alert if it has one, ends the plaintext to the application and the bytes to the network; the
 * engine is the one to report why ({@link ReportingEngine}).
 *
 * <p>Backpressure holds in both directions: the stage reads the network only once the plaintext of
 * its last read has been taken, and takes the application's next bytes only once it has encrypted
 * the last.
 */
public final class TlsStage
    extends GraphStage<BidiShape<ByteString, ByteString, ByteString, ByteString>> {

  /** Records encrypted into the scratch buffer before it is copied out. */
  private static final int RECORDS_PER_SCRATCH = 5;

  private static final ByteBuffer[] NOTHING = {ByteBuffer.allocate(0)};

  /**
   * Per-thread buffers that a stage uses within one event and leaves empty after it. A stage's
   * events run one at a time on one thread, so no two stages share a buffer at once.
   */
  private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

  private final Inlet<ByteString> fromNetwork = Inlet.create("Tls.fromNetwork");
  private final Outlet<ByteString> toApplication = Outlet.create("Tls.toApplication");
  private final Inlet<ByteString> fromApplication = Inlet.create("Tls.fromApplication");
  private final Outlet<ByteString> toNetwork = Outlet.create("Tls.toNetwork");
  private final BidiShape<ByteString, ByteString, ByteString, ByteString> shape =
      BidiShape.of(fromNetwork, toApplication, fromApplication, toNetwork);

  private static final String HANDSHAKE_TIMER = "handshake";

  private final Function<Attributes, ? extends SSLEngine> engines;
  private final BiConsumer<Attributes, ? super SSLEngine> onFirstPlaintext;
  private final Duration handshakeTimeout;

  private TlsStage(
      Function<Attributes, ? extends SSLEngine> engines,
      BiConsumer<Attributes, ? super SSLEngine> onFirstPlaintext,
      Duration handshakeTimeout) {
    this.engines = engines;
    this.onFirstPlaintext = onFirstPlaintext;
    this.handshakeTimeout = handshakeTimeout;
  }

  /**
   * TLS over a connection: {@code in1} the network's bytes, {@code out1} the plaintext for the
   * application; {@code in2} the application's bytes, {@code out2} the ciphertext for the network.
   *
   * @param engines makes the connection's engine, in client or server mode, when the stream starts
   * @param onFirstPlaintext told once, with the engine, just before the first plaintext goes up:
   *     the peer has finished its handshake by then (and proved it holds its certificate's key)
   */
  public static BidiFlow<ByteString, ByteString, ByteString, ByteString, NotUsed> create(
      Supplier<? extends SSLEngine> engines, Consumer<? super SSLEngine> onFirstPlaintext) {
    return create(engines, onFirstPlaintext, null);
  }

  /**
   * As {@link #create(Supplier, Consumer)}, ending the connection as a failure of TLS if the
   * handshake has not finished within {@code handshakeTimeout} of the stream's start. Without it, a
   * peer that connects and never sends its hello keeps the connection open for good: what the
   * application writes meanwhile (a goodbye, say) waits for a handshake that never comes.
   */
  public static BidiFlow<ByteString, ByteString, ByteString, ByteString, NotUsed> create(
      Supplier<? extends SSLEngine> engines,
      Consumer<? super SSLEngine> onFirstPlaintext,
      Duration handshakeTimeout) {
    return withAttributes(
        attributes -> engines.get(),
        (attributes, engine) -> onFirstPlaintext.accept(engine),
        handshakeTimeout);
  }

  /**
   * As {@link #create(Supplier, Consumer, Duration)}, with what the connection is for taken from
   * the attributes the stream runs with: one such stage can then serve every connection of a
   * listener, each connection's stream given its own attributes (made per connection, a stage would
   * stay referenced from the connection's running logic, with the closures it holds).
   *
   * @param engines makes the connection's engine from the stream's attributes
   * @param onFirstPlaintext told once, with the stream's attributes and the engine
   */
  public static BidiFlow<ByteString, ByteString, ByteString, ByteString, NotUsed> withAttributes(
      Function<Attributes, ? extends SSLEngine> engines,
      BiConsumer<Attributes, ? super SSLEngine> onFirstPlaintext,
      Duration handshakeTimeout) {
    return BidiFlow.fromGraph(new TlsStage(engines, onFirstPlaintext, handshakeTimeout));
  }

  @Override
  public BidiShape<ByteString, ByteString, ByteString, ByteString> shape() {
    return shape;
  }

  @Override
  public GraphStageLogic createLogic(Attributes inheritedAttributes) {
    return new Logic(inheritedAttributes);
  }

  private final class Logic extends TimerGraphStageLogic {

    /** What the connection is for; dropped once the peer's first plaintext has been reported. */
    private Attributes attributes;

    private SSLEngine engine;

    /** Ciphertext of a record not yet wholly arrived. */
    private ByteString unread = ByteString.emptyByteString();

    /** The application's bytes, not yet encrypted; null for none. */
    private ByteString toSeal;

    /** Ciphertext not yet taken by the network; null for none. */
    private ByteString sealed;

    /** Plaintext not yet taken by the application; null for none. */
    private ByteString opened;

    /** The peer closed (its alert, or the end of the network's bytes), or TLS failed. */
    private boolean inboundEnded;

    /** The application's bytes have ended. */
    private boolean closeRequested;

    /** Nothing more goes to the network once {@link #sealed} has: the closing alert is in it. */
    private boolean outboundEnded;

    /** The application has stopped reading: plaintext is dropped. */
    private boolean discarding;

    private boolean handshakeFinished;
    private boolean toldFirstPlaintext;

    /**
     * The engine's last call was a wrap after which it had nothing of its own to send and no
     * handshake under way. Only the stage's own next call into the engine can change that, so until
     * then {@link #serviceEngine()} need not ask it. Asking takes the engine's lock, and a record
     * sealed used to ask two or three times (a fanout seals one record per delivery and reads
     * nothing).
     */
    private boolean engineIdle;

    Logic(Attributes attributes) {
      super(shape);
      this.attributes = attributes;
      setHandler(
          fromNetwork,
          new AbstractInHandler() {
            @Override
            public void onPush() {
              ByteString bytes = grab(fromNetwork);
              if (inboundEnded) {
                // Read before TLS failed or the peer closed: nothing in it is wanted any more.
                pump();
                return;
              }
              try {
                open(bytes);
              } catch (SSLException e) {
                failed();
              }
              pump();
            }

            @Override
            public void onUpstreamFinish() {
              inboundEnded = true;
              unread = ByteString.emptyByteString();
              engineIdle = false;
              try {
                engine.closeInbound();
              } catch (SSLException truncated) {
                // Closed without the closing alert: an end all the same (see the class comment).
              }
              pump();
            }
          });
      setHandler(
          toApplication,
          new AbstractOutHandler() {
            @Override
            public void onPull() {
              pump();
            }

            @Override
            public void onDownstreamFinish(Throwable cause) {
              discarding = true;
              opened = null;
              pump();
            }
          });
      setHandler(
          fromApplication,
          new AbstractInHandler() {
            @Override
            public void onPush() {
              toSeal = grab(fromApplication);
              pump();
            }

            @Override
            public void onUpstreamFinish() {
              closeRequested = true;
              pump();
            }
          });
      setHandler(
          toNetwork,
          new AbstractOutHandler() {
            @Override
            public void onPull() {
              pump();
            }
          });
    }

    @Override
    public void preStart() {
      engine = engines.apply(attributes);
      if (handshakeTimeout != null) {
        scheduleOnce(HANDSHAKE_TIMER, handshakeTimeout);
      }
      try {
        engine.beginHandshake();
      } catch (SSLException e) {
        failed();
      }
      pump();
    }

    /** Does whatever the engine and the ports now allow; called after every event. */
    private void pump() {
      try {
        serviceEngine();
        if (toSeal != null && sealed == null && !outboundEnded && established()) {
          ByteString bytes = toSeal;
          toSeal = null;
          ByteBuffer[] sources = buffers(bytes);
          seal(sources);
          int left = remaining(sources);
          if (left > 0) {
            // The engine stopped for a handshake message of the peer's (a renegotiation).
            toSeal = bytes.takeRight(left);
          }
        }
        if (closeRequested && toSeal == null && !outboundEnded) {
          engineIdle = false;
          engine.closeOutbound();
          serviceEngine();
          outboundEnded = true;
        }
      } catch (SSLException e) {
        failed();
      }
      if (engine.isOutboundDone() && !outboundEnded) {
        // The engine closed its side itself (TLS 1.2 answers the peer's closing alert with its
        // own).
        outboundEnded = true;
      }
      if (outboundEnded) {
        toSeal = null;
        if (!isClosed(fromApplication)) {
          cancel(fromApplication);
        }
      }

      if (sealed != null && isAvailable(toNetwork)) {
        ByteString bytes = sealed;
        sealed = null;
        push(toNetwork, bytes);
      }
      if (outboundEnded && sealed == null && !isClosed(toNetwork)) {
        complete(toNetwork);
      }
      if (opened != null && isAvailable(toApplication)) {
        if (!toldFirstPlaintext) {
          toldFirstPlaintext = true;
          onFirstPlaintext.accept(attributes, engine);
          attributes = null;
        }
        ByteString bytes = opened;
        opened = null;
        push(toApplication, bytes);
      }
      if (inboundEnded && opened == null && !isClosed(toApplication)) {
        complete(toApplication);
      }

      if (isClosed(toNetwork) && isClosed(toApplication)) {
        completeStage();
        return;
      }
      if (!inboundEnded
          && opened == null
          && !isClosed(fromNetwork)
          && !hasBeenPulled(fromNetwork)) {
        pull(fromNetwork);
      }
      if (toSeal == null
          && sealed == null
          && !closeRequested
          && !outboundEnded
          && !isClosed(fromApplication)
          && !hasBeenPulled(fromApplication)) {
        pull(fromApplication);
      }
    }

    private void handshakeFinished() {
      if (!handshakeFinished) {
        handshakeFinished = true;
        // The timer holds a scheduled task per connection; a finished handshake needs none.
        cancelTimer(HANDSHAKE_TIMER);
      }
    }

    @Override
    public void onTimer(Object key) {
      if (!established()) {
        if (engine instanceof ReportingEngine reporting) {
          reporting.handshakeTimedOut(handshakeTimeout);
        }
        failed();
        pump();
      }
    }

    private boolean established() {
      if (!handshakeFinished && engine.getHandshakeStatus() == HandshakeStatus.NOT_HANDSHAKING) {
        handshakeFinished();
      }
      return handshakeFinished;
    }

    /**
     * Runs the engine's tasks and sends its handshake messages until it waits for the peer.
     *
     * @return whether it did anything
     */
    private boolean serviceEngine() throws SSLException {
      boolean serviced = false;
      while (!engineIdle) {
        HandshakeStatus status = engine.getHandshakeStatus();
        if (status == HandshakeStatus.NEED_TASK) {
          DelegatedTasks.runAll(engine);
        } else if (status != HandshakeStatus.NEED_WRAP || !seal(NOTHING)) {
          return serviced;
        }
        serviced = true;
      }
      return serviced;
    }

    /**
     * Encrypts {@code sources} wholly (or, with nothing in them, what the engine has to send) and
     * adds the records to {@link #sealed}.
     *
     * @return whether the engine produced or consumed anything
     */
    private boolean seal(ByteBuffer[] sources) throws SSLException {
      Scratch scratch = SCRATCH.get();
      int record = engine.getSession().getPacketBufferSize();
      ByteBuffer target = scratch.net(record * RECORDS_PER_SCRATCH);
      ByteStringBuilder spilled = null;
      boolean progress = false;
      while (true) {
        if (target.remaining() < record) {
          spilled = spill(target, spilled);
        }
        // Not idle should the wrap fail: the alert it leaves is still to be sent.
        engineIdle = false;
        SSLEngineResult result = engine.wrap(sources, target);
        if (result.bytesConsumed() > 0 || result.bytesProduced() > 0) {
          progress = true;
        }
        noteFinished(result);
        // The JDK's engine reports its status after the wrap, a key update or session ticket it
        // started included; only FINISHED stands for a status it does not hold.
        engineIdle = result.getHandshakeStatus() == HandshakeStatus.NOT_HANDSHAKING;
        if (result.getStatus() == SSLEngineResult.Status.BUFFER_OVERFLOW) {
          if (target.position() == 0) {
            record = engine.getSession().getPacketBufferSize();
            target = scratch.net(Math.max(target.capacity() * 2, record));
          } else {
            spilled = spill(target, spilled);
          }
          continue;
        }
        if (result.getHandshakeStatus() == HandshakeStatus.NEED_TASK) {
          DelegatedTasks.runAll(engine);
        }
        if (result.getStatus() == SSLEngineResult.Status.CLOSED
            || result.bytesConsumed() == 0 && result.bytesProduced() == 0
            || !hasRemaining(sources)
                && (engineIdle || engine.getHandshakeStatus() != HandshakeStatus.NEED_WRAP)) {
          break;
        }
      }
      ByteString made = collect(target, spilled);
      if (!made.isEmpty()) {
        sealed = sealed == null ? made : sealed.concat(made);
      }
      return progress;
    }

    /** Decrypts what {@code bytes} completes, and keeps what is left of an incomplete record. */
    private void open(ByteString bytes) throws SSLException {
      Scratch scratch = SCRATCH.get();
      ByteBuffer source = scratch.in(unread.size() + bytes.size());
      unread.copyToBuffer(source);
      bytes.copyToBuffer(source);
      source.flip();
      unread = ByteString.emptyByteString();
      int plaintextRoom = engine.getSession().getApplicationBufferSize();
      ByteBuffer target = scratch.app(plaintextRoom * RECORDS_PER_SCRATCH);
      ByteStringBuilder spilled = null;
      while (source.hasRemaining() && !inboundEnded) {
        if (target.remaining() < plaintextRoom) {
          spilled = spill(target, spilled);
        }
        // Whatever the unwrap's result says: ReportingEngine reports some NEED_WRAPs as
        // NOT_HANDSHAKING.
        engineIdle = false;
        SSLEngineResult result = engine.unwrap(source, target);
        noteFinished(result);
        SSLEngineResult.Status status = result.getStatus();
        if (status == SSLEngineResult.Status.BUFFER_UNDERFLOW) {
          break;
        }
        if (status == SSLEngineResult.Status.BUFFER_OVERFLOW) {
          if (target.position() == 0) {
            plaintextRoom = engine.getSession().getApplicationBufferSize();
            target = scratch.app(Math.max(target.capacity() * 2, plaintextRoom));
          } else {
            spilled = spill(target, spilled);
          }
          continue;
        }
        if (status == SSLEngineResult.Status.CLOSED) {
          inboundEnded = true;
        }
        boolean engineWaited = result.bytesConsumed() == 0 && result.bytesProduced() == 0;
        // The engine may need to answer before it reads on (a handshake message, a key update).
        if (!serviceEngine() && engineWaited) {
          break;
        }
      }
      if (source.hasRemaining() && !inboundEnded) {
        unread = ByteString.fromByteBuffer(source);
      }
      ByteString plaintext = collect(target, spilled);
      if (!plaintext.isEmpty() && !discarding) {
        opened = opened == null ? plaintext : opened.concat(plaintext);
      }
    }

    private void noteFinished(SSLEngineResult result) {
      if (result.getHandshakeStatus() == HandshakeStatus.FINISHED) {
        handshakeFinished();
      }
    }

    /**
     * TLS has failed: the engine's alert goes out if it has one, and the connection ends both ways.
     */
    private void failed() {
      engineIdle = false;
      try {
        serviceEngine();
      } catch (SSLException | RuntimeException alertNotMade) {
        // The engine has nothing it can still send.
      }
      inboundEnded = true;
      outboundEnded = true;
      unread = ByteString.emptyByteString();
      opened = null;
      toSeal = null;
      // The network's bytes are not cancelled yet: that could end the connection before the alert
      // is out. The stage stops reading, and cancels them when it completes.
    }
  }

  private static ByteBuffer[] buffers(ByteString bytes) {
    if (bytes.isCompact()) {
      return new ByteBuffer[] {bytes.asByteBuffer()};
    }
    List<ByteBuffer> parts = new ArrayList<>();
    bytes.getByteBuffers().forEach(parts::add);
    return parts.toArray(new ByteBuffer[0]);
  }

  private static boolean hasRemaining(ByteBuffer[] buffers) {
    return remaining(buffers) > 0;
  }

  private static int remaining(ByteBuffer[] buffers) {
    int remaining = 0;
    for (ByteBuffer buffer : buffers) {
      remaining += buffer.remaining();
    }
    return remaining;
  }

  /** Moves what {@code target} holds into {@code spilled} (made if null) and empties it. */
  private static ByteStringBuilder spill(ByteBuffer target, ByteStringBuilder spilled) {
    ByteStringBuilder builder = spilled == null ? new ByteStringBuilder() : spilled;
    builder.putBytes(target.array(), 0, target.position());
    target.clear();
    return builder;
  }

  /**
   * Everything encrypted or decrypted in this event, as one copy; the scratch buffer is left empty.
   */
  private static ByteString collect(ByteBuffer target, ByteStringBuilder spilled) {
    ByteString last = ByteString.fromArray(target.array(), 0, target.position());
    target.clear();
    return spilled == null ? last : spilled.append(last).result();
  }

  /** One thread's buffers; each comes back cleared and at least as large as asked. */
  private static final class Scratch {
    private ByteBuffer in = ByteBuffer.allocate(0);
    private ByteBuffer net = ByteBuffer.allocate(0);
    private ByteBuffer app = ByteBuffer.allocate(0);

    ByteBuffer in(int size) {
      in = sized(in, size);
      return in;
    }

    ByteBuffer net(int size) {
      net = sized(net, size);
      return net;
    }

    ByteBuffer app(int size) {
      app = sized(app, size);
      return app;
    }

    private static ByteBuffer sized(ByteBuffer buffer, int size) {
      if (buffer.capacity() < size) {
        return ByteBuffer.allocate(size);
      }
      buffer.clear();
      return buffer;
    }
  }
}
