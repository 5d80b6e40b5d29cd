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
import akka.cluster.Member;
import akka.cluster.MemberStatus;
import akka.cluster.ddata.Key;
import akka.cluster.ddata.LWWMap;
import akka.cluster.ddata.LWWMapKey;
import akka.cluster.ddata.LWWRegister;
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
import dev.parley.server.broadcast.Broadcaster.PruneDue;
import dev.parley.server.broadcast.Broadcaster.RosterChanged;
import dev.parley.server.broadcast.Broadcaster.RosterRead;
import dev.parley.server.broadcast.Broadcaster.RosterUpdated;
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
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import scala.Option;

/**
 * The broadcaster of a cluster node ({@link Broadcaster#clustered}): same protocol as a standalone
 * one, but the users it serves are spread over the nodes.
 *
 * <p>The roster is one {@link LWWMap} from username to {@link RosterEntry}, replicated to every
 * node by Distributed Data. Only the node a user's session lives on writes their entry, so each
 * entry has one writer at a time, and a write replaces the whole entry: last-writer-wins per entry
 * is the merge it needs, with no CRDT inside the value (an {@code ORMap} would only wrap the same
 * register). A user moving to a connection on another node is the one case of two writers; a login
 * or move is stamped by the wall clock, a logout one tick after the entry it replaces, so a stale
 * logout by the old node never wins over the new node's concurrent write.
 *
 * <p>Writes are {@code WriteAll} with a timeout: the local replica takes the change at once, every
 * reachable node has it when the write is acknowledged, and a node that does not answer in time
 * gets it by gossip (a timeout is no failure: presence must not fail while a node is unreachable).
 * {@link MemberLeft} and {@link BlocksChanged} may ask to be told when that happened ({@link
 * RosterWritten}). whoelse and a broadcast's completeness read this node's replica when asked
 * ({@code ReadLocal}), so they reflect every write acknowledged by this node.
 *
 * <p>A logout does not remove the user's entry: it turns it into a tombstone (departed, with the
 * blocks and outbox it had), so that every node sees the logout as a change of the entry and
 * honours the blocks it was made with, even when a change of blocks and the logout reach it in one
 * gossip. Tombstones are invisible to whoelse and broadcasts, a new login overwrites them, and
 * after {@code departedTtl} the node that wrote them removes them (any node does, for a node that
 * is no longer a member).
 *
 * <p>Presence notices come from the replicated state, so that every node announces the same changes
 * whichever node made them: on each change the broadcaster compares the roster with the one it saw
 * last. An entry that became online is a login, one that stopped being online (departed, or gone) a
 * logout; a changed outbox is a move (nothing to announce), changed blocks are only remembered.
 * Each node tells its own members only, through the same batching as a standalone node. The state
 * the broadcaster finds when it starts is a snapshot of who is there, not news; a member who joins
 * hears of every change the broadcaster sees after it joined, including the logins of other members
 * of this node who joined just before (their client asks whoelse for what was there before).
 *
 * <p>Broadcasts go to every node on one {@link Topic}, each node delivering to its own members. A
 * node that leaves or is downed cannot retire its users' entries; any surviving node that sees it
 * removed turns them into tombstones, so that the others see those users leave.
 *
 * <p>Only {@link RosterEntry} and {@link BroadcastPublished} cross nodes; frames for clients are
 * only ever sent to outboxes of this node.
 */
final class ClusteredBroadcaster extends AbstractBehavior<Command> {

  /** The replicated roster: one key, the whole cluster's online users and recent logouts. */
  static final Key<LWWMap<String, RosterEntry>> ROSTER = LWWMapKey.create("parley-roster");

  /** The topic every node's broadcaster publishes broadcasts on and subscribes to. */
  static final String TOPIC = "parley-broadcasts";

  private static final Comparator<Map.Entry<String, RosterEntry>> LOGIN_ORDER =
      Comparator.<Map.Entry<String, RosterEntry>>comparingLong(e -> e.getValue().loginStamp())
          .thenComparing(Map.Entry::getKey);

  /**
   * The clock of a tombstone's register: one tick after the entry it replaces, so that it wins over
   * that entry but loses to a concurrent login or move written elsewhere by the wall clock.
   */
  private static final LWWRegister.Clock<RosterEntry> JUST_AFTER =
      (currentTimestamp, value) -> currentTimestamp + 1;

  static Behavior<Command> create(
      PresenceBatching presenceBatch, Clock clock, Duration writeTimeout, Duration departedTtl) {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers ->
                    DistributedData
                        .<Command, LWWMap<String, RosterEntry>>withReplicatorMessageAdapter(
                            replicator ->
                                new ClusteredBroadcaster(
                                    context,
                                    timers,
                                    replicator,
                                    presenceBatch,
                                    clock,
                                    writeTimeout,
                                    departedTtl))));
  }

  private final ReplicatorMessageAdapter<Command, LWWMap<String, RosterEntry>> replicator;
  private final SelfUniqueAddress node;
  private final Cluster cluster;
  private final ActorRef<Topic.Command<BroadcastPublished>> topic;
  private final Clock clock;
  private final Replicator.WriteConsistency writeAll;
  private final Duration departedTtl;

  /** The members whose sessions live on this node, as this node's commands left them. */
  private final Map<String, Recipient> local = new LinkedHashMap<>();

  /**
   * Local members whose entry, with their current outbox, has not been seen replicated yet: until
   * it has, an older state of the roster does not mean they left or moved away.
   */
  private final Set<String> awaitingEntry = new HashSet<>();

  private final PresenceNotices presence;

  /** The replicated roster as last seen in a notification, tombstones included. */
  private Map<String, RosterEntry> seen = Map.of();

  /** The last replica read or seen, with what was worked out of it. */
  private Replica replica = new Replica(null, Map.of());

  /**
   * The state read when the broadcaster starts (or, failing that, the first notification) is a
   * snapshot of who was already there, and announces nothing.
   */
  private boolean snapshotSeen;

  private long lastStamp;

  private ClusteredBroadcaster(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      ReplicatorMessageAdapter<Command, LWWMap<String, RosterEntry>> replicator,
      PresenceBatching presenceBatch,
      Clock clock,
      Duration writeTimeout,
      Duration departedTtl) {
    super(context);
    // Named for the class: detected from the stack, the name can come out as Akka's ActorCell,
    // whose level (WARN) then hides this actor's INFO lines.
    context.setLoggerName(ClusteredBroadcaster.class);
    this.replicator = replicator;
    this.clock = clock;
    this.writeAll = new Replicator.WriteAll(writeTimeout);
    this.departedTtl = departedTtl;
    this.presence = new PresenceNotices(timers, presenceBatch, local);
    this.node = DistributedData.get(context.getSystem()).selfUniqueAddress();
    this.cluster = Cluster.get(context.getSystem());
    // The snapshot first, then the subscription: every notification then comes after the state
    // the snapshot holds, and the changes since are news.
    read(null);
    topic = context.spawn(Topic.create(BroadcastPublished.class, TOPIC), "broadcasts");
    topic.tell(Topic.subscribe(context.getSelf().narrow()));
    cluster
        .subscriptions()
        .tell(
            Subscribe.create(
                context.messageAdapter(ClusterEvent.MemberRemoved.class, NodeRemoved::new),
                ClusterEvent.MemberRemoved.class));
    Duration pruneEvery = departedTtl.dividedBy(2);
    timers.startTimerWithFixedDelay(
        PruneDue.INSTANCE,
        PruneDue.INSTANCE,
        pruneEvery.isZero() ? Duration.ofMillis(1) : pruneEvery);
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
        .onMessage(RosterRead.class, this::onRosterRead)
        .onMessage(RosterUpdated.class, this::onRosterUpdated)
        .onMessage(NodeRemoved.class, this::onNodeRemoved)
        .onMessage(PruneDue.class, due -> onPruneDue())
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
    // They hear of every change seen from now on, their own login aside.
    local.put(event.user(), new Recipient(event.outbox(), event.blocked(), presence.latest()));
    awaitingEntry.add(event.user());
    RosterEntry entry = RosterEntry.online(event.outbox(), event.blocked(), nextLoginStamp());
    write(event.user(), roster -> roster.put(node, event.user(), entry), writeAll, null);
    return this;
  }

  private Behavior<Command> onMemberMoved(MemberMoved event) {
    Recipient here = local.get(event.user());
    if (here != null) {
      local.put(event.user(), here.withOutbox(event.outbox()));
      awaitingEntry.add(event.user());
    } else {
      // Moved here from another node: they were online all along and heard what happened.
      RosterEntry known = seen.get(event.user());
      if (known != null && known.isOnline()) {
        local.put(event.user(), new Recipient(event.outbox(), known.blocked(), presence.latest()));
        awaitingEntry.add(event.user());
      }
    }
    write(
        event.user(),
        roster -> {
          RosterEntry entry = entryOf(roster, event.user());
          return entry == null || !entry.isOnline()
              ? roster
              : roster.put(node, event.user(), entry.withOutbox(event.outbox()));
        },
        writeAll,
        null);
    return this;
  }

  private Behavior<Command> onBlocksChanged(BlocksChanged event) {
    local.computeIfPresent(event.user(), (user, member) -> member.withBlocked(event.blocked()));
    write(
        event.user(),
        roster -> {
          RosterEntry entry = entryOf(roster, event.user());
          // Another node's entry is that node's to write.
          return entry == null || !entry.isOnline() || !isLocal(entry.outbox())
              ? roster
              : roster.put(node, event.user(), entry.withBlocked(event.blocked()));
        },
        writeAll,
        event.replyTo());
    return this;
  }

  private Behavior<Command> onMemberLeft(MemberLeft event) {
    Recipient here = local.get(event.user());
    if (here != null && here.outbox().equals(event.outbox())) {
      local.remove(event.user());
      awaitingEntry.remove(event.user());
    }
    long now = clock.millis();
    // Checked against the entry as this replica holds it when the write happens, not as it was
    // last seen: the user may have moved on to another connection, here or on another node. The
    // tombstone keeps the entry's blocks, the latest: this node wrote them in order.
    write(
        event.user(),
        roster -> {
          RosterEntry entry = entryOf(roster, event.user());
          return entry != null && entry.isOnline() && entry.outbox().equals(event.outbox())
              ? roster.put(node, event.user(), entry.departed(now), JUST_AFTER)
              : roster;
        },
        writeAll,
        event.replyTo());
    return this;
  }

  private void write(
      String user,
      Function<LWWMap<String, RosterEntry>, LWWMap<String, RosterEntry>> change,
      Replicator.WriteConsistency consistency,
      ActorRef<RosterWritten> replyTo) {
    replicator.askUpdate(
        askReplyTo ->
            new Replicator.Update<>(
                ROSTER,
                LWWMap.<String, RosterEntry>empty(),
                consistency,
                askReplyTo,
                change::apply),
        response -> new RosterUpdated(response, user, replyTo));
  }

  /** Microseconds since the epoch, but always later than the previous stamp of this node. */
  private long nextLoginStamp() {
    lastStamp = Math.max(ChronoUnit.MICROS.between(Instant.EPOCH, clock.instant()), lastStamp + 1);
    return lastStamp;
  }

  private Behavior<Command> onRosterUpdated(RosterUpdated written) {
    boolean everywhere = written.response() instanceof Replicator.UpdateSuccess;
    if (written.response() instanceof Replicator.UpdateTimeout) {
      // The local replica has it; gossip brings it to the nodes that did not answer in time.
      getContext()
          .getLog()
          .debug("roster write not acknowledged by every node in time user={}", written.user());
    } else if (!everywhere) {
      getContext()
          .getLog()
          .warn("roster write failed user={} response={}", written.user(), written.response());
    }
    if (written.replyTo() != null) {
      written.replyTo().tell(new RosterWritten(written.user(), everywhere));
    }
    return this;
  }

  // ---- broadcasts and whoelse, from this node's replica ----

  private Behavior<Command> onBroadcast(Broadcast command) {
    // Delivered by every node to its own members; only the completeness needs the roster. This
    // node's members get it at once: the topic reaches the instances its receptionist listing
    // holds, which for a while after a start may lack this node's own.
    BroadcastPublished published =
        new BroadcastPublished(getContext().getSelf(), command.from(), command.text());
    deliver(published);
    topic.tell(Topic.publish(published));
    read(command);
    return this;
  }

  private Behavior<Command> onListOnline(ListOnline command) {
    read(command);
    return this;
  }

  /** Reads this node's replica for {@code request}: it has every write this node has seen done. */
  private void read(Command request) {
    replicator.askGet(
        askReplyTo -> new Replicator.Get<>(ROSTER, Replicator.readLocal(), askReplyTo),
        response -> new RosterRead(response, request));
  }

  private Behavior<Command> onRosterRead(RosterRead read) {
    LWWMap<String, RosterEntry> data = null;
    if (read.response() instanceof Replicator.GetSuccess<LWWMap<String, RosterEntry>> found) {
      data = found.get(ROSTER);
    } else if (read.response() instanceof Replicator.NotFound) {
      data = LWWMap.empty();
    } else {
      getContext().getLog().warn("roster read failed response={}", read.response());
    }
    if (read.request() == null) {
      // Should the read have failed, the first notification becomes the snapshot instead.
      if (data != null) {
        seen = replicaOf(data).entries();
        snapshotSeen = true;
        followLocalMembers();
      }
      replicator.subscribe(ROSTER, RosterChanged::new);
      return this;
    }
    // Should the read have failed, the roster last seen is the best there is.
    Replica current = data != null ? replicaOf(data) : new Replica(null, seen);
    if (read.request() instanceof ListOnline command) {
      answer(command, current);
    } else if (read.request() instanceof Broadcast command) {
      command.replyTo().tell(new ServerMessage.BroadcastSent(complete(command.from(), current)));
    }
    return this;
  }

  /** Whether no other online user blocks {@code from}. */
  private boolean complete(String from, Replica current) {
    for (Map.Entry<String, Recipient> member : local.entrySet()) {
      if (!member.getKey().equals(from) && member.getValue().blocked().contains(from)) {
        return false;
      }
    }
    for (Map.Entry<String, RosterEntry> member : current.entries().entrySet()) {
      RosterEntry entry = member.getValue();
      // This node's own members were checked above, with blocks as fresh as any.
      if (entry.isOnline()
          && entry.blocked().contains(from)
          && !member.getKey().equals(from)
          && !local.containsKey(member.getKey())) {
        return false;
      }
    }
    return true;
  }

  private void answer(ListOnline command, Replica current) {
    List<String> order = current.loginOrder();
    List<String> others = new ArrayList<>(order.size());
    for (String user : order) {
      if (!user.equals(command.requester())) {
        others.add(user);
      }
    }
    NameList listed = NameList.capped(others, command.limit(), command.bytes());
    command.replyTo().tell(new ServerMessage.OnlineUsers(listed.names(), listed.omitted()));
  }

  private Behavior<Command> onBroadcastPublished(BroadcastPublished published) {
    if (!published.origin().equals(getContext().getSelf())) {
      deliver(published);
    }
    return this;
  }

  private void deliver(BroadcastPublished published) {
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
  }

  // ---- the replicated roster ----

  private Behavior<Command> onRosterChanged(RosterChanged changed) {
    if (!(changed.response() instanceof Replicator.Changed<LWWMap<String, RosterEntry>> state)) {
      // The roster is never deleted; nothing else is worth acting on.
      return this;
    }
    Map<String, RosterEntry> next = replicaOf(state.get(ROSTER)).entries();
    List<Notice> notices = snapshotSeen && !local.isEmpty() ? differences(next) : List.of();
    seen = next;
    snapshotSeen = true;
    followLocalMembers();
    notices.forEach(presence::announce);
    return this;
  }

  /** Who left since the last state seen, then who arrived, in login order. */
  private List<Notice> differences(Map<String, RosterEntry> next) {
    List<Notice> notices = new ArrayList<>();
    for (Map.Entry<String, RosterEntry> before : seen.entrySet()) {
      if (!before.getValue().isOnline()) {
        continue;
      }
      RosterEntry after = next.get(before.getKey());
      if (after == null || !after.isOnline()) {
        // A tombstone carries the blocks its user left with, which may be news here too.
        Set<String> blocked = after != null ? after.blocked() : before.getValue().blocked();
        notices.add(Notice.loggedOut(presence.next(), before.getKey(), blocked));
      }
    }
    List<Map.Entry<String, RosterEntry>> arrived = new ArrayList<>();
    for (Map.Entry<String, RosterEntry> now : next.entrySet()) {
      if (now.getValue().isOnline()) {
        RosterEntry before = seen.get(now.getKey());
        if (before == null || !before.isOnline()) {
          arrived.add(now);
        }
      }
    }
    arrived.sort(LOGIN_ORDER);
    for (Map.Entry<String, RosterEntry> now : arrived) {
      notices.add(Notice.loggedIn(presence.next(), now.getKey(), now.getValue().blocked()));
    }
    return notices;
  }

  /**
   * Brings the local members in line with the state just seen: one whose entry (with their outbox)
   * appears in it is confirmed; a confirmed one whose entry is gone, departed, or now names an
   * outbox on another node no longer lives here.
   */
  private void followLocalMembers() {
    Iterator<Map.Entry<String, Recipient>> members = local.entrySet().iterator();
    while (members.hasNext()) {
      Map.Entry<String, Recipient> member = members.next();
      RosterEntry entry = seen.get(member.getKey());
      if (awaitingEntry.contains(member.getKey())) {
        if (entry != null
            && entry.isOnline()
            && entry.outbox().equals(member.getValue().outbox())) {
          awaitingEntry.remove(member.getKey());
        }
      } else if (entry == null || !entry.isOnline() || !isLocal(entry.outbox())) {
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
    getContext().getLog().info("roster retiring the users of a removed node address={}", gone);
    long now = clock.millis();
    write(
        "",
        roster -> {
          LWWMap<String, RosterEntry> remaining = roster;
          for (Map.Entry<String, RosterEntry> entry : roster.getEntries().entrySet()) {
            RosterEntry user = entry.getValue();
            if (user.isOnline() && user.outbox().path().address().equals(gone)) {
              remaining = remaining.put(node, entry.getKey(), user.departed(now), JUST_AFTER);
            }
          }
          return remaining;
        },
        writeAll,
        null);
    return this;
  }

  /**
   * Removes the tombstones older than {@code departedTtl} that are this node's to remove: those it
   * wrote for its own sessions, and those of users whose node is no longer a member (whichever
   * survivor wrote them; several removing one is harmless). Decided on the state last seen,
   * re-checked against the replica when written: a login in between keeps its entry.
   */
  private Behavior<Command> onPruneDue() {
    long due = clock.millis() - departedTtl.toMillis();
    Map<String, RosterEntry> expired = new LinkedHashMap<>();
    Set<Address> members = null;
    for (Map.Entry<String, RosterEntry> entry : seen.entrySet()) {
      RosterEntry user = entry.getValue();
      if (user.isOnline() || user.departedAt() > due) {
        continue;
      }
      boolean ours = isLocal(user.outbox());
      if (!ours) {
        if (members == null) {
          members = new HashSet<>();
          for (Member member : cluster.state().getMembers()) {
            members.add(member.address());
          }
        }
        ours = !members.contains(user.outbox().path().address());
      }
      if (ours) {
        expired.put(entry.getKey(), user);
      }
    }
    if (!expired.isEmpty()) {
      // Nobody waits for a prune, and gossip suffices: local write.
      write(
          "",
          roster -> {
            LWWMap<String, RosterEntry> remaining = roster;
            for (Map.Entry<String, RosterEntry> tombstone : expired.entrySet()) {
              if (tombstone.getValue().equals(entryOf(remaining, tombstone.getKey()))) {
                remaining = remaining.remove(node, tombstone.getKey());
              }
            }
            return remaining;
          },
          Replicator.writeLocal(),
          null);
    }
    return this;
  }

  /**
   * A state of the roster with its entries as a map, and the online users in login order worked out
   * when first needed: the replica answers many reads with the same state between changes.
   */
  private static final class Replica {
    private final LWWMap<String, RosterEntry> data;
    private final Map<String, RosterEntry> entries;
    private List<String> loginOrder;

    Replica(LWWMap<String, RosterEntry> data, Map<String, RosterEntry> entries) {
      this.data = data;
      this.entries = entries;
    }

    Map<String, RosterEntry> entries() {
      return entries;
    }

    List<String> loginOrder() {
      if (loginOrder == null) {
        List<Map.Entry<String, RosterEntry>> online = new ArrayList<>(entries.size());
        for (Map.Entry<String, RosterEntry> entry : entries.entrySet()) {
          if (entry.getValue().isOnline()) {
            online.add(entry);
          }
        }
        online.sort(LOGIN_ORDER);
        loginOrder = online.stream().map(Map.Entry::getKey).toList();
      }
      return loginOrder;
    }
  }

  private Replica replicaOf(LWWMap<String, RosterEntry> data) {
    // The same state is the same instance: the replicator hands out what it holds.
    if (replica.data != data) {
      replica = new Replica(data, data.getEntries());
    }
    return replica;
  }

  private static RosterEntry entryOf(LWWMap<String, RosterEntry> roster, String user) {
    Option<RosterEntry> entry = roster.get(user);
    return entry.isDefined() ? entry.get() : null;
  }

  private static boolean isLocal(ActorRef<?> ref) {
    return ref.path().address().hasLocalScope();
  }
}
