package dev.parley.protocol;

import akka.stream.Attributes;
import akka.stream.FlowShape;
import akka.stream.Inlet;
import akka.stream.Outlet;
import akka.stream.stage.AbstractInHandler;
import akka.stream.stage.AbstractOutHandler;
import akka.stream.stage.GraphStage;
import akka.stream.stage.GraphStageLogic;
import akka.util.ByteString;

/**
 * Splits bytes into lines and decodes each into an {@link Inbound}, in one stage, by the rules of
 * {@link LineFramer}. It never fails on bad input, which matters on a TCP connection: a failing
 * stage cancels the socket's read side with an error, and the socket then aborts the whole
 * connection before anything can be written. After an {@link Inbound.Oversized} it emits nothing
 * more and reads and discards its input until the input ends.
 *
 * @param <T> the frame family expected on this connection
 */
final class FrameDecoder<T> extends GraphStage<FlowShape<ByteString, Inbound<T>>> {

  private final Inlet<ByteString> in = Inlet.create("FrameDecoder.in");
  private final Outlet<Inbound<T>> out = Outlet.create("FrameDecoder.out");
  private final FlowShape<ByteString, Inbound<T>> shape = FlowShape.of(in, out);
  private final JsonCodec<T> codec;
  private final int maxFrameBytes;

  FrameDecoder(JsonCodec<T> codec, int maxFrameBytes) {
    LineFramer.checkLimit(maxFrameBytes);
    this.codec = codec;
    this.maxFrameBytes = maxFrameBytes;
  }

  @Override
  public FlowShape<ByteString, Inbound<T>> shape() {
    return shape;
  }

  @Override
  public GraphStageLogic createLogic(Attributes inheritedAttributes) {
    return new GraphStageLogic(shape) {
      private final LineFramer<T> framer = new LineFramer<>(codec, maxFrameBytes);

      {
        setHandler(
            in,
            new AbstractInHandler() {
              @Override
              public void onPush() {
                framer.offer(grab(in));
                if (framer.discarding()) {
                  pull(in);
                } else {
                  deliver();
                }
              }

              @Override
              public void onUpstreamFinish() {
                framer.end();
                if (framer.discarding()) {
                  completeStage();
                } else if (isAvailable(out)) {
                  deliver();
                }
                // Otherwise the next pull delivers what is left, then completes.
              }
            });
        setHandler(
            out,
            new AbstractOutHandler() {
              @Override
              public void onPull() {
                if (!framer.discarding()) {
                  deliver();
                }
              }
            });
      }

      /** Pushes the next frame if one is complete and wanted, else asks for more bytes. */
      private void deliver() {
        if (!isAvailable(out)) {
          return;
        }
        Inbound<T> next = framer.next();
        if (next != null) {
          push(out, next);
          if (framer.discarding() || (isClosed(in) && framer.isEmpty())) {
            readToTheEnd();
          }
        } else if (isClosed(in)) {
          completeStage();
        } else if (!hasBeenPulled(in)) {
          pull(in);
        }
      }

      private void readToTheEnd() {
        if (isClosed(in)) {
          completeStage();
        } else if (!hasBeenPulled(in)) {
          pull(in);
        }
      }
    };
  }
}
