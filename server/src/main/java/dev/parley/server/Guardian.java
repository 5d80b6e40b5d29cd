package dev.parley.server;

import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.SupervisorStrategy;
import akka.actor.typed.Terminated;
import akka.actor.typed.javadsl.AskPattern;
import akka.actor.typed.javadsl.Behaviors;
import dev.parley.server.broadcast.Broadcaster;
import dev.parley.server.login.Accounts;
import dev.parley.server.login.LoginGuard;
import dev.parley.server.registry.UserRegistry;
import dev.parley.server.session.Session;
import dev.parley.server.tcp.Listener;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.concurrent.CompletableFuture;

/**
 * The root of the server's actors: spawns the {@link Broadcaster}, {@link UserRegistry} and {@link
 * LoginGuard}, then the {@link Listener} that binds the port and creates a session per connection.
 * It stops (and so stops the node) if the listener stops, which happens when the port cannot be
 * bound. On shutdown (SIGINT/SIGTERM or {@link ParleyServer#stop()}) the listener first says
 * goodbye to every session.
 */
public final class Guardian {

  private Guardian() {}

  public static Behavior<Void> create(
      ServerSettings settings,
      Accounts accounts,
      Clock clock,
      CompletableFuture<InetSocketAddress> bound) {
    return Behaviors.setup(
        context -> {
          ActorRef<Broadcaster.Command> broadcaster =
              context.spawn(resumeOnFailure(Broadcaster.create()), "broadcaster");
          ActorRef<UserRegistry.Command> registry =
              context.spawn(
                  resumeOnFailure(
                      UserRegistry.create(
                          accounts.usernames(), broadcaster, settings.mailboxCapacity(), clock)),
                  "user-registry");
          ActorRef<LoginGuard.Command> loginGuard =
              context.spawn(
                  resumeOnFailure(
                      LoginGuard.create(
                          accounts,
                          registry,
                          settings.maxLoginFailures(),
                          settings.blockDuration(),
                          settings.askTimeout())),
                  "login-guard");
          ActorRef<Listener.Command> listener =
              context.spawn(
                  Listener.create(
                      settings, new Session.Services(registry, loginGuard, broadcaster), bound),
                  "listener");
          context.watch(listener);

          CoordinatedShutdown.get(context.getSystem())
              .addTask(
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
                          .exceptionally(failure -> akka.Done.getInstance()));

          return Behaviors.receive(Void.class)
              .onSignal(Terminated.class, terminated -> Behaviors.stopped())
              .build();
        });
  }

  /**
   * The registry, guard and broadcaster hold the server's state in memory: a restart would forget
   * who is online while their sessions are still connected, so a failure while handling one message
   * is logged and the actor carries on with its state.
   */
  private static <T> Behavior<T> resumeOnFailure(Behavior<T> behavior) {
    return Behaviors.supervise(behavior)
        .onFailure(SupervisorStrategy.resume().withLoggingEnabled(true));
  }
}
