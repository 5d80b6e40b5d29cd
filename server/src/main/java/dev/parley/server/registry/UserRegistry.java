package dev.parley.server.registry;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import dev.parley.protocol.ServerMessage;
import dev.parley.protocol.ServerMessage.Error.Code;
import dev.parley.protocol.ServerMessage.Goodbye;
import dev.parley.protocol.WireText;
import dev.parley.server.ServerSettings;
import dev.parley.server.broadcast.Broadcaster;
import dev.parley.server.cluster.CborSerializable;
import dev.parley.server.metrics.Metrics;
import dev.parley.server.store.Change;
import dev.parley.server.store.Journal;
import dev.parley.server.store.ResumeGrant;
import dev.parley.server.store.Store;
import dev.parley.server.store.StoreSnapshot;
import dev.parley.server.store.StoredMessage;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * Who is online, since when, who blocks whom, and each user's direct messages. The single source of
 * truth for presence, blocks and delivery: it admits logged-in sessions, routes direct messages
 * through the {@link Journal} to the recipient's connection, answers whoelse and whoelsesince, and
 * keeps the {@link Broadcaster}'s roster up to date.
 *
 * <p>Replies to commands are the wire frames the requesting session sends back to its client: a
 * specific success frame, or {@link ServerMessage.Error} naming the command and the user. Checks
 * run in the order docs/protocol.md (4.4) gives: unknown user, self, blocked, then online/offline.
 *
 * <p>Durable before confirmed: a message is answered {@code message-accepted} and delivered only
 * once the journal has stored it; a block or unblock is confirmed, and takes effect, only once
 * stored; an acknowledgement frees the messages it covers only once stored; a {@code logout} is
 * answered ({@link Left}) once stored, and with it every acknowledgement before it.
 *
 * <p>Delivery is paced by the client: each user's {@link Mailbox} lets at most the delivery window
 * go out ahead of the client's acknowledgements. A message stored while the user is online, caught
 * up and within the window goes to the connection at once; the rest wait in the store and are read
 * back a page at a time as acknowledgements come in, which is also how the mailbox is delivered at
 * login. The texts are never all held in memory, and a connection never receives more than its
 * window of messages it has not acknowledged.
 *
 * <p>Handlers check everything that can fail before they change anything, so that a failure while
 * handling one message (the actor resumes) cannot leave the counters out of step.
 */
public final class UserRegistry extends AbstractBehavior<UserRegistry.Command> {

  /** What the registry understands. */
  public sealed interface Command {}

  /**
   * The messages a cluster node's {@link ClusterRegistry} sends itself (its owners' answers, the
   * loss of a session or an owner): it speaks this protocol to the node's sessions, and its own
   * messages must be of the same type.
   */
  non-sealed interface NodeMessage extends Command {}

  /** Is {@code username} logged in right now? Answered with {@link OnlineStatus}. */
  public record IsOnline(String username, ActorRef<OnlineStatus> replyTo) implements Command {}

  /** Reply to {@link IsOnline}. */
  public record OnlineStatus(String username, boolean online) {}

  /**
   * Where a session's frames go, and where its client takes private chats.
   *
   * @param session the session actor; the registry watches it to notice a session that ends without
   *     {@link Unregister}
   * @param outbox the connection's outbound queue
   * @param evictTo told if the session must end (its account was removed, or the user's client
   *     resumed it on another connection)
   * @param peerHost the address the session's connection comes from
   * @param peerPort the port on which the user's client accepts private chats
   * @param peerFingerprint the fingerprint of the certificate of the client's peer listener; null
   *     when the client did not say (it then takes no authenticated private chats)
   * @param certificate the fingerprint of the TLS client certificate the connection presented, to
   *     which the session's resumption is bound; null without TLS or without a certificate
   * @param protocolVersion the protocol version the client speaks: only from version 3 on is it
   *     given a resumption token, and told of private chats it is invited to
   */
  public record Attachment(
      ActorRef<?> session,
      ActorRef<ServerMessage> outbox,
      ActorRef<Evict> evictTo,
      String peerHost,
      int peerPort,
      String peerFingerprint,
      String certificate,
      int protocolVersion)
      implements CborSerializable {

    /** {@code peerPort} of a client that sent none: it takes no private chats. */
    public static final int NO_PEER_PORT = 0;

    /** The first protocol version that resumes sessions and takes private-chat tokens. */
    public static final int TOKENS_VERSION = 3;

    /** Whether the client resumes sessions and checks private-chat tokens. */
    public boolean takesTokens() {
      return protocolVersion >= TOKENS_VERSION;
    }

    /** Whether the client accepts private chats: a web browser, which cannot listen, does not. */
    public boolean takesPrivateChats() {
      return peerPort != NO_PEER_PORT;
    }
  }

  /**
   * Admit an authenticated session. On success the registry writes {@code login-accepted}, with a
   * new resumption token, to the session's outbox, tells the others, starts delivering the user's
   * waiting messages in order, and replies {@link Registration#REGISTERED}.
   */
  public record Register(String username, Attachment attachment, ActorRef<Registration> replyTo)
      implements Command {}

  /** Reply to {@link Register}. */
  public enum Registration {
    /** Admitted: the session is now the user's. */
    REGISTERED,
    /** Another session of this user is online; nothing changed. */
    ALREADY_ONLINE,
    /** The user's owner could not be reached (a cluster whose node just failed): try later. */
    UNAVAILABLE
  }

  /**
   * Admit a session that presents the resumption token of the user's last session, instead of a
   * password. If the token is the one last handed out, is presented by the client certificate it is
   * bound to, and the session it belongs to is open or ended within the resumption window, the new
   * session takes over: an open one is evicted ({@code goodbye resumed}) without the others seeing
   * the user leave, delivery carries on from the user's last acknowledgement, and the new session
   * gets {@code login-accepted} with the next token (each token resumes once). Replied {@link
   * Resumption#RESUMED} or {@link Resumption#REFUSED}; a refusal changes nothing.
   */
  public record Resume(
      String username, String token, Attachment attachment, ActorRef<Resumption> replyTo)
      implements Command {
    @Override
    public String toString() {
      return "Resume[username=" + username + ", token=<hidden>, attachment=" + attachment + "]";
    }
  }

  /** Reply to {@link Resume}. */
  public enum Resumption {
    /** The session is now the user's, carrying on where the last one was. */
    RESUMED,
    /** Unknown, reused, expired or stolen token: log in with the password. */
    REFUSED
  }

  /** An administrator changed the user's password: their client can no longer resume. */
  public record PasswordChanged(String username) implements Command {}

  /** To a registered session: end now, saying goodbye with {@code reason}. */
  public record Evict(Goodbye.Reason reason) implements CborSerializable {}

  /**
   * The session of {@code username} ended (timed out, was closed, lost its connection). Ignored
   * unless it is the current one.
   */
  public record Unregister(String username, ActorRef<?> session) implements Command {}

  /**
   * The session of {@code username} logs out: answered with {@link Left} once the logout is stored,
   * and so every acknowledgement the session sent before it (or once storing it failed).
   */
  public record Leave(String username, ActorRef<?> session, ActorRef<Left> replyTo)
      implements Command {}

  /** Reply to {@link Leave}. */
  public enum Left implements CborSerializable {
    INSTANCE
  }

  /**
   * The node is stopping: the resumable sessions it closes from now on were interrupted, not ended.
   * The others are not told they left (the same stop disconnects everyone, and says so), their
   * grants stay open until the next start, and a client that resumes one there comes back
   * unannounced. A cluster's registry ignores it: one node's stop is not its users' stop.
   */
  public enum ShutdownStarted implements Command {
    INSTANCE
  }

  /**
   * A direct message; answered with {@code message-accepted} or an error.
   *
   * @param size the text's encoded length in bytes ({@link WireText#encodedLength})
   */
  public record SendDirect(
      String from, String to, String text, String id, int size, ActorRef<ServerMessage> replyTo)
      implements Command {
    @Override
    public String toString() {
      return "SendDirect[from=" + from + ", to=" + to + ", id=" + id + ", size=" + size + "]";
    }
  }

  /** {@code user}'s client has shown every message up to {@code seq}. Not answered. */
  public record Acknowledge(String user, long seq) implements Command {}

  /** whoelse: answered with {@code online-users}. */
  public record ListOnline(String requester, ActorRef<ServerMessage> replyTo) implements Command {}

  /** whoelsesince: answered with {@code recent-users}. */
  public record ListRecent(String requester, long seconds, ActorRef<ServerMessage> replyTo)
      implements Command {}

  /** block: answered with {@code block-confirmed} once stored, or an error. */
  public record Block(String blocker, String target, ActorRef<ServerMessage> replyTo)
      implements Command {}

  /** unblock: answered with {@code unblock-confirmed} once stored, or an error. */
  public record Unblock(String blocker, String target, ActorRef<ServerMessage> replyTo)
      implements Command {}

  /**
   * startprivate: answered with {@code peer-address} or an error. When both clients take tokens,
   * the address comes with the peer listener's fingerprint and a new one-time token, and the peer
   * is told over its own connection ({@code peer-invited}) that the requester may connect with it.
   */
  public record LocatePeer(String requester, String target, ActorRef<ServerMessage> replyTo)
      implements Command {}

  /** An administrator created an account. */
  public record AccountAdded(String username) implements Command {}

  /** An administrator removed an account: its session, if online, is closed. */
  public record AccountRemoved(String username) implements Command {}

  private record SessionTerminated(String username, ActorRef<?> session) implements Command {}

  private record ChangesRecorded(Journal.Recorded recorded) implements Command {}

  private record PageRead(
      String user, Attachment member, long[] ids, List<StoredMessage> messages, Throwable failure)
      implements Command {}

  /** Time to sum the mailboxes for {@code parley_mailbox_*}. */
  private enum MailboxSampleDue implements Command {
    INSTANCE
  }

  /**
   * How often the mailboxes are summed for the metrics: fresher than a scrape (Prometheus' default
   * interval is 15 s), yet a pass over every user's mailbox (a few microseconds per thousand users)
   * costs the registry nothing it would notice.
   */
  private static final Duration MAILBOX_SAMPLE_INTERVAL = Duration.ofSeconds(5);

  private enum PagingRetryDue implements Command {
    INSTANCE
  }

  private enum DirectoryRefreshDue implements Command {
    INSTANCE
  }

  /** The resumption window of the sessions the last stop interrupted has passed. */
  private enum ReturnsOverdue implements Command {
    INSTANCE
  }

  private record DirectoryRefreshed(Collection<String> usernames, Throwable failure)
      implements Command {}

  /** Identifies a message among all: the recipient and its number for them. */
  private record MessageKey(String recipient, long seq) {}

  /** A message being stored: who waits for it, and its encoded size. */
  private record Writing(ActorRef<ServerMessage> sender, int size) {}

  private static final String MESSAGE = "message";
  private static final String BLOCK = "block";
  private static final String UNBLOCK = "unblock";
  private static final String START_PRIVATE = "startprivate";
  private static final String WHOELSESINCE = "whoelsesince";

  /**
   * How the registry is set up.
   *
   * @param mailbox the mailbox limits and the delivery window
   * @param listLimit most names in a whoelse or whoelsesince reply
   * @param listBytes most bytes of encoded names in such a reply (it must fit one frame)
   * @param directoryRefresh how often the full list of accounts is read again
   * @param pagingRetry how soon a page the store could not read is asked for again
   * @param resumeWindow how long after a session ends without a logout its client may resume it
   * @param peerTokenTtl how long the token of a private chat lets the requester connect to the peer
   */
  public record Settings(
      ServerSettings.Mailbox mailbox,
      int listLimit,
      int listBytes,
      Duration directoryRefresh,
      Duration pagingRetry,
      Duration resumeWindow,
      Duration peerTokenTtl) {}

  /** Reads stored messages by id, off the actor's thread (the store's read pool). */
  @FunctionalInterface
  public interface MailboxReader {
    CompletionStage<List<StoredMessage>> read(String recipient, long[] messageIds);
  }

  /**
   * @param initial the stored state to start from
   * @param directory reads every username (off the actor's thread), to notice accounts added or
   *     removed while the server runs
   * @param clock the time of logins and logouts (for whoelsesince) and of messages
   */
  public static Behavior<Command> create(
      StoreSnapshot initial,
      ActorRef<Broadcaster.Command> broadcaster,
      ActorRef<Journal.Command> journal,
      Supplier<CompletionStage<? extends Collection<String>>> directory,
      MailboxReader reader,
      Settings settings,
      Clock clock) {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers ->
                    new UserRegistry(
                        context,
                        timers,
                        initial,
                        broadcaster,
                        journal,
                        directory,
                        reader,
                        settings,
                        clock)));
  }

  private final TimerScheduler<Command> timers;
  private final ActorRef<Broadcaster.Command> broadcaster;
  private final ActorRef<Journal.Command> journal;
  private final Supplier<CompletionStage<? extends Collection<String>>> directory;
  private final MailboxReader reader;
  private final Settings settings;
  private final Clock clock;
  private final ActorRef<Journal.Recorded> recordedAdapter;

  /** Every account, as of the last look at the store. */
  private Set<String> usernames;

  /** Online users in the order they logged in (whoelse lists them that way). */
  private final Map<String, Attachment> online = new LinkedHashMap<>();

  /** When each user who has ever been online last logged out. */
  private final Map<String, Instant> lastLogout;

  /** Blocker to the users they block. */
  private final Map<String, Set<String>> blocks = new HashMap<>();

  /** The grant with which each user's client may resume their session. */
  private final Map<String, ResumeGrant> resumptions = new HashMap<>();

  /**
   * Users whose session the node's last stop interrupted and who are not back yet: their return by
   * resumption is not announced, and their absence is once their window has passed.
   */
  private final Set<String> interrupted = new HashSet<>();

  /** The node is stopping ({@link ShutdownStarted}). */
  private boolean stopping;

  private final SessionTokens tokens;

  /** How each user's mailbox goes out to their connection. */
  private final Delivery delivery;

  /** Each user's numbering, acknowledgements and waiting messages. */
  private final Map<String, Mailbox> mailboxes = new HashMap<>();

  /** Who waits for each message being stored, and its size. */
  private final Map<MessageKey, Writing> inFlight = new HashMap<>();

  /** Each sender's replies not sent yet, released in the order of its messages. */
  private final RepliesInOrder<MessageKey> owedReplies = new RepliesInOrder<>();

  /** Changes other than messages that someone waits for. */
  private final Confirmations confirmations = new Confirmations();

  /** Online users whose page could not be read: asked for again when the retry is due. */
  private final Set<String> pagingStalled = new HashSet<>();

  private final Metrics metrics;

  private UserRegistry(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      StoreSnapshot initial,
      ActorRef<Broadcaster.Command> broadcaster,
      ActorRef<Journal.Command> journal,
      Supplier<CompletionStage<? extends Collection<String>>> directory,
      MailboxReader reader,
      Settings settings,
      Clock clock) {
    super(context);
    // Named for the class: detected from the stack, the name can come out as Akka's ActorCell,
    // whose level (WARN) then hides this actor's INFO lines.
    context.setLoggerName(UserRegistry.class);
    this.metrics = Metrics.get(context.getSystem());
    timers.startTimerWithFixedDelay(
        MailboxSampleDue.INSTANCE, Duration.ZERO, MAILBOX_SAMPLE_INTERVAL);
    this.timers = timers;
    this.broadcaster = broadcaster;
    this.journal = journal;
    this.directory = directory;
    this.reader = reader;
    this.settings = settings;
    this.clock = clock;
    this.tokens = new SessionTokens(settings.peerTokenTtl());
    this.delivery = new Delivery(settings.mailbox(), this::readPage, metrics.messagesDelivered);
    this.usernames = new HashSet<>(initial.usernames());
    this.lastLogout = new HashMap<>(initial.lastLogouts());
    initial.blocks().forEach((blocker, blocked) -> blocks.put(blocker, new HashSet<>(blocked)));
    restoreMailboxes(initial);
    restoreResumptions(initial);
    this.recordedAdapter = context.messageAdapter(Journal.Recorded.class, ChangesRecorded::new);
    timers.startTimerWithFixedDelay(
        DirectoryRefreshDue.INSTANCE, DirectoryRefreshDue.INSTANCE, settings.directoryRefresh());
  }

  /**
   * A session that was open when the server stopped (a crash, or a stop that closed it) may be
   * resumed within the window from now, as if it had ended now: its client is on its way back.
   */
  private void restoreResumptions(StoreSnapshot initial) {
    Instant windowEnd = clock.instant().plus(settings.resumeWindow());
    initial
        .resumptions()
        .forEach(
            (user, grant) -> {
              if (grant.until() == null) {
                interrupted.add(user);
                resumptions.put(user, grant.lapsingAt(windowEnd));
              } else {
                resumptions.put(user, grant);
              }
            });
    if (!interrupted.isEmpty()) {
      timers.startSingleTimer(
          ReturnsOverdue.INSTANCE, ReturnsOverdue.INSTANCE, settings.resumeWindow());
    }
  }

  private void restoreMailboxes(StoreSnapshot initial) {
    Set<String> users = new HashSet<>(initial.lastSeqs().keySet());
    users.addAll(initial.pending().keySet());
    for (String user : users) {
      Mailbox mailbox =
          new Mailbox(
              initial.lastSeqs().getOrDefault(user, 0L),
              initial.ackedSeqs().getOrDefault(user, 0L));
      StoreSnapshot.PendingMessages pending = initial.pending().get(user);
      if (pending != null) {
        mailbox.restore(pending.seqs(), pending.ids(), pending.sizes());
      }
      if (mailbox.lastSeq() > 0 || !mailbox.isIdle()) {
        mailboxes.put(user, mailbox);
      }
    }
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(SendDirect.class, this::onSendDirect)
        .onMessage(ChangesRecorded.class, this::onChangesRecorded)
        .onMessage(Acknowledge.class, this::onAcknowledge)
        .onMessage(PageRead.class, this::onPageRead)
        .onMessage(IsOnline.class, this::onIsOnline)
        .onMessage(Register.class, this::onRegister)
        .onMessage(Resume.class, this::onResume)
        .onMessage(PasswordChanged.class, this::onPasswordChanged)
        .onMessage(Unregister.class, this::onUnregister)
        .onMessage(Leave.class, this::onLeave)
        .onMessage(SessionTerminated.class, this::onSessionTerminated)
        .onMessage(ListOnline.class, this::onListOnline)
        .onMessage(ListRecent.class, this::onListRecent)
        .onMessage(Block.class, this::onBlock)
        .onMessage(Unblock.class, this::onUnblock)
        .onMessage(LocatePeer.class, this::onLocatePeer)
        .onMessage(AccountAdded.class, this::onAccountAdded)
        .onMessage(AccountRemoved.class, this::onAccountRemoved)
        .onMessage(PagingRetryDue.class, due -> onPagingRetryDue())
        .onMessage(MailboxSampleDue.class, due -> onMailboxSampleDue())
        .onMessage(DirectoryRefreshDue.class, due -> onDirectoryRefreshDue())
        .onMessage(DirectoryRefreshed.class, this::onDirectoryRefreshed)
        .onMessage(ShutdownStarted.class, started -> onShutdownStarted())
        .onMessage(ReturnsOverdue.class, overdue -> onReturnsOverdue())
        .build();
  }

  // ---- presence ----

  private Behavior<Command> onIsOnline(IsOnline command) {
    command
        .replyTo()
        .tell(new OnlineStatus(command.username(), online.containsKey(command.username())));
    return this;
  }

  private Behavior<Command> onRegister(Register command) {
    String user = command.username();
    if (online.containsKey(user)) {
      command.replyTo().tell(Registration.ALREADY_ONLINE);
      return this;
    }
    join(user, command.attachment(), true);
    getContext()
        .getLog()
        .info("user logged in user={} from={}", user, command.attachment().peerHost());
    command.replyTo().tell(Registration.REGISTERED);
    return this;
  }

  private Behavior<Command> onResume(Resume command) {
    String user = command.username();
    Attachment attachment = command.attachment();
    Attachment previous = online.get(user);
    String refusal =
        tokens.resumeRefusal(
            resumptions.get(user),
            previous != null,
            command.token(),
            attachment.certificate(),
            clock.instant());
    if (refusal != null) {
      getContext()
          .getLog()
          .warn(
              "resumption refused user={} from={} reason={}", user, attachment.peerHost(), refusal);
      command.replyTo().tell(Resumption.REFUSED);
      return this;
    }
    if (previous == null) {
      // The last session has ended already. The others saw the user leave, and hear of the return
      // as of a login; unless the node's stop ended it, which they were not told of.
      join(user, attachment, !interrupted.contains(user));
    } else {
      takeOver(user, previous, attachment);
    }
    getContext()
        .getLog()
        .info(
            "session resumed user={} from={} tookOver={}",
            user,
            attachment.peerHost(),
            previous != null);
    command.replyTo().tell(Resumption.RESUMED);
    return this;
  }

  /**
   * {@code user} comes online with {@code attachment}: welcomed with a new resumption token, the
   * others told if {@code announced}, and the kept messages delivered from the last
   * acknowledgement.
   */
  private void join(String user, Attachment attachment, boolean announced) {
    // An account added since the directory was last read: it just proved it exists.
    usernames.add(user);
    interrupted.remove(user);
    online.put(user, attachment);
    getContext().watchWith(attachment.session(), new SessionTerminated(user, attachment.session()));
    // The documented order (docs/protocol.md, 4.3): the welcome, then the others hear of it, then
    // the kept messages.
    ResumeGrant grant = welcome(user, attachment);
    broadcaster.tell(
        new Broadcaster.MemberJoined(user, attachment.outbox(), blockList(user), announced));
    deliverAfresh(user, attachment);
    journal.tell(new Journal.Record(new Change.LoggedIn(user, clock.instant(), grant), null));
  }

  /**
   * {@code user}'s client resumed on a new connection while the old session was still open: the old
   * one goes, and the others, who never saw the user leave, are told nothing.
   */
  private void takeOver(String user, Attachment previous, Attachment attachment) {
    getContext().unwatch(previous.session());
    previous.evictTo().tell(new Evict(Goodbye.Reason.RESUMED));
    online.put(user, attachment);
    getContext().watchWith(attachment.session(), new SessionTerminated(user, attachment.session()));
    ResumeGrant grant = welcome(user, attachment);
    broadcaster.tell(new Broadcaster.MemberMoved(user, attachment.outbox()));
    deliverAfresh(user, attachment);
    journal.tell(new Journal.Record(new Change.LoggedIn(user, clock.instant(), grant), null));
  }

  /**
   * Welcomes {@code user}'s new session ({@code login-accepted}), with a new token if the client
   * can resume, which replaces any grant before it; returns the grant (null if none).
   */
  private ResumeGrant welcome(String user, Attachment attachment) {
    ResumeGrant grant = tokens.welcome(user, attachment);
    if (grant == null) {
      resumptions.remove(user);
    } else {
      resumptions.put(user, grant);
    }
    return grant;
  }

  /** Delivery to a new connection starts again from the user's last acknowledgement. */
  private void deliverAfresh(String user, Attachment attachment) {
    Mailbox mailbox = mailboxes.get(user);
    if (mailbox != null) {
      delivery.afresh(user, mailbox, attachment);
    }
  }

  private Behavior<Command> onPasswordChanged(PasswordChanged changed) {
    // The store cleared the grant with the new password, but a login checked against the old one
    // just before this news arrived may have written a new grant since: it goes too, here and
    // there.
    if (resumptions.remove(changed.username()) != null) {
      getContext().getLog().info("resumption revoked user={} cause=password", changed.username());
    }
    journal.tell(new Journal.Record(new Change.ResumptionRevoked(changed.username()), null));
    return this;
  }

  private Behavior<Command> onUnregister(Unregister command) {
    leave(command.username(), command.session(), null);
    return this;
  }

  private Behavior<Command> onSessionTerminated(SessionTerminated signal) {
    leave(signal.username(), signal.session(), null);
    return this;
  }

  private Behavior<Command> onLeave(Leave command) {
    ActorRef<Left> replyTo = command.replyTo();
    if (!leave(command.username(), command.session(), () -> replyTo.tell(Left.INSTANCE))) {
      replyTo.tell(Left.INSTANCE);
    }
    return this;
  }

  /**
   * Takes {@code user} offline if {@code session} is their current one; {@code onStored}, if given,
   * runs once the logout is stored (or failed to be). Answers whether the user left.
   */
  private boolean leave(String user, ActorRef<?> session, Runnable onStored) {
    Attachment member = online.get(user);
    // A late notice about an earlier session must not log out the user's current one.
    if (member == null || !member.session().equals(session)) {
      return false;
    }
    Instant now = clock.instant();
    online.remove(user);
    pagingStalled.remove(user);
    getContext().unwatch(session);
    if (usernames.contains(user)) {
      lastLogout.put(user, now);
    }
    if (stopping && onStored == null && resumptions.containsKey(user)) {
      // Closed by the stop, not by the user: the grant stays open for the next start. A client
      // that cannot resume (protocol 1 or 2) has none: it will log in again, and is seen to go.
      journal.tell(new Journal.Record(new Change.SessionInterrupted(user, now), null));
      broadcaster.tell(new Broadcaster.MemberLeft(user, member.outbox(), null, false));
      getContext().getLog().info("session interrupted by the stop user={}", user);
      return true;
    }
    // A logout ends the grant; a session that ended otherwise may be resumed for a while.
    ResumeGrant grant = onStored == null ? resumptions.get(user) : null;
    Instant resumableUntil = null;
    if (grant != null) {
      resumableUntil = now.plus(settings.resumeWindow());
      resumptions.put(user, grant.lapsingAt(resumableUntil));
    } else {
      resumptions.remove(user);
    }
    Change loggedOut = new Change.LoggedOut(user, now, resumableUntil);
    journal.tell(confirmations.record(loggedOut, onStored, recordedAdapter));
    broadcaster.tell(new Broadcaster.MemberLeft(user, member.outbox()));
    getContext().getLog().info("user logged out user={}", user);
    return true;
  }

  private Behavior<Command> onShutdownStarted() {
    stopping = true;
    return this;
  }

  /**
   * The users the last stop interrupted who have not come back, by resuming or logging in, have
   * gone for the others too: they are told now, as they would have been of a lost connection. Their
   * grants, expired now, go from the store too, or the next start would take them for interrupted
   * again.
   */
  private Behavior<Command> onReturnsOverdue() {
    for (String user : interrupted) {
      broadcaster.tell(new Broadcaster.ReturnOverdue(user, blockList(user)));
      resumptions.remove(user);
      journal.tell(new Journal.Record(new Change.ResumptionRevoked(user), null));
    }
    getContext()
        .getLog()
        .info("sessions not resumed after the last stop count={}", interrupted.size());
    interrupted.clear();
    return this;
  }

  // ---- direct messages ----

  private Behavior<Command> onSendDirect(SendDirect command) {
    String from = command.from();
    String to = command.to();
    Instant now = clock.instant();
    Mailbox mailbox = mailboxes.get(to);
    Code error = null;
    if (!usernames.contains(to)) {
      error = Code.INVALID_USER;
    } else if (to.equals(from)) {
      error = Code.SELF;
    } else if (isBlocking(to, from)) {
      error = Code.BLOCKED_BY_USER;
    } else if (mailbox != null && delivery.full(mailbox, command.size())) {
      error = Code.MAILBOX_FULL;
    }
    if (error != null) {
      owedReplies.inTurn(
          command.replyTo(), new ServerMessage.Error(error, MESSAGE, to, command.id()));
      return this;
    }
    if (mailbox == null) {
      mailbox = new Mailbox(0, 0);
      mailboxes.put(to, mailbox);
    }
    long seq = mailbox.startWriting(command.size());
    StoredMessage message = new StoredMessage(to, seq, from, command.id(), command.text(), now);
    MessageKey key = new MessageKey(to, seq);
    inFlight.put(key, new Writing(command.replyTo(), command.size()));
    owedReplies.expect(command.replyTo(), key);
    journal.tell(new Journal.Record(new Change.MessageAppended(message), recordedAdapter));
    return this;
  }

  /**
   * The journal has written (or failed to write) changes. It answers in the order it was told, so
   * each recipient's messages arrive here in sequence order.
   */
  private Behavior<Command> onChangesRecorded(ChangesRecorded recorded) {
    for (Journal.Recorded.Outcome outcome : recorded.recorded().outcomes()) {
      Change change = outcome.change();
      if (change instanceof Change.MessageAppended appended) {
        settle(appended.message(), outcome.outcome(), outcome.messageId());
      } else if (change instanceof Change.Acknowledged acknowledged) {
        acknowledgementRecorded(acknowledged, outcome.outcome());
      } else {
        confirmations.recorded(change, outcome.outcome());
      }
    }
    return this;
  }

  private void settle(StoredMessage message, Store.Outcome outcome, long messageId) {
    String to = message.recipient();
    MessageKey key = new MessageKey(to, message.seq());
    Writing writing = inFlight.remove(key);
    Mailbox mailbox = mailboxes.get(to);
    int size = writing != null ? writing.size() : WireText.encodedLength(message.text());
    if (mailbox != null) {
      mailbox.finishWriting(size);
    }
    ServerMessage reply =
        outcome == Store.Outcome.STORED && mailbox != null
            ? delivery.stored(to, mailbox, online.get(to), message, messageId, size)
            : Delivery.notStored(message, outcome, size, getContext().getLog());
    if (outcome == Store.Outcome.NO_RECIPIENT) {
      usernames.remove(to);
      forget(to);
    }
    if (outcome == Store.Outcome.STORED) {
      metrics.messagesAccepted.increment();
    }
    if (writing != null) {
      owedReplies.answer(writing.sender(), key, reply);
    }
  }

  // ---- delivery and acknowledgements ----

  /** Reads {@code ids} of {@code user}'s messages off the actor's thread, for {@link PageRead}. */
  private void readPage(String user, Attachment member, long[] ids) {
    getContext()
        .pipeToSelf(
            reader.read(user, ids),
            (messages, failure) -> new PageRead(user, member, ids, messages, failure));
  }

  private Behavior<Command> onPageRead(PageRead page) {
    String user = page.user();
    Mailbox mailbox = mailboxes.get(user);
    Attachment member = online.get(user);
    // A page for an earlier session of the user: the new one has asked for its own (and its
    // connecting reset the page under way).
    if (mailbox == null || member == null || member != page.member()) {
      return this;
    }
    mailbox.pageDone();
    if (page.failure() != null) {
      getContext()
          .getLog()
          .warn(
              "mailbox page could not be read user={} cause={}",
              user,
              page.failure().getClass().getSimpleName());
      pagingStalled.add(user);
      timers.startSingleTimer(
          PagingRetryDue.INSTANCE, PagingRetryDue.INSTANCE, settings.pagingRetry());
      return this;
    }
    delivery.pageRead(user, mailbox, member, page.ids(), page.messages());
    return this;
  }

  /**
   * Sums what waits in the mailboxes, off the message path: counting as messages come and go would
   * cost every message a shared write for a number read once per scrape.
   */
  private Behavior<Command> onMailboxSampleDue() {
    long messages = 0;
    long bytes = 0;
    for (Mailbox mailbox : mailboxes.values()) {
      messages += mailbox.waiting();
      bytes += mailbox.waitingBytes();
    }
    metrics.mailboxMessages.set(messages);
    metrics.mailboxBytes.set(bytes);
    return this;
  }

  private Behavior<Command> onPagingRetryDue() {
    List<String> stalled = new ArrayList<>(pagingStalled);
    pagingStalled.clear();
    for (String user : stalled) {
      Attachment member = online.get(user);
      Mailbox mailbox = mailboxes.get(user);
      if (member != null && mailbox != null) {
        delivery.more(user, mailbox, member);
      }
    }
    return this;
  }

  private Behavior<Command> onAcknowledge(Acknowledge ack) {
    Mailbox mailbox = mailboxes.get(ack.user());
    if (mailbox == null) {
      return this;
    }
    long seq = mailbox.acknowledge(ack.seq());
    if (seq > 0) {
      // Trusted only once stored: until then the messages it covers stay, and are sent again
      // after a crash, rather than lost.
      journal.tell(new Journal.Record(new Change.Acknowledged(ack.user(), seq), recordedAdapter));
    }
    return this;
  }

  private void acknowledgementRecorded(Change.Acknowledged acknowledged, Store.Outcome outcome) {
    String user = acknowledged.user();
    Mailbox mailbox = mailboxes.get(user);
    if (outcome == Store.Outcome.STORED) {
      metrics.acknowledgements.increment();
    }
    if (mailbox != null) {
      delivery.acknowledgementRecorded(
          user, mailbox, online.get(user), acknowledged.seq(), outcome);
    }
  }

  // ---- accounts ----

  private Behavior<Command> onAccountAdded(AccountAdded added) {
    usernames.add(added.username());
    return this;
  }

  private Behavior<Command> onAccountRemoved(AccountRemoved removed) {
    String user = removed.username();
    Attachment member = online.get(user);
    if (member != null) {
      member.evictTo().tell(new Evict(Goodbye.Reason.ACCOUNT_REMOVED));
    }
    resumptions.remove(user);
    usernames.remove(user);
    forget(user);
    return this;
  }

  private Behavior<Command> onDirectoryRefreshDue() {
    getContext().pipeToSelf(directory.get(), DirectoryRefreshed::new);
    return this;
  }

  private Behavior<Command> onDirectoryRefreshed(DirectoryRefreshed refreshed) {
    if (refreshed.failure() != null) {
      getContext()
          .getLog()
          .warn(
              "account list refresh failed cause={}",
              refreshed.failure().getClass().getSimpleName());
      return this;
    }
    Set<String> current = new HashSet<>(refreshed.usernames());
    // Someone online has an account, even if it was created after this read began.
    current.addAll(online.keySet());
    for (String removed : usernames) {
      if (!current.contains(removed)) {
        forget(removed);
      }
    }
    usernames = current;
    return this;
  }

  /**
   * Drops what is kept about an account removed from the store (which deleted its messages and
   * blocks), so that an account created again under the name starts afresh. A mailbox with messages
   * still being written is kept until they come back (as NO_RECIPIENT).
   */
  private void forget(String user) {
    Mailbox mailbox = mailboxes.get(user);
    if (mailbox != null && mailbox.isWriting()) {
      return;
    }
    mailboxes.remove(user);
    lastLogout.remove(user);
    interrupted.remove(user);
    blocks.remove(user);
    blocks.values().forEach(blocked -> blocked.remove(user));
    getContext().getLog().info("account removed from the store user={}", user);
  }

  // ---- lists ----

  private Behavior<Command> onListOnline(ListOnline command) {
    List<String> others = new ArrayList<>(online.size());
    for (String user : online.keySet()) {
      if (!user.equals(command.requester())) {
        others.add(user);
      }
    }
    NameList listed = NameList.capped(others, settings.listLimit(), settings.listBytes());
    command.replyTo().tell(new ServerMessage.OnlineUsers(listed.names(), listed.omitted()));
    return this;
  }

  /**
   * Everyone whose time online overlaps the last {@code seconds}: online now (in login order), then
   * those who logged out within the window, most recent first; capped like whoelse.
   */
  private Behavior<Command> onListRecent(ListRecent command) {
    if (command.seconds() < 0) {
      command
          .replyTo()
          .tell(new ServerMessage.Error(Code.INVALID_ARGUMENT, WHOELSESINCE, "seconds"));
      return this;
    }
    NameList listed =
        NameList.recent(
            online.keySet(),
            lastLogout,
            command.requester(),
            NameList.windowStart(clock.instant(), command.seconds()),
            settings.listLimit(),
            settings.listBytes());
    command
        .replyTo()
        .tell(new ServerMessage.RecentUsers(command.seconds(), listed.names(), listed.omitted()));
    return this;
  }

  // ---- blocks ----

  private Behavior<Command> onBlock(Block command) {
    String blocker = command.blocker();
    String target = command.target();
    Code error = checkTarget(blocker, target);
    if (error == null && isBlocking(blocker, target)) {
      error = Code.ALREADY_BLOCKED;
    }
    if (error != null) {
      command.replyTo().tell(new ServerMessage.Error(error, BLOCK, target));
      return this;
    }
    recordThenConfirm(
        new Change.BlockAdded(blocker, target),
        command.replyTo(),
        BLOCK,
        target,
        () -> {
          blocks.computeIfAbsent(blocker, user -> new HashSet<>()).add(target);
          blocksChanged(blocker);
          return new ServerMessage.BlockConfirmed(target);
        });
    return this;
  }

  private Behavior<Command> onUnblock(Unblock command) {
    String blocker = command.blocker();
    String target = command.target();
    Code error = checkTarget(blocker, target);
    if (error == null && !isBlocking(blocker, target)) {
      error = Code.NOT_BLOCKED;
    }
    if (error != null) {
      command.replyTo().tell(new ServerMessage.Error(error, UNBLOCK, target));
      return this;
    }
    recordThenConfirm(
        new Change.BlockRemoved(blocker, target),
        command.replyTo(),
        UNBLOCK,
        target,
        () -> {
          Set<String> blocked = blocks.get(blocker);
          if (blocked != null) {
            blocked.remove(target);
            if (blocked.isEmpty()) {
              blocks.remove(blocker);
            }
          }
          blocksChanged(blocker);
          return new ServerMessage.UnblockConfirmed(target);
        });
    return this;
  }

  /**
   * Stores {@code change} and, once it is stored, applies it ({@code apply} returns the
   * confirmation); if it could not be stored, nothing changes and the requester is told {@code
   * unavailable}.
   */
  private void recordThenConfirm(
      Change change,
      ActorRef<ServerMessage> replyTo,
      String command,
      String target,
      Supplier<ServerMessage> apply) {
    confirmations.applyOnceStored(change, command, target, apply, replyTo::tell);
    journal.tell(new Journal.Record(change, recordedAdapter));
  }

  private Behavior<Command> onLocatePeer(LocatePeer command) {
    String target = command.target();
    Code error = checkTarget(command.requester(), target);
    Attachment peer = online.get(target);
    if (error == null && isBlocking(target, command.requester())) {
      error = Code.BLOCKED_BY_USER;
    } else if (error == null && peer == null) {
      error = Code.USER_OFFLINE;
    } else if (error == null && !peer.takesPrivateChats()) {
      error = Code.PRIVATE_UNSUPPORTED;
    }
    if (error != null) {
      command.replyTo().tell(new ServerMessage.Error(error, START_PRIVATE, target));
      return this;
    }
    Attachment requester = online.get(command.requester());
    command
        .replyTo()
        .tell(
            tokens.peerAddress(
                target, peer, command.requester(), requester != null && requester.takesTokens()));
    return this;
  }

  /** The first two checks every command about another user makes: it exists, and it isn't you. */
  private Code checkTarget(String requester, String target) {
    if (!usernames.contains(target)) {
      return Code.INVALID_USER;
    }
    return target.equals(requester) ? Code.SELF : null;
  }

  private boolean isBlocking(String blocker, String target) {
    Set<String> blocked = blocks.get(blocker);
    return blocked != null && blocked.contains(target);
  }

  private Set<String> blockList(String user) {
    Set<String> blocked = blocks.get(user);
    return blocked == null ? Set.of() : Set.copyOf(blocked);
  }

  private void blocksChanged(String user) {
    if (online.containsKey(user)) {
      broadcaster.tell(new Broadcaster.BlocksChanged(user, blockList(user)));
    }
  }
}
