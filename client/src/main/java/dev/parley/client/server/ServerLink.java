package dev.parley.client.server;

import akka.NotUsed;
import akka.actor.typed.ActorRef;
import akka.actor.typed.javadsl.ActorContext;
import akka.japi.Pair;
import akka.stream.TLSClosing;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Keep;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Tcp;
import akka.stream.typed.javadsl.ActorSink;
import akka.util.ByteString;
import dev.parley.client.ClientSettings;
import dev.parley.client.net.Connections;
import dev.parley.client.net.Failures;
import dev.parley.client.net.StreamAck;
import dev.parley.client.tls.Security;
import dev.parley.client.tls.ServerTrust;
import dev.parley.protocol.ClientMessage;
import dev.parley.protocol.Inbound;
import dev.parley.protocol.JsonCodec;
import dev.parley.protocol.ServerMessage;
import dev.parley.transport.ReportingEngine;
import dev.parley.transport.ServerVerifier;
import dev.parley.transport.UntrustedServerException;
import java.net.InetSocketAddress;
import java.util.Collections;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * One TCP connection to the server, opened for the actor that owns it (the {@link
 * ServerConnection}): the protocol stream of {@link Connections}, whose inbound frames reach the
 * actor through an {@code ActorSink} with acknowledgements and whose outbound frames go through a
 * bounded {@code ActorSource}.
 *
 * <p>With TLS (unless the user chose plain TCP), Akka Streams' TLS stage runs under that stream,
 * presenting the client's certificate, and {@link ServerTrust} decides during the handshake whether
 * the server is the one meant. The connection counts as {@link Opened} only once the server is
 * trusted: what the owner sends before waits in the stream and leaves encrypted, after the
 * decision, or never. A server that is refused is reported as {@link Unverified}, whatever the
 * stream reports after it.
 *
 * <p>Every {@link Event} carries the number the owner gave the connection, because the owner opens
 * a new connection after losing one and must tell a late event of an abandoned connection (its end,
 * a frame still in flight) from one of the current connection.
 *
 * <p>Not an actor: it starts the stream and holds its handles; only the owning actor calls it.
 */
final class ServerLink {

  /** What the connection reports to its owner, tagged with the connection's number. */
  sealed interface Event {
    long link();
  }

  /**
   * The connection is open, from {@code localAddress}, and (with TLS) the server trusted; {@code
   * notice} is a line for the user about that trust (a server trusted for the first time).
   */
  record Opened(long link, InetSocketAddress localAddress, Optional<String> notice)
      implements Event {}

  /** The inbound stream is ready: answer {@link StreamAck} to {@code ackTo} for the first frame. */
  record StreamStarted(long link, ActorRef<StreamAck> ackTo) implements Event {}

  /** A line from the server; answer {@link StreamAck} to {@code ackTo} for the next one. */
  record FrameReceived(long link, ActorRef<StreamAck> ackTo, Inbound<ServerMessage> inbound)
      implements Event {}

  /**
   * The connection could not be opened, or it has ended (closed, failed, cut); {@code reason} is
   * fit to show.
   */
  record Ended(long link, String reason) implements Event {}

  /**
   * The server's certificate was refused (a pinned fingerprint that does not match, a known server
   * whose certificate has changed): nothing was sent, and {@code reason} says why, for the user.
   */
  record Unverified(long link, String reason) implements Event {}

  private static final String CLOSED = "closed by the server";

  /** Shown when a plain TCP server answers the TLS handshake with a line of its protocol. */
  private static final String NOT_TLS =
      "the server does not speak TLS (if it runs with --plaintext, the client needs --plaintext"
          + " too)";

  private final long id;
  private final Connections.Link<ClientMessage> link;
  private final CompletionStage<Tcp.OutgoingConnection> connected;
  private boolean closed;

  private ServerLink(
      long id,
      Connections.Link<ClientMessage> link,
      CompletionStage<Tcp.OutgoingConnection> connected) {
    this.id = id;
    this.link = link;
    this.connected = connected;
  }

  /**
   * Opens connection number {@code id} to host:port; its events reach the owner wrapped by {@code
   * wrap}.
   *
   * @param security the client's TLS and trust; null for plain TCP
   */
  static <C> ServerLink open(
      ActorContext<C> context,
      Function<Event, C> wrap,
      ClientSettings settings,
      Security security,
      String host,
      int port,
      long id) {
    boolean tls = security != null && security.serverTrust().isPresent();
    Sink<Inbound<ServerMessage>, NotUsed> receiver =
        ActorSink.actorRefWithBackpressure(
            context.getSelf(),
            (ackTo, inbound) -> wrap.apply(new FrameReceived(id, ackTo, inbound)),
            ackTo -> wrap.apply(new StreamStarted(id, ackTo)),
            StreamAck.INSTANCE,
            wrap.apply(new Ended(id, CLOSED)),
            failure -> wrap.apply(ended(id, failure)));
    InetSocketAddress address = InetSocketAddress.createUnresolved(host, port);
    // The trust decision, taken during the handshake; with it, the line to show about it.
    CompletableFuture<ServerTrust.Verdict> verified = new CompletableFuture<>();
    Flow<ByteString, ByteString, CompletionStage<Tcp.OutgoingConnection>> transport;
    CompletableFuture<Optional<String>> trusted;
    if (tls) {
      ServerTrust trust = security.serverTrust().get();
      ServerVerifier verifier =
          (chain, authType, engine) -> {
            try {
              verified.complete(trust.decide(host, port, chain, authType, engine));
            } catch (UntrustedServerException refused) {
              // Before the handshake fails: the owner hears of the refusal before anything else.
              verified.completeExceptionally(refused);
              throw refused;
            }
          };
      transport =
          Tcp.get(context.getSystem())
              .outgoingConnectionWithTls(
                  address,
                  // A handshake that fails before any decision (a server that does not speak TLS)
                  // says why through the engine: the stream would only report that it ended.
                  () ->
                      ReportingEngine.of(
                          security.tls().newEngine(host, port, verifier),
                          verified::completeExceptionally),
                  Optional.empty(),
                  Collections.emptyList(),
                  Optional.of(settings.connectTimeout()),
                  Optional.empty(),
                  session -> Optional.empty(),
                  TLSClosing.eagerClose());
      trusted =
          verified
              .orTimeout(settings.connectTimeout().toMillis(), TimeUnit.MILLISECONDS)
              .thenApply(ServerTrust.Verdict::notice);
    } else {
      transport =
          Tcp.get(context.getSystem())
              .outgoingConnection(
                  address,
                  Optional.empty(),
                  Collections.emptyList(),
                  false,
                  Optional.of(settings.connectTimeout()),
                  Optional.empty());
      trusted = CompletableFuture.completedFuture(Optional.empty());
    }
    Pair<CompletionStage<Tcp.OutgoingConnection>, Connections.Link<ClientMessage>> running =
        transport
            .joinMat(
                Connections.protocolFlow(
                    JsonCodec.SERVER,
                    JsonCodec.CLIENT,
                    settings.maxFrameBytes(),
                    settings.outboundBufferBytes(),
                    receiver,
                    frame -> false),
                Keep.both())
            .run(context.getSystem());
    // A connect that fails leaves no decision to wait for.
    running
        .first()
        .whenComplete(
            (connection, failure) -> {
              if (failure != null) {
                verified.completeExceptionally(failure);
              }
            });
    // A failed connect ends the stream too: the owner sees two Ended and ignores the second.
    context.pipeToSelf(
        running
            .first()
            .thenCombine(
                trusted, (connection, notice) -> new Opened(id, connection.localAddress(), notice)),
        (opened, failure) -> wrap.apply(failure == null ? opened : ended(id, failure)));
    return new ServerLink(id, running.second(), running.first());
  }

  /**
   * What a failure means for the owner: a server refused (whatever the failure that came of it), or
   * an end for a reason fit to show.
   */
  private static Event ended(long id, Throwable failure) {
    Optional<UntrustedServerException> refusal = UntrustedServerException.find(failure);
    if (refusal.isPresent()) {
      return new Unverified(id, refusal.get().getMessage());
    }
    for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
      if (cause instanceof TimeoutException) {
        return new Ended(id, "no TLS handshake from the server");
      }
      if (Failures.isNotTls(cause)) {
        return new Ended(id, NOT_TLS);
      }
    }
    return new Ended(id, Failures.describe(failure));
  }

  /**
   * Asks the stream for the frame after this event, if it is one the stream waits on. Every such
   * event must be answered, even one of an abandoned connection, or its stream would hang.
   */
  static void requestNext(Event event) {
    if (event instanceof FrameReceived received) {
      received.ackTo().tell(StreamAck.INSTANCE);
    } else if (event instanceof StreamStarted started) {
      started.ackTo().tell(StreamAck.INSTANCE);
    }
  }

  long id() {
    return id;
  }

  /** Whether this event is about this connection rather than an earlier one. */
  boolean reported(Event event) {
    return event.link() == id;
  }

  /**
   * Sends a frame; before the connection is open it waits in the outbound buffer. After {@link
   * #close()} it is dropped: the stream is gone and the frame would only reach dead letters.
   */
  void send(ClientMessage frame) {
    if (!closed) {
      link.outbound().tell(frame);
    }
  }

  /**
   * Closes the connection without a farewell frame; later events of it are stale. A connection
   * still being opened is closed as soon as the attempt is over (at the latest after the connect
   * timeout).
   */
  void close() {
    closed = true;
    // Akka's TCP stage fails with a NullPointerException (logged as an error) when its stream ends
    // before the connection is established, so the switch waits for the attempt. The callback
    // touches nothing but the kill switch, which is thread-safe.
    connected.whenComplete((connection, failure) -> link.killSwitch().shutdown());
  }
}
