package dev.parley.server.registry;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.AskPattern;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import akka.cluster.sharding.typed.javadsl.EntityRef;
import dev.parley.protocol.ServerMessage;
import dev.parley.protocol.ServerMessage.Error.Code;
import dev.parley.protocol.ServerMessage.Goodbye;
import dev.parley.server.broadcast.Broadcaster;
import dev.parley.server.registry.UserRegistry.Attachment;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/**
 * A cluster node's registry: it speaks {@link UserRegistry}'s protocol to the node's sessions, so
 * that a session is the same on one node or many, and hands each command about a user to that
 * user's one owner, the sharded {@link UserEntity}, wherever it lives.
 *
 * <p>What it keeps is the node's own: the sessions on this node (to keep the {@link Broadcaster}'s
 * roster, and to send a session back to its client when its owner is lost with a node), the answers
 * owed to each session in the order of its messages (owners on different nodes answer at different
 * times), and the list of accounts, which answers the first checks of a command about another user
 * (it exists, it is not you) without a trip to that user's owner.
 */
public final class ClusterRegistry extends AbstractBehavior<UserRegistry.Command> {

  /** Where each user's owner is: sharding's reference to the entity, by username. */
  @FunctionalInterface
  public interface Owners {
    EntityRef<UserEntity.Command> of(String username);
  }

  /** What the registry reads from the store, off its thread. */
  public interface Reads {
    /** Every username. */
    CompletionStage<? extends Collection<String>> usernames();

    /** Who logged out at or after {@code since} and is not online. */
    CompletionStage<Map<String, Instant>> logoutsSince(Instant since);
  }

  /**
   * An owner's answer to a login or resumption, or its failure to answer ({@code admission} null);
   * {@code attempt} counts the asks so far.
   */
  private record Admitted(
      String user,
      Attachment attachment,
      Function<ActorRef<UserEntity.Admission>, UserEntity.Command> request,
      int attempt,
      UserEntity.Admission admission,
      ActorRef<UserRegistry.Registration> registered,
      ActorRef<UserRegistry.Resumption> resumedTo)
      implements UserRegistry.NodeMessage {}

  private record MessageAnswered(UserEntity.MessageAnswer answer)
      implements UserRegistry.NodeMessage {}

  /** A block or unblock to ask the blocker's owner for, once the target is known to exist. */
  private record BlockAsked(
      String blocker,
      String target,
      String name,
      ActorRef<ServerMessage> replyTo,
      Function<ActorRef<UserEntity.BlockAnswer>, UserEntity.Command> request) {}

  private record TargetChecked(BlockAsked asked, UserEntity.LockoutStatus status, Throwable failure)
      implements UserRegistry.NodeMessage {}

  private record BlockAnswered(
      String user, UserEntity.BlockAnswer answer, ActorRef<ServerMessage> replyTo)
      implements UserRegistry.NodeMessage {}

  /** The roster has a change (or gave up waiting for every node): now tell the owner. */
  private record RosterThen(String user, UserEntity.Command command)
      implements UserRegistry.NodeMessage {}

  /** The roster has a change: now confirm it to the session. */
  private record Confirm(ServerMessage reply, ActorRef<ServerMessage> replyTo)
      implements UserRegistry.NodeMessage {}

  private record OwnerLost(String user, ActorRef<UserEntity.Command> owner)
      implements UserRegistry.NodeMessage {}

  private record LocalSessionEnded(String user, ActorRef<?> session)
      implements UserRegistry.NodeMessage {}

  private record RecentRead(
      UserRegistry.ListRecent command,
      Instant windowStart,
      List<String> online,
      Map<String, Instant> logouts,
      Throwable failure)
      implements UserRegistry.NodeMessage {}

  private enum DirectoryRefreshDue implements UserRegistry.NodeMessage {
    INSTANCE
  }

  private enum OverdueCheckDue implements UserRegistry.NodeMessage {
    INSTANCE
  }

  /**
   * A direct message for its recipient's owner: who waits for it, what to send again if the owner
   * does not answer, and until when it waits for the attempt under way (0: not sent yet).
   */
  private static final class Pending {
    private final UserRegistry.SendDirect command;
    private final Pair pair;
    private int attempts;
    private long deadlineNanos;

    Pending(UserRegistry.SendDirect command, Pair pair) {
      this.command = command;
      this.pair = pair;
    }
  }

  /** A session's messages to one recipient: one at a time goes to the owner, in order. */
  private record Pair(ActorRef<ServerMessage> sender, String to) {}

  private record DirectoryRefreshed(Collection<String> usernames, Throwable failure)
      implements UserRegistry.NodeMessage {}

  /** A session of this node, and the owner that admitted it. */
  private record Local(Attachment attachment, ActorRef<UserEntity.Command> owner) {}

  private static final String MESSAGE = "message";
  private static final String BLOCK = "block";
  private static final String UNBLOCK = "unblock";
  private static final String START_PRIVATE = "startprivate";
  private static final String WHOELSESINCE = "whoelsesince";

  /** Overdue messages are looked for this many times per owner timeout. */
  private static final int OVERDUE_CHECKS = 4;

  public static Behavior<UserRegistry.Command> create(
      Owners owners,
      ActorRef<Broadcaster.Command> broadcaster,
      Reads reads,
      UserRegistry.Settings settings,
      Duration askTimeout,
      int ownerAttempts,
      Clock clock) {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers ->
                    new ClusterRegistry(
                        context,
                        timers,
                        owners,
                        broadcaster,
                        reads,
                        settings,
                        askTimeout,
                        ownerAttempts,
                        clock)));
  }

  private final ActorContext<UserRegistry.Command> context;
  private final Owners owners;
  private final ActorRef<Broadcaster.Command> broadcaster;
  private final Reads reads;
  private final UserRegistry.Settings settings;
  private final Duration askTimeout;
  private final int ownerAttempts;
  private final Clock clock;
  private final ActorRef<UserEntity.MessageAnswer> messageAnswers;

  /** Every account, as of the last look at the store; null until the first look. */
  private Set<String> usernames;

  /** The sessions on this node, by user. */
  private final Map<String, Local> local = new HashMap<>();

  /** Each session's answers, released in the order of its messages; keyed by ticket. */
  private final RepliesInOrder<Long> owedReplies = new RepliesInOrder<>();

  /** The messages whose owners have not answered yet, by ticket. */
  private final Map<Long, Pending> tickets = new HashMap<>();

  /**
   * Each session's messages to each recipient not answered yet, by ticket in sending order; the
   * first is with the owner. One at a time, so that a message lost with a crashed node is sent
   * again before the next, and the recipient sees the sender's messages in order.
   */
  private final Map<Pair, ArrayDeque<Long>> pairs = new HashMap<>();

  private long nextTicket;

  private ClusterRegistry(
      ActorContext<UserRegistry.Command> context,
      TimerScheduler<UserRegistry.Command> timers,
      Owners owners,
      ActorRef<Broadcaster.Command> broadcaster,
      Reads reads,
      UserRegistry.Settings settings,
      Duration askTimeout,
      int ownerAttempts,
      Clock clock) {
    super(context);
    // Named for the class: detected from the stack, the name can come out as Akka's ActorCell,
    // whose level (WARN) then hides this actor's INFO lines.
    context.setLoggerName(ClusterRegistry.class);
    this.ownerAttempts = ownerAttempts;
    this.context = context;
    this.owners = owners;
    this.broadcaster = broadcaster;
    this.reads = reads;
    this.settings = settings;
    this.askTimeout = askTimeout;
    this.clock = clock;
    this.messageAnswers =
        context.messageAdapter(UserEntity.MessageAnswer.class, MessageAnswered::new);
    refreshDirectory();
    timers.startTimerWithFixedDelay(
        DirectoryRefreshDue.INSTANCE, DirectoryRefreshDue.INSTANCE, settings.directoryRefresh());
    // A message sent to an owner on a node that has just crashed is lost with it (sharding
    // forwards to the dead node until the cluster downs it): its sender is told 'unavailable',
    // and the client sends it again, which the store recognises if it was stored after all.
    timers.startTimerWithFixedDelay(
        OverdueCheckDue.INSTANCE, OverdueCheckDue.INSTANCE, askTimeout.dividedBy(OVERDUE_CHECKS));
  }

  @Override
  public Receive<UserRegistry.Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(UserRegistry.SendDirect.class, this::onSendDirect)
        .onMessage(MessageAnswered.class, this::onMessageAnswered)
        .onMessage(
            UserRegistry.Acknowledge.class,
            ack -> tell(ack.user(), new UserEntity.Acknowledge(ack.seq())))
        .onMessage(UserRegistry.Register.class, this::onRegister)
        .onMessage(UserRegistry.Resume.class, this::onResume)
        .onMessage(Admitted.class, this::onAdmitted)
        .onMessage(UserRegistry.Unregister.class, this::onUnregister)
        .onMessage(UserRegistry.Leave.class, this::onLeave)
        .onMessage(LocalSessionEnded.class, this::onLocalSessionEnded)
        .onMessage(OwnerLost.class, this::onOwnerLost)
        .onMessage(UserRegistry.IsOnline.class, this::onIsOnline)
        .onMessage(UserRegistry.ListOnline.class, this::onListOnline)
        .onMessage(UserRegistry.ListRecent.class, this::onListRecent)
        .onMessage(RecentRead.class, this::onRecentRead)
        .onMessage(UserRegistry.Block.class, this::onBlock)
        .onMessage(UserRegistry.Unblock.class, this::onUnblock)
        .onMessage(BlockAnswered.class, this::onBlockAnswered)
        .onMessage(TargetChecked.class, this::onTargetChecked)
        .onMessage(
            Confirm.class,
            confirm -> {
              confirm.replyTo().tell(confirm.reply());
              return this;
            })
        .onMessage(RosterThen.class, this::onRosterThen)
        .onMessage(UserRegistry.LocatePeer.class, this::onLocatePeer)
        .onMessage(
            UserRegistry.PasswordChanged.class,
            changed -> tell(changed.username(), new UserEntity.RevokeResumption()))
        // The users of a stopping node move to the others and resume there; to the users of
        // those nodes, who stay, they left and came back.
        .onMessage(UserRegistry.ShutdownStarted.class, started -> this)
        .onMessage(UserRegistry.AccountAdded.class, this::onAccountAdded)
        .onMessage(UserRegistry.AccountRemoved.class, this::onAccountRemoved)
        .onMessage(DirectoryRefreshDue.class, due -> refreshDirectory())
        .onMessage(OverdueCheckDue.class, due -> onOverdueCheckDue())
        .onMessage(DirectoryRefreshed.class, this::onDirectoryRefreshed)
        .build();
  }

  private Behavior<UserRegistry.Command> tell(String user, UserEntity.Command command) {
    owners.of(user).tell(command);
    return this;
  }

  // ---- logins ----

  private Behavior<UserRegistry.Command> onRegister(UserRegistry.Register command) {
    Attachment attachment = command.attachment();
    askAdmission(
        new Admitted(
            command.username(),
            attachment,
            replyTo -> new UserEntity.Register(attachment, replyTo),
            0,
            null,
            command.replyTo(),
            null));
    return this;
  }

  private Behavior<UserRegistry.Command> onResume(UserRegistry.Resume command) {
    Attachment attachment = command.attachment();
    askAdmission(
        new Admitted(
            command.username(),
            attachment,
            replyTo -> new UserEntity.Resume(command.token(), attachment, replyTo),
            0,
            null,
            null,
            command.replyTo()));
    return this;
  }

  /**
   * Asks the user's owner to admit the session. Asking again after a lost answer is safe: an owner
   * that admitted this very session already says so again.
   */
  private void askAdmission(Admitted asking) {
    context.pipeToSelf(
        AskPattern.ask(
            owners.of(asking.user()),
            asking.request()::apply,
            askTimeout,
            context.getSystem().scheduler()),
        (admission, failure) ->
            new Admitted(
                asking.user(),
                asking.attachment(),
                asking.request(),
                asking.attempt() + 1,
                admission,
                asking.registered(),
                asking.resumedTo()));
  }

  private Behavior<UserRegistry.Command> onAdmitted(Admitted admitted) {
    UserEntity.Admission admission = admitted.admission();
    if (admission == null && admitted.attempt() < ownerAttempts) {
      context
          .getLog()
          .info(
              "owner did not answer a login in time, asking again user={} attempt={}",
              admitted.user(),
              admitted.attempt() + 1);
      askAdmission(admitted);
      return this;
    }
    if (admission == null) {
      context
          .getLog()
          .warn(
              "owner did not answer a login, giving up user={} attempts={}",
              admitted.user(),
              admitted.attempt());
      if (admitted.registered() != null) {
        admitted.registered().tell(UserRegistry.Registration.UNAVAILABLE);
      } else {
        admitted.resumedTo().tell(UserRegistry.Resumption.REFUSED);
      }
      return this;
    }
    boolean yes = admission.admitted();
    if (yes) {
      String user = admitted.user();
      Attachment attachment = admitted.attachment();
      Local previous = local.put(user, new Local(attachment, admission.owner()));
      if (previous != null) {
        context.unwatch(previous.attachment().session());
      }
      context.watchWith(attachment.session(), new LocalSessionEnded(user, attachment.session()));
      context.watchWith(admission.owner(), new OwnerLost(user, admission.owner()));
      if (previous != null && admission.tookOver()) {
        broadcaster.tell(new Broadcaster.MemberMoved(user, attachment.outbox()));
      } else {
        // A session taken over from another node is an entry that changes connection only: the
        // roster tells nobody of it.
        broadcaster.tell(
            new Broadcaster.MemberJoined(user, attachment.outbox(), admission.blocks()));
      }
    }
    if (admitted.registered() != null) {
      admitted
          .registered()
          .tell(
              yes
                  ? UserRegistry.Registration.REGISTERED
                  : UserRegistry.Registration.ALREADY_ONLINE);
    } else {
      admitted
          .resumedTo()
          .tell(yes ? UserRegistry.Resumption.RESUMED : UserRegistry.Resumption.REFUSED);
    }
    return this;
  }

  private Behavior<UserRegistry.Command> onUnregister(UserRegistry.Unregister command) {
    forgetLocal(command.username(), command.session(), true);
    return tell(command.username(), new UserEntity.Unregister(command.session()));
  }

  /**
   * A logout: the roster of every node first, then the owner, whose answer is the session's
   * goodbye. Once the client sees it, no node lists the user in whoelse any more.
   */
  private Behavior<UserRegistry.Command> onLeave(UserRegistry.Leave command) {
    String user = command.username();
    UserEntity.Leave leave = new UserEntity.Leave(command.session(), command.replyTo());
    Local current = local.get(user);
    if (current == null || !current.attachment().session().equals(command.session())) {
      return tell(user, leave);
    }
    ActorRef<ServerMessage> outbox = current.attachment().outbox();
    forgetLocal(user, command.session(), false);
    context.pipeToSelf(
        AskPattern.ask(
            broadcaster,
            (ActorRef<Broadcaster.RosterWritten> replyTo) ->
                new Broadcaster.MemberLeft(user, outbox, replyTo),
            askTimeout,
            context.getSystem().scheduler()),
        // Whether or not every node has it, the logout goes on: gossip finishes the roster.
        (written, failure) -> new RosterThen(user, leave));
    return this;
  }

  private Behavior<UserRegistry.Command> onRosterThen(RosterThen then) {
    return tell(then.user(), then.command());
  }

  private Behavior<UserRegistry.Command> onLocalSessionEnded(LocalSessionEnded ended) {
    if (forgetLocal(ended.user(), ended.session(), true)) {
      tell(ended.user(), new UserEntity.Unregister(ended.session()));
    }
    return this;
  }

  /**
   * Forgets a session of this node, taking it off the roster if {@code offRoster}; false if it was
   * not the user's here.
   */
  private boolean forgetLocal(String user, ActorRef<?> session, boolean offRoster) {
    Local current = local.get(user);
    if (current == null || !current.attachment().session().equals(session)) {
      return false;
    }
    local.remove(user);
    context.unwatch(session);
    context.unwatch(current.owner());
    ActorRef<ServerMessage> outbox = current.attachment().outbox();
    owedReplies.forget(outbox);
    // Its messages still pending are the owners' to finish; nobody reads the answers.
    pairs.keySet().removeIf(pair -> pair.sender().equals(outbox));
    tickets.values().removeIf(pending -> pending.pair.sender().equals(outbox));
    if (offRoster) {
      broadcaster.tell(new Broadcaster.MemberLeft(user, outbox));
    }
    return true;
  }

  /**
   * The node holding a local user's owner went (crashed, or handed the user over while leaving):
   * the next owner knows nothing of this session, so its client is sent back to resume there.
   */
  private Behavior<UserRegistry.Command> onOwnerLost(OwnerLost lost) {
    Local current = local.get(lost.user());
    if (current != null && current.owner().equals(lost.owner())) {
      context.getLog().info("owner of a local user lost, session sent back user={}", lost.user());
      current.attachment().evictTo().tell(new UserRegistry.Evict(Goodbye.Reason.SERVER_SHUTDOWN));
    }
    return this;
  }

  private Behavior<UserRegistry.Command> onIsOnline(UserRegistry.IsOnline command) {
    command
        .replyTo()
        .tell(
            new UserRegistry.OnlineStatus(
                command.username(), local.containsKey(command.username())));
    return this;
  }

  // ---- messages ----

  private Behavior<UserRegistry.Command> onSendDirect(UserRegistry.SendDirect command) {
    String to = command.to();
    // Whether the recipient exists is its owner's to say: this node's list of accounts may be
    // older than the account.
    Code error = to.equals(command.from()) ? Code.SELF : null;
    if (error != null) {
      owedReplies.inTurn(
          command.replyTo(), new ServerMessage.Error(error, MESSAGE, to, command.id()));
      return this;
    }
    long ticket = ++nextTicket;
    Pair pair = new Pair(command.replyTo(), to);
    tickets.put(ticket, new Pending(command, pair));
    owedReplies.expect(command.replyTo(), ticket);
    ArrayDeque<Long> queue = pairs.computeIfAbsent(pair, p -> new ArrayDeque<>());
    queue.addLast(ticket);
    if (queue.size() == 1) {
      dispatch(ticket);
    }
    return this;
  }

  /** Hands a message to its recipient's owner, again if it was sent before and not answered. */
  private void dispatch(long ticket) {
    Pending pending = tickets.get(ticket);
    UserRegistry.SendDirect command = pending.command;
    pending.attempts++;
    pending.deadlineNanos = System.nanoTime() + askTimeout.toNanos();
    // Sent again, it is the same message (same sender and id): the store keeps it once.
    owners
        .of(command.to())
        .tell(
            new UserEntity.Deliver(
                command.from(),
                command.text(),
                command.id(),
                command.size(),
                ticket,
                messageAnswers));
  }

  private Behavior<UserRegistry.Command> onMessageAnswered(MessageAnswered answered) {
    UserEntity.MessageAnswer answer = answered.answer();
    settle(answer.ticket(), answer.reply());
    return this;
  }

  /** Answers the message of {@code ticket}, and sends the next of its pair to the owner. */
  private void settle(long ticket, ServerMessage reply) {
    // A second answer (to a message sent again) finds nothing: the first settled it.
    Pending pending = tickets.remove(ticket);
    if (pending == null) {
      return;
    }
    owedReplies.answer(pending.command.replyTo(), ticket, reply);
    ArrayDeque<Long> queue = pairs.get(pending.pair);
    if (queue == null) {
      return;
    }
    queue.remove(ticket);
    if (queue.isEmpty()) {
      pairs.remove(pending.pair);
    } else {
      dispatch(queue.peekFirst());
    }
  }

  private Behavior<UserRegistry.Command> onOverdueCheckDue() {
    long now = System.nanoTime();
    List<Long> overdue =
        tickets.entrySet().stream()
            .filter(
                entry ->
                    entry.getValue().deadlineNanos != 0
                        && now - entry.getValue().deadlineNanos >= 0)
            .map(Map.Entry::getKey)
            .sorted()
            .toList();
    for (long ticket : overdue) {
      Pending pending = tickets.get(ticket);
      UserRegistry.SendDirect command = pending.command;
      if (pending.attempts < ownerAttempts) {
        context
            .getLog()
            .info(
                "owner did not answer a message in time, sending it again to={} id={}"
                    + " attempt={}",
                command.to(),
                command.id(),
                pending.attempts + 1);
        dispatch(ticket);
        continue;
      }
      context
          .getLog()
          .warn(
              "owner did not answer a message, giving up to={} id={} attempts={}",
              command.to(),
              command.id(),
              pending.attempts);
      // The rest of the pair was never sent: the client sends them all again, in order.
      ArrayDeque<Long> queue = pairs.remove(pending.pair);
      for (long queued : queue == null ? List.of(ticket) : List.copyOf(queue)) {
        Pending failed = tickets.remove(queued);
        owedReplies.answer(
            failed.command.replyTo(),
            queued,
            new ServerMessage.Error(
                Code.UNAVAILABLE, MESSAGE, failed.command.to(), failed.command.id()));
      }
    }
    return this;
  }

  // ---- blocks and private chats ----

  private Behavior<UserRegistry.Command> onBlock(UserRegistry.Block command) {
    return askBlock(
        command.blocker(),
        command.target(),
        BLOCK,
        command.replyTo(),
        replyTo -> new UserEntity.Block(command.target(), replyTo));
  }

  private Behavior<UserRegistry.Command> onUnblock(UserRegistry.Unblock command) {
    return askBlock(
        command.blocker(),
        command.target(),
        UNBLOCK,
        command.replyTo(),
        replyTo -> new UserEntity.Unblock(command.target(), replyTo));
  }

  private Behavior<UserRegistry.Command> askBlock(
      String blocker,
      String target,
      String name,
      ActorRef<ServerMessage> replyTo,
      Function<ActorRef<UserEntity.BlockAnswer>, UserEntity.Command> request) {
    BlockAsked asked = new BlockAsked(blocker, target, name, replyTo, request);
    if (target.equals(blocker)) {
      replyTo.tell(new ServerMessage.Error(Code.SELF, name, target));
    } else if (usernames != null && usernames.contains(target)) {
      askBlocker(asked);
    } else {
      // Not in this node's list of accounts, which may be older than the account: the target's
      // owner knows.
      context.pipeToSelf(
          AskPattern.ask(
              owners.of(target),
              UserEntity.CheckLockout::new,
              askTimeout,
              context.getSystem().scheduler()),
          (status, failure) -> new TargetChecked(asked, status, failure));
    }
    return this;
  }

  private Behavior<UserRegistry.Command> onTargetChecked(TargetChecked checked) {
    BlockAsked asked = checked.asked();
    if (checked.status() == null) {
      asked.replyTo().tell(new ServerMessage.Error(Code.UNAVAILABLE, asked.name(), asked.target()));
    } else if (!checked.status().exists()) {
      asked
          .replyTo()
          .tell(new ServerMessage.Error(Code.INVALID_USER, asked.name(), asked.target()));
    } else {
      if (usernames != null) {
        usernames.add(asked.target());
      }
      askBlocker(asked);
    }
    return this;
  }

  private void askBlocker(BlockAsked asked) {
    context.pipeToSelf(
        AskPattern.ask(
            owners.of(asked.blocker()),
            asked.request()::apply,
            askTimeout,
            context.getSystem().scheduler()),
        (answer, failure) ->
            new BlockAnswered(
                asked.blocker(),
                answer != null
                    ? answer
                    : new UserEntity.BlockAnswer(
                        new ServerMessage.Error(Code.UNAVAILABLE, asked.name(), asked.target()),
                        Set.of()),
                asked.replyTo()));
  }

  /**
   * A block or unblock the owner stored: confirmed once every node's roster has it, so that a
   * broadcast anywhere after the confirmation skips (or reaches) the blocker as it should.
   */
  private Behavior<UserRegistry.Command> onBlockAnswered(BlockAnswered answered) {
    ServerMessage reply = answered.answer().reply();
    if (reply instanceof ServerMessage.Error || !local.containsKey(answered.user())) {
      answered.replyTo().tell(reply);
      return this;
    }
    String user = answered.user();
    Set<String> blocks = answered.answer().blocks();
    context.pipeToSelf(
        AskPattern.ask(
            broadcaster,
            (ActorRef<Broadcaster.RosterWritten> replyTo) ->
                new Broadcaster.BlocksChanged(user, blocks, replyTo),
            askTimeout,
            context.getSystem().scheduler()),
        (written, failure) -> new Confirm(reply, answered.replyTo()));
    return this;
  }

  private Behavior<UserRegistry.Command> onLocatePeer(UserRegistry.LocatePeer command) {
    if (command.target().equals(command.requester())) {
      command.replyTo().tell(new ServerMessage.Error(Code.SELF, START_PRIVATE, command.target()));
      return this;
    }
    Local requester = local.get(command.requester());
    boolean takesTokens = requester != null && requester.attachment().takesTokens();
    return tell(
        command.target(),
        new UserEntity.Locate(command.requester(), takesTokens, command.replyTo()));
  }

  // ---- lists ----

  private Behavior<UserRegistry.Command> onListOnline(UserRegistry.ListOnline command) {
    broadcaster.tell(
        new Broadcaster.ListOnline(
            command.requester(), settings.listLimit(), settings.listBytes(), command.replyTo()));
    return this;
  }

  private Behavior<UserRegistry.Command> onListRecent(UserRegistry.ListRecent command) {
    if (command.seconds() < 0) {
      command
          .replyTo()
          .tell(new ServerMessage.Error(Code.INVALID_ARGUMENT, WHOELSESINCE, "seconds"));
      return this;
    }
    Instant windowStart = NameList.windowStart(clock.instant(), command.seconds());
    CompletionStage<List<String>> online =
        AskPattern.<Broadcaster.Command, ServerMessage>ask(
                broadcaster,
                replyTo ->
                    new Broadcaster.ListOnline(
                        command.requester(), Integer.MAX_VALUE, Integer.MAX_VALUE, replyTo),
                askTimeout,
                context.getSystem().scheduler())
            .thenApply(reply -> ((ServerMessage.OnlineUsers) reply).users());
    context.pipeToSelf(
        online.thenCombine(reads.logoutsSince(windowStart), Map::entry),
        (both, failure) ->
            new RecentRead(
                command,
                windowStart,
                both == null ? null : both.getKey(),
                both == null ? null : both.getValue(),
                failure));
    return this;
  }

  private Behavior<UserRegistry.Command> onRecentRead(RecentRead read) {
    UserRegistry.ListRecent command = read.command();
    if (read.failure() != null) {
      command.replyTo().tell(new ServerMessage.Error(Code.UNAVAILABLE, WHOELSESINCE, "seconds"));
      return this;
    }
    NameList capped =
        NameList.recent(
            read.online(),
            read.logouts(),
            command.requester(),
            read.windowStart(),
            settings.listLimit(),
            settings.listBytes());
    command
        .replyTo()
        .tell(new ServerMessage.RecentUsers(command.seconds(), capped.names(), capped.omitted()));
    return this;
  }

  // ---- accounts ----

  private Behavior<UserRegistry.Command> onAccountAdded(UserRegistry.AccountAdded added) {
    if (usernames != null) {
      usernames.add(added.username());
    }
    return tell(added.username(), new UserEntity.AccountCreated());
  }

  private Behavior<UserRegistry.Command> onAccountRemoved(UserRegistry.AccountRemoved removed) {
    if (usernames != null) {
      usernames.remove(removed.username());
    }
    return tell(removed.username(), new UserEntity.AccountDeleted());
  }

  private Behavior<UserRegistry.Command> refreshDirectory() {
    context.pipeToSelf(reads.usernames(), DirectoryRefreshed::new);
    return this;
  }

  private Behavior<UserRegistry.Command> onDirectoryRefreshed(DirectoryRefreshed refreshed) {
    if (refreshed.failure() != null) {
      context
          .getLog()
          .warn(
              "account list refresh failed cause={}",
              refreshed.failure().getClass().getSimpleName());
      return this;
    }
    Set<String> current = new HashSet<>(refreshed.usernames());
    current.addAll(local.keySet());
    usernames = current;
    return this;
  }
}
