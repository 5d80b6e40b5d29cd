package dev.parley.server.broadcast;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import akka.cluster.ClusterEvent;
import akka.cluster.ddata.LWWMap;
import akka.cluster.ddata.typed.javadsl.Replicator;
import dev.parley.protocol.JsonCodec;
import dev.parley.protocol.ServerMessage;
import dev.parley.server.broadcast.PresenceNotices.Notice;
import dev.parley.server.broadcast.PresenceNotices.Recipient;
import dev.parley.server.cluster.CborSerializable;
import dev.parley.server.registry.NameList;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
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
 * <p>A standalone node's broadcaster ({@link #create}) is the whole story. A cluster node's ({@link
 * #clustered}) shares the same protocol and delivery, but keeps the roster replicated across the
 * cluster and delivers only to the users connected to its own node; {@link ClusteredBroadcaster}
 * explains how.
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

  /**
   * {@code user} logged in; {@code blocked} are the users they block. Others are told, unless
   * {@code announced} is false: the user's client resumed a session that the node's last stop
   * interrupted, and the others, disconnected by the same stop, never saw them leave. Only a
   * standalone node's registry sends that; a clustered broadcaster announces every login.
   */
  public record MemberJoined(
      String user, ActorRef<ServerMessage> outbox, Set<String> blocked, boolean announced)
      implements Command {
    public MemberJoined {
      blocked = Set.copyOf(blocked);
    }

    /** A login the others are told of. */
    public MemberJoined(String user, ActorRef<ServerMessage> outbox, Set<String> blocked) {
      this(user, outbox, blocked, true);
    }
  }

  /**
   * {@code user} now blocks exactly {@code blocked}.
   *
   * @param replyTo told {@link RosterWritten} once the change is in effect everywhere it will be
   *     waited for (see there); {@code null}: nobody waits
   */
  public record BlocksChanged(String user, Set<String> blocked, ActorRef<RosterWritten> replyTo)
      implements Command {
    public BlocksChanged {
      blocked = Set.copyOf(blocked);
    }

    /** A change nobody waits for. */
    public BlocksChanged(String user, Set<String> blocked) {
      this(user, blocked, null);
    }
  }

  /**
   * {@code user}'s client resumed their session on a new connection, whose outbound queue is now
   * {@code outbox}. The others are not told: to them the user never left.
   */
  public record MemberMoved(String user, ActorRef<ServerMessage> outbox) implements Command {}

  /**
   * {@code user}'s connection with outbound queue {@code outbox} logged out, timed out or was lost.
   * Others are told, unless the user has meanwhile moved to another connection: a late leave of an
   * old connection must not take the current one offline.
   *
   * @param replyTo told {@link RosterWritten} once the logout is in effect everywhere it will be
   *     waited for (see there), also when there was nothing to do (a late leave); {@code null}:
   *     nobody waits
   * @param announced false when the node's stop closed the connection: everyone is being
   *     disconnected by it and told so, and the user's client will resume. Only a standalone node's
   *     registry sends that; a clustered broadcaster announces every logout.
   */
  public record MemberLeft(
      String user,
      ActorRef<ServerMessage> outbox,
      ActorRef<RosterWritten> replyTo,
      boolean announced)
      implements Command {

    /** A logout the others are told of. */
    public MemberLeft(
        String user, ActorRef<ServerMessage> outbox, ActorRef<RosterWritten> replyTo) {
      this(user, outbox, replyTo, true);
    }

    /** A logout the others are told of, and nobody waits for. */
    public MemberLeft(String user, ActorRef<ServerMessage> outbox) {
      this(user, outbox, null, true);
    }
  }

  /**
   * {@code user}'s session, which the node's last stop interrupted, was not resumed within the
   * resumption window: the others are told now that the user logged out, as they were not at the
   * stop. {@code blocked} are the users they block, who are not told.
   */
  public record ReturnOverdue(String user, Set<String> blocked) implements Command {
    public ReturnOverdue {
      blocked = Set.copyOf(blocked);
    }
  }

  /**
   * The answer to a {@link BlocksChanged} or {@link MemberLeft} that asked for one: the change
   * about {@code user} has been made.
   *
   * <p>A standalone broadcaster answers at once, {@code everywhere} true: its roster is the only
   * one. A clustered one answers once its write of the roster has been acknowledged by every node
   * of the cluster ({@code everywhere} true), or once the write timeout ({@code
   * parley.server.cluster.roster.write-timeout}) has passed without ({@code everywhere} false: some
   * node is slow or unreachable, and gossip will bring it the change later). Either way this node's
   * own replica has the change before the answer is sent. With {@code everywhere} true, from then
   * on every node's whoelse and broadcast completeness reflect the change; its presence notices
   * follow within that node's notify interval (they are announced from roster notifications, not
   * from the write).
   */
  public record RosterWritten(String user, boolean everywhere) {}

  /** Send {@code text} to every other online user who has not blocked {@code from}. */
  public record Broadcast(String from, String text, ActorRef<ServerMessage> replyTo)
      implements Command {}

  /**
   * whoelse: answered with {@code online-users}, everyone online but {@code requester} in login
   * order, at most {@code limit} names and {@code bytes} bytes of encoded names ({@link NameList}).
   */
  public record ListOnline(String requester, int limit, int bytes, ActorRef<ServerMessage> replyTo)
      implements Command {}

  /**
   * A broadcast on its way to every node of a cluster, where each delivers it to its own members.
   * Only clustered broadcasters publish it, on {@link ClusteredBroadcaster#TOPIC}; {@code origin}
   * is the publishing broadcaster, which has delivered it to its own members already.
   */
  public record BroadcastPublished(ActorRef<Command> origin, String from, String text)
      implements Command, CborSerializable {}

  /** The presence batch under way has come to its end. */
  enum BatchDue implements Command {
    INSTANCE
  }

  /** The replicated roster changed (a clustered broadcaster's subscription). */
  record RosterChanged(Replicator.SubscribeResponse<LWWMap<String, RosterEntry>> response)
      implements Command {}

  /**
   * A clustered broadcaster's write of the roster entry of {@code user} was done, timed out or
   * failed; {@code replyTo}, if any, waits to hear of it.
   */
  record RosterUpdated(
      Replicator.UpdateResponse<LWWMap<String, RosterEntry>> response,
      String user,
      ActorRef<RosterWritten> replyTo)
      implements Command {}

  /**
   * This node's replica of the roster, read for {@code request} (a {@link ListOnline} or a {@link
   * Broadcast}), or for the snapshot a clustered broadcaster starts from ({@code request} null).
   */
  record RosterRead(Replicator.GetResponse<LWWMap<String, RosterEntry>> response, Command request)
      implements Command {}

  /** Time for a clustered broadcaster to drop the tombstones of logouts long announced. */
  enum PruneDue implements Command {
    INSTANCE
  }

  /** A node left the cluster or was downed; its users' entries are to go. */
  record NodeRemoved(ClusterEvent.MemberRemoved event) implements Command {}

  /**
   * A broadcaster for a standalone node, where every online user is local.
   *
   * @param presenceBatch how long presence notices after the first are gathered
   */
  public static Behavior<Command> create(PresenceBatching presenceBatch) {
    return Behaviors.setup(
        context -> Behaviors.withTimers(timers -> new Broadcaster(context, timers, presenceBatch)));
  }

  /**
   * A broadcaster for a node of a cluster: the roster is replicated to every node (Distributed
   * Data), broadcasts are published to every node (a {@link akka.actor.typed.pubsub.Topic}), and
   * each node delivers both to its own members only. See {@link ClusteredBroadcaster}.
   *
   * @param presenceBatch how long presence notices after the first are gathered
   * @param clock stamps each login, which orders whoelse across the cluster, and each logout, which
   *     dates its tombstone
   * @param writeTimeout how long a write of the roster waits for every node to acknowledge it
   *     before the writer carries on without (gossip completes it later)
   * @param departedTtl how long the tombstone of a logout stays in the roster before it is dropped
   */
  public static Behavior<Command> clustered(
      PresenceBatching presenceBatch, Clock clock, Duration writeTimeout, Duration departedTtl) {
    return ClusteredBroadcaster.create(presenceBatch, clock, writeTimeout, departedTtl);
  }

  /** Online users in login order, so notices go out in a stable order. */
  private final Map<String, Recipient> roster = new LinkedHashMap<>();

  private final PresenceNotices presence;

  private Broadcaster(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      PresenceBatching presenceBatch) {
    super(context);
    this.presence = new PresenceNotices(timers, presenceBatch, roster);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Broadcast.class, this::onBroadcast)
        .onMessage(MemberJoined.class, this::onMemberJoined)
        .onMessage(MemberMoved.class, this::onMemberMoved)
        .onMessage(MemberLeft.class, this::onMemberLeft)
        .onMessage(ReturnOverdue.class, this::onReturnOverdue)
        .onMessage(BlocksChanged.class, this::onBlocksChanged)
        .onMessage(ListOnline.class, this::onListOnline)
        .onMessage(
            BatchDue.class,
            due -> {
              presence.onBatchDue();
              return this;
            })
        .build();
  }

  private Behavior<Command> onBroadcast(Broadcast command) {
    ServerMessage.Encoded message =
        new ServerMessage.Encoded(
            JsonCodec.SERVER.encode(
                new ServerMessage.BroadcastReceived(command.from(), command.text())));
    boolean complete = true;
    for (Map.Entry<String, Recipient> entry : roster.entrySet()) {
      if (entry.getKey().equals(command.from())) {
        continue;
      }
      Recipient member = entry.getValue();
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
    if (!event.announced()) {
      // They hear of every change from now on.
      roster.put(event.user(), new Recipient(event.outbox(), event.blocked(), presence.latest()));
      return this;
    }
    long number = presence.next();
    roster.put(event.user(), new Recipient(event.outbox(), event.blocked(), number));
    presence.announce(Notice.loggedIn(number, event.user(), event.blocked()));
    return this;
  }

  private Behavior<Command> onMemberLeft(MemberLeft event) {
    Recipient member = roster.get(event.user());
    if (member != null && member.outbox().equals(event.outbox())) {
      roster.remove(event.user());
      if (event.announced()) {
        presence.announce(Notice.loggedOut(presence.next(), event.user(), member.blocked()));
      }
    }
    written(event.replyTo(), event.user());
    return this;
  }

  private Behavior<Command> onReturnOverdue(ReturnOverdue event) {
    presence.announce(Notice.loggedOut(presence.next(), event.user(), event.blocked()));
    return this;
  }

  private Behavior<Command> onMemberMoved(MemberMoved event) {
    // Notices still gathered in the batch go to the new connection: the old one is gone.
    roster.computeIfPresent(event.user(), (user, member) -> member.withOutbox(event.outbox()));
    return this;
  }

  private Behavior<Command> onBlocksChanged(BlocksChanged event) {
    roster.computeIfPresent(event.user(), (user, member) -> member.withBlocked(event.blocked()));
    written(event.replyTo(), event.user());
    return this;
  }

  /** This roster is the only one: a change is everywhere as soon as it is made. */
  private static void written(ActorRef<RosterWritten> replyTo, String user) {
    if (replyTo != null) {
      replyTo.tell(new RosterWritten(user, true));
    }
  }

  private Behavior<Command> onListOnline(ListOnline command) {
    List<String> others = new ArrayList<>(roster.size());
    for (String user : roster.keySet()) {
      if (!user.equals(command.requester())) {
        others.add(user);
      }
    }
    NameList listed = NameList.capped(others, command.limit(), command.bytes());
    command.replyTo().tell(new ServerMessage.OnlineUsers(listed.names(), listed.omitted()));
    return this;
  }
}
