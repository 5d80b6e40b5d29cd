package dev.parley.server.cluster;

import akka.Done;
import akka.actor.Address;
import akka.actor.Cancellable;
import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.PostStop;
import akka.actor.typed.PreRestart;
import akka.actor.typed.Scheduler;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.AskPattern;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.cluster.ClusterEvent;
import akka.cluster.Member;
import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.SelfRemoved;
import akka.cluster.typed.SelfUp;
import akka.cluster.typed.Subscribe;
import java.time.Duration;
import java.util.Locale;
import java.util.stream.StreamSupport;

/**
 * Tells the operator how the cluster changes: subscribes to Akka's membership, reachability and
 * leader events and logs each in one key=value line ({@code cluster member up address=...
 * roles=...}). Membership changes are INFO; a member becoming unreachable is a WARN, as it is the
 * first sign of a crashed node or a partition, which the Split Brain Resolver settles
 * split-brain-resolver.stable-after later.
 *
 * <p>When this node leaves, Akka reports every other member removed from its view as its own
 * cluster stops; those are not changes of the cluster, and are logged at DEBUG only.
 *
 * <p>Its protocol is the events it is subscribed to, adapted once in the constructor, and one
 * question from the node's coordinated shutdown. Subscribing replays the current state as events,
 * so a restarted logger (or a node joining a running cluster) first logs every member already
 * there.
 */
public final class ClusterMembership extends AbstractBehavior<ClusterMembership.Command> {

  /** The events this actor receives, each wrapping Akka's. */
  public sealed interface Command {}

  private record MemberChanged(ClusterEvent.MemberEvent event) implements Command {}

  private record ReachabilityChanged(ClusterEvent.ReachabilityEvent event) implements Command {}

  private record LeaderChanged(ClusterEvent.LeaderChanged event) implements Command {}

  private record SelfJoined(SelfUp event) implements Command {}

  private record SelfLeft(SelfRemoved event) implements Command {}

  /**
   * The node's coordinated shutdown has stopped its cluster and is about to stop the actor system:
   * this node's leaving is said now, if it has not been, while this actor still runs. Akka's own
   * news of this node's removal is published as the cluster stops, and can reach this actor after
   * the actor system has stopped it.
   */
  private record ClusterShutDown(ActorRef<Done> replyTo) implements Command {}

  public static Behavior<Command> create() {
    return Behaviors.setup(ClusterMembership::new);
  }

  private final Cluster cluster;

  /** Whether this node's leaving has been said. */
  private boolean left;

  /**
   * This node's status as its own events last told it; null until they have told any. Read at the
   * end rather than the cluster's view of itself, which this actor's events may lag behind or run
   * ahead of.
   */
  private MemberStatus selfStatus;

  /**
   * The coordinated shutdown's question, withdrawn when this actor stops or restarts before it is
   * asked (a restarted logger adds its own).
   */
  private final Cancellable clusterShutDownTask;

  private ClusterMembership(ActorContext<Command> context) {
    super(context);
    // Named for the class: detected from the stack, the name can come out as Akka's ActorCell,
    // whose level (WARN) then hides this actor's INFO lines.
    context.setLoggerName(ClusterMembership.class);
    cluster = Cluster.get(context.getSystem());
    cluster
        .subscriptions()
        .tell(
            Subscribe.create(
                context.messageAdapter(ClusterEvent.MemberEvent.class, MemberChanged::new),
                ClusterEvent.MemberEvent.class));
    cluster
        .subscriptions()
        .tell(
            Subscribe.create(
                context.messageAdapter(
                    ClusterEvent.ReachabilityEvent.class, ReachabilityChanged::new),
                ClusterEvent.ReachabilityEvent.class));
    cluster
        .subscriptions()
        .tell(
            Subscribe.create(
                context.messageAdapter(ClusterEvent.LeaderChanged.class, LeaderChanged::new),
                ClusterEvent.LeaderChanged.class));
    cluster
        .subscriptions()
        .tell(
            Subscribe.create(context.messageAdapter(SelfUp.class, SelfJoined::new), SelfUp.class));
    cluster
        .subscriptions()
        .tell(
            Subscribe.create(
                context.messageAdapter(SelfRemoved.class, SelfLeft::new), SelfRemoved.class));
    CoordinatedShutdown shutdown = CoordinatedShutdown.get(context.getSystem());
    // After cluster-shutdown, when Akka has published what it will of this node's leave.
    String phase = CoordinatedShutdown.PhaseBeforeActorSystemTerminate();
    Duration timeout = Duration.ofMillis(shutdown.timeout(phase).toMillis());
    // Asked from the shutdown's thread: it gets what it needs now, not the actor's context.
    ActorRef<Command> self = context.getSelf();
    Scheduler scheduler = context.getSystem().scheduler();
    clusterShutDownTask =
        shutdown.addCancellableTask(
            phase,
            "parley-cluster-left-logged",
            () -> AskPattern.ask(self, ClusterShutDown::new, timeout, scheduler));
    context
        .getLog()
        .info(
            "cluster joining self={} seed-nodes={}",
            cluster.selfMember().address(),
            context.getSystem().settings().config().getStringList("akka.cluster.seed-nodes"));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(MemberChanged.class, this::onMemberChanged)
        .onMessage(ReachabilityChanged.class, this::onReachabilityChanged)
        .onMessage(LeaderChanged.class, this::onLeaderChanged)
        .onMessage(SelfJoined.class, this::onSelfJoined)
        .onMessage(SelfLeft.class, this::onSelfLeft)
        .onMessage(ClusterShutDown.class, this::onClusterShutDown)
        .onSignal(PostStop.class, stopped -> onStopped())
        .onSignal(PreRestart.class, restarting -> onStopped())
        .build();
  }

  private Behavior<Command> onMemberChanged(MemberChanged changed) {
    ClusterEvent.MemberEvent event = changed.event();
    Member member = event.member();
    // A member is this node by its unique address (Member's own equality): its address and the
    // incarnation's uid.
    boolean isSelf = member.equals(cluster.selfMember());
    if (isSelf) {
      selfStatus = member.status();
    }
    if (cluster.isTerminated() && !isSelf) {
      // This node has left: as its cluster stops, Akka reports every other member removed from
      // its view, though they are all still there.
      getContext().getLog().debug("cluster view closed address={}", member.address());
    } else if (event instanceof ClusterEvent.MemberRemoved removed) {
      // The previous status tells a graceful leave (exiting) from a node that was downed.
      getContext()
          .getLog()
          .info(
              "cluster member removed address={} previous-status={}",
              member.address(),
              status(removed.previousStatus()));
      if (isSelf) {
        // This node's own removal: said now, since the node shuts down right after it and the
        // SelfRemoved that follows may come too late to be heard. Not the removal of an earlier
        // incarnation on the same host and port, which a restarted node can see.
        selfLeft(removed.previousStatus());
      }
    } else {
      getContext()
          .getLog()
          .info(
              "cluster member {} address={} roles={}",
              change(event),
              member.address(),
              String.join(",", member.getRoles().stream().sorted().toList()));
    }
    return this;
  }

  private Behavior<Command> onReachabilityChanged(ReachabilityChanged changed) {
    ClusterEvent.ReachabilityEvent event = changed.event();
    if (event instanceof ClusterEvent.UnreachableMember) {
      getContext()
          .getLog()
          .warn(
              "cluster member unreachable address={} status={}",
              event.member().address(),
              status(event.member().status()));
    } else {
      getContext()
          .getLog()
          .info(
              "cluster member reachable address={} status={}",
              event.member().address(),
              status(event.member().status()));
    }
    return this;
  }

  private Behavior<Command> onLeaderChanged(LeaderChanged changed) {
    Address leader = changed.event().getLeader();
    if (leader == null && cluster.isTerminated()) {
      // This node has left, and sees no leader any more: nothing changed for the others.
      return this;
    }
    getContext()
        .getLog()
        .info("cluster leader changed leader={}", leader == null ? "none" : leader);
    return this;
  }

  private Behavior<Command> onSelfJoined(SelfJoined joined) {
    // The cluster's state now, not the event's snapshot: that was sometimes taken before this
    // node's view had any members, and the line then said members=0 (ClusterMembershipIT saw it).
    long members = StreamSupport.stream(cluster.state().getMembers().spliterator(), false).count();
    getContext()
        .getLog()
        .info("cluster joined self={} members={}", cluster.selfMember().address(), members);
    return this;
  }

  private Behavior<Command> onSelfLeft(SelfLeft left) {
    selfLeft(left.event().previousStatus());
    return this;
  }

  private Behavior<Command> onClusterShutDown(ClusterShutDown shutDown) {
    // The node goes now, in the status its events last gave: exiting after a graceful leave, down
    // when downed, up or leaving when its leave did not finish in time. None: it never joined.
    if (selfStatus != null) {
      selfLeft(selfStatus);
    }
    shutDown.replyTo().tell(Done.getInstance());
    return this;
  }

  private Behavior<Command> onStopped() {
    clusterShutDownTask.cancel();
    return this;
  }

  /** Says once that this node has left, whichever of the events about it comes first. */
  private void selfLeft(MemberStatus previousStatus) {
    if (left) {
      return;
    }
    left = true;
    getContext()
        .getLog()
        .info(
            "cluster left self={} previous-status={}",
            cluster.selfMember().address(),
            status(previousStatus));
  }

  /** The word of the log line for a change of membership, in the server's lower-case style. */
  private static String change(ClusterEvent.MemberEvent event) {
    if (event instanceof ClusterEvent.MemberJoined) {
      return "joining";
    } else if (event instanceof ClusterEvent.MemberWeaklyUp) {
      return "weakly-up";
    } else if (event instanceof ClusterEvent.MemberUp) {
      return "up";
    } else if (event instanceof ClusterEvent.MemberLeft) {
      return "leaving";
    } else if (event instanceof ClusterEvent.MemberExited) {
      return "exiting";
    } else if (event instanceof ClusterEvent.MemberDowned) {
      return "downed";
    }
    // Events of a full-cluster shutdown (preparing-for-shutdown, ready-for-shutdown) and any that
    // a later Akka adds: the member's status says what happened.
    return status(event.member().status());
  }

  /** {@code Exiting} as {@code exiting}, {@code WeaklyUp} as {@code weakly-up}. */
  private static String status(MemberStatus status) {
    return status.toString().replaceAll("([a-z])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
  }
}
