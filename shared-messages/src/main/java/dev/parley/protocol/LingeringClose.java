package dev.parley.protocol;

import akka.Done;
import akka.stream.Attributes;
import akka.stream.BidiShape;
import akka.stream.Inlet;
import akka.stream.Outlet;
import akka.stream.stage.AbstractInHandler;
import akka.stream.stage.AbstractOutHandler;
import akka.stream.stage.GraphStage;
import akka.stream.stage.GraphStageLogic;
import akka.stream.stage.TimerGraphStageLogic;
import akka.util.ByteString;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * The bottom of a connection's stack, on the socket's bytes: it closes a connection the way TCP
 * needs it closed for the last frame to arrive. Server sessions use it ({@link
 * WireFlows#lingeringClose}), under a TCP connection made with half-close on.
 *
 * <p>Closing a socket whose receive buffer still holds unread bytes makes the kernel send a reset
 * instead of an orderly end, and a reset makes the other end's kernel discard what it had received
 * and not yet handed to its program: the goodbye the server just wrote among it. A client that
 * floods commands is cut off with {@code goodbye {rate-limited}} exactly when its bytes are still
 * arriving, and lost that goodbye now and then.
 *
 * <p>So when the server has written its last bytes, this stage ends the server's side of the
 * connection at once (a FIN, under the listener's half-close: the client reads the goodbye, then
 * the end), and keeps reading what the client still sends, dropping it, until the client closes its
 * side or {@code linger} has passed; only then is the socket closed. The layers above may stop
 * reading earlier (the session has ended, TLS has closed): their cancellation is not passed down
 * while the connection lingers, for the same reason.
 *
 * <p>Shape: {@code in1} the socket's bytes, {@code out1} to the layers above; {@code in2} their
 * bytes, {@code out2} to the socket. It completes the connection's {@link WireFlows.Written}
 * future, given as an attribute, when the layers' last bytes have been handed to the socket (or the
 * connection has ended without them): what a stopping server waits for before its streams are torn
 * down. It is known here, at the bottom. The future comes in an attribute rather than as a
 * materialized value because the connection's owner holds one already, made before the stream runs:
 * a future of the stage's own would need a chain of callbacks to complete it, three objects more
 * that every idle connection holds (issue 11).
 */
final class LingeringClose
    extends GraphStage<BidiShape<ByteString, ByteString, ByteString, ByteString>> {

  private final Inlet<ByteString> fromSocket = Inlet.create("LingeringClose.fromSocket");
  private final Outlet<ByteString> up = Outlet.create("LingeringClose.up");
  private final Inlet<ByteString> down = Inlet.create("LingeringClose.down");
  private final Outlet<ByteString> toSocket = Outlet.create("LingeringClose.toSocket");
  private final BidiShape<ByteString, ByteString, ByteString, ByteString> shape =
      BidiShape.of(fromSocket, up, down, toSocket);
  private final Duration linger;

  /**
   * @param linger longest wait for the client to close once the server has written its last
   */
  public LingeringClose(Duration linger) {
    this.linger = linger;
  }

  @Override
  public BidiShape<ByteString, ByteString, ByteString, ByteString> shape() {
    return shape;
  }

  @Override
  public GraphStageLogic createLogic(Attributes inheritedAttributes) {
    // Without one nobody waits, and a future of its own stands in.
    CompletableFuture<Done> written =
        inheritedAttributes
            .getAttribute(WireFlows.Written.class)
            .map(WireFlows.Written::future)
            .orElseGet(CompletableFuture::new);
    return new TimerGraphStageLogic(shape) {
      /** The layers above no longer read: what comes is dropped. */
      private boolean draining;

      {
        setHandler(
            fromSocket,
            new AbstractInHandler() {
              @Override
              public void onPush() {
                ByteString bytes = grab(fromSocket);
                if (draining) {
                  pull(fromSocket);
                } else {
                  push(up, bytes);
                }
              }

              @Override
              public void onUpstreamFinish() {
                // The client closed its side: nothing is left to drain.
                if (isClosed(down) || draining && isClosed(toSocket)) {
                  completeStage();
                } else if (!draining) {
                  complete(up);
                }
              }
            });
        setHandler(
            up,
            new AbstractOutHandler() {
              @Override
              public void onPull() {
                if (!hasBeenPulled(fromSocket) && !isClosed(fromSocket)) {
                  pull(fromSocket);
                }
              }

              @Override
              public void onDownstreamFinish(Throwable cause) {
                drain();
              }
            });
        setHandler(
            down,
            new AbstractInHandler() {
              @Override
              public void onPush() {
                push(toSocket, grab(down));
              }

              @Override
              public void onUpstreamFinish() {
                // The last bytes are written: end the server's side, read out the client's.
                complete(toSocket);
                written.complete(Done.getInstance());
                if (isClosed(fromSocket)) {
                  completeStage();
                  return;
                }
                drain();
                scheduleOnce(LingeringClose.class, linger);
              }
            });
        setHandler(
            toSocket,
            new AbstractOutHandler() {
              @Override
              public void onPull() {
                if (!hasBeenPulled(down) && !isClosed(down)) {
                  pull(down);
                }
              }
            });
      }

      private void drain() {
        draining = true;
        if (!isClosed(up)) {
          complete(up);
        }
        if (!hasBeenPulled(fromSocket) && !isClosed(fromSocket)) {
          pull(fromSocket);
        }
      }

      @Override
      public void postStop() {
        written.complete(Done.getInstance());
      }

      @Override
      public void onTimer(Object key) {
        // The client has not closed in time: close the socket anyway.
        completeStage();
      }
    };
  }
}
