package dev.parley.server.session;

import akka.NotUsed;
import akka.actor.typed.ActorRef;
import akka.japi.Pair;
import akka.stream.Materializer;
import akka.stream.OverflowStrategy;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.stream.typed.javadsl.ActorSink;
import akka.stream.typed.javadsl.ActorSource;
import dev.parley.protocol.ClientMessage;
import dev.parley.protocol.Inbound;
import dev.parley.protocol.ServerMessage;
import java.util.Optional;

/**
 * A WebSocket connection's half at its {@link Session}: decoded frames in, to the session with
 * backpressure; frames out, from the session's outbound queue. It speaks the session's stream
 * protocol as {@link SessionPort}, TCP's single stage, does, and its two directions end together as
 * there: the inbound side ends when the client closes (or after {@link Inbound.Oversized}), the
 * outbound side after {@link ServerMessage.Goodbye} has been sent or when the queue overflows.
 *
 * <p>Why WebSocket has its own: Akka HTTP materializes the flow itself, later, and the session
 * needs its outbound queue when it starts. So the outbound side runs first, on its own (Akka's
 * actor source), and the inbound side (Akka's actor sink) joins it when Akka HTTP runs the flow; a
 * single stage cannot be split so.
 */
public final class SessionFlow {

  private SessionFlow() {}

  /**
   * The flow of one WebSocket connection's frames to and from {@code session}, with the outbound
   * side running now, through the transport's {@code encoder}. The encoder must be bounded and
   * always take what comes (as the transports' byte-bounded buffers do): it is what holds the
   * frames the session sends before the flow runs, and those a burst sends faster than the
   * late-joined transport asks for them, where the queue itself holds only {@value
   * SessionPort#FRAMES_IN_FLIGHT}.
   */
  public static <O>
      Pair<ActorRef<ServerMessage>, Flow<Inbound<ClientMessage>, O, NotUsed>> preMaterialized(
          ActorRef<Session.Command> session,
          Flow<ServerMessage, O, NotUsed> encoder,
          Materializer materializer) {
    Pair<ActorRef<ServerMessage>, Source<O, NotUsed>> outbound =
        FROM_SESSION.via(encoder).preMaterialize(materializer);
    return Pair.create(
        outbound.first(), Flow.fromSinkAndSourceCoupled(toSession(session), outbound.second()));
  }

  private static Sink<Inbound<ClientMessage>, NotUsed> toSession(
      ActorRef<Session.Command> session) {
    return ActorSink.actorRefWithBackpressure(
        session,
        Session.FrameReceived::new,
        Session.StreamStarted::new,
        Session.StreamAck.INSTANCE,
        Session.StreamCompleted.INSTANCE,
        Session.StreamFailed::new);
  }

  /**
   * The session's outbound queue. One blueprint for every connection: its stages stay referenced
   * from each connection's stream for as long as it runs, so made per connection they would cost
   * every idle session their bytes again.
   */
  private static final Source<ServerMessage, ActorRef<ServerMessage>> FROM_SESSION =
      ActorSource.<ServerMessage>actorRef(
              frame -> false,
              frame -> Optional.empty(),
              SessionPort.FRAMES_IN_FLIGHT,
              OverflowStrategy.fail())
          // Goodbye is sent, then the outbound side completes and the connection closes.
          .takeWhile(frame -> !(frame instanceof ServerMessage.Goodbye), true);
}
