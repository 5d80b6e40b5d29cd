package dev.parley.server.broadcast;

import static org.junit.jupiter.api.Assertions.assertEquals;

import akka.actor.Address;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.FishingOutcomes;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Down;
import akka.cluster.typed.Join;
import dev.parley.protocol.ServerMessage;
import dev.parley.server.testing.DecodingOutbox;
import dev.parley.server.testing.LogCapturingExtension;
import dev.parley.server.testing.TestKits;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The clustered broadcaster on two nodes in one JVM (two actor systems of the same name, Artery on
 * free loopback ports): what happens on one node reaches the members of the other, and a node that
 * goes away takes its users with it.
 */
@ExtendWith(LogCapturingExtension.class)
class BroadcasterTwoNodesTest {

  private static final String SYSTEM = "BroadcasterTwoNodesTest";

  private static final ActorTestKit node1 = TestKits.clusterMember(SYSTEM);
  private static final ActorTestKit node2 = TestKits.clusterMember(SYSTEM);

  private static final Duration PRESENCE_BATCH = Duration.ofMillis(10);

  /** Joining, gossip between the nodes and removing a node each take seconds: wait generously. */
  private static final Duration PATIENCE = Duration.ofSeconds(30);

  /** How long one broadcast is given before the test tries another (see the broadcast test). */
  private static final Duration ONE_TRY = Duration.ofSeconds(1);

  private static final int NO_LIMIT = 1000;

  @BeforeAll
  static void formAClusterOfTwo() {
    TestKits.joinItself(node1);
    Address first = Cluster.get(node1.system()).selfMember().address();
    Cluster.get(node2.system()).manager().tell(Join.create(first));
    node2
        .createTestProbe()
        .awaitAssert(
            PATIENCE,
            () -> {
              for (ActorTestKit node : List.of(node1, node2)) {
                long up =
                    StreamSupport.stream(
                            Cluster.get(node.system()).state().getMembers().spliterator(), false)
                        .filter(member -> member.status().equals(MemberStatus.up()))
                        .count();
                assertEquals(2, up);
              }
              return null;
            });
  }

  @AfterAll
  static void shutdown() {
    node2.shutdownTestKit();
    node1.shutdownTestKit();
  }

  /** One story, as the nodes' state carries over from step to step. */
  @Test
  void shouldShareTheRosterAndBroadcastsAcrossNodesAndDropTheUsersOfANodeThatGoesAway() {
    ActorRef<Broadcaster.Command> broadcaster1 =
        node1.spawn(Broadcaster.clustered(PRESENCE_BATCH, Clock.systemUTC()));
    ActorRef<Broadcaster.Command> broadcaster2 =
        node2.spawn(Broadcaster.clustered(PRESENCE_BATCH, Clock.systemUTC()));

    // leia, on node 2, is online before hans logs in on node 1.
    TestProbe<ServerMessage> leia = node2.createTestProbe();
    broadcaster2.tell(
        new Broadcaster.MemberJoined("leia", DecodingOutbox.to(node2, leia), Set.of()));
    awaitListed(node2, broadcaster2, List.of("leia"));
    TestProbe<ServerMessage> hans = node1.createTestProbe();
    broadcaster1.tell(
        new Broadcaster.MemberJoined("hans", DecodingOutbox.to(node1, hans), Set.of()));

    leia.expectMessage(PATIENCE, new ServerMessage.UserLoggedIn("hans"));

    // whoelse on node 2 lists node 1's user.
    TestProbe<ServerMessage> lists = node2.createTestProbe();
    broadcaster2.tell(new Broadcaster.ListOnline("leia", NO_LIMIT, NO_LIMIT, lists.ref()));
    lists.expectMessage(new ServerMessage.OnlineUsers(List.of("hans")));

    // A broadcast from node 2 reaches node 1's member. Node 2 learns of node 1's topic through the
    // receptionist, on its own schedule: until it has, a broadcast reaches node 2 alone.
    TestProbe<ServerMessage> replies = node2.createTestProbe();
    ServerMessage.BroadcastReceived hello = new ServerMessage.BroadcastReceived("leia", "hello");
    hans.awaitAssert(
        PATIENCE,
        () -> {
          broadcaster2.tell(new Broadcaster.Broadcast("leia", "hello", replies.ref()));
          replies.expectMessage(new ServerMessage.BroadcastSent(true));
          assertEquals(hello, hans.receiveMessage(ONE_TRY));
          return null;
        });

    // Node 1 goes away: node 2 removes its users and tells leia they left.
    Address address1 = Cluster.get(node1.system()).selfMember().address();
    node1.shutdownTestKit();
    Cluster.get(node2.system()).manager().tell(new Down(address1));
    leia.fishForMessage(
        PATIENCE,
        frame ->
            frame.equals(new ServerMessage.UserLoggedOut("hans"))
                ? FishingOutcomes.complete()
                : FishingOutcomes.continueAndIgnore());
    awaitListed(node2, broadcaster2, List.of("leia"));
  }

  /** Waits until {@code broadcaster}'s whoelse lists exactly {@code users}, in that order. */
  private static void awaitListed(
      ActorTestKit node, ActorRef<Broadcaster.Command> broadcaster, List<String> users) {
    TestProbe<ServerMessage> lists = node.createTestProbe();
    lists.awaitAssert(
        PATIENCE,
        () -> {
          broadcaster.tell(new Broadcaster.ListOnline("nobody", NO_LIMIT, NO_LIMIT, lists.ref()));
          assertEquals(new ServerMessage.OnlineUsers(users), lists.receiveMessage());
          return null;
        });
  }
}
