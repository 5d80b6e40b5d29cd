package dev.parley.server.session;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.BehaviorBuilder;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.TimerScheduler;
import akka.stream.BufferOverflowException;
import dev.parley.protocol.ClientMessage;
import dev.parley.protocol.Inbound;
import dev.parley.protocol.Protocol;
import dev.parley.protocol.ServerMessage;
import dev.parley.protocol.ServerMessage.Error.Code;
import dev.parley.protocol.ServerMessage.Goodbye.Reason;
import dev.parley.protocol.ServerMessage.LoginFailed;
import dev.parley.server.ServerSettings;
import dev.parley.server.broadcast.Broadcaster;
import dev.parley.server.login.LoginGuard;
import dev.parley.server.login.LoginGuard.PasswordVerdict;
import dev.parley.server.login.LoginGuard.UsernameVerdict;
import dev.parley.server.registry.UserRegistry;
import dev.parley.server.registry.UserRegistry.Registration;
import java.net.InetSocketAddress;
import java.util.function.Function;

/**
 * One client connection, as a phased state machine: handshake (expects {@code hello}) → awaiting
 * username → awaiting password → active → closing. It owns the login and idle timers, turns the
 * client's frames into requests to the {@link LoginGuard}, {@link UserRegistry} and {@link
 * Broadcaster}, and writes their answers to the connection's outbound queue.
 *
 * <p>Inbound frames arrive through the stream protocol ({@link StreamStarted}, {@link
 * FrameReceived}, {@link StreamCompleted}, {@link StreamFailed}) with backpressure: the session
 * acknowledges a frame only once the request it caused has been answered, so each connection has at
 * most one request in flight, its commands are answered in order, and a client that sends faster
 * than the server handles its commands is slowed down by TCP instead of filling mailboxes.
 *
 * <p>Outbound frames go to the connection's {@code outbox}, a bounded queue in front of the socket;
 * the registry and broadcaster write events (messages, presence) to it directly. {@link
 * ServerMessage.Goodbye} is always the last frame: writing it closes the connection.
 */
public final class Session {

  /** What a session understands. */
  public sealed interface Command {}

  /** The inbound stream is ready; frames follow, one per {@link StreamAck}. */
  public record StreamStarted(ActorRef<StreamAck> ackTo) implements Command {}

  /** One decoded line from the client; answer with a {@link StreamAck} to get the next. */
  public record FrameReceived(ActorRef<StreamAck> ackTo, Inbound<ClientMessage> inbound)
      implements Command {}

  /** The client closed its side of the connection, or the connection was closed. */
  public enum StreamCompleted implements Command {
    INSTANCE
  }

  /** The connection broke (reset, or the outbound queue overflowed). */
  public record StreamFailed(Throwable cause) implements Command {}

  /** The server is shutting down: say goodbye and close. */
  public enum Shutdown implements Command {
    INSTANCE
  }

  /** Sent to the inbound stream to ask for the next frame. */
  public enum StreamAck {
    INSTANCE
  }

  /** The actors a session works with. */
  public record Services(
      ActorRef<UserRegistry.Command> registry,
      ActorRef<LoginGuard.Command> loginGuard,
      ActorRef<Broadcaster.Command> broadcaster) {}

  private record Replied(ServerMessage reply) implements Command {}

  private record UsernameChecked(UsernameVerdict verdict) implements Command {}

  private record PasswordChecked(PasswordVerdict verdict) implements Command {}

  private record RegistrationAnswered(Registration registration) implements Command {}

  private enum LoginTimedOut implements Command {
    INSTANCE
  }

  private enum IdleTimedOut implements Command {
    INSTANCE
  }

  private enum CloseTimedOut implements Command {
    INSTANCE
  }

  private static final String LOGIN_TIMER = "login";
  private static final String IDLE_TIMER = "idle";
  private static final String CLOSE_TIMER = "close";
  private static final String SERVER_NAME = "parley";
  /** The wire type of a direct message, as error replies name it. */
  private static final String MESSAGE = "message";

  /**
   * @param remote where the client's connection comes from
   * @param connect attaches the connection to the new session and returns its outbound queue; it is
   *     given the session's own reference, to which the inbound stream must deliver
   */
  public static Behavior<Command> create(
      ServerSettings settings,
      Services services,
      InetSocketAddress remote,
      Function<ActorRef<Command>, ActorRef<ServerMessage>> connect) {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers ->
                    new Session(context, timers, settings, services, remote, connect).handshake()));
  }

  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  private final ServerSettings settings;
  private final Services services;
  private final InetSocketAddress remote;
  private final ActorRef<ServerMessage> outbox;
  private final ActorRef<ServerMessage> replies;
  private final ActorRef<UsernameVerdict> usernameVerdicts;
  private final ActorRef<PasswordVerdict> passwordVerdicts;
  private final ActorRef<Registration> registrations;

  /** Where to acknowledge the frame being handled; null until the stream has started. */
  private ActorRef<StreamAck> inbound;

  /** The logged-in user; null until the registry has admitted this session. */
  private String user;

  /** The user the registry is being asked to admit; null when no registration is in flight. */
  private String registering;
  /** {@code message} commands sent to the registry and not answered yet. */
  private int messagesInFlight;
  /** A command that waits for the messages ahead of it to be answered; null if none. */
  private ClientMessage heldFrame;
  /** The message window was full: the next frame is taken once a message is answered. */
  private boolean ackOwed;

  private int badFrames;

  private Session(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      ServerSettings settings,
      Services services,
      InetSocketAddress remote,
      Function<ActorRef<Command>, ActorRef<ServerMessage>> connect) {
    this.context = context;
    this.timers = timers;
    this.settings = settings;
    this.services = services;
    this.remote = remote;
    this.replies = context.messageAdapter(ServerMessage.class, Replied::new);
    this.usernameVerdicts = context.messageAdapter(UsernameVerdict.class, UsernameChecked::new);
    this.passwordVerdicts = context.messageAdapter(PasswordVerdict.class, PasswordChecked::new);
    this.registrations = context.messageAdapter(Registration.class, RegistrationAnswered::new);
    this.outbox = connect.apply(context.getSelf());
    timers.startSingleTimer(LOGIN_TIMER, LoginTimedOut.INSTANCE, settings.loginTimeout());
  }

  // ---- phases ----

  /** Waiting for the client's {@code hello}. */
  private Behavior<Command> handshake() {
    return frames(
            frame -> {
              if (!(frame instanceof ClientMessage.Hello hello)) {
                return unexpected(frame);
              }
              if (hello.version() < Protocol.MIN_VERSION || hello.version() > Protocol.VERSION) {
                context
                    .getLog()
                    .warn("unsupported protocol remote={} version={}", remote, hello.version());
                return close(Reason.UNSUPPORTED_VERSION);
              }
              outbox.tell(new ServerMessage.Hello(Protocol.VERSION, SERVER_NAME));
              ack();
              return awaitingUsername();
            })
        .build();
  }

  /** Login step one. */
  private Behavior<Command> awaitingUsername() {
    return frames(
            frame -> {
              if (!(frame instanceof ClientMessage.Username login)) {
                return unexpected(frame);
              }
              services
                  .loginGuard()
                  .tell(new LoginGuard.CheckUsername(login.username(), usernameVerdicts));
              return checkingUsername(login.username());
            })
        .build();
  }

  private Behavior<Command> checkingUsername(String username) {
    return loginPhase()
        .onMessage(
            UsernameChecked.class,
            checked ->
                switch (checked.verdict()) {
                  case PASSWORD_REQUIRED -> {
                    outbox.tell(new ServerMessage.PasswordRequired(username));
                    ack();
                    yield awaitingPassword(username);
                  }
                  case UNKNOWN_USER -> loginFailed(LoginFailed.Reason.UNKNOWN_USER, username);
                  case ALREADY_ONLINE -> loginFailed(LoginFailed.Reason.ALREADY_ONLINE, username);
                  case BLOCKED -> close(Reason.ACCOUNT_BLOCKED);
                })
        .build();
  }

  /** Login step two: the username is known and may log in. */
  private Behavior<Command> awaitingPassword(String username) {
    return frames(
            frame -> {
              if (!(frame instanceof ClientMessage.Password password)) {
                return unexpected(frame);
              }
              services
                  .loginGuard()
                  .tell(
                      new LoginGuard.Authenticate(username, password.password(), passwordVerdicts));
              return authenticating(username, password.peerPort());
            })
        .build();
  }

  private Behavior<Command> authenticating(String username, int peerPort) {
    return loginPhase()
        .onMessage(
            PasswordChecked.class,
            checked ->
                switch (checked.verdict()) {
                  case AUTHENTICATED -> {
                    services
                        .registry()
                        .tell(
                            new UserRegistry.Register(
                                username,
                                context.getSelf(),
                                outbox,
                                remote.getAddress().getHostAddress(),
                                peerPort,
                                registrations));
                    registering = username;
                    yield registering(username);
                  }
                  case INVALID_PASSWORD -> {
                    outbox.tell(new LoginFailed(LoginFailed.Reason.INVALID_PASSWORD, username));
                    ack();
                    yield awaitingPassword(username);
                  }
                  case UNKNOWN_USER -> loginFailed(LoginFailed.Reason.UNKNOWN_USER, username);
                  case BLOCKED_NOW -> close(Reason.ACCOUNT_LOCKED);
                  case BLOCKED -> close(Reason.ACCOUNT_BLOCKED);
                  case UNAVAILABLE -> close(Reason.SERVER_BUSY);
                })
        .build();
  }

  private Behavior<Command> registering(String username) {
    return loginPhase()
        .onMessage(
            RegistrationAnswered.class,
            answer -> {
              registering = null;
              if (answer.registration() == Registration.ALREADY_ONLINE) {
                return loginFailed(LoginFailed.Reason.ALREADY_ONLINE, username);
              }
              // The registry has written the welcome and any kept messages to the outbox.
              user = username;
              timers.cancel(LOGIN_TIMER);
              restartIdleTimer();
              ack();
              return active();
            })
        .build();
  }

  /** Logged in: commands, one at a time. */
  private Behavior<Command> active() {
    return frames(this::onCommand)
        .onMessage(Replied.class, this::onReplied)
        .onMessage(
            IdleTimedOut.class,
            timeout -> {
              context
                  .getLog()
                  .info("session idle user={} after={}s", user, settings.idleTimeout().toSeconds());
              return close(Reason.TIMED_OUT);
            })
        .build();
  }

  /** Goodbye written; waiting for the connection to finish writing it and close. */
  private Behavior<Command> closing() {
    return Behaviors.receive(Command.class)
        .onMessage(
            RegistrationAnswered.class,
            answer -> {
              // Closed while the registry was admitting us: leave again at once, or messages for
              // the user would be handed to a connection that is already saying goodbye.
              if (answer.registration() == Registration.REGISTERED && registering != null) {
                services
                    .registry()
                    .tell(new UserRegistry.Unregister(registering, context.getSelf()));
              }
              registering = null;
              return Behaviors.same();
            })
        .onMessage(StreamCompleted.class, done -> Behaviors.stopped())
        .onMessage(StreamFailed.class, failed -> Behaviors.stopped())
        .onMessage(CloseTimedOut.class, timeout -> Behaviors.stopped())
        .onAnyMessage(ignored -> Behaviors.same())
        .build();
  }

  // ---- handlers ----

  /**
   * A command from the logged-in user. Most wait for their answer before the next frame is read;
   * {@code message} commands may run ahead, up to the message window, since writing them to the
   * store takes a commit and the registry answers one connection's messages in order. Any other
   * command waits for the messages ahead of it, so that replies always come in command order.
   */
  private Behavior<Command> onCommand(ClientMessage frame) {
    String username = user;
    ActorRef<UserRegistry.Command> registry = services.registry();
    if (frame instanceof ClientMessage.Acknowledge acknowledge) {
      // Sent by the client on its own as messages arrive: not the user's activity, and not
      // answered.
      registry.tell(new UserRegistry.Acknowledge(username, acknowledge.seq()));
      ack();
      return Behaviors.same();
    }
    if (messagesInFlight > 0 && !(frame instanceof ClientMessage.SendMessage)) {
      heldFrame = frame;
      return Behaviors.same();
    }
    restartIdleTimer();
    if (frame instanceof ClientMessage.SendMessage message) {
      messagesInFlight++;
      registry.tell(
          new UserRegistry.SendDirect(
              username, message.to(), message.text(), message.id(), replies));
      if (messagesInFlight < settings.messageWindow()) {
        ack();
      } else {
        ackOwed = true;
      }
    } else if (frame instanceof ClientMessage.Broadcast broadcast) {
      services.broadcaster().tell(new Broadcaster.Broadcast(username, broadcast.text(), replies));
    } else if (frame instanceof ClientMessage.WhoElse) {
      registry.tell(new UserRegistry.ListOnline(username, replies));
    } else if (frame instanceof ClientMessage.WhoElseSince since) {
      registry.tell(new UserRegistry.ListRecent(username, since.seconds(), replies));
    } else if (frame instanceof ClientMessage.Block block) {
      registry.tell(new UserRegistry.Block(username, block.user(), replies));
    } else if (frame instanceof ClientMessage.Unblock unblock) {
      registry.tell(new UserRegistry.Unblock(username, unblock.user(), replies));
    } else if (frame instanceof ClientMessage.StartPrivate start) {
      registry.tell(new UserRegistry.LocatePeer(username, start.user(), replies));
    } else if (frame instanceof ClientMessage.NoteActivity) {
      outbox.tell(new ServerMessage.ActivityNoted());
      ack();
    } else if (frame instanceof ClientMessage.Logout) {
      return close(Reason.LOGGED_OUT);
    } else {
      return unexpected(frame);
    }
    return Behaviors.same();
  }

  private Behavior<Command> onReplied(Replied replied) {
    ServerMessage reply = replied.reply();
    outbox.tell(reply);
    if (!answersAMessage(reply)) {
      ack();
      return Behaviors.same();
    }
    messagesInFlight--;
    if (heldFrame != null) {
      if (messagesInFlight > 0) {
        return Behaviors.same();
      }
      ClientMessage held = heldFrame;
      heldFrame = null;
      return onCommand(held);
    }
    if (ackOwed) {
      ackOwed = false;
      ack();
    }
    return Behaviors.same();
  }

  private static boolean answersAMessage(ServerMessage reply) {
    return reply instanceof ServerMessage.MessageAccepted
        || (reply instanceof ServerMessage.Error error && MESSAGE.equals(error.command()));
  }

  /**
   * The handlers every phase before {@link #closing()} shares around {@code onFrame}: bad input,
   * the end of the connection, timeouts and server shutdown.
   */
  private BehaviorBuilder<Command> frames(Function<ClientMessage, Behavior<Command>> onFrame) {
    return Behaviors.receive(Command.class)
        .onMessage(
            StreamStarted.class,
            started -> {
              inbound = started.ackTo();
              ack();
              return Behaviors.same();
            })
        .onMessage(
            FrameReceived.class,
            received -> {
              inbound = received.ackTo();
              Inbound<ClientMessage> in = received.inbound();
              if (in instanceof Inbound.Frame<ClientMessage> frame) {
                return onFrame.apply(frame.frame());
              } else if (in instanceof Inbound.Malformed<ClientMessage> malformed) {
                return badFrame(Code.MALFORMED_FRAME, null, malformed.reason());
              } else if (in instanceof Inbound.UnknownType<ClientMessage> unknown) {
                return badFrame(Code.UNKNOWN_FRAME, null, unknown.type());
              } else {
                context
                    .getLog()
                    .warn(
                        "frame too long remote={} user={} limit={}",
                        remote,
                        user,
                        settings.maxFrameBytes());
                return close(Reason.FRAME_TOO_LONG);
              }
            })
        .onMessage(
            StreamCompleted.class,
            done -> {
              if (user != null) {
                context
                    .getLog()
                    .warn("connection closed without logout remote={} user={}", remote, user);
              } else {
                context.getLog().info("connection closed before login remote={}", remote);
              }
              return disconnected();
            })
        .onMessage(
            StreamFailed.class,
            failed -> {
              if (failed.cause() instanceof BufferOverflowException) {
                context
                    .getLog()
                    .warn("client too slow, disconnected remote={} user={}", remote, user);
              } else {
                context
                    .getLog()
                    .warn(
                        "connection failed remote={} user={} cause={}",
                        remote,
                        user,
                        failed.cause().toString());
              }
              return disconnected();
            })
        .onMessage(
            LoginTimedOut.class,
            timeout -> {
              context.getLog().info("login timed out remote={}", remote);
              return close(Reason.TIMED_OUT);
            })
        .onMessage(Shutdown.class, shutdown -> close(Reason.SERVER_SHUTDOWN));
  }

  /** A waiting phase of the login: the same shared handlers, and no frames are expected. */
  private BehaviorBuilder<Command> loginPhase() {
    return frames(this::unexpected);
  }

  // ---- helpers ----

  private Behavior<Command> loginFailed(LoginFailed.Reason reason, String username) {
    outbox.tell(new LoginFailed(reason, username));
    ack();
    return awaitingUsername();
  }

  private Behavior<Command> unexpected(ClientMessage frame) {
    return badFrame(Code.UNEXPECTED_FRAME, frame.typeName(), null);
  }

  /** Answers a frame that could not be used; too many of them end the connection. */
  private Behavior<Command> badFrame(Code code, String command, String detail) {
    badFrames++;
    context
        .getLog()
        .warn(
            "bad frame remote={} user={} code={} detail={} count={}",
            remote,
            user,
            code,
            detail,
            badFrames);
    if (badFrames >= settings.maxBadFrames()) {
      return close(Reason.PROTOCOL_VIOLATION);
    }
    outbox.tell(new ServerMessage.Error(code, command, detail));
    ack();
    return Behaviors.same();
  }

  /**
   * Ends the session from the server's side: leave the registry if logged in (so that messages sent
   * from now on are kept for the user), then say goodbye.
   */
  private Behavior<Command> close(Reason reason) {
    context.getLog().debug("session closing remote={} user={} reason={}", remote, user, reason);
    leaveRegistry();
    timers.cancelAll();
    outbox.tell(new ServerMessage.Goodbye(reason));
    timers.startSingleTimer(CLOSE_TIMER, CloseTimedOut.INSTANCE, settings.closeTimeout());
    return closing();
  }

  /** The connection ended without a goodbye from the server. */
  private Behavior<Command> disconnected() {
    leaveRegistry();
    return Behaviors.stopped();
  }

  private void leaveRegistry() {
    if (user != null) {
      services.registry().tell(new UserRegistry.Unregister(user, context.getSelf()));
      user = null;
    }
  }

  private void restartIdleTimer() {
    timers.startSingleTimer(IDLE_TIMER, IdleTimedOut.INSTANCE, settings.idleTimeout());
  }

  private void ack() {
    if (inbound != null) {
      inbound.tell(StreamAck.INSTANCE);
    }
  }
}
