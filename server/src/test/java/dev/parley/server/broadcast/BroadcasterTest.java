package dev.parley.server.broadcast;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import dev.parley.protocol.ServerMessage;
import dev.parley.server.testing.DecodingOutbox;
import dev.parley.server.testing.LogCapturingExtension;
import dev.parley.server.testing.TestKits;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LogCapturingExtension.class)
class BroadcasterTest {

  private static final ActorTestKit testKit = TestKits.create();

  /** Short, so that batched notices arrive within the probes' waits (see BroadcasterBatchTest). */
  private static final Duration PRESENCE_BATCH = Duration.ofMillis(10);

  private ActorRef<Broadcaster.Command> broadcaster;
  private TestProbe<ServerMessage> hans;
  private TestProbe<ServerMessage> yoda;
  private TestProbe<ServerMessage> luke;
  private TestProbe<ServerMessage> replies;

  /** Each member's outbox (a decoding one in front of their probe), as their leave names it. */
  private final Map<String, ActorRef<ServerMessage>> outboxes = new HashMap<>();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  /** hans, yoda and luke are online, in that order, and nobody blocks anybody. */
  @BeforeEach
  void startWithThreeMembers() {
    broadcaster = testKit.spawn(Broadcaster.create(PresenceBatching.fixed(PRESENCE_BATCH)));
    replies = testKit.createTestProbe();
    hans = join("hans", Set.of());
    yoda = join("yoda", Set.of());
    hans.expectMessage(new ServerMessage.UserLoggedIn("yoda"));
    luke = join("luke", Set.of());
    hans.expectMessage(new ServerMessage.UserLoggedIn("luke"));
    yoda.expectMessage(new ServerMessage.UserLoggedIn("luke"));
  }

  @Test
  void shouldBroadcastToEveryOtherMemberAndReportItComplete() {
    broadcaster.tell(new Broadcaster.Broadcast("hans", "vader sucks", replies.ref()));

    yoda.expectMessage(new ServerMessage.BroadcastReceived("hans", "vader sucks"));
    luke.expectMessage(new ServerMessage.BroadcastReceived("hans", "vader sucks"));
    replies.expectMessage(new ServerMessage.BroadcastSent(true));
    // The sender never receives its own broadcast.
    hans.expectNoMessage();
  }

  @Test
  void shouldAnswerABlockOrALeaveThatAsksAtOnce() {
    TestProbe<Broadcaster.RosterWritten> written = testKit.createTestProbe();

    broadcaster.tell(new Broadcaster.BlocksChanged("luke", Set.of("hans"), written.ref()));
    written.expectMessage(new Broadcaster.RosterWritten("luke", true));
    broadcaster.tell(new Broadcaster.MemberLeft("luke", outboxes.get("luke"), written.ref()));
    written.expectMessage(new Broadcaster.RosterWritten("luke", true));
    // Also a late leave, which changes nothing.
    broadcaster.tell(new Broadcaster.MemberLeft("luke", outboxes.get("luke"), written.ref()));
    written.expectMessage(new Broadcaster.RosterWritten("luke", true));

    yoda.expectMessage(new ServerMessage.UserLoggedOut("luke"));
    hans.expectNoMessage();
  }

  @Test
  void shouldSkipMembersWhoBlockedTheSenderAndReportItIncomplete() {
    broadcaster.tell(new Broadcaster.BlocksChanged("luke", Set.of("hans")));

    broadcaster.tell(new Broadcaster.Broadcast("hans", "I rock", replies.ref()));

    yoda.expectMessage(new ServerMessage.BroadcastReceived("hans", "I rock"));
    replies.expectMessage(new ServerMessage.BroadcastSent(false));
    luke.expectNoMessage();
    hans.expectNoMessage();
  }

  @Test
  void shouldHonourABlockListGivenAtJoin() {
    TestProbe<ServerMessage> vader = join("vader", Set.of("hans"));
    yoda.expectMessage(new ServerMessage.UserLoggedIn("vader"));
    luke.expectMessage(new ServerMessage.UserLoggedIn("vader"));

    broadcaster.tell(new Broadcaster.Broadcast("hans", "hello all", replies.ref()));

    yoda.expectMessage(new ServerMessage.BroadcastReceived("hans", "hello all"));
    luke.expectMessage(new ServerMessage.BroadcastReceived("hans", "hello all"));
    replies.expectMessage(new ServerMessage.BroadcastSent(false));
    vader.expectNoMessage();
    // vader's block also kept his login from hans.
    hans.expectNoMessage();
  }

  @Test
  void shouldStillReachUsersTheSenderHasBlocked() {
    // Blocks keep the blocked user away from the blocker, not the other way round.
    broadcaster.tell(new Broadcaster.BlocksChanged("hans", Set.of("yoda")));

    broadcaster.tell(new Broadcaster.Broadcast("hans", "listen", replies.ref()));

    yoda.expectMessage(new ServerMessage.BroadcastReceived("hans", "listen"));
    luke.expectMessage(new ServerMessage.BroadcastReceived("hans", "listen"));
    replies.expectMessage(new ServerMessage.BroadcastSent(true));
  }

  @Test
  void shouldApplyAnUnblockToLaterBroadcasts() {
    broadcaster.tell(new Broadcaster.BlocksChanged("luke", Set.of("hans")));
    broadcaster.tell(new Broadcaster.BlocksChanged("luke", Set.of()));

    broadcaster.tell(new Broadcaster.Broadcast("hans", "again", replies.ref()));

    yoda.expectMessage(new ServerMessage.BroadcastReceived("hans", "again"));
    luke.expectMessage(new ServerMessage.BroadcastReceived("hans", "again"));
    replies.expectMessage(new ServerMessage.BroadcastSent(true));
  }

  @Test
  void shouldReportABroadcastWithNobodyElseOnlineAsComplete() {
    ActorRef<Broadcaster.Command> empty =
        testKit.spawn(Broadcaster.create(PresenceBatching.fixed(PRESENCE_BATCH)));
    TestProbe<ServerMessage> alone = testKit.createTestProbe();
    empty.tell(new Broadcaster.MemberJoined("hans", alone.ref(), Set.of()));

    empty.tell(new Broadcaster.Broadcast("hans", "anyone?", replies.ref()));

    replies.expectMessage(new ServerMessage.BroadcastSent(true));
    alone.expectNoMessage();
  }

  @Test
  void shouldAnnounceALoginToEveryOtherMemberExceptThoseTheSubjectBlocks() {
    TestProbe<ServerMessage> vader = join("vader", Set.of("luke"));

    hans.expectMessage(new ServerMessage.UserLoggedIn("vader"));
    yoda.expectMessage(new ServerMessage.UserLoggedIn("vader"));
    luke.expectNoMessage();
    vader.expectNoMessage();
  }

  @Test
  void shouldAnnounceALogoutToEveryOtherMemberExceptThoseTheSubjectBlocks() {
    broadcaster.tell(new Broadcaster.BlocksChanged("luke", Set.of("yoda")));

    broadcaster.tell(new Broadcaster.MemberLeft("luke", outboxes.get("luke")));

    hans.expectMessage(new ServerMessage.UserLoggedOut("luke"));
    yoda.expectNoMessage();
    luke.expectNoMessage();
  }

  @Test
  void shouldStillTellABlockerAboutTheUserTheyBlocked() {
    // hans blocks luke: that hides hans's presence from luke, not luke's from hans.
    broadcaster.tell(new Broadcaster.BlocksChanged("hans", Set.of("luke")));

    broadcaster.tell(new Broadcaster.MemberLeft("luke", outboxes.get("luke")));

    hans.expectMessage(new ServerMessage.UserLoggedOut("luke"));
    yoda.expectMessage(new ServerMessage.UserLoggedOut("luke"));
  }

  @Test
  void shouldSendNothingMoreToAMemberWhoLeft() {
    broadcaster.tell(new Broadcaster.MemberLeft("luke", outboxes.get("luke")));
    hans.expectMessage(new ServerMessage.UserLoggedOut("luke"));
    yoda.expectMessage(new ServerMessage.UserLoggedOut("luke"));

    broadcaster.tell(new Broadcaster.Broadcast("hans", "after luke left", replies.ref()));
    yoda.expectMessage(new ServerMessage.BroadcastReceived("hans", "after luke left"));
    replies.expectMessage(new ServerMessage.BroadcastSent(true));
    TestProbe<ServerMessage> vader = join("vader", Set.of());
    hans.expectMessage(new ServerMessage.UserLoggedIn("vader"));
    yoda.expectMessage(new ServerMessage.UserLoggedIn("vader"));
    broadcaster.tell(new Broadcaster.MemberLeft("vader", outboxes.get("vader")));
    hans.expectMessage(new ServerMessage.UserLoggedOut("vader"));
    yoda.expectMessage(new ServerMessage.UserLoggedOut("vader"));

    luke.expectNoMessage();
    vader.expectNoMessage();
  }

  @Test
  void shouldIgnoreALeaveOfSomeoneNotOnline() {
    broadcaster.tell(
        new Broadcaster.MemberLeft("vader", testKit.createTestProbe(ServerMessage.class).ref()));
    broadcaster.tell(new Broadcaster.Broadcast("hans", "still here", replies.ref()));

    // The next thing anyone gets is the broadcast: no notice about vader came first.
    yoda.expectMessage(new ServerMessage.BroadcastReceived("hans", "still here"));
    luke.expectMessage(new ServerMessage.BroadcastReceived("hans", "still here"));
    replies.expectMessage(new ServerMessage.BroadcastSent(true));
  }

  @Test
  void shouldIgnoreALateLeaveOfTheConnectionAMemberMovedFrom() {
    TestProbe<ServerMessage> resumed = testKit.createTestProbe();
    broadcaster.tell(new Broadcaster.MemberMoved("luke", resumed.ref()));

    broadcaster.tell(new Broadcaster.MemberLeft("luke", outboxes.get("luke")));
    broadcaster.tell(new Broadcaster.Broadcast("hans", "luke?", replies.ref()));

    // No logout came before the broadcast, and it reached luke's new connection.
    yoda.expectMessage(new ServerMessage.BroadcastReceived("hans", "luke?"));
    assertInstanceOf(ServerMessage.Encoded.class, resumed.receiveMessage());
    broadcaster.tell(new Broadcaster.MemberLeft("luke", resumed.ref()));
    yoda.expectMessage(new ServerMessage.UserLoggedOut("luke"));
  }

  /**
   * A node's stop closes every session and says so to each; the clients resume after the next
   * start. Neither the stop nor the return is announced, but those back hear of what happens next.
   */
  @Test
  void shouldNeitherAnnounceALeaveByTheStopNorTheReturnThatResumesIt() {
    broadcaster.tell(new Broadcaster.MemberLeft("luke", outboxes.get("luke"), null, false));
    TestProbe<ServerMessage> returned = testKit.createTestProbe();
    ActorRef<ServerMessage> decoding = DecodingOutbox.to(testKit, returned);
    broadcaster.tell(new Broadcaster.MemberJoined("luke", decoding, Set.of(), false));
    TestProbe<ServerMessage> vader = join("vader", Set.of());

    // The first thing anyone hears is vader's login: nothing about luke came before it.
    hans.expectMessage(new ServerMessage.UserLoggedIn("vader"));
    yoda.expectMessage(new ServerMessage.UserLoggedIn("vader"));
    returned.expectMessage(new ServerMessage.UserLoggedIn("vader"));
    broadcaster.tell(new Broadcaster.Broadcast("hans", "welcome back", replies.ref()));
    returned.expectMessage(new ServerMessage.BroadcastReceived("hans", "welcome back"));
    luke.expectNoMessage();
    vader.expectMessage(new ServerMessage.BroadcastReceived("hans", "welcome back"));
  }

  /**
   * Someone the stop interrupted who does not come back: once their window has passed, the others
   * are told they logged out, but for those they block.
   */
  @Test
  void shouldAnnounceAnOverdueReturnAsALogoutExceptToThoseTheSubjectBlocks() {
    broadcaster.tell(new Broadcaster.ReturnOverdue("vader", Set.of("yoda")));

    hans.expectMessage(new ServerMessage.UserLoggedOut("vader"));
    luke.expectMessage(new ServerMessage.UserLoggedOut("vader"));
    yoda.expectNoMessage();
  }

  @Test
  void shouldListTheOthersOnlineInLoginOrderCapped() {
    join("vader", Set.of());
    TestProbe<ServerMessage> lists = testKit.createTestProbe();

    broadcaster.tell(new Broadcaster.ListOnline("yoda", 10, 1000, lists.ref()));
    lists.expectMessage(new ServerMessage.OnlineUsers(List.of("hans", "luke", "vader")));
    broadcaster.tell(new Broadcaster.ListOnline("yoda", 2, 1000, lists.ref()));
    lists.expectMessage(new ServerMessage.OnlineUsers(List.of("hans", "luke"), 1));
    // Each name costs its encoding and 3: hans 7, luke 7.
    broadcaster.tell(new Broadcaster.ListOnline("yoda", 10, 13, lists.ref()));
    lists.expectMessage(new ServerMessage.OnlineUsers(List.of("hans"), 2));
  }

  private TestProbe<ServerMessage> join(String user, Set<String> blocked) {
    TestProbe<ServerMessage> outbox = testKit.createTestProbe();
    ActorRef<ServerMessage> decoding = DecodingOutbox.to(testKit, outbox);
    outboxes.put(user, decoding);
    broadcaster.tell(new Broadcaster.MemberJoined(user, decoding, blocked));
    return outbox;
  }
}
