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
 * <p>Backpressure both ways: the stage reads only while downstream has asked for bytes, and takes
 * the next bytes to write only when the previous ones are all in the socket's send buffer.
 *
 * <p>The bytes pushed are written on the stream actor's next turn, not at once, and the next bytes
 * are asked for only after that write. Written at once, each frame under load was a write, a TLS
 * record and a read of its own on the other end: fanout to 2,000 members made half the deliveries
 * per second that Akka IO's TCP made, which gathers the frames queued while it waits for its
 * acknowledgement (issue 11, fifteenth round).
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

  /** A socket can be run by one stream only. */
  private final AtomicBoolean materialized = new AtomicBoolean();

  /**
   * @param channel connected and non-blocking
   */
  SocketStage(SocketChannel channel, SelectorLoop loop, ReadBuffers readBuffers) {
    this.channel = channel;
    this.loop = loop;
    this.readBuffers = readBuffers;
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
    return new Logic();
  }

  private final class Logic extends GraphStageLogic implements SelectorLoop.ReadyHandler {

    private SelectionKey key;
    private AsyncCallback<Integer> onReady;

    /**
     * Asks for the next bytes after a write, once the tasks already queued for the streams' threads
     * have run: under load, what the layers above make meanwhile waits for the next write, so it
     * goes in one write, one TLS record, and one read on the other end, instead of one of each per
     * frame. (Akka IO's TCP gathers so too, while it waits for its acknowledgement.)
     */
    private AsyncCallback<BoxedUnit> pullNext;

    private Executor turns;

    private final Runnable pullLater = () -> pullNext.invoke(BoxedUnit.UNIT);

    /** What is left of the bytes being written; null when all are in the socket. */
    private ByteBuffer unwritten;

    /** Asked the loop to say when the socket is readable or writable. */
    private boolean readArmed;

    private boolean writeArmed;

    /** The sending side is shut (FIN sent). */
    private boolean outputShut;

    private Logic() {
      super(shape);
      setHandler(
          toSocket,
          new AbstractInHandler() {
            @Override
            public void onPush() {
              unwritten = grab(toSocket).asByteBuffer();
              flush();
            }

            @Override
            public void onUpstreamFinish() {
              if (unwritten == null) {
                shutOutput();
              }
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
              if (isClosed(toSocket) && unwritten == null) {
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
      pullNext =
          createAsyncCallback(
              unit -> {
                if (!isClosed(toSocket) && !hasBeenPulled(toSocket)) {
                  pull(toSocket);
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
        if (unwritten != null) {
          flush();
        }
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

    private void flush() {
      try {
        while (unwritten.hasRemaining()) {
          if (channel.write(unwritten) == 0) {
            if (!writeArmed) {
              writeArmed = true;
              loop.arm(key, SelectionKey.OP_WRITE);
            }
            return;
          }
        }
      } catch (IOException e) {
        failStage(e);
        return;
      }
      unwritten = null;
      if (isClosed(toSocket)) {
        shutOutput();
      } else {
        turns.execute(pullLater);
      }
    }

    private void shutOutput() {
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
