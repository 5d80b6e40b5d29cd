package dev.parley.client.server;

import akka.Done;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.DispatcherSelector;
import akka.actor.typed.PostStop;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.BehaviorBuilder;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.TimerScheduler;
import dev.parley.client.ClientSettings;
import dev.parley.client.ExitStatus;
import dev.parley.client.chat.PeerListener;
import dev.parley.client.chat.PrivateChats;
import dev.parley.client.command.CommandParser;
import dev.parley.client.command.UserCommand;
import dev.parley.client.console.Console;
import dev.parley.client.text.Renderer;
import dev.parley.client.text.Texts;
import dev.parley.client.tls.LazySecurity;
import dev.parley.client.tls.Security;
import dev.parley.protocol.ClientMessage;
import dev.parley.protocol.Inbound;
import dev.parley.protocol.PeerMessage.Bye;
import dev.parley.protocol.Protocol;
import dev.parley.protocol.ServerMessage;
import dev.parley.protocol.ServerMessage.Goodbye;
import dev.parley.protocol.ServerMessage.LoginAccepted;
import dev.parley.protocol.ServerMessage.LoginFailed;
import dev.parley.protocol.ServerMessage.MessageAccepted;
import dev.parley.protocol.ServerMessage.MessageReceived;
import dev.parley.protocol.ServerMessage.PasswordRequired;
import dev.parley.protocol.ServerMessage.PeerAddress;
import dev.parley.protocol.ServerMessage.PeerInvited;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The user's session with the server: owns the connection to it ({@link ServerLink}), drives the
 * login dialogue and then the command loop, shows every frame the server sends, and keeps the
 * session going when the connection is lost.
 *
 * <p>Phases: (over TLS) making the identity, which the handshake presents → connecting → binding
 * the {@link PeerListener} on the connection's local address (its port goes into the password
 * frame) → {@code Hello}, then the login dialogue ({@code Username:} → {@code Username}; {@code
 * PasswordRequired} → {@code Password:} → {@code Password}, once the identity whose fingerprint it
 * carries is made; {@code LoginFailed} asks again) → after {@code LoginAccepted}, active: read a
 * line, parse it ({@link CommandParser}), send the frame or hand private-chat commands to {@link
 * PrivateChats}, read the next line at once (replies are shown whenever they come), and back to
 * active after each lost connection that reconnecting regains → logging out → finishing.
 *
 * <p>Delivery. Each direct message the user sends is kept in the {@link Outbox} under a fresh id
 * until the server accepts or refuses it; when the server could not take it now ({@code
 * unavailable}, or {@code rate-limited}), it is held and sent again, same id, after the resend
 * delay, before any message typed after it. Messages are paced: at most {@code
 * max-in-flight-messages} are sent and not answered at any time; the others wait in the outbox and
 * go out in order as answers arrive, so what waits in the connection's outbound buffer stays within
 * its bound whatever the user queued. A logout waits for the messages still queued to go out before
 * it is sent (not for those held behind a message the server could not take: they are counted as
 * unsent). The user is told once per message that an unstored message will be sent again, and once
 * per episode that the server asked to slow down. Each direct message received is shown once, by
 * its seq, and acknowledged once the console has printed it ({@link Inbox}); one arriving while
 * logging out is not shown, since it could no longer be acknowledged: the server keeps it for the
 * next login.
 *
 * <p>Rate. When the server's hello announces the rate at which it takes the connection's frames,
 * the session never sends faster: every frame but {@code ack} waits for a token of the {@link
 * Pacer}, messages in the outbox, other frames in a short queue that goes first, and a timer
 * ({@code PaceDue}) sends what waits when the next token is due. While a typed command waits for
 * its token the next command line is not read, so piped input is slowed down rather than refused. A
 * message the server refuses as {@code rate-limited} all the same (a stricter server) is kept and
 * sent again, as above. The logout goes last, and its timeout runs on top of the time the rate
 * needs for what still waits.
 *
 * <p>Bad input. A line from the server over the frame limit ends the connection, since nothing
 * after it could be read: the user is told why, and the session goes on as after a lost connection
 * (reconnecting, if it may). A framed line that cannot be read is logged and skipped.
 *
 * <p>Reconnecting. A connection lost without a goodbye, or closed with {@code server-shutdown},
 * does not end the session while the reconnect window lasts: the session goes on reading commands
 * (direct messages are queued, other server commands refused, private chats work as before, being
 * direct), connects again after waits that grow ({@link Backoff}), logs in again by itself with the
 * username, password and peer port of the first login, then sends the messages of the outbox again,
 * in order, with the same ids, paced as ever. {@code already-online} (the server has not noticed
 * the old connection is gone) is retried; refused credentials, a locked account or the window
 * passing end the session.
 *
 * <p>Servers. The session may be given several servers (the same chat served by several nodes). The
 * first connection goes to the first that answers, in order; if none does, the session ends with
 * one line naming each and why. Every reconnection attempt goes to the next server in the list,
 * round robin, so that a node that died is left for the others; the waits between attempts grow
 * with each round of the list rather than each attempt. On another node the resumption token may be
 * refused, and the session logs in with the password instead, as it does after any refused
 * resumption.
 *
 * <p>Identity. Making the client's identity ({@link LazySecurity}) is the slowest step of a start,
 * so over plain TCP it starts only once the first prompt has been asked for, off the actors'
 * threads, and the password frame waits for it (the user is still typing, as a rule); over TLS the
 * connection waits for it. If it cannot be made, the session ends with {@link
 * ExitStatus#INTERNAL_ERROR}.
 *
 * <p>Trust. Over TLS the connection counts as connected only once the server's certificate is
 * trusted ({@link ServerLink}); a line says so when the server is trusted for the first time. A
 * server whose certificate is refused, at the first connection or a reconnection, ends the session
 * with {@link ExitStatus#SERVER_UNVERIFIED}: nothing was sent to it, and another attempt would meet
 * the same certificate.
 *
 * <p>A goodbye, a lost connection that is not retried, a logout or the end of input lead to
 * finishing: every private chat is closed with the matching reason, messages never accepted are
 * counted for the user, the console is closed (last lines shown, a pending read cancelled), and the
 * parent is told {@link Finished} with the exit status.
 *
 * <p>Commands handled without the server (private messages, usage errors) send {@code
 * NoteActivity}, because the server's idle timer only counts what it receives.
 *
 * <p>Private chats. {@link PrivateChats} is told of every login with the version of the server's
 * hello (from protocol 3 on, private chats need the server's tokens), gets each {@code
 * peer-address} with its fingerprint and token, and each {@code peer-invited} (someone may connect
 * with a token), which the user never sees.
 */
public final class ServerConnection {

  /** Everything the session reacts to; all of it arrives through adapters, streams and timers. */
  public sealed interface Command {}

  /** To the parent: the session is over and the client should exit with {@code exitStatus}. */
  public record Finished(int exitStatus) {}

  /** Who the session works with. */
  public record Collaborators(
      ActorRef<Console.Command> console,
      ActorRef<PrivateChats.Command> chats,
      ActorRef<PeerListener.Command> listener,
      ActorRef<Finished> parent) {}

  private record LinkReported(ServerLink.Event event) implements Command {}

  /** The client's security is made ({@code failure} null), or could not be. */
  private record SecurityMade(Security security, Throwable failure) implements Command {}

  private record ListenerAnswered(PeerListener.ListenResult result) implements Command {}

  private record InputReceived(Console.Input input) implements Command {}

  private record ChatsRequested(PrivateChats.ServerRequest request) implements Command {}

  /** The console has printed the direct message with this seq. */
  private record MessageShown(long seq) implements Command {}

  /** Time to send again the message with this id, which the server could not take. */
  private record ResendDue(String id) implements Command {}

  /** The server's rate allows the next frame waiting for it. */
  private enum PaceDue implements Command {
    INSTANCE
  }

  private enum ReconnectDue implements Command {
    INSTANCE
  }

  private enum ReconnectWindowClosed implements Command {
    INSTANCE
  }

  private enum ChatsClosed implements Command {
    INSTANCE
  }

  private enum ConsoleClosed implements Command {
    INSTANCE
  }

  private enum LogoutTimedOut implements Command {
    INSTANCE
  }

  /** Time to see whether the server has said anything lately. */
  private enum ServerSilenceDue implements Command {
    INSTANCE
  }

  /** Time to see whether the server has said anything on the connection that just opened. */
  private enum FirstWordDue implements Command {
    INSTANCE
  }

  /**
   * What it takes to log in again by oneself: the answers of the first login, and the token of the
   * last {@code login-accepted}, with which the session is resumed (null: log in with the
   * password).
   */
  private record Login(String username, String password, int peerPort, String resumeToken) {

    Login withToken(String token) {
      return new Login(username, password, peerPort, token);
    }

    /** Never let the password or the token reach a log line through a generated toString. */
    @Override
    public String toString() {
      return "Login[username="
          + username
          + ", password=<hidden>, peerPort="
          + peerPort
          + ", resumeToken="
          + (resumeToken == null ? "none" : "<hidden>")
          + "]";
    }
  }

  private static final String START_PRIVATE = "startprivate";
  private static final String MESSAGE = "message";
  private static final int FIRST_ATTEMPT = 0;

  /**
   * The session of a user's client: over TLS unless {@code security} says plain TCP, the client's
   * certificate fingerprint sent at login.
   */
  public static Behavior<Command> create(
      ClientSettings settings,
      LazySecurity security,
      String host,
      int port,
      Collaborators collaborators) {
    return create(settings, security, one(host, port), collaborators, System::nanoTime);
  }

  /**
   * The session of a user's client with several servers to go to, tried in order (see the class
   * comment, Servers).
   */
  public static Behavior<Command> create(
      ClientSettings settings,
      LazySecurity security,
      List<ServerAddress> servers,
      Collaborators collaborators) {
    return create(settings, security, servers, collaborators, System::nanoTime);
  }

  /** A session in plain TCP that sends no certificate fingerprint (tests of the protocol). */
  public static Behavior<Command> create(
      ClientSettings settings, String host, int port, Collaborators collaborators) {
    return create(settings, (LazySecurity) null, one(host, port), collaborators, System::nanoTime);
  }

  /**
   * A session in plain TCP that sends no certificate fingerprint, whose pacing reads the time from
   * {@code nanoClock}: monotonic, in nanoseconds (tests pass the clock of their manual scheduler).
   */
  public static Behavior<Command> create(
      ClientSettings settings,
      String host,
      int port,
      Collaborators collaborators,
      LongSupplier nanoClock) {
    return create(settings, (LazySecurity) null, one(host, port), collaborators, nanoClock);
  }

  /** Like the one above, with several servers. */
  public static Behavior<Command> create(
      ClientSettings settings,
      List<ServerAddress> servers,
      Collaborators collaborators,
      LongSupplier nanoClock) {
    return create(settings, (LazySecurity) null, servers, collaborators, nanoClock);
  }

  private static List<ServerAddress> one(String host, int port) {
    return List.of(new ServerAddress(host, port));
  }

  /**
   * @param security the client's identity, TLS and trust, made when the session first needs it;
   *     null for plain TCP without an identity
   * @param servers where to connect, in order of preference; at least one
   */
  public static Behavior<Command> create(
      ClientSettings settings,
      LazySecurity security,
      List<ServerAddress> servers,
      Collaborators collaborators,
      LongSupplier nanoClock) {
    if (servers.isEmpty()) {
      throw new IllegalArgumentException("no server to connect to");
    }
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers ->
                    new ServerConnection(
                            context, timers, settings, security, servers, collaborators, nanoClock)
                        .start()));
  }

  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  private final ClientSettings settings;

  /**
   * The client's identity, TLS and trust, to be made; null for plain TCP without an identity
   * (tests).
   */
  private final LazySecurity lazySecurity;

  /** {@link #lazySecurity} once made; null until then, or without one. */
  private Security security;

  /** Where the security is made: it takes long, and the actors' threads must not wait for it. */
  private final Executor makingExecutor;

  /** Whether making the security has been started. */
  private boolean securityStarted;

  /** The servers to go to, in order; never empty. */
  private final List<ServerAddress> servers;

  /** Which of {@link #servers} the current (or last) connection goes to. */
  private int current;

  /** The servers the first connection could not reach, with why, for the user at the end. */
  private final List<String> unreachable = new ArrayList<>();

  private final ActorRef<Console.Command> console;
  private final ActorRef<PrivateChats.Command> chats;
  private final ActorRef<PeerListener.Command> listener;
  private final ActorRef<Finished> parent;
  private final ActorRef<Console.Input> inputAdapter;
  private final ActorRef<Console.Receipt> receiptAdapter;
  private final ActorRef<PeerListener.ListenResult> listenerAdapter;
  private final ActorRef<PrivateChats.ServerRequest> chatsAdapter;
  private final ActorRef<PrivateChats.AllClosed> chatsClosedAdapter;
  private final ActorRef<Done> consoleClosedAdapter;
  private final Backoff backoff;
  private final Outbox outbox;
  private final Pacer pacer;
  private final Inbox inbox = new Inbox();
  private final LongSupplier nanoClock;

  /** When the current connection last brought anything, by {@link #nanoClock}. */
  private long lastHeardNanos;

  /** Whether the current connection has brought anything since it opened. */
  private boolean heardOnLink;

  /** startprivate requests sent and not answered yet: the server answers in order. */
  private final Deque<String> pendingPeerAddresses = new ArrayDeque<>();

  /**
   * The protocol version of the server on the current connection, from its hello (0 until it has
   * said): the private chats require tokens from a server that issues them.
   */
  private int serverVersion;

  /** The current connection; null while there is none (waiting to reconnect, finished). */
  private ServerLink link;

  private long linksOpened;

  /** Whether the user was told, since the connection was lost, that messages are queued. */
  private boolean queuedNoticeShown;

  /** Whether the next command line is to be read once no typed command waits for the rate. */
  private boolean readDeferred;

  private ServerConnection(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      ClientSettings settings,
      LazySecurity security,
      List<ServerAddress> servers,
      Collaborators collaborators,
      LongSupplier nanoClock) {
    this.context = context;
    this.timers = timers;
    this.settings = settings;
    this.lazySecurity = security;
    this.security = security == null ? null : security.ifMade().orElse(null);
    this.makingExecutor = context.getSystem().dispatchers().lookup(DispatcherSelector.blocking());
    this.servers = List.copyOf(servers);
    this.console = collaborators.console();
    this.chats = collaborators.chats();
    this.listener = collaborators.listener();
    this.parent = collaborators.parent();
    this.inputAdapter = context.messageAdapter(Console.Input.class, InputReceived::new);
    this.receiptAdapter =
        context.messageAdapter(
            Console.Receipt.class, receipt -> new MessageShown(receipt.ticket()));
    this.listenerAdapter =
        context.messageAdapter(PeerListener.ListenResult.class, ListenerAnswered::new);
    this.chatsAdapter =
        context.messageAdapter(PrivateChats.ServerRequest.class, ChatsRequested::new);
    this.chatsClosedAdapter =
        context.messageAdapter(PrivateChats.AllClosed.class, closed -> ChatsClosed.INSTANCE);
    this.consoleClosedAdapter = context.messageAdapter(Done.class, done -> ConsoleClosed.INSTANCE);
    this.backoff =
        new Backoff(
            settings.reconnectBackoffMin(),
            settings.reconnectBackoffMax(),
            settings.reconnectBackoffRandomFactor());
    this.outbox = new Outbox(settings.maxUnsentMessages(), settings.maxInFlightMessages());
    this.pacer = new Pacer(nanoClock);
    this.nanoClock = nanoClock;
  }

  /**
   * The first phase: connecting at once, unless the connection is TLS and its handshake must wait
   * for the identity it presents.
   */
  private Behavior<Command> start() {
    if (lazySecurity == null || !lazySecurity.tls() || security != null) {
      link = openLink();
      return connecting();
    }
    makeSecurity();
    return beforeLogin(
        Behaviors.receive(Command.class)
            .onMessage(SecurityMade.class, made -> onSecurityMade(made, this::connectWithTls)),
        this::onOtherFrame);
  }

  private Behavior<Command> connectWithTls() {
    link = openLink();
    return connecting();
  }

  // Phase: opening the TCP connection.

  private Behavior<Command> connecting() {
    return session(
        Behaviors.receive(Command.class),
        this::onConnected,
        this::onOtherFrame,
        this::cannotConnect);
  }

  private Behavior<Command> onConnected(InetSocketAddress localAddress) {
    String bindHost =
        settings.peerBindHostOverride().orElseGet(() -> localAddress.getAddress().getHostAddress());
    context.getLog().info("Connected to {} from {}", server(), localAddress);
    listener.tell(new PeerListener.Listen(bindHost, listenerAdapter));
    return binding();
  }

  /**
   * The first connection could not be opened: the next server is tried at once, in order, and only
   * when none of them answers is the session over (a server refused for its certificate ends it
   * before, in {@link #onServerUnverified}).
   */
  private Behavior<Command> cannotConnect(String reason) {
    ServerAddress server = server();
    context.getLog().warn("Cannot connect to {}: {}", server, reason);
    unreachable.add(server + ": " + reason);
    if (current + 1 < servers.size()) {
      current++;
      context.getLog().info("Trying the next server, {}", server());
      link = openLink();
      return connecting();
    }
    // One server: the line it has always been.
    print(
        servers.size() == 1
            ? Texts.cannotConnect(server.host(), server.port(), reason)
            : Texts.cannotConnectToAny(unreachable));
    return finish(ExitStatus.CONNECTION, Bye.Reason.DISCONNECTED);
  }

  // Phase: starting the peer listener, whose port the login needs.

  private Behavior<Command> binding() {
    return beforeLogin(
        Behaviors.receive(Command.class)
            .onMessage(ListenerAnswered.class, answered -> onListenerAnswered(answered.result())),
        this::onOtherFrame);
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
    // Not before: the first prompt comes sooner, and the user's typing hides the wait.
    makeSecurity();
    return beforeLogin(
        Behaviors.receive(Command.class)
            .onMessage(InputReceived.class, input -> onUsernameInput(input.input(), peerPort)),
        this::onOtherFrame);
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
    return beforeLogin(
        Behaviors.receive(Command.class), frame -> onUsernameReply(frame, peerPort, username));
  }

  private Behavior<Command> askPassword(int peerPort, String username) {
    console.tell(new Console.ReadLine(Texts.PASSWORD_PROMPT, true, inputAdapter));
    return beforeLogin(
        Behaviors.receive(Command.class)
            .onMessage(
                InputReceived.class, input -> onPasswordInput(input.input(), peerPort, username)),
        this::onOtherFrame);
  }

  private Behavior<Command> onPasswordInput(Console.Input input, int peerPort, String username) {
    if (!(input instanceof Console.LineRead line)) {
      return quit();
    }
    if (line.text().isBlank()) {
      return askPassword(peerPort, username);
    }
    Login login = new Login(username, line.text(), peerPort, null);
    if (lazySecurity != null && security == null) {
      // The fingerprint goes in the frame: it waits for the identity, which is on its way.
      makeSecurity();
      return beforeLogin(
          Behaviors.receive(Command.class)
              .onMessage(
                  SecurityMade.class, made -> onSecurityMade(made, () -> sendPassword(login))),
          this::onOtherFrame);
    }
    return sendPassword(login);
  }

  private Behavior<Command> sendPassword(Login login) {
    send(new ClientMessage.Password(login.password(), login.peerPort(), peerFingerprint()));
    return beforeLogin(Behaviors.receive(Command.class), frame -> onPasswordReply(frame, login));
  }

  private Behavior<Command> onUsernameReply(ServerMessage frame, int peerPort, String username) {
    if (frame instanceof PasswordRequired) {
      return askPassword(peerPort, username);
    } else if (frame instanceof LoginFailed failed) {
      return onLoginFailed(failed, peerPort, username);
    } else if (isRateLimited(frame)) {
      // Too many logins from this address: the server stays at this step; the user may try again.
      print(Texts.LOGIN_RATE_LIMITED);
      return askUsername(peerPort);
    }
    return onOtherFrame(frame);
  }

  private static boolean isRateLimited(ServerMessage frame) {
    return frame instanceof ServerMessage.Error error
        && error.code() == ServerMessage.Error.Code.RATE_LIMITED;
  }

  private Behavior<Command> onPasswordReply(ServerMessage frame, Login login) {
    if (frame instanceof LoginAccepted accepted) {
      return loggedIn(login.withToken(accepted.resumeToken()));
    } else if (frame instanceof PasswordRequired) {
      return askPassword(login.peerPort(), login.username());
    } else if (frame instanceof LoginFailed failed) {
      return onLoginFailed(failed, login.peerPort(), login.username());
    } else if (isRateLimited(frame)) {
      print(Texts.LOGIN_RATE_LIMITED);
      return askPassword(login.peerPort(), login.username());
    }
    return onOtherFrame(frame);
  }

  private Behavior<Command> onLoginFailed(LoginFailed failed, int peerPort, String username) {
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
      // Only an answer to a resume, which the first login does not send.
      case RESUME_REFUSED -> askUsername(peerPort);
    };
  }

  private Behavior<Command> quit() {
    context.getLog().info("Input ended before login");
    return finish(ExitStatus.OK, Bye.Reason.LOGGED_OUT);
  }

  /** Completes a phase before the first login: losing the connection then ends the session. */
  private Behavior<Command> beforeLogin(
      BehaviorBuilder<Command> phase, Function<ServerMessage, Behavior<Command>> onFrame) {
    return session(phase, onFrame, reason -> connectionLostForGood(reason));
  }

  // Phase: logged in and connected, reading commands.

  private Behavior<Command> loggedIn(Login login) {
    context.getLog().info("Logged in as {}", login.username());
    pacer.loggedIn();
    print(Texts.WELCOME);
    chats.tell(new PrivateChats.LoggedIn(login.username(), chatsAdapter, serverVersion, security));
    readCommand();
    return active(login);
  }

  private Behavior<Command> active(Login login) {
    return session(
        Behaviors.receive(Command.class)
            .onMessage(
                InputReceived.class, input -> onInput(input.input(), this::carryOut, this::logout))
            .onMessage(ChatsRequested.class, requested -> onChatsRequested(requested.request()))
            .onMessage(MessageShown.class, this::onMessageShown)
            .onMessage(ResendDue.class, this::onResendDue),
        frame -> onActiveFrame(frame, login),
        reason -> onConnectionLost(login, reason));
  }

  /** Runs a command line: {@code carryOut} for a command, {@code logout} for its end. */
  private Behavior<Command> onInput(
      Console.Input input, Consumer<UserCommand> carryOut, Supplier<Behavior<Command>> logout) {
    if (!(input instanceof Console.LineRead line)) {
      return logout.get();
    }
    UserCommand command = CommandParser.parse(line.text());
    if (command instanceof UserCommand.Logout) {
      return logout.get();
    }
    carryOut.accept(command);
    readCommand();
    return Behaviors.same();
  }

  /**
   * Asks for the next command line, unless a typed command still waits for the server's rate: then
   * once it has gone ({@link #sendDue}), so that input is read no faster than it can be sent.
   */
  private void readCommand() {
    if (pacer.holdsCommand()) {
      readDeferred = true;
    } else {
      console.tell(new Console.ReadCommand(inputAdapter));
    }
  }

  private void readDeferredCommand() {
    if (readDeferred) {
      readDeferred = false;
      console.tell(new Console.ReadCommand(inputAdapter));
    }
  }

  private void carryOut(UserCommand command) {
    Optional<ClientMessage> request = serverRequest(command);
    if (request.isPresent()) {
      send(request.get());
    } else if (command instanceof UserCommand.Message message) {
      sendMessage(message);
    } else if (command instanceof UserCommand.StartPrivate s) {
      // PrivateChats answers with a server request either way (address or activity).
      chats.tell(new PrivateChats.Start(s.user()));
    } else if (!(command instanceof UserCommand.Blank)) {
      // A blank line is no command at all, and no activity either.
      carryOutLocally(command);
      send(new ClientMessage.NoteActivity());
    }
  }

  /** The frame for a command that only the server answers, if it is one. */
  private static Optional<ClientMessage> serverRequest(UserCommand command) {
    if (command instanceof UserCommand.Broadcast b) {
      return Optional.of(new ClientMessage.Broadcast(b.text()));
    } else if (command instanceof UserCommand.WhoElse) {
      return Optional.of(new ClientMessage.WhoElse());
    } else if (command instanceof UserCommand.WhoElseSince w) {
      return Optional.of(new ClientMessage.WhoElseSince(w.seconds()));
    } else if (command instanceof UserCommand.Block b) {
      return Optional.of(new ClientMessage.Block(b.user()));
    } else if (command instanceof UserCommand.Unblock u) {
      return Optional.of(new ClientMessage.Unblock(u.user()));
    }
    return Optional.empty();
  }

  /** Commands the server never sees: private chats, help, rejected lines. */
  private void carryOutLocally(UserCommand command) {
    if (command instanceof UserCommand.Private p) {
      chats.tell(new PrivateChats.SendPrivate(p.user(), p.text()));
    } else if (command instanceof UserCommand.StopPrivate s) {
      chats.tell(new PrivateChats.StopPrivate(s.user()));
    } else if (command instanceof UserCommand.Help help) {
      (help.command().isEmpty() ? Texts.HELP : Texts.help(help.command())).forEach(this::print);
    } else if (command instanceof UserCommand.Rejected rejected) {
      print(rejected.error());
    }
  }

  private void sendMessage(UserCommand.Message message) {
    if (outbox.isFull()) {
      print(Texts.tooManyUnsent(settings.maxUnsentMessages()));
      send(new ClientMessage.NoteActivity());
      return;
    }
    outbox.add(message.user(), message.text());
    sendDue();
  }

  private Behavior<Command> onChatsRequested(PrivateChats.ServerRequest request) {
    if (request instanceof PrivateChats.RequestPeerAddress address) {
      pendingPeerAddresses.add(address.user());
      send(new ClientMessage.StartPrivate(address.user()));
    } else {
      send(new ClientMessage.NoteActivity());
    }
    return Behaviors.same();
  }

  private Behavior<Command> onMessageShown(MessageShown shown) {
    inbox.shown(shown.seq());
    acknowledgeShown();
    return Behaviors.same();
  }

  private void acknowledgeShown() {
    inbox.acknowledgement().ifPresent(this::acknowledge);
  }

  private Behavior<Command> onResendDue(ResendDue due) {
    outbox.retry(due.id());
    sendDue();
    return Behaviors.same();
  }

  private Behavior<Command> onActiveFrame(ServerMessage frame, Login login) {
    if (frame instanceof MessageReceived received) {
      show(received);
    } else if (frame instanceof Goodbye goodbye
        && resumable(goodbye.reason())
        && settings.reconnects()) {
      return onClosedByServer(goodbye.reason(), login);
    } else if (frame instanceof Goodbye goodbye) {
      return onGoodbye(goodbye);
    } else {
      onReply(frame, true);
      sendDue();
    }
    return Behaviors.same();
  }

  private void show(MessageReceived received) {
    if (inbox.admit(received.seq())) {
      // Acknowledged only once shown: an ack promises the user has seen it.
      console.tell(
          new Console.PrintWithReceipt(
              Texts.received(received.from(), received.text()),
              Console.Kind.INCOMING,
              received.seq(),
              receiptAdapter));
      console.tell(new Console.UserSeen(received.from()));
    } else {
      context.getLog().debug("Message {} was shown already", received.seq());
      // Sent again because its ack was lost with a connection: acknowledging it again is harmless.
      acknowledgeShown();
    }
  }

  /**
   * A reply to a command, or an event other than a direct message: bookkeeping for direct messages
   * and private chats, then the lines it renders as. {@code retrying} is whether a message the
   * server could not take now will be sent again (not while logging out). An answer about a message
   * frees its place in the window, which the caller fills ({@link #sendDue}).
   */
  private void onReply(ServerMessage frame, boolean retrying) {
    if (frame instanceof MessageAccepted accepted) {
      Optional<Outbox.Entry> entry = outbox.answered(accepted.id());
      if (entry.isEmpty()) {
        context.getLog().warn("Accepted message {} was not in flight", accepted.id());
      } else {
        outbox.remove(entry.get().id());
      }
    } else if (frame instanceof ServerMessage.Error error && MESSAGE.equals(error.command())) {
      onMessageRefused(error, retrying);
    } else if (frame instanceof PeerAddress address) {
      String requested = pendingPeerAddresses.poll();
      if (requested == null) {
        context.getLog().warn("Unrequested peer address for {}", address.user());
      } else {
        chats.tell(new PrivateChats.PeerAddressReceived(requested, address));
      }
    } else if (frame instanceof PeerInvited invited) {
      // Bookkeeping only: the user sees the chat when it opens, not the invitation to it.
      chats.tell(
          new PrivateChats.Invited(
              invited.user(), invited.token(), Duration.ofSeconds(invited.expiresInSeconds())));
    } else {
      if (frame instanceof ServerMessage.Error error && START_PRIVATE.equals(error.command())) {
        String requested = pendingPeerAddresses.poll();
        if (requested != null) {
          chats.tell(new PrivateChats.PeerAddressRefused(requested));
        }
      }
      Console.Kind kind = kindOf(frame);
      Renderer.render(frame).forEach(line -> console.tell(new Console.Print(line, kind)));
      tellUsers(frame);
    }
  }

  /** How a server frame's lines look on a colour terminal. */
  private static Console.Kind kindOf(ServerMessage frame) {
    if (frame instanceof ServerMessage.BroadcastReceived) {
      return Console.Kind.INCOMING;
    } else if (frame instanceof ServerMessage.UserLoggedIn
        || frame instanceof ServerMessage.UserLoggedOut) {
      return Console.Kind.PRESENCE;
    } else if (frame instanceof ServerMessage.BlockConfirmed
        || frame instanceof ServerMessage.UnblockConfirmed) {
      return Console.Kind.OWN;
    }
    return Console.Kind.PLAIN;
  }

  /** Keeps the names Tab completes fresh: who logged in or out, who is online, who wrote. */
  private void tellUsers(ServerMessage frame) {
    if (frame instanceof ServerMessage.UserLoggedIn in) {
      console.tell(new Console.UserSeen(in.user()));
    } else if (frame instanceof ServerMessage.UserLoggedOut out) {
      console.tell(new Console.UserGone(out.user()));
    } else if (frame instanceof ServerMessage.OnlineUsers online) {
      online.users().forEach(user -> console.tell(new Console.UserSeen(user)));
    } else if (frame instanceof ServerMessage.RecentUsers recent) {
      recent.users().forEach(user -> console.tell(new Console.UserSeen(user)));
    } else if (frame instanceof ServerMessage.BroadcastReceived broadcast) {
      console.tell(new Console.UserSeen(broadcast.from()));
    }
  }

  /**
   * An error about a direct message. {@code unavailable} (the server could not store it) and {@code
   * rate-limited} (the server took no more frames just then: a stricter server than announced, or
   * none announced) keep it, held ahead of everything typed after it, and send it again after the
   * resend delay; every other code refuses it for good. The user is told once per message that an
   * unstored message will be sent again, and once per episode (until every message refused for the
   * rate has been accepted) that the server asked to slow down: a pasted batch would otherwise get
   * a line per message.
   */
  private void onMessageRefused(ServerMessage.Error error, boolean retrying) {
    Optional<Outbox.Entry> entry = outbox.answered(error.id());
    if (entry.isEmpty()) {
      context.getLog().warn("Refused message {} was not in flight: {}", error.id(), error);
    }
    ServerMessage.Error.Code code = error.code();
    if (code != ServerMessage.Error.Code.UNAVAILABLE
        && code != ServerMessage.Error.Code.RATE_LIMITED) {
      entry.ifPresent(refused -> outbox.remove(refused.id()));
      print(Renderer.error(error));
      return;
    }
    if (entry.isEmpty()) {
      return;
    }
    // Kept, out of the window until it is due; while logging out it is not sent again, and is
    // counted as unsent.
    String id = entry.get().id();
    boolean newEpisode = false;
    if (code == ServerMessage.Error.Code.RATE_LIMITED) {
      newEpisode = outbox.holdForRate(id);
    } else {
      outbox.hold(id);
    }
    if (!retrying) {
      return;
    }
    // Sent again later (after a reconnect, whichever comes first). The timer starts before the
    // line is shown, so whoever sees the line can count on it.
    timers.startSingleTimer(new ResendDue(id), settings.resendDelay());
    if (newEpisode) {
      context.getLog().info("The server refused a message for its rate; sending more slowly");
      print(Texts.SLOWED_DOWN);
    } else if (code == ServerMessage.Error.Code.UNAVAILABLE && outbox.firstRetry(id)) {
      print(Texts.notStoredYet(entry.get().to()));
    }
  }

  /**
   * Goodbyes after which the session goes on elsewhere: the server is shutting down (another start,
   * another node), or it took this connection for dead (the process was stopped, the network was
   * slow): the client is alive, so it comes back.
   */
  private static boolean resumable(Goodbye.Reason reason) {
    return reason == Goodbye.Reason.SERVER_SHUTDOWN || reason == Goodbye.Reason.UNRESPONSIVE;
  }

  private Behavior<Command> onClosedByServer(Goodbye.Reason reason, Login login) {
    context.getLog().info("The server closed the connection: {}", reason);
    closeLink();
    print(Texts.goodbye(reason));
    return startReconnecting(login);
  }

  private Behavior<Command> onConnectionLost(Login login, String reason) {
    if (!settings.reconnects()) {
      return connectionLostForGood(reason);
    }
    context.getLog().warn("Lost the connection to {}: {}; reconnecting", server(), reason);
    return startReconnecting(login);
  }

  private Behavior<Command> connectionLostForGood(String reason) {
    context.getLog().warn("Lost the connection to {} for good: {}", server(), reason);
    print(Texts.CONNECTION_LOST);
    return finish(ExitStatus.CONNECTION, Bye.Reason.DISCONNECTED);
  }

  // Phases: disconnected, waiting to reconnect or logging in again. The user goes on working.

  private Behavior<Command> startReconnecting(Login login) {
    // Requests in flight died with the connection. Messages stay in the outbox and all go again
    // once reconnected, paced as before (so no resend of one of them is due before); an address
    // request is given up, or the chats would wait for its answer for ever.
    outbox.entries().forEach(entry -> timers.cancel(new ResendDue(entry.id())));
    outbox.connectionLost();
    pendingPeerAddresses.forEach(user -> chats.tell(new PrivateChats.PeerAddressRefused(user)));
    pendingPeerAddresses.clear();
    queuedNoticeShown = false;
    // A command that waited for the rate died with the connection: the next line may come.
    readDeferredCommand();
    // Timers start before the line is shown, so whoever sees the line can count on them.
    timers.startSingleTimer(ReconnectWindowClosed.INSTANCE, settings.reconnectWindow());
    Behavior<Command> waiting = waitToReconnect(login, FIRST_ATTEMPT);
    print(Texts.RECONNECTING);
    return waiting;
  }

  private Behavior<Command> waitToReconnect(Login login, int attempt) {
    // The wait grows with each round of the servers, not each attempt: a dead server in the list
    // only delays the next one by the shortest wait.
    int round = attempt / servers.size();
    Duration delay = backoff.delay(round, ThreadLocalRandom.current().nextDouble());
    context.getLog().info("Reconnection attempt {} in {} ms", attempt + 1, delay.toMillis());
    timers.startSingleTimer(ReconnectDue.INSTANCE, delay);
    return disconnected(
        Behaviors.receive(Command.class)
            .onMessageEquals(ReconnectDue.INSTANCE, () -> reconnect(login, attempt)),
        this::onOtherFrame,
        reason -> Behaviors.same());
  }

  private Behavior<Command> reconnect(Login login, int attempt) {
    // Round robin: the server that was lost may be the one that is gone, so the next one is tried
    // first; with one server it is always that one.
    current = (current + 1) % servers.size();
    context.getLog().info("Reconnecting to {}", server());
    link = openLink();
    // Until the new connection's hello says otherwise.
    serverVersion = 0;
    inbox.connectionChanged();
    // Sent at once: they wait in the outbound buffer until the connection is open.
    send(new ClientMessage.Hello(Protocol.VERSION));
    if (login.resumeToken() == null) {
      send(new ClientMessage.Username(login.username()));
    } else {
      // Takes over the old session, even if the server has not noticed yet that it is gone.
      send(
          new ClientMessage.Resume(
              login.username(), login.resumeToken(), login.peerPort(), peerFingerprint()));
    }
    return disconnected(
        Behaviors.receive(Command.class),
        frame -> onReloginReply(frame, login, attempt),
        reason -> retryLater(login, attempt, reason));
  }

  private Behavior<Command> onReloginReply(ServerMessage frame, Login login, int attempt) {
    if (frame instanceof PasswordRequired) {
      send(new ClientMessage.Password(login.password(), login.peerPort(), peerFingerprint()));
      return Behaviors.same();
    } else if (frame instanceof LoginAccepted accepted) {
      return reconnected(login.withToken(accepted.resumeToken()));
    } else if (frame instanceof LoginFailed failed
        && failed.reason() == LoginFailed.Reason.RESUME_REFUSED) {
      // Expired, or the server forgot it (a new password, say): the password will tell.
      context.getLog().info("Resumption refused; logging in with the password");
      Login withoutToken = login.withToken(null);
      send(new ClientMessage.Username(login.username()));
      return disconnected(
          Behaviors.receive(Command.class),
          next -> onReloginReply(next, withoutToken, attempt),
          reason -> retryLater(withoutToken, attempt, reason));
    } else if (frame instanceof LoginFailed failed) {
      return switch (failed.reason()) {
        // The server has not noticed yet that the old connection is gone.
        case ALREADY_ONLINE -> retryLater(login, attempt, "still online on the lost connection");
        // An administrator changed the account meanwhile: asking the user is not this phase's job.
        case INVALID_PASSWORD, UNKNOWN_USER -> cannotLogInAgain(failed.reason(), login);
        case RESUME_REFUSED -> throw new AssertionError("handled above");
      };
    } else if (isRateLimited(frame)) {
      return retryLater(login, attempt, "login rate limited");
    } else if (frame instanceof Goodbye goodbye) {
      return switch (goodbye.reason()) {
        case SERVER_BUSY, SERVER_SHUTDOWN, TIMED_OUT, LOGGED_OUT, UNRESPONSIVE ->
            retryLater(login, attempt, "goodbye " + goodbye.reason());
        // Locked or blocked accounts, an incompatible server, protocol errors: as at first login.
        default -> onGoodbye(goodbye);
      };
    }
    return onOtherFrame(frame);
  }

  private Behavior<Command> retryLater(Login login, int attempt, String why) {
    context.getLog().info("Reconnection attempt {} failed: {}", attempt + 1, why);
    // The next attempt is scheduled before the connection closes, for whoever watches it close.
    Behavior<Command> waiting = waitToReconnect(login, attempt + 1);
    closeLink();
    return waiting;
  }

  private Behavior<Command> cannotLogInAgain(LoginFailed.Reason reason, Login login) {
    context.getLog().warn("Could not log in again as {}: {}", login.username(), reason);
    print(Texts.cannotLogInAgain(reason, login.username()));
    return finish(ExitStatus.LOGIN_REFUSED, Bye.Reason.DISCONNECTED);
  }

  private Behavior<Command> reconnected(Login login) {
    timers.cancel(ReconnectWindowClosed.INSTANCE);
    context.getLog().info("Logged in again as {} on {}", login.username(), server());
    pacer.loggedIn();
    // The server may have been replaced by one of another version meanwhile.
    chats.tell(new PrivateChats.LoggedIn(login.username(), chatsAdapter, serverVersion, security));
    acknowledgeShown();
    sendDue();
    // After the pacing timer has started, so that whoever sees the line can count on it.
    print(Texts.RECONNECTED);
    return active(login);
  }

  /** Completes a phase without a logged-in connection: the user's commands are handled offline. */
  private Behavior<Command> disconnected(
      BehaviorBuilder<Command> phase,
      Function<ServerMessage, Behavior<Command>> onFrame,
      Function<String, Behavior<Command>> onLinkEnded) {
    return session(
        phase
            .onMessage(
                InputReceived.class,
                input ->
                    onInput(input.input(), this::carryOutOffline, this::logOutWhileDisconnected))
            .onMessage(
                ChatsRequested.class, requested -> onChatsRequestedOffline(requested.request()))
            .onMessage(MessageShown.class, shown -> onMessageShownOffline(shown.seq()))
            .onMessageEquals(ReconnectWindowClosed.INSTANCE, this::giveUp),
        onFrame,
        onLinkEnded);
  }

  private void carryOutOffline(UserCommand command) {
    if (serverRequest(command).isPresent()) {
      print(Texts.NOT_CONNECTED);
    } else if (command instanceof UserCommand.Message message) {
      queueMessage(message);
    } else if (command instanceof UserCommand.StartPrivate s) {
      // The chats may refuse it themselves (already enabled); if not, the address request fails.
      chats.tell(new PrivateChats.Start(s.user()));
    } else {
      carryOutLocally(command);
    }
  }

  private void queueMessage(UserCommand.Message message) {
    if (outbox.isFull()) {
      print(Texts.tooManyUnsent(settings.maxUnsentMessages()));
      return;
    }
    outbox.add(message.user(), message.text());
    if (!queuedNoticeShown) {
      queuedNoticeShown = true;
      print(Texts.MESSAGE_QUEUED);
    }
  }

  private Behavior<Command> onChatsRequestedOffline(PrivateChats.ServerRequest request) {
    // Activity reports have no server to go to, and the next login restarts its idle timer.
    if (request instanceof PrivateChats.RequestPeerAddress address) {
      print(Texts.NOT_CONNECTED);
      chats.tell(new PrivateChats.PeerAddressRefused(address.user()));
    }
    return Behaviors.same();
  }

  private Behavior<Command> onMessageShownOffline(long seq) {
    // Acknowledged once logged in again.
    inbox.shown(seq);
    return Behaviors.same();
  }

  private Behavior<Command> giveUp() {
    context.getLog().warn("Could not reconnect within {}", settings.reconnectWindow());
    closeLink();
    print(Texts.CONNECTION_LOST);
    return finish(ExitStatus.CONNECTION, Bye.Reason.DISCONNECTED);
  }

  private Behavior<Command> logOutWhileDisconnected() {
    // Not logged in on the server any more: there is no one to say goodbye to.
    context.getLog().info("Logging out while disconnected");
    closeLink();
    print(Texts.goodbye(Goodbye.Reason.LOGGED_OUT));
    return finish(ExitStatus.OK, Bye.Reason.LOGGED_OUT);
  }

  // Phase: logging out. Messages still waiting for room in the window or for the server's rate go
  // first; then the logout, and the server's goodbye. The logout timeout covers both.

  private Behavior<Command> logout() {
    // On top of the time the server's rate needs for everything still to go, the logout included
    // (messages in flight counted too: a bound, not an estimate).
    Duration pacing = pacer.timeFor(outbox.size() + pacer.queued() + 1);
    timers.startSingleTimer(LogoutTimedOut.INSTANCE, settings.logoutTimeout().plus(pacing));
    // Last chance to acknowledge: nothing can be sent after the logout.
    inbox.finalAcknowledgement().ifPresent(this::acknowledge);
    pacer.enqueueLast(new ClientMessage.Logout());
    sendDue();
    return session(
        Behaviors.receive(Command.class)
            .onMessageEquals(LogoutTimedOut.INSTANCE, () -> loggedOutWithoutGoodbye("timeout")),
        this::onFrameWhileLoggingOut,
        // Closing instead of saying goodbye still does what the user asked for.
        this::loggedOutWithoutGoodbye);
  }

  private Behavior<Command> onFrameWhileLoggingOut(ServerMessage frame) {
    if (frame instanceof Goodbye goodbye) {
      return onGoodbye(goodbye);
    }
    noteWhileLoggingOut(frame);
    // An answer makes room in the window for a message still waiting, or lets the logout go.
    sendDue();
    return Behaviors.same();
  }

  private void noteWhileLoggingOut(ServerMessage frame) {
    if (frame instanceof MessageReceived received) {
      // It could not be acknowledged now, so the server keeps it for the next login: showing it
      // now too would show it twice.
      context.getLog().debug("Leaving message {} for the next login", received.seq());
    } else {
      onReply(frame, false);
    }
  }

  private Behavior<Command> loggedOutWithoutGoodbye(String ending) {
    context.getLog().warn("No goodbye from the server after logout ({}); exiting anyway", ending);
    print(Texts.goodbye(Goodbye.Reason.LOGGED_OUT));
    return finish(ExitStatus.OK, Bye.Reason.LOGGED_OUT);
  }

  // Shared by every phase until finishing.

  /**
   * Completes a phase's behavior with what every phase before the end does with its connection's
   * events: answer the stream, ignore events of abandoned connections, and pass the rest on.
   *
   * @param onFrame every frame from the server, goodbye included
   * @param onLinkEnded the connection could not be opened or has ended, for the reason given
   */
  private Behavior<Command> session(
      BehaviorBuilder<Command> phase,
      Function<ServerMessage, Behavior<Command>> onFrame,
      Function<String, Behavior<Command>> onLinkEnded) {
    return session(phase, this::onOpened, onFrame, onLinkEnded);
  }

  private Behavior<Command> session(
      BehaviorBuilder<Command> phase,
      Function<InetSocketAddress, Behavior<Command>> onOpened,
      Function<ServerMessage, Behavior<Command>> onFrame,
      Function<String, Behavior<Command>> onLinkEnded) {
    return phase
        .onMessage(
            LinkReported.class,
            reported -> onLinkReported(reported.event(), onOpened, onFrame, onLinkEnded))
        .onMessage(SecurityMade.class, made -> onSecurityMade(made, Behaviors::same))
        .onMessageEquals(PaceDue.INSTANCE, this::onPaceDue)
        .onMessageEquals(ServerSilenceDue.INSTANCE, () -> onServerSilenceDue(onLinkEnded))
        .onMessageEquals(FirstWordDue.INSTANCE, () -> onFirstWordDue(onLinkEnded))
        .onSignal(PostStop.class, signal -> onPostStop())
        .onAnyMessage(this::stale)
        .build();
  }

  /**
   * A server of protocol 3 or later never stays silent for long while it is alive: it answers every
   * command, and sends a heartbeat (which is answered) when this client has been quiet. Silence for
   * {@code heartbeat-timeout} means the server or the network between is gone, though the
   * connection may still look open: it is treated as lost.
   */
  private Behavior<Command> onServerSilenceDue(Function<String, Behavior<Command>> onLinkEnded) {
    if (link == null) {
      return Behaviors.same();
    }
    Duration silent = Duration.ofNanos(nanoClock.getAsLong() - lastHeardNanos);
    if (silent.compareTo(settings.heartbeatTimeout()) < 0) {
      timers.startSingleTimer(ServerSilenceDue.INSTANCE, settings.heartbeatTimeout().minus(silent));
      return Behaviors.same();
    }
    context
        .getLog()
        .warn("Nothing from {} for {} s; giving the connection up", server(), silent.toSeconds());
    closeLink();
    return onLinkEnded.apply("no word from the server for " + silent.toSeconds() + " s");
  }

  /**
   * Every server answers a connection's {@code hello} at once. A connection on which nothing has
   * come within {@code connect-timeout} of its opening is one the server has not taken up: when
   * thousands of clients come back at once after a restart, the server's queue of connections not
   * yet accepted overflows, and the operating system leaves the ones over it hanging, open on the
   * client's side, until it gives them up with a reset a minute later. Given up here, the next
   * attempt most likely finds room.
   */
  private Behavior<Command> onFirstWordDue(Function<String, Behavior<Command>> onLinkEnded) {
    if (link == null || heardOnLink) {
      return Behaviors.same();
    }
    long seconds = settings.connectTimeout().toSeconds();
    context
        .getLog()
        .warn(
            "No answer from {} within {} s of connecting; giving the connection up",
            server(),
            seconds);
    closeLink();
    return onLinkEnded.apply("no answer from the server within " + seconds + " s");
  }

  private Behavior<Command> onLinkReported(
      ServerLink.Event event,
      Function<InetSocketAddress, Behavior<Command>> onOpened,
      Function<ServerMessage, Behavior<Command>> onFrame,
      Function<String, Behavior<Command>> onLinkEnded) {
    ServerLink.requestNext(event);
    if (link == null || !link.reported(event)) {
      context.getLog().debug("Ignoring {} of an abandoned connection", event);
      return Behaviors.same();
    } else if (event instanceof ServerLink.Opened opened) {
      opened.notice().ifPresent(this::print);
      heardOnLink = false;
      timers.startSingleTimer(FirstWordDue.INSTANCE, settings.connectTimeout());
      return onOpened.apply(opened.localAddress());
    } else if (event instanceof ServerLink.FrameReceived received) {
      return onInbound(received.inbound(), onFrame, onLinkEnded);
    } else if (event instanceof ServerLink.Ended ended) {
      closeLink();
      return onLinkEnded.apply(ended.reason());
    } else if (event instanceof ServerLink.Unverified unverified) {
      return onServerUnverified(unverified.reason());
    }
    return Behaviors.same();
  }

  /**
   * The server's certificate was refused, whatever the phase (a first connection, a reconnection):
   * nothing was sent to it, and trying again would meet the same server, so the session ends.
   */
  private Behavior<Command> onServerUnverified(String reason) {
    context.getLog().warn("Refused the server at {}: {}", server(), reason);
    closeLink();
    print(Texts.serverUnverified(reason));
    return finish(ExitStatus.SERVER_UNVERIFIED, Bye.Reason.DISCONNECTED);
  }

  private Behavior<Command> onOpened(InetSocketAddress localAddress) {
    context.getLog().info("Connected to {} from {}", server(), localAddress);
    return Behaviors.same();
  }

  /**
   * A line from the server. A frame goes to the phase. A line over the frame limit ends the
   * connection as if it had been lost, after telling the user why: the framing cannot find where
   * the next frame starts, so nothing more could be read from it, and keeping it would leave the
   * session deaf. A line that is framed but unreadable (a value from a newer server, say) is only
   * logged: the next line can be read, and it is not worth ending the session for.
   */
  private Behavior<Command> onInbound(
      Inbound<ServerMessage> inbound,
      Function<ServerMessage, Behavior<Command>> onFrame,
      Function<String, Behavior<Command>> onLinkEnded) {
    lastHeardNanos = nanoClock.getAsLong();
    heardOnLink = true;
    if (inbound instanceof Inbound.Frame<ServerMessage> frame) {
      context.getLog().debug("Received {}", frame.frame());
      if (frame.frame() instanceof ServerMessage.Hello hello) {
        // The first frame of every connection, whatever the phase: it sets the pace.
        onHello(hello);
        return Behaviors.same();
      }
      if (frame.frame() instanceof ServerMessage.Heartbeat) {
        // Answered at once, whatever waits for the rate: the server does not count heartbeats.
        write(new ClientMessage.Heartbeat());
        return Behaviors.same();
      }
      return onFrame.apply(frame.frame());
    } else if (inbound instanceof Inbound.Oversized<ServerMessage> oversized) {
      context
          .getLog()
          .warn(
              "The server sent a line over {} bytes; closing the connection",
              oversized.limitBytes());
      closeLink();
      print(Texts.serverLineTooLong(oversized.limitBytes()));
      return onLinkEnded.apply("a line over " + oversized.limitBytes() + " bytes");
    }
    context.getLog().warn("Unreadable frame from the server, skipped: {}", inbound);
    return Behaviors.same();
  }

  private void onHello(ServerMessage.Hello hello) {
    serverVersion = hello.version();
    if (hello.version() >= Protocol.VERSION) {
      // Older servers send no heartbeats: their silence would mean nothing.
      timers.startSingleTimer(ServerSilenceDue.INSTANCE, settings.heartbeatTimeout());
    }
    pacer.rateAnnounced(hello.commandRate());
    if (hello.commandRate() == null) {
      context.getLog().info("The server sets no rate for this connection");
    } else {
      context
          .getLog()
          .info(
              "The server takes {} frames a second, {} at once: sending no faster",
              hello.commandRate().perSecond(),
              hello.commandRate().burst());
    }
  }

  private Behavior<Command> onPaceDue() {
    sendDue();
    return Behaviors.same();
  }

  /** A frame the phase has no use for: a goodbye still ends the session. */
  private Behavior<Command> onOtherFrame(ServerMessage frame) {
    if (frame instanceof Goodbye goodbye) {
      return onGoodbye(goodbye);
    }
    context.getLog().warn("Unexpected frame from the server now: {}", frame);
    return Behaviors.same();
  }

  private Behavior<Command> onGoodbye(Goodbye goodbye) {
    context.getLog().info("The server said goodbye: {}", goodbye.reason());
    print(Texts.goodbye(goodbye.reason()));
    Bye.Reason byeReason =
        switch (goodbye.reason()) {
          // No longer logged in on the server, as after a logout: peers are told so.
          case LOGGED_OUT, ACCOUNT_REMOVED -> Bye.Reason.LOGGED_OUT;
          case TIMED_OUT -> Bye.Reason.TIMED_OUT;
          default -> Bye.Reason.DISCONNECTED;
        };
    return finish(ExitStatus.forGoodbye(goodbye.reason()), byeReason);
  }

  private Behavior<Command> stale(Command command) {
    // Late answers from a phase already left (a read, a listener reply, a timer): nothing to do.
    context.getLog().debug("Ignoring {}", command);
    return Behaviors.same();
  }

  // Phase: the session is over; closing up before telling the parent.

  private Behavior<Command> finish(int exitStatus, Bye.Reason reason) {
    timers.cancelAll();
    if (!outbox.isEmpty()) {
      context.getLog().warn("{} messages were never accepted by the server", outbox.size());
      print(Texts.unsent(outbox.size()));
    }
    chats.tell(new PrivateChats.CloseAll(reason, chatsClosedAdapter));
    return Behaviors.receive(Command.class)
        .onMessageEquals(ChatsClosed.INSTANCE, this::onChatsClosed)
        .onMessageEquals(ConsoleClosed.INSTANCE, () -> onConsoleClosed(exitStatus))
        .onMessage(LinkReported.class, this::discard)
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
    closeLink();
    context.getLog().info("Session finished with exit status {}", exitStatus);
    parent.tell(new Finished(exitStatus));
    return Behaviors.receive(Command.class)
        .onMessage(LinkReported.class, this::discard)
        .onAnyMessage(this::stale)
        .build();
  }

  private Behavior<Command> discard(LinkReported reported) {
    ServerLink.requestNext(reported.event());
    return Behaviors.same();
  }

  private Behavior<Command> onPostStop() {
    closeLink();
    return Behaviors.same();
  }

  // Helpers

  /** Starts making the security, if there is one to make and it was not started before. */
  private void makeSecurity() {
    if (lazySecurity != null && security == null && !securityStarted) {
      securityStarted = true;
      context.pipeToSelf(lazySecurity.start(makingExecutor), SecurityMade::new);
    }
  }

  /**
   * Keeps the security made and goes on as {@code then} says; security that could not be made is a
   * failure of the client, not of the user or the server, and ends the session.
   */
  private Behavior<Command> onSecurityMade(SecurityMade made, Supplier<Behavior<Command>> then) {
    if (made.failure() != null) {
      context.getLog().error("Cannot make the client's identity", made.failure());
      return finish(ExitStatus.INTERNAL_ERROR, Bye.Reason.DISCONNECTED);
    }
    security = made.security();
    return then.get();
  }

  private ServerLink openLink() {
    ServerAddress server = server();
    return ServerLink.open(
        context,
        LinkReported::new,
        settings,
        security,
        server.host(),
        server.port(),
        ++linksOpened);
  }

  /** The server of the current (or last) connection. */
  private ServerAddress server() {
    return servers.get(current);
  }

  /** The client's certificate fingerprint, which the server hands to peers; null without one. */
  private String peerFingerprint() {
    return security == null ? null : security.fingerprint();
  }

  /**
   * Closes the current connection, if any; whatever it still reports is stale from now on, and the
   * frames still waiting for its rate die with it.
   */
  private void closeLink() {
    if (link != null) {
      link.close();
      link = null;
    }
    timers.cancel(PaceDue.INSTANCE);
    timers.cancel(ServerSilenceDue.INSTANCE);
    timers.cancel(FirstWordDue.INSTANCE);
    int dropped = pacer.reset();
    if (dropped > 0) {
      context.getLog().info("{} frames waiting for the server's rate were not sent", dropped);
    }
  }

  /**
   * Sends a frame, anything but a direct message (those wait in the outbox) or an ack: at once if
   * the server's rate allows and nothing waits before it, else after what waits, in order.
   */
  private void send(ClientMessage frame) {
    if (link == null) {
      context.getLog().debug("Not connected; not sending {}", frame);
    } else if (pacer.enqueue(frame)) {
      sendDue();
    } else {
      context
          .getLog()
          .debug("A frame waiting to be sent keeps the session alive; not sending {}", frame);
    }
  }

  /** Acknowledgements do not count for the server's rate: they go at once. */
  private void acknowledge(long seq) {
    write(new ClientMessage.Acknowledge(seq));
  }

  /**
   * Sends what waits as far as the server's rate allows now: queued frames first, then the messages
   * the outbox releases. If something is left, the timer is set for when the next token is due;
   * once no typed command waits, a deferred command line is read.
   */
  private void sendDue() {
    if (link == null) {
      return;
    }
    List<ClientMessage> due = new ArrayList<>();
    for (Optional<ClientMessage> next = pacer.next(outbox);
        next.isPresent();
        next = pacer.next(outbox)) {
      due.add(next.get());
    }
    // Started before the frames go, so whoever sees them can count on it. A timer already running
    // is due no later than the next token (tokens are only ever taken), and one of an earlier
    // connection was cancelled with it.
    if (!timers.isTimerActive(PaceDue.INSTANCE)) {
      pacer.nextTurn(outbox).ifPresent(delay -> timers.startSingleTimer(PaceDue.INSTANCE, delay));
    }
    due.forEach(this::write);
    if (!pacer.holdsCommand()) {
      readDeferredCommand();
    }
  }

  private void write(ClientMessage frame) {
    if (link == null) {
      context.getLog().debug("Not connected; not sending {}", frame);
      return;
    }
    context.getLog().debug("Sending {}", frame);
    link.send(frame);
  }

  private void print(String line) {
    console.tell(new Console.Print(line));
  }
}
