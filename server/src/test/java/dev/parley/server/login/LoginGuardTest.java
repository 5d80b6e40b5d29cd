package dev.parley.server.login;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.LoggingTestKit;
import akka.actor.testkit.typed.javadsl.ManualTime;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import dev.parley.server.login.LoginGuard.Authenticate;
import dev.parley.server.login.LoginGuard.CheckUsername;
import dev.parley.server.login.LoginGuard.PasswordVerdict;
import dev.parley.server.login.LoginGuard.UsernameVerdict;
import dev.parley.server.registry.UserRegistry;
import dev.parley.server.testing.LogCapturingExtension;
import dev.parley.server.testing.TestKits;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LogCapturingExtension.class)
class LoginGuardTest {

  private static final ActorTestKit testKit = TestKits.withManualTime();
  private static final ManualTime manualTime = ManualTime.get(testKit.system());

  private static final int MAX_FAILURES = 3;
  private static final Duration BLOCK_DURATION = Duration.ofSeconds(60);
  private static final Duration ASK_TIMEOUT = Duration.ofSeconds(5);

  private static final String HANS_PASSWORD = "falcon*solo";
  private static final String YODA_PASSWORD = "wise@!man";
  private static final Accounts ACCOUNTS =
      Accounts.of(Map.of("hans", HANS_PASSWORD, "yoda", YODA_PASSWORD));

  private TestProbe<UserRegistry.Command> registry;
  private TestProbe<UsernameVerdict> usernameVerdicts;
  private TestProbe<PasswordVerdict> passwordVerdicts;
  private ActorRef<LoginGuard.Command> guard;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void startGuard() {
    registry = testKit.createTestProbe(UserRegistry.Command.class);
    usernameVerdicts = testKit.createTestProbe(UsernameVerdict.class);
    passwordVerdicts = testKit.createTestProbe(PasswordVerdict.class);
    guard =
        testKit.spawn(
            LoginGuard.create(ACCOUNTS, registry.ref(), MAX_FAILURES, BLOCK_DURATION, ASK_TIMEOUT));
  }

  @Test
  void shouldAnswerUnknownUserForAUsernameWithoutAnAccount() {
    guard.tell(new CheckUsername("bob", usernameVerdicts.ref()));
    usernameVerdicts.expectMessage(UsernameVerdict.UNKNOWN_USER);

    authenticate("bob", "anything", PasswordVerdict.UNKNOWN_USER);
    // An unknown username is not a failure of any account, and the registry is not bothered.
    registry.expectNoMessage();
  }

  @Test
  void shouldAuthenticateTheRightPassword() {
    authenticate("hans", HANS_PASSWORD, PasswordVerdict.AUTHENTICATED);
  }

  @Test
  void shouldRejectWrongPasswordsUntilTheLastAllowedOneBlocksTheUsername() {
    authenticate("hans", "wrong-1", PasswordVerdict.INVALID_PASSWORD);
    authenticate("hans", "wrong-2", PasswordVerdict.INVALID_PASSWORD);

    LoggingTestKit.warn("login blocked user=hans failures=3 for=60s")
        .expect(
            testKit.system(),
            () -> {
              authenticate("hans", "wrong-3", PasswordVerdict.BLOCKED_NOW);
              return null;
            });
  }

  @Test
  void shouldResetTheFailureCountOnASuccessfulLogin() {
    authenticate("hans", "wrong-1", PasswordVerdict.INVALID_PASSWORD);
    authenticate("hans", "wrong-2", PasswordVerdict.INVALID_PASSWORD);
    authenticate("hans", HANS_PASSWORD, PasswordVerdict.AUTHENTICATED);

    // Two more failures would have blocked without the reset; the third after it does.
    authenticate("hans", "wrong-3", PasswordVerdict.INVALID_PASSWORD);
    authenticate("hans", "wrong-4", PasswordVerdict.INVALID_PASSWORD);
    authenticate("hans", "wrong-5", PasswordVerdict.BLOCKED_NOW);
  }

  @Test
  void shouldRefuseABlockedUsernameAtBothStepsEvenWithTheRightPassword() {
    blockHans();

    guard.tell(new CheckUsername("hans", usernameVerdicts.ref()));
    usernameVerdicts.expectMessage(UsernameVerdict.BLOCKED);
    authenticate("hans", HANS_PASSWORD, PasswordVerdict.BLOCKED);
    authenticate("hans", "wrong", PasswordVerdict.BLOCKED);
    // Whether a blocked user is online does not matter: the registry is not asked.
    registry.expectNoMessage();
  }

  @Test
  void shouldCountFailuresPerUsernameWhicheverConnectionAsks() {
    TestProbe<PasswordVerdict> firstConnection = testKit.createTestProbe();
    TestProbe<PasswordVerdict> secondConnection = testKit.createTestProbe();
    TestProbe<PasswordVerdict> thirdConnection = testKit.createTestProbe();

    guard.tell(new Authenticate("hans", "wrong-1", firstConnection.ref()));
    firstConnection.expectMessage(PasswordVerdict.INVALID_PASSWORD);
    guard.tell(new Authenticate("hans", "wrong-2", secondConnection.ref()));
    secondConnection.expectMessage(PasswordVerdict.INVALID_PASSWORD);
    guard.tell(new Authenticate("hans", "wrong-3", thirdConnection.ref()));
    thirdConnection.expectMessage(PasswordVerdict.BLOCKED_NOW);

    guard.tell(new Authenticate("hans", HANS_PASSWORD, firstConnection.ref()));
    firstConnection.expectMessage(PasswordVerdict.BLOCKED);
  }

  @Test
  void shouldLeaveOtherUsernamesUnaffected() {
    authenticate("hans", "wrong-1", PasswordVerdict.INVALID_PASSWORD);
    authenticate("hans", "wrong-2", PasswordVerdict.INVALID_PASSWORD);
    // yoda's failure does not add to hans's count, nor hans's to yoda's.
    authenticate("yoda", "wrong-1", PasswordVerdict.INVALID_PASSWORD);
    authenticate("yoda", "wrong-2", PasswordVerdict.INVALID_PASSWORD);
    authenticate("hans", "wrong-3", PasswordVerdict.BLOCKED_NOW);

    checkUsernameWhileOffline("yoda", UsernameVerdict.PASSWORD_REQUIRED);
    authenticate("yoda", YODA_PASSWORD, PasswordVerdict.AUTHENTICATED);
  }

  @Test
  void shouldLiftTheBlockAfterTheBlockDurationWithAFreshCount() {
    blockHans();

    manualTime.timePasses(BLOCK_DURATION.minusSeconds(1));
    authenticate("hans", HANS_PASSWORD, PasswordVerdict.BLOCKED);

    manualTime.timePasses(Duration.ofSeconds(1));
    checkUsernameWhileOffline("hans", UsernameVerdict.PASSWORD_REQUIRED);
    // The count starts again from zero: two failures are allowed, the third blocks again.
    authenticate("hans", "wrong-4", PasswordVerdict.INVALID_PASSWORD);
    authenticate("hans", "wrong-5", PasswordVerdict.INVALID_PASSWORD);
    authenticate("hans", HANS_PASSWORD, PasswordVerdict.AUTHENTICATED);
  }

  @Test
  void shouldBlockAgainAfterAnExpiredBlockOnlyOnAFullNewRunOfFailures() {
    blockHans();
    manualTime.timePasses(BLOCK_DURATION);

    authenticate("hans", "wrong-4", PasswordVerdict.INVALID_PASSWORD);
    authenticate("hans", "wrong-5", PasswordVerdict.INVALID_PASSWORD);
    authenticate("hans", "wrong-6", PasswordVerdict.BLOCKED_NOW);
  }

  @Test
  void shouldAskTheRegistryWhetherTheUserIsAlreadyOnline() {
    guard.tell(new CheckUsername("hans", usernameVerdicts.ref()));
    UserRegistry.IsOnline question = registry.expectMessageClass(UserRegistry.IsOnline.class);
    assertEquals("hans", question.username());
    question.replyTo().tell(new UserRegistry.OnlineStatus("hans", true));
    usernameVerdicts.expectMessage(UsernameVerdict.ALREADY_ONLINE);

    checkUsernameWhileOffline("hans", UsernameVerdict.PASSWORD_REQUIRED);
  }

  @Test
  void shouldAskForThePasswordWhenTheRegistryDoesNotAnswerInTime() {
    guard.tell(new CheckUsername("hans", usernameVerdicts.ref()));
    registry.expectMessageClass(UserRegistry.IsOnline.class);

    manualTime.timePasses(ASK_TIMEOUT.minusMillis(1));
    usernameVerdicts.expectNoMessage();

    // Registering the session is the decisive check, so a silent registry does not stop a login.
    manualTime.timePasses(Duration.ofMillis(1));
    usernameVerdicts.expectMessage(UsernameVerdict.PASSWORD_REQUIRED);
  }

  @Test
  void shouldNeverShowThePassword() {
    Authenticate authenticate = new Authenticate("hans", HANS_PASSWORD, passwordVerdicts.ref());
    assertFalse(authenticate.toString().contains(HANS_PASSWORD), authenticate.toString());

    LoggingTestKit.messageContains("wrong-secret")
        .withOccurrences(0)
        .expect(
            testKit.system(),
            () -> {
              authenticate("hans", "wrong-secret", PasswordVerdict.INVALID_PASSWORD);
              authenticate("hans", "wrong-secret", PasswordVerdict.INVALID_PASSWORD);
              authenticate("hans", "wrong-secret", PasswordVerdict.BLOCKED_NOW);
              return null;
            });
  }

  private void authenticate(String username, String password, PasswordVerdict expected) {
    guard.tell(new Authenticate(username, password, passwordVerdicts.ref()));
    passwordVerdicts.expectMessage(expected);
  }

  private void blockHans() {
    authenticate("hans", "wrong-1", PasswordVerdict.INVALID_PASSWORD);
    authenticate("hans", "wrong-2", PasswordVerdict.INVALID_PASSWORD);
    authenticate("hans", "wrong-3", PasswordVerdict.BLOCKED_NOW);
  }

  /** Step one for a user the registry reports offline. */
  private void checkUsernameWhileOffline(String username, UsernameVerdict expected) {
    guard.tell(new CheckUsername(username, usernameVerdicts.ref()));
    UserRegistry.IsOnline question = registry.expectMessageClass(UserRegistry.IsOnline.class);
    assertEquals(username, question.username());
    question.replyTo().tell(new UserRegistry.OnlineStatus(username, false));
    usernameVerdicts.expectMessage(expected);
  }
}
