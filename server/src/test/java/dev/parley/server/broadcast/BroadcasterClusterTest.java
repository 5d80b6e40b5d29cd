package dev.parley.server.broadcast;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.FishingOutcomes;
import akka.actor.testkit.typed.javadsl.SerializationTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.cluster.ddata.LWWMap;
import akka.cluster.ddata.typed.javadsl.DistributedData;
import akka.cluster.ddata.typed.javadsl.Replicator;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.SelfUp;
import akka.cluster.typed.Subscribe;
import dev.parley.protocol.ServerMessage;
import dev.parley.server.testing.DecodingOutbox;
import dev.parley.server.testing.LogCapturingExtension;
import dev.parley.server.testing.TestKits;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The clustered broadcaster on a real single-node cluster: presence notices come from the
 * replicated roster (within Distributed Data's notification interval), broadcasts through the
 * topic. The roster outlives each test's broadcaster, so each test ends with everyone it logged in
 * logged out again.
 */
@ExtendWith(LogCapturingExtension.class)
class BroadcasterClusterTest {

  private static final ActorTestKit testKit = TestKits.clusterMember("BroadcasterClusterTest");

  private static final Duration PRESENCE_BATCH = Duration.ofMillis(10);

  private static final Duration WRITE_TIMEOUT = Duration.ofSeconds(2);

  /** Short, so that the test sees tombstones go; long enough to see them first. */
  private static final Duration DEPARTED_TTL = Duration.ofSeconds(2);

  /** Joining, and each round of replication, take a second or so: wait generously. */
  private static final Duration PATIENCE = Duration.ofSeconds(15);

  /** A requester who is never online: their whoelse lists everybody. */
  private static final String NOBODY = "nobody";

  private static final int NO_LIMIT = 1000;

  private ActorRef<Broadcaster.Command> broadcaster;
  private TestProbe<ServerMessage> replies;

  /** Everyone a test logged in, with the broadcaster and outbox they joined through. */
  private final Map<String, Joined> joined = new LinkedHashMap<>();

  /**
   * For each member's probe, those who were already online when they joined: the broadcaster may
   * not have seen their logins yet (whoelse reads the replica, notices follow its notifications),
   * in which case the member hears of them too.
   */
  private final Map<TestProbe<ServerMessage>, Set<String>> joinedBefore = new HashMap<>();

  private record Joined(ActorRef<Broadcaster.Command> through, ActorRef<ServerMessage> outbox) {}

  @BeforeAll
  static void formAClusterOfOne() {
    Cluster cluster = Cluster.get(testKit.system());
    TestProbe<SelfUp> up = testKit.createTestProbe();
    cluster.subscriptions().tell(Subscribe.create(up.ref(), SelfUp.class));
    TestKits.joinItself(testKit);
    up.expectMessageClass(SelfUp.class, PATIENCE);
  }

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void startBroadcaster() {
    broadcaster = testKit.spawn(clustered());
    replies = testKit.createTestProbe();
  }

  @AfterEach
  void logEveryoneOut() {
    joined.forEach(
        (user, member) -> member.through().tell(new Broadcaster.MemberLeft(user, member.outbox())));
    awaitListed(broadcaster, List.of());
    testKit.stop(broadcaster);
  }

  @Test
  void shouldAnnounceLoginsAndLogoutsToTheOthersExceptWhomTheSubjectBlocks() {
    TestProbe<ServerMessage> hans = join("hans", Set.of());
    TestProbe<ServerMessage> yoda = join("yoda", Set.of());
    hans.expectMessage(PATIENCE, new ServerMessage.UserLoggedIn("yoda"));

    TestProbe<ServerMessage> luke = join("luke", Set.of("hans"));
    expectNews(yoda, new ServerMessage.UserLoggedIn("luke"));
    leave("luke");
    expectNews(yoda, new ServerMessage.UserLoggedOut("luke"));

    hans.expectNoMessage();
    luke.expectNoMessage();
  }

  @Test
  void shouldBroadcastToTheOthersAndReportItComplete() {
    TestProbe<ServerMessage> hans = join("hans", Set.of());
    TestProbe<ServerMessage> yoda = join("yoda", Set.of());
    hans.expectMessage(PATIENCE, new ServerMessage.UserLoggedIn("yoda"));

    broadcaster.tell(new Broadcaster.Broadcast("hans", "vader sucks", replies.ref()));

    replies.expectMessage(new ServerMessage.BroadcastSent(true));
    expectNews(yoda, new ServerMessage.BroadcastReceived("hans", "vader sucks"));
    hans.expectNoMessage();
  }

  @Test
  void shouldSkipWhoBlocksTheSenderButReachWhomTheSenderBlocks() {
    TestProbe<ServerMessage> hans = join("hans", Set.of());
    TestProbe<ServerMessage> yoda = join("yoda", Set.of());
    hans.expectMessage(PATIENCE, new ServerMessage.UserLoggedIn("yoda"));
    TestProbe<ServerMessage> luke = join("luke", Set.of());
    hans.expectMessage(PATIENCE, new ServerMessage.UserLoggedIn("luke"));
    expectNews(yoda, new ServerMessage.UserLoggedIn("luke"));
    broadcaster.tell(new Broadcaster.BlocksChanged("luke", Set.of("hans")));

    broadcaster.tell(new Broadcaster.Broadcast("hans", "I rock", replies.ref()));
    replies.expectMessage(new ServerMessage.BroadcastSent(false));
    yoda.expectMessage(new ServerMessage.BroadcastReceived("hans", "I rock"));
    broadcaster.tell(new Broadcaster.Broadcast("luke", "hans, hush", replies.ref()));
    replies.expectMessage(new ServerMessage.BroadcastSent(true));
    hans.expectMessage(new ServerMessage.BroadcastReceived("luke", "hans, hush"));
    yoda.expectMessage(new ServerMessage.BroadcastReceived("luke", "hans, hush"));

    // luke's block, once replicated, also keeps his logout from hans.
    leave("luke");
    yoda.expectMessage(PATIENCE, new ServerMessage.UserLoggedOut("luke"));
    hans.expectNoMessage();
    luke.expectNoMessage();
  }

  @Test
  void shouldDeliverToItsOwnMembersAtOnceWhateverItsTopicListingSays() {
    // A broadcaster just started: its topic's listing of instances (from the receptionist) may
    // still lack it, or still hold an earlier test's stopped one.
    TestProbe<ServerMessage> hans = joinAtOnce("hans");
    TestProbe<ServerMessage> yoda = joinAtOnce("yoda");

    broadcaster.tell(new Broadcaster.Broadcast("hans", "first!", replies.ref()));

    yoda.fishForMessage(
        PATIENCE,
        frame ->
            frame.equals(new ServerMessage.BroadcastReceived("hans", "first!"))
                ? FishingOutcomes.complete()
                : FishingOutcomes.continueAndIgnore());
    // Once only, even after the topic lists this broadcaster too.
    awaitListed(broadcaster, List.of("hans", "yoda"));
    broadcaster.tell(new Broadcaster.Broadcast("hans", "second", replies.ref()));
    yoda.fishForMessage(
        PATIENCE,
        frame -> {
          if (frame.equals(new ServerMessage.BroadcastReceived("hans", "second"))) {
            return FishingOutcomes.complete();
          }
          if (frame instanceof ServerMessage.BroadcastReceived) {
            return FishingOutcomes.fail("a broadcast twice: " + frame);
          }
          return FishingOutcomes.continueAndIgnore();
        });
    // Presence news may still come; the broadcast may not, a second time.
    while (true) {
      ServerMessage frame;
      try {
        frame = yoda.receiveMessage(Duration.ofMillis(300));
      } catch (AssertionError quiet) {
        break;
      }
      assertFalse(frame instanceof ServerMessage.BroadcastReceived, "a broadcast twice: " + frame);
    }
  }

  @Test
  void shouldListEveryoneOnlineButTheRequesterInLoginOrderCapped() {
    for (String user : List.of("hans", "yoda", "luke", "vader", "r2d2")) {
      join(user, Set.of());
    }

    broadcaster.tell(new Broadcaster.ListOnline("luke", NO_LIMIT, NO_LIMIT, replies.ref()));
    replies.expectMessage(new ServerMessage.OnlineUsers(List.of("hans", "yoda", "vader", "r2d2")));
    broadcaster.tell(new Broadcaster.ListOnline("hans", 3, NO_LIMIT, replies.ref()));
    replies.expectMessage(new ServerMessage.OnlineUsers(List.of("yoda", "luke", "vader"), 1));
    // Each name costs its encoding and 3: yoda 7, luke 7, vader 8.
    broadcaster.tell(new Broadcaster.ListOnline("hans", NO_LIMIT, 21, replies.ref()));
    replies.expectMessage(new ServerMessage.OnlineUsers(List.of("yoda", "luke"), 2));
  }

  @Test
  void shouldAnnounceNeitherAMoveNorALateLeaveOfTheOldConnection() {
    TestProbe<ServerMessage> hans = join("hans", Set.of());
    TestProbe<ServerMessage> yoda = join("yoda", Set.of());
    hans.expectMessage(PATIENCE, new ServerMessage.UserLoggedIn("yoda"));
    ActorRef<ServerMessage> oldOutbox = joined.get("yoda").outbox();
    TestProbe<ServerMessage> resumed = testKit.createTestProbe();
    ActorRef<ServerMessage> newOutbox = DecodingOutbox.to(testKit, resumed);

    broadcaster.tell(new Broadcaster.MemberMoved("yoda", newOutbox));
    joined.put("yoda", new Joined(broadcaster, newOutbox));
    broadcaster.tell(new Broadcaster.MemberLeft("yoda", oldOutbox));
    join("luke", Set.of());

    // The next news hans hears is luke's login: yoda neither left nor came back.
    hans.expectMessage(PATIENCE, new ServerMessage.UserLoggedIn("luke"));
    resumed.expectMessage(PATIENCE, new ServerMessage.UserLoggedIn("luke"));
    awaitListed(broadcaster, List.of("hans", "yoda", "luke"));
    broadcaster.tell(new Broadcaster.Broadcast("hans", "yoda?", replies.ref()));
    resumed.expectMessage(new ServerMessage.BroadcastReceived("hans", "yoda?"));
    expectNoNews(yoda);
  }

  @Test
  void shouldAnnounceNothingOfTheRosterANodeFindsWhenItStarts() {
    TestProbe<ServerMessage> hans = join("hans", Set.of());
    join("yoda", Set.of());
    hans.expectMessage(PATIENCE, new ServerMessage.UserLoggedIn("yoda"));

    // A second broadcaster on the same replicator starts as a node joining a running cluster.
    ActorRef<Broadcaster.Command> late = testKit.spawn(clustered());
    TestProbe<ServerMessage> obi = join(late, "obi", Set.of());
    hans.expectMessage(PATIENCE, new ServerMessage.UserLoggedIn("obi"));
    join("luke", Set.of());

    // obi hears of luke, who came after him, and nothing of those already there.
    obi.expectMessage(PATIENCE, new ServerMessage.UserLoggedIn("luke"));
    obi.expectNoMessage();
    leave("obi");
    hans.fishForMessage(
        PATIENCE,
        frame ->
            frame.equals(new ServerMessage.UserLoggedOut("obi"))
                ? FishingOutcomes.complete()
                : FishingOutcomes.continueAndIgnore());
    awaitListed(late, List.of("hans", "yoda", "luke"));
    testKit.stop(late);
  }

  @Test
  void shouldTellTwoMembersWhoJoinBackToBackOfEachOther() {
    // Both within one notify interval: the broadcaster sees them arrive in one change.
    TestProbe<ServerMessage> hans = joinAtOnce("hans");
    TestProbe<ServerMessage> yoda = joinAtOnce("yoda");

    hans.expectMessage(PATIENCE, new ServerMessage.UserLoggedIn("yoda"));
    yoda.expectMessage(PATIENCE, new ServerMessage.UserLoggedIn("hans"));
    hans.expectNoMessage();
    yoda.expectNoMessage();
  }

  @Test
  void shouldKeepALogoutAsATombstoneHiddenUntilPrunedAndAnnounceALoginAfterIt() {
    TestProbe<ServerMessage> luke = join("luke", Set.of());
    TestProbe<ServerMessage> hans = join("hans", Set.of());
    join("yoda", Set.of("hans"));
    luke.expectMessage(PATIENCE, new ServerMessage.UserLoggedIn("hans"));
    luke.expectMessage(PATIENCE, new ServerMessage.UserLoggedIn("yoda"));
    ActorRef<ServerMessage> yodaOutbox = joined.get("yoda").outbox();

    TestProbe<Broadcaster.RosterWritten> written = testKit.createTestProbe();
    joined.remove("yoda");
    broadcaster.tell(new Broadcaster.MemberLeft("yoda", yodaOutbox, written.ref()));
    written.expectMessage(new Broadcaster.RosterWritten("yoda", true));

    // At once: the departed yoda is neither listed nor counted as blocking hans's broadcast.
    broadcaster.tell(new Broadcaster.ListOnline(NOBODY, NO_LIMIT, NO_LIMIT, replies.ref()));
    replies.expectMessage(new ServerMessage.OnlineUsers(List.of("luke", "hans")));
    broadcaster.tell(new Broadcaster.Broadcast("hans", "alone?", replies.ref()));
    replies.expectMessage(new ServerMessage.BroadcastSent(true));
    // The logout and the broadcast, in whichever order; yoda blocks hans, who hears of neither.
    expectAll(
        luke,
        Set.of(
            new ServerMessage.UserLoggedOut("yoda"),
            new ServerMessage.BroadcastReceived("hans", "alone?")));
    RosterEntry tombstone = rosterEntry("yoda");
    assertEquals(yodaOutbox, tombstone.outbox());
    assertEquals(Set.of("hans"), tombstone.blocked());
    assertTrue(tombstone.departedAt() > 0);

    // A login after the logout overwrites the tombstone and is news.
    join("yoda", Set.of());
    luke.expectMessage(PATIENCE, new ServerMessage.UserLoggedIn("yoda"));
    expectNews(hans, new ServerMessage.UserLoggedIn("yoda"));
    leave("yoda");
    luke.expectMessage(PATIENCE, new ServerMessage.UserLoggedOut("yoda"));
    hans.expectMessage(PATIENCE, new ServerMessage.UserLoggedOut("yoda"));

    // After the TTL the broadcaster that wrote it removes it, which is no news.
    testKit
        .createTestProbe()
        .awaitAssert(
            PATIENCE,
            () -> {
              assertNull(rosterEntry("yoda"));
              return null;
            });
    awaitListed(broadcaster, List.of("luke", "hans"));
    hans.expectNoMessage();
    luke.expectNoMessage();
  }

  @Test
  void shouldCarryATombstoneThroughSerialization() {
    TestProbe<ServerMessage> outbox = testKit.createTestProbe();
    RosterEntry tombstone = new RosterEntry(outbox.ref(), Set.of("hans"), 42L, 1_700_000_000_000L);

    assertEquals(
        tombstone, new SerializationTestKit(testKit.system()).verifySerialization(tombstone, true));
  }

  /** This node's replica's entry for {@code user}, tombstone or not; null if it has none. */
  private static RosterEntry rosterEntry(String user) {
    TestProbe<Replicator.GetResponse<LWWMap<String, RosterEntry>>> reads =
        testKit.createTestProbe();
    DistributedData.get(testKit.system())
        .replicator()
        .tell(
            new Replicator.Get<>(ClusteredBroadcaster.ROSTER, Replicator.readLocal(), reads.ref()));
    Replicator.GetResponse<LWWMap<String, RosterEntry>> read = reads.receiveMessage();
    if (!(read instanceof Replicator.GetSuccess<LWWMap<String, RosterEntry>> found)) {
      return null;
    }
    return found.get(ClusteredBroadcaster.ROSTER).getEntries().get(user);
  }

  private static Behavior<Broadcaster.Command> clustered() {
    return Broadcaster.clustered(
        PresenceBatching.fixed(PRESENCE_BATCH), Clock.systemUTC(), WRITE_TIMEOUT, DEPARTED_TTL);
  }

  /**
   * {@code probe} hears {@code expected} next, perhaps after the logins of those who were online
   * before they joined.
   */
  private void expectNews(TestProbe<ServerMessage> probe, ServerMessage expected) {
    expectAll(probe, Set.of(expected));
  }

  /**
   * {@code probe} hears all of {@code expected} next, in any order, perhaps among the logins of
   * those who were online before they joined.
   */
  private void expectAll(TestProbe<ServerMessage> probe, Set<ServerMessage> expected) {
    Set<String> before = joinedBefore.getOrDefault(probe, Set.of());
    Set<ServerMessage> missing = new HashSet<>(expected);
    probe.fishForMessage(
        PATIENCE,
        frame -> {
          if (missing.remove(frame)) {
            return missing.isEmpty()
                ? FishingOutcomes.complete()
                : FishingOutcomes.continueAndIgnore();
          }
          if (frame instanceof ServerMessage.UserLoggedIn in && before.contains(in.user())) {
            return FishingOutcomes.continueAndIgnore();
          }
          return FishingOutcomes.fail("expected " + missing + " but got " + frame);
        });
  }

  /**
   * Nothing but perhaps the logins of those online before they joined reaches {@code probe} within
   * a short while.
   */
  private void expectNoNews(TestProbe<ServerMessage> probe) {
    Set<String> before = joinedBefore.getOrDefault(probe, Set.of());
    while (true) {
      ServerMessage frame;
      try {
        frame = probe.receiveMessage(Duration.ofMillis(300));
      } catch (AssertionError quiet) {
        return;
      }
      if (!(frame instanceof ServerMessage.UserLoggedIn in && before.contains(in.user()))) {
        throw new AssertionError("expected no news but got " + frame);
      }
    }
  }

  /** Logs {@code user} in without waiting for the replicated roster to list them. */
  private TestProbe<ServerMessage> joinAtOnce(String user) {
    TestProbe<ServerMessage> probe = testKit.createTestProbe();
    ActorRef<ServerMessage> outbox = DecodingOutbox.to(testKit, probe);
    broadcaster.tell(new Broadcaster.MemberJoined(user, outbox, Set.of()));
    joined.put(user, new Joined(broadcaster, outbox));
    return probe;
  }

  private TestProbe<ServerMessage> join(String user, Set<String> blocked) {
    return join(broadcaster, user, blocked);
  }

  /**
   * Logs {@code user} in through {@code through}, and waits until the replicated roster lists them:
   * from then on, they hear of whatever happens after.
   */
  private TestProbe<ServerMessage> join(
      ActorRef<Broadcaster.Command> through, String user, Set<String> blocked) {
    TestProbe<ServerMessage> probe = testKit.createTestProbe();
    ActorRef<ServerMessage> outbox = DecodingOutbox.to(testKit, probe);
    through.tell(new Broadcaster.MemberJoined(user, outbox, blocked));
    joinedBefore.put(probe, Set.copyOf(joined.keySet()));
    joined.put(user, new Joined(through, outbox));
    List<String> expected = new ArrayList<>(joined.keySet());
    awaitListed(through, expected);
    return probe;
  }

  private void leave(String user) {
    Joined member = joined.remove(user);
    member.through().tell(new Broadcaster.MemberLeft(user, member.outbox()));
  }

  /** Waits until {@code through}'s whoelse lists exactly {@code users}, in that order. */
  private void awaitListed(ActorRef<Broadcaster.Command> through, List<String> users) {
    TestProbe<ServerMessage> lists = testKit.createTestProbe();
    lists.awaitAssert(
        PATIENCE,
        () -> {
          through.tell(new Broadcaster.ListOnline(NOBODY, NO_LIMIT, NO_LIMIT, lists.ref()));
          assertEquals(new ServerMessage.OnlineUsers(users), lists.receiveMessage());
          return null;
        });
  }
}
