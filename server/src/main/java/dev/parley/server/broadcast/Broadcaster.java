package dev.parley.server.broadcast;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import akka.util.ByteString;
import dev.parley.protocol.JsonCodec;
import dev.parley.protocol.ServerMessage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Fans broadcasts and presence notices out to the online users, honouring blocks in both
 * directions: a broadcast skips the users who blocked its sender, and a login or logout notice
 * skips the users whom the subject has blocked.
 *
 * <p>It keeps a roster of the online users and their block lists, maintained by the {@code
 * UserRegistry} (the source of truth) through {@link MemberJoined}, {@link BlocksChanged} and
 * {@link MemberLeft}. Because those arrive from a single sender, the roster sees them in the order
 * the registry decided them; sessions send {@link Broadcast} directly, so a broadcast costs no
 * round trip through the registry.
 *
 * <p>Everything it sends is encoded once and shared as bytes ({@link ServerMessage.Encoded}), not
 * encoded again by each recipient's connection. Presence notices are batched: the first after a
 * quiet spell goes out at once, and those that follow within {@code presenceBatch} go together at
 * its end, one write per recipient whatever the number of logins, with a login and a logout of the
 * same user inside one batch cancelling out. A login storm (everyone reconnecting after a restart)
 * then costs each online user a few writes a second instead of one per login.
 */
public final class Broadcaster extends AbstractBehavior<Broadcaster.Command> {

  /** What the broadcaster understands. */
  public sealed interface Command {}

  /** {@code user} logged in; {@code blocked} are the users they block. Others are told. */
  public record MemberJoined(String user, ActorRef<ServerMessage> outbox, Set<String> blocked)
      implements Command {
    public MemberJoined {
      blocked = Set.copyOf(blocked);
    }
  }

  /** {@code user} now blocks exactly {@code blocked}. */
  public record BlocksChanged(String user, Set<String> blocked) implements Command {
    public BlocksChanged {
      blocked = Set.copyOf(blocked);
    }
  }

  /**
   * {@code user}'s client resumed their session on a new connection, whose outbound queue is now
   * {@code outbox}. The others are not told: to them the user never left.
   */
  public record MemberMoved(String user, ActorRef<ServerMessage> outbox) implements Command {}

  /** {@code user} logged out, timed out or lost their connection. Others are told. */
  public record MemberLeft(String user) implements Command {}

  /** Send {@code text} to every other online user who has not blocked {@code from}. */
  public record Broadcast(String from, String text, ActorRef<ServerMessage> replyTo)
      implements Command {}

  private enum BatchDue implements Command {
    INSTANCE
  }

  /**
   * An online user. {@code joined} numbers the notice of their own login, so that a batch tells
   * them only of what happened after it.
   */
  private record Member(ActorRef<ServerMessage> outbox, Set<String> blocked, long joined) {}

  /** A login or logout to announce: the subject, whom they block, and the notice's bytes. */
  private record Notice(
      long number, String subject, Set<String> blockedBySubject, ByteString line) {}

  private static final Object BATCH_TIMER = BatchDue.INSTANCE;

  /**
   * @param presenceBatch how long presence notices after the first are gathered
   */
  public static Behavior<Command> create(Duration presenceBatch) {
    return Behaviors.setup(
        context -> Behaviors.withTimers(timers -> new Broadcaster(context, timers, presenceBatch)));
  }

  private final TimerScheduler<Command> timers;
  private final Duration presenceBatch;

  /** Online users in login order, so notices go out in a stable order. */
  private final Map<String, Member> roster = new LinkedHashMap<>();

  /** Notices gathered for the batch under way, in the order they happened. */
  private final List<Notice> batch = new ArrayList<>();

  private long notices;

  /** A batch is under way: notices wait for its end instead of going out at once. */
  private boolean batching;

  private Broadcaster(
      ActorContext<Command> context, TimerScheduler<Command> timers, Duration presenceBatch) {
    super(context);
    this.timers = timers;
    this.presenceBatch = presenceBatch;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Broadcast.class, this::onBroadcast)
        .onMessage(MemberJoined.class, this::onMemberJoined)
        .onMessage(MemberMoved.class, this::onMemberMoved)
        .onMessage(MemberLeft.class, this::onMemberLeft)
        .onMessage(BlocksChanged.class, this::onBlocksChanged)
        .onMessage(BatchDue.class, due -> onBatchDue())
        .build();
  }

  private Behavior<Command> onBroadcast(Broadcast command) {
    ServerMessage.Encoded message =
        new ServerMessage.Encoded(
            JsonCodec.SERVER.encode(
                new ServerMessage.BroadcastReceived(command.from(), command.text())));
    boolean complete = true;
    for (Map.Entry<String, Member> entry : roster.entrySet()) {
      if (entry.getKey().equals(command.from())) {
        continue;
      }
      Member member = entry.getValue();
      if (member.blocked().contains(command.from())) {
        complete = false;
      } else {
        member.outbox().tell(message);
      }
    }
    command.replyTo().tell(new ServerMessage.BroadcastSent(complete));
    return this;
  }

  private Behavior<Command> onMemberJoined(MemberJoined event) {
    long number = ++notices;
    roster.put(event.user(), new Member(event.outbox(), event.blocked(), number));
    announce(
        new Notice(
            number,
            event.user(),
            event.blocked(),
            JsonCodec.SERVER.encode(new ServerMessage.UserLoggedIn(event.user()))));
    return this;
  }

  private Behavior<Command> onMemberLeft(MemberLeft event) {
    Member member = roster.remove(event.user());
    if (member != null) {
      announce(
          new Notice(
              ++notices,
              event.user(),
              member.blocked(),
              JsonCodec.SERVER.encode(new ServerMessage.UserLoggedOut(event.user()))));
    }
    return this;
  }

  private Behavior<Command> onMemberMoved(MemberMoved event) {
    // Notices still gathered in the batch go to the new connection: the old one is gone.
    roster.computeIfPresent(
        event.user(),
        (user, member) -> new Member(event.outbox(), member.blocked(), member.joined()));
    return this;
  }

  private Behavior<Command> onBlocksChanged(BlocksChanged event) {
    roster.computeIfPresent(
        event.user(),
        (user, member) -> new Member(member.outbox(), event.blocked(), member.joined()));
    return this;
  }

  private void announce(Notice notice) {
    if (batching) {
      batch.add(notice);
      return;
    }
    // The first notice after a quiet spell goes at once: a single login is never delayed.
    deliver(List.of(notice));
    startBatch();
  }

  private Behavior<Command> onBatchDue() {
    if (batch.isEmpty()) {
      batching = false;
      return this;
    }
    deliver(withoutUndone(batch));
    batch.clear();
    startBatch();
    return this;
  }

  private void startBatch() {
    batching = true;
    timers.startSingleTimer(BATCH_TIMER, BatchDue.INSTANCE, presenceBatch);
  }

  /**
   * Sends each member the notices meant for them, in order: all of them, as one shared string of
   * bytes, for everyone but the few a notice must skip (its subject, whom the subject blocks, and
   * members who logged in after it), who get their own selection.
   */
  private void deliver(List<Notice> notices) {
    if (notices.isEmpty()) {
      return;
    }
    ByteString all = ByteString.emptyByteString();
    Set<String> special = new HashSet<>();
    for (Notice notice : notices) {
      all = all.concat(notice.line());
      special.add(notice.subject());
      special.addAll(notice.blockedBySubject());
    }
    ServerMessage.Encoded shared = new ServerMessage.Encoded(all);
    for (Map.Entry<String, Member> entry : roster.entrySet()) {
      Member member = entry.getValue();
      if (!special.contains(entry.getKey())) {
        if (member.joined() < notices.get(0).number()) {
          member.outbox().tell(shared);
          continue;
        }
      }
      ByteString own = selectionFor(entry.getKey(), member, notices);
      if (!own.isEmpty()) {
        member.outbox().tell(new ServerMessage.Encoded(own));
      }
    }
  }

  private static ByteString selectionFor(String user, Member member, List<Notice> notices) {
    ByteString own = ByteString.emptyByteString();
    for (Notice notice : notices) {
      if (notice.number() > member.joined()
          && !notice.subject().equals(user)
          && !notice.blockedBySubject().contains(user)) {
        own = own.concat(notice.line());
      }
    }
    return own;
  }

  /**
   * The batch without the notices that undo each other: a user who logged in and out (or out and
   * in) within it ends where they began, and nobody needs to hear of either.
   */
  private static List<Notice> withoutUndone(List<Notice> gathered) {
    Map<String, Integer> counts = new HashMap<>();
    for (Notice notice : gathered) {
      counts.merge(notice.subject(), 1, Integer::sum);
    }
    if (counts.values().stream().allMatch(count -> count == 1)) {
      return gathered;
    }
    // An even number of notices about one subject cancels out; an odd number leaves the last.
    Map<String, Integer> seen = new HashMap<>();
    List<Notice> kept = new ArrayList<>(gathered.size());
    for (Notice notice : gathered) {
      int total = counts.get(notice.subject());
      int index = seen.merge(notice.subject(), 1, Integer::sum);
      if (total % 2 == 1 && index == total) {
        kept.add(notice);
      }
    }
    return kept;
  }
}
