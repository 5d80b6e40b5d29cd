package dev.parley.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.parley.it.support.EndToEnd;
import dev.parley.it.support.HeadlessClient;
import dev.parley.it.support.RawConnection;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The server-side idle timeout (docs/protocol.md §4.5): a user who sends nothing for the timeout is
 * logged out by the server's own timer, the others are told, private chats close, and the client
 * exits. Nothing here waits a fixed time or races the timer: each test waits for the event, which
 * the timer must bring, and a slow machine only makes it come later.
 */
class IdleTimeoutTest extends EndToEnd {

  private static final Duration PACE = Duration.ofMillis(200);

  @Test
  void shouldLogOutAnIdleUserAndTellTheOthers() throws InterruptedException {
    startServer(Map.of("parley.server.idle-timeout", "2s"));
    HeadlessClient hans = login("hans");
    HeadlessClient yoda = login("yoda");
    hans.expect("yoda logged in");
    hans.type("startprivate yoda").expect("Start private messaging with yoda");
    yoda.expect("hans started private messaging with you");

    // hans stays silent from here on while yoda keeps writing to him: were receiving messages
    // activity, hans would never time out. However slow the machine, the timeout must come.
    int sent = 0;
    String line;
    do {
      yoda.type("message hans are you there? " + ++sent);
      line = hans.nextLine();
      // A person's pace, well within the server's rate limit. Not a wait for anything: the loop
      // ends when the timeout comes, however long that takes.
      Thread.sleep(PACE.toMillis());
    } while (line.startsWith("yoda: are you there?"));
    assertEquals("You have been logged out due to inactivity", line);
    assertEquals(4, hans.exitStatus());
    yoda.expectInAnyOrder("hans logged out", "Private messaging with hans closed: hans timed out");
  }

  @Test
  void shouldCloseAConnectionThatNeverLogsIn() {
    startServer(Map.of("parley.server.login-timeout", "1s"));
    try (RawConnection silent = new RawConnection(server)) {
      silent.expect("{\"type\":\"goodbye\",\"reason\":\"timed-out\"}");
      silent.expectClosed();
    }
  }

  @Test
  void shouldCloseAHalfOpenConnectionThatFallsSilentAfterLoggingIn() {
    // The login has the default login timeout; the idle timer starts only once it is done.
    startServer(Map.of("parley.server.idle-timeout", "1s"));
    try (RawConnection vanished = RawConnection.login(server, "hans")) {
      vanished.expect("{\"type\":\"goodbye\",\"reason\":\"timed-out\"}");
      vanished.expectClosed();
    }
  }
}
