package dev.parley.it;

import static dev.parley.it.support.Timing.promptly;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.parley.it.support.HeadlessClient;
import dev.parley.it.support.PackagedEndToEnd;
import dev.parley.it.support.Program;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Admin commands on a running server. {@code bin/parley-server user passwd} and {@code user remove}
 * changed the store, but the running server went on with what it had loaded: a user locked out by
 * someone guessing their password stayed locked out after the administrator gave them a new one,
 * and a removed user stayed online and could be written to.
 *
 * <p>Now the admin command line leaves an account event that the server reads every {@code
 * account-poll-interval} (1 s). Shown with the packaged server and the admin command as a second
 * process on the same data directory: within a couple of seconds of {@code user passwd hans}, hans,
 * locked out, logs in with the new password; on {@code user remove luke}, luke's client shows that
 * the account was removed and exits, the others see luke log out, and a message to luke is refused
 * as to no such user.
 */
class AdminOnRunningServerIT extends PackagedEndToEnd {

  /** The poll interval, and the time to act on what it read. */
  private static final Duration TAKES_EFFECT = Duration.ofSeconds(3);

  @Test
  void shouldLetALockedOutUserInWithTheNewPasswordSetWhileTheServerRuns() {
    startServer();
    HeadlessClient yoda = login("yoda");
    HeadlessClient hans = connect("hans");
    hans.type("hans", "guess-1", "guess-2", "guess-3");
    hans.expect(
        "Invalid Password. Please try again",
        "Invalid Password. Please try again",
        "Invalid Password. Your account has been blocked. Please try again later");
    assertEquals(1, hans.exitStatus());

    Program passwd = track(server.admin("user", "passwd", "hans"));
    passwd.type("a-new-password");
    passwd.endInput();
    passwd.expect("password set for hans");
    assertEquals(0, passwd.exitStatus(), passwd.stderr()::transcript);
    promptly(
        "lifting the lockout",
        () -> server.awaitLog("login block lifted by an administrator user=hans", TAKES_EFFECT));

    login("hans", "a-new-password");
    yoda.expect("hans logged in");
    promptly("yoda's whoelse", () -> yoda.type("whoelse").expect("hans"));
  }

  @Test
  void shouldCloseTheSessionOfAnAccountRemovedWhileItIsOnline() {
    startServer();
    HeadlessClient luke = login("luke");
    HeadlessClient yoda = login("yoda");
    HeadlessClient vader = login("vader");
    luke.expect("yoda logged in", "vader logged in");
    yoda.expect("vader logged in");

    Program remove = track(server.admin("user", "remove", "luke"));
    remove.expect("removed luke");
    assertEquals(0, remove.exitStatus(), remove.stderr()::transcript);
    promptly(
        "luke's removal",
        () -> luke.expect("Your account has been removed. You have been logged out"));
    assertEquals(1, luke.exitStatus(), luke::transcript);
    yoda.expect("luke logged out");
    vader.expect("luke logged out");

    yoda.type("message luke are you there?").expect("Error. Invalid user");
    promptly("vader's whoelse", () -> vader.type("whoelse").expect("yoda"));
    connect("luke").type("luke").expect("Error. Unknown username luke. Please try again");
  }
}
