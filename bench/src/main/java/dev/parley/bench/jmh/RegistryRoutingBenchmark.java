package dev.parley.bench.jmh;

import akka.Done;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.Props;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.AskPattern;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.parley.protocol.Protocol;
import dev.parley.protocol.ServerMessage;
import dev.parley.protocol.WireText;
import dev.parley.server.ServerSettings;
import dev.parley.server.registry.UserRegistry;
import dev.parley.server.store.Change;
import dev.parley.server.store.Journal;
import dev.parley.server.store.Store;
import dev.parley.server.store.StoreSnapshot;
import dev.parley.server.store.StoredMessage;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
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
import org.slf4j.LoggerFactory;

/**
 * The {@link UserRegistry}'s routing of direct messages, in memory: the real registry actor in a
 * real {@link ActorSystem} (the server's Akka settings, from its {@code reference.conf}), and what
 * each message costs it: {@code SendDirect} → {@code Journal.Record} → the journal's {@code
 * Recorded} → {@code message-accepted} to the sender and {@code message-received} to the
 * recipient's outbox.
 *
 * <p><b>No store is involved.</b> The journal is a stub that answers every {@code Journal.Record}
 * at once with a {@code Recorded} of {@code STORED}, so the score is the ceiling the registry and
 * the actor hops put on the message rate, not what a server writing to a database achieves. The
 * broadcaster is a stub that ignores everything.
 *
 * <p>{@code recipients} users are logged in ({@code Register}), each with a counting outbox that,
 * like the load generator's clients, acknowledges every {@value #ACK_EVERY}th message back to the
 * registry, so their unacknowledged tails stay short and no one's mailbox fills. {@code senders}
 * sender actors each keep {@code window} messages in flight (the server's {@code message-window}
 * per connection is 32) to recipients drawn at random, sending the next as each {@code
 * message-accepted} comes back; an invocation is {@value #MESSAGES} messages split among them, and
 * the score is messages per second. The senders, outboxes and registry share the machine's cores,
 * as sessions and the registry do in the server; allocation per operation ({@code -prof gc}) is for
 * all of them together. After the run, every accepted message must have reached its outbox.
 *
 * <pre>
 * bin/parley-bench jmh RegistryRoutingBenchmark -f 1 -wi 3 -i 5 -prof gc
 * bin/parley-bench jmh RegistryRoutingBenchmark -p dispatcherThreads=default,2 -f 1 -wi 3 -i 5
 * bin/parley-bench jmh RegistryRoutingBenchmark -p senders=8 -p window=1 -f 1 -wi 3 -i 5
 * </pre>
 *
 * <p>Not final: JMH generates subclasses of benchmark classes.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
// The registry logs each login at INFO; the setup logs in every recipient, and says nothing useful.
@Fork(jvmArgsAppend = "-Dparley.log.level=WARN")
public class RegistryRoutingBenchmark {

  /** Messages per invocation, divisible by every sender count measured. */
  static final int MESSAGES = 48_000;

  /** The load generator's clients acknowledge every 64th message. */
  static final int ACK_EVERY = 64;

  private static final Duration WAIT = Duration.ofSeconds(30);

  @Param({"1", "4", "16"})
  public int senders;

  /** Messages each sender keeps in flight. */
  @Param({"32"})
  public int window;

  /** Logged-in users who receive the messages. */
  @Param({"1000"})
  public int recipients;

  /**
   * Threads of Akka's default dispatcher, where all these actors run: {@code default} keeps the
   * server's configuration as it is (Akka's default: at least 8 threads, whatever the cores); a
   * number sets both the dispatcher's minimum and maximum parallelism to it.
   */
  @Param({"default"})
  public String dispatcherThreads;

  private ActorSystem<Void> system;
  private List<ActorRef<Object>> senderRefs;
  private final LongAdder accepted = new LongAdder();
  private final LongAdder delivered = new LongAdder();

  @Setup
  public void setUp() throws Exception {
    if (MESSAGES % senders != 0) {
      throw new IllegalArgumentException(MESSAGES + " messages cannot be split among " + senders);
    }
    // SLF4J first, so that Akka's first log lines are not replayed with a warning.
    LoggerFactory.getLogger(RegistryRoutingBenchmark.class);
    system = ActorSystem.create(Behaviors.empty(), "registry-bench", config());
    String[] users = new String[recipients];
    Set<String> usernames = new HashSet<>();
    for (int i = 0; i < recipients; i++) {
      users[i] = "user" + i;
      usernames.add(users[i]);
    }
    for (int i = 0; i < senders; i++) {
      usernames.add(senderName(i));
    }
    Collection<String> directory = Set.copyOf(usernames);
    ServerSettings server = ServerSettings.fromConfig(system.settings().config());
    ActorRef<UserRegistry.Command> registry =
        system.systemActorOf(
            UserRegistry.create(
                StoreSnapshot.empty().withUsernames(usernames),
                system.systemActorOf(Behaviors.ignore(), "broadcaster", Props.empty()),
                system.systemActorOf(storedAtOnce(stored), "journal", Props.empty()),
                () -> CompletableFuture.completedFuture(directory),
                this::readBack,
                // No directory refresh during a run.
                new UserRegistry.Settings(
                    server.mailbox(),
                    LIST_LIMIT,
                    server.maxTextBytes(),
                    Duration.ofDays(1),
                    Duration.ofSeconds(1),
                    server.resumeWindow(),
                    server.privateChatTokenTtl()),
                Clock.systemUTC()),
            "registry",
            Props.empty());

    List<CompletableFuture<UserRegistry.Registration>> registrations = new ArrayList<>();
    for (int i = 0; i < recipients; i++) {
      String user = users[i];
      ActorRef<ServerMessage> outbox =
          system.systemActorOf(
              Behaviors.<ServerMessage>setup(
                  context -> new CountingOutbox(context, user, registry, delivered)),
              "outbox-" + user,
              Props.empty());
      CompletionStage<UserRegistry.Registration> registered =
          AskPattern.ask(
              registry,
              replyTo ->
                  new UserRegistry.Register(
                      user,
                      new UserRegistry.Attachment(
                          outbox,
                          outbox,
                          system.ignoreRef(),
                          "127.0.0.1",
                          50_000,
                          null,
                          null,
                          Protocol.VERSION),
                      replyTo),
              WAIT,
              system.scheduler());
      registrations.add(registered.toCompletableFuture());
    }
    for (CompletableFuture<UserRegistry.Registration> registration : registrations) {
      if (registration.get(WAIT.toSeconds(), TimeUnit.SECONDS)
          != UserRegistry.Registration.REGISTERED) {
        throw new IllegalStateException("a recipient could not log in");
      }
    }

    senderRefs = new ArrayList<>();
    for (int i = 0; i < senders; i++) {
      String name = senderName(i);
      long seed = i;
      senderRefs.add(
          system.systemActorOf(
              Behaviors.<Object>setup(
                  context ->
                      new Sender(
                          context,
                          name,
                          registry,
                          users,
                          new SplittableRandom(seed),
                          window,
                          accepted)),
              name,
              Props.empty()));
    }
  }

  @TearDown
  public void tearDown() throws Exception {
    try {
      // Deliveries trail the replies a little: the registry tells the outbox first, but the
      // outbox may run later.
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (delivered.sum() != accepted.sum() && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      if (delivered.sum() != accepted.sum()) {
        throw new IllegalStateException(
            "accepted " + accepted.sum() + " messages but delivered " + delivered.sum());
      }
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }
  }

  @Benchmark
  @OperationsPerInvocation(MESSAGES)
  public void route() throws Exception {
    CompletableFuture<?>[] done = new CompletableFuture<?>[senderRefs.size()];
    for (int i = 0; i < done.length; i++) {
      CompletableFuture<Void> finished = new CompletableFuture<>();
      senderRefs.get(i).tell(new Run(MESSAGES / senders, finished));
      done[i] = finished;
    }
    CompletableFuture.allOf(done).get(WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  private Config config() {
    Config server = ConfigFactory.load();
    if (dispatcherThreads.equals("default")) {
      return server;
    }
    int threads = Integer.parseInt(dispatcherThreads);
    return ConfigFactory.parseMap(
            Map.of(
                "akka.actor.default-dispatcher.fork-join-executor.parallelism-min", threads,
                "akka.actor.default-dispatcher.fork-join-executor.parallelism-max", threads))
        .withFallback(server);
  }

  /** Names per whoelse reply, as the server has it (no list is asked for here). */
  private static final int LIST_LIMIT = 1000;

  private static final int TEXT_BYTES = WireText.encodedLength(Samples.TEXT_64);

  private static String senderName(int index) {
    return "sender" + index;
  }

  /**
   * A journal with nothing behind it: every change is stored the moment it is recorded, messages in
   * memory ({@code stored}, by row id) for the registry to read back when a recipient's delivery
   * window is full.
   */
  private static Behavior<Journal.Command> storedAtOnce(Map<Long, StoredMessage> stored) {
    AtomicLong ids = new AtomicLong();
    return Behaviors.receive(Journal.Command.class)
        .onMessage(Journal.Record.class, record -> recorded(record, stored, ids))
        .onMessage(Journal.Flush.class, RegistryRoutingBenchmark::flushed)
        .build();
  }

  private static Behavior<Journal.Command> recorded(
      Journal.Record record, Map<Long, StoredMessage> stored, AtomicLong ids) {
    if (record.replyTo() == null) {
      return Behaviors.same();
    }
    Journal.Recorded.Outcome outcome;
    if (record.change() instanceof Change.MessageAppended appended) {
      long id = ids.incrementAndGet();
      stored.put(id, appended.message());
      outcome = new Journal.Recorded.Outcome(record.change(), Store.Outcome.STORED, id);
    } else {
      outcome = new Journal.Recorded.Outcome(record.change(), Store.Outcome.APPLIED);
    }
    record.replyTo().tell(new Journal.Recorded(List.of(outcome)));
    return Behaviors.same();
  }

  /** The messages stored so far, by row id. */
  private final Map<Long, StoredMessage> stored = new ConcurrentHashMap<>();

  private CompletionStage<List<StoredMessage>> readBack(String recipient, long[] ids) {
    List<StoredMessage> page = new ArrayList<>();
    for (long id : ids) {
      StoredMessage message = stored.get(id);
      if (message != null) {
        page.add(message);
      }
    }
    return CompletableFuture.completedFuture(page);
  }

  private static Behavior<Journal.Command> flushed(Journal.Flush flush) {
    flush.replyTo().tell(Done.getInstance());
    return Behaviors.same();
  }

  /** Send {@code messages} messages, then complete {@code done}. */
  record Run(int messages, CompletableFuture<Void> done) {}

  /**
   * One sending user: keeps up to {@code window} messages in flight, each to a random recipient. It
   * takes the registry's replies directly (no message adapter) to stay as light as a load generator
   * should; an error reply fails the run.
   */
  static final class Sender extends AbstractBehavior<Object> {

    private final String name;
    private final ActorRef<UserRegistry.Command> registry;
    private final ActorRef<ServerMessage> replies;
    private final String[] recipients;
    private final SplittableRandom random;
    private final int window;
    private final LongAdder accepted;
    private int toSend;
    private int inFlight;
    private CompletableFuture<Void> done;

    Sender(
        ActorContext<Object> context,
        String name,
        ActorRef<UserRegistry.Command> registry,
        String[] recipients,
        SplittableRandom random,
        int window,
        LongAdder accepted) {
      super(context);
      this.name = name;
      this.registry = registry;
      this.replies = context.getSelf().narrow();
      this.recipients = recipients;
      this.random = random;
      this.window = window;
      this.accepted = accepted;
    }

    @Override
    public Receive<Object> createReceive() {
      return newReceiveBuilder()
          .onMessage(ServerMessage.MessageAccepted.class, this::onAccepted)
          .onMessage(Run.class, this::onRun)
          .onMessage(ServerMessage.Error.class, this::onError)
          .build();
    }

    private Behavior<Object> onRun(Run run) {
      toSend = run.messages();
      done = run.done();
      while (inFlight < window && toSend > 0) {
        send();
      }
      return this;
    }

    private Behavior<Object> onAccepted(ServerMessage.MessageAccepted reply) {
      inFlight--;
      accepted.increment();
      if (toSend > 0) {
        send();
      } else if (inFlight == 0) {
        done.complete(null);
      }
      return this;
    }

    private Behavior<Object> onError(ServerMessage.Error error) {
      done.completeExceptionally(new IllegalStateException("the registry answered " + error));
      return this;
    }

    private void send() {
      toSend--;
      inFlight++;
      String to = recipients[random.nextInt(recipients.length)];
      registry.tell(
          new UserRegistry.SendDirect(
              name, to, Samples.TEXT_64, Samples.MESSAGE_ID, TEXT_BYTES, replies));
    }
  }

  /** A logged-in user's outbound queue that counts what it is handed and acknowledges it. */
  static final class CountingOutbox extends AbstractBehavior<ServerMessage> {

    private final String user;
    private final ActorRef<UserRegistry.Command> registry;
    private final LongAdder delivered;
    private int sinceAck;

    CountingOutbox(
        ActorContext<ServerMessage> context,
        String user,
        ActorRef<UserRegistry.Command> registry,
        LongAdder delivered) {
      super(context);
      this.user = user;
      this.registry = registry;
      this.delivered = delivered;
    }

    @Override
    public Receive<ServerMessage> createReceive() {
      return newReceiveBuilder()
          .onMessage(ServerMessage.MessageReceived.class, this::onReceived)
          .onAnyMessage(other -> this)
          .build();
    }

    private Behavior<ServerMessage> onReceived(ServerMessage.MessageReceived message) {
      delivered.increment();
      if (++sinceAck >= ACK_EVERY) {
        sinceAck = 0;
        registry.tell(new UserRegistry.Acknowledge(user, message.seq()));
      }
      return this;
    }
  }
}
