package dev.parley.bench.jmh;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.Props;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.parley.protocol.ClientMessage;
import dev.parley.protocol.Inbound;
import dev.parley.protocol.Protocol;
import dev.parley.protocol.ServerMessage;
import dev.parley.server.ServerSettings;
import dev.parley.server.broadcast.Broadcaster;
import dev.parley.server.login.LoginGuard;
import dev.parley.server.registry.UserRegistry;
import dev.parley.server.session.Session;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.slf4j.LoggerFactory;

/**
 * A logged-in {@link Session}'s handling of direct messages, in memory: the real session actor in a
 * real {@link ActorSystem} (the server's Akka settings, flood limits off as in the load tests), fed
 * the way its connection's stream feeds it, one {@code FrameReceived} per {@code StreamAck}. Per
 * message: the frame, the session's {@code SendDirect} to the registry, the registry's answer back
 * through the session's message adapter, {@code message-accepted} to the outbox and the ack to the
 * stream. The registry is a stub that answers every message at once, so no store is involved; the
 * score is messages per second through one session, its dispatch and the actor hops around it.
 *
 * <p>It covers the session's dispatch, which issue 11's sixth round changed (one message adapter
 * for every answer, and the handlers that every phase shares in one case).
 *
 * <pre>
 * bin/parley-bench jmh SessionDispatchBenchmark -f 1 -wi 3 -i 5 -prof gc
 * </pre>
 *
 * <p>Not final: JMH generates subclasses of benchmark classes.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(jvmArgsAppend = "-Dparley.log.level=WARN")
public class SessionDispatchBenchmark {

  /** Messages per invocation. */
  static final int MESSAGES = 20_000;

  private static final long WAIT_SECONDS = 30;

  private ActorSystem<Void> system;
  private ActorRef<Object> stream;
  private ActorRef<Object> outbox;
  private ActorRef<Session.Command> session;

  @Setup
  public void setUp() throws Exception {
    // SLF4J first, so that Akka's first log lines are not replayed with a warning.
    LoggerFactory.getLogger(SessionDispatchBenchmark.class);
    system = ActorSystem.create(Behaviors.empty(), "session-bench", config());
    ServerSettings settings = ServerSettings.fromConfig(system.settings().config());
    outbox = system.systemActorOf(counting(), "outbox", Props.empty());
    ActorRef<ServerMessage> outboxRef = outbox.narrow();
    Session.Services services =
        new Session.Services(
            system.systemActorOf(registry(), "registry", Props.empty()),
            system.systemActorOf(guard(), "guard", Props.empty()),
            system.systemActorOf(
                Behaviors.<Broadcaster.Command>ignore(), "broadcaster", Props.empty()));
    session =
        system.systemActorOf(
            Session.create(
                settings,
                services,
                new InetSocketAddress("127.0.0.1", 50000),
                Clock.systemUTC(),
                self -> {}),
            "session",
            Props.empty());
    stream = system.systemActorOf(stream(session, outboxRef), "stream", Props.empty());

    CompletableFuture<Long> welcomed = new CompletableFuture<>();
    outbox.tell(new AwaitWelcome(welcomed));
    stream.tell(
        new Feed(
            List.of(
                new ClientMessage.Hello(Protocol.VERSION),
                new ClientMessage.Username("hans"),
                new ClientMessage.Password("falcon*solo", 50001)),
            0));
    welcomed.get(WAIT_SECONDS, TimeUnit.SECONDS);
  }

  @TearDown
  public void tearDown() throws Exception {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(WAIT_SECONDS, TimeUnit.SECONDS);
  }

  @Benchmark
  @OperationsPerInvocation(MESSAGES)
  public long messages() throws Exception {
    CompletableFuture<Long> accepted = new CompletableFuture<>();
    outbox.tell(new AwaitAccepted(MESSAGES, accepted));
    stream.tell(new Feed(List.of(MESSAGE), MESSAGES));
    return accepted.get(WAIT_SECONDS, TimeUnit.SECONDS);
  }

  /** The same frame each time: the stub registry does not tell resent messages apart. */
  private static final ClientMessage MESSAGE =
      new ClientMessage.SendMessage(Samples.RECIPIENT, Samples.TEXT_64, Samples.MESSAGE_ID);

  /** To the stream: feed {@code frames}, then {@code repeats} more of the last one. */
  private record Feed(List<ClientMessage> frames, int repeats) {}

  /** To the outbox: complete {@code done} at the welcome. */
  private record AwaitWelcome(CompletableFuture<Long> done) {}

  /** To the outbox: complete {@code done} once {@code count} more messages were accepted. */
  private record AwaitAccepted(int count, CompletableFuture<Long> done) {}

  /**
   * Plays the connection's inbound stream: starts the session, then sends a frame for each ack, as
   * {@code ActorSink.actorRefWithBackpressure} does.
   */
  private static Behavior<Object> stream(
      ActorRef<Session.Command> session, ActorRef<ServerMessage> outbox) {
    return Behaviors.setup(
        context -> Behaviors.receiveMessage(new Stream(context, session, outbox)::onMessage));
  }

  /**
   * The state of {@link #stream}. Not an {@code AbstractBehavior}: Akka's receive builder allocates
   * per message (measured here: about 85 B per actor), which would blur what the session costs.
   */
  private static final class Stream {
    private final ActorRef<Session.Command> session;
    private final ActorRef<Session.StreamAck> acks;
    private final Deque<ClientMessage> queued = new ArrayDeque<>();
    private ClientMessage last;
    private int repeats;

    /** The session has acked the last frame: it may be sent the next. */
    private boolean acked;

    private Stream(
        ActorContext<Object> context,
        ActorRef<Session.Command> session,
        ActorRef<ServerMessage> outbox) {
      this.session = session;
      this.acks = context.getSelf().narrow();
      session.tell(new Session.StreamStarted(acks, outbox));
    }

    private Behavior<Object> onMessage(Object message) {
      return message instanceof Feed feed ? onFeed(feed) : onAck();
    }

    private Behavior<Object> onFeed(Feed feed) {
      queued.addAll(feed.frames());
      last = feed.frames().get(feed.frames().size() - 1);
      repeats += feed.repeats();
      return acked ? onAck() : Behaviors.same();
    }

    private Behavior<Object> onAck() {
      ClientMessage next = queued.poll();
      if (next == null && repeats > 0) {
        repeats--;
        next = last;
      }
      acked = next == null;
      if (next != null) {
        session.tell(new Session.FrameReceived(acks, new Inbound.Frame<>(next)));
      }
      return Behaviors.same();
    }
  }

  /** The session's outbox: counts what is accepted, and tells who waits. */
  private static Behavior<Object> counting() {
    return Behaviors.setup(context -> Behaviors.receiveMessage(new Outbox()::onMessage));
  }

  /** The state of {@link #counting}; not an {@code AbstractBehavior}, as {@link Stream} is not. */
  private static final class Outbox {
    private long accepted;
    private long target = Long.MAX_VALUE;
    private CompletableFuture<Long> waiting;

    private Behavior<Object> onMessage(Object message) {
      if (message instanceof ServerMessage.MessageAccepted) {
        return ++accepted == target ? completed() : Behaviors.same();
      } else if (message instanceof ServerMessage.LoginAccepted) {
        return completed();
      } else if (message instanceof AwaitAccepted await) {
        target = accepted + await.count();
        return awaiting(await.done());
      } else if (message instanceof AwaitWelcome await) {
        return awaiting(await.done());
      }
      return Behaviors.same();
    }

    private Behavior<Object> awaiting(CompletableFuture<Long> done) {
      waiting = done;
      return Behaviors.same();
    }

    private Behavior<Object> completed() {
      waiting.complete(accepted);
      waiting = null;
      return Behaviors.same();
    }
  }

  /** Admits every login. */
  private static Behavior<LoginGuard.Command> guard() {
    return Behaviors.receiveMessage(
        command -> {
          if (command instanceof LoginGuard.CheckUsername check) {
            check.replyTo().tell(LoginGuard.UsernameVerdict.PASSWORD_REQUIRED);
          } else if (command instanceof LoginGuard.Authenticate authenticate) {
            authenticate.replyTo().tell(LoginGuard.PasswordVerdict.AUTHENTICATED);
          }
          return Behaviors.same();
        });
  }

  /** Registers every session and accepts every message at once, as stored. */
  private static Behavior<UserRegistry.Command> registry() {
    return Behaviors.receiveMessage(
        command -> {
          if (command instanceof UserRegistry.Register register) {
            register
                .attachment()
                .outbox()
                .tell(new ServerMessage.LoginAccepted(register.username(), null));
            register.replyTo().tell(UserRegistry.Registration.REGISTERED);
          } else if (command instanceof UserRegistry.SendDirect send) {
            send.replyTo().tell(new ServerMessage.MessageAccepted(send.id(), true));
          }
          return Behaviors.same();
        });
  }

  /** The server's configuration, with the flood limits off as in the load tests. */
  private static Config config() {
    return ConfigFactory.parseMap(Map.of("parley.server.limits.enabled", false))
        .withFallback(ConfigFactory.load());
  }
}
