package dev.parley.server.registry;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.StashBuffer;
import akka.actor.typed.javadsl.TimerScheduler;
import akka.cluster.sharding.typed.ShardingEnvelope;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.cluster.sharding.typed.javadsl.Entity;
import akka.cluster.sharding.typed.javadsl.EntityTypeKey;
import dev.parley.protocol.ServerMessage;
import dev.parley.protocol.ServerMessage.Error.Code;
import dev.parley.protocol.ServerMessage.Goodbye;
import dev.parley.protocol.WireText;
import dev.parley.server.cluster.CborSerializable;
import dev.parley.server.metrics.Metrics;
import dev.parley.server.registry.UserRegistry.Attachment;
import dev.parley.server.registry.UserRegistry.Evict;
import dev.parley.server.registry.UserRegistry.Left;
import dev.parley.server.store.Change;
import dev.parley.server.store.Journal;
import dev.parley.server.store.ResumeGrant;
import dev.parley.server.store.Store;
import dev.parley.server.store.StoreSnapshot;
import dev.parley.server.store.StoredMessage;
import dev.parley.server.store.UserSnapshot;
import dev.parley.server.timing.DeadlineTimer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The one owner of one user, cluster-wide: a sharded entity, keyed by username, that may live on
 * any node. It is the single writer of the user's delivery sequence and mailbox, their blocks, and
 * their login state (where they are online, {@code already-online}, resumption); sessions on any
 * node reach it through sharding, by way of their node's {@link ClusterRegistry}.
 *
 * <p>It keeps, for its one user, what {@link UserRegistry} keeps for every user of a standalone
 * node, with the same rules: durable before confirmed (a message is answered and delivered only
 * once the journal has stored it), delivery paced by the client's acknowledgements within the
 * window, a resumption only with the last token from the certificate it is bound to.
 *
 * <p>Its state is the database's: it loads the user when it starts (commands wait meanwhile), and a
 * previous owner's open session, left by a node that crashed, counts as a logout then, resumable
 * for the window. Writes go through its node's journal, so that a sequence number is stored before
 * the owner moves: asked to stop for a handoff, it stops only once its writes are answered.
 */
public final class UserEntity {

  /** The entity type: one per username. */
  public static final EntityTypeKey<Command> TYPE_KEY =
      EntityTypeKey.create(Command.class, "parley-user");

  /** What a user's owner understands. Everything public here may cross nodes. */
  public sealed interface Command extends CborSerializable {}

  /**
   * Admit an authenticated session: answered with {@link Admission}. When admitted, {@code
   * login-accepted} has been written to the session's outbox, and the kept messages follow.
   */
  public record Register(Attachment attachment, ActorRef<Admission> replyTo) implements Command {}

  /**
   * Admit a session presenting the resumption token of the user's last one (see {@link
   * UserRegistry.Resume}); answered with {@link Admission}.
   */
  public record Resume(String token, Attachment attachment, ActorRef<Admission> replyTo)
      implements Command {
    @Override
    public String toString() {
      return "Resume[token=<hidden>, attachment=" + attachment + "]";
    }
  }

  /**
   * Reply to {@link Register} and {@link Resume}.
   *
   * @param admitted whether the session is now the user's
   * @param tookOver whether it took over a session still open (the others never saw the user go)
   * @param blocks whom the user blocks (what their presence hides), when admitted
   * @param owner this entity, for the session's node to notice its loss
   */
  public record Admission(
      boolean admitted, boolean tookOver, Set<String> blocks, ActorRef<Command> owner)
      implements CborSerializable {
    public Admission {
      blocks = Set.copyOf(blocks);
    }
  }

  /** The session ended without a logout. Ignored unless it is the current one. */
  public record Unregister(ActorRef<?> session) implements Command {}

  /** The session logs out: answered once the logout is stored (or failed to be). */
  public record Leave(ActorRef<?> session, ActorRef<Left> replyTo) implements Command {}

  /**
   * A direct message to this user: answered with {@link MessageAnswer} carrying {@code ticket}.
   *
   * @param size the text's encoded length in bytes ({@link WireText#encodedLength})
   */
  public record Deliver(
      String from, String text, String id, int size, long ticket, ActorRef<MessageAnswer> replyTo)
      implements Command {
    @Override
    public String toString() {
      return "Deliver[from=" + from + ", id=" + id + ", size=" + size + ", ticket=" + ticket + "]";
    }
  }

  /** Reply to {@link Deliver}: {@code message-accepted} or an error about the message. */
  public record MessageAnswer(long ticket, ServerMessage reply) implements CborSerializable {}

  /** The user's client has shown every message up to {@code seq}. Not answered. */
  public record Acknowledge(long seq) implements Command {}

  /** The user blocks {@code target} (an existing other user): answered with {@link BlockAnswer}. */
  public record Block(String target, ActorRef<BlockAnswer> replyTo) implements Command {}

  /** The user unblocks {@code target}: answered with {@link BlockAnswer}. */
  public record Unblock(String target, ActorRef<BlockAnswer> replyTo) implements Command {}

  /**
   * Reply to {@link Block} and {@link Unblock}: the frame for the client, and whom the user blocks
   * now.
   */
  public record BlockAnswer(ServerMessage reply, Set<String> blocks) implements CborSerializable {
    public BlockAnswer {
      blocks = Set.copyOf(blocks);
    }
  }

  /**
   * {@code requester} wants a private chat with this user: answered with {@code peer-address} or an
   * error (see {@link UserRegistry.LocatePeer}).
   */
  public record Locate(
      String requester, boolean requesterTakesTokens, ActorRef<ServerMessage> replyTo)
      implements Command {}

  /** An administrator changed the user's password: their client can no longer resume. */
  public record RevokeResumption() implements Command {}

  /** An administrator created the account (perhaps again, under a name used before). */
  public record AccountCreated() implements Command {}

  /** An administrator removed the account: its session, if online, is closed. */
  public record AccountDeleted() implements Command {}

  /** May someone try to log in as this user? Answered with {@link LockoutStatus}. */
  public record CheckLockout(ActorRef<LockoutStatus> replyTo) implements Command {}

  /**
   * Reply to {@link CheckLockout}.
   *
   * @param exists whether the account exists
   * @param blocked whether the username is blocked after too many wrong passwords
   */
  public record LockoutStatus(boolean exists, boolean blocked) implements CborSerializable {}

  /**
   * A password was checked for this user (on the node of the connection that sent it): counted, and
   * answered with the {@link LoginCount} that says whether the login may go on.
   */
  public record CountLogin(boolean passwordMatched, ActorRef<LoginCount> replyTo)
      implements Command {}

  /** Reply to {@link CountLogin}. */
  public enum LoginCount implements CborSerializable {
    /** Right password: the failure count is reset. */
    AUTHENTICATED,
    /** Wrong password; more attempts are allowed. */
    INVALID_PASSWORD,
    /** Wrong password, and the last allowed: the username is blocked from now. */
    BLOCKED_NOW,
    /** Blocked meanwhile (by a failure on another connection): the password does not count. */
    BLOCKED
  }

  /** An administrator changed the password or removed the account: any lockout is lifted. */
  public record LiftLockout() implements Command {}

  /** Sharding's stop for a handoff: stop once every write under way is answered. */
  public record HandOff() implements Command {}

  private record Loaded(UserSnapshot snapshot, Throwable failure) implements Command {}

  private record SessionTerminated(ActorRef<?> session) implements Command {}

  private record ChangesRecorded(Journal.Recorded recorded) implements Command {}

  private record PageRead(
      Attachment member, long[] ids, List<StoredMessage> messages, Throwable failure)
      implements Command {}

  private enum RetryDue implements Command {
    INSTANCE
  }

  private enum IdleDue implements Command {
    INSTANCE
  }

  private enum BlockExpired implements Command {
    INSTANCE
  }

  /** A message being stored: who waits for it, under which ticket, and its encoded size. */
  private record Writing(ActorRef<MessageAnswer> sender, long ticket, int size) {}

  private static final String MESSAGE = "message";
  private static final String BLOCK = "block";
  private static final String UNBLOCK = "unblock";
  private static final String START_PRIVATE = "startprivate";

  /**
   * How an owner is set up.
   *
   * @param registry the registry's settings (mailbox, window, resumption, tokens)
   * @param idleTimeout how long an owner of a user who is offline, with nothing under way, stays in
   *     memory before it stops (it loads again when next needed)
   * @param stashCapacity most commands kept while the user's state loads
   * @param maxLoginFailures wrong passwords in a row that block the username
   * @param blockDuration how long a blocked username stays blocked
   */
  public record Settings(
      UserRegistry.Settings registry,
      Duration idleTimeout,
      int stashCapacity,
      int maxLoginFailures,
      Duration blockDuration) {}

  /** What an owner reads from the store, off its thread (the store's read pool). */
  public interface Reads extends UserRegistry.MailboxReader {
    CompletionStage<UserSnapshot> loadUser(String username, Instant now);
  }

  /**
   * @param username the user this entity owns
   * @param journal the journal of the node the entity runs on
   * @param passivate asks the entity's shard to stop it (sharding's {@code Passivate})
   */
  public static Behavior<Command> create(
      String username,
      ActorRef<Journal.Command> journal,
      Reads reads,
      Settings settings,
      Clock clock,
      Function<ActorRef<Command>, Runnable> passivate) {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers ->
                    Behaviors.withStash(
                        settings.stashCapacity(),
                        stash ->
                            new UserEntity(
                                    context,
                                    timers,
                                    stash,
                                    username,
                                    journal,
                                    reads,
                                    settings,
                                    clock,
                                    passivate.apply(context.getSelf()))
                                .loading())));
  }

  /** The sharding setup for a node: the entity, and the stop message that lets writes finish. */
  public static Entity<Command, ShardingEnvelope<Command>> entity(
      ClusterSharding sharding,
      ActorRef<Journal.Command> journal,
      Reads reads,
      Settings settings,
      Clock clock) {
    return Entity.of(
            TYPE_KEY,
            context ->
                create(
                    context.getEntityId(),
                    journal,
                    reads,
                    settings,
                    clock,
                    self -> () -> context.getShard().tell(new ClusterSharding.Passivate<>(self))))
        .withStopMessage(new HandOff());
  }

  private final ActorContext<Command> context;

  /** This node's meters: a cluster's counts are per node, where the owner runs. */
  private final Metrics metrics;

  private final TimerScheduler<Command> timers;
  private final StashBuffer<Command> stash;
  private final String user;
  private final ActorRef<Journal.Command> journal;
  private final Reads reads;
  private final Settings settings;
  private final UserRegistry.Settings rules;
  private final Clock clock;
  private final Runnable passivate;
  private final ActorRef<Journal.Recorded> recordedAdapter;
  private final SessionTokens tokens;

  /** Passivation: the entity stops once nothing has been asked of it for the idle timeout. */
  private final DeadlineTimer<Command> idle;

  /** How the user's mailbox goes out to their connection. */
  private final Delivery delivery;

  private boolean exists;
  private Set<String> blocks = new HashSet<>();
  private Mailbox mailbox;
  private ResumeGrant grant;

  /** Wrong passwords in a row, since the last right one or the end of the last block. */
  private int failures;

  /** Until when the username is blocked; null when it is not. */
  private Instant blockedUntil;

  /** The user's session, wherever it is; null while offline. */
  private Attachment online;

  /** Messages being stored, by seq. */
  private final Map<Long, Writing> inFlight = new HashMap<>();

  /** Changes other than messages that someone waits for. */
  private final Confirmations confirmations = new Confirmations();

  /** A page could not be read: asked for again when the retry is due. */
  private boolean pagingStalled;

  /** Sharding asked for a handoff: stop once nothing is under way. */
  private boolean handingOff;

  private UserEntity(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      StashBuffer<Command> stash,
      String user,
      ActorRef<Journal.Command> journal,
      Reads reads,
      Settings settings,
      Clock clock,
      Runnable passivate) {
    this.context = context;
    // Named for the class: detected from the stack, the name can come out as Akka's ActorCell,
    // whose level (WARN) then hides this actor's INFO lines.
    context.setLoggerName(UserEntity.class);
    this.timers = timers;
    this.stash = stash;
    this.user = user;
    this.journal = journal;
    this.reads = reads;
    this.settings = settings;
    this.rules = settings.registry();
    this.clock = clock;
    this.passivate = passivate;
    this.idle =
        new DeadlineTimer<>(
            timers, IdleDue.INSTANCE, IdleDue.INSTANCE, settings.idleTimeout(), clock);
    this.tokens = new SessionTokens(rules.peerTokenTtl());
    this.metrics = Metrics.get(context.getSystem());
    this.delivery = new Delivery(rules.mailbox(), this::readPage, metrics.messagesDelivered);
    this.recordedAdapter = context.messageAdapter(Journal.Recorded.class, ChangesRecorded::new);
  }

  // ---- loading ----

  private Behavior<Command> loading() {
    load();
    return Behaviors.receive(Command.class)
        .onMessage(Loaded.class, this::onLoaded)
        .onMessage(RetryDue.class, due -> retryLoad())
        .onMessage(HandOff.class, handOff -> Behaviors.stopped())
        .onAnyMessage(this::stashWhileLoading)
        .build();
  }

  private void load() {
    context.pipeToSelf(reads.loadUser(user, clock.instant()), Loaded::new);
  }

  private Behavior<Command> retryLoad() {
    load();
    return Behaviors.same();
  }

  private Behavior<Command> stashWhileLoading(Command command) {
    if (stash.isFull()) {
      context.getLog().warn("user owner busy loading, command refused user={}", user);
      refuse(command);
    } else {
      stash.stash(command);
    }
    return Behaviors.same();
  }

  /** Answers a command that cannot wait for the load with the store's unavailability. */
  private void refuse(Command command) {
    if (command instanceof Deliver deliver) {
      deliver
          .replyTo()
          .tell(
              new MessageAnswer(
                  deliver.ticket(),
                  new ServerMessage.Error(Code.UNAVAILABLE, MESSAGE, user, deliver.id())));
    } else if (command instanceof Register register) {
      register.replyTo().tell(refused());
    } else if (command instanceof Resume resume) {
      resume.replyTo().tell(refused());
    } else if (command instanceof Leave leave) {
      leave.replyTo().tell(Left.INSTANCE);
    } else if (command instanceof Block block) {
      block.replyTo().tell(blockAnswer(new ServerMessage.Error(Code.UNAVAILABLE, BLOCK, user)));
    } else if (command instanceof Unblock unblock) {
      unblock.replyTo().tell(blockAnswer(new ServerMessage.Error(Code.UNAVAILABLE, UNBLOCK, user)));
    } else if (command instanceof Locate locate) {
      locate.replyTo().tell(new ServerMessage.Error(Code.UNAVAILABLE, START_PRIVATE, user));
    }
  }

  private Behavior<Command> onLoaded(Loaded loaded) {
    if (loaded.failure() != null) {
      context
          .getLog()
          .warn(
              "user could not be loaded, trying again user={} cause={}",
              user,
              loaded.failure().getClass().getSimpleName());
      timers.startSingleTimer(RetryDue.INSTANCE, RetryDue.INSTANCE, rules.pagingRetry());
      return Behaviors.same();
    }
    UserSnapshot snapshot = loaded.snapshot();
    exists = snapshot.exists();
    blocks = new HashSet<>(snapshot.blocks());
    mailbox = new Mailbox(snapshot.lastSeq(), snapshot.ackedSeq());
    StoreSnapshot.PendingMessages pending = snapshot.pending();
    if (pending.seqs().length > 0) {
      mailbox.restore(pending.seqs(), pending.ids(), pending.sizes());
    }
    grant = snapshot.resumption();
    restoreLockout(snapshot.lockout());
    if (snapshot.sessionOpen()) {
      // The previous owner's node went without recording the logout: the session ended then, and
      // its client, on its way back, may resume it for the window from now.
      Instant now = clock.instant();
      Instant until = grant == null ? null : now.plus(rules.resumeWindow());
      if (grant != null && grant.until() == null) {
        grant = grant.lapsingAt(until);
      }
      journal.tell(new Journal.Record(new Change.LoggedOut(user, now, until), null));
      context.getLog().info("open session of a previous owner closed user={}", user);
    }
    restartIdleTimer();
    return stash.unstashAll(active());
  }

  /** A block ends when it would have ended under the previous owner. */
  private void restoreLockout(StoreSnapshot.Lockout lockout) {
    if (lockout == null) {
      return;
    }
    Instant now = clock.instant();
    if (lockout.blockedUntil() != null && lockout.blockedUntil().isAfter(now)) {
      blockedUntil = lockout.blockedUntil();
      failures = lockout.failures();
      timers.startSingleTimer(
          BlockExpired.INSTANCE, BlockExpired.INSTANCE, Duration.between(now, blockedUntil));
    } else if (lockout.blockedUntil() != null) {
      recordLockout();
    } else {
      failures = lockout.failures();
    }
  }

  private Behavior<Command> active() {
    return Behaviors.receive(Command.class)
        .onMessage(Deliver.class, this::onDeliver)
        .onMessage(ChangesRecorded.class, this::onChangesRecorded)
        .onMessage(Acknowledge.class, this::onAcknowledge)
        .onMessage(PageRead.class, this::onPageRead)
        .onMessage(Register.class, this::onRegister)
        .onMessage(Resume.class, this::onResume)
        .onMessage(Unregister.class, this::onUnregister)
        .onMessage(Leave.class, this::onLeave)
        .onMessage(SessionTerminated.class, this::onSessionTerminated)
        .onMessage(Block.class, this::onBlock)
        .onMessage(Unblock.class, this::onUnblock)
        .onMessage(Locate.class, this::onLocate)
        .onMessage(RevokeResumption.class, this::onRevokeResumption)
        .onMessage(AccountCreated.class, this::onAccountCreated)
        .onMessage(AccountDeleted.class, this::onAccountDeleted)
        .onMessage(RetryDue.class, due -> onPagingRetryDue())
        .onMessage(IdleDue.class, due -> onIdleDue())
        .onMessage(CheckLockout.class, this::onCheckLockout)
        .onMessage(CountLogin.class, this::onCountLogin)
        .onMessage(LiftLockout.class, this::onLiftLockout)
        .onMessage(BlockExpired.class, expired -> onBlockExpired())
        .onMessage(HandOff.class, this::onHandOff)
        .build();
  }

  // ---- login state ----

  private Behavior<Command> onRegister(Register command) {
    restartIdleTimer();
    if (isCurrent(command.attachment())) {
      // Asked again, the answer to the first ask having been lost: it is admitted already.
      command.replyTo().tell(admitted(false));
      return Behaviors.same();
    }
    if (online != null) {
      command.replyTo().tell(refused());
      return Behaviors.same();
    }
    join(command.attachment());
    context.getLog().info("user logged in user={} from={}", user, command.attachment().peerHost());
    command.replyTo().tell(admitted(false));
    return Behaviors.same();
  }

  private Behavior<Command> onResume(Resume command) {
    restartIdleTimer();
    Attachment attachment = command.attachment();
    if (isCurrent(attachment)) {
      command.replyTo().tell(admitted(false));
      return Behaviors.same();
    }
    String refusal =
        tokens.resumeRefusal(
            exists ? grant : null,
            online != null,
            command.token(),
            attachment.certificate(),
            clock.instant());
    if (refusal != null) {
      context
          .getLog()
          .warn(
              "resumption refused user={} from={} reason={}", user, attachment.peerHost(), refusal);
      command.replyTo().tell(refused());
      return Behaviors.same();
    }
    Attachment previous = online;
    if (previous == null) {
      join(attachment);
    } else {
      context.unwatch(previous.session());
      previous.evictTo().tell(new Evict(Goodbye.Reason.RESUMED));
      attach(attachment);
    }
    context
        .getLog()
        .info(
            "session resumed user={} from={} tookOver={}",
            user,
            attachment.peerHost(),
            previous != null);
    command.replyTo().tell(admitted(previous != null));
    return Behaviors.same();
  }

  private void join(Attachment attachment) {
    exists = true;
    attach(attachment);
  }

  /**
   * The session becomes the user's: welcomed with a new token, then its kept messages from the last
   * acknowledgement, and the login stored.
   */
  private void attach(Attachment attachment) {
    online = attachment;
    context.watchWith(attachment.session(), new SessionTerminated(attachment.session()));
    grant = tokens.welcome(user, attachment);
    delivery.afresh(user, mailbox, attachment);
    journal.tell(new Journal.Record(new Change.LoggedIn(user, clock.instant(), grant), null));
  }

  /** Whether {@code attachment}'s session is the user's current one. */
  private boolean isCurrent(Attachment attachment) {
    return online != null && online.session().equals(attachment.session());
  }

  private Admission admitted(boolean tookOver) {
    return new Admission(true, tookOver, blocks, context.getSelf());
  }

  private Admission refused() {
    return new Admission(false, false, Set.of(), context.getSelf());
  }

  private Behavior<Command> onRevokeResumption(RevokeResumption revoke) {
    if (grant != null) {
      grant = null;
      context.getLog().info("resumption revoked user={} cause=password", user);
    }
    journal.tell(new Journal.Record(new Change.ResumptionRevoked(user), null));
    return Behaviors.same();
  }

  private Behavior<Command> onUnregister(Unregister command) {
    leave(command.session(), null);
    return Behaviors.same();
  }

  private Behavior<Command> onSessionTerminated(SessionTerminated signal) {
    leave(signal.session(), null);
    return Behaviors.same();
  }

  private Behavior<Command> onLeave(Leave command) {
    ActorRef<Left> replyTo = command.replyTo();
    if (!leave(command.session(), () -> replyTo.tell(Left.INSTANCE))) {
      replyTo.tell(Left.INSTANCE);
    }
    return Behaviors.same();
  }

  /** As {@link UserRegistry}'s leave: only the current session, resumable unless logged out. */
  private boolean leave(ActorRef<?> session, Runnable onStored) {
    if (online == null || !online.session().equals(session)) {
      return false;
    }
    Instant now = clock.instant();
    online = null;
    pagingStalled = false;
    context.unwatch(session);
    Instant resumableUntil = null;
    if (onStored == null && grant != null) {
      resumableUntil = now.plus(rules.resumeWindow());
      grant = grant.lapsingAt(resumableUntil);
    } else {
      grant = null;
    }
    Change loggedOut = new Change.LoggedOut(user, now, resumableUntil);
    journal.tell(confirmations.record(loggedOut, onStored, recordedAdapter));
    context.getLog().info("user logged out user={}", user);
    restartIdleTimer();
    return true;
  }

  // ---- direct messages ----

  private Behavior<Command> onDeliver(Deliver command) {
    restartIdleTimer();
    Code error = null;
    if (!exists) {
      error = Code.INVALID_USER;
    } else if (command.from().equals(user)) {
      error = Code.SELF;
    } else if (blocks.contains(command.from())) {
      error = Code.BLOCKED_BY_USER;
    } else if (delivery.full(mailbox, command.size())) {
      error = Code.MAILBOX_FULL;
    }
    if (error != null) {
      command
          .replyTo()
          .tell(
              new MessageAnswer(
                  command.ticket(), new ServerMessage.Error(error, MESSAGE, user, command.id())));
      return Behaviors.same();
    }
    long seq = mailbox.startWriting(command.size());
    StoredMessage message =
        new StoredMessage(user, seq, command.from(), command.id(), command.text(), clock.instant());
    inFlight.put(seq, new Writing(command.replyTo(), command.ticket(), command.size()));
    journal.tell(new Journal.Record(new Change.MessageAppended(message), recordedAdapter));
    return Behaviors.same();
  }

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
    return stopIfHandedOff();
  }

  private void settle(StoredMessage message, Store.Outcome outcome, long messageId) {
    Writing writing = inFlight.remove(message.seq());
    int size = writing != null ? writing.size() : WireText.encodedLength(message.text());
    mailbox.finishWriting(size);
    ServerMessage reply =
        outcome == Store.Outcome.STORED
            ? delivery.stored(user, mailbox, online, message, messageId, size)
            : Delivery.notStored(message, outcome, size, context.getLog());
    if (outcome == Store.Outcome.NO_RECIPIENT) {
      exists = false;
    }
    if (outcome == Store.Outcome.STORED) {
      metrics.messagesAccepted.increment();
    }
    if (writing != null) {
      writing.sender().tell(new MessageAnswer(writing.ticket(), reply));
    }
  }

  // ---- delivery and acknowledgements ----

  /** Reads {@code ids} of the user's messages off the actor's thread, for {@link PageRead}. */
  private void readPage(String user, Attachment member, long[] ids) {
    context.pipeToSelf(
        reads.read(user, ids), (messages, failure) -> new PageRead(member, ids, messages, failure));
  }

  private Behavior<Command> onPageRead(PageRead page) {
    // A page for an earlier session: the new one has asked for its own.
    if (online == null || online != page.member()) {
      return Behaviors.same();
    }
    mailbox.pageDone();
    if (page.failure() != null) {
      context
          .getLog()
          .warn(
              "mailbox page could not be read user={} cause={}",
              user,
              page.failure().getClass().getSimpleName());
      pagingStalled = true;
      timers.startSingleTimer(RetryDue.INSTANCE, RetryDue.INSTANCE, rules.pagingRetry());
      return Behaviors.same();
    }
    delivery.pageRead(user, mailbox, online, page.ids(), page.messages());
    return Behaviors.same();
  }

  private Behavior<Command> onPagingRetryDue() {
    if (pagingStalled && online != null) {
      pagingStalled = false;
      delivery.more(user, mailbox, online);
    }
    return Behaviors.same();
  }

  private Behavior<Command> onAcknowledge(Acknowledge ack) {
    long seq = mailbox.acknowledge(ack.seq());
    if (seq > 0) {
      journal.tell(new Journal.Record(new Change.Acknowledged(user, seq), recordedAdapter));
    }
    return Behaviors.same();
  }

  private void acknowledgementRecorded(Change.Acknowledged acknowledged, Store.Outcome outcome) {
    if (outcome == Store.Outcome.STORED) {
      metrics.acknowledgements.increment();
    }
    delivery.acknowledgementRecorded(user, mailbox, online, acknowledged.seq(), outcome);
  }

  // ---- accounts ----

  private Behavior<Command> onAccountCreated(AccountCreated created) {
    if (!exists) {
      // A name used before starts afresh: what the store kept of it went with the old account.
      exists = true;
      blocks = new HashSet<>();
      grant = null;
    }
    return Behaviors.same();
  }

  private Behavior<Command> onAccountDeleted(AccountDeleted deleted) {
    if (online != null) {
      online.evictTo().tell(new Evict(Goodbye.Reason.ACCOUNT_REMOVED));
    }
    exists = false;
    grant = null;
    blocks = new HashSet<>();
    if (!mailbox.isWriting()) {
      mailbox = new Mailbox(0, 0);
    }
    context.getLog().info("account removed from the store user={}", user);
    return Behaviors.same();
  }

  // ---- blocks ----

  private Behavior<Command> onBlock(Block command) {
    String target = command.target();
    if (blocks.contains(target)) {
      command
          .replyTo()
          .tell(blockAnswer(new ServerMessage.Error(Code.ALREADY_BLOCKED, BLOCK, target)));
      return Behaviors.same();
    }
    recordThenConfirm(
        new Change.BlockAdded(user, target),
        command.replyTo(),
        BLOCK,
        target,
        () -> {
          blocks.add(target);
          return new ServerMessage.BlockConfirmed(target);
        });
    return Behaviors.same();
  }

  private Behavior<Command> onUnblock(Unblock command) {
    String target = command.target();
    if (!blocks.contains(target)) {
      command
          .replyTo()
          .tell(blockAnswer(new ServerMessage.Error(Code.NOT_BLOCKED, UNBLOCK, target)));
      return Behaviors.same();
    }
    recordThenConfirm(
        new Change.BlockRemoved(user, target),
        command.replyTo(),
        UNBLOCK,
        target,
        () -> {
          blocks.remove(target);
          return new ServerMessage.UnblockConfirmed(target);
        });
    return Behaviors.same();
  }

  private void recordThenConfirm(
      Change change,
      ActorRef<BlockAnswer> replyTo,
      String command,
      String target,
      Supplier<ServerMessage> apply) {
    confirmations.applyOnceStored(
        change, command, target, apply, reply -> replyTo.tell(blockAnswer(reply)));
    journal.tell(new Journal.Record(change, recordedAdapter));
  }

  private BlockAnswer blockAnswer(ServerMessage reply) {
    return new BlockAnswer(reply, blocks);
  }

  // ---- private chats ----

  private Behavior<Command> onLocate(Locate command) {
    String requester = command.requester();
    Code error = null;
    if (!exists) {
      error = Code.INVALID_USER;
    } else if (requester.equals(user)) {
      error = Code.SELF;
    } else if (blocks.contains(requester)) {
      error = Code.BLOCKED_BY_USER;
    } else if (online == null) {
      error = Code.USER_OFFLINE;
    } else if (!online.takesPrivateChats()) {
      error = Code.PRIVATE_UNSUPPORTED;
    }
    if (error != null) {
      command.replyTo().tell(new ServerMessage.Error(error, START_PRIVATE, user));
      return Behaviors.same();
    }
    command
        .replyTo()
        .tell(tokens.peerAddress(user, online, requester, command.requesterTakesTokens()));
    return Behaviors.same();
  }

  // ---- lockout ----

  private Behavior<Command> onCheckLockout(CheckLockout check) {
    restartIdleTimer();
    check.replyTo().tell(new LockoutStatus(exists, blockedUntil != null));
    return Behaviors.same();
  }

  /** As LoginGuard counts them on a standalone node, for every node of the cluster at once. */
  private Behavior<Command> onCountLogin(CountLogin count) {
    restartIdleTimer();
    if (blockedUntil != null) {
      count.replyTo().tell(LoginCount.BLOCKED);
    } else if (count.passwordMatched()) {
      if (failures > 0) {
        failures = 0;
        recordLockout();
      }
      count.replyTo().tell(LoginCount.AUTHENTICATED);
    } else if (++failures < settings.maxLoginFailures()) {
      context.getLog().info("login failed user={} failures={}", user, failures);
      recordLockout();
      count.replyTo().tell(LoginCount.INVALID_PASSWORD);
    } else {
      blockedUntil = clock.instant().plus(settings.blockDuration());
      timers.startSingleTimer(
          BlockExpired.INSTANCE, BlockExpired.INSTANCE, settings.blockDuration());
      recordLockout();
      context
          .getLog()
          .warn(
              "login blocked user={} failures={} for={}s",
              user,
              failures,
              settings.blockDuration().toSeconds());
      failures = 0;
      count.replyTo().tell(LoginCount.BLOCKED_NOW);
    }
    return Behaviors.same();
  }

  private Behavior<Command> onBlockExpired() {
    blockedUntil = null;
    failures = 0;
    recordLockout();
    context.getLog().info("login block expired user={}", user);
    return Behaviors.same();
  }

  private Behavior<Command> onLiftLockout(LiftLockout lift) {
    if (blockedUntil != null || failures > 0) {
      blockedUntil = null;
      failures = 0;
      timers.cancel(BlockExpired.INSTANCE);
      // The store lifted it already (the administrator's change did): nothing to record.
      context.getLog().info("login block lifted by an administrator user={}", user);
    }
    return Behaviors.same();
  }

  private void recordLockout() {
    int recorded = blockedUntil != null ? settings.maxLoginFailures() : failures;
    journal.tell(new Journal.Record(new Change.LockoutChanged(user, recorded, blockedUntil), null));
  }

  // ---- lifecycle ----

  /** Restarted by nearly every message, so it moves a deadline rather than a timer. */
  private void restartIdleTimer() {
    idle.restart();
  }

  private boolean busy() {
    return !inFlight.isEmpty() || !confirmations.isEmpty() || mailbox.isWriting();
  }

  private Behavior<Command> onIdleDue() {
    if (!idle.fired()) {
      return Behaviors.same();
    }
    if (online == null && blockedUntil == null && !busy()) {
      passivate.run();
    } else {
      restartIdleTimer();
    }
    return Behaviors.same();
  }

  private Behavior<Command> onHandOff(HandOff handOff) {
    handingOff = true;
    return stopIfHandedOff();
  }

  private Behavior<Command> stopIfHandedOff() {
    if (handingOff && !busy()) {
      if (online != null) {
        // Its next owner does not know this session: the client comes back and resumes there.
        online.evictTo().tell(new Evict(Goodbye.Reason.SERVER_SHUTDOWN));
      }
      return Behaviors.stopped();
    }
    return Behaviors.same();
  }
}
