package dev.parley.server.tcp;

import akka.Done;
import akka.NotUsed;
import akka.actor.typed.ActorRef;
import akka.stream.Attributes;
import akka.stream.Materializer;
import akka.stream.javadsl.BidiFlow;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.stream.javadsl.Tcp;
import akka.util.ByteString;
import dev.parley.protocol.JsonCodec;
import dev.parley.protocol.ServerMessage;
import dev.parley.protocol.WireFlows;
import dev.parley.server.ServerSettings;
import dev.parley.server.metrics.Metrics;
import dev.parley.server.session.Session;
import dev.parley.server.session.SessionPort;
import dev.parley.transport.Fingerprint;
import dev.parley.transport.ReportingEngine;
import dev.parley.transport.ServerTls;
import dev.parley.transport.TlsStage;
import dev.parley.transport.nio.WriteMark;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Joins an accepted TCP connection to its {@link Session}: bytes → {@link SessionPort} (newline
 * framing with the frame limit, JSON decoding, the session with backpressure, its outbound queue,
 * JSON encoding into a buffer bounded in bytes) → bytes. The end of either direction ends the
 * connection (see {@link SessionPort}).
 *
 * <p>With TLS, a TLS stage ({@link TlsStage}) sits between the socket and that stack: ciphertext
 * below, the protocol's lines above. Once the handshake is done, and before the first frame reaches
 * the session, the session is told the fingerprint of the certificate the client presented, if it
 * presented one ({@link Session.ClientCertificatePresented}). A handshake that fails (a client that
 * does not speak TLS, or refuses the server's certificate) ends the connection as if the client had
 * closed it, with one line in the log and no stack trace: it says nothing about the server's
 * health.
 */
public final class SessionConnection {

  private static final Logger LOG = LoggerFactory.getLogger(SessionConnection.class);

  private SessionConnection() {}

  /**
   * Starts the streams of {@code connection}; the session learns its outbound queue when they start
   * ({@link Session.StreamStarted}).
   *
   * @param tls the connection's TLS engines; null for plain TCP
   */
  public static void attach(
      Tcp.IncomingConnection connection,
      ActorRef<Session.Command> session,
      ServerSettings settings,
      ServerTls tls,
      Materializer materializer) {
    attach(
        connection,
        session,
        new Layers(settings, tls, null),
        new CompletableFuture<>(),
        materializer);
  }

  /**
   * As {@link #attach(Tcp.IncomingConnection, ActorRef, ServerSettings, ServerTls, Materializer)},
   * with the listener's stack ({@link Layers}), and completing {@code written} once the session's
   * last bytes (its goodbye, TLS's closing alert) have been handed to the socket.
   */
  public static void attach(
      Tcp.IncomingConnection connection,
      ActorRef<Session.Command> session,
      Layers layers,
      CompletableFuture<Done> written,
      Materializer materializer) {
    Attributes given =
        Attributes.apply(new SessionPort.Target(session))
            .and(new Remote(connection.remoteAddress()))
            .and(new WireFlows.Written(written));
    Flow<ByteString, ByteString, ?> socket = connection.flow();
    if (layers.ownSockets) {
      // The port tells the own sockets' stage which bytes may wait for the write hold.
      WriteMark mark = new WriteMark();
      socket = socket.addAttributes(Attributes.apply(mark));
      given = given.and(mark);
    }
    socket.join(layers.stack.addAttributes(given)).run(materializer);
  }

  /**
   * A connection's stack, made once per listener and shared by its connections: bytes → the
   * lingering close → TLS, if on → the {@link SessionPort} (framing, decoding, the session,
   * encoding into a buffer bounded in bytes) → back down. Each connection's stream gets what it is
   * for (its session, the client's address) as attributes.
   *
   * <p>A stage is a blueprint: each connection's stream gets its own logic (its state) from it, but
   * the stage object, its ports and the description Akka builds of it stay referenced from that
   * logic for the life of the connection. Made per connection they would cost every idle session
   * their bytes again (issue 11, docs/performance.md).
   */
  public static final class Layers {

    /** Completes a connection's {@link WireFlows.Written} when its last bytes are out. */
    private final Flow<ByteString, ByteString, NotUsed> stack;

    /** The connections run on the own sockets ({@code socket-io = nio}), which hold writes. */
    private final boolean ownSockets;

    /**
     * @param tls the connections' TLS engines; null for plain TCP
     * @param metrics where TLS handshakes are counted; null: not counted
     */
    public Layers(ServerSettings settings, ServerTls tls, Metrics metrics) {
      Flow<ByteString, ByteString, NotUsed> stack =
          Flow.fromGraph(
              SessionPort.lines(settings.maxFrameBytes(), settings.outboundBufferBytes()));
      if (tls != null) {
        // The handshake is part of logging in: a client that has not finished it within the
        // login timeout is closed, as one that has not logged in is (the session's goodbye
        // cannot reach it).
        stack = tlsLayer(tls, settings.loginTimeout(), metrics).join(stack);
      }
      // The session's last bytes (its goodbye, TLS's closing alert) have gone to the socket: what
      // a stopping node waits for before its actor system, and these streams, end.
      this.stack = WireFlows.lingeringClose(settings.closeTimeout()).join(stack);
      this.ownSockets = settings.sockets().own();
    }
  }

  /** The client's address, for the log lines of a connection's TLS. */
  private record Remote(InetSocketAddress address) implements Attributes.Attribute {}

  /**
   * Answers a connection the server has no room for with a goodbye, and closes it.
   *
   * <p>Under TLS the goodbye goes once the handshake is done, and the connection then stays open
   * until the client closes it, for at most {@code linger}: closed at once, the connection would
   * meet the client's last handshake message with a reset, which can destroy the goodbye before the
   * client has read it.
   *
   * @param tls the connection's TLS engines; null for plain TCP
   */
  public static void refuse(
      Tcp.IncomingConnection connection,
      ServerMessage.Goodbye goodbye,
      ServerTls tls,
      Duration linger,
      Materializer materializer) {
    refuse(connection, goodbye, tls, linger, null, materializer);
  }

  /** As {@link #refuse}, counting TLS handshakes in {@code metrics} (null: not counted). */
  public static void refuse(
      Tcp.IncomingConnection connection,
      ServerMessage.Goodbye goodbye,
      ServerTls tls,
      Duration linger,
      Metrics metrics,
      Materializer materializer) {
    Source<ByteString, NotUsed> farewell = Source.single(JsonCodec.SERVER.encode(goodbye));
    if (tls == null) {
      connection.handleWith(
          Flow.fromSinkAndSourceCoupled(Sink.<ByteString>ignore(), farewell), materializer);
      return;
    }
    Source<ByteString, NotUsed> lingering =
        farewell.concat(
            Source.<ByteString>maybe()
                .takeWithin(linger)
                .mapMaterializedValue(m -> NotUsed.getInstance()));
    connection.handleWith(
        tlsLayer(tls, linger, metrics)
            .join(Flow.fromSinkAndSourceCoupled(Sink.<ByteString>ignore(), lingering))
            .addAttributes(Attributes.apply(new Remote(connection.remoteAddress()))),
        materializer);
  }

  /** Closes a connection at once, reading and writing nothing (not even a TLS handshake). */
  public static void drop(Tcp.IncomingConnection connection, Materializer materializer) {
    connection.handleWith(Flow.fromSinkAndSource(Sink.cancelled(), Source.empty()), materializer);
  }

  /**
   * TLS between the socket (below) and the protocol's plaintext (above), as a stage of the
   * connection's own stream ({@link TlsStage}). It closes the connection after the last frame the
   * server writes (the goodbye, then TLS's own closing alert), or when the client ends its side;
   * not when the session stops reading, which it does the moment it has written its goodbye.
   *
   * <p>When TLS fails (a handshake that fails, a record that does not decrypt) the stage sends the
   * engine's alert and ends the connection; the engine itself reports why, in one line. The session
   * sees the client go.
   *
   * <p>The connection's stream gives the client's address ({@link Remote}) and, for a session's
   * connection, the session ({@link SessionPort.Target}), which is told the client's certificate
   * before the first plaintext goes up.
   *
   * @param handshakeTimeout a client that has not finished its handshake by then is closed
   */
  private static BidiFlow<ByteString, ByteString, ByteString, ByteString, NotUsed> tlsLayer(
      ServerTls tls, Duration handshakeTimeout, Metrics metrics) {
    return TlsStage.withAttributes(
        attributes ->
            tls.newEngine(
                failure -> {
                  if (metrics != null) {
                    metrics.tlsHandshakesFailed.increment();
                  }
                  LOG.info(
                      "TLS failed, closing remote={} reason={}",
                      attributes.getAttribute(Remote.class).map(Remote::address).orElse(null),
                      failure.getMessage());
                }),
        (attributes, engine) ->
            established(
                (ReportingEngine) engine,
                attributes.getAttribute(SessionPort.Target.class).map(SessionPort.Target::session),
                metrics),
        handshakeTimeout);
  }

  /**
   * With the client's first plaintext (it has proved by then that it holds its certificate's key):
   * counts the handshake, and tells the session which certificate the client presented, before any
   * frame reaches it.
   */
  private static void established(
      ReportingEngine engine, Optional<ActorRef<Session.Command>> session, Metrics metrics) {
    if (metrics != null) {
      metrics.tlsHandshakesSucceeded.increment();
    }
    session.ifPresent(
        to ->
            engine
                .peerCertificate()
                .map(Fingerprint::of)
                .ifPresent(
                    fingerprint ->
                        to.tell(new Session.ClientCertificatePresented(fingerprint.value()))));
  }
}
