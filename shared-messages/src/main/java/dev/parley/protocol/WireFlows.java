package dev.parley.protocol;

import akka.Done;
import akka.NotUsed;
import akka.stream.Attributes;
import akka.stream.IgnoreCancel$;
import akka.stream.TLSClosing;
import akka.stream.javadsl.BidiFlow;
import akka.stream.javadsl.Flow;
import akka.util.ByteString;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * The protocol stack of a Parley connection as a {@link BidiFlow}: newline framing with a hard
 * frame limit under the JSON codec. The top (inbound) side turns bytes into {@link Inbound} values
 * and never fails on bad input (see {@link FrameDecoder} for the exact rules, including what
 * follows an {@link Inbound.Oversized}); the bottom (outbound) side encodes frames into a buffer
 * bounded in bytes (see {@link OutboundBuffer}), which fails the connection when the other end
 * leaves too much unread.
 */
public final class WireFlows {

  private WireFlows() {}

  /**
   * The stack for one side of a connection.
   *
   * @param inbound codec of the frames this side receives
   * @param outbound codec of the frames this side sends
   * @param maxFrameBytes longest accepted line, line feed excluded
   * @param maxOutboundBytes most encoded bytes that may wait for the other end to read them
   */
  public static <I, O> BidiFlow<ByteString, Inbound<I>, O, ByteString, NotUsed> stack(
      JsonCodec<I> inbound, JsonCodec<O> outbound, int maxFrameBytes, long maxOutboundBytes) {
    return BidiFlow.fromFlows(decoder(inbound, maxFrameBytes), encoder(outbound, maxOutboundBytes));
  }

  /** Bytes to decoded frames. */
  public static <I> Flow<ByteString, Inbound<I>, NotUsed> decoder(
      JsonCodec<I> codec, int maxFrameBytes) {
    return Flow.fromGraph(new FrameDecoder<>(codec, maxFrameBytes));
  }

  /**
   * Frames to bytes, one line each, with at most {@code maxBufferedBytes} waiting for the socket.
   * Lines that pile up while the socket is busy are joined into one write of up to {@value
   * #WRITE_BATCH_BYTES} bytes.
   */
  public static <O> Flow<O, ByteString, NotUsed> encoder(
      JsonCodec<O> codec, long maxBufferedBytes) {
    return Flow.fromGraph(new OutboundBuffer<>(codec, maxBufferedBytes, WRITE_BATCH_BYTES));
  }

  /**
   * The bottom of a TCP connection's stack (below TLS, if any), which ends this side first and
   * reads out the other's before the socket closes, so that the last frame is not lost to a reset
   * (see {@link LingeringClose}). The connection must be made with half-close on.
   *
   * @param linger longest wait for the other end to close once this one has written its last
   * @return the stage, which completes the connection's {@link Written} attribute, if it has one,
   *     when this side's last bytes have been handed to the socket
   */
  public static BidiFlow<ByteString, ByteString, ByteString, ByteString, NotUsed> lingeringClose(
      Duration linger) {
    return BidiFlow.fromGraph(new LingeringClose(linger));
  }

  /**
   * A connection's attribute: the future its {@link #lingeringClose} completes once this side's
   * last bytes have been handed to the socket, or the connection has ended without them.
   */
  public record Written(CompletableFuture<Done> future) implements Attributes.Attribute {}

  /**
   * How a connection's TLS stage closes: after this side's last bytes, or at the end of the other
   * side's; never on the cancellation of the plaintext inbound. A protocol stream cancels its
   * inbound the moment its outbound completes (the two are coupled), and with an eager close Akka's
   * TLS stage could act on that cancellation before it had encrypted the last frame written: the
   * goodbye or the private chat's {@code bye} was then lost now and again. ({@code
   * TLSClosing.ignoreCancel}, which Java cannot call by that name: the static forwarder clashes
   * with the instance method.)
   */
  public static final TLSClosing TLS_CLOSING = IgnoreCancel$.MODULE$;

  /**
   * A batch limit no two frames fit in: each write is one frame, for a transport that frames each
   * message itself (WebSocket).
   */
  public static final int ONE_FRAME_PER_WRITE = 1;

  /** Most bytes joined into one write (see {@link #encoder}). */
  public static final int WRITE_BATCH_BYTES = 64 * 1024;
}
