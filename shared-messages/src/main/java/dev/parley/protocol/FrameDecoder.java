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
 * Splits bytes into lines and decodes each into an {@link Inbound}, in one stage. It never fails on
 * bad input, which matters on a TCP connection: a failing stage cancels the socket's read side with
 * an error, and the socket then aborts the whole connection before anything can be written.
 *
 * <ul>
 *   <li>A line feed ends a frame; a carriage return before it is dropped; blank lines are skipped;
 *       a final line without a line feed is decoded when the input ends.
 *   <li>A line longer than the limit (its carriage return included) becomes {@link
 *       Inbound.Oversized}, as soon as the limit is passed, without waiting for its line feed. The
 *       frames before it are delivered first. After it, the stage emits nothing more and reads and
 *       discards its input until the input ends, so the connection's owner decides when to close
 *       (after telling the peer why), and the buffer never grows past the limit.
 * </ul>
 *
 * @param <T> the frame family expected on this connection
 */
final class FrameDecoder<T> extends GraphStage<FlowShape<ByteString, Inbound<T>>> {

  private static final byte LINE_FEED = Protocol.FRAME_DELIMITER;
  private static final byte CARRIAGE_RETURN = '\r';

  /** Small: an idle connection should cost little; the buffer grows with the lines it sees. */
  private static final int INITIAL_BUFFER = 512;

  private final Inlet<ByteString> in = Inlet.create("FrameDecoder.in");
  private final Outlet<Inbound<T>> out = Outlet.create("FrameDecoder.out");
  private final FlowShape<ByteString, Inbound<T>> shape = FlowShape.of(in, out);
  private final JsonCodec<T> codec;
  private final int maxFrameBytes;

  FrameDecoder(JsonCodec<T> codec, int maxFrameBytes) {
    if (maxFrameBytes <= 0) {
      throw new IllegalArgumentException("maxFrameBytes must be positive");
    }
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
      /**
       * Bytes received but not yet part of a delivered frame: {@code buffer[start, end)}. A plain
       * array, searched and decoded in place, so that a line costs no copy besides the one that
       * brings its chunk in.
       */
      /**
       * Bytes of a frame not yet complete; null when none are pending. An idle connection holds
       * none between its frames, so it keeps no buffer then: across thousands of idle sessions the
       * buffers were a measurable part of the heap (issue 11, docs/performance.md).
       */
      private byte[] buffer;

      private int start;
      private int end;

      /** How many bytes after {@code start} are known to hold no line feed. */
      private int scanned;

      /** After an oversized line: swallow the rest of the input. */
      private boolean discarding;

      {
        setHandler(
            in,
            new AbstractInHandler() {
              @Override
              public void onPush() {
                ByteString chunk = grab(in);
                if (discarding) {
                  pull(in);
                  return;
                }
                append(chunk);
                deliver();
                releaseIfEmpty();
              }

              @Override
              public void onUpstreamFinish() {
                if (discarding) {
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
                if (!discarding) {
                  deliver();
                  releaseIfEmpty();
                }
              }
            });
      }

      private void append(ByteString chunk) {
        int length = chunk.length();
        if (start == end) {
          start = 0;
          end = 0;
        }
        if (buffer == null) {
          buffer = new byte[Math.max(INITIAL_BUFFER, length)];
        }
        if (end + length > buffer.length) {
          // Move what is pending to the front, and grow only if that is not enough.
          int pending = end - start;
          byte[] target =
              pending + length > buffer.length
                  ? new byte[Math.max(buffer.length * 2, pending + length)]
                  : buffer;
          System.arraycopy(buffer, start, target, 0, pending);
          buffer = target;
          start = 0;
          end = pending;
        }
        chunk.copyToArray(buffer, end, length);
        end += length;
      }

      /** Pushes the next frame if one is complete and wanted, else asks for more bytes. */
      private void deliver() {
        if (!isAvailable(out)) {
          return;
        }
        Inbound<T> next = nextFrame();
        if (next != null) {
          push(out, next);
          if (next instanceof Inbound.Oversized) {
            discard();
          }
        } else if (isClosed(in)) {
          int length = withoutCarriageReturn(start, end - start);
          boolean blank = isBlank(buffer, start, length);
          int from = start;
          start = end;
          if (!blank) {
            push(out, codec.decode(buffer, from, length));
          }
          completeStage();
        } else if (!hasBeenPulled(in)) {
          pull(in);
        }
      }

      /** The next complete frame in the buffer, or null if there is none yet. */
      private Inbound<T> nextFrame() {
        while (true) {
          int lineFeed = indexOfLineFeed();
          if (lineFeed < 0) {
            scanned = end - start;
            return end - start > maxFrameBytes ? new Inbound.Oversized<>(maxFrameBytes) : null;
          }
          int length = lineFeed - start;
          if (length > maxFrameBytes) {
            return new Inbound.Oversized<>(maxFrameBytes);
          }
          int from = start;
          start = lineFeed + 1;
          scanned = 0;
          length = withoutCarriageReturn(from, length);
          if (!isBlank(buffer, from, length)) {
            return codec.decode(buffer, from, length);
          }
        }
      }

      private int indexOfLineFeed() {
        for (int i = start + scanned; i < end; i++) {
          if (buffer[i] == LINE_FEED) {
            return i;
          }
        }
        return -1;
      }

      private int withoutCarriageReturn(int from, int length) {
        return length > 0 && buffer[from + length - 1] == CARRIAGE_RETURN ? length - 1 : length;
      }

      private void releaseIfEmpty() {
        if (start == end) {
          buffer = null;
          start = 0;
          end = 0;
          scanned = 0;
        }
      }

      private void discard() {
        discarding = true;
        start = end;
        if (isClosed(in)) {
          completeStage();
        } else if (!hasBeenPulled(in)) {
          pull(in);
        }
      }
    };
  }

  /** Spaces and tabs only: what someone typing into a raw socket sends to keep it alive. */
  private static boolean isBlank(byte[] bytes, int from, int length) {
    for (int i = from; i < from + length; i++) {
      if (bytes[i] != ' ' && bytes[i] != '\t') {
        return false;
      }
    }
    return true;
  }
}
