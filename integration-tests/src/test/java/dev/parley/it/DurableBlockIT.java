package dev.parley.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.parley.it.support.HeadlessClient;
import dev.parley.it.support.PackagedEndToEnd;
import org.junit.jupiter.api.Test;

/**
 * {@code kill -9} right after a confirmation. A {@code block} used to be confirmed before it was
 * stored, and acknowledgements and logouts were stored some time after: a server killed in between
 * came back without the block (the blocked user could write again) or with the messages the user
 * had seen still waiting (shown again at the next login).
 *
 * <p>Now a block is confirmed, and a logout answered with its goodbye, only once stored, with every
 * acknowledgement before it. Shown against the packaged server, killed with SIGKILL the moment the
 * real client shows the confirmation and started again on the same data: the block holds, and the
 * messages seen before the logout are not shown again.
 */
class DurableBlockIT extends PackagedEndToEnd {

  @Test
  void shouldKeepABlockConfirmedJustBeforeTheServerIsKilled() {
    startServer();
    HeadlessClient luke = login("luke");
    HeadlessClient hans = login("hans");
    luke.expect("hans logged in");

    luke.type("block hans").expect("hans is blocked");
    server.kill();
    // The clients would reconnect by themselves; fresh ones make the point without waiting.
    luke.kill();
    hans.kill();
    server.restart();

    HeadlessClient hansAgain = login("hans");
    hansAgain
        .type("message luke let me in")
        .expect("Your message could not be delivered as the recipient has blocked you");
    HeadlessClient lukeAgain = login("luke");
    lukeAgain.type("unblock hans").expect("hans is unblocked");
  }

  @Test
  void shouldNotShowMessagesAgainThatWereSeenBeforeALogoutJustBeforeTheServerIsKilled() {
    startServer();
    HeadlessClient luke = login("luke");
    HeadlessClient yoda = login("yoda");
    luke.expect("yoda logged in");
    yoda.type("message luke one", "message luke two", "message luke three");
    luke.expect("yoda: one", "yoda: two", "yoda: three");

    luke.type("logout").expect("You are logged out");
    server.kill();
    assertEquals(0, luke.exitStatus(), luke::transcript);
    yoda.kill();
    server.restart();

    HeadlessClient lukeAgain = login("luke");
    HeadlessClient yodaAgain = login("yoda");
    lukeAgain.expect("yoda logged in");
    yodaAgain.type("message luke four");
    // Nothing came back before it: the acknowledgements were stored before the goodbye.
    lukeAgain.expect("yoda: four");
  }
}
