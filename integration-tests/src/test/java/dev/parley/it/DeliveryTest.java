package dev.parley.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.it.support.EndToEnd;
import dev.parley.it.support.HeadlessClient;
import dev.parley.it.support.RawConnection;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;

/**
 * Acknowledged delivery and durable state over real TCP: what a client has not acknowledged comes
 * again at its next login, a resend is not delivered twice, and accounts, blocks, history, lockouts
 * and undelivered messages survive a restart of the server.
 */
class DeliveryTest extends EndToEnd {

  @Test
  void shouldSendWhatWasNotAcknowledgedAgainAtTheNextLogin() {
    startServer();
    HeadlessClient hans = login("hans");
    // luke's client reads his messages but dies before acknowledging any of them.
    try (RawConnection luke = RawConnection.login(server, "luke")) {
      hans.expect("luke logged in");
      hans.type("message luke one", "message luke two");
      String first = luke.readLine();
      assertTrue(
          first.startsWith(
              "{\"type\":\"message-received\",\"from\":\"hans\",\"text\":\"one\",\"seq\":1,"),
          first);
    }
    hans.expect("luke logged out");

    HeadlessClient lukeAgain = login("luke");
    lukeAgain.expect("hans: one", "hans: two");
    hans.expect("luke logged in");
    // This client acknowledged them: the next login brings nothing more.
    logout(lukeAgain);
    hans.expect("luke logged out");
    HeadlessClient lukeOnceMore = login("luke");
    hans.type("message luke three");
    lukeOnceMore.expect("hans: three");
  }

  @Test
  void shouldDeliverAMessageSentTwiceWithTheSameIdOnce() {
    startServer();
    HeadlessClient luke = login("luke");
    try (RawConnection hans = RawConnection.login(server, "hans")) {
      luke.expect("hans logged in");
      String frame = "{\"type\":\"message\",\"to\":\"luke\",\"text\":\"only once\",\"id\":\"h-1\"}";
      hans.send(frame).expect("{\"type\":\"message-accepted\",\"id\":\"h-1\",\"stored\":false}");
      hans.send(frame).expect("{\"type\":\"message-accepted\",\"id\":\"h-1\",\"stored\":false}");
      hans.send("{\"type\":\"message\",\"to\":\"luke\",\"text\":\"next\",\"id\":\"h-2\"}")
          .expect("{\"type\":\"message-accepted\",\"id\":\"h-2\",\"stored\":false}");
      luke.expect("hans: only once", "hans: next");
    }
  }

  @Test
  void shouldKeepAccountsBlocksHistoryLockoutsAndMailboxesAcrossARestart() {
    startServer();
    HeadlessClient hans = login("hans");
    hans.type("block vader").expect("vader is blocked");
    hans.type("message luke kept for you", "message luke and this");
    hans.type("whoelse").expect("No other users are online");
    HeadlessClient r2d2 = login("r2d2");
    hans.expect("r2d2 logged in");
    logout(r2d2);
    hans.expect("r2d2 logged out");
    HeadlessClient yoda = connect("yoda");
    yoda.type("yoda", "x", "y", "z");
    yoda.expect(
        "Invalid Password. Please try again",
        "Invalid Password. Please try again",
        "Invalid Password. Your account has been blocked. Please try again later");
    assertEquals(1, yoda.exitStatus());

    server = server.restart();
    // hans's client was told the server is going down and comes back by itself; it is online again
    // before luke logs in, so that luke's next presence notice is vader's.
    hans.expect(
        "The server is shutting down. You have been logged out",
        "Lost connection to the server; reconnecting...",
        "Reconnected to the server");

    HeadlessClient luke = login("luke");
    luke.expect("hans: kept for you", "hans: and this");
    luke.type("whoelsesince 600").expect("hans", "r2d2");
    HeadlessClient vader = login("vader");
    luke.expect("vader logged in");
    vader
        .type("message hans still blocked?")
        .expect("Your message could not be delivered as the recipient has blocked you");
    HeadlessClient yodaAgain = connect("yoda");
    yodaAgain
        .type("yoda")
        .expect("Your account is blocked due to multiple login failures. Please try again later");
  }

  @Test
  void shouldWorkTheSameOnPostgresql() throws SQLException {
    startServer(postgresql());
    HeadlessClient hans = login("hans");
    hans.type("block vader").expect("vader is blocked");
    hans.type("message luke through postgresql", "whoelse").expect("No other users are online");

    server = server.restart();

    HeadlessClient luke = login("luke");
    luke.expect("hans: through postgresql");
    login("vader")
        .type("message hans hi?")
        .expect("Your message could not be delivered as the recipient has blocked you");
  }
}
