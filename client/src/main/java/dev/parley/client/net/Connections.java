package dev.parley.client.net;

import akka.NotUsed;
import akka.actor.ClassicActorSystemProvider;
import akka.actor.typed.ActorRef;
import akka.stream.KillSwitches;
import akka.stream.OverflowStrategy;
import akka.stream.TLSProtocol;
import akka.stream.UniqueKillSwitch;
import akka.stream.javadsl.BidiFlow;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Keep;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.stream.javadsl.TLS;
import akka.stream.javadsl.Tcp;
import akka.stream.typed.javadsl.ActorSource;
import akka.util.ByteString;
import dev.parley.protocol.Inbound;
import dev.parley.protocol.JsonCodec;
import dev.parley.protocol.WireFlows;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.function.Supplier;
import javax.net.ssl.SSLEngine;

/**
 * Builds the stream that sits between a TCP connection and the actor that owns it: the protocol
 * stack of {@link WireFlows}, decoded frames into a given sink (an {@code ActorSink} into the
 * actor), and frames to send from a bounded {@code ActorSource}. Inbound and outbound are coupled,
 * so the end of either (EOF, a framing error, the last outbound frame) ends the connection.
 */
public final class Connections {

  /**
   * What the owning actor holds on to while the connection runs.
   *
   * @param outbound where to tell frames to send; after the stream has ended they go to dead
   *     letters, so the owner tracks whether it is still open
   * @param killSwitch closes the connection from the owner's side without a farewell frame
   */
  public record Link<O>(ActorRef<O> outbound, UniqueKillSwitch killSwitch) {}

  /**
   * Frames between a tell and the byte-bounded buffer of {@link WireFlows}, which always has
   * demand: this queue holds a frame only for the moment it takes to hand it on.
   */
  private static final int FRAMES_IN_FLIGHT = 64;

  private Connections() {}

  /**
   * The byte-level flow for one connection.
   *
   * @param inboundCodec codec of the frames received
   * @param outboundCodec codec of the frames sent
   * @param maxFrameBytes longest line accepted
   * @param outboundBufferBytes encoded bytes that may wait to be written; more fail the connection,
   *     so a peer that does not read is cut off instead of growing memory
   * @param receiver where decoded frames go
   * @param isLastFrame the outbound completes, closing the connection, right after writing a frame
   *     that matches
   */
  public static <I, O> Flow<ByteString, ByteString, Link<O>> protocolFlow(
      JsonCodec<I> inboundCodec,
      JsonCodec<O> outboundCodec,
      int maxFrameBytes,
      long outboundBufferBytes,
      Sink<Inbound<I>, NotUsed> receiver,
      Predicate<O> isLastFrame) {
    Source<O, ActorRef<O>> outbound =
        ActorSource.<O>actorRef(
                frame -> false,
                frame -> Optional.empty(),
                FRAMES_IN_FLIGHT,
                OverflowStrategy.fail())
            .takeWhile(frame -> !isLastFrame.test(frame), true);
    Flow<Inbound<I>, O, ActorRef<O>> application =
        Flow.fromSinkAndSourceCoupledMat(receiver, outbound, Keep.right());
    // On the frames, above the encoder: a frame already written by the owner (a bye, whose end of
    // stream the owner may see and answer with the switch before the encoder has handed the bytes
    // on) is still written when the switch closes the connection. On the bytes, below the encoder,
    // the switch dropped it now and then.
    BidiFlow<Inbound<I>, Inbound<I>, O, O, UniqueKillSwitch> closer =
        BidiFlow.fromGraph(KillSwitches.<Inbound<I>, O>singleBidi());
    return WireFlows.stack(inboundCodec, outboundCodec, maxFrameBytes, outboundBufferBytes)
        .atop(closer, Keep.right())
        .join(application, (killSwitch, ref) -> new Link<>(ref, killSwitch));
  }

  /**
   * TLS between a connection's bytes (below) and a protocol stream's plaintext (above), on an
   * engine from {@code engines}, made when the stream starts: a server engine for a connection
   * accepted, a client engine for one opened. Take them from {@code ServerTls} and {@code
   * ClientTls}, whose engines keep Akka's TLS stage from holding back the first plaintext. The end
   * of what this side writes closes the connection, after its last bytes, and so does the end of
   * the peer's; the plaintext inbound being cancelled does not ({@code TLSClosing.ignoreCancel}). A
   * protocol stream cancels its inbound the moment its outbound completes (it is coupled), and with
   * an eager close Akka's TLS stage could act on that cancellation before it had encrypted the last
   * frame written: a private chat's {@code bye} was then lost now and again, and the peer saw the
   * connection drop instead. A failed handshake fails the plaintext side.
   *
   * <p>It materializes a kill switch under TLS, on the connection's bytes: in the middle of a
   * handshake the TLS stage holds the connection open until the handshake finishes, whatever ends
   * above it, so only this switch closes a connection whose peer never finishes its handshake.
   */
  public static BidiFlow<ByteString, ByteString, ByteString, ByteString, UniqueKillSwitch> tls(
      Supplier<SSLEngine> engines) {
    BidiFlow<ByteString, ByteString, ByteString, ByteString, UniqueKillSwitch> cutter =
        BidiFlow.fromGraph(KillSwitches.singleBidi());
    BidiFlow<TLSProtocol.SslTlsInbound, ByteString, ByteString, TLSProtocol.SslTlsOutbound, NotUsed>
        plaintext =
            BidiFlow.fromFlows(
                // SessionTruncated (closed without TLS's closing alert) carries no bytes; the end
                // follows it.
                Flow.<TLSProtocol.SslTlsInbound>create()
                    .collectType(TLSProtocol.SessionBytes.class)
                    .map(TLSProtocol.SessionBytes::bytes),
                Flow.<ByteString>create().map(TLSProtocol.SendBytes::new));
    return cutter
        .atop(TLS.create(engines, WireFlows.TLS_CLOSING).reversed(), Keep.left())
        .atop(plaintext, Keep.left());
  }

  /** Closes an accepted connection straight away, reading and writing nothing. */
  public static void refuse(Tcp.IncomingConnection connection, ClassicActorSystemProvider system) {
    connection.handleWith(Flow.fromSinkAndSource(Sink.cancelled(), Source.empty()), system);
  }
}
