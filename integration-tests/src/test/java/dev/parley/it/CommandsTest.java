package dev.parley.it;

import dev.parley.it.support.EndToEnd;
import dev.parley.it.support.HeadlessClient;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every command's errors (docs/protocol.md §4.4), checked in the stated order (syntax, unknown
 * user, self, blocked, then online/offline), and the presence rule for blocks (A4), over real TCP.
 */
class CommandsTest extends EndToEnd {

  private HeadlessClient hans;
  private HeadlessClient yoda;

  @BeforeEach
  void twoUsersOnline() {
    startServer();
    hans = login("hans");
    yoda = login("yoda");
    hans.expect("yoda logged in");
  }

  @Test
  void shouldAnswerSyntaxErrorsWithTheCommandsUsage() {
    hans.type("message").expect("Error. Usage: message <user> <message>");
    // Syntax is checked before the user: bob does not exist, but the text is missing first.
    hans.type("message bob").expect("Error. Usage: message <user> <message>");
    hans.type("broadcast").expect("Error. Usage: broadcast <message>");
    hans.type("whoelse now").expect("Error. Usage: whoelse");
    hans.type("whoelsesince").expect("Error. Usage: whoelsesince <time>");
    hans.type("block").expect("Error. Usage: block <user>");
    hans.type("block yoda luke").expect("Error. Usage: block <user>");
    hans.type("unblock").expect("Error. Usage: unblock <user>");
    hans.type("startprivate").expect("Error. Usage: startprivate <user>");
    hans.type("private yoda").expect("Error. Usage: private <user> <message>");
    hans.type("stopprivate").expect("Error. Usage: stopprivate <user>");
    hans.type("logout now").expect("Error. Usage: logout");
    hans.type("whatsthetime").expect("Error. Invalid command");
    hans.type("MESSAGE yoda hi").expect("Error. Invalid command");
  }

  @Test
  void shouldRejectATimeThatIsNotAWholeNumberOfSeconds() {
    hans.type("whoelsesince -1").expect("Error. Time must be a whole number of seconds, 0 or more");
    hans.type("whoelsesince soon")
        .expect("Error. Time must be a whole number of seconds, 0 or more");
    hans.type("whoelsesince 1.5")
        .expect("Error. Time must be a whole number of seconds, 0 or more");
    hans.type("whoelsesince 0").expect("yoda");
  }

  @Test
  void shouldCheckMessagesInTheStatedOrder() {
    hans.type("message bob hi").expect("Error. Invalid user");
    hans.type("message hans hi").expect("Error. Cannot message self");
    yoda.type("block hans").expect("hans is blocked");
    hans.type("message yoda hi")
        .expect("Your message could not be delivered as the recipient has blocked you");
    // Blocked comes before offline: the message is refused, not kept for yoda.
    logout(yoda);
    hans.type("message yoda still there?")
        .expect("Your message could not be delivered as the recipient has blocked you");
    HeadlessClient yodaAgain = login("yoda");
    yodaAgain.type("whoelse").expect("hans");
  }

  @Test
  void shouldAnswerBlockAndUnblockErrors() {
    hans.type("block bob").expect("Error. Invalid user");
    hans.type("block hans").expect("Error. Cannot block self");
    hans.type("block yoda").expect("yoda is blocked");
    hans.type("block yoda").expect("Error. yoda is already blocked");
    hans.type("unblock bob").expect("Error. Invalid user");
    hans.type("unblock hans").expect("Error. Cannot unblock self");
    hans.type("unblock luke").expect("Error. luke was not blocked");
    hans.type("unblock yoda").expect("yoda is unblocked");
    // The blocked user is not told.
    yoda.type("whoelse").expect("hans");
  }

  @Test
  void shouldKeepPresenceFromTheUsersOneHasBlocked() {
    HeadlessClient luke = login("luke");
    hans.expect("luke logged in");
    yoda.expect("luke logged in");
    luke.type("block yoda").expect("yoda is blocked");

    logout(luke);
    hans.expect("luke logged out");
    login("luke");
    hans.expect("luke logged in");
    // yoda heard neither: his next line is the answer to a later command.
    yoda.type("whoelse").expect("hans", "luke");
  }

  @Test
  void shouldSkipThoseWhoBlockedTheSenderInABroadcast() {
    HeadlessClient luke = login("luke");
    hans.expect("luke logged in");
    yoda.expect("luke logged in");
    hans.type("broadcast all well");
    yoda.expect("hans: all well");
    luke.expect("hans: all well");

    yoda.type("block hans").expect("hans is blocked");
    hans.type("broadcast anyone?").expect("Your message could not be delivered to some recipients");
    luke.expect("hans: anyone?");
    yoda.type("whoelse").expect("hans", "luke");
    yoda.type("unblock hans").expect("hans is unblocked");
    // A broadcast is never kept for users who are offline.
    logout(luke);
    hans.expect("luke logged out");
    yoda.expect("luke logged out");
    hans.type("broadcast gone?");
    yoda.expect("hans: gone?");
    login("luke").type("whoelse").expect("hans", "yoda");
  }

  @Test
  void shouldAnswerStartPrivateErrorsInTheStatedOrder() {
    hans.type("startprivate bob").expect("Error. Invalid user");
    hans.type("startprivate hans").expect("Error. Cannot start private messaging with self");
    hans.type("startprivate luke").expect("Error. luke is offline");
    yoda.type("block hans").expect("hans is blocked");
    hans.type("startprivate yoda")
        .expect("Error. Private messaging to yoda is not possible as yoda has blocked you");
    yoda.type("unblock hans").expect("hans is unblocked");
    hans.type("startprivate yoda").expect("Start private messaging with yoda");
    yoda.expect("hans started private messaging with you");
    hans.type("startprivate yoda").expect("Error. Private messaging with yoda is already enabled");
    hans.type("private bob hi").expect("Error. Private messaging to bob not enabled");
    hans.type("stopprivate luke").expect("Error. Private messaging to luke not enabled");
  }

  @Test
  void shouldStopAPrivateChatFromEitherSide() {
    hans.type("startprivate yoda").expect("Start private messaging with yoda");
    yoda.expect("hans started private messaging with you");
    yoda.type("stopprivate hans").expect("Stopped private messaging with hans");
    hans.expect("yoda stopped private messaging with you");
    hans.type("private yoda still there?").expect("Error. Private messaging to yoda not enabled");

    // The other way round, and the chat can be opened again.
    yoda.type("startprivate hans").expect("Start private messaging with hans");
    hans.expect("yoda started private messaging with you");
    hans.type("private yoda back again");
    yoda.expect("hans(private): back again");
    hans.type("stopprivate yoda").expect("Stopped private messaging with yoda");
    yoda.expect("hans stopped private messaging with you");
  }

  @Test
  void shouldKeepOrdinaryCommandsWorkingDuringAPrivateChat() {
    hans.type("startprivate yoda").expect("Start private messaging with yoda");
    yoda.expect("hans started private messaging with you");
    hans.type("private yoda psst", "message yoda hello", "whoelse");
    // Two connections, so no order between them: the private one is direct, the other via the
    // server.
    yoda.expectInAnyOrder("hans(private): psst", "hans: hello");
    hans.expect("yoda");
  }

  @Test
  void shouldTellThePeerWhenAClientIsKilled() {
    HeadlessClient luke = login("luke");
    hans.expect("luke logged in");
    yoda.expect("luke logged in");
    hans.type("startprivate luke").expect("Start private messaging with luke");
    luke.expect("hans started private messaging with you");

    luke.kill();

    hans.expectInAnyOrder("luke logged out", "Private messaging with luke closed: connection lost");
    yoda.expect("luke logged out");
    hans.type("private luke are you there?").expect("Error. Private messaging to luke not enabled");
  }
}
