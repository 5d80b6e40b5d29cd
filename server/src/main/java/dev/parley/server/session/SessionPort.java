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
import akka.util.ByteString;
import dev.parley.protocol.ClientMessage;
import dev.parley.protocol.Framer;
import dev.parley.protocol.Inbound;
import dev.parley.protocol.JsonCodec;
import dev.parley.protocol.LineFramer;
import dev.parley.protocol.ServerMessage;
import dev.parley.protocol.WireFlows;
import dev.parley.protocol.WriteQueue;
import dev.parley.transport.nio.WriteMark;
import java.util.function.Supplier;
import scala.Tuple2;
import scala.runtime.BoxedUnit;

/**
 * A connection's two ends at its {@link Session}, in one stage: what the client sends is framed and
 * decoded and goes up to the session with backpressure, and the frames the session (or the
 * registry, or the broadcaster) tells the stage's outbound queue are encoded, in order, into a
 * buffer bounded in bytes, and come down to the socket.
 *
 * <p>It speaks the session's stream protocol: {@link Session.StreamStarted} (which names the
 * outbound queue), then one {@link Session.FrameReceived} per {@link Session.StreamAck}; at the end
 * exactly one of {@link Session.StreamCompleted} (after the frames already read) or {@link
 * Session.StreamFailed}. It reads on while it holds no whole frame for the session, so the next
 * frame is at hand when the session asks, and no further: a client that sends faster than its
 * session handles is held back by TCP. The two directions end together: the client's end of its
 * side, {@link ServerMessage.Goodbye} written, a connection that takes no more bytes, or the
 * session's stopping each end the whole connection. More than the buffer's bound waiting for the
 * socket fails it ({@link BufferOverflowException}: a client too slow to read).
 *
 * <p>Why one stage, where a framing stage, Akka's actor sink and actor source, {@code takeWhile},
 * the coupling of the two and an encoding buffer would do: each stage costs every connection its
 * logic, handlers and links for as long as it lives, each actor stage an actor reference as well
 * (issue 11: idle sessions). The framing ({@link Framer}) and the buffer ({@link WriteQueue}) are
 * plain objects the client's stages use too. And why the session comes in an {@link Attributes
 * attribute} ({@link Target}): one blueprint of the whole connection stack then serves every
 * connection, where a stage made per connection would keep the blueprint it was made from alive
 * with the connection.
 *
 * <p>The outbound queue is the stage's actor, made as the stage starts; the session learns it from
 * {@link Session.StreamStarted}, as nothing can be sent to a connection before its stream runs.
 *
 * @param <I> what the transport delivers: a TCP connection's bytes, or a WebSocket's messages
 */
public final class SessionPort<I> extends GraphStage<FlowShape<I, ByteString>> {

  /** The session a connection's stream is for, given per connection as an attribute. */
  public record Target(ActorRef<Session.Command> session) implements Attributes.Attribute {}

  private final Inlet<I> fromClient = Inlet.create("SessionPort.fromClient");
  private final Outlet<ByteString> toClient = Outlet.create("SessionPort.toClient");
  private final FlowShape<I, ByteString> shape = FlowShape.of(fromClient, toClient);
  private final Supplier<? extends Framer<I, ClientMessage>> framers;
  private final long maxOutboundBytes;
  private final int writeBatchBytes;

  /**
   * The port of a TCP connection: lines, with the frame limit, in; lines, joined into writes of up
   * to {@value WireFlows#WRITE_BATCH_BYTES} bytes, out.
   *
   * @param maxFrameBytes longest accepted line, line feed excluded
   * @param maxOutboundBytes most encoded bytes that may wait for the client to read them
   */
  public static SessionPort<ByteString> lines(int maxFrameBytes, long maxOutboundBytes) {
    LineFramer.checkLimit(maxFrameBytes);
    return new SessionPort<>(
        () -> new LineFramer<>(JsonCodec.CLIENT, maxFrameBytes),
        maxOutboundBytes,
        WireFlows.WRITE_BATCH_BYTES);
  }

  /**
   * One stage serves every connection: it keeps nothing of any of them.
   *
   * @param framers a framer for each connection
   * @param maxOutboundBytes most encoded bytes that may wait for the client to read them
   * @param writeBatchBytes most bytes joined into one element downstream; {@link
   *     WireFlows#ONE_FRAME_PER_WRITE} for a transport that frames each message itself
   */
  public SessionPort(
      Supplier<? extends Framer<I, ClientMessage>> framers,
      long maxOutboundBytes,
      int writeBatchBytes) {
    WriteQueue.checkBounds(maxOutboundBytes, writeBatchBytes);
    this.framers = framers;
    this.maxOutboundBytes = maxOutboundBytes;
    this.writeBatchBytes = writeBatchBytes;
  }

  @Override
  public FlowShape<I, ByteString> shape() {
    return shape;
  }

  @Override
  public GraphStageLogic createLogic(Attributes inheritedAttributes) {
    Target target =
        inheritedAttributes
            .getAttribute(Target.class)
            .orElseThrow(() -> new IllegalStateException("no session given: SessionPort.Target"));
    return new Logic(
        target.session(), inheritedAttributes.getAttribute(WriteMark.class).orElse(null));
  }

  private final class Logic extends GraphStageLogic {

    private final ActorRef<Session.Command> session;
    private final Framer<I, ClientMessage> framer = framers.get();
    private final WriteQueue waiting = new WriteQueue(maxOutboundBytes, writeBatchBytes);

    /** The stage's actor, for the frames to send; acknowledgements come to the same actor. */
    private ActorRef<ServerMessage> outbound;

    private ActorRef<Session.StreamAck> acks;

    /** The next frame for the session, taken from the framer; null when none is whole yet. */
    private Inbound<ClientMessage> next;

    /** The session has acknowledged its last frame and has not been sent another. */
    private boolean sessionWaits;

    /** No more frames are written: the goodbye is queued, or the connection is ending. */
    private boolean writingEnds;

    /** The session has been told the end (completed or failed). */
    private boolean endTold;

    /** Where the socket learns whether the bytes handed down may wait; null: none given. */
    private final WriteMark mark;

    /** A frame of this connection's own is waiting (see {@link #mayWait}). */
    private boolean ownWaiting;

    private Logic(ActorRef<Session.Command> session, WriteMark mark) {
      super(shape);
      this.session = session;
      this.mark = mark;
      setHandler(
          fromClient,
          new AbstractInHandler() {
            @Override
            public void onPush() {
              framer.offer(grab(fromClient));
              if (next == null) {
                next = framer.next();
              }
              handOver();
              readIfNoFrame();
            }

            @Override
            public void onUpstreamFinish() {
              framer.end();
              if (next == null) {
                next = framer.next();
              }
              stopWriting();
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
              if (!waiting.isEmpty()) {
                write();
              }
            }

            @Override
            public void onDownstreamFinish(Throwable cause) {
              writingEnds = true;
              if (!isClosed(fromClient)) {
                cancel(fromClient);
              }
              endOnceDelivered();
            }
          });
    }

    @Override
    public void preStart() {
      // The last frames after the client's end, and the last bytes after the session's, outlive
      // the ports that brought them.
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
        sessionWaits = true;
        handOver();
        if (isClosed(fromClient)) {
          endOnceDelivered();
        } else {
          readIfNoFrame();
        }
      } else if (body instanceof Terminated) {
        // The session is gone (it stopped, or failed): nobody is left to serve the connection.
        // What it queued before it went (its goodbye) is still written.
        endForTheSession();
      }
      return BoxedUnit.UNIT;
    }

    /**
     * The session has asked, and a frame is whole: it goes, and the framer is asked for the next.
     */
    private void handOver() {
      if (sessionWaits && next != null) {
        sessionWaits = false;
        session.tell(new Session.FrameReceived(acks, next));
        next = framer.next();
      }
    }

    /** Reads on while no whole frame waits for the session (and drops what the framer drops). */
    private void readIfNoFrame() {
      if (next == null && !isClosed(fromClient) && !hasBeenPulled(fromClient)) {
        pull(fromClient);
      }
    }

    /**
     * The reading side has ended, and with it the connection: the session still gets the frames
     * already read (a client's last words count, though no answer can reach it now), then the end.
     */
    private void endOnceDelivered() {
      if (next == null) {
        tellEnd(Session.StreamCompleted.INSTANCE);
        completeOnceWritten();
      }
    }

    private void onOutbound(ServerMessage frame) {
      if (writingEnds) {
        return;
      }
      if (!mayWait(frame)) {
        ownWaiting = true;
      }
      if (!waiting.add(JsonCodec.SERVER.encode(frame))) {
        BufferOverflowException overflow = waiting.overflow();
        tellEnd(new Session.StreamFailed(overflow));
        failStage(overflow);
        return;
      }
      if (frame instanceof ServerMessage.Goodbye) {
        // The goodbye is the last frame: the connection closes once it is written, and what the
        // client sends from now on has nobody to answer it.
        endForTheSession();
      }
      if (isAvailable(toClient)) {
        write();
      }
    }

    /**
     * Whether a frame may wait for the write hold ({@link WriteMark}): the frames shared by many
     * connections; a broadcast's confirmation to its sender, part of the same load; and a
     * heartbeat, which has seconds to arrive. At a fanout's peak, with thousands of connections,
     * one of the last two is due on nearly every turn, and sent at once it would end every hold.
     */
    private static boolean mayWait(ServerMessage frame) {
      return frame instanceof ServerMessage.Encoded
          || frame instanceof ServerMessage.BroadcastSent
          || frame instanceof ServerMessage.Heartbeat;
    }

    private void write() {
      if (mark != null) {
        mark.handedOn(!ownWaiting);
      }
      ByteString bytes = waiting.nextWrite();
      // Until the last of them is written, every write counts as carrying them: at worst an
      // earlier write goes out sooner, never one of them later.
      ownWaiting = ownWaiting && !waiting.isEmpty();
      push(toClient, bytes);
      if (writingEnds && waiting.isEmpty()) {
        complete(toClient);
        completeOnceWritten();
      }
    }

    /** No more frames are taken; what is queued is still written, then the writing side ends. */
    private void stopWriting() {
      writingEnds = true;
      if (waiting.isEmpty() && !isClosed(toClient)) {
        complete(toClient);
      }
    }

    /** The session is done with the connection: nothing more goes up; what is queued goes down. */
    private void endForTheSession() {
      tellEnd(Session.StreamCompleted.INSTANCE);
      next = null;
      if (!isClosed(fromClient)) {
        cancel(fromClient);
      }
      stopWriting();
      completeOnceWritten();
    }

    /** Once the session knows the end and the last bytes are out, the stage is done. */
    private void completeOnceWritten() {
      if (endTold && isClosed(toClient)) {
        completeStage();
      }
    }

    private void tellEnd(Session.Command end) {
      if (!endTold) {
        endTold = true;
        session.tell(end);
      }
    }
  }
}
