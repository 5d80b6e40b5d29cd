package dev.parley.client;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.DispatcherSelector;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import dev.parley.client.chat.PeerListener;
import dev.parley.client.chat.PrivateChats;
import dev.parley.client.console.Console;
import dev.parley.client.server.ServerAddress;
import dev.parley.client.server.ServerConnection;
import dev.parley.client.tls.LazySecurity;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.jline.terminal.Terminal;

/**
 * Root of the client's actors: spawns the {@link Console} (on its own dispatcher), {@link
 * PrivateChats}, the {@link PeerListener} and the {@link ServerConnection}, and watches them. When
 * the session reports {@link ServerConnection.Finished} (it has closed the private chats and closed
 * the console by then), the guardian completes the exit status and stops, which terminates the
 * actor system. If one of its children stops unexpectedly, the client ends with {@link
 * ExitStatus#INTERNAL_ERROR}.
 */
public final class Guardian {

  /** What the guardian reacts to. */
  public sealed interface Command {}

  private record SessionFinished(int exitStatus) implements Command {}

  private record ChildStopped(String name) implements Command {}

  private Guardian() {}

  /**
   * @param security the client's identity, and how it reaches the server and its peers; the session
   *     makes it when it first needs it
   * @param exitStatus completed with the exit status when the session finishes
   */
  public static Behavior<Command> create(
      ClientSettings settings,
      LazySecurity security,
      List<ServerAddress> servers,
      Terminal terminal,
      CompletableFuture<Integer> exitStatus) {
    return Behaviors.setup(
        context -> start(context, settings, security, servers, terminal, exitStatus));
  }

  private static Behavior<Command> start(
      ActorContext<Command> context,
      ClientSettings settings,
      LazySecurity security,
      List<ServerAddress> servers,
      Terminal terminal,
      CompletableFuture<Integer> exitStatus) {
    ActorRef<Console.Command> console =
        watched(
            context,
            context.spawn(
                Console.create(terminal, settings),
                "console",
                DispatcherSelector.fromConfig(ClientSettings.CONSOLE_DISPATCHER)));
    ActorRef<PrivateChats.Command> chats =
        watched(context, context.spawn(PrivateChats.create(settings, console), "chats"));
    ActorRef<PeerListener.Command> listener =
        watched(
            context, context.spawn(PeerListener.create(settings, chats.narrow()), "peer-listener"));
    ActorRef<ServerConnection.Finished> finished =
        context.messageAdapter(
            ServerConnection.Finished.class, done -> new SessionFinished(done.exitStatus()));
    ServerConnection.Collaborators collaborators =
        new ServerConnection.Collaborators(console, chats, listener, finished);
    watched(
        context,
        context.spawn(
            ServerConnection.create(settings, security, servers, collaborators),
            "server-connection"));
    return running(context, exitStatus);
  }

  private static <T> ActorRef<T> watched(ActorContext<Command> context, ActorRef<T> child) {
    context.watchWith(child, new ChildStopped(child.path().name()));
    return child;
  }

  private static Behavior<Command> running(
      ActorContext<Command> context, CompletableFuture<Integer> exitStatus) {
    return Behaviors.receive(Command.class)
        .onMessage(SessionFinished.class, finished -> onSessionFinished(finished, exitStatus))
        .onMessage(ChildStopped.class, stopped -> onChildStopped(context, stopped, exitStatus))
        .build();
  }

  private static Behavior<Command> onSessionFinished(
      SessionFinished finished, CompletableFuture<Integer> exitStatus) {
    exitStatus.complete(finished.exitStatus());
    return Behaviors.stopped();
  }

  private static Behavior<Command> onChildStopped(
      ActorContext<Command> context, ChildStopped stopped, CompletableFuture<Integer> exitStatus) {
    // Children only stop on their own when something failed; the log has the reason.
    context.getLog().error("The {} actor stopped unexpectedly; exiting", stopped.name());
    exitStatus.complete(ExitStatus.INTERNAL_ERROR);
    return Behaviors.stopped();
  }
}
