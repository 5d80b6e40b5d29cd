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
 * The outbound end of a connection: encodes each frame as it comes and holds the bytes in a {@link
 * WriteQueue} until the socket takes them, joining what piled up into one write.
 *
 * <p>When more than {@code maxBytes} wait because the other end does not read, the stage fails with
 * {@link akka.stream.BufferOverflowException} and the connection is closed: a reader too slow to
 * keep up is cut off, never buffered without bound. It always asks its upstream for more while
 * under the bound, so frames never wait unencoded and uncounted in front of it.
 *
 * @param <O> the frame family written on this connection
 */
final class OutboundBuffer<O> extends GraphStage<FlowShape<O, ByteString>> {

  private final Inlet<O> in = Inlet.create("OutboundBuffer.in");
  private final Outlet<ByteString> out = Outlet.create("OutboundBuffer.out");
  private final FlowShape<O, ByteString> shape = FlowShape.of(in, out);
  private final JsonCodec<O> codec;
  private final long maxBytes;
  private final int writeBatchBytes;

  OutboundBuffer(JsonCodec<O> codec, long maxBytes, int writeBatchBytes) {
    WriteQueue.checkBounds(maxBytes, writeBatchBytes);
    this.codec = codec;
    this.maxBytes = maxBytes;
    this.writeBatchBytes = writeBatchBytes;
  }

  @Override
  public FlowShape<O, ByteString> shape() {
    return shape;
  }

  @Override
  public GraphStageLogic createLogic(Attributes inheritedAttributes) {
    return new GraphStageLogic(shape) {
      private final WriteQueue waiting = new WriteQueue(maxBytes, writeBatchBytes);

      {
        setHandler(
            in,
            new AbstractInHandler() {
              @Override
              public void onPush() {
                if (!waiting.add(codec.encode(grab(in)))) {
                  failStage(waiting.overflow());
                  return;
                }
                if (isAvailable(out)) {
                  write();
                }
                pull(in);
              }

              @Override
              public void onUpstreamFinish() {
                // What is queued is still written: the last frame (a goodbye) must reach the peer.
                if (waiting.isEmpty()) {
                  completeStage();
                }
              }
            });
        setHandler(
            out,
            new AbstractOutHandler() {
              @Override
              public void onPull() {
                if (!waiting.isEmpty()) {
                  write();
                }
              }
            });
      }

      @Override
      public void preStart() {
        pull(in);
      }

      private void write() {
        push(out, waiting.nextWrite());
        if (waiting.isEmpty() && isClosed(in)) {
          completeStage();
        }
      }
    };
  }
}
