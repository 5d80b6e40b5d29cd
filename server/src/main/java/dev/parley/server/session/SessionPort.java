package dev.parley.server.session;

import akka.actor.Terminated;
import akka.actor.typed.ActorRef;
import akka.actor.typed.javadsl.Adapter;
import akka.stream.Attributes;
import akka.stream.BufferOverflowException;
import akka.stream.FlowShape;
import akka.stream.Inlet;
import akka.stream.Outlet;
import akka.stream.stage.AbstractInHandler;
import akka.stream.stage.AbstractOutHandler;
import akka.stream.stage.GraphStage;
import akka.stream.stage.GraphStageLogic;
import dev.parley.protocol.ClientMessage;
import dev.parley.protocol.Inbound;
import dev.parley.protocol.ServerMessage;
import java.util.ArrayDeque;
import scala.Tuple2;
import scala.runtime.BoxedUnit;

/**
 * A connection's two ends at its {@link Session}, in one stage: decoded frames go up to the session
 * with backpressure, and the frames the session (or the registry, or the broadcaster) tells the
 * stage's outbound queue come down, in order, to the connection's encoder.
 *
 * <p>It speaks the session's stream protocol: {@link Session.StreamStarted} (which names the
 * outbound queue), then one {@link Session.FrameReceived} per {@link Session.StreamAck}, up to
 * {@value #READ_AHEAD} frames read ahead of the session; at the end exactly one of {@link
 * Session.StreamCompleted} (after the frames read ahead) or {@link Session.StreamFailed}. The two
 * directions end together: the client's end of its side, {@link ServerMessage.Goodbye} written, a
 * connection that takes no more bytes, or the session's stopping each end the whole connection.
 * More than {@value #FRAMES_IN_FLIGHT} frames waiting for the encoder fail it ({@link
 * BufferOverflowException}: the encoder's own buffer, bounded in bytes, always takes frames while
 * it has room, so a client too slow to read).
 *
 * <p>Why one stage, where Akka's actor sink, actor source, {@code takeWhile} and the coupling of
 * the two would do: each stage costs every connection its logic, handlers and links for as long as
 * it lives, each actor stage an actor reference as well (issue 11: idle sessions). And why the
 * session comes in an {@link Attributes attribute} ({@link Target}): one blueprint of the whole
 * connection stack then serves every connection, where a stage made per connection would keep the
 * blueprint it was made from alive with the connection.
 *
 * <p>The outbound queue is the stage's actor, made as the stage starts; the session learns it from
 * {@link Session.StreamStarted}, as nothing can be sent to a connection before its stream runs.
 */
public final class SessionPort
    extends GraphStage<FlowShape<Inbound<ClientMessage>, ServerMessage>> {

  /**
   * Frames the session may be told while the connection's encoder is busy, before it counts as
   * overflowing. The encoder always has demand while its byte-bounded buffer has room, so this
   * queue holds a frame only for the moment it takes to hand it on.
   */
  public static final int FRAMES_IN_FLIGHT = 64;

  /**
   * Frames decoded ahead of the session's acknowledgement, as Akka's actor sink reads (its input
   * buffer's default): the next frame is at hand when the session asks for it.
   */
  static final int READ_AHEAD = 16;

  /** The session a connection's stream is for, given per connection as an attribute. */
  public record Target(ActorRef<Session.Command> session) implements Attributes.Attribute {}

  /** One stage serves every connection: it keeps nothing of any of them. */
  public static final SessionPort INSTANCE = new SessionPort();

  private final Inlet<Inbound<ClientMessage>> fromClient = Inlet.create("SessionPort.fromClient");
  private final Outlet<ServerMessage> toClient = Outlet.create("SessionPort.toClient");
  private final FlowShape<Inbound<ClientMessage>, ServerMessage> shape =
      FlowShape.of(fromClient, toClient);

  private SessionPort() {}

  @Override
  public FlowShape<Inbound<ClientMessage>, ServerMessage> shape() {
    return shape;
  }

  @Override
  public GraphStageLogic createLogic(Attributes inheritedAttributes) {
    Target target =
        inheritedAttributes
            .getAttribute(Target.class)
            .orElseThrow(() -> new IllegalStateException("no session given: SessionPort.Target"));
    return new Logic(target.session());
  }

  private final class Logic extends GraphStageLogic {

    private final ActorRef<Session.Command> session;

    /** The stage's actor, for the frames to send; acknowledgements come to the same actor. */
    private ActorRef<ServerMessage> outbound;

    private ActorRef<Session.StreamAck> acks;

    /** Frames read ahead of the session; made when first needed (most sessions are idle). */
    private ArrayDeque<Inbound<ClientMessage>> readAhead;

    /** Frames waiting for the encoder's demand; made when first needed. */
    private ArrayDeque<ServerMessage> waiting;

    /** The session has acknowledged its last frame and has not been sent another. */
    private boolean sessionWaits;

    /** The session has been told the end (completed or failed). */
    private boolean endTold;

    private Logic(ActorRef<Session.Command> session) {
      super(shape);
      this.session = session;
      setHandler(
          fromClient,
          new AbstractInHandler() {
            @Override
            public void onPush() {
              onFrame(grab(fromClient));
            }

            @Override
            public void onUpstreamFinish() {
              complete(toClient);
              endOnceDelivered();
            }

            @Override
            public void onUpstreamFailure(Throwable cause) {
              tellEnd(new Session.StreamFailed(cause));
              failStage(cause);
            }
          });
      setHandler(
          toClient,
          new AbstractOutHandler() {
            @Override
            public void onPull() {
              if (waiting != null && !waiting.isEmpty()) {
                pushFrame(waiting.poll());
              }
            }

            @Override
            public void onDownstreamFinish(Throwable cause) {
              cancel(fromClient);
              endOnceDelivered();
            }
          });
    }

    @Override
    public void preStart() {
      // Frames read ahead, and the last ones after the client's end, wait for the session.
      setKeepGoing(true);
      outbound = Adapter.toTyped(getStageActor(this::onMessage).ref());
      acks = outbound.<Object>unsafeUpcast().narrow();
      stageActor().watch(Adapter.toClassic(session));
      session.tell(new Session.StreamStarted(acks, outbound));
      pull(fromClient);
    }

    @Override
    public void postStop() {
      // Stopped by anything else (the materializer's shutdown): the session must not wait.
      tellEnd(Session.StreamCompleted.INSTANCE);
    }

    private BoxedUnit onMessage(Tuple2<akka.actor.ActorRef, Object> message) {
      Object body = message._2();
      if (body instanceof ServerMessage frame) {
        onOutbound(frame);
      } else if (body == Session.StreamAck.INSTANCE) {
        onAck();
      } else if (body instanceof Terminated) {
        // The session is gone (it stopped, or failed): nobody is left to serve the connection.
        endAndComplete();
      }
      return BoxedUnit.UNIT;
    }

    private void onFrame(Inbound<ClientMessage> frame) {
      if (sessionWaits) {
        sessionWaits = false;
        session.tell(new Session.FrameReceived(acks, frame));
      } else {
        if (readAhead == null) {
          readAhead = new ArrayDeque<>(READ_AHEAD);
        }
        readAhead.add(frame);
      }
      if (readAhead == null || readAhead.size() < READ_AHEAD) {
        pull(fromClient);
      }
    }

    private void onAck() {
      if (readAhead == null || readAhead.isEmpty()) {
        sessionWaits = true;
        return;
      }
      boolean wasFull = readAhead.size() == READ_AHEAD;
      session.tell(new Session.FrameReceived(acks, readAhead.poll()));
      if (isClosed(fromClient)) {
        endOnceDelivered();
      } else if (wasFull) {
        pull(fromClient);
      }
    }

    /**
     * One direction has ended, and with it the connection: the session still gets the frames read
     * ahead (a client's last words count, though no answer can reach it now), then the end.
     */
    private void endOnceDelivered() {
      if (readAhead == null || readAhead.isEmpty()) {
        endAndComplete();
      }
    }

    private void onOutbound(ServerMessage frame) {
      if (goodbyeWaiting() || isClosed(toClient)) {
        return;
      }
      if (isAvailable(toClient) && (waiting == null || waiting.isEmpty())) {
        pushFrame(frame);
        return;
      }
      if (waiting == null) {
        waiting = new ArrayDeque<>();
      }
      if (waiting.size() == FRAMES_IN_FLIGHT) {
        BufferOverflowException overflow =
            new BufferOverflowException(
                "more than " + FRAMES_IN_FLIGHT + " frames waiting for the connection");
        tellEnd(new Session.StreamFailed(overflow));
        failStage(overflow);
        return;
      }
      waiting.add(frame);
    }

    /** The goodbye is among the frames waiting (the last, as nothing is queued after it). */
    private boolean goodbyeWaiting() {
      return waiting != null && waiting.peekLast() instanceof ServerMessage.Goodbye;
    }

    private void pushFrame(ServerMessage frame) {
      push(toClient, frame);
      if (frame instanceof ServerMessage.Goodbye) {
        // The goodbye is the last frame: the connection closes once the encoder has written it.
        endAndComplete();
      }
    }

    private void endAndComplete() {
      tellEnd(Session.StreamCompleted.INSTANCE);
      completeStage();
    }

    private void tellEnd(Session.Command end) {
      if (!endTold) {
        endTold = true;
        session.tell(end);
      }
    }
  }
}
