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
import dev.parley.server.broadcast.Broadcaster;
import dev.parley.server.store.Change;
import dev.parley.server.store.Journal;
import dev.parley.server.store.Store;
import dev.parley.server.store.StoreSnapshot;
import dev.parley.server.store.StoredMessage;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * Who is online, since when, who blocks whom, and the messages kept for users who are offline. The
 * single source of truth for presence and blocks: it admits logged-in sessions, routes direct
 * messages to the recipient's outbound frame queue (or into their mailbox), answers whoelse and
 * whoelsesince, and keeps the {@link Broadcaster}'s roster up to date.
 *
 * <p>Replies to commands are the wire frames the requesting session sends back to its client: a
 * specific success frame, or {@link ServerMessage.Error} naming the command and the user. Checks
 * run in the order the behaviour contract gives: unknown user, self, blocked, then online/offline.
 */
public final class UserRegistry extends AbstractBehavior<UserRegistry.Command> {

  /** What the registry understands. */
  public sealed interface Command {}

  /** Is {@code username} logged in right now? Answered with {@link OnlineStatus}. */
  public record IsOnline(String username, ActorRef<OnlineStatus> replyTo) implements Command {}

  /** Reply to {@link IsOnline}. */
  public record OnlineStatus(String username, boolean online) {}

  /**
   * Admit an authenticated session. On success the registry writes {@code login-accepted} to the
   * session's {@code outbox}, tells the others, writes the user's kept messages in order, and
   * replies {@link Registration#REGISTERED}; the registry watches {@code session} to notice a
   * session that ends without {@link Unregister}.
   *
   * @param peerHost the address the session's connection comes from
   * @param peerPort the port on which the user's client accepts private chats
   */
  public record Register(
      String username,
      ActorRef<?> session,
      ActorRef<ServerMessage> outbox,
      String peerHost,
      int peerPort,
      ActorRef<Registration> replyTo)
      implements Command {}

  /** Reply to {@link Register}. */
  public enum Registration {
    /** Admitted: the session is now the user's. */
    REGISTERED,
    /** Another session of this user is online; nothing changed. */
    ALREADY_ONLINE
  }

  /**
   * The session of {@code username} logged out or timed out. Ignored unless it is the current one.
   */
  public record Unregister(String username, ActorRef<?> session) implements Command {}

  /** A direct message; answered with {@code message-accepted} or an error. */
  public record SendDirect(
      String from, String to, String text, String id, ActorRef<ServerMessage> replyTo)
      implements Command {}

  /** {@code user}'s client has shown every message up to {@code seq}. Not answered. */
  public record Acknowledge(String user, long seq) implements Command {}

  /** whoelse: answered with {@code online-users}. */
  public record ListOnline(String requester, ActorRef<ServerMessage> replyTo) implements Command {}

  /** whoelsesince: answered with {@code recent-users}. */
  public record ListRecent(String requester, long seconds, ActorRef<ServerMessage> replyTo)
      implements Command {}

  /** block: answered with {@code block-confirmed} or an error. */
  public record Block(String blocker, String target, ActorRef<ServerMessage> replyTo)
      implements Command {}

  /** unblock: answered with {@code unblock-confirmed} or an error. */
  public record Unblock(String blocker, String target, ActorRef<ServerMessage> replyTo)
      implements Command {}

  /** startprivate: answered with {@code peer-address} or an error. */
  public record LocatePeer(String requester, String target, ActorRef<ServerMessage> replyTo)
      implements Command {}

  private record SessionTerminated(String username, ActorRef<?> session) implements Command {}

  private record MessageRecorded(Journal.Recorded recorded) implements Command {}

  private enum DirectoryRefreshDue implements Command {
    INSTANCE
  }

  private record DirectoryRefreshed(Collection<String> usernames, Throwable failure)
      implements Command {}

  /** Identifies a message among all: the recipient and its number for them. */
  private record MessageKey(String recipient, long seq) {}

  /** A message waiting for the journal, and who to answer when it is durable. */
  private record PendingSend(ActorRef<ServerMessage> replyTo) {}

  /** A reply owed to a sender: known at once (an error), or once the journal has answered. */
  private static final class OwedReply {
    private final MessageKey key;
    private ServerMessage reply;

    OwedReply(MessageKey key, ServerMessage reply) {
      this.key = key;
      this.reply = reply;
    }
  }

  /** An online user: where their frames go and where their client takes private chats. */
  private record Member(
      ActorRef<?> session, ActorRef<ServerMessage> outbox, String peerHost, int peerPort) {}

  private static final String MESSAGE = "message";

  /** The longest message text the store takes (its column's size), in characters. */
  public static final int MAX_TEXT_LENGTH = 65_536;

  private static final String BLOCK = "block";
  private static final String UNBLOCK = "unblock";
  private static final String START_PRIVATE = "startprivate";

  /** How the registry is set up: its limits, and where it finds the list of accounts. */
  public record Settings(int mailboxCapacity, Duration directoryRefresh) {}

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
                        settings,
                        clock)));
  }

  private final ActorRef<Broadcaster.Command> broadcaster;
  private final ActorRef<Journal.Command> journal;
  private final Supplier<CompletionStage<? extends Collection<String>>> directory;
  private final Settings settings;
  private final Clock clock;
  private final ActorRef<Journal.Recorded> recordedAdapter;

  /** Every account, as of the last look at the store. */
  private Set<String> usernames;

  /** Online users in the order they logged in (whoelse lists them that way). */
  private final Map<String, Member> online = new LinkedHashMap<>();

  /** When each user who has ever been online last logged out. */
  private final Map<String, Instant> lastLogout;

  /** Blocker to the users they block. */
  private final Map<String, Set<String>> blocks = new HashMap<>();

  /** Each user's durable messages they have not acknowledged, in sequence order. */
  private final Map<String, ArrayDeque<StoredMessage>> unacknowledged = new HashMap<>();

  /** The last sequence number given to a message for each user. */
  private final Map<String, Long> lastSeq;

  /** The highest sequence number each user acknowledged. */
  private final Map<String, Long> ackedSeq;

  /** Messages the journal is writing, and who waits for each. */
  private final Map<MessageKey, PendingSend> inFlight = new HashMap<>();

  /** How many of {@link #inFlight} are for each recipient (they count towards the capacity). */
  private final Map<String, Integer> inFlightPerRecipient = new HashMap<>();

  /**
   * Each sender's replies not sent yet, in the order of its messages. A connection may have several
   * messages in flight; an error found at once must not overtake the answers to the messages before
   * it, which wait for the journal.
   */
  private final Map<ActorRef<ServerMessage>, ArrayDeque<OwedReply>> owedReplies = new HashMap<>();

  private UserRegistry(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      StoreSnapshot initial,
      ActorRef<Broadcaster.Command> broadcaster,
      ActorRef<Journal.Command> journal,
      Supplier<CompletionStage<? extends Collection<String>>> directory,
      Settings settings,
      Clock clock) {
    super(context);
    this.broadcaster = broadcaster;
    this.journal = journal;
    this.directory = directory;
    this.settings = settings;
    this.clock = clock;
    this.usernames = new HashSet<>(initial.usernames());
    this.lastLogout = new HashMap<>(initial.lastLogouts());
    initial.blocks().forEach((blocker, blocked) -> blocks.put(blocker, new HashSet<>(blocked)));
    initial
        .unacknowledged()
        .forEach((user, messages) -> unacknowledged.put(user, new ArrayDeque<>(messages)));
    this.lastSeq = new HashMap<>(initial.lastSeqs());
    this.ackedSeq = new HashMap<>(initial.ackedSeqs());
    this.recordedAdapter = context.messageAdapter(Journal.Recorded.class, MessageRecorded::new);
    timers.startTimerWithFixedDelay(
        DirectoryRefreshDue.INSTANCE, DirectoryRefreshDue.INSTANCE, settings.directoryRefresh());
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(SendDirect.class, this::onSendDirect)
        .onMessage(MessageRecorded.class, this::onMessageRecorded)
        .onMessage(Acknowledge.class, this::onAcknowledge)
        .onMessage(IsOnline.class, this::onIsOnline)
        .onMessage(Register.class, this::onRegister)
        .onMessage(Unregister.class, this::onUnregister)
        .onMessage(SessionTerminated.class, this::onSessionTerminated)
        .onMessage(ListOnline.class, this::onListOnline)
        .onMessage(ListRecent.class, this::onListRecent)
        .onMessage(Block.class, this::onBlock)
        .onMessage(Unblock.class, this::onUnblock)
        .onMessage(LocatePeer.class, this::onLocatePeer)
        .onMessage(DirectoryRefreshDue.class, due -> onDirectoryRefreshDue())
        .onMessage(DirectoryRefreshed.class, this::onDirectoryRefreshed)
        .build();
  }

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
    // An account added since the directory was last read: it just proved it exists.
    usernames.add(user);
    Member member =
        new Member(command.session(), command.outbox(), command.peerHost(), command.peerPort());
    online.put(user, member);
    getContext().watchWith(command.session(), new SessionTerminated(user, command.session()));
    // The contract's order: the welcome, then the others hear of it, then the kept messages.
    member.outbox().tell(new ServerMessage.LoginAccepted(user));
    broadcaster.tell(new Broadcaster.MemberJoined(user, member.outbox(), blockList(user)));
    ArrayDeque<StoredMessage> kept = unacknowledged.get(user);
    if (kept != null) {
      kept.forEach(message -> member.outbox().tell(received(message)));
    }
    journal.tell(new Journal.Record(new Change.LoggedIn(user, clock.instant()), null));
    getContext().getLog().info("user logged in user={} from={}", user, command.peerHost());
    command.replyTo().tell(Registration.REGISTERED);
    return this;
  }

  private Behavior<Command> onUnregister(Unregister command) {
    return leave(command.username(), command.session());
  }

  private Behavior<Command> onSessionTerminated(SessionTerminated signal) {
    return leave(signal.username(), signal.session());
  }

  private Behavior<Command> leave(String user, ActorRef<?> session) {
    Member member = online.get(user);
    // A late notice about an earlier session must not log out the user's current one.
    if (member == null || !member.session().equals(session)) {
      return this;
    }
    online.remove(user);
    getContext().unwatch(session);
    Instant now = clock.instant();
    lastLogout.put(user, now);
    journal.tell(new Journal.Record(new Change.LoggedOut(user, now), null));
    broadcaster.tell(new Broadcaster.MemberLeft(user));
    getContext().getLog().info("user logged out user={}", user);
    return this;
  }

  private Behavior<Command> onSendDirect(SendDirect command) {
    String from = command.from();
    String to = command.to();
    Code error = null;
    if (!usernames.contains(to)) {
      error = Code.INVALID_USER;
    } else if (to.equals(from)) {
      error = Code.SELF;
    } else if (isBlocking(to, from)) {
      error = Code.BLOCKED_BY_USER;
    } else if (waitingFor(to) >= settings.mailboxCapacity()) {
      error = Code.MAILBOX_FULL;
    } else if (command.text().length() > MAX_TEXT_LENGTH) {
      error = Code.INVALID_ARGUMENT;
    }
    if (error != null) {
      ServerMessage reply = new ServerMessage.Error(error, MESSAGE, to, command.id());
      ArrayDeque<OwedReply> owed = owedReplies.get(command.replyTo());
      if (owed == null) {
        command.replyTo().tell(reply);
      } else {
        owed.addLast(new OwedReply(null, reply));
      }
      return this;
    }
    long seq = lastSeq.merge(to, 1L, Long::sum);
    StoredMessage message =
        new StoredMessage(to, seq, from, command.id(), command.text(), clock.instant());
    MessageKey key = new MessageKey(to, seq);
    inFlight.put(key, new PendingSend(command.replyTo()));
    owedReplies
        .computeIfAbsent(command.replyTo(), sender -> new ArrayDeque<>())
        .addLast(new OwedReply(key, null));
    inFlightPerRecipient.merge(to, 1, Integer::sum);
    journal.tell(new Journal.Record(new Change.MessageAppended(message), recordedAdapter));
    return this;
  }

  /**
   * The journal has written (or failed to write) a message. The journal answers in the order it was
   * told, so each recipient's messages arrive here in sequence order.
   */
  private Behavior<Command> onMessageRecorded(MessageRecorded recorded) {
    for (Journal.Recorded.Outcome outcome : recorded.recorded().outcomes()) {
      if (outcome.change() instanceof Change.MessageAppended appended) {
        settle(appended.message(), outcome.outcome());
      }
    }
    return this;
  }

  private void settle(StoredMessage message, Store.Outcome outcome) {
    String to = message.recipient();
    PendingSend pending = inFlight.remove(new MessageKey(to, message.seq()));
    inFlightPerRecipient.computeIfPresent(to, (user, count) -> count > 1 ? count - 1 : null);
    if (pending == null) {
      return;
    }
    ServerMessage reply;
    if (outcome == Store.Outcome.STORED) {
      unacknowledged.computeIfAbsent(to, user -> new ArrayDeque<>()).addLast(message);
      Member recipient = online.get(to);
      if (recipient != null) {
        recipient.outbox().tell(received(message));
      }
      reply = new ServerMessage.MessageAccepted(message.clientId(), recipient == null);
    } else if (outcome == Store.Outcome.DUPLICATE) {
      // Sent before, and stored then: accepted again, neither stored nor delivered twice.
      reply = new ServerMessage.MessageAccepted(message.clientId(), false);
    } else if (outcome == Store.Outcome.NO_RECIPIENT) {
      usernames.remove(to);
      if (!inFlightPerRecipient.containsKey(to)) {
        forget(to);
      }
      reply = new ServerMessage.Error(Code.INVALID_USER, MESSAGE, to, message.clientId());
    } else {
      reply = new ServerMessage.Error(Code.UNAVAILABLE, MESSAGE, to, message.clientId());
    }
    answer(pending.replyTo(), new MessageKey(to, message.seq()), reply);
  }

  /** Settles the reply owed for {@code key} and sends every reply now due, in order. */
  private void answer(ActorRef<ServerMessage> sender, MessageKey key, ServerMessage reply) {
    ArrayDeque<OwedReply> owed = owedReplies.get(sender);
    if (owed == null) {
      sender.tell(reply);
      return;
    }
    for (OwedReply waiting : owed) {
      if (key.equals(waiting.key) && waiting.reply == null) {
        waiting.reply = reply;
        break;
      }
    }
    while (!owed.isEmpty() && owed.peekFirst().reply != null) {
      sender.tell(owed.pollFirst().reply);
    }
    if (owed.isEmpty()) {
      owedReplies.remove(sender);
    }
  }

  private Behavior<Command> onAcknowledge(Acknowledge ack) {
    String user = ack.user();
    ArrayDeque<StoredMessage> tail = unacknowledged.get(user);
    // Only messages the user was sent can have been shown: an ack beyond the last of them would
    // mark the next messages as shown before they exist, and lose them at the next restart.
    long seq = tail == null || tail.isEmpty() ? 0L : Math.min(ack.seq(), tail.peekLast().seq());
    if (seq <= ackedSeq.getOrDefault(user, 0L)) {
      return this;
    }
    ackedSeq.put(user, seq);
    while (!tail.isEmpty() && tail.peekFirst().seq() <= seq) {
      tail.pollFirst();
    }
    if (tail.isEmpty()) {
      unacknowledged.remove(user);
    }
    journal.tell(new Journal.Record(new Change.Acknowledged(user, seq), null));
    return this;
  }

  /** Messages for {@code user} not acknowledged yet, written or being written. */
  private int waitingFor(String user) {
    ArrayDeque<StoredMessage> tail = unacknowledged.get(user);
    return (tail == null ? 0 : tail.size()) + inFlightPerRecipient.getOrDefault(user, 0);
  }

  private static ServerMessage.MessageReceived received(StoredMessage message) {
    return new ServerMessage.MessageReceived(
        message.sender(), message.text(), message.seq(), message.clientId());
  }

  private Behavior<Command> onDirectoryRefreshDue() {
    getContext().pipeToSelf(directory.get(), DirectoryRefreshed::new);
    return this;
  }

  private Behavior<Command> onDirectoryRefreshed(DirectoryRefreshed refreshed) {
    if (refreshed.failure() != null) {
      getContext()
          .getLog()
          .warn("account list refresh failed cause={}", refreshed.failure().toString());
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
   * blocks), so that an account created again under the name starts afresh.
   */
  private void forget(String user) {
    if (inFlightPerRecipient.containsKey(user)) {
      // Its messages being written come back as NO_RECIPIENT; forget it at a later refresh.
      return;
    }
    unacknowledged.remove(user);
    lastSeq.remove(user);
    ackedSeq.remove(user);
    lastLogout.remove(user);
    blocks.remove(user);
    blocks.values().forEach(blocked -> blocked.remove(user));
    getContext().getLog().info("account removed from the store user={}", user);
  }

  private Behavior<Command> onListOnline(ListOnline command) {
    List<String> others = new ArrayList<>(online.size());
    for (String user : online.keySet()) {
      if (!user.equals(command.requester())) {
        others.add(user);
      }
    }
    command.replyTo().tell(new ServerMessage.OnlineUsers(others));
    return this;
  }

  /**
   * Everyone whose time online overlaps the last {@code seconds}: online now (in login order), then
   * those who logged out within the window, most recent first.
   */
  private Behavior<Command> onListRecent(ListRecent command) {
    if (command.seconds() < 0) {
      command
          .replyTo()
          .tell(new ServerMessage.Error(Code.INVALID_ARGUMENT, "whoelsesince", "seconds"));
      return this;
    }
    Instant now = clock.instant();
    // A window reaching back before the start of time is the same as one reaching back forever.
    Instant windowStart =
        Duration.between(Instant.MIN, now).getSeconds() > command.seconds()
            ? now.minusSeconds(command.seconds())
            : Instant.MIN;
    List<String> users = new ArrayList<>();
    for (String user : online.keySet()) {
      if (!user.equals(command.requester())) {
        users.add(user);
      }
    }
    lastLogout.entrySet().stream()
        .filter(e -> !online.containsKey(e.getKey()) && !e.getKey().equals(command.requester()))
        .filter(e -> !e.getValue().isBefore(windowStart))
        .sorted(Map.Entry.<String, Instant>comparingByValue(Comparator.reverseOrder()))
        .forEach(e -> users.add(e.getKey()));
    command.replyTo().tell(new ServerMessage.RecentUsers(command.seconds(), users));
    return this;
  }

  private Behavior<Command> onBlock(Block command) {
    String target = command.target();
    Code error = checkTarget(command.blocker(), target);
    if (error == null && isBlocking(command.blocker(), target)) {
      error = Code.ALREADY_BLOCKED;
    }
    if (error != null) {
      command.replyTo().tell(new ServerMessage.Error(error, BLOCK, target));
      return this;
    }
    blocks.computeIfAbsent(command.blocker(), user -> new HashSet<>()).add(target);
    journal.tell(new Journal.Record(new Change.BlockAdded(command.blocker(), target), null));
    blocksChanged(command.blocker());
    command.replyTo().tell(new ServerMessage.BlockConfirmed(target));
    return this;
  }

  private Behavior<Command> onUnblock(Unblock command) {
    String target = command.target();
    Code error = checkTarget(command.blocker(), target);
    if (error == null && !isBlocking(command.blocker(), target)) {
      error = Code.NOT_BLOCKED;
    }
    if (error != null) {
      command.replyTo().tell(new ServerMessage.Error(error, UNBLOCK, target));
      return this;
    }
    Set<String> blocked = blocks.get(command.blocker());
    blocked.remove(target);
    if (blocked.isEmpty()) {
      blocks.remove(command.blocker());
    }
    journal.tell(new Journal.Record(new Change.BlockRemoved(command.blocker(), target), null));
    blocksChanged(command.blocker());
    command.replyTo().tell(new ServerMessage.UnblockConfirmed(target));
    return this;
  }

  private Behavior<Command> onLocatePeer(LocatePeer command) {
    String target = command.target();
    Code error = checkTarget(command.requester(), target);
    Member peer = online.get(target);
    if (error == null && isBlocking(target, command.requester())) {
      error = Code.BLOCKED_BY_USER;
    } else if (error == null && peer == null) {
      error = Code.USER_OFFLINE;
    }
    if (error != null) {
      command.replyTo().tell(new ServerMessage.Error(error, START_PRIVATE, target));
    } else {
      command
          .replyTo()
          .tell(new ServerMessage.PeerAddress(target, peer.peerHost(), peer.peerPort()));
    }
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
