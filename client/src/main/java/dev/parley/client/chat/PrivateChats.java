package dev.parley.client.chat;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.TimerScheduler;
import akka.stream.javadsl.Tcp;
import dev.parley.client.ClientSettings;
import dev.parley.client.console.Console;
import dev.parley.client.net.Connections;
import dev.parley.client.text.Texts;
import dev.parley.protocol.PeerMessage.Bye;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Keeps this user's private chats: one {@link PrivateChat} child per peer, whichever side opened
 * it, so that there is at most one chat per peer.
 *
 * <p>Protocol: inactive until {@link LoggedIn} (connections that arrive earlier are closed). Then
 * {@link Start} asks the server, through the {@link ServerRequest} ref given at login, for the
 * peer's address ({@link RequestPeerAddress}); the answer comes back as {@link PeerAddressReceived}
 * (a chat is spawned to connect) or {@link PeerAddressRefused} (the server already showed why).
 * {@link SendPrivate} and {@link StopPrivate} go to the peer's chat; {@link AcceptConnection}
 * spawns a chat for a connection the listener accepted, which is allowed to go on only if no chat
 * with that peer is open or being opened. A request handled without the server (an error shown
 * locally) sends {@link ReportActivity}, since the server's idle timer only sees what it receives.
 * A chat whose connection has ended is taken out of the routing before it is released ({@link
 * PrivateChat.Release}), so a text typed meanwhile is reported, not lost. {@link CloseAll} stops
 * every chat with the given reason and answers {@link AllClosed} once all have stopped, or after
 * the close timeout; after it, the actor only refuses.
 */
public final class PrivateChats {

  /** Everything the private chats do. */
  public sealed interface Command {}

  /** The user logged in as {@code me}; requests for the server go to {@code server}. */
  public record LoggedIn(String me, ActorRef<ServerRequest> server) implements Command {}

  /** {@code startprivate user}. */
  public record Start(String user) implements Command {}

  /** The server's answer to {@link RequestPeerAddress}: where {@code user} accepts chats. */
  public record PeerAddressReceived(String user, String host, int port) implements Command {}

  /** The server refused {@link RequestPeerAddress} for {@code user} (and the user was told). */
  public record PeerAddressRefused(String user) implements Command {}

  /** {@code private user text}. */
  public record SendPrivate(String user, String text) implements Command {}

  /** {@code stopprivate user}. */
  public record StopPrivate(String user) implements Command {}

  /** A peer connected to this client's listener. */
  public record AcceptConnection(Tcp.IncomingConnection connection) implements Command {}

  /** Close every chat, telling each peer {@code reason}; answers {@link AllClosed}. */
  public record CloseAll(Bye.Reason reason, ActorRef<AllClosed> replyTo) implements Command {}

  /** Every chat has stopped (or the close timeout passed). */
  public enum AllClosed {
    INSTANCE
  }

  /** What the private chats need the server connection to send for them. */
  public sealed interface ServerRequest {}

  /** Send {@code StartPrivate(user)}; the reply is expected as {@link PeerAddressReceived}. */
  public record RequestPeerAddress(String user) implements ServerRequest {}

  /** Send {@code NoteActivity}: the user did something the server does not see. */
  public enum ReportActivity implements ServerRequest {
    INSTANCE
  }

  private record ChatIdentified(PrivateChat.Identified identified) implements Command {}

  private record ChatEnded(PrivateChat.Ended ended) implements Command {}

  private record ChatStopped(ActorRef<PrivateChat.Command> chat) implements Command {}

  private enum CloseTimedOut implements Command {
    INSTANCE
  }

  public static Behavior<Command> create(
      ClientSettings settings, ActorRef<Console.Command> console) {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers -> new PrivateChats(context, timers, settings, console).inactive()));
  }

  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  private final ClientSettings settings;
  private final ActorRef<Console.Command> console;
  private final ActorRef<PrivateChat.Notification> chatAdapter;

  /** Chats whose peer is known (opened by us, or accepted and identified), by peer name. */
  private final Map<String, ActorRef<PrivateChat.Command>> chats = new HashMap<>();

  /** Peers whose address was asked of the server and has not come back yet. */
  private final Set<String> opening = new HashSet<>();

  /** Every running child, including accepted connections not yet identified. */
  private final Set<ActorRef<PrivateChat.Command>> children = new HashSet<>();

  private long spawned;

  private PrivateChats(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      ClientSettings settings,
      ActorRef<Console.Command> console) {
    this.context = context;
    this.timers = timers;
    this.settings = settings;
    this.console = console;
    this.chatAdapter = context.messageAdapter(PrivateChat.Notification.class, PrivateChats::adapt);
  }

  private static Command adapt(PrivateChat.Notification notification) {
    return notification instanceof PrivateChat.Identified identified
        ? new ChatIdentified(identified)
        : new ChatEnded((PrivateChat.Ended) notification);
  }

  // Phase: not logged in yet.

  private Behavior<Command> inactive() {
    return Behaviors.receive(Command.class)
        .onMessage(LoggedIn.class, loggedIn -> active(loggedIn.me(), loggedIn.server()))
        .onMessage(AcceptConnection.class, this::refuse)
        .onMessage(CloseAll.class, this::onCloseAll)
        .onAnyMessage(this::ignore)
        .build();
  }

  // Phase: logged in.

  private Behavior<Command> active(String me, ActorRef<ServerRequest> server) {
    return Behaviors.receive(Command.class)
        .onMessage(Start.class, start -> onStart(start, server))
        .onMessage(PeerAddressReceived.class, address -> onPeerAddressReceived(address, me))
        .onMessage(PeerAddressRefused.class, this::onPeerAddressRefused)
        .onMessage(SendPrivate.class, this::onSendPrivate)
        .onMessage(StopPrivate.class, this::onStopPrivate)
        .onMessage(AcceptConnection.class, accept -> onAcceptConnection(accept, me))
        .onMessage(ChatIdentified.class, this::onChatIdentified)
        .onMessage(ChatEnded.class, this::onChatEnded)
        .onMessage(ChatStopped.class, this::onChatStopped)
        .onMessage(CloseAll.class, this::onCloseAll)
        .onAnyMessage(this::ignore)
        .build();
  }

  private Behavior<Command> onStart(Start start, ActorRef<ServerRequest> server) {
    String user = start.user();
    if (chats.containsKey(user) || opening.contains(user)) {
      print(Texts.privateAlreadyEnabled(user));
      server.tell(ReportActivity.INSTANCE);
    } else {
      opening.add(user);
      server.tell(new RequestPeerAddress(user));
    }
    return Behaviors.same();
  }

  private Behavior<Command> onPeerAddressReceived(PeerAddressReceived address, String me) {
    String user = address.user();
    if (!opening.remove(user)) {
      // stopprivate came first: the user no longer wants this chat.
      context.getLog().debug("Not connecting to {}: no longer wanted", user);
      return Behaviors.same();
    }
    Behavior<PrivateChat.Command> chat =
        PrivateChat.connect(
            settings, console, me, user, address.host(), address.port(), chatAdapter);
    chats.put(user, spawn(chat));
    return Behaviors.same();
  }

  private Behavior<Command> onPeerAddressRefused(PeerAddressRefused refused) {
    opening.remove(refused.user());
    return Behaviors.same();
  }

  private Behavior<Command> onSendPrivate(SendPrivate send) {
    ActorRef<PrivateChat.Command> chat = chats.get(send.user());
    if (chat == null) {
      print(Texts.privateNotEnabled(send.user()));
    } else {
      chat.tell(new PrivateChat.Send(send.text()));
    }
    return Behaviors.same();
  }

  private Behavior<Command> onStopPrivate(StopPrivate stop) {
    String user = stop.user();
    ActorRef<PrivateChat.Command> chat = chats.remove(user);
    if (chat != null) {
      chat.tell(new PrivateChat.Stop(Bye.Reason.STOPPED));
    } else if (opening.remove(user)) {
      print(Texts.privateStopped(user));
    } else {
      print(Texts.privateNotEnabled(user));
    }
    return Behaviors.same();
  }

  private Behavior<Command> onAcceptConnection(AcceptConnection accept, String me) {
    spawn(PrivateChat.accept(settings, console, me, accept.connection(), chatAdapter));
    return Behaviors.same();
  }

  private Behavior<Command> onChatIdentified(ChatIdentified identified) {
    String user = identified.identified().user();
    ActorRef<PrivateChat.Command> chat = identified.identified().chat();
    if (!children.contains(chat)) {
      return Behaviors.same();
    }
    if (chats.containsKey(user) || opening.contains(user)) {
      context.getLog().info("Rejecting a second private chat with {}", user);
      chat.tell(PrivateChat.Reject.INSTANCE);
    } else {
      chats.put(user, chat);
      chat.tell(PrivateChat.Accept.INSTANCE);
    }
    return Behaviors.same();
  }

  private Behavior<Command> onChatEnded(ChatEnded notice) {
    // From here on texts for that peer are "not enabled"; the ones already sent are answered
    // by the chat before it sees the release. Only now is the user told the chat ended.
    ActorRef<PrivateChat.Command> chat = notice.ended().chat();
    chats.values().remove(chat);
    notice.ended().farewell().forEach(this::print);
    chat.tell(PrivateChat.Release.INSTANCE);
    return Behaviors.same();
  }

  private Behavior<Command> onChatStopped(ChatStopped stopped) {
    children.remove(stopped.chat());
    chats.values().remove(stopped.chat());
    return Behaviors.same();
  }

  private Behavior<Command> onCloseAll(CloseAll close) {
    chats.clear();
    opening.clear();
    if (children.isEmpty()) {
      close.replyTo().tell(AllClosed.INSTANCE);
      return closed();
    }
    children.forEach(chat -> chat.tell(new PrivateChat.Stop(close.reason())));
    timers.startSingleTimer(CloseTimedOut.INSTANCE, settings.closeTimeout());
    return closing(close.replyTo());
  }

  // Phase: waiting for the chats to stop.

  private Behavior<Command> closing(ActorRef<AllClosed> replyTo) {
    return Behaviors.receive(Command.class)
        .onMessage(ChatStopped.class, stopped -> onChatStoppedWhileClosing(stopped, replyTo))
        .onMessageEquals(CloseTimedOut.INSTANCE, () -> onCloseTimedOut(replyTo))
        .onMessage(AcceptConnection.class, this::refuse)
        .onMessage(ChatIdentified.class, this::rejectLate)
        .onMessage(ChatEnded.class, this::onChatEnded)
        .onMessage(SendPrivate.class, this::refuseSend)
        .onAnyMessage(this::ignore)
        .build();
  }

  private Behavior<Command> onChatStoppedWhileClosing(
      ChatStopped stopped, ActorRef<AllClosed> replyTo) {
    children.remove(stopped.chat());
    if (!children.isEmpty()) {
      return Behaviors.same();
    }
    timers.cancel(CloseTimedOut.INSTANCE);
    replyTo.tell(AllClosed.INSTANCE);
    return closed();
  }

  private Behavior<Command> onCloseTimedOut(ActorRef<AllClosed> replyTo) {
    context.getLog().warn("{} private chats did not close in time", children.size());
    replyTo.tell(AllClosed.INSTANCE);
    return closed();
  }

  // Phase: closed for good.

  private Behavior<Command> closed() {
    return Behaviors.receive(Command.class)
        .onMessage(AcceptConnection.class, this::refuse)
        .onMessage(ChatIdentified.class, this::rejectLate)
        .onMessage(ChatEnded.class, this::onChatEnded)
        .onMessage(CloseAll.class, this::onCloseAllAgain)
        .onMessage(SendPrivate.class, this::refuseSend)
        .onAnyMessage(this::ignore)
        .build();
  }

  private Behavior<Command> onCloseAllAgain(CloseAll close) {
    close.replyTo().tell(AllClosed.INSTANCE);
    return Behaviors.same();
  }

  // Shared

  private ActorRef<PrivateChat.Command> spawn(Behavior<PrivateChat.Command> chat) {
    // Peer names are not valid actor names in general; a counter is.
    ActorRef<PrivateChat.Command> child = context.spawn(chat, "private-chat-" + ++spawned);
    context.watchWith(child, new ChatStopped(child));
    children.add(child);
    return child;
  }

  private Behavior<Command> refuse(AcceptConnection accept) {
    context.getLog().debug("Refusing a private chat from {}", accept.connection().remoteAddress());
    Connections.refuse(accept.connection(), context.getSystem());
    return Behaviors.same();
  }

  private Behavior<Command> rejectLate(ChatIdentified identified) {
    identified.identified().chat().tell(PrivateChat.Reject.INSTANCE);
    return Behaviors.same();
  }

  private Behavior<Command> refuseSend(SendPrivate send) {
    print(Texts.privateNotEnabled(send.user()));
    return Behaviors.same();
  }

  private Behavior<Command> ignore(Command command) {
    context.getLog().debug("Ignoring {}", command);
    return Behaviors.same();
  }

  private void print(String line) {
    console.tell(new Console.Print(line));
  }
}
