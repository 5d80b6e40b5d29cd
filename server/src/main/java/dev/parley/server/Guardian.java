package dev.parley.server;

import akka.Done;
import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.DispatcherSelector;
import akka.actor.typed.SupervisorStrategy;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.AskPattern;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import dev.parley.server.admin.AccountWatcher;
import dev.parley.server.broadcast.Broadcaster;
import dev.parley.server.cluster.ClusterMembership;
import dev.parley.server.cluster.ClusterSettings;
import dev.parley.server.limits.AddressBuckets;
import dev.parley.server.login.Credentials;
import dev.parley.server.login.LoginGuard;
import dev.parley.server.login.PasswordHasher;
import dev.parley.server.registry.ClusterRegistry;
import dev.parley.server.registry.UserEntity;
import dev.parley.server.registry.UserRegistry;
import dev.parley.server.session.Session;
import dev.parley.server.store.AccountEvent;
import dev.parley.server.store.BoundedExecutor;
import dev.parley.server.store.Journal;
import dev.parley.server.store.Store;
import dev.parley.server.store.StoreCalls;
import dev.parley.server.store.StoreSettings;
import dev.parley.server.store.StoreSnapshot;
import dev.parley.server.store.StoredMessage;
import dev.parley.server.store.UserSnapshot;
import dev.parley.server.tcp.Listener;
import dev.parley.transport.ServerTls;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * The root of the server's actors: spawns the {@link Journal} (the only writer of the store), the
 * {@link Broadcaster}, {@link UserRegistry}, {@link LoginGuard} and {@link AccountWatcher},
 * starting from the stored state, then the {@link Listener} that binds the port (with TLS unless it
 * is off) and creates a session per connection; a cluster member also gets the {@link
 * ClusterMembership} logger. On shutdown (SIGINT/SIGTERM or {@link ParleyServer#stop()}) the
 * listener first says goodbye to every session, then the journal writes what it still holds; a
 * cluster member then leaves the cluster (Akka's own cluster phases of the coordinated shutdown)
 * before the store is closed.
 *
 * <p>It watches every one of those actors but the membership logger. The node cannot do its job
 * without any of them (a registry that stopped leaves every session answering nothing), so if one
 * stops, for whatever reason, the node goes down cleanly: an error in the log, sessions told
 * goodbye, and the process exits with {@link #EXIT_CORE_ACTOR_STOPPED} rather than running on half
 * alive. Failures while handling one message do not stop them: the stateful ones resume (their
 * state is ahead of the store; their handlers check before they change anything), and the node
 * carries on.
 */
public final class Guardian {

  /** Exit status when a core actor stopped and took the node down (EX_SOFTWARE). */
  public static final int EXIT_CORE_ACTOR_STOPPED = 70;

  /** The reason given to the coordinated shutdown when a core actor stopped. */
  public static final CoordinatedShutdown.Reason CORE_ACTOR_STOPPED = new CoreActorStopped();

  private static final class CoreActorStopped implements CoordinatedShutdown.Reason {
    @Override
    public String toString() {
      return "CoreActorStopped";
    }
  }

  private Guardian() {}

  /** What the node starts from and keeps its state in. */
  public record Storage(Store store, StoreSettings settings, StoreSnapshot snapshot) {}

  private record CoreActorTerminated(String name) {}

  public static Behavior<Void> create(
      ServerSettings settings,
      ClusterSettings cluster,
      Storage storage,
      Clock clock,
      Optional<ServerTls> tls,
      CompletableFuture<InetSocketAddress> bound,
      CompletableFuture<Executor> readPool,
      CompletableFuture<ActorRef<Listener.Command>> listenerRef) {
    return Behaviors.<CoreActorTerminated>setup(
            context -> {
              context.setLoggerName(Guardian.class);
              Store store = storage.store();
              StoreSettings storeSettings = storage.settings();
              Executor writes = dispatcher(context, ServerSettings.STORE_DISPATCHER);
              // Bounded, unlike a dispatcher's queue: a login flood is refused, not queued.
              BoundedExecutor reads = BoundedExecutor.forReads(storeSettings);
              // The HTTP port's readiness query runs there too.
              readPool.complete(reads);
              BoundedExecutor hashing =
                  new BoundedExecutor(
                      "parley-password-hashing",
                      settings.passwords().threads(),
                      settings.passwords().queue());
              context
                  .getSystem()
                  .getWhenTerminated()
                  .thenRun(
                      () -> {
                        reads.shutdown();
                        hashing.shutdown();
                      });

              ActorRef<Journal.Command> journal =
                  context.spawn(
                      resumeOnFailure(Journal.create(store, writes, storeSettings, clock)),
                      "journal");
              ActorRef<Broadcaster.Command> broadcaster =
                  context.spawn(
                      resumeOnFailure(
                          cluster.enabled()
                              ? Broadcaster.clustered(
                                  settings.presenceBatch(),
                                  clock,
                                  cluster.rosterWriteTimeout(),
                                  cluster.rosterDepartedTtl())
                              : Broadcaster.create(settings.presenceBatch())),
                      "broadcaster");
              UserRegistry.Settings registrySettings =
                  new UserRegistry.Settings(
                      settings.mailbox(),
                      LIST_LIMIT,
                      settings.maxTextBytes(),
                      settings.directoryRefresh(),
                      storeSettings.retryDelay(),
                      settings.resumeWindow(),
                      settings.privateChatTokenTtl());
              // In a cluster each user has one owner, on whichever node sharding puts it.
              ClusterRegistry.Owners owners =
                  cluster.enabled()
                      ? startOwners(
                          context,
                          cluster,
                          settings,
                          registrySettings,
                          store,
                          reads,
                          journal,
                          clock)
                      : null;
              ActorRef<UserRegistry.Command> registry =
                  context.spawn(
                      resumeOnFailure(
                          owners != null
                              ? ClusterRegistry.create(
                                  owners,
                                  broadcaster,
                                  clusterReads(store, reads),
                                  registrySettings,
                                  cluster.ownerTimeout(),
                                  cluster.ownerAttempts(),
                                  clock)
                              : UserRegistry.create(
                                  storage.snapshot(),
                                  broadcaster,
                                  journal,
                                  directory(store, reads),
                                  (recipient, ids) ->
                                      StoreCalls.supply(
                                          () -> store.readMessages(recipient, ids), reads),
                                  registrySettings,
                                  clock)),
                      "user-registry");
              Credentials credentials =
                  new Credentials(
                      store, reads, new PasswordHasher(settings.passwordHashIterations()), hashing);
              LoginGuard.Settings guardSettings =
                  new LoginGuard.Settings(
                      settings.maxLoginFailures(),
                      settings.blockDuration(),
                      loginAttempts(settings.limits()));
              ActorRef<LoginGuard.Command> loginGuard =
                  context.spawn(
                      resumeOnFailure(
                          owners == null
                              ? LoginGuard.create(
                                  credentials,
                                  journal,
                                  guardSettings,
                                  storage.snapshot().lockouts(),
                                  clock)
                              : LoginGuard.clustered(
                                  credentials,
                                  journal,
                                  guardSettings,
                                  owners,
                                  cluster.ownerTimeout(),
                                  cluster.ownerAttempts(),
                                  clock)),
                      "login-guard");
              ActorRef<AccountWatcher.Command> watcher =
                  context.spawn(
                      resumeOnFailure(
                          AccountWatcher.create(
                              accountEvents(store, reads),
                              registry,
                              loginGuard,
                              settings.accountPollInterval())),
                      "account-watcher");
              ActorRef<Listener.Command> listener =
                  context.spawn(
                      Listener.create(
                          settings,
                          tls,
                          new Session.Services(registry, loginGuard, broadcaster),
                          clock,
                          bound),
                      "listener");
              // The HTTP port's WebSocket route hands its connections to it.
              listenerRef.complete(listener);
              if (cluster.enabled()) {
                startClusterMembership(context);
              }
              watch(context, journal, "journal");
              watch(context, broadcaster, "broadcaster");
              watch(context, registry, "user-registry");
              watch(context, loginGuard, "login-guard");
              watch(context, watcher, "account-watcher");
              watch(context, listener, "listener");

              CoordinatedShutdown shutdown = CoordinatedShutdown.get(context.getSystem());
              shutdown.addTask(
                  CoordinatedShutdown.PhaseServiceRequestsDone(),
                  "say-goodbye-to-sessions",
                  () -> {
                    // Before the first session closes: what the drain closes, it interrupts.
                    registry.tell(UserRegistry.ShutdownStarted.INSTANCE);
                    return AskPattern.ask(
                            listener,
                            Listener.Drain::new,
                            // Sessions may take up to close-timeout to flush their goodbye.
                            settings.closeTimeout().multipliedBy(2),
                            context.getSystem().scheduler())
                        // A listener that is already gone has no sessions left to close.
                        .exceptionally(failure -> Done.getInstance());
                  });
              shutdown.addTask(
                  CoordinatedShutdown.PhaseServiceStop(),
                  "stop-reading-account-events",
                  () ->
                      AskPattern.ask(
                              watcher,
                              AccountWatcher.StopPolling::new,
                              settings.closeTimeout(),
                              context.getSystem().scheduler())
                          .exceptionally(failure -> Done.getInstance()));
              shutdown.addTask(
                  CoordinatedShutdown.PhaseServiceStop(),
                  "write-the-journal",
                  () ->
                      AskPattern.ask(
                              journal,
                              Journal.Flush::new,
                              settings.closeTimeout().multipliedBy(2),
                              context.getSystem().scheduler())
                          .exceptionally(failure -> Done.getInstance()));

              return Behaviors.receive(CoreActorTerminated.class)
                  .onMessage(
                      CoreActorTerminated.class,
                      terminated -> onCoreActorTerminated(context, terminated, bound))
                  .build();
            })
        .unsafeCast();
  }

  /**
   * This node's part of the sharded owners of users ({@link UserEntity}, writing through this
   * node's journal); returns where each user's owner is.
   */
  private static ClusterRegistry.Owners startOwners(
      ActorContext<?> context,
      ClusterSettings cluster,
      ServerSettings settings,
      UserRegistry.Settings registrySettings,
      Store store,
      Executor reads,
      ActorRef<Journal.Command> journal,
      Clock clock) {
    ClusterSharding sharding = ClusterSharding.get(context.getSystem());
    UserEntity.Reads entityReads =
        new UserEntity.Reads() {
          @Override
          public CompletionStage<UserSnapshot> loadUser(String username, Instant now) {
            return StoreCalls.supply(() -> store.loadUser(username, now), reads);
          }

          @Override
          public CompletionStage<List<StoredMessage>> read(String recipient, long[] ids) {
            return StoreCalls.supply(() -> store.readMessages(recipient, ids), reads);
          }
        };
    sharding.init(
        UserEntity.entity(
            sharding,
            journal,
            entityReads,
            new UserEntity.Settings(
                registrySettings,
                cluster.ownerIdleTimeout(),
                cluster.ownerStash(),
                settings.maxLoginFailures(),
                settings.blockDuration()),
            clock));
    return user -> sharding.entityRefFor(UserEntity.TYPE_KEY, user);
  }

  /** What a cluster node's registry reads, on the store's read pool. */
  private static ClusterRegistry.Reads clusterReads(Store store, Executor reads) {
    return new ClusterRegistry.Reads() {
      @Override
      public CompletionStage<? extends Collection<String>> usernames() {
        return StoreCalls.supply(store::usernames, reads);
      }

      @Override
      public CompletionStage<Map<String, Instant>> logoutsSince(Instant since) {
        return StoreCalls.supply(() -> store.logoutsSince(since), reads);
      }
    };
  }

  /** Most names in a whoelse or whoelsesince reply (their bytes are capped too, to fit a frame). */
  private static final int LIST_LIMIT = 1000;

  private static Behavior<CoreActorTerminated> onCoreActorTerminated(
      ActorContext<CoreActorTerminated> context,
      CoreActorTerminated terminated,
      CompletableFuture<InetSocketAddress> bound) {
    if (bound.isCompletedExceptionally()) {
      // The port could not be bound: the listener said why, and the node stops without serving.
      return Behaviors.stopped();
    }
    context
        .getLog()
        .error(
            "core actor stopped, taking the node down actor={} exit-status={}",
            terminated.name(),
            EXIT_CORE_ACTOR_STOPPED);
    CoordinatedShutdown.get(context.getSystem()).runAll(CORE_ACTOR_STOPPED);
    return Behaviors.same();
  }

  /**
   * Logs the cluster's changes. The logger is not a core actor: the node serves without it, and a
   * failure restarts it (it logs the current members again).
   */
  private static void startClusterMembership(ActorContext<CoreActorTerminated> context) {
    context.spawn(
        Behaviors.supervise(ClusterMembership.create()).onFailure(SupervisorStrategy.restart()),
        "cluster-membership");
  }

  private static void watch(
      ActorContext<CoreActorTerminated> context, ActorRef<?> actor, String name) {
    context.watchWith(actor, new CoreActorTerminated(name));
  }

  private static Executor dispatcher(ActorContext<?> context, String dispatcher) {
    return context.getSystem().dispatchers().lookup(DispatcherSelector.fromConfig(dispatcher));
  }

  private static AddressBuckets loginAttempts(ServerSettings.Limits limits) {
    return limits.enabled()
        ? new AddressBuckets(limits.loginAttempts(), limits.exempt(), limits.maxTrackedAddresses())
        : null;
  }

  /** Every username, read on the store's read pool. */
  private static Supplier<CompletionStage<? extends Collection<String>>> directory(
      Store store, Executor executor) {
    return () -> StoreCalls.supply(store::usernames, executor);
  }

  private static AccountWatcher.Events accountEvents(Store store, Executor executor) {
    return new AccountWatcher.Events() {
      @Override
      public CompletionStage<Long> lastId() {
        return StoreCalls.supply(store::lastAccountEventId, executor);
      }

      @Override
      public CompletionStage<List<AccountEvent>> after(long afterId, int limit) {
        return StoreCalls.supply(() -> store.accountEventsAfter(afterId, limit), executor);
      }
    };
  }

  /**
   * The registry, guard, broadcaster and journal hold state in memory that is ahead of (or not in)
   * the store: a restart would forget who is online while their sessions are still connected, so a
   * failure while handling one message is logged and the actor carries on with its state.
   */
  private static <T> Behavior<T> resumeOnFailure(Behavior<T> behavior) {
    return Behaviors.supervise(behavior)
        .onFailure(SupervisorStrategy.resume().withLoggingEnabled(true));
  }
}
