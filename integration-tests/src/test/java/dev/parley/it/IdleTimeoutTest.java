package dev.parley.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.parley.it.support.EndToEnd;
import dev.parley.it.support.HeadlessClient;
import dev.parley.it.support.RawConnection;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The server-side idle timeout (SPEC A5): a user who sends nothing for the timeout is logged out by
 * the server's own timer, the others are told, private chats close, and the client exits. Nothing
 * here waits a fixed time: each test waits for the event, which the timer must bring.
 */
class IdleTimeoutTest extends EndToEnd {

  @Test
  void shouldLogOutAnIdleUserAndTellTheOthers() {
    startServer(Map.of("parley.server.idle-timeout", "2s"));
    HeadlessClient hans = login("hans");
    HeadlessClient yoda = login("yoda");
    hans.expect("yoda logged in");
    hans.type("startprivate yoda").expect("Start private messaging with yoda");
    yoda.expect("hans started private messaging with you");

    // hans stays silent from here on; yoda keeps talking to him, which does not count for hans.
    yoda.type("message hans are you there?");
    hans.expect("yoda: are you there?");
    hans.expect("You have been logged out due to inactivity");
    assertEquals(4, hans.exitStatus());
    yoda.expectInAnyOrder("hans logged out", "Private messaging with hans closed: hans timed out");
  }

  @Test
  void shouldCloseAHalfOpenConnectionThatFallsSilent() {
    startServer(Map.of("parley.server.idle-timeout", "1s", "parley.server.login-timeout", "1s"));
    // A connection that never logs in, and one that logs in and then vanishes without a word.
    try (RawConnection silent = new RawConnection(server);
        RawConnection vanished = RawConnection.login(server, "hans")) {
      silent.expect("{\"type\":\"goodbye\",\"reason\":\"timed-out\"}");
      silent.expectClosed();
      vanished.expect("{\"type\":\"goodbye\",\"reason\":\"timed-out\"}");
      vanished.expectClosed();
    }
  }
}
