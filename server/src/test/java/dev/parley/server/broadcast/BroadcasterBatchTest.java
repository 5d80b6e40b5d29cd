package dev.parley.server.broadcast;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.ManualTime;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import dev.parley.protocol.JsonCodec;
import dev.parley.protocol.ServerMessage;
import dev.parley.server.testing.DecodingOutbox;
import dev.parley.server.testing.LogCapturingExtension;
import dev.parley.server.testing.TestKits;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * How the broadcaster batches presence notices and shares encoded bytes, on {@link ManualTime}: the
 * first notice after a quiet spell goes at once, the next ones at the end of the batch, together,
 * each recipient getting one write; logins undone within a batch are not announced.
 */
@ExtendWith(LogCapturingExtension.class)
class BroadcasterBatchTest {

  private static final ActorTestKit testKit = TestKits.withManualTime();
  private static final ManualTime manualTime = ManualTime.get(testKit.system());
  private static final Duration BATCH = Duration.ofMillis(100);

  private ActorRef<Broadcaster.Command> broadcaster;
  private TestProbe<ServerMessage> hans;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void startWithHans() {
    broadcaster = testKit.spawn(Broadcaster.create(PresenceBatching.fixed(BATCH)));
    hans = testKit.createTestProbe();
    broadcaster.tell(new Broadcaster.MemberJoined("hans", hans.ref(), Set.of()));
    // hans's own login opened a batch: let it end quietly.
    manualTime.timePasses(BATCH);
  }

  @Test
  void shouldSendTheFirstNoticeAtOnceAndTheNextOnesTogetherAtTheEndOfTheBatch() {
    join("yoda");
    expectLines(hans.receiveMessage(), "{\"type\":\"user-logged-in\",\"user\":\"yoda\"}\n");

    join("luke");
    join("vader");
    hans.expectNoMessage();
    manualTime.timePasses(BATCH);

    expectLines(
        hans.receiveMessage(),
        "{\"type\":\"user-logged-in\",\"user\":\"luke\"}\n"
            + "{\"type\":\"user-logged-in\",\"user\":\"vader\"}\n");
    hans.expectNoMessage();
  }

  @Test
  void shouldGatherLongerTheMoreRecipientsThereAre() {
    // 50ms per recipient: with hans and yoda online a batch lasts 100ms (the least); with five,
    // 250ms (below the most, 400ms); with ten or more, 400ms.
    ActorRef<Broadcaster.Command> scaled =
        testKit.spawn(
            Broadcaster.create(
                new PresenceBatching(BATCH, Duration.ofMillis(50), Duration.ofMillis(400))));
    TestProbe<ServerMessage> first = testKit.createTestProbe();
    scaled.tell(new Broadcaster.MemberJoined("hans", first.ref(), Set.of()));
    manualTime.timePasses(BATCH);
    for (String user : new String[] {"yoda", "luke", "vader", "leia"}) {
      scaled.tell(
          new Broadcaster.MemberJoined(
              user, testKit.createTestProbe(ServerMessage.class).ref(), Set.of()));
    }
    // yoda's login went at once and opened a batch of 100ms (two recipients then).
    first.receiveMessage();
    manualTime.timePasses(BATCH);
    expectLines(
        first.receiveMessage(),
        "{\"type\":\"user-logged-in\",\"user\":\"luke\"}\n"
            + "{\"type\":\"user-logged-in\",\"user\":\"vader\"}\n"
            + "{\"type\":\"user-logged-in\",\"user\":\"leia\"}\n");

    // Five online now: the next batch lasts 250ms.
    scaled.tell(
        new Broadcaster.MemberJoined(
            "r2d2", testKit.createTestProbe(ServerMessage.class).ref(), Set.of()));
    manualTime.timePasses(Duration.ofMillis(240));
    first.expectNoMessage(Duration.ofMillis(50));
    manualTime.timePasses(Duration.ofMillis(10));
    expectLines(first.receiveMessage(), "{\"type\":\"user-logged-in\",\"user\":\"r2d2\"}\n");
  }

  @Test
  void shouldShareOneEncodingBetweenTheRecipientsOfABatch() {
    TestProbe<ServerMessage> yoda = join("yoda");
    hans.receiveMessage();
    join("luke");
    join("vader");
    manualTime.timePasses(BATCH);

    ServerMessage toHans = hans.receiveMessage();
    // yoda gets the same notices; he was online before both.
    assertEquals(toHans, yoda.receiveMessage());
  }

  @Test
  void shouldNotAnnounceALoginUndoneWithinTheBatch() {
    join("yoda");
    hans.receiveMessage();

    TestProbe<ServerMessage> luke = join("luke");
    broadcaster.tell(new Broadcaster.MemberLeft("luke", luke.ref()));
    join("vader");
    manualTime.timePasses(BATCH);

    expectLines(hans.receiveMessage(), "{\"type\":\"user-logged-in\",\"user\":\"vader\"}\n");
  }

  @Test
  void shouldNotTellAMemberOfWhatHappenedBeforeTheyJoinedOrOfThemselves() {
    TestProbe<ServerMessage> yoda = join("yoda");
    hans.receiveMessage();
    broadcaster.tell(new Broadcaster.MemberLeft("yoda", yoda.ref()));
    TestProbe<ServerMessage> luke = testKit.createTestProbe();
    broadcaster.tell(
        new Broadcaster.MemberJoined("luke", DecodingOutbox.to(testKit, luke), Set.of()));
    join("vader");
    manualTime.timePasses(BATCH);

    luke.expectMessage(new ServerMessage.UserLoggedIn("vader"));
    luke.expectNoMessage();
  }

  @Test
  void shouldLeaveOutOfABatchWhomTheSubjectBlocks() {
    TestProbe<ServerMessage> yoda = join("yoda");
    hans.receiveMessage();
    broadcaster.tell(
        new Broadcaster.MemberJoined(
            "luke", testKit.createTestProbe(ServerMessage.class).ref(), Set.of("hans")));
    join("vader");
    manualTime.timePasses(BATCH);

    expectLines(hans.receiveMessage(), "{\"type\":\"user-logged-in\",\"user\":\"vader\"}\n");
    expectLines(
        yoda.receiveMessage(),
        "{\"type\":\"user-logged-in\",\"user\":\"luke\"}\n"
            + "{\"type\":\"user-logged-in\",\"user\":\"vader\"}\n");
  }

  @Test
  void shouldEncodeABroadcastOnceForEveryRecipient() {
    TestProbe<ServerMessage> yoda = join("yoda");
    TestProbe<ServerMessage> replies = testKit.createTestProbe();
    manualTime.timePasses(BATCH);
    hans.receiveMessage();

    broadcaster.tell(new Broadcaster.Broadcast("luke", "hello", replies.ref()));

    ServerMessage toHans = hans.receiveMessage();
    expectLines(toHans, "{\"type\":\"broadcast-received\",\"from\":\"luke\",\"text\":\"hello\"}\n");
    // The very same bytes, not an equal copy encoded again.
    assertEquals(
        System.identityHashCode(((ServerMessage.Encoded) toHans).lines()),
        System.identityHashCode(((ServerMessage.Encoded) yoda.receiveMessage()).lines()));
  }

  private TestProbe<ServerMessage> join(String user) {
    TestProbe<ServerMessage> outbox = testKit.createTestProbe();
    broadcaster.tell(new Broadcaster.MemberJoined(user, outbox.ref(), Set.of()));
    return outbox;
  }

  private static void expectLines(ServerMessage frame, String lines) {
    ServerMessage.Encoded encoded = assertInstanceOf(ServerMessage.Encoded.class, frame);
    assertEquals(lines, encoded.lines().utf8String());
    // Each line is a frame a client can read.
    for (String line : lines.split("\n")) {
      JsonCodec.SERVER.decode(line);
    }
  }
}
