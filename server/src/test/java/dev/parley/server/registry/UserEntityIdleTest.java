package dev.parley.server.registry;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.ManualTime;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import dev.parley.server.ServerSettings;
import dev.parley.server.store.Journal;
import dev.parley.server.store.StoredMessage;
import dev.parley.server.store.UserSnapshot;
import dev.parley.server.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A user's owner in a cluster asks its shard to stop it (passivate) once nothing has been asked of
 * it for the idle timeout and it holds nothing that needs it: no session, no lockout, no write on
 * its way. On ManualTime, with the owner's clock moved alongside.
 */
class UserEntityIdleTest {

  private static final ActorTestKit testKit = ActorTestKit.create(ManualTime.config());
  private static final ManualTime manualTime = ManualTime.get(testKit.system());

  private static final Instant T0 = Instant.parse("2030-05-04T12:00:00Z");
  private static final Duration IDLE_TIMEOUT = Duration.ofMinutes(10);
  private static final Duration SECOND = Duration.ofSeconds(1);

  private MutableClock clock;
  private TestProbe<String> passivations;
  private TestProbe<UserEntity.LockoutStatus> lockouts;
  private ActorRef<UserEntity.Command> owner;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void startOwner() {
    clock = new MutableClock(T0);
    passivations = testKit.createTestProbe();
    lockouts = testKit.createTestProbe();
    TestProbe<Journal.Command> journal = testKit.createTestProbe();
    UserEntity.Reads reads =
        new UserEntity.Reads() {
          @Override
          public CompletionStage<UserSnapshot> loadUser(String username, Instant now) {
            return CompletableFuture.completedFuture(UserSnapshot.absent(username));
          }

          @Override
          public CompletionStage<List<StoredMessage>> read(String recipient, long[] ids) {
            return CompletableFuture.completedFuture(List.of());
          }
        };
    UserEntity.Settings settings =
        new UserEntity.Settings(
            new UserRegistry.Settings(
                new ServerSettings.Mailbox(3, 1000, 3, 500, 2),
                4,
                1000,
                Duration.ofMinutes(10),
                SECOND,
                Duration.ofMinutes(10),
                Duration.ofSeconds(30)),
            IDLE_TIMEOUT,
            100,
            3,
            Duration.ofSeconds(60));
    owner =
        testKit.spawn(
            UserEntity.create(
                "hans",
                journal.ref(),
                reads,
                settings,
                clock,
                self -> () -> passivations.getRef().tell("hans")));
    // Answered once loaded: from then on the idle timeout runs.
    askSomething();
  }

  @Test
  void shouldAskToBePassivatedOnceNothingHasBeenAskedForTheIdleTimeout() {
    timePasses(IDLE_TIMEOUT.minus(SECOND));
    passivations.expectNoMessage();

    timePasses(SECOND);
    passivations.expectMessage("hans");
  }

  @Test
  void shouldCountTheIdleTimeoutFromTheLastThingAsked() {
    timePasses(IDLE_TIMEOUT.minus(SECOND));
    askSomething();
    timePasses(SECOND);
    passivations.expectNoMessage();

    timePasses(IDLE_TIMEOUT.minus(SECOND.multipliedBy(2)));
    askSomething();
    timePasses(IDLE_TIMEOUT.minus(SECOND));
    passivations.expectNoMessage();

    timePasses(SECOND);
    passivations.expectMessage("hans");
  }

  private void askSomething() {
    owner.tell(new UserEntity.CheckLockout(lockouts.getRef()));
    lockouts.expectMessage(new UserEntity.LockoutStatus(false, false));
  }

  /** Moves the owner's timers and its clock together. */
  private void timePasses(Duration duration) {
    clock.advance(duration);
    manualTime.timePasses(duration);
  }
}
