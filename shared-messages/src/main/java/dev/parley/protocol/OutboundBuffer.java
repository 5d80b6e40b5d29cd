package dev.parley.protocol;

import akka.stream.Attributes;
import akka.stream.BufferOverflowException;
import akka.stream.FlowShape;
import akka.stream.Inlet;
import akka.stream.Outlet;
import akka.stream.stage.AbstractInHandler;
import akka.stream.stage.AbstractOutHandler;
import akka.stream.stage.GraphStage;
import akka.stream.stage.GraphStageLogic;
import akka.util.ByteString;
import java.util.ArrayDeque;

/**
 * The outbound end of a connection: encodes each frame as it comes and holds the bytes until the
 * socket takes them, joining what piled up into one write of up to {@code writeBatchBytes}. Under
 * load that saves a system call per frame; when idle each frame is written at once.
 *
 * <p>Bounded in bytes, not frames: what a connection may hold is what it costs in memory, whether
 * that is many small presence notices or a few large messages. When more than {@code maxBytes} wait
 * because the other end does not read, the stage fails with {@link BufferOverflowException} and the
 * connection is closed: a reader too slow to keep up is cut off, never buffered without bound. It
 * always asks its upstream for more while under the bound, so frames never wait unencoded and
 * uncounted in front of it.
 *
 * @param <O> the frame family written on this connection
 */
final class OutboundBuffer<O> extends GraphStage<FlowShape<O, ByteString>> {

  /** Writes the queue has room for before it first grows. */
  private static final int INITIAL_WAITING_WRITES = 1;

  private final Inlet<O> in = Inlet.create("OutboundBuffer.in");
  private final Outlet<ByteString> out = Outlet.create("OutboundBuffer.out");
  private final FlowShape<O, ByteString> shape = FlowShape.of(in, out);
  private final JsonCodec<O> codec;
  private final long maxBytes;
  private final int writeBatchBytes;

  OutboundBuffer(JsonCodec<O> codec, long maxBytes, int writeBatchBytes) {
    if (maxBytes <= 0 || writeBatchBytes <= 0) {
      throw new IllegalArgumentException("maxBytes and writeBatchBytes must be positive");
    }
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
      // Sized for the usual one write waiting: it grows when the socket falls behind, and the
      // default 16 slots were kept, unused, by every idle connection.
      private final ArrayDeque<ByteString> waiting = new ArrayDeque<>(INITIAL_WAITING_WRITES);
      private long waitingBytes;

      {
        setHandler(
            in,
            new AbstractInHandler() {
              @Override
              public void onPush() {
                ByteString bytes = codec.encode(grab(in));
                waiting.addLast(bytes);
                waitingBytes += bytes.length();
                if (waitingBytes > maxBytes) {
                  failStage(
                      new BufferOverflowException(
                          "the other end left more than " + maxBytes + " bytes unread"));
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

      /** Pushes what waits, up to one batch (or one frame, if a single one is larger). */
      private void write() {
        ByteString first = waiting.pollFirst();
        int length = first.length();
        ByteString next = waiting.peekFirst();
        if (next == null || length + next.length() > writeBatchBytes) {
          emitted(first, length);
          return;
        }
        ByteString batch = first;
        while (next != null && length + next.length() <= writeBatchBytes) {
          batch = batch.concat(waiting.pollFirst());
          length += next.length();
          next = waiting.peekFirst();
        }
        emitted(batch, length);
      }

      private void emitted(ByteString bytes, int length) {
        waitingBytes -= length;
        push(out, bytes);
        if (waiting.isEmpty() && isClosed(in)) {
          completeStage();
        }
      }
    };
  }
}
