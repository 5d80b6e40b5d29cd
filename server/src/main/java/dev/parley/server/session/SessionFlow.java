package dev.parley.server.session;

import akka.NotUsed;
import akka.actor.typed.ActorRef;
import akka.japi.Pair;
import akka.stream.Materializer;
import akka.stream.OverflowStrategy;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Keep;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.stream.typed.javadsl.ActorSink;
import akka.stream.typed.javadsl.ActorSource;
import dev.parley.protocol.ClientMessage;
import dev.parley.protocol.Inbound;
import dev.parley.protocol.ServerMessage;
import java.util.Optional;

/**
 * The transport-independent half of a connection: decoded frames in, to the {@link Session} with
 * backpressure; frames out, from the session's outbound queue (the materialized value, which {@link
 * Session#create}'s {@code connect} returns). A transport joins its own framing and encoding to it:
 * newline framing over TCP bytes, one text message per frame over WebSocket.
 *
 * <p>The two directions are coupled, so that the end of either ends the connection: the inbound
 * side ends when the client closes (or after {@link Inbound.Oversized}, the last element a decoder
 * yields), the outbound side after {@link ServerMessage.Goodbye} has been sent or when the queue
 * overflows (the transport's own bounded buffer below it no longer takes frames: a client too slow
 * to read).
 */
public final class SessionFlow {

  /**
   * Frames between a tell and the transport's bounded buffer, which always has demand while there
   * is room: this queue holds a frame only for the moment it takes to hand it on.
   */
  public static final int FRAMES_IN_FLIGHT = 64;

  private SessionFlow() {}

  /** The flow of one connection's frames to and from {@code session}. */
  public static Flow<Inbound<ClientMessage>, ServerMessage, ActorRef<ServerMessage>> frames(
      ActorRef<Session.Command> session) {
    return Flow.fromSinkAndSourceCoupledMat(toSession(session), FROM_SESSION, Keep.right());
  }

  /**
   * As {@link #frames}, for a transport that materializes the flow itself later (Akka HTTP's
   * WebSocket handling): the session needs its outbound queue when it starts, so the outbound side
   * runs now, through the transport's {@code encoder}. The encoder must be bounded and always take
   * what comes (as the transports' byte-bounded buffers do): it is what holds the frames the
   * session sends before the flow runs, and those a burst sends faster than the late-joined
   * transport asks for them, where the queue itself holds only {@value #FRAMES_IN_FLIGHT}.
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
              frame -> false, frame -> Optional.empty(), FRAMES_IN_FLIGHT, OverflowStrategy.fail())
          // Goodbye is sent, then the outbound side completes and the connection closes.
          .takeWhile(frame -> !(frame instanceof ServerMessage.Goodbye), true);
}
