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
      /** Bytes received but not yet part of a delivered frame. */
      private ByteString buffer = ByteString.emptyByteString();

      /** How many leading bytes of the buffer are known to hold no line feed. */
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
                buffer = buffer.concat(chunk);
                deliver();
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
                }
              }
            });
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
          ByteString last = stripCarriageReturn(buffer);
          buffer = ByteString.emptyByteString();
          if (!isBlank(last)) {
            push(out, codec.decode(last));
          }
          completeStage();
        } else if (!hasBeenPulled(in)) {
          pull(in);
        }
      }

      /** The next complete frame in the buffer, or null if there is none yet. */
      private Inbound<T> nextFrame() {
        while (true) {
          int lineFeed = buffer.indexOf(LINE_FEED, scanned);
          if (lineFeed < 0) {
            scanned = buffer.length();
            return buffer.length() > maxFrameBytes ? new Inbound.Oversized<>(maxFrameBytes) : null;
          }
          if (lineFeed > maxFrameBytes) {
            return new Inbound.Oversized<>(maxFrameBytes);
          }
          ByteString line = stripCarriageReturn(buffer.take(lineFeed));
          buffer = buffer.drop(lineFeed + 1);
          scanned = 0;
          if (!isBlank(line)) {
            return codec.decode(line);
          }
        }
      }

      private void discard() {
        discarding = true;
        buffer = ByteString.emptyByteString();
        if (isClosed(in)) {
          completeStage();
        } else if (!hasBeenPulled(in)) {
          pull(in);
        }
      }
    };
  }

  private static ByteString stripCarriageReturn(ByteString line) {
    int last = line.length() - 1;
    return last >= 0 && line.apply(last) == CARRIAGE_RETURN ? line.take(last) : line;
  }

  /** Spaces and tabs only: what someone typing into a raw socket sends to keep it alive. */
  private static boolean isBlank(ByteString line) {
    for (int i = 0; i < line.length(); i++) {
      byte b = line.apply(i);
      if (b != ' ' && b != '\t') {
        return false;
      }
    }
    return true;
  }
}
