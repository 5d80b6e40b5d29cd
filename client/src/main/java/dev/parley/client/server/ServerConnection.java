package dev.parley.client.server;

import akka.Done;
import akka.NotUsed;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.PostStop;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.BehaviorBuilder;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.TimerScheduler;
import akka.japi.Pair;
import akka.stream.javadsl.Keep;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Tcp;
import akka.stream.typed.javadsl.ActorSink;
import dev.parley.client.ClientSettings;
import dev.parley.client.ExitStatus;
import dev.parley.client.chat.PeerListener;
import dev.parley.client.chat.PrivateChats;
import dev.parley.client.command.CommandParser;
import dev.parley.client.command.UserCommand;
import dev.parley.client.console.Console;
import dev.parley.client.net.Connections;
import dev.parley.client.net.Failures;
import dev.parley.client.net.StreamAck;
import dev.parley.client.text.Renderer;
import dev.parley.client.text.Texts;
import dev.parley.protocol.ClientMessage;
import dev.parley.protocol.Inbound;
import dev.parley.protocol.JsonCodec;
import dev.parley.protocol.PeerMessage.Bye;
import dev.parley.protocol.Protocol;
import dev.parley.protocol.ServerMessage;
import dev.parley.protocol.ServerMessage.Goodbye;
import dev.parley.protocol.ServerMessage.LoginAccepted;
import dev.parley.protocol.ServerMessage.LoginFailed;
import dev.parley.protocol.ServerMessage.PasswordRequired;
import dev.parley.protocol.ServerMessage.PeerAddress;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.Deque;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/**
 * The user's session: owns the TCP connection to the server, drives the login dialogue and then the
 * command loop, and shows every frame the server sends.
 *
 * <p>Phases: connecting → binding the {@link PeerListener} on the connection's local address (its
 * port goes into the password frame) → {@code Hello}, then the login dialogue ({@code Username:} →
 * {@code Username}; {@code PasswordRequired} → {@code Password:} → {@code Password}; {@code
 * LoginFailed} asks again) → after {@code LoginAccepted}, the command loop: read a line, parse it
 * ({@link CommandParser}), send the frame or hand private-chat commands to {@link PrivateChats},
 * read the next line at once (replies are shown whenever they come) → finishing. A {@code Goodbye},
 * a lost connection or the end of input leads to finishing: every private chat is closed with the
 * matching reason, the console is closed (last lines shown, a pending read cancelled), and the
 * parent is told {@link Finished} with the exit status.
 *
 * <p>Inbound frames arrive through an {@code ActorSink} with acknowledgements; outbound frames go
 * through a bounded {@code ActorSource}. Commands handled without the server (private messages,
 * usage errors) send {@code NoteActivity}, because the server's idle timer only counts what it
 * receives.
 */
public final class ServerConnection {

  /** Everything the session reacts to; all of it arrives through adapters and streams. */
  public sealed interface Command {}

  /** To the parent: the session is over and the client should exit with {@code exitStatus}. */
  public record Finished(int exitStatus) {}

  /** Who the session works with. */
  public record Collaborators(
      ActorRef<Console.Command> console,
      ActorRef<PrivateChats.Command> chats,
      ActorRef<PeerListener.Command> listener,
      ActorRef<Finished> parent) {}

  private record Connected(InetSocketAddress localAddress) implements Command {}

  private record ConnectFailed(Throwable cause) implements Command {}

  private record StreamStarted(ActorRef<StreamAck> ackTo) implements Command {}

  private record FrameReceived(ActorRef<StreamAck> ackTo, Inbound<ServerMessage> inbound)
      implements Command {}

  private enum StreamCompleted implements Command {
    INSTANCE
  }

  private record StreamFailed(Throwable cause) implements Command {}

  private record ListenerAnswered(PeerListener.ListenResult result) implements Command {}

  private record InputReceived(Console.Input input) implements Command {}

  private record ChatsRequested(PrivateChats.ServerRequest request) implements Command {}

  private enum ChatsClosed implements Command {
    INSTANCE
  }

  private enum ConsoleClosed implements Command {
    INSTANCE
  }

  private enum LogoutTimedOut implements Command {
    INSTANCE
  }

  private static final String START_PRIVATE = "startprivate";

  public static Behavior<Command> create(
      ClientSettings settings, String host, int port, Collaborators collaborators) {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers ->
                    new ServerConnection(context, timers, settings, host, port, collaborators)
                        .connecting()));
  }

  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  private final ClientSettings settings;
  private final String host;
  private final int port;
  private final ActorRef<Console.Command> console;
  private final ActorRef<PrivateChats.Command> chats;
  private final ActorRef<PeerListener.Command> listener;
  private final ActorRef<Finished> parent;
  private final ActorRef<Console.Input> inputAdapter;
  private final ActorRef<PeerListener.ListenResult> listenerAdapter;
  private final ActorRef<PrivateChats.ServerRequest> chatsAdapter;
  private final ActorRef<PrivateChats.AllClosed> chatsClosedAdapter;
  private final ActorRef<Done> consoleClosedAdapter;
  private final Connections.Link<ClientMessage> link;

  /** startprivate requests sent and not answered yet: the server answers in order. */
  private final Deque<String> pendingPeerAddresses = new ArrayDeque<>();

  private ServerConnection(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      ClientSettings settings,
      String host,
      int port,
      Collaborators collaborators) {
    this.context = context;
    this.timers = timers;
    this.settings = settings;
    this.host = host;
    this.port = port;
    this.console = collaborators.console();
    this.chats = collaborators.chats();
    this.listener = collaborators.listener();
    this.parent = collaborators.parent();
    this.inputAdapter = context.messageAdapter(Console.Input.class, InputReceived::new);
    this.listenerAdapter =
        context.messageAdapter(PeerListener.ListenResult.class, ListenerAnswered::new);
    this.chatsAdapter =
        context.messageAdapter(PrivateChats.ServerRequest.class, ChatsRequested::new);
    this.chatsClosedAdapter =
        context.messageAdapter(PrivateChats.AllClosed.class, closed -> ChatsClosed.INSTANCE);
    this.consoleClosedAdapter = context.messageAdapter(Done.class, done -> ConsoleClosed.INSTANCE);

    Sink<Inbound<ServerMessage>, NotUsed> receiver =
        ActorSink.actorRefWithBackpressure(
            context.getSelf(),
            FrameReceived::new,
            StreamStarted::new,
            StreamAck.INSTANCE,
            StreamCompleted.INSTANCE,
            StreamFailed::new);
    Pair<CompletionStage<Tcp.OutgoingConnection>, Connections.Link<ClientMessage>> running =
        Tcp.get(context.getSystem())
            .outgoingConnection(
                InetSocketAddress.createUnresolved(host, port),
                Optional.empty(),
                Collections.emptyList(),
                false,
                Optional.of(settings.connectTimeout()),
                Optional.empty())
            .joinMat(
                Connections.protocolFlow(
                    JsonCodec.SERVER,
                    JsonCodec.CLIENT,
                    settings.maxFrameBytes(),
                    settings.outboundBuffer(),
                    receiver,
                    frame -> false),
                Keep.both())
            .run(context.getSystem());
    this.link = running.second();
    context.pipeToSelf(
        running.first(),
        (connection, failure) ->
            failure == null
                ? new Connected(connection.localAddress())
                : new ConnectFailed(failure));
  }

  // Phase: opening the TCP connection.

  private Behavior<Command> connecting() {
    return session(
        Behaviors.receive(Command.class)
            .onMessage(Connected.class, this::onConnected)
            .onMessage(ConnectFailed.class, failed -> cannotConnect(failed.cause()))
            // Before the connection is up, a failed stream is a failed connect.
            .onMessage(StreamFailed.class, failed -> cannotConnect(failed.cause())),
        this::unexpected);
  }

  private Behavior<Command> onConnected(Connected connected) {
    String bindHost =
        settings
            .peerBindHostOverride()
            .orElseGet(() -> connected.localAddress().getAddress().getHostAddress());
    context.getLog().info("Connected to {}:{} from {}", host, port, connected.localAddress());
    listener.tell(new PeerListener.Listen(bindHost, listenerAdapter));
    return binding();
  }

  private Behavior<Command> cannotConnect(Throwable cause) {
    context.getLog().warn("Cannot connect to {}:{}: {}", host, port, cause.toString());
    print(Texts.cannotConnect(host, port, Failures.describe(cause)));
    return finish(ExitStatus.CONNECTION, Bye.Reason.DISCONNECTED);
  }

  // Phase: starting the peer listener, whose port the login needs.

  private Behavior<Command> binding() {
    return session(
        Behaviors.receive(Command.class)
            .onMessage(ListenerAnswered.class, answered -> onListenerAnswered(answered.result())),
        this::unexpected);
  }

  private Behavior<Command> onListenerAnswered(PeerListener.ListenResult result) {
    if (result instanceof PeerListener.Listening listening) {
      send(new ClientMessage.Hello(Protocol.VERSION));
      return askUsername(listening.address().getPort());
    }
    PeerListener.ListenFailed failed = (PeerListener.ListenFailed) result;
    print(Texts.cannotListen(failed.host(), failed.reason()));
    return finish(ExitStatus.CONNECTION, Bye.Reason.DISCONNECTED);
  }

  // Phases: the login dialogue.

  private Behavior<Command> askUsername(int peerPort) {
    console.tell(new Console.ReadLine(Texts.USERNAME_PROMPT, false, inputAdapter));
    return session(
        Behaviors.receive(Command.class)
            .onMessage(InputReceived.class, input -> onUsernameInput(input.input(), peerPort)),
        this::unexpected);
  }

  private Behavior<Command> onUsernameInput(Console.Input input, int peerPort) {
    if (!(input instanceof Console.LineRead line)) {
      return quit();
    }
    String username = line.text().strip();
    if (username.isEmpty()) {
      return askUsername(peerPort);
    }
    send(new ClientMessage.Username(username));
    return session(
        Behaviors.receive(Command.class), frame -> onLoginReply(frame, peerPort, username));
  }

  private Behavior<Command> askPassword(int peerPort, String username) {
    console.tell(new Console.ReadLine(Texts.PASSWORD_PROMPT, true, inputAdapter));
    return session(
        Behaviors.receive(Command.class)
            .onMessage(
                InputReceived.class, input -> onPasswordInput(input.input(), peerPort, username)),
        this::unexpected);
  }

  private Behavior<Command> onPasswordInput(Console.Input input, int peerPort, String username) {
    if (!(input instanceof Console.LineRead line)) {
      return quit();
    }
    if (line.text().isBlank()) {
      return askPassword(peerPort, username);
    }
    send(new ClientMessage.Password(line.text(), peerPort));
    return session(
        Behaviors.receive(Command.class), frame -> onLoginReply(frame, peerPort, username));
  }

  private Behavior<Command> onLoginReply(ServerMessage frame, int peerPort, String username) {
    if (frame instanceof PasswordRequired) {
      return askPassword(peerPort, username);
    } else if (frame instanceof LoginFailed failed) {
      return switch (failed.reason()) {
        case INVALID_PASSWORD -> {
          print(Texts.INVALID_PASSWORD);
          yield askPassword(peerPort, username);
        }
        case UNKNOWN_USER -> {
          print(Texts.unknownUsername(username));
          yield askUsername(peerPort);
        }
        case ALREADY_ONLINE -> {
          print(Texts.alreadyLoggedIn(username));
          yield askUsername(peerPort);
        }
      };
    } else if (frame instanceof LoginAccepted accepted) {
      return loggedIn(accepted.username());
    }
    return unexpected(frame);
  }

  private Behavior<Command> quit() {
    context.getLog().info("Input ended before login");
    return finish(ExitStatus.OK, Bye.Reason.LOGGED_OUT);
  }

  // Phase: logged in, reading commands.

  private Behavior<Command> loggedIn(String me) {
    context.getLog().info("Logged in as {}", me);
    print(Texts.WELCOME);
    chats.tell(new PrivateChats.LoggedIn(me, chatsAdapter));
    console.tell(new Console.ReadCommand(inputAdapter));
    return session(
        Behaviors.receive(Command.class)
            .onMessage(InputReceived.class, input -> onCommandInput(input.input()))
            .onMessage(ChatsRequested.class, this::onChatsRequested),
        this::onSessionFrame);
  }

  private Behavior<Command> onCommandInput(Console.Input input) {
    if (!(input instanceof Console.LineRead line)) {
      return logout();
    }
    UserCommand command = CommandParser.parse(line.text());
    if (command instanceof UserCommand.Logout) {
      return logout();
    }
    carryOut(command);
    console.tell(new Console.ReadCommand(inputAdapter));
    return Behaviors.same();
  }

  private void carryOut(UserCommand command) {
    if (command instanceof UserCommand.Message m) {
      send(new ClientMessage.SendMessage(m.user(), m.text()));
    } else if (command instanceof UserCommand.Broadcast b) {
      send(new ClientMessage.Broadcast(b.text()));
    } else if (command instanceof UserCommand.WhoElse) {
      send(new ClientMessage.WhoElse());
    } else if (command instanceof UserCommand.WhoElseSince w) {
      send(new ClientMessage.WhoElseSince(w.seconds()));
    } else if (command instanceof UserCommand.Block b) {
      send(new ClientMessage.Block(b.user()));
    } else if (command instanceof UserCommand.Unblock u) {
      send(new ClientMessage.Unblock(u.user()));
    } else if (command instanceof UserCommand.StartPrivate s) {
      // PrivateChats answers with a server request either way (address or activity).
      chats.tell(new PrivateChats.Start(s.user()));
    } else if (command instanceof UserCommand.Private p) {
      chats.tell(new PrivateChats.SendPrivate(p.user(), p.text()));
      send(new ClientMessage.NoteActivity());
    } else if (command instanceof UserCommand.StopPrivate s) {
      chats.tell(new PrivateChats.StopPrivate(s.user()));
      send(new ClientMessage.NoteActivity());
    } else if (command instanceof UserCommand.Help) {
      Texts.HELP.forEach(this::print);
      send(new ClientMessage.NoteActivity());
    } else if (command instanceof UserCommand.Rejected rejected) {
      print(rejected.error());
      send(new ClientMessage.NoteActivity());
    }
    // A blank line is no command at all, and no activity either.
  }

  private Behavior<Command> onChatsRequested(ChatsRequested requested) {
    if (requested.request() instanceof PrivateChats.RequestPeerAddress address) {
      pendingPeerAddresses.add(address.user());
      send(new ClientMessage.StartPrivate(address.user()));
    } else {
      send(new ClientMessage.NoteActivity());
    }
    return Behaviors.same();
  }

  private Behavior<Command> onSessionFrame(ServerMessage frame) {
    if (frame instanceof PeerAddress address) {
      String requested = pendingPeerAddresses.poll();
      if (requested == null) {
        context.getLog().warn("Unrequested peer address for {}", address.user());
      } else {
        chats.tell(new PrivateChats.PeerAddressReceived(requested, address.host(), address.port()));
      }
      return Behaviors.same();
    }
    if (frame instanceof ServerMessage.Error error && START_PRIVATE.equals(error.command())) {
      String requested = pendingPeerAddresses.poll();
      if (requested != null) {
        chats.tell(new PrivateChats.PeerAddressRefused(requested));
      }
    }
    Renderer.render(frame).forEach(this::print);
    return Behaviors.same();
  }

  private Behavior<Command> logout() {
    timers.startSingleTimer(LogoutTimedOut.INSTANCE, settings.logoutTimeout());
    send(new ClientMessage.Logout());
    return session(
        Behaviors.receive(Command.class)
            .onMessageEquals(LogoutTimedOut.INSTANCE, () -> loggedOutWithoutGoodbye("timeout"))
            // Closing instead of saying goodbye still does what the user asked for.
            .onMessageEquals(StreamCompleted.INSTANCE, () -> loggedOutWithoutGoodbye("close"))
            .onMessage(StreamFailed.class, failed -> loggedOutWithoutGoodbye("failure")),
        this::onSessionFrame);
  }

  private Behavior<Command> loggedOutWithoutGoodbye(String ending) {
    context.getLog().warn("No goodbye from the server after logout ({}); exiting anyway", ending);
    print(Texts.goodbye(Goodbye.Reason.LOGGED_OUT));
    return finish(ExitStatus.OK, Bye.Reason.LOGGED_OUT);
  }

  // Shared by every phase until finishing.

  /**
   * Completes a phase's behavior with what every phase before the end does: acknowledge and
   * dispatch inbound frames (a goodbye ends the session whatever the phase; the rest goes to {@code
   * onFrame}), and treat the end of the stream as a lost connection.
   */
  private Behavior<Command> session(
      BehaviorBuilder<Command> phase, Function<ServerMessage, Behavior<Command>> onFrame) {
    return phase
        .onMessage(FrameReceived.class, received -> onFrameReceived(received, onFrame))
        .onMessage(StreamStarted.class, this::onStreamStarted)
        .onMessageEquals(StreamCompleted.INSTANCE, this::connectionLost)
        .onMessage(StreamFailed.class, failed -> connectionLost())
        .onSignal(PostStop.class, signal -> onPostStop())
        .onAnyMessage(this::stale)
        .build();
  }

  private Behavior<Command> onFrameReceived(
      FrameReceived received, Function<ServerMessage, Behavior<Command>> onFrame) {
    received.ackTo().tell(StreamAck.INSTANCE);
    Inbound<ServerMessage> inbound = received.inbound();
    if (inbound instanceof Inbound.Frame<ServerMessage> frame) {
      context.getLog().debug("Received {}", frame.frame());
      return frame.frame() instanceof Goodbye goodbye
          ? onGoodbye(goodbye)
          : onFrame.apply(frame.frame());
    }
    // Bad input from the server is not worth ending the session for; an oversized line ends
    // the stream by itself.
    context.getLog().warn("Unreadable frame from the server: {}", inbound);
    return Behaviors.same();
  }

  private Behavior<Command> onGoodbye(Goodbye goodbye) {
    context.getLog().info("The server said goodbye: {}", goodbye.reason());
    print(Texts.goodbye(goodbye.reason()));
    Bye.Reason byeReason =
        switch (goodbye.reason()) {
          case LOGGED_OUT -> Bye.Reason.LOGGED_OUT;
          case TIMED_OUT -> Bye.Reason.TIMED_OUT;
          default -> Bye.Reason.DISCONNECTED;
        };
    return finish(ExitStatus.forGoodbye(goodbye.reason()), byeReason);
  }

  private Behavior<Command> connectionLost() {
    context.getLog().warn("Lost the connection to {}:{}", host, port);
    print(Texts.CONNECTION_LOST);
    return finish(ExitStatus.CONNECTION, Bye.Reason.DISCONNECTED);
  }

  private Behavior<Command> unexpected(ServerMessage frame) {
    if (!(frame instanceof ServerMessage.Hello)) {
      context.getLog().warn("Unexpected frame from the server now: {}", frame);
    }
    return Behaviors.same();
  }

  private Behavior<Command> stale(Command command) {
    // Late answers from a phase already left (a read, a listener reply): nothing to do.
    context.getLog().debug("Ignoring {}", command);
    return Behaviors.same();
  }

  // Phase: the session is over; closing up before telling the parent.

  private Behavior<Command> finish(int exitStatus, Bye.Reason reason) {
    timers.cancelAll();
    chats.tell(new PrivateChats.CloseAll(reason, chatsClosedAdapter));
    return Behaviors.receive(Command.class)
        .onMessageEquals(ChatsClosed.INSTANCE, this::onChatsClosed)
        .onMessageEquals(ConsoleClosed.INSTANCE, () -> onConsoleClosed(exitStatus))
        .onMessage(FrameReceived.class, this::discard)
        .onMessage(StreamStarted.class, this::onStreamStarted)
        .onSignal(PostStop.class, signal -> onPostStop())
        .onAnyMessage(this::stale)
        .build();
  }

  private Behavior<Command> onChatsClosed() {
    // The chats' last lines are in the console's mailbox already; this goes after them.
    console.tell(new Console.Close(consoleClosedAdapter));
    return Behaviors.same();
  }

  private Behavior<Command> onConsoleClosed(int exitStatus) {
    link.killSwitch().shutdown();
    context.getLog().info("Session finished with exit status {}", exitStatus);
    parent.tell(new Finished(exitStatus));
    return Behaviors.receive(Command.class)
        .onMessage(FrameReceived.class, this::discard)
        .onMessage(StreamStarted.class, this::onStreamStarted)
        .onAnyMessage(this::stale)
        .build();
  }

  private Behavior<Command> discard(FrameReceived received) {
    received.ackTo().tell(StreamAck.INSTANCE);
    return Behaviors.same();
  }

  private Behavior<Command> onStreamStarted(StreamStarted started) {
    started.ackTo().tell(StreamAck.INSTANCE);
    return Behaviors.same();
  }

  private Behavior<Command> onPostStop() {
    link.killSwitch().shutdown();
    return Behaviors.same();
  }

  private void send(ClientMessage frame) {
    context.getLog().debug("Sending {}", frame);
    link.outbound().tell(frame);
  }

  private void print(String line) {
    console.tell(new Console.Print(line));
  }
}
