package dev.parley.server.tcp;

import akka.Done;
import akka.NotUsed;
import akka.actor.typed.ActorRef;
import akka.actor.typed.javadsl.Adapter;
import akka.stream.Attributes;
import akka.stream.Materializer;
import akka.stream.Outlet;
import akka.stream.SourceShape;
import akka.stream.javadsl.RunnableGraph;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.stream.javadsl.Tcp;
import akka.stream.stage.AbstractOutHandler;
import akka.stream.stage.GraphStageLogic;
import akka.stream.stage.GraphStageWithMaterializedValue;
import dev.parley.server.session.Session;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;
import scala.runtime.BoxedUnit;

/**
 * Runs connections' streams inside its own stream, so that they share one actor: each connection's
 * stream is materialized with the host's sub-fusing materializer, as Akka runs the substreams of
 * {@code flatMapConcat}, and becomes one more graph that the host's interpreter runs, each with its
 * own life: one connection's end or failure ends that connection only.
 *
 * <p>Why: materialized on its own, every connection's stream gets an actor of its own for its
 * interpreter (the actor, its mailbox, path and props, and its place among the materializer's
 * children), about half a kilobyte that every idle session holds (issue 11: idle sessions); and
 * every frame to or from the connection wakes that actor on its own. A host's actor serves many
 * connections, and a busy host handles the events of several connections in one run. The listener
 * keeps a few hosts ({@code connection-hosts}), so that the connections' work (TLS, framing, codec)
 * still spreads over the cores.
 *
 * <p>Its materialized reference takes {@link Attach} requests; it is the stage's actor, made while
 * the stream materializes (as Akka's own actor source does), since the listener needs it before the
 * stream runs. Akka's call for that is internal API of Akka 2.6, which is final; this is Parley's
 * one use of it. The stream runs for as long as the actor system.
 */
public final class ConnectionHost
    extends GraphStageWithMaterializedValue<
        SourceShape<NotUsed>, ActorRef<ConnectionHost.Command>> {

  private static final Logger LOG = LoggerFactory.getLogger(ConnectionHost.class);

  /** What a host understands. */
  public sealed interface Command {}

  /**
   * Attach {@code connection} to {@code session} with the listener's stack, completing {@code
   * written} as {@link SessionConnection#attach} does. The session learns its outbound queue from
   * the stream's start ({@link Session.StreamStarted}).
   */
  public record Attach(
      Tcp.IncomingConnection connection,
      ActorRef<Session.Command> session,
      CompletableFuture<Done> written)
      implements Command {}

  /** Starts a host, named {@code name} among the materializer's streams. */
  public static ActorRef<Command> start(
      SessionConnection.Layers layers, String name, Materializer materializer) {
    return RunnableGraph.fromGraph(
            Source.fromGraph(new ConnectionHost(layers))
                .to(Sink.ignore())
                .addAttributes(Attributes.name(name)))
        .run(materializer);
  }

  private final SessionConnection.Layers layers;
  private final Outlet<NotUsed> out = Outlet.create("ConnectionHost.out");
  private final SourceShape<NotUsed> shape = SourceShape.of(out);

  private ConnectionHost(SessionConnection.Layers layers) {
    this.layers = layers;
  }

  @Override
  public SourceShape<NotUsed> shape() {
    return shape;
  }

  @Override
  public Tuple2<GraphStageLogic, ActorRef<Command>> createLogicAndMaterializedValue(
      Attributes inheritedAttributes) {
    throw new UnsupportedOperationException("materialized with its materializer only");
  }

  @Override
  public Tuple2<GraphStageLogic, ActorRef<Command>> createLogicAndMaterializedValue(
      Attributes inheritedAttributes, Materializer materializer) {
    Logic logic = new Logic(materializer);
    return Tuple2.apply(logic, logic.self);
  }

  private final class Logic extends GraphStageLogic {

    private final ActorRef<Command> self;

    private Logic(Materializer materializer) {
      super(shape);
      this.self = Adapter.toTyped(getEagerStageActor(materializer, this::onMessage).ref());
      setHandler(
          out,
          new AbstractOutHandler() {
            @Override
            public void onPull() {
              // Nothing comes out: the host is only a place for connections to run.
            }
          });
    }

    private BoxedUnit onMessage(Tuple2<akka.actor.ActorRef, Object> message) {
      if (message._2() instanceof Attach attach) {
        try {
          SessionConnection.attach(
              attach.connection(),
              attach.session(),
              layers,
              attach.written(),
              subFusingMaterializer());
        } catch (RuntimeException failure) {
          // Only this connection: Akka's TCP closes a connection that no stream takes up.
          LOG.warn(
              "connection not started remote={} cause={}",
              attach.connection().remoteAddress(),
              failure.toString());
          attach.session().tell(new Session.StreamFailed(failure));
          attach.written().complete(Done.getInstance());
        }
      }
      return BoxedUnit.UNIT;
    }
  }
}
