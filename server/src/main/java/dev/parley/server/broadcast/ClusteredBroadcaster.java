package dev.parley.server.broadcast;

import akka.actor.Address;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import akka.actor.typed.pubsub.Topic;
import akka.cluster.ClusterEvent;
import akka.cluster.MemberStatus;
import akka.cluster.ddata.Key;
import akka.cluster.ddata.LWWMap;
import akka.cluster.ddata.LWWMapKey;
import akka.cluster.ddata.SelfUniqueAddress;
import akka.cluster.ddata.typed.javadsl.DistributedData;
import akka.cluster.ddata.typed.javadsl.Replicator;
import akka.cluster.ddata.typed.javadsl.ReplicatorMessageAdapter;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Subscribe;
import dev.parley.protocol.JsonCodec;
import dev.parley.protocol.ServerMessage;
import dev.parley.server.broadcast.Broadcaster.BatchDue;
import dev.parley.server.broadcast.Broadcaster.BlocksChanged;
import dev.parley.server.broadcast.Broadcaster.Broadcast;
import dev.parley.server.broadcast.Broadcaster.BroadcastPublished;
import dev.parley.server.broadcast.Broadcaster.Command;
import dev.parley.server.broadcast.Broadcaster.ListOnline;
import dev.parley.server.broadcast.Broadcaster.MemberJoined;
import dev.parley.server.broadcast.Broadcaster.MemberLeft;
import dev.parley.server.broadcast.Broadcaster.MemberMoved;
import dev.parley.server.broadcast.Broadcaster.NodeRemoved;
import dev.parley.server.broadcast.Broadcaster.RosterChanged;
import dev.parley.server.broadcast.Broadcaster.RosterWritten;
import dev.parley.server.broadcast.PresenceNotices.Notice;
import dev.parley.server.broadcast.PresenceNotices.Recipient;
import dev.parley.server.registry.NameList;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The broadcaster of a cluster node ({@link Broadcaster#clustered}): same protocol as a standalone
 * one, but the users it serves are spread over the nodes.
 *
 * <p>The roster is one {@link LWWMap} from username to {@link RosterEntry}, replicated to every
 * node by Distributed Data. Only the node a user's session lives on writes their entry, so each
 * entry has one writer at a time, and a write replaces the whole entry: last-writer-wins per entry
 * is the merge it needs, with no CRDT inside the value (an {@code ORMap} would only wrap the same
 * register). A user moving to a connection on another node is the one case of two writers, and the
 * LWWMap settles it well: concurrent puts go to the later clock, and a stale removal by the old
 * node removes only what it saw, never the new node's concurrent put (the map's keys are an
 * observed-remove set, adds win). Writes are {@code WriteLocal}: presence is advisory, gossip
 * spreads a write within a few gossip intervals, and a login must neither wait for other nodes nor
 * fail while some are unreachable.
 *
 * <p>Presence notices come from the replicated state, so that every node announces the same
 * changes whichever node made them: on each change the broadcaster compares the roster with the one
 * it saw last. A user who appeared logged in, one who disappeared logged out; a changed outbox is a
 * move (nothing to announce), changed blocks are only remembered. Each node tells its own members
 * only, through the same batching as a standalone node. A member hears only of changes seen after
 * their own entry was: the state a node first sees, and the one a new member first appears in, is a
 * snapshot of who is there, not news (their client asks whoelse for that).
 *
 * <p>Broadcasts go to every node on one {@link Topic}, each node delivering to its own members. A
 * node that leaves or is downed cannot remove its users' entries; any surviving node that sees it
 * removed does, so that the others see those users leave.
 *
 * <p>Only {@link RosterEntry} and {@link BroadcastPublished} cross nodes; frames for clients are
 * only ever sent to outboxes of this node.
 */
final class ClusteredBroadcaster extends AbstractBehavior<Command> {

  /** The replicated roster: one key, the whole cluster's online users. */
  static final Key<LWWMap<String, RosterEntry>> ROSTER = LWWMapKey.create("parley-roster");

  /** The topic every node's broadcaster publishes broadcasts on and subscribes to. */
  static final String TOPIC = "parley-broadcasts";

  /** The {@code joined} of a local member whose entry has not come back replicated yet. */
  private static final long NOT_YET_SEEN = Long.MAX_VALUE;

  private static final Comparator<Map.Entry<String, RosterEntry>> LOGIN_ORDER =
      Comparator.<Map.Entry<String, RosterEntry>>comparingLong(e -> e.getValue().loginStamp())
          .thenComparing(Map.Entry::getKey);

  static Behavior<Command> create(Duration presenceBatch, Clock clock) {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers ->
                    DistributedData.<Command, LWWMap<String, RosterEntry>>
                        withReplicatorMessageAdapter(
                            replicator ->
                                new ClusteredBroadcaster(
                                    context, timers, replicator, presenceBatch, clock))));
  }

  private final ReplicatorMessageAdapter<Command, LWWMap<String, RosterEntry>> replicator;
  private final SelfUniqueAddress node;
  private final Cluster cluster;
  private final ActorRef<Topic.Command<BroadcastPublished>> topic;
  private final Clock clock;

  /** The members whose sessions live on this node, as this node's commands left them. */
  private final Map<String, Recipient> local = new LinkedHashMap<>();

  private final PresenceNotices presence;

  /**
   * Local members who left, until their entry is seen gone: their logout notice honours the blocks
   * they had here, which may be newer than the replicated ones.
   */
  private final Map<String, Recipient> departed = new HashMap<>();

  /** The replicated roster as last seen. */
  private Map<String, RosterEntry> seen = Map.of();

  /** {@link #seen}'s users in login order; {@code null} until a whoelse needs it again. */
  private List<String> loginOrder = List.of();

  /** The first state seen is a snapshot of who was already there, and announces nothing. */
  private boolean snapshotSeen;

  private long lastStamp;

  private ClusteredBroadcaster(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      ReplicatorMessageAdapter<Command, LWWMap<String, RosterEntry>> replicator,
      Duration presenceBatch,
      Clock clock) {
    super(context);
    this.replicator = replicator;
    this.clock = clock;
    this.presence = new PresenceNotices(timers, presenceBatch, local);
    this.node = DistributedData.get(context.getSystem()).selfUniqueAddress();
    this.cluster = Cluster.get(context.getSystem());
    replicator.subscribe(ROSTER, RosterChanged::new);
    topic = context.spawn(Topic.create(BroadcastPublished.class, TOPIC), "broadcasts");
    topic.tell(Topic.subscribe(context.getSelf().narrow()));
    cluster
        .subscriptions()
        .tell(
            Subscribe.create(
                context.messageAdapter(ClusterEvent.MemberRemoved.class, NodeRemoved::new),
                ClusterEvent.MemberRemoved.class));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Broadcast.class, this::onBroadcast)
        .onMessage(BroadcastPublished.class, this::onBroadcastPublished)
        .onMessage(MemberJoined.class, this::onMemberJoined)
        .onMessage(MemberMoved.class, this::onMemberMoved)
        .onMessage(MemberLeft.class, this::onMemberLeft)
        .onMessage(BlocksChanged.class, this::onBlocksChanged)
        .onMessage(ListOnline.class, this::onListOnline)
        .onMessage(RosterChanged.class, this::onRosterChanged)
        .onMessage(RosterWritten.class, this::onRosterWritten)
        .onMessage(NodeRemoved.class, this::onNodeRemoved)
        .onMessage(
            BatchDue.class,
            due -> {
              presence.onBatchDue();
              return this;
            })
        .build();
  }

  // ---- this node's sessions ----

  private Behavior<Command> onMemberJoined(MemberJoined event) {
    local.put(event.user(), new Recipient(event.outbox(), event.blocked(), NOT_YET_SEEN));
    RosterEntry entry = new RosterEntry(event.outbox(), event.blocked(), nextLoginStamp());
    write(roster -> roster.put(node, event.user(), entry));
    return this;
  }

  private Behavior<Command> onMemberMoved(MemberMoved event) {
    Recipient here = local.get(event.user());
    if (here != null) {
      local.put(event.user(), here.withOutbox(event.outbox()));
    } else {
      // Moved here from another node: they were online all along and heard what happened.
      RosterEntry known = seen.get(event.user());
      if (known != null) {
        local.put(
            event.user(), new Recipient(event.outbox(), known.blocked(), presence.latest()));
      }
    }
    write(
        roster -> {
          RosterEntry entry = roster.getEntries().get(event.user());
          return entry == null ? roster : roster.put(node, event.user(), entry.withOutbox(event.outbox()));
        });
    return this;
  }

  private Behavior<Command> onBlocksChanged(BlocksChanged event) {
    local.computeIfPresent(event.user(), (user, member) -> member.withBlocked(event.blocked()));
    write(
        roster -> {
          RosterEntry entry = roster.getEntries().get(event.user());
          // Another node's entry is that node's to write.
          return entry == null || !isLocal(entry.outbox())
              ? roster
              : roster.put(node, event.user(), entry.withBlocked(event.blocked()));
        });
    return this;
  }

  private Behavior<Command> onMemberLeft(MemberLeft event) {
    Recipient here = local.get(event.user());
    if (here != null && here.outbox().equals(event.outbox())) {
      local.remove(event.user());
      departed.put(event.user(), here);
    }
    // Checked against the entry as this replica holds it when the write happens, not as it was
    // last seen: the user may have moved on to another connection, here or on another node.
    write(
        roster -> {
          RosterEntry entry = roster.getEntries().get(event.user());
          return entry != null && entry.outbox().equals(event.outbox())
              ? roster.remove(node, event.user())
              : roster;
        });
    return this;
  }

  private void write(Function<LWWMap<String, RosterEntry>, LWWMap<String, RosterEntry>> change) {
    replicator.askUpdate(
        replyTo ->
            new Replicator.Update<>(
                ROSTER,
                LWWMap.<String, RosterEntry>empty(),
                Replicator.writeLocal(),
                replyTo,
                change::apply),
        RosterWritten::new);
  }

  /** Microseconds since the epoch, but always later than the previous stamp of this node. */
  private long nextLoginStamp() {
    lastStamp = Math.max(ChronoUnit.MICROS.between(Instant.EPOCH, clock.instant()), lastStamp + 1);
    return lastStamp;
  }

  private Behavior<Command> onRosterWritten(RosterWritten written) {
    if (!(written.response() instanceof Replicator.UpdateSuccess)) {
      getContext().getLog().warn("roster write failed response={}", written.response());
    }
    return this;
  }

  // ---- broadcasts ----

  private Behavior<Command> onBroadcast(Broadcast command) {
    String from = command.from();
    boolean complete = true;
    for (Map.Entry<String, Recipient> member : local.entrySet()) {
      if (!member.getKey().equals(from) && member.getValue().blocked().contains(from)) {
        complete = false;
        break;
      }
    }
    if (complete) {
      for (Map.Entry<String, RosterEntry> member : seen.entrySet()) {
        // This node's own members were checked above, with blocks fresher than replicated ones.
        if (!member.getKey().equals(from)
            && !local.containsKey(member.getKey())
            && member.getValue().blocked().contains(from)) {
          complete = false;
          break;
        }
      }
    }
    topic.tell(Topic.publish(new BroadcastPublished(from, command.text())));
    command.replyTo().tell(new ServerMessage.BroadcastSent(complete));
    return this;
  }

  private Behavior<Command> onBroadcastPublished(BroadcastPublished published) {
    ServerMessage.Encoded message = null;
    for (Map.Entry<String, Recipient> entry : local.entrySet()) {
      Recipient member = entry.getValue();
      if (entry.getKey().equals(published.from()) || member.blocked().contains(published.from())) {
        continue;
      }
      if (message == null) {
        message =
            new ServerMessage.Encoded(
                JsonCodec.SERVER.encode(
                    new ServerMessage.BroadcastReceived(published.from(), published.text())));
      }
      member.outbox().tell(message);
    }
    return this;
  }

  // ---- the replicated roster ----

  private Behavior<Command> onRosterChanged(RosterChanged changed) {
    if (!(changed.response() instanceof Replicator.Changed<LWWMap<String, RosterEntry>> state)) {
      // The roster is never deleted; nothing else is worth acting on.
      return this;
    }
    Map<String, RosterEntry> next = state.get(ROSTER).getEntries();
    List<Notice> notices = snapshotSeen && anyoneListening() ? differences(next) : List.of();
    seen = next;
    loginOrder = null;
    // Kept only until the entry they left is seen gone or taken over by a new connection.
    departed
        .entrySet()
        .removeIf(
            left -> {
              RosterEntry entry = next.get(left.getKey());
              return entry == null || !entry.outbox().equals(left.getValue().outbox());
            });
    snapshotSeen = true;
    followLocalMembers();
    notices.forEach(presence::announce);
    return this;
  }

  /** Whether a member of this node has heard news already, and so would be told of more. */
  private boolean anyoneListening() {
    for (Recipient member : local.values()) {
      if (member.joined() != NOT_YET_SEEN) {
        return true;
      }
    }
    return false;
  }

  /** Who left since the last state seen, then who arrived, in login order. */
  private List<Notice> differences(Map<String, RosterEntry> next) {
    List<Notice> notices = new ArrayList<>();
    for (Map.Entry<String, RosterEntry> before : seen.entrySet()) {
      if (!next.containsKey(before.getKey())) {
        Recipient left = departed.get(before.getKey());
        notices.add(
            Notice.loggedOut(
                presence.next(),
                before.getKey(),
                left != null ? left.blocked() : before.getValue().blocked()));
      }
    }
    List<Map.Entry<String, RosterEntry>> arrived = new ArrayList<>();
    for (Map.Entry<String, RosterEntry> now : next.entrySet()) {
      if (!seen.containsKey(now.getKey())) {
        arrived.add(now);
      }
    }
    arrived.sort(LOGIN_ORDER);
    for (Map.Entry<String, RosterEntry> now : arrived) {
      notices.add(Notice.loggedIn(presence.next(), now.getKey(), now.getValue().blocked()));
    }
    return notices;
  }

  /**
   * Brings the local members in line with the state just seen: one whose entry appears in it for
   * the first time hears of what happens from now on; one whose entry is gone, or now names an
   * outbox on another node, no longer lives here.
   */
  private void followLocalMembers() {
    Iterator<Map.Entry<String, Recipient>> members = local.entrySet().iterator();
    while (members.hasNext()) {
      Map.Entry<String, Recipient> member = members.next();
      Recipient here = member.getValue();
      RosterEntry entry = seen.get(member.getKey());
      if (here.joined() == NOT_YET_SEEN) {
        if (entry != null && entry.outbox().equals(here.outbox())) {
          member.setValue(new Recipient(here.outbox(), here.blocked(), presence.latest()));
        }
      } else if (entry == null || !isLocal(entry.outbox())) {
        members.remove();
      }
    }
  }

  private Behavior<Command> onNodeRemoved(NodeRemoved removed) {
    Address gone = removed.event().member().address();
    MemberStatus self = cluster.selfMember().status();
    // A node on its way out sees the others removed as it leaves: their users are not gone.
    if (gone.equals(cluster.selfMember().address())
        || !(self.equals(MemberStatus.up()) || self.equals(MemberStatus.weaklyUp()))) {
      return this;
    }
    getContext().getLog().info("roster removing the users of a removed node address={}", gone);
    write(
        roster -> {
          LWWMap<String, RosterEntry> remaining = roster;
          for (Map.Entry<String, RosterEntry> entry : roster.getEntries().entrySet()) {
            if (entry.getValue().outbox().path().address().equals(gone)) {
              remaining = remaining.remove(node, entry.getKey());
            }
          }
          return remaining;
        });
    return this;
  }

  private Behavior<Command> onListOnline(ListOnline command) {
    if (loginOrder == null) {
      List<Map.Entry<String, RosterEntry>> online = new ArrayList<>(seen.entrySet());
      online.sort(LOGIN_ORDER);
      loginOrder = online.stream().map(Map.Entry::getKey).toList();
    }
    List<String> others = new ArrayList<>(loginOrder.size());
    for (String user : loginOrder) {
      if (!user.equals(command.requester())) {
        others.add(user);
      }
    }
    NameList listed = NameList.capped(others, command.limit(), command.bytes());
    command.replyTo().tell(new ServerMessage.OnlineUsers(listed.names(), listed.omitted()));
    return this;
  }

  private static boolean isLocal(ActorRef<?> ref) {
    return ref.path().address().hasLocalScope();
  }
}
