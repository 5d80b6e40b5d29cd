package dev.parley.server.broadcast;

import static org.junit.jupiter.api.Assertions.assertEquals;

import akka.actor.Address;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.FishingOutcomes;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
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
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The clustered broadcaster on two nodes in one JVM (two actor systems of the same name, Artery on
 * free loopback ports): what happens on one node reaches the members of the other, and a node that
 * goes away takes its users with it.
 */
@ExtendWith(LogCapturingExtension.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
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

  private static final Duration WRITE_TIMEOUT = Duration.ofSeconds(5);

  private static final Duration DEPARTED_TTL = Duration.ofMinutes(1);

  /** Each node's broadcaster, for every test: the last one takes node 1 away. */
  private static ActorRef<Broadcaster.Command> broadcaster1;

  private static ActorRef<Broadcaster.Command> broadcaster2;

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
    broadcaster1 = node1.spawn(clustered());
    broadcaster2 = node2.spawn(clustered());
  }

  @AfterAll
  static void shutdown() {
    node2.shutdownTestKit();
    node1.shutdownTestKit();
  }

  @Test
  @Order(1)
  void shouldHonourTheBlocksOfAUserWhoLeavesRightAfterBlocking() {
    TestProbe<ServerMessage> erin = node2.createTestProbe();
    ActorRef<ServerMessage> erinOutbox = DecodingOutbox.to(node2, erin);
    broadcaster2.tell(new Broadcaster.MemberJoined("erin", erinOutbox, Set.of()));
    TestProbe<ServerMessage> gina = node2.createTestProbe();
    ActorRef<ServerMessage> ginaOutbox = DecodingOutbox.to(node2, gina);
    broadcaster2.tell(new Broadcaster.MemberJoined("gina", ginaOutbox, Set.of()));
    TestProbe<ServerMessage> frank = node1.createTestProbe();
    ActorRef<ServerMessage> frankOutbox = DecodingOutbox.to(node1, frank);
    broadcaster1.tell(new Broadcaster.MemberJoined("frank", frankOutbox, Set.of()));
    expectNews(erin, "frank", new ServerMessage.UserLoggedIn("frank"));
    expectNews(gina, "frank", new ServerMessage.UserLoggedIn("frank"));

    // Node 2 may well get both changes in one gossip: the tombstone carries the block.
    broadcaster1.tell(new Broadcaster.BlocksChanged("frank", Set.of("erin")));
    broadcaster1.tell(new Broadcaster.MemberLeft("frank", frankOutbox));

    expectNews(gina, "frank", new ServerMessage.UserLoggedOut("frank"));
    // Both are told in one delivery, if at all: erin would have heard by now.
    expectNoNews(erin, "frank");

    TestProbe<Broadcaster.RosterWritten> written = node2.createTestProbe();
    broadcaster2.tell(new Broadcaster.MemberLeft("erin", erinOutbox, written.ref()));
    written.expectMessage(new Broadcaster.RosterWritten("erin", true));
    broadcaster2.tell(new Broadcaster.MemberLeft("gina", ginaOutbox, written.ref()));
    written.expectMessage(new Broadcaster.RosterWritten("gina", true));
    awaitListed(node1, broadcaster1, List.of());
    awaitListed(node2, broadcaster2, List.of());
  }

  @Test
  @Order(2)
  void shouldReflectAnAcknowledgedBlockOrLogoutOnTheOtherNodeAtOnce() {
    TestProbe<ServerMessage> kara = node1.createTestProbe();
    ActorRef<ServerMessage> karaOutbox = DecodingOutbox.to(node1, kara);
    broadcaster1.tell(new Broadcaster.MemberJoined("kara", karaOutbox, Set.of()));
    // The roster lists by login time, stamped by each node's broadcaster as it takes the join:
    // kara's must be stamped before leon's join is even sent, or the order below is a race.
    awaitListed(node1, broadcaster1, List.of("kara"));
    TestProbe<ServerMessage> leon = node2.createTestProbe();
    ActorRef<ServerMessage> leonOutbox = DecodingOutbox.to(node2, leon);
    broadcaster2.tell(new Broadcaster.MemberJoined("leon", leonOutbox, Set.of()));
    awaitListed(node2, broadcaster2, List.of("kara", "leon"));

    TestProbe<Broadcaster.RosterWritten> written = node1.createTestProbe();
    broadcaster1.tell(new Broadcaster.BlocksChanged("kara", Set.of("leon"), written.ref()));
    written.expectMessage(new Broadcaster.RosterWritten("kara", true));
    // No waiting: node 2 had the block before node 1 answered.
    TestProbe<ServerMessage> replies = node2.createTestProbe();
    broadcaster2.tell(new Broadcaster.Broadcast("leon", "anyone?", replies.ref()));
    replies.expectMessage(new ServerMessage.BroadcastSent(false));

    broadcaster1.tell(new Broadcaster.MemberLeft("kara", karaOutbox, written.ref()));
    written.expectMessage(new Broadcaster.RosterWritten("kara", true));
    TestProbe<ServerMessage> lists = node2.createTestProbe();
    broadcaster2.tell(new Broadcaster.ListOnline("leon", NO_LIMIT, NO_LIMIT, lists.ref()));
    lists.expectMessage(new ServerMessage.OnlineUsers(List.of()));
    // Nor does kara's tombstone count against leon's broadcasts.
    broadcaster2.tell(new Broadcaster.Broadcast("leon", "anyone?", replies.ref()));
    replies.expectMessage(new ServerMessage.BroadcastSent(true));

    broadcaster2.tell(new Broadcaster.MemberLeft("leon", leonOutbox, written.ref()));
    written.expectMessage(new Broadcaster.RosterWritten("leon", true));
    awaitListed(node1, broadcaster1, List.of());
  }

  /** One story, as the nodes' state carries over from step to step. */
  @Test
  @Order(99)
  void shouldShareTheRosterAndBroadcastsAcrossNodesAndDropTheUsersOfANodeThatGoesAway() {

    // leia, on node 2, is online before hans logs in on node 1.
    TestProbe<ServerMessage> leia = node2.createTestProbe();
    broadcaster2.tell(
        new Broadcaster.MemberJoined("leia", DecodingOutbox.to(node2, leia), Set.of()));
    awaitListed(node2, broadcaster2, List.of("leia"));
    TestProbe<ServerMessage> hans = node1.createTestProbe();
    broadcaster1.tell(
        new Broadcaster.MemberJoined("hans", DecodingOutbox.to(node1, hans), Set.of()));

    // Notices of the earlier tests' users may still be on their way to her.
    expectNews(leia, "hans", new ServerMessage.UserLoggedIn("hans"));

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

  private static Behavior<Broadcaster.Command> clustered() {
    return Broadcaster.clustered(
        PresenceBatching.fixed(PRESENCE_BATCH), Clock.systemUTC(), WRITE_TIMEOUT, DEPARTED_TTL);
  }

  /**
   * {@code probe} hears {@code expected}, about {@code subject}, perhaps after presence notices
   * about others: those who were there before the listener joined, or left just before (whoelse
   * reads the replica, notices follow the broadcaster's notifications, a little later).
   */
  private static void expectNews(
      TestProbe<ServerMessage> probe, String subject, ServerMessage expected) {
    probe.fishForMessage(
        PATIENCE,
        frame -> {
          if (frame.equals(expected)) {
            return FishingOutcomes.complete();
          }
          if (isAboutAnotherThan(subject, frame)) {
            return FishingOutcomes.continueAndIgnore();
          }
          return FishingOutcomes.fail("expected " + expected + " but got " + frame);
        });
  }

  /** Nothing about {@code subject} reaches {@code probe} within a short while. */
  private static void expectNoNews(TestProbe<ServerMessage> probe, String subject) {
    while (true) {
      ServerMessage frame;
      try {
        frame = probe.receiveMessage(Duration.ofMillis(300));
      } catch (AssertionError quiet) {
        return;
      }
      if (!isAboutAnotherThan(subject, frame)) {
        throw new AssertionError("expected no news of " + subject + " but got " + frame);
      }
    }
  }

  private static boolean isAboutAnotherThan(String subject, ServerMessage frame) {
    return frame instanceof ServerMessage.UserLoggedIn in && !in.user().equals(subject)
        || frame instanceof ServerMessage.UserLoggedOut out && !out.user().equals(subject);
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
