package dev.parley.server.tcp;

import akka.NotUsed;
import akka.actor.typed.ActorRef;
import akka.stream.Materializer;
import akka.stream.OverflowStrategy;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Keep;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.stream.javadsl.Tcp;
import akka.stream.typed.javadsl.ActorSink;
import akka.stream.typed.javadsl.ActorSource;
import akka.util.ByteString;
import dev.parley.protocol.ClientMessage;
import dev.parley.protocol.Inbound;
import dev.parley.protocol.JsonCodec;
import dev.parley.protocol.ServerMessage;
import dev.parley.protocol.WireFlows;
import dev.parley.server.ServerSettings;
import dev.parley.server.session.Session;
import java.util.Optional;

/**
 * Joins an accepted TCP connection to its {@link Session}: bytes → newline framing (with the frame
 * limit) → JSON decoding → the session, with backpressure; and a bounded queue of frames → JSON
 * encoding → bytes. The two directions are coupled so that the end of either ends the connection:
 * the inbound side ends when the client closes, the outbound side after {@link
 * ServerMessage.Goodbye} has been written or when the queue overflows (a client too slow to read).
 */
public final class SessionConnection {

  /**
   * Frames between a tell and the byte-bounded buffer of {@link WireFlows}, which always has
   * demand: this queue holds a frame only for the moment it takes to hand it on.
   */
  private static final int FRAMES_IN_FLIGHT = 64;

  private SessionConnection() {}

  /** Starts the streams of {@code connection} and returns the session's outbound queue. */
  public static ActorRef<ServerMessage> attach(
      Tcp.IncomingConnection connection,
      ActorRef<Session.Command> session,
      ServerSettings settings,
      Materializer materializer) {
    Sink<Inbound<ClientMessage>, ?> toSession =
        ActorSink.actorRefWithBackpressure(
            session,
            Session.FrameReceived::new,
            Session.StreamStarted::new,
            Session.StreamAck.INSTANCE,
            Session.StreamCompleted.INSTANCE,
            Session.StreamFailed::new);
    Source<ServerMessage, ActorRef<ServerMessage>> fromSession =
        ActorSource.<ServerMessage>actorRef(
                frame -> false,
                frame -> Optional.empty(),
                FRAMES_IN_FLIGHT,
                OverflowStrategy.fail())
            // Goodbye is written, then the outbound side completes and the connection closes.
            .takeWhile(frame -> !(frame instanceof ServerMessage.Goodbye), true);
    Flow<ByteString, ByteString, ActorRef<ServerMessage>> handler =
        WireFlows.stack(
                JsonCodec.CLIENT,
                JsonCodec.SERVER,
                settings.maxFrameBytes(),
                settings.outboundBufferBytes())
            .join(
                Flow.fromSinkAndSourceCoupledMat(toSession, fromSession, Keep.right()),
                Keep.<NotUsed, ActorRef<ServerMessage>>right());
    return connection.handleWith(handler, materializer);
  }

  /** Answers a connection the server has no room for with a goodbye, and closes it. */
  public static void refuse(
      Tcp.IncomingConnection connection, ServerMessage.Goodbye goodbye, Materializer materializer) {
    connection.handleWith(
        Flow.fromSinkAndSourceCoupled(
            Sink.<ByteString>ignore(), Source.single(JsonCodec.SERVER.encode(goodbye))),
        materializer);
  }
}
