package dev.parley.bench.jmh;

import akka.Done;
import akka.NotUsed;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.Props;
import akka.actor.typed.javadsl.Behaviors;
import akka.stream.Materializer;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Keep;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.stream.javadsl.Tcp;
import akka.util.ByteString;
import dev.parley.server.ServerSettings;
import dev.parley.server.session.Session;
import dev.parley.server.tcp.ConnectionHost;
import dev.parley.server.tcp.SessionConnection;
import dev.parley.transport.ServerTls;
import dev.parley.transport.TlsIdentity;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * What the server pays to give an accepted connection its stream and take it down again, the part
 * of a login (and of every resumption in a reconnect storm) that does not depend on what the client
 * says: {@link SessionConnection#attach} with the listener's shared layers, on an actor of its own
 * or inside a {@link ConnectionHost} as {@code Listener} runs it, the stream running until its
 * session has been told it started, then the client's side ending and the stream ending with it.
 *
 * <p>The socket is a stub (a sink that drops bytes and a source that ends when told), so Akka's TCP
 * actor is not counted; with {@code tls}, the connection's TLS stage makes its engine, but no
 * handshake is done. The session is one stub actor for every connection, acknowledging the start.
 * The score is per connection; {@code -prof gc} gives its allocation.
 *
 * <pre>
 * bin/parley-bench jmh ConnectionAttachBenchmark -f 1 -wi 5 -i 5 -prof gc
 * </pre>
 *
 * <p>Not final: JMH generates subclasses of benchmark classes.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(jvmArgsAppend = "-Dparley.log.level=WARN")
public class ConnectionAttachBenchmark {

  /** Connections attached, then ended, per invocation. */
  static final int CONNECTIONS = 500;

  private static final long WAIT_SECONDS = 30;

  private static final InetSocketAddress LOCAL = new InetSocketAddress("127.0.0.1", 3331);
  private static final InetSocketAddress REMOTE = new InetSocketAddress("127.0.0.1", 50000);

  @Param({"plaintext", "tls"})
  public String transport;

  /**
   * Where the streams run: {@code own}, each on an actor of its own (the materializer's); {@code
   * hosted}, inside one {@link ConnectionHost}, as the listener runs them.
   */
  @Param({"own", "hosted"})
  public String runs;

  private ActorRef<ConnectionHost.Command> host;

  private ActorSystem<Void> system;
  private Materializer materializer;
  private SessionConnection.Layers layers;
  private ActorRef<Object> sessions;

  /** The client's side of each stub socket, completed to end it. */
  private final ConcurrentLinkedQueue<CompletableFuture<Optional<ByteString>>> clients =
      new ConcurrentLinkedQueue<>();

  private Tcp.IncomingConnection connection;

  @Setup
  public void setUp() throws Exception {
    system = ActorSystem.create(Behaviors.empty(), "attach-bench", Samples.quietConfig());
    materializer = Materializer.matFromSystem(system);
    ServerSettings settings = ServerSettings.fromConfig(system.settings().config());
    ServerTls tls =
        transport.equals("tls")
            ? ServerTls.create(TlsIdentity.selfSigned("benchmark server", Duration.ofDays(1)))
            : null;
    layers = new SessionConnection.Layers(settings, tls, null);
    sessions = system.systemActorOf(sessions(), "sessions", Props.empty());
    host = runs.equals("hosted") ? ConnectionHost.start(layers, "bench-host", materializer) : null;
    Flow<ByteString, ByteString, NotUsed> socket =
        Flow.fromSinkAndSourceCoupledMat(
                Sink.<ByteString>ignore(), Source.<ByteString>maybe(), Keep.right())
            .mapMaterializedValue(
                client -> {
                  clients.add(client);
                  return NotUsed.getInstance();
                });
    connection =
        new Tcp.IncomingConnection(
            new akka.stream.scaladsl.Tcp.IncomingConnection(LOCAL, REMOTE, socket.asScala()));
  }

  @TearDown
  public void tearDown() throws Exception {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(WAIT_SECONDS, TimeUnit.SECONDS);
  }

  @Benchmark
  @OperationsPerInvocation(CONNECTIONS)
  public void attachAndEnd() throws Exception {
    CompletableFuture<Done> started = new CompletableFuture<>();
    sessions.tell(new Await(CONNECTIONS, started, true));
    ActorRef<Session.Command> session = sessions.narrow();
    for (int i = 0; i < CONNECTIONS; i++) {
      if (host != null) {
        host.tell(new ConnectionHost.Attach(connection, session, new CompletableFuture<>()));
      } else {
        SessionConnection.attach(
            connection, session, layers, new CompletableFuture<>(), materializer);
      }
    }
    started.get(WAIT_SECONDS, TimeUnit.SECONDS);
    CompletableFuture<Done> ended = new CompletableFuture<>();
    sessions.tell(new Await(CONNECTIONS, ended, false));
    for (CompletableFuture<Optional<ByteString>> client; (client = clients.poll()) != null; ) {
      client.complete(Optional.empty());
    }
    ended.get(WAIT_SECONDS, TimeUnit.SECONDS);
  }

  /** To the stub session: complete {@code done} once {@code count} more streams started (ended). */
  private record Await(int count, CompletableFuture<Done> done, boolean starts) {}

  /** Every connection's session: acknowledges each start, counts starts and ends. */
  private static Behavior<Object> sessions() {
    return Behaviors.setup(
        context ->
            Behaviors.receiveMessage(
                new Object() {
                      long starts;
                      long ends;
                      Await waiting;
                      long target;

                      Behavior<Object> onMessage(Object message) {
                        if (message instanceof Session.StreamStarted started) {
                          started.ackTo().tell(Session.StreamAck.INSTANCE);
                          starts++;
                        } else if (message instanceof Session.StreamCompleted
                            || message instanceof Session.StreamFailed) {
                          ends++;
                        } else if (message instanceof Await await) {
                          waiting = await;
                          target = (await.starts() ? starts : ends) + await.count();
                        }
                        if (waiting != null && (waiting.starts() ? starts : ends) >= target) {
                          waiting.done().complete(Done.getInstance());
                          waiting = null;
                        }
                        return Behaviors.same();
                      }
                    }
                    ::onMessage));
  }
}
