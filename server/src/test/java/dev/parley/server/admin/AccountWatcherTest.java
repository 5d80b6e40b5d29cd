package dev.parley.server.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;

import akka.Done;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.ManualTime;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import dev.parley.server.login.LoginGuard;
import dev.parley.server.registry.UserRegistry;
import dev.parley.server.store.AccountEvent;
import dev.parley.server.testing.LogCapturingExtension;
import dev.parley.server.testing.TestKits;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The watcher with the store's events played by the test: each read is a future the test completes.
 * Its poll timer runs on {@link ManualTime}.
 */
@ExtendWith(LogCapturingExtension.class)
class AccountWatcherTest {

  private static final ActorTestKit testKit = TestKits.withManualTime();
  private static final ManualTime manualTime = ManualTime.get(testKit.system());
  private static final Duration POLL = Duration.ofSeconds(1);

  /** One read of the events asked for: after which id, and the answer to give. */
  private record Read(long afterId, CompletableFuture<List<AccountEvent>> answer) {}

  private TestProbe<CompletableFuture<Long>> lastIdReads;
  private TestProbe<Read> reads;
  private TestProbe<UserRegistry.Command> registry;
  private TestProbe<LoginGuard.Command> guard;
  private ActorRef<AccountWatcher.Command> watcher;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void startWatcher() {
    lastIdReads = testKit.createTestProbe();
    reads = testKit.createTestProbe();
    registry = testKit.createTestProbe(UserRegistry.Command.class);
    guard = testKit.createTestProbe(LoginGuard.Command.class);
    AccountWatcher.Events events =
        new AccountWatcher.Events() {
          @Override
          public CompletionStage<Long> lastId() {
            CompletableFuture<Long> answer = new CompletableFuture<>();
            lastIdReads.ref().tell(answer);
            return answer;
          }

          @Override
          public CompletionStage<List<AccountEvent>> after(long afterId, int limit) {
            CompletableFuture<List<AccountEvent>> answer = new CompletableFuture<>();
            reads.ref().tell(new Read(afterId, answer));
            return answer;
          }
        };
    watcher = testKit.spawn(AccountWatcher.create(events, registry.ref(), guard.ref(), POLL));
  }

  @AfterEach
  void stopWatcher() {
    testKit.stop(watcher);
  }

  @Test
  void shouldPassOnEachEventAfterTheNewestAtStartAndNeverSkipOne() {
    // Events before the start are reflected in the state the server loaded: skipped.
    lastIdReads.receiveMessage().complete(41L);
    manualTime.timePasses(POLL);
    Read first = reads.receiveMessage();
    assertEquals(41, first.afterId());

    first
        .answer()
        .complete(
            List.of(
                new AccountEvent(42, "leia", AccountEvent.Kind.ADDED),
                new AccountEvent(43, "hans", AccountEvent.Kind.PASSWORD),
                new AccountEvent(44, "luke", AccountEvent.Kind.REMOVED)));

    registry.expectMessage(new UserRegistry.AccountAdded("leia"));
    guard.expectMessage(new LoginGuard.LiftLockout("hans"));
    // A new password also ends the user's resumption: the client must log in with it.
    registry.expectMessage(new UserRegistry.PasswordChanged("hans"));
    guard.expectMessage(new LoginGuard.LiftLockout("luke"));
    registry.expectMessage(new UserRegistry.AccountRemoved("luke"));
    manualTime.timePasses(POLL);
    assertEquals(44, reads.receiveMessage().afterId());
  }

  @Test
  void shouldReadAgainFromTheSamePlaceAfterAFailedRead() {
    lastIdReads.receiveMessage().complete(0L);
    manualTime.timePasses(POLL);
    reads.receiveMessage().answer().completeExceptionally(new IllegalStateException("down"));

    manualTime.timePasses(POLL);

    assertEquals(0, reads.receiveMessage().afterId());
    registry.expectNoMessage();
  }

  @Test
  void shouldStopReadingWhenTheNodeStopsOnceTheReadInFlightIsDone() {
    TestProbe<Done> stopped = testKit.createTestProbe(Done.class);
    lastIdReads.receiveMessage().complete(7L);
    manualTime.timePasses(POLL);
    Read inFlight = reads.receiveMessage();

    watcher.tell(new AccountWatcher.StopPolling(stopped.ref()));
    // The store must stay open until the read is done with it.
    stopped.expectNoMessage();
    inFlight.answer().completeExceptionally(new IllegalStateException("store closing"));

    stopped.expectMessage(Done.getInstance());
    manualTime.timePasses(POLL.multipliedBy(3));
    reads.expectNoMessage();
  }

  @Test
  void shouldAnswerAStopAtOnceWithNoReadInFlight() {
    TestProbe<Done> stopped = testKit.createTestProbe(Done.class);
    lastIdReads.receiveMessage().complete(7L);

    watcher.tell(new AccountWatcher.StopPolling(stopped.ref()));

    stopped.expectMessage(Done.getInstance());
    manualTime.timePasses(POLL.multipliedBy(3));
    reads.expectNoMessage();
  }

  @Test
  void shouldNotReadUntilItKnowsWhereToStart() {
    manualTime.timePasses(POLL.multipliedBy(3));
    reads.expectNoMessage();

    lastIdReads.receiveMessage().complete(7L);
    manualTime.timePasses(POLL);
    assertEquals(7, reads.receiveMessage().afterId());
  }
}
