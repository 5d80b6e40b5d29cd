package dev.parley.client.server;

import akka.NotUsed;
import akka.actor.typed.ActorRef;
import akka.actor.typed.javadsl.ActorContext;
import akka.japi.Pair;
import akka.stream.javadsl.Keep;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Tcp;
import akka.stream.typed.javadsl.ActorSink;
import dev.parley.client.ClientSettings;
import dev.parley.client.net.Connections;
import dev.parley.client.net.Failures;
import dev.parley.client.net.StreamAck;
import dev.parley.protocol.ClientMessage;
import dev.parley.protocol.Inbound;
import dev.parley.protocol.JsonCodec;
import dev.parley.protocol.ServerMessage;
import java.net.InetSocketAddress;
import java.util.Collections;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/**
 * One TCP connection to the server, opened for the actor that owns it (the {@link
 * ServerConnection}): the protocol stream of {@link Connections}, whose inbound frames reach the
 * actor through an {@code ActorSink} with acknowledgements and whose outbound frames go through a
 * bounded {@code ActorSource}.
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

  /** The TCP connection is open, from {@code localAddress}. */
  record Opened(long link, InetSocketAddress localAddress) implements Event {}

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

  private static final String CLOSED = "closed by the server";

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
   */
  static <C> ServerLink open(
      ActorContext<C> context,
      Function<Event, C> wrap,
      ClientSettings settings,
      String host,
      int port,
      long id) {
    Sink<Inbound<ServerMessage>, NotUsed> receiver =
        ActorSink.actorRefWithBackpressure(
            context.getSelf(),
            (ackTo, inbound) -> wrap.apply(new FrameReceived(id, ackTo, inbound)),
            ackTo -> wrap.apply(new StreamStarted(id, ackTo)),
            StreamAck.INSTANCE,
            wrap.apply(new Ended(id, CLOSED)),
            failure -> wrap.apply(new Ended(id, Failures.describe(failure))));
    Pair<CompletionStage<Tcp.OutgoingConnection>, Connections.Link<ClientMessage>> running =
        Tcp.get(context.getSystem())
            .outgoingConnection(
                InetSocketAddress.createUnresolved(host, port),
                Optional.empty(),
                Collections.emptyList(),
                false,
                Optional.of(settings.connectTimeout()),
                Optional.empty())
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
    // A failed connect ends the stream too: the owner sees two Ended and ignores the second.
    context.pipeToSelf(
        running.first(),
        (connection, failure) ->
            wrap.apply(
                failure == null
                    ? new Opened(id, connection.localAddress())
                    : new Ended(id, Failures.describe(failure))));
    return new ServerLink(id, running.second(), running.first());
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
