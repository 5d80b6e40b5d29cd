package dev.parley.transport.nio;

import akka.stream.Attributes;
import akka.stream.FlowShape;
import akka.stream.Inlet;
import akka.stream.Outlet;
import akka.stream.stage.AbstractInHandler;
import akka.stream.stage.AbstractOutHandler;
import akka.stream.stage.AsyncCallback;
import akka.stream.stage.GraphStage;
import akka.stream.stage.GraphStageLogic;
import akka.util.ByteString;
import java.io.IOException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import scala.runtime.BoxedUnit;

/**
 * A connected socket as a flow: the bytes pushed in are written to the socket, the bytes read from
 * it come out. The stage does its own reads and writes, on the stream's thread, straight into the
 * non-blocking socket; only when the socket would block does it ask its {@link SelectorLoop} to be
 * told when it may go on. A frame written is one system call and no message, where Akka IO's TCP
 * sends each write to the connection's actor, which writes it and sends an acknowledgement back
 * (issue 11, fifteenth round, docs/performance.md).
 *
 * <p>Writing gathers: the bytes pushed are written when the {@link WriteFlusher} says (once the
 * work queued on the streams' thread has run, or after its hold when that thread is never idle),
 * and meanwhile the stage goes on taking bytes, up to {@code gatherBytes}, which join that write.
 * Under load the frames made in between, the next broadcasts' included, go out in one system call,
 * as Akka's TCP stage gathers them while it waits for its acknowledgement (issue 11, fifteenth and
 * sixteenth rounds, docs/performance.md). Only bytes that the stream's {@link WriteMark} says may
 * wait are held so; the others go out on the flusher's next turn (the seventeenth round).
 *
 * <p>Backpressure both ways: the stage reads only while downstream has asked for bytes, and takes
 * no bytes to write beyond {@code gatherBytes} while the socket has not taken the previous ones.
 *
 * <p>Closing, as Akka's TCP with half-close on: the end of the bytes to write ends the socket's
 * sending side (a FIN) once the last of them are written, and reading goes on; the other end's FIN
 * completes the bytes read, and writing goes on. The socket is closed when both directions are done
 * (or downstream has cancelled and the writing is done). A failure of the bytes to write aborts the
 * connection with a reset; a failure of the socket fails the stream.
 */
final class SocketStage extends GraphStage<FlowShape<ByteString, ByteString>> {

  private final Inlet<ByteString> toSocket = Inlet.create("SocketStage.toSocket");
  private final Outlet<ByteString> fromSocket = Outlet.create("SocketStage.fromSocket");
  private final FlowShape<ByteString, ByteString> shape = FlowShape.of(toSocket, fromSocket);

  private final SocketChannel channel;
  private final SelectorLoop loop;
  private final ReadBuffers readBuffers;
  private final int gatherBytes;
  private final WriteFlusher flusher;

  /** A socket can be run by one stream only. */
  private final AtomicBoolean materialized = new AtomicBoolean();

  /**
   * @param channel connected and non-blocking
   * @param gatherBytes most bytes taken for one write while the previous is still due
   * @param flusher says when the due writes go out
   */
  SocketStage(
      SocketChannel channel,
      SelectorLoop loop,
      ReadBuffers readBuffers,
      int gatherBytes,
      WriteFlusher flusher) {
    this.channel = channel;
    this.loop = loop;
    this.readBuffers = readBuffers;
    this.gatherBytes = gatherBytes;
    this.flusher = flusher;
  }

  @Override
  public FlowShape<ByteString, ByteString> shape() {
    return shape;
  }

  @Override
  public GraphStageLogic createLogic(Attributes inheritedAttributes) {
    if (!materialized.compareAndSet(false, true)) {
      throw new IllegalStateException("a connection's flow can be materialized only once");
    }
    return new Logic(inheritedAttributes.getAttribute(WriteMark.class).orElse(null));
  }

  private final class Logic extends GraphStageLogic implements SelectorLoop.ReadyHandler {

    private SelectionKey key;
    private AsyncCallback<Integer> onReady;

    /** Writes what has been gathered, when the flusher says (see "Writing gathers" above). */
    private AsyncCallback<BoxedUnit> writeTurn;

    private Executor turns;

    private final Runnable writeLater = () -> writeTurn.invoke(BoxedUnit.UNIT);

    /** A write is due: the flusher will run {@link #writeLater}. */
    private boolean writeScheduled;

    /** Bytes taken and not yet handed to a write. */
    private ByteString gathered = ByteString.emptyByteString();

    /** What the socket has not yet taken of the current write; null when there is none. */
    private ByteBuffer unwritten;

    /** Asked the loop to say when the socket is readable or writable. */
    private boolean readArmed;

    private boolean writeArmed;

    /** The sending side is shut (FIN sent). */
    private boolean outputShut;

    /** What the frames being written are, if the stream says ({@link WriteMark}). */
    private final WriteMark mark;

    private Logic(WriteMark mark) {
      super(shape);
      this.mark = mark;
      setHandler(
          toSocket,
          new AbstractInHandler() {
            @Override
            public void onPush() {
              gathered = gathered.concat(grab(toSocket));
              boolean mayWait = mark != null && mark.mayWait();
              if (!writeScheduled && unwritten == null) {
                writeScheduled = true;
                flusher.due(writeLater, turns, mayWait);
              } else if (writeScheduled && !mayWait) {
                flusher.expedite();
              }
              if (gathered.size() < gatherBytes) {
                pull(toSocket);
              }
            }

            @Override
            public void onUpstreamFinish() {
              if (nothingToWrite()) {
                shutOutput();
              }
              // Otherwise the last write shuts it.
            }

            @Override
            public void onUpstreamFailure(Throwable cause) {
              abort();
              failStage(cause);
            }
          });
      setHandler(
          fromSocket,
          new AbstractOutHandler() {
            @Override
            public void onPull() {
              if (!readArmed) {
                read();
              }
            }

            @Override
            public void onDownstreamFinish(Throwable cause) {
              if (isClosed(toSocket) && nothingToWrite()) {
                completeStage();
              }
              // Otherwise the writing goes on; what the other end still sends is not read.
            }
          });
    }

    @Override
    public void preStart() {
      // With both ports closed Akka would stop the stage, bytes still unwritten; it stops itself
      // once they are written.
      setKeepGoing(true);
      onReady = createAsyncCallback(this::onReady);
      writeTurn =
          createAsyncCallback(
              unit -> {
                writeScheduled = false;
                if (!writeArmed) {
                  write();
                }
              });
      turns = materializer().executionContext();
      try {
        key = loop.register(channel, this);
      } catch (IOException e) {
        failStage(e);
        return;
      }
      pull(toSocket);
    }

    /** On the loop's thread: hands the readiness over to the stream's. */
    @Override
    public void ready(int readyOps) {
      onReady.invoke(readyOps);
    }

    private void onReady(int readyOps) {
      if ((readyOps & SelectionKey.OP_READ) != 0) {
        readArmed = false;
        if (isAvailable(fromSocket)) {
          read();
        }
      }
      if ((readyOps & SelectionKey.OP_WRITE) != 0) {
        writeArmed = false;
        write();
      }
    }

    private void read() {
      ByteBuffer buffer = readBuffers.get();
      int read;
      try {
        read = channel.read(buffer);
      } catch (IOException e) {
        buffer.clear();
        failStage(e);
        return;
      }
      if (read > 0) {
        buffer.flip();
        byte[] bytes = new byte[read];
        buffer.get(bytes);
        buffer.clear();
        push(fromSocket, ByteString.fromArrayUnsafe(bytes));
      } else if (read == 0) {
        readArmed = true;
        loop.arm(key, SelectionKey.OP_READ);
      } else {
        // The other end has sent its last byte.
        complete(fromSocket);
        if (outputShut) {
          completeStage();
        }
      }
    }

    /** All bytes taken have been handed to the socket. */
    private boolean nothingToWrite() {
      return unwritten == null && gathered.isEmpty();
    }

    /** Hands what is gathered to the socket, as much as it takes now. */
    private void write() {
      try {
        while (true) {
          if (unwritten == null) {
            if (gathered.isEmpty()) {
              break;
            }
            unwritten = gathered.asByteBuffer();
            gathered = ByteString.emptyByteString();
          }
          while (unwritten.hasRemaining()) {
            if (channel.write(unwritten) == 0) {
              // Full: go on gathering (pulled still, below the limit) until it drains.
              writeArmed = true;
              loop.arm(key, SelectionKey.OP_WRITE);
              return;
            }
          }
          unwritten = null;
        }
      } catch (IOException e) {
        failStage(e);
        return;
      }
      if (isClosed(toSocket)) {
        shutOutput();
      } else if (!hasBeenPulled(toSocket)) {
        pull(toSocket);
      }
    }

    private void shutOutput() {
      if (outputShut) {
        return;
      }
      if (isClosed(fromSocket)) {
        completeStage();
        return;
      }
      try {
        channel.shutdownOutput();
        outputShut = true;
      } catch (IOException e) {
        failStage(e);
      }
    }

    /**
     * Closes with a reset rather than a FIN: the bytes to write failed, so the end is not clean.
     */
    private void abort() {
      try {
        channel.setOption(StandardSocketOptions.SO_LINGER, 0);
      } catch (IOException e) {
        // Closed already: nothing to reset.
      }
    }

    @Override
    public void postStop() {
      loop.close(channel);
    }
  }
}
