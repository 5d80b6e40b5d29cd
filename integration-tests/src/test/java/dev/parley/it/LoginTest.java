package dev.parley.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.it.support.EndToEnd;
import dev.parley.it.support.HeadlessClient;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Login over real TCP: prompts, retries, the lockout and its expiry, already-online refusal. */
class LoginTest extends EndToEnd {

  private static final String LOCKED_NOW =
      "Invalid Password. Your account has been blocked. Please try again later";
  private static final String STILL_BLOCKED =
      "Your account is blocked due to multiple login failures. Please try again later";

  @Test
  void shouldAskForTheUsernameAgainWhenItIsUnknown() {
    startServer();
    HeadlessClient client = connect("bob");

    client.type("bob").expect("Error. Unknown username bob. Please try again").awaitPrompts(2);
    client.type("hans", "falcon*solo").expect(HeadlessClient.WELCOME);

    assertEquals(List.of("Username: ", "Username: ", "Password: "), client.prompts());
  }

  @Test
  void shouldKeepTheUsernameAfterAWrongPassword() {
    startServer();
    HeadlessClient client = connect("hans");

    client.type("hans", "wrong").expect("Invalid Password. Please try again").awaitPrompts(3);
    client.type("falcon*solo").expect(HeadlessClient.WELCOME);

    assertEquals(List.of("Username: ", "Password: ", "Password: "), client.prompts());
  }

  @Test
  void shouldBlockTheAccountAfterThreeFailuresAcrossConnections() {
    startServer();
    HeadlessClient first = connect("hans-1");
    first.type("hans", "wrong1").expect("Invalid Password. Please try again");
    first.type("wrong2").expect("Invalid Password. Please try again");
    first.type("wrong3").expect(LOCKED_NOW);
    assertEquals(1, first.exitStatus());

    // Another connection, even with the right password, is refused while the block lasts.
    HeadlessClient second = connect("hans-2");
    second.type("hans").expect(STILL_BLOCKED);
    assertEquals(1, second.exitStatus());

    // The block belongs to hans alone.
    login("yoda");
  }

  @Test
  void shouldCountFailuresPerUsernameWhicheverConnectionTheyComeFrom() {
    startServer();
    HeadlessClient first = connect("hans-1");
    first.type("hans", "wrong1").expect("Invalid Password. Please try again");
    first.type("wrong2").expect("Invalid Password. Please try again");

    HeadlessClient second = connect("hans-2");
    second.type("hans", "wrong3").expect(LOCKED_NOW);
    assertEquals(1, second.exitStatus());
  }

  @Test
  void shouldLiftTheBlockAfterTheBlockDuration() throws Exception {
    // Long enough for the record of the block to be read before it expires, however loaded the
    // machine: the journal writes it within a commit of the third failure.
    startServer(Map.of("parley.server.block-duration", "3s"));
    HeadlessClient first = connect("hans-1");
    first.type("hans", "x", "y", "z");
    first.expect(
        "Invalid Password. Please try again", "Invalid Password. Please try again", LOCKED_NOW);
    // The server's own record of the block says until when it holds: the measure, rather than
    // this test's stopwatch, which a loaded machine can stretch at will.
    Instant blockedUntil = blockedUntil("hans");

    // Try until the server lets hans in again; every refusal before that says he is still blocked.
    HeadlessClient admitted = null;
    while (admitted == null) {
      HeadlessClient attempt = connect("hans-retry");
      attempt.type("hans");
      String answer = attempt.nextLineOrPrompts(2);
      if (answer == null) {
        admitted = attempt;
      } else {
        assertEquals(STILL_BLOCKED, answer);
        assertEquals(1, attempt.exitStatus());
      }
    }
    // Let in, so the block has expired: not before the time the server set for it.
    assertFalse(Instant.now().isBefore(blockedUntil), "admitted before " + blockedUntil);
    admitted.type("falcon*solo").expect(HeadlessClient.WELCOME);
  }

  /** When the store says the username's block ends (it is recorded as soon as it starts). */
  private Instant blockedUntil(String user) throws Exception {
    try (Connection c = server.store().dataSource().getConnection();
        PreparedStatement s =
            c.prepareStatement("SELECT blocked_until FROM accounts WHERE username = ?")) {
      s.setString(1, user);
      for (int attempt = 0; ; attempt++) {
        try (ResultSet rows = s.executeQuery()) {
          rows.next();
          OffsetDateTime until = rows.getObject(1, OffsetDateTime.class);
          if (until != null) {
            return until.toInstant();
          }
        }
        // The journal writes the block within a commit; poll for it, boundedly.
        assertTrue(attempt < 1000, "the block was never recorded");
        Thread.sleep(10);
      }
    }
  }

  @Test
  void shouldRefuseASecondLoginOfAnOnlineUserAndLeaveTheFirstAlone() {
    startServer();
    HeadlessClient hans = login("hans");

    HeadlessClient impostor = connect("hans-again");
    // Nothing about who is online before the right password: a wrong one is just wrong.
    impostor.type("hans", "guess").expect("Invalid Password. Please try again").awaitPrompts(3);
    impostor.type("falcon*solo").expect("Error. hans is already logged in elsewhere");
    impostor.awaitPrompts(4);

    hans.type("whoelse").expect("No other users are online");
    impostor.type("yoda", "wise@!man").expect(HeadlessClient.WELCOME);
    hans.expect("yoda logged in");
  }

  @Test
  void shouldDeliverKeptMessagesInOrderRightAfterTheWelcome() {
    startServer();
    HeadlessClient hans = login("hans");
    HeadlessClient yoda = login("yoda");
    hans.expect("yoda logged in");
    // Each user's commands are answered in order: once whoelse is, the messages before it are kept.
    hans.type("message luke one", "message luke two", "whoelse").expect("yoda");
    yoda.type("message luke three", "whoelse").expect("hans");
    hans.type("message luke four", "whoelse").expect("yoda");

    HeadlessClient luke = login("luke");
    luke.expect("hans: one", "hans: two", "yoda: three", "hans: four");
  }
}
