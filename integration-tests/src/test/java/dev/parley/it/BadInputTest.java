package dev.parley.it;

import dev.parley.it.support.EndToEnd;
import dev.parley.it.support.HeadlessClient;
import dev.parley.it.support.RawConnection;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Bad input is harmless: the offending connection gets an error frame or is closed, and a real
 * client logged in beside it carries on as if nothing happened.
 */
class BadInputTest extends EndToEnd {

  private HeadlessClient yoda;

  @BeforeEach
  void aBystander() {
    // A small frame limit, and the text limit it leaves room for (4 KiB of a frame are kept for
    // its other fields).
    startServer(
        Map.of(
            "parley.server.max-bad-frames", 5,
            "parley.server.max-frame-bytes", 8192,
            "parley.server.max-text-bytes", 4096));
    yoda = login("yoda");
  }

  private void bystanderCarriesOn() {
    yoda.type("whoelse").expect("No other users are online");
  }

  @Test
  void shouldAnswerInvalidJsonAndCarryOn() {
    try (RawConnection raw = RawConnection.login(server, "hans")) {
      yoda.expect("hans logged in");
      raw.send("this is not json")
          .expect(
              "{\"type\":\"error\",\"code\":\"malformed-frame\",\"subject\":\"a frame must be a"
                  + " JSON object\"}");
      raw.send("{\"type\":\"message\",\"to\":\"yoda\"}")
          .expect(
              "{\"type\":\"error\",\"code\":\"malformed-frame\",\"subject\":\"field 'text' is"
                  + " required\"}");
      raw.send("{\"type\":\"message\",\"to\":\"yoda\",\"text\":\"still here\"}")
          .expect("{\"type\":\"message-accepted\",\"stored\":false}");
      yoda.expect("hans: still here");
    }
    yoda.expect("hans logged out");
  }

  @Test
  void shouldAnswerAnUnknownFrameType() {
    try (RawConnection raw = RawConnection.login(server, "hans")) {
      yoda.expect("hans logged in");
      raw.send("{\"type\":\"shout\",\"text\":\"HI\"}")
          .expect("{\"type\":\"error\",\"code\":\"unknown-frame\",\"subject\":\"shout\"}");
      raw.send("{\"type\":\"whoelse\"}").expect("{\"type\":\"online-users\",\"users\":[\"yoda\"]}");
    }
    yoda.expect("hans logged out");
    bystanderCarriesOn();
  }

  @Test
  void shouldAnswerAFrameInTheWrongPhase() {
    try (RawConnection raw = new RawConnection(server)) {
      raw.send("{\"type\":\"whoelse\"}")
          .expect("{\"type\":\"error\",\"code\":\"unexpected-frame\",\"command\":\"whoelse\"}");
      raw.send("{\"type\":\"hello\",\"version\":2}")
          .expectHello();
      raw.send("{\"type\":\"message\",\"to\":\"yoda\",\"text\":\"before login\"}")
          .expect("{\"type\":\"error\",\"code\":\"unexpected-frame\",\"command\":\"message\"}");
    }
    bystanderCarriesOn();
  }

  @Test
  void shouldCloseAConnectionThatSendsAnOversizedFrame() {
    try (RawConnection raw = RawConnection.login(server, "hans")) {
      yoda.expect("hans logged in");
      raw.sendBytes(
          ("{\"type\":\"broadcast\",\"text\":\"" + "x".repeat(10_000) + "\"}\n")
              .getBytes(StandardCharsets.UTF_8));
      raw.expect("{\"type\":\"goodbye\",\"reason\":\"frame-too-long\"}");
      raw.expectClosed();
    }
    yoda.expect("hans logged out");
    bystanderCarriesOn();
  }

  @Test
  void shouldCloseAConnectionAfterTooManyBadFrames() {
    try (RawConnection raw = new RawConnection(server)) {
      for (int i = 1; i < 5; i++) {
        raw.send("{garbage " + i)
            .expect(
                "{\"type\":\"error\",\"code\":\"malformed-frame\",\"subject\":\"invalid JSON at"
                    + " column 2\"}");
      }
      raw.send("{garbage 5").expect("{\"type\":\"goodbye\",\"reason\":\"protocol-violation\"}");
      raw.expectClosed();
    }
    bystanderCarriesOn();
  }

  @Test
  void shouldRefuseAnotherProtocolVersion() {
    try (RawConnection raw = new RawConnection(server)) {
      raw.send("{\"type\":\"hello\",\"version\":99}")
          .expect("{\"type\":\"goodbye\",\"reason\":\"unsupported-version\"}");
      raw.expectClosed();
    }
    bystanderCarriesOn();
  }

  @Test
  void shouldLogOutAUserWhoseConnectionIsCutWithoutLogout() {
    RawConnection raw = RawConnection.login(server, "hans");
    yoda.expect("hans logged in");
    raw.close();
    yoda.expect("hans logged out");
    // hans can log in again at once: the old session is gone.
    login("hans");
    yoda.expect("hans logged in");
  }

  @Test
  void shouldDisconnectAClientTooSlowToReadItsMessages() {
    server.close();
    startServer(Map.of("parley.server.outbound-buffer", 8));
    yoda = login("yoda");
    // hans logs in and then never reads: frames for him pile up until his queue overflows.
    try (RawConnection slow = RawConnection.login(server, "hans")) {
      yoda.expect("hans logged in");
      String big = "y".repeat(60_000);
      for (int i = 0; i < 200; i++) {
        yoda.type("message hans " + big);
      }
      yoda.type("whoelse");
      // The server cut hans off instead of buffering for him; yoda was never slowed down.
      String line = yoda.nextLine();
      while (!line.equals("hans logged out")) {
        line = yoda.nextLine();
      }
    }
    bystanderCarriesOn();
  }
}
