package dev.parley.client.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import akka.NotUsed;
import akka.actor.typed.ActorSystem;
import akka.stream.TLSClosing;
import akka.stream.TLSProtocol;
import akka.stream.javadsl.BidiFlow;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Keep;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.stream.javadsl.TLS;
import akka.stream.javadsl.Tcp;
import akka.stream.testkit.TestPublisher;
import akka.stream.testkit.TestSubscriber;
import akka.stream.testkit.javadsl.TestSink;
import akka.stream.testkit.javadsl.TestSource;
import akka.util.ByteString;
import dev.parley.protocol.Inbound;
import dev.parley.protocol.JsonCodec;
import dev.parley.protocol.WireFlows;
import dev.parley.transport.ClientTls;
import dev.parley.transport.ServerTls;
import dev.parley.transport.ServerVerifier;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The far end of a real loopback TCP connection, plain or TLS, driven by the test frame by frame: a
 * fake server ({@code RawPeer<ClientMessage, ServerMessage>}) or a fake peer client ({@code
 * RawPeer<PeerMessage, PeerMessage>}). Inbound and outbound are independent, so the test sees
 * exactly when the client closes its side.
 *
 * @param <I> frames the test receives
 * @param <O> frames the test sends
 */
public final class RawPeer<I, O> {

  private static final int MAX_FRAME_BYTES = 64 * 1024;
  private static final Duration NO_FRAME_WITHIN = Duration.ofMillis(100);

  private final TestSubscriber.Probe<Inbound<I>> inbound;
  private final TestPublisher.Probe<ByteString> outbound;
  private final JsonCodec<O> codec;

  private RawPeer(
      TestSubscriber.Probe<Inbound<I>> inbound,
      TestPublisher.Probe<ByteString> outbound,
      JsonCodec<O> codec) {
    this.inbound = inbound;
    this.outbound = outbound;
    this.codec = codec;
  }

  /** Serves an accepted connection. */
  public static <I, O> RawPeer<I, O> handle(
      Tcp.IncomingConnection connection, JsonCodec<I> in, JsonCodec<O> out, ActorSystem<?> system) {
    return connection.handleWith(flow(in, out, system), system);
  }

  /**
   * Serves an accepted connection over TLS, presenting {@code tls}'s certificate: a fake server as
   * a client meets the real one.
   */
  public static <I, O> RawPeer<I, O> handleTls(
      Tcp.IncomingConnection connection,
      ServerTls tls,
      JsonCodec<I> in,
      JsonCodec<O> out,
      ActorSystem<?> system) {
    BidiFlow<ByteString, ByteString, ByteString, ByteString, NotUsed> plaintext =
        TLS.create(tls::newEngine, TLSClosing.eagerClose())
            .reversed()
            .atop(
                BidiFlow.fromFlows(
                    Flow.<TLSProtocol.SslTlsInbound>create()
                        .collectType(TLSProtocol.SessionBytes.class)
                        .map(TLSProtocol.SessionBytes::bytes),
                    Flow.<ByteString>create().map(TLSProtocol.SendBytes::new)));
    return connection.handleWith(
        plaintext.join(flow(in, out, system), Keep.<NotUsed, RawPeer<I, O>>right()), system);
  }

  /** Opens a connection to a port on loopback. */
  public static <I, O> RawPeer<I, O> connect(
      int port, JsonCodec<I> in, JsonCodec<O> out, ActorSystem<?> system) {
    return Tcp.get(system)
        .outgoingConnection(TestListener.LOOPBACK, port)
        .joinMat(flow(in, out, system), Keep.right())
        .run(system);
  }

  /**
   * Opens a TLS connection to a port on loopback, presenting {@code tls}'s identity (if it has one)
   * and going on only with a listener {@code verifier} trusts: a fake peer client, as a client's
   * private-chat listener meets a real one.
   */
  public static <I, O> RawPeer<I, O> connectTls(
      int port,
      ClientTls tls,
      ServerVerifier verifier,
      JsonCodec<I> in,
      JsonCodec<O> out,
      ActorSystem<?> system) {
    return Tcp.get(system)
        .outgoingConnectionWithTls(
            new InetSocketAddress(TestListener.LOOPBACK, port),
            () -> tls.newEngine(TestListener.LOOPBACK, port, verifier),
            Optional.empty(),
            List.of(),
            Optional.empty(),
            Optional.empty(),
            session -> Optional.empty(),
            TLSClosing.eagerClose())
        .joinMat(flow(in, out, system), Keep.right())
        .run(system);
  }

  private static <I, O> Flow<ByteString, ByteString, RawPeer<I, O>> flow(
      JsonCodec<I> in, JsonCodec<O> out, ActorSystem<?> system) {
    Sink<ByteString, TestSubscriber.Probe<Inbound<I>>> sink =
        WireFlows.decoder(in, MAX_FRAME_BYTES).toMat(TestSink.create(system), Keep.right());
    // Bytes as the test gives them: frames it encodes, or lines no codec would write.
    Source<ByteString, TestPublisher.Probe<ByteString>> source = TestSource.create(system);
    return Flow.fromSinkAndSourceMat(
        sink, source, (received, sent) -> new RawPeer<>(received, sent, out));
  }

  public void send(O frame) {
    outbound.sendNext(codec.encode(frame));
  }

  /** Sends one line exactly as given, whatever it holds; the line feed is added. */
  public void sendRaw(String line) {
    outbound.sendNext(ByteString.fromString(line + "\n", StandardCharsets.UTF_8));
  }

  /** The next frame the client sent. */
  public I expectFrame() {
    Inbound<I> next = inbound.requestNext();
    if (next instanceof Inbound.Frame<I> frame) {
      return frame.frame();
    }
    return fail("expected a frame, got " + next);
  }

  public void expectFrame(I expected) {
    assertEquals(expected, expectFrame());
  }

  /**
   * Nothing more arrives for a short while: for a client that sends only when manual time moves,
   * proof that it has sent nothing early.
   */
  public void expectNoFrame() {
    inbound.request(1);
    inbound.expectNoMessage(NO_FRAME_WITHIN);
  }

  /** The client closed the connection (after whatever frames were already expected). */
  public void expectClosed() {
    // Requesting takes the subscription first, so the next event is the end (or a stray frame).
    inbound.request(1);
    TestSubscriber.SubscriberEvent event = inbound.expectEvent();
    assertTrue(
        event instanceof TestSubscriber.OnComplete$ || event instanceof TestSubscriber.OnError,
        "expected the connection to close, got " + event);
  }

  /** Closes politely (FIN) without a farewell frame. */
  public void close() {
    outbound.sendComplete();
  }

  /** Aborts the connection, as a crash or a network failure would. */
  public void drop() {
    outbound.sendError(new IOException("connection dropped by the test"));
  }
}
