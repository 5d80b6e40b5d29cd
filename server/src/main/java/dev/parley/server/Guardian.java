package dev.parley.server;

import akka.Done;
import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.DispatcherSelector;
import akka.actor.typed.SupervisorStrategy;
import akka.actor.typed.Terminated;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.AskPattern;
import akka.actor.typed.javadsl.Behaviors;
import dev.parley.server.broadcast.Broadcaster;
import dev.parley.server.login.Credentials;
import dev.parley.server.login.LoginGuard;
import dev.parley.server.login.PasswordHasher;
import dev.parley.server.registry.UserRegistry;
import dev.parley.server.session.Session;
import dev.parley.server.store.Journal;
import dev.parley.server.store.Store;
import dev.parley.server.store.StoreCalls;
import dev.parley.server.store.StoreSettings;
import dev.parley.server.store.StoreSnapshot;
import dev.parley.server.tcp.Listener;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * The root of the server's actors: spawns the {@link Journal} (the only writer of the store), the
 * {@link Broadcaster}, {@link UserRegistry} and {@link LoginGuard}, starting from the stored state,
 * then the {@link Listener} that binds the port and creates a session per connection. It stops (and
 * so stops the node) if the listener stops, which happens when the port cannot be bound. On
 * shutdown (SIGINT/SIGTERM or {@link ParleyServer#stop()}) the listener first says goodbye to every
 * session, then the journal writes what it still holds.
 */
public final class Guardian {

  private Guardian() {}

  /** What the node starts from and keeps its state in. */
  public record Storage(Store store, StoreSettings settings, StoreSnapshot snapshot) {}

  public static Behavior<Void> create(
      ServerSettings settings,
      Storage storage,
      Clock clock,
      CompletableFuture<InetSocketAddress> bound) {
    return Behaviors.setup(
        context -> {
          Executor storeExecutor = executor(context, ServerSettings.STORE_DISPATCHER);
          Executor passwordExecutor = executor(context, ServerSettings.PASSWORD_DISPATCHER);
          Store store = storage.store();

          ActorRef<Journal.Command> journal =
              context.spawn(
                  resumeOnFailure(Journal.create(store, storeExecutor, storage.settings(), clock)),
                  "journal");
          ActorRef<Broadcaster.Command> broadcaster =
              context.spawn(resumeOnFailure(Broadcaster.create()), "broadcaster");
          ActorRef<UserRegistry.Command> registry =
              context.spawn(
                  resumeOnFailure(
                      UserRegistry.create(
                          storage.snapshot(),
                          broadcaster,
                          journal,
                          directory(store, storeExecutor),
                          new UserRegistry.Settings(
                              settings.mailboxCapacity(), settings.directoryRefresh()),
                          clock)),
                  "user-registry");
          ActorRef<LoginGuard.Command> loginGuard =
              context.spawn(
                  resumeOnFailure(
                      LoginGuard.create(
                          new Credentials(
                              store,
                              storeExecutor,
                              new PasswordHasher(settings.passwordHashIterations()),
                              passwordExecutor),
                          registry,
                          journal,
                          new LoginGuard.Settings(
                              settings.maxLoginFailures(),
                              settings.blockDuration(),
                              settings.askTimeout()),
                          storage.snapshot().lockouts(),
                          clock)),
                  "login-guard");
          ActorRef<Listener.Command> listener =
              context.spawn(
                  Listener.create(
                      settings, new Session.Services(registry, loginGuard, broadcaster), bound),
                  "listener");
          context.watch(listener);

          CoordinatedShutdown shutdown = CoordinatedShutdown.get(context.getSystem());
          shutdown.addTask(
              CoordinatedShutdown.PhaseServiceRequestsDone(),
              "say-goodbye-to-sessions",
              () ->
                  AskPattern.ask(
                          listener,
                          Listener.Drain::new,
                          // Sessions may take up to close-timeout to flush their goodbye.
                          settings.closeTimeout().multipliedBy(2),
                          context.getSystem().scheduler())
                      // A listener that is already gone has no sessions left to close.
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

          return Behaviors.receive(Void.class)
              .onSignal(Terminated.class, terminated -> Behaviors.stopped())
              .build();
        });
  }

  private static Executor executor(ActorContext<Void> context, String dispatcher) {
    return context.getSystem().dispatchers().lookup(DispatcherSelector.fromConfig(dispatcher));
  }

  /** Every username, read on the store's dispatcher. */
  private static Supplier<CompletionStage<? extends java.util.Collection<String>>> directory(
      Store store, Executor executor) {
    return () -> StoreCalls.supply(store::usernames, executor);
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
