package dev.parley.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.it.support.DroppingProxy;
import dev.parley.it.support.HeadlessClient;
import dev.parley.it.support.PackagedEndToEnd;
import dev.parley.it.support.RawConnection;
import dev.parley.it.support.TestServer;
import dev.parley.transport.TlsIdentity;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * A client that lost its network comes back into its own session. Before, the server kept the old
 * connection half-open until the idle timeout (ten minutes), and the user's own client was turned
 * away as {@code already-online} until then. Now the client presents the resumption token of its
 * login, takes the session over at once, and carries on from its last acknowledgement: nothing
 * lost, nothing shown twice, and the others see nothing. A token works once, and not after the
 * resumption window.
 */
class ResumptionIT extends PackagedEndToEnd {

  private static final String HELLO_V3 = "{\"type\":\"hello\",\"version\":3}";
  private static final Pattern ACCEPTED =
      Pattern.compile(
          "\\{\"type\":\"login-accepted\",\"username\":\"([a-z0-9]+)\",\"resumeToken\":\"([^\"]+)\"\\}");
  private static final String REFUSED =
      "{\"type\":\"login-failed\",\"reason\":\"resume-refused\",\"username\":\"hans\"}";

  @Test
  void shouldTakeTheSessionOverAfterANetworkDropWithNothingLostOrShownTwice() {
    // The server checks on a quiet client every second, so the client may give up a silent server
    // after 3 s without mistaking a live one for dead.
    startServer(
        List.of("-Dparley.server.heartbeat-interval=1s", "-Dparley.server.heartbeat-timeout=10s"),
        Map.of());
    DroppingProxy network = track(DroppingProxy.to(server.host(), server.port()));
    HeadlessClient yoda = login("yoda");
    HeadlessClient hans =
        track(
            HeadlessClient.connect(
                server.host(),
                network.port(),
                "hans",
                HeadlessClient.pinned(
                    server.fingerprint(), Map.of("parley.client.heartbeat-timeout", "3s"))));
    hans.type("hans", "falcon*solo").expect(HeadlessClient.WELCOME);
    yoda.expect("hans logged in");
    yoda.type("message hans one");
    hans.expect("yoda: one");

    network.blackhole();
    // Stored and sent to hans's old connection, which the server still holds open: lost on the way.
    yoda.type("message hans two", "message hans three");

    hans.expect("Lost connection to the server; reconnecting...");
    hans.expect("Reconnected to the server");
    // What the old connection was sent and never acknowledged comes again; what was shown does not.
    hans.expect("yoda: two", "yoda: three");
    yoda.type("message hans four");
    hans.expect("yoda: four");
    // The others never saw hans leave or come back.
    yoda.type("whoelse").expect("hans");
    assertEquals(List.of(), yoda.unread());
    String resumed = server.awaitLog("session resumed user=hans", Duration.ofSeconds(5));
    assertTrue(resumed.contains("tookOver=true"), resumed);
    hans.type("whoelse").expect("yoda");
    assertEquals(List.of(), hans.unread());
  }

  @Test
  void shouldLetATokenResumeOnceAndCloseTheConnectionItTookOver() {
    startServer();
    RawConnection first = track(new RawConnection(server.host(), server.port()));
    String token = logIn(first, "hans", "falcon*solo");

    RawConnection second = track(new RawConnection(server.host(), server.port()));
    String next = resume(second, "hans", token);
    first.expect("{\"type\":\"goodbye\",\"reason\":\"resumed\"}");
    first.expectClosed();
    second.send("{\"type\":\"whoelse\"}").expectReply("{\"type\":\"online-users\",\"users\":[]}");

    RawConnection replay = track(new RawConnection(server.host(), server.port()));
    replay.send(HELLO_V3).expectHello();
    replay.send(resumeFrame("hans", token)).expect(REFUSED);
    server.awaitLog("resumption refused user=hans", Duration.ofSeconds(5));
    // Refused, the replay may still try a password like anyone; the session it aimed at is intact.
    second.send("{\"type\":\"whoelse\"}").expectReply("{\"type\":\"online-users\",\"users\":[]}");
    // And the token handed out with the resumption works, once.
    RawConnection third = track(new RawConnection(server.host(), server.port()));
    resume(third, "hans", next);
    second.expect("{\"type\":\"goodbye\",\"reason\":\"resumed\"}");
  }

  @Test
  void shouldRefuseATokenOnceTheResumptionWindowHasPassed() throws Exception {
    Duration window = Duration.ofSeconds(2);
    startServer("-Dparley.server.resume-window=" + window.toSeconds() + "s");
    RawConnection first = new RawConnection(server.host(), server.port());
    String token = logIn(first, "hans", "falcon*solo");

    first.close();
    // The window runs from the logout the server records when it sees the connection end; once
    // that is in its log, waiting the window out is sure to pass its end.
    server.awaitLog("user logged out user=hans", Duration.ofSeconds(5));
    Thread.sleep(window.toMillis() + 100);

    RawConnection late = track(new RawConnection(server.host(), server.port()));
    late.send(HELLO_V3).expectHello();
    late.send(resumeFrame("hans", token)).expect(REFUSED);
    String refused = server.awaitLog("resumption refused user=hans", Duration.ofSeconds(5));
    assertTrue(refused.contains("reason=expired"), refused);
  }

  /**
   * A token is bound to the certificate of the connection it was given on: stolen (read off a
   * screen or a log, say), it is refused from a connection with another certificate or none, and
   * the client it belongs to can still resume with it.
   */
  @Test
  void shouldRefuseAStolenTokenFromAConnectionWithAnotherCertificate() {
    startServer();
    TlsIdentity owner = RawConnection.identity("hans's client");
    RawConnection first = track(RawConnection.as(Optional.of(owner), server.host(), server.port()));
    String token = logIn(first, "hans", "falcon*solo");

    for (Optional<TlsIdentity> thief :
        List.of(
            Optional.of(RawConnection.identity("a thief's client")),
            Optional.<TlsIdentity>empty())) {
      RawConnection stolen = track(RawConnection.as(thief, server.host(), server.port()));
      stolen.send(HELLO_V3).expectHello();
      stolen.send(resumeFrame("hans", token)).expect(REFUSED);
      String refused = server.awaitLog("resumption refused user=hans", Duration.ofSeconds(5));
      assertTrue(refused.contains("reason=wrong-certificate"), refused);
    }
    // The session the thief aimed at is intact, and its own client resumes with the token.
    first.send("{\"type\":\"whoelse\"}").expectReply("{\"type\":\"online-users\",\"users\":[]}");
    RawConnection back = track(RawConnection.as(Optional.of(owner), server.host(), server.port()));
    resume(back, "hans", token);
    first.expect("{\"type\":\"goodbye\",\"reason\":\"resumed\"}");
  }

  /**
   * A restart is not every user leaving and logging in again. The stop tells each client it is
   * shutting down, the clients resume after the next start, and nobody hears of anyone's departure
   * or return; that holds after a crash too. Someone who does not come back within the resumption
   * window is announced as gone once the window has passed, and only once.
   */
  @Test
  void shouldBringClientsBackFromARestartUnannouncedAndAnnounceWhoStaysAway() {
    Duration window = Duration.ofSeconds(6);
    startServer("-Dparley.server.resume-window=" + window.toSeconds() + "s");
    HeadlessClient yoda = returning("yoda");
    HeadlessClient hans = returning("hans");
    yoda.expect("hans logged in");
    RawConnection luke = track(new RawConnection(server.host(), server.port()));
    logIn(luke, "luke", TestServer.PASSWORDS.get("luke"));
    yoda.expect("luke logged in");
    hans.expect("luke logged in");

    server.stop();
    server.restartOnTheSamePort();
    for (HeadlessClient client : List.of(yoda, hans)) {
      // Nothing between the goodbye and the return, and next the news that luke has not come back.
      client.expect(
          "The server is shutting down. You have been logged out",
          "Lost connection to the server; reconnecting...",
          "Reconnected to the server",
          "luke logged out");
    }
    yoda.type("message hans back");
    hans.expect("yoda: back");

    server.kill();
    server.restartOnTheSamePort();
    for (HeadlessClient client : List.of(yoda, hans)) {
      client.expect("Lost connection to the server; reconnecting...", "Reconnected to the server");
    }
    // The window of the crash's sessions has passed: everyone it interrupted is back, and luke,
    // announced after the last restart, is not announced again.
    server.awaitLog(
        "sessions not resumed after the last stop count=0", window.plus(HeadlessClient.PATIENCE));
    yoda.type("whoelse").expect("hans");
    hans.type("whoelse").expect("yoda");
    assertEquals(List.of(), yoda.unread());
    assertEquals(List.of(), hans.unread());
  }

  /** A real client logged in as {@code user} that comes back quickly after losing the server. */
  private HeadlessClient returning(String user) {
    HeadlessClient client =
        track(
            HeadlessClient.connect(
                server.host(),
                server.port(),
                user,
                HeadlessClient.pinned(
                    server.fingerprint(), Map.of("parley.client.reconnect-backoff-max", "500ms"))));
    client.type(user, TestServer.PASSWORDS.get(user)).expect(HeadlessClient.WELCOME);
    return client;
  }

  /** Logs in with protocol 3 and returns the resumption token of the welcome. */
  private static String logIn(RawConnection connection, String user, String password) {
    connection.send(HELLO_V3).expectHello();
    connection.send("{\"type\":\"username\",\"username\":\"" + user + "\"}");
    connection.expect("{\"type\":\"password-required\",\"username\":\"" + user + "\"}");
    connection.send("{\"type\":\"password\",\"password\":\"" + password + "\",\"peerPort\":9}");
    return acceptedToken(connection, user);
  }

  /** Resumes on a new connection and returns the next token. */
  private static String resume(RawConnection connection, String user, String token) {
    connection.send(HELLO_V3).expectHello();
    connection.send(resumeFrame(user, token));
    return acceptedToken(connection, user);
  }

  private static String resumeFrame(String user, String token) {
    return "{\"type\":\"resume\",\"username\":\""
        + user
        + "\",\"token\":\""
        + token
        + "\",\"peerPort\":9}";
  }

  private static String acceptedToken(RawConnection connection, String user) {
    String line = connection.readLine();
    Matcher accepted = ACCEPTED.matcher(line == null ? "" : line);
    assertTrue(accepted.matches(), "not a welcome with a token: " + line);
    assertEquals(user, accepted.group(1));
    return accepted.group(2);
  }
}
