package dev.parley.server.session;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.ActorContext;
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
import dev.parley.protocol.TokenBucket;
import dev.parley.protocol.WireText;
import dev.parley.server.ServerSettings;
import dev.parley.server.broadcast.Broadcaster;
import dev.parley.server.login.LoginGuard;
import dev.parley.server.login.LoginGuard.PasswordVerdict;
import dev.parley.server.login.LoginGuard.UsernameVerdict;
import dev.parley.server.metrics.Metrics;
import dev.parley.server.registry.UserRegistry;
import dev.parley.server.registry.UserRegistry.Registration;
import dev.parley.server.timing.DeadlineTimer;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * One client connection, as a phased state machine: handshake (expects {@code hello}) → awaiting
 * username → awaiting password → active → closing, or handshake → {@code resume} → active when the
 * client takes its session over with the token of its last login. It owns the login, idle, request
 * and heartbeat timers, turns the client's frames into requests to the {@link LoginGuard}, {@link
 * UserRegistry} and {@link Broadcaster}, and writes their answers to the connection's outbound
 * queue.
 *
 * <p>Inbound frames arrive through the stream protocol ({@link StreamStarted}, {@link
 * FrameReceived}, {@link StreamCompleted}, {@link StreamFailed}) with backpressure: the session
 * acknowledges a frame only once the request it caused has been answered, so each connection has at
 * most one request in flight (apart from the message window below), its commands are answered in
 * order, and a client that sends faster than the server handles its commands is slowed down by TCP
 * instead of filling mailboxes. Every request waited on has the request timeout: without an answer
 * by then the client is told {@code unavailable} and the connection closes ({@code server-busy}).
 *
 * <p>Flood control: every frame but {@code ack} and {@code logout} takes a token from the
 * connection's bucket. A frame over the rate is not carried out but answered {@code rate-limited};
 * a connection that keeps sending past {@code disconnect-after} refusals in a row is closed ({@code
 * goodbye rate-limited}). Texts are checked here, before they cost the registry or the store
 * anything: a text longer than {@code max-text-bytes} encoded, or holding U+0000 or an unpaired
 * surrogate, is answered {@code invalid-text}.
 *
 * <p>Liveness: a client of protocol 3 or later that has sent nothing for {@code heartbeat-interval}
 * is sent a heartbeat, and one that has sent nothing at all for {@code heartbeat-timeout} is taken
 * for dead and closed ({@code goodbye unresponsive}), so that the others see the user leave within
 * a minute of a dropped network or a stopped process. Heartbeats are neither the user's activity
 * (the idle timer ignores them) nor subject to flood control.
 *
 * <p>Outbound frames go to the connection's {@code outbox}, a queue in front of the socket bounded
 * in bytes; the registry and broadcaster write events (messages, presence) to it directly. {@link
 * ServerMessage.Goodbye} is always the last frame: writing it closes the connection. On {@code
 * logout} the goodbye waits until the registry has stored the user's logout, and with it every
 * acknowledgement sent before: a client that saw its goodbye is never shown those messages again.
 */
public final class Session {

  /** What a session understands. */
  public sealed interface Command {}

  /**
   * The connection's stream runs: frames follow, one per {@link StreamAck}, and the session writes
   * to {@code outbound} from now on.
   */
  public record StreamStarted(ActorRef<StreamAck> ackTo, ActorRef<ServerMessage> outbound)
      implements Command {}

  /** One decoded line from the client; answer with a {@link StreamAck} to get the next. */
  public record FrameReceived(ActorRef<StreamAck> ackTo, Inbound<ClientMessage> inbound)
      implements Command {}

  /** The client closed its side of the connection, or the connection was closed. */
  public enum StreamCompleted implements Command {
    INSTANCE
  }

  /** The connection broke (reset, or the outbound queue overflowed). */
  public record StreamFailed(Throwable cause) implements Command {}

  /**
   * The connection's TLS handshake is done, and the client presented a certificate with this
   * SHA-256 fingerprint ({@code SHA256:} and the digest in base64 without padding). Told before the
   * first frame, and only on a TLS connection whose client presented one: a resumption token is
   * bound to it.
   */
  public record ClientCertificatePresented(String fingerprint) implements Command {}

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

  private record ResumptionAdmitted(LoginGuard.Admission admission) implements Command {}

  private record ResumptionAnswered(UserRegistry.Resumption resumption) implements Command {}

  private record EvictionOrdered(UserRegistry.Evict eviction) implements Command {}

  private record LeaveRecorded(UserRegistry.Left left) implements Command {}

  private enum LoginTimedOut implements Command {
    INSTANCE
  }

  /**
   * The idle timeout may have run out, or a heartbeat check may be due: one timer serves both (see
   * {@link DeadlineTimer#wakeAt} and {@link DeadlineTimer#fired(long)}).
   */
  private enum IdleOrHeartbeatDue implements Command {
    INSTANCE
  }

  private enum RequestTimedOut implements Command {
    INSTANCE
  }

  private enum CloseTimedOut implements Command {
    INSTANCE
  }

  /**
   * A frame that waits for the messages ahead of it to be answered, so that its own answer does not
   * overtake theirs: a command to carry out then, or (with a refusal) one already refused.
   */
  private record Held(ClientMessage frame, ServerMessage refusal) {}

  private static final String LOGIN_TIMER = "login";
  private static final String IDLE_TIMER = "idle";
  private static final String REQUEST_TIMER = "request";
  private static final String CLOSE_TIMER = "close";

  /** The first protocol version whose clients answer heartbeats. */
  private static final int HEARTBEAT_VERSION = 3;

  /** {@link #heartbeatDueMillis} of a client that gets no heartbeats (older than version 3). */
  private static final long NO_HEARTBEAT = Long.MAX_VALUE;

  private static final String SERVER_NAME = "parley";

  /** Longest piece of a bad frame echoed back in an error, or logged. */
  private static final int MAX_ECHOED_CHARS = 128;

  /** The wire type of a direct message, as error replies name it. */
  private static final String MESSAGE = "message";

  /**
   * @param remote where the client's connection comes from
   * @param clock the time of the flood control's buckets
   * @param connect has the connection attached to the new session, which it is given: its stream
   *     then starts with {@link StreamStarted}, naming the outbound queue
   */
  public static Behavior<Command> create(
      ServerSettings settings,
      Services services,
      InetSocketAddress remote,
      Clock clock,
      Consumer<ActorRef<Command>> connect) {
    return create(settings, services, remote, clock, connect, null);
  }

  /**
   * As above, moving {@code tracker} through the session's phases for {@code parley_sessions}
   * (null: not counted); whoever watches the session ends the tracker when it stops.
   */
  public static Behavior<Command> create(
      ServerSettings settings,
      Services services,
      InetSocketAddress remote,
      Clock clock,
      Consumer<ActorRef<Command>> connect,
      Metrics.SessionTracker tracker) {
    // The actor's Props keep this factory for as long as the session lives, and with it whatever
    // connect captures: for TCP the accepted connection and the blueprint of its flow, some 700
    // bytes an idle session held for nothing (issue 11, docs/performance.md). A session is never
    // restarted (and a connection cannot be attached twice), so connect is handed over once and
    // dropped.
    AtomicReference<Consumer<ActorRef<Command>>> unattached = new AtomicReference<>(connect);
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers ->
                    new Session(
                            context,
                            timers,
                            settings,
                            services,
                            remote,
                            clock,
                            Objects.requireNonNull(
                                unattached.getAndSet(null),
                                "a session's connection is attached once"),
                            tracker)
                        .handshake()));
  }

  private final ActorContext<Command> context;

  /** This session's place in {@code parley_sessions}; null when not counted. */
  private final Metrics.SessionTracker tracker;

  private final TimerScheduler<Command> timers;
  private final ServerSettings settings;
  private final Services services;
  private final InetSocketAddress remote;
  private final Clock clock;

  /**
   * The connection's outbound queue; null until its stream has started. No frame can come before
   * that, so only a close ahead of it (a server stopping) finds it missing.
   */
  private ActorRef<ServerMessage> outbox;

  private final ActorRef<ServerMessage> replies;
  private final ActorRef<UsernameVerdict> usernameVerdicts;
  private final ActorRef<PasswordVerdict> passwordVerdicts;
  private final ActorRef<Registration> registrations;
  private final ActorRef<LoginGuard.Admission> admissions;
  private final ActorRef<UserRegistry.Resumption> resumptions;
  private final ActorRef<UserRegistry.Evict> evictions;
  private final ActorRef<UserRegistry.Left> leaves;

  /** This connection's flood control; null when the limits are off. */
  private final TokenBucket commands;

  /** Frames refused in a row by the flood control. */
  private int refusedInARow;

  /** Where to acknowledge the frame being handled; null until the stream has started. */
  private ActorRef<StreamAck> inbound;

  /** The logged-in user; null until the registry has admitted this session. */
  private String user;

  /** The user the registry is being asked to admit; null when no registration is in flight. */
  private String registering;

  /** {@code message} commands sent to the registry and not answered yet. */
  private int messagesInFlight;

  /** The command other than a message that waits for its answer; null if none. */
  private String commandInFlight;

  /** A frame that waits for the messages ahead of it to be answered; null if none. */
  private Held held;

  /** The message window was full: the next frame is taken once a message is answered. */
  private boolean ackOwed;

  private int badFrames;

  /**
   * The fingerprint of the TLS client certificate the connection presented; null without TLS or
   * without a certificate.
   */
  private String certificate;

  /** The protocol version of the client's hello. */
  private int clientVersion;

  /** When the client last sent anything, by {@link #clock}: what heartbeats watch. */
  private long lastHeardMillis;

  /** What the active phase does with a frame: one function for the session's life. */
  private final Function<ClientMessage, Behavior<Command>> activeFrames = this::onCommand;

  /**
   * Restarted by every command the user gives. Its timer also wakes the session for heartbeat
   * checks ({@link #heartbeatDueMillis}).
   */
  private final DeadlineTimer<Command> idle;

  /** When the next heartbeat check is due, by the clock; {@link #NO_HEARTBEAT} if none is. */
  private long heartbeatDueMillis = NO_HEARTBEAT;

  /** Runs while an answer is owed, from the latest request or answer. */
  private final DeadlineTimer<Command> request;

  private Session(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      ServerSettings settings,
      Services services,
      InetSocketAddress remote,
      Clock clock,
      Consumer<ActorRef<Command>> connect,
      Metrics.SessionTracker tracker) {
    this.context = context;
    // Named for the class: detected from the stack, the name can come out as Akka's ActorCell,
    // whose level (WARN) then hides this actor's INFO lines.
    context.setLoggerName(Session.class);
    this.tracker = tracker;
    this.timers = timers;
    this.settings = settings;
    this.services = services;
    this.remote = remote;
    this.clock = clock;
    // One adapter for every kind of reply: Akka keeps a list entry and a function per adapter, for
    // as long as the session lives, and idle sessions are what a server holds most of.
    ActorRef<Object> answers = context.messageAdapter(Object.class, Session::answered);
    this.replies = answers.narrow();
    this.usernameVerdicts = answers.narrow();
    this.passwordVerdicts = answers.narrow();
    this.registrations = answers.narrow();
    this.admissions = answers.narrow();
    this.resumptions = answers.narrow();
    this.evictions = answers.narrow();
    this.leaves = answers.narrow();
    this.commands =
        settings.limits().enabled() ? new TokenBucket(settings.limits().commands()) : null;
    connect.accept(context.getSelf());
    this.lastHeardMillis = clock.millis();
    this.idle =
        new DeadlineTimer<>(
            timers, IDLE_TIMER, IdleOrHeartbeatDue.INSTANCE, settings.idleTimeout(), clock);
    this.request =
        new DeadlineTimer<>(
            timers, REQUEST_TIMER, RequestTimedOut.INSTANCE, settings.requestTimeout(), clock);
    timers.startSingleTimer(LOGIN_TIMER, LoginTimedOut.INSTANCE, settings.loginTimeout());
  }

  // ---- phases ----

  /**
   * Moves the session's count in {@code parley_sessions}: a few times per session, never per frame.
   */
  private void phase(Metrics.SessionPhase phase) {
    if (tracker != null) {
      tracker.enter(phase);
    }
  }

  /** Waiting for the client's {@code hello}. */
  private Behavior<Command> handshake() {
    return handling(
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
          clientVersion = hello.version();
          // The rate is announced so that a well-behaved client can pace itself to it.
          outbox.tell(
              new ServerMessage.Hello(
                  Protocol.VERSION,
                  SERVER_NAME,
                  commands == null ? null : settings.limits().commands()));
          if (hello.version() >= HEARTBEAT_VERSION) {
            // Older clients would not answer: the idle timeout is all that watches them.
            scheduleHeartbeat(settings.heartbeatInterval().toMillis());
          }
          ack();
          phase(Metrics.SessionPhase.LOGIN);
          return awaitingUsername();
        });
  }

  /** Login step one, or a resumption instead of both steps. */
  private Behavior<Command> awaitingUsername() {
    return handling(
        frame -> {
          if (frame instanceof ClientMessage.Resume resume) {
            services
                .loginGuard()
                .tell(new LoginGuard.AdmitResumption(remote.getAddress(), admissions));
            awaitReply();
            return admittingResumption(resume);
          }
          if (!(frame instanceof ClientMessage.Username login)) {
            return unexpected(frame);
          }
          services
              .loginGuard()
              .tell(
                  new LoginGuard.CheckUsername(
                      login.username(), remote.getAddress(), usernameVerdicts));
          awaitReply();
          return checkingUsername(login.username());
        });
  }

  private Behavior<Command> checkingUsername(String username) {
    return awaiting(
        UsernameChecked.class,
        checked -> {
          replyReceived();
          return switch (checked.verdict()) {
            case PASSWORD_REQUIRED -> {
              outbox.tell(new ServerMessage.PasswordRequired(username));
              ack();
              yield awaitingPassword(username);
            }
            case UNKNOWN_USER -> loginFailed(LoginFailed.Reason.UNKNOWN_USER, username);
            case BLOCKED -> close(Reason.ACCOUNT_BLOCKED);
            case RATE_LIMITED -> refuseLoginStep("username", awaitingUsername());
            case BUSY -> busy();
          };
        });
  }

  private Behavior<Command> admittingResumption(ClientMessage.Resume resume) {
    return awaiting(
        ResumptionAdmitted.class,
        admitted -> {
          replyReceived();
          if (admitted.admission() == LoginGuard.Admission.RATE_LIMITED) {
            return refuseLoginStep(resume.typeName(), awaitingUsername());
          }
          services
              .registry()
              .tell(
                  new UserRegistry.Resume(
                      resume.username(),
                      resume.token(),
                      attachment(resume.peerPort(), resume.peerFingerprint()),
                      resumptions));
          registering = resume.username();
          awaitReply();
          return resuming(resume.username());
        });
  }

  private Behavior<Command> resuming(String username) {
    return awaiting(
        ResumptionAnswered.class,
        answer -> {
          replyReceived();
          registering = null;
          if (answer.resumption() == UserRegistry.Resumption.REFUSED) {
            return loginFailed(LoginFailed.Reason.RESUME_REFUSED, username);
          }
          return loggedIn(username);
        });
  }

  /** Login step two: the username is known and may log in. */
  private Behavior<Command> awaitingPassword(String username) {
    return handling(
        frame -> {
          if (!(frame instanceof ClientMessage.Password password)) {
            return unexpected(frame);
          }
          services
              .loginGuard()
              .tell(
                  new LoginGuard.Authenticate(
                      username, password.password(), remote.getAddress(), passwordVerdicts));
          awaitReply();
          return authenticating(username, password);
        });
  }

  private Behavior<Command> authenticating(String username, ClientMessage.Password password) {
    return awaiting(
        PasswordChecked.class,
        checked -> {
          replyReceived();
          return switch (checked.verdict()) {
            case AUTHENTICATED -> {
              services
                  .registry()
                  .tell(
                      new UserRegistry.Register(
                          username,
                          attachment(password.peerPort(), password.peerFingerprint()),
                          registrations));
              registering = username;
              awaitReply();
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
            case RATE_LIMITED -> refuseLoginStep("password", awaitingPassword(username));
            case UNAVAILABLE, BUSY -> busy();
          };
        });
  }

  private Behavior<Command> registering(String username) {
    return awaiting(
        RegistrationAnswered.class,
        answer -> {
          replyReceived();
          registering = null;
          if (answer.registration() == Registration.ALREADY_ONLINE) {
            return loginFailed(LoginFailed.Reason.ALREADY_ONLINE, username);
          }
          if (answer.registration() == Registration.UNAVAILABLE) {
            return busy();
          }
          return loggedIn(username);
        });
  }

  /** The registry has admitted the session, and written the welcome and kept messages. */
  private Behavior<Command> loggedIn(String username) {
    user = username;
    timers.cancel(LOGIN_TIMER);
    restartIdleTimer();
    ack();
    phase(Metrics.SessionPhase.ACTIVE);
    return active();
  }

  /** A reply to one of this session's questions, as the command it is to the session. */
  private static Command answered(Object answer) {
    if (answer instanceof ServerMessage reply) {
      return new Replied(reply);
    } else if (answer instanceof UsernameVerdict verdict) {
      return new UsernameChecked(verdict);
    } else if (answer instanceof PasswordVerdict verdict) {
      return new PasswordChecked(verdict);
    } else if (answer instanceof Registration registration) {
      return new RegistrationAnswered(registration);
    } else if (answer instanceof LoginGuard.Admission admission) {
      return new ResumptionAdmitted(admission);
    } else if (answer instanceof UserRegistry.Resumption resumption) {
      return new ResumptionAnswered(resumption);
    } else if (answer instanceof UserRegistry.Evict eviction) {
      return new EvictionOrdered(eviction);
    } else if (answer instanceof UserRegistry.Left left) {
      return new LeaveRecorded(left);
    }
    // Only the refs above are handed out, each typed for its answer: anything else is a bug.
    throw new IllegalArgumentException("not an answer to a session: " + answer.getClass());
  }

  /** This session, as the registry is to know it. */
  private UserRegistry.Attachment attachment(Integer peerPort, String peerFingerprint) {
    return new UserRegistry.Attachment(
        context.getSelf(),
        outbox,
        evictions,
        remote.getAddress().getHostAddress(),
        peerPort == null ? UserRegistry.Attachment.NO_PEER_PORT : peerPort,
        peerFingerprint,
        certificate,
        clientVersion);
  }

  /** Logged in: commands, one at a time (messages a window at a time). */
  private Behavior<Command> active() {
    return Behaviors.receiveMessage(this::whileActive);
  }

  private Behavior<Command> whileActive(Command command) {
    if (command instanceof Replied replied) {
      return onReplied(replied);
    }
    return shared(command, activeFrames);
  }

  /**
   * Logging out: the registry is recording the logout (and so every acknowledgement before it); the
   * goodbye goes once it has, or once that has failed or taken too long.
   */
  private Behavior<Command> leaving() {
    phase(Metrics.SessionPhase.CLOSING);
    return Behaviors.receive(Command.class)
        .onMessage(LeaveRecorded.class, left -> sayGoodbye(Reason.LOGGED_OUT))
        .onMessage(
            RequestTimedOut.class, timeout -> onRequestTimer(() -> sayGoodbye(Reason.LOGGED_OUT)))
        .onMessage(StreamCompleted.class, done -> Behaviors.stopped())
        .onMessage(StreamFailed.class, failed -> Behaviors.stopped())
        // Frames are not acknowledged any more: the client has nothing left to say.
        .onAnyMessage(ignored -> Behaviors.same())
        .build();
  }

  /** Goodbye written; waiting for the connection to finish writing it and close. */
  private Behavior<Command> closing() {
    phase(Metrics.SessionPhase.CLOSING);
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
        .onMessage(
            ResumptionAnswered.class,
            answer -> {
              if (answer.resumption() == UserRegistry.Resumption.RESUMED && registering != null) {
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
    if (frame instanceof ClientMessage.Acknowledge acknowledge) {
      // Sent by the client on its own as messages arrive: not the user's activity, and not
      // answered.
      services.registry().tell(new UserRegistry.Acknowledge(user, acknowledge.seq()));
      ack();
      return Behaviors.same();
    }
    Optional<ServerMessage> refusal = invalidText(frame);
    if (messagesInFlight > 0 && (refusal.isPresent() || !isMessage(frame))) {
      held = new Held(frame, refusal.orElse(null));
      return Behaviors.same();
    }
    if (refusal.isPresent()) {
      restartIdleTimer();
      outbox.tell(refusal.get());
      ack();
      return Behaviors.same();
    }
    return carryOut(frame);
  }

  private Behavior<Command> carryOut(ClientMessage frame) {
    String username = user;
    ActorRef<UserRegistry.Command> registry = services.registry();
    restartIdleTimer();
    if (frame instanceof ClientMessage.SendMessage message) {
      messagesInFlight++;
      registry.tell(
          new UserRegistry.SendDirect(
              username,
              message.to(),
              message.text(),
              message.id(),
              WireText.encodedLength(message.text()),
              replies));
      awaitReply();
      if (messagesInFlight < settings.messageWindow()) {
        ack();
      } else {
        ackOwed = true;
      }
      return Behaviors.same();
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
      return Behaviors.same();
    } else if (frame instanceof ClientMessage.Logout) {
      return logOut();
    } else {
      return unexpected(frame);
    }
    commandInFlight = frame.typeName();
    awaitReply();
    return Behaviors.same();
  }

  private Behavior<Command> onReplied(Replied replied) {
    ServerMessage reply = replied.reply();
    outbox.tell(reply);
    if (!answersAMessage(reply)) {
      commandInFlight = null;
      replyReceived();
      ack();
      return Behaviors.same();
    }
    messagesInFlight--;
    replyReceived();
    if (held != null) {
      if (messagesInFlight > 0) {
        return Behaviors.same();
      }
      Held waiting = held;
      held = null;
      if (waiting.refusal() == null) {
        return carryOut(waiting.frame());
      }
      outbox.tell(waiting.refusal());
      ack();
      return Behaviors.same();
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

  private static boolean isMessage(ClientMessage frame) {
    return frame instanceof ClientMessage.SendMessage;
  }

  /** The {@code invalid-text} answer to a message or broadcast whose text cannot be carried. */
  private Optional<ServerMessage> invalidText(ClientMessage frame) {
    if (frame instanceof ClientMessage.SendMessage message) {
      return WireText.refusal(message.text(), settings.maxTextBytes())
          .map(reason -> new ServerMessage.Error(Code.INVALID_TEXT, MESSAGE, reason, message.id()));
    }
    if (frame instanceof ClientMessage.Broadcast broadcast) {
      return WireText.refusal(broadcast.text(), settings.maxTextBytes())
          .map(reason -> new ServerMessage.Error(Code.INVALID_TEXT, frame.typeName(), reason));
    }
    return Optional.empty();
  }

  /**
   * A phase before {@link #leaving()} with no handlers of its own: frames to {@code onFrame}, and
   * the handlers every such phase shares ({@link #shared}).
   *
   * <p>The phases before {@link #leaving()} are plain functions, not Akka's behavior builder: a
   * phase's handlers live as long as it lasts, and an idle session is a long phase, where the
   * builder keeps a case object and a function for each message type (about 200 bytes in the active
   * phase) and allocates on every message it matches.
   */
  private Behavior<Command> handling(Function<ClientMessage, Behavior<Command>> onFrame) {
    return Behaviors.receiveMessage(command -> shared(command, onFrame));
  }

  /** A waiting phase of the login: its {@code answer}, the shared handlers, and no frames. */
  private <A extends Command> Behavior<Command> awaiting(
      Class<A> answer, Function<A, Behavior<Command>> onAnswer) {
    return Behaviors.receiveMessage(
        command ->
            answer.isInstance(command)
                ? onAnswer.apply(answer.cast(command))
                : shared(command, this::unexpected));
  }

  /**
   * The handlers every phase before {@link #leaving()} shares around {@code onFrame}: flood
   * control, bad input, the end of the connection, timeouts, eviction and server shutdown.
   */
  private Behavior<Command> shared(
      Command command, Function<ClientMessage, Behavior<Command>> onFrame) {
    if (command instanceof FrameReceived received) {
      inbound = received.ackTo();
      lastHeardMillis = clock.millis();
      Inbound<ClientMessage> in = received.inbound();
      if (in instanceof Inbound.Frame<ClientMessage> frame) {
        if (frame.frame() instanceof ClientMessage.Heartbeat) {
          // Proof of life only: not the user's activity, not rate limited, not answered.
          ack();
          return Behaviors.same();
        }
        if (!admitted(frame.frame())) {
          return rateLimited(frame.frame());
        }
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
    } else if (command instanceof StreamStarted started) {
      inbound = started.ackTo();
      outbox = started.outbound();
      ack();
      return Behaviors.same();
    } else if (command instanceof StreamCompleted) {
      if (user != null) {
        context.getLog().warn("connection closed without logout remote={} user={}", remote, user);
      } else {
        context.getLog().info("connection closed before login remote={}", remote);
      }
      return disconnected();
    } else if (command instanceof StreamFailed failed) {
      if (failed.cause() instanceof BufferOverflowException) {
        context.getLog().warn("client too slow, disconnected remote={} user={}", remote, user);
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
    } else if (command instanceof LoginTimedOut) {
      context.getLog().info("login timed out remote={}", remote);
      return close(Reason.TIMED_OUT);
    } else if (command instanceof RequestTimedOut) {
      return onRequestTimer(this::onRequestTimedOut);
    } else if (command instanceof IdleOrHeartbeatDue) {
      return onIdleOrHeartbeatDue();
    } else if (command instanceof ClientCertificatePresented presented) {
      certificate = presented.fingerprint();
      return Behaviors.same();
    } else if (command instanceof EvictionOrdered evicted) {
      context.getLog().info("session evicted user={} reason={}", user, evicted.eviction().reason());
      return close(evicted.eviction().reason());
    } else if (command instanceof Shutdown) {
      return close(Reason.SERVER_SHUTDOWN);
    }
    return Behaviors.unhandled();
  }

  // ---- flood control ----

  /**
   * Whether the flood control lets {@code frame} through. Acks always pass (the client sends them
   * by itself, and they only free the server's resources), and so does a logout, which ends the
   * work.
   */
  private boolean admitted(ClientMessage frame) {
    if (commands == null
        || frame instanceof ClientMessage.Acknowledge
        || frame instanceof ClientMessage.Logout) {
      return true;
    }
    if (commands.tryTake(TimeUnit.MILLISECONDS.toNanos(clock.millis()))) {
      refusedInARow = 0;
      return true;
    }
    return false;
  }

  /** A frame over the rate: refused, and past the threshold the connection is closed. */
  private Behavior<Command> rateLimited(ClientMessage frame) {
    refusedInARow++;
    if (refusedInARow == 1) {
      context.getLog().info("rate limited remote={} user={}", remote, user);
    }
    if (refusedInARow >= settings.limits().disconnectAfter()) {
      context
          .getLog()
          .warn("flooding, disconnected remote={} user={} refused={}", remote, user, refusedInARow);
      return close(Reason.RATE_LIMITED);
    }
    String id = frame instanceof ClientMessage.SendMessage message ? message.id() : null;
    String subject = frame instanceof ClientMessage.SendMessage message ? message.to() : null;
    ServerMessage refusal =
        new ServerMessage.Error(Code.RATE_LIMITED, frame.typeName(), subject, id);
    if (messagesInFlight > 0) {
      held = new Held(frame, refusal);
      return Behaviors.same();
    }
    outbox.tell(refusal);
    ack();
    return Behaviors.same();
  }

  /** A login step over the per-address rate: refused, and the step may be tried again later. */
  private Behavior<Command> refuseLoginStep(String step, Behavior<Command> next) {
    outbox.tell(new ServerMessage.Error(Code.RATE_LIMITED, step, null));
    ack();
    return next;
  }

  // ---- heartbeats ----

  /**
   * When the heartbeat check after one at {@code nowMillis} is due, for a client silent for {@code
   * silentMillis}: the moment its silence crosses the next multiple of heartbeat-interval, or
   * heartbeat-timeout. Checking only then, rather than on every frame, costs a busy connection one
   * wake-up per interval, not one per frame.
   */
  private long nextHeartbeatCheck(long nowMillis, long silentMillis) {
    long interval = settings.heartbeatInterval().toMillis();
    long nextCheck =
        Math.min((silentMillis / interval + 1) * interval, settings.heartbeatTimeout().toMillis());
    return nowMillis + nextCheck - silentMillis;
  }

  private void scheduleHeartbeat(long delayMillis) {
    heartbeatDueMillis = clock.millis() + delayMillis;
    idle.wakeAt(heartbeatDueMillis);
  }

  // ---- requests and their timeout ----

  /** A request is on its way: the request timeout runs (again) from now. */
  private void awaitReply() {
    request.restart();
  }

  /** An answer came: the timeout runs on, from now, only while other answers are still owed. */
  private void replyReceived() {
    if (messagesInFlight > 0 || commandInFlight != null) {
      awaitReply();
    } else {
      request.stop();
    }
  }

  /** The request timer fired: {@code timedOut} if an answer is owed and its time has run out. */
  private Behavior<Command> onRequestTimer(Supplier<Behavior<Command>> timedOut) {
    return request.fired() ? timedOut.get() : Behaviors.same();
  }

  private Behavior<Command> onRequestTimedOut() {
    String waitingFor = messagesInFlight > 0 ? MESSAGE : commandInFlight;
    context
        .getLog()
        .warn(
            "request timed out remote={} user={} request={} after={}s",
            remote,
            user,
            waitingFor,
            settings.requestTimeout().toSeconds());
    if (user != null && waitingFor != null) {
      outbox.tell(new ServerMessage.Error(Code.UNAVAILABLE, waitingFor, null));
    }
    return close(Reason.SERVER_BUSY);
  }

  /** The login guard or the store could not take the request now. */
  private Behavior<Command> busy() {
    context.getLog().info("server busy, login refused remote={}", remote);
    return close(Reason.SERVER_BUSY);
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
  private Behavior<Command> badFrame(Code code, String command, String clientDetail) {
    badFrames++;
    // An unknown type, or a field name in a reason, may be as long as the frame that held it:
    // echoed whole, the answer could not fit a frame itself.
    String detail = shortened(clientDetail);
    // The detail and the command come from the client: quoted, so they cannot forge a log line.
    context
        .getLog()
        .warn(
            "bad frame remote={} user={} code={} detail={} count={}",
            remote,
            user,
            code,
            quoted(detail),
            badFrames);
    if (badFrames >= settings.maxBadFrames()) {
      return close(Reason.PROTOCOL_VIOLATION);
    }
    outbox.tell(new ServerMessage.Error(code, command, detail));
    ack();
    return Behaviors.same();
  }

  /** {@code logout}: leave the registry, and say goodbye once the logout is stored. */
  private Behavior<Command> logOut() {
    idle.stop();
    timers.cancel(LOGIN_TIMER);
    services.registry().tell(new UserRegistry.Leave(user, context.getSelf(), leaves));
    user = null;
    awaitReply();
    return leaving();
  }

  /**
   * Ends the session from the server's side: leave the registry if logged in (so that messages sent
   * from now on are kept for the user), then say goodbye.
   */
  private Behavior<Command> close(Reason reason) {
    context.getLog().debug("session closing remote={} user={} reason={}", remote, user, reason);
    leaveRegistry();
    return sayGoodbye(reason);
  }

  private Behavior<Command> sayGoodbye(Reason reason) {
    if (outbox == null) {
      // Nothing to say it on yet: the connection's stream, when it starts, finds the session gone
      // and closes.
      return Behaviors.stopped();
    }
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

  /** At most {@value #MAX_ECHOED_CHARS} characters of something the client sent. */
  private static String shortened(String text) {
    if (text == null || text.length() <= MAX_ECHOED_CHARS) {
      return text;
    }
    int end = MAX_ECHOED_CHARS;
    if (Character.isHighSurrogate(text.charAt(end - 1))) {
      end--;
    }
    return text.substring(0, end) + "...";
  }

  /**
   * Client-supplied text for a log line, in quotes and with anything that could end the line or
   * fake another escaped: a client must not be able to forge a line of the server's log.
   */
  private static String quoted(String text) {
    if (text == null) {
      return "-";
    }
    StringBuilder quoted = new StringBuilder(text.length() + 2).append('"');
    text.codePoints()
        .forEach(
            c -> {
              if (c == '"' || c == '\\') {
                quoted.append('\\').appendCodePoint(c);
              } else if (Character.isISOControl(c) || c == 0x2028 || c == 0x2029) {
                quoted.append(String.format("\\u%04x", c));
              } else {
                quoted.appendCodePoint(c);
              }
            });
    return quoted.append('"').toString();
  }

  /** The user did something: the idle timeout runs (again) from now. */
  private void restartIdleTimer() {
    idle.restart();
  }

  /**
   * The idle timeout first, then the heartbeat check if one is due (past heartbeat-timeout the
   * client is taken for dead). The timer is set again once, for whichever comes next.
   */
  private Behavior<Command> onIdleOrHeartbeatDue() {
    long now = clock.millis();
    boolean heartbeatCheck = heartbeatDueMillis <= now;
    long silent = now - lastHeardMillis;
    boolean unresponsive = heartbeatCheck && silent >= settings.heartbeatTimeout().toMillis();
    if (heartbeatCheck) {
      heartbeatDueMillis = unresponsive ? NO_HEARTBEAT : nextHeartbeatCheck(now, silent);
    }
    if (idle.fired(heartbeatDueMillis)) {
      context
          .getLog()
          .info("session idle user={} after={}s", user, settings.idleTimeout().toSeconds());
      return close(Reason.TIMED_OUT);
    }
    if (unresponsive) {
      context
          .getLog()
          .warn(
              "client unresponsive, disconnected remote={} user={} silent={}s",
              remote,
              user,
              TimeUnit.MILLISECONDS.toSeconds(silent));
      return close(Reason.UNRESPONSIVE);
    }
    if (heartbeatCheck && silent >= settings.heartbeatInterval().toMillis()) {
      outbox.tell(new ServerMessage.Heartbeat());
    }
    return Behaviors.same();
  }

  private void ack() {
    if (inbound != null) {
      inbound.tell(StreamAck.INSTANCE);
    }
  }
}
