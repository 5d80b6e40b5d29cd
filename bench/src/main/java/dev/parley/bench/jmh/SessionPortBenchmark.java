package dev.parley.bench.jmh;

import akka.Done;
import akka.NotUsed;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.Props;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.stream.Attributes;
import akka.stream.Materializer;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Keep;
import akka.stream.javadsl.RunnableGraph;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.util.ByteString;
import dev.parley.protocol.ClientMessage;
import dev.parley.protocol.JsonCodec;
import dev.parley.protocol.ServerMessage;
import dev.parley.server.ServerSettings;
import dev.parley.server.session.Session;
import dev.parley.server.session.SessionPort;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.slf4j.LoggerFactory;

/**
 * A connection's frames through its stream, both ways, in memory: a client's direct messages as TCP
 * reads deliver them (chunks of {@code chunkBytes}) → the connection's protocol stack as the
 * listener builds it, without TLS → a stub session that answers each frame with {@code
 * message-accepted} and acknowledges it → the bytes the stack writes, to a sink. After the last
 * frame the stub says goodbye, and the stream ends once that is written.
 *
 * <p>It covers issue 11's twelfth round: framing, decoding, the session's stream protocol and
 * encoding in one stage ({@link SessionPort}), where there were three. The score is frames per
 * second, each read, decoded, handed to the session, answered, encoded and written; {@code -prof
 * gc} gives the allocation per frame. The session's own work and the store are not in it (see
 * {@code SessionDispatchBenchmark} and {@code RegistryRoutingBenchmark}).
 *
 * <pre>
 * bin/parley-bench jmh SessionPortBenchmark -f 1 -wi 5 -i 5 -prof gc
 * </pre>
 *
 * <p>Not final: JMH generates subclasses of benchmark classes.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class SessionPortBenchmark {

  static final int FRAMES = 10_000;
  private static final long WAIT_SECONDS = 30;

  /** Bytes per TCP read; 8 KiB holds about 53 frames. */
  @Param({"8192"})
  public int chunkBytes;

  private ActorSystem<Void> system;
  private Materializer materializer;
  private RunnableGraph<CompletionStage<Done>> connection;

  /** Sessions made so far, for their names. */
  private long sessions;

  @Setup
  public void setUp() throws Exception {
    // SLF4J first, so that Akka's first log lines are not replayed with a warning.
    LoggerFactory.getLogger(SessionPortBenchmark.class);
    system = ActorSystem.create(Behaviors.empty(), "port-bench", Samples.quietConfig());
    materializer = Materializer.matFromSystem(system);
    ServerSettings settings = ServerSettings.fromConfig(system.settings().config());
    Flow<ByteString, ByteString, NotUsed> stack =
        Flow.fromGraph(SessionPort.lines(settings.maxFrameBytes(), settings.outboundBufferBytes()));
    Source<ByteString, NotUsed> written =
        Source.from(chunks())
            // The client stays connected until the session's goodbye ends the connection.
            .concat(Source.never())
            .via(stack);
    connection = written.toMat(Sink.ignore(), Keep.right());
    checkOutput(written);
  }

  /** Every run writes an answer to each of the {@value #FRAMES} frames, then the goodbye. */
  private void checkOutput(Source<ByteString, NotUsed> written) throws Exception {
    long expected =
        FRAMES * JsonCodec.SERVER.encode(AnsweringSession.ACCEPTED).length()
            + JsonCodec.SERVER.encode(AnsweringSession.GOODBYE).length();
    long bytes =
        written
            .addAttributes(newSession())
            .runFold(0L, (sum, write) -> sum + write.length(), materializer)
            .toCompletableFuture()
            .get(WAIT_SECONDS, TimeUnit.SECONDS);
    if (bytes != expected) {
      throw new IllegalStateException(bytes + " bytes written, not " + expected);
    }
  }

  /** {@value #FRAMES} lines of a direct message, cut into reads regardless of line ends. */
  private List<ByteString> chunks() {
    ByteString line =
        Samples.clientLine(
                new ClientMessage.SendMessage(
                    Samples.RECIPIENT, Samples.TEXT_64, Samples.MESSAGE_ID))
            .concat(ByteString.fromString("\n"));
    ByteString all = ByteString.emptyByteString();
    for (int i = 0; i < FRAMES; i++) {
      all = all.concat(line);
    }
    byte[] bytes = all.toArray();
    List<ByteString> chunks = new ArrayList<>();
    for (int from = 0; from < bytes.length; from += chunkBytes) {
      chunks.add(ByteString.fromArray(bytes, from, Math.min(chunkBytes, bytes.length - from)));
    }
    return chunks;
  }

  @TearDown
  public void tearDown() throws Exception {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(WAIT_SECONDS, TimeUnit.SECONDS);
  }

  @Benchmark
  @OperationsPerInvocation(FRAMES)
  public Done frames() throws Exception {
    return connection
        .addAttributes(newSession())
        .run(materializer)
        .toCompletableFuture()
        .get(WAIT_SECONDS, TimeUnit.SECONDS);
  }

  /** A new stub session, as the attribute that gives a stream its session. */
  private Attributes newSession() {
    ActorRef<Session.Command> session =
        system.systemActorOf(AnsweringSession.create(), "session-" + sessions++, Props.empty());
    return Attributes.apply(new SessionPort.Target(session));
  }

  /**
   * A session that answers each frame as a logged-in one answers a direct message, and says goodbye
   * after the last.
   */
  private static final class AnsweringSession extends AbstractBehavior<Session.Command> {

    private static final ServerMessage ACCEPTED =
        new ServerMessage.MessageAccepted(Samples.MESSAGE_ID, false);
    private static final ServerMessage GOODBYE =
        new ServerMessage.Goodbye(ServerMessage.Goodbye.Reason.LOGGED_OUT);

    private ActorRef<ServerMessage> outbound;
    private int frames;

    static Behavior<Session.Command> create() {
      return Behaviors.setup(AnsweringSession::new);
    }

    private AnsweringSession(ActorContext<Session.Command> context) {
      super(context);
    }

    @Override
    public Receive<Session.Command> createReceive() {
      return newReceiveBuilder()
          .onMessage(
              Session.StreamStarted.class,
              started -> {
                outbound = started.outbound();
                started.ackTo().tell(Session.StreamAck.INSTANCE);
                return this;
              })
          .onMessage(
              Session.FrameReceived.class,
              received -> {
                outbound.tell(ACCEPTED);
                if (++frames == FRAMES) {
                  outbound.tell(GOODBYE);
                } else {
                  received.ackTo().tell(Session.StreamAck.INSTANCE);
                }
                return this;
              })
          .onMessage(Session.StreamCompleted.class, completed -> Behaviors.stopped())
          .onMessage(Session.StreamFailed.class, failed -> Behaviors.stopped())
          .build();
    }
  }
}
