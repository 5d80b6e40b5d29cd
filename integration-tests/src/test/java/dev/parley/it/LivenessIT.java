package dev.parley.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.parley.it.support.HeadlessClient;
import dev.parley.it.support.PackagedEndToEnd;
import dev.parley.it.support.Program;
import dev.parley.it.support.RawConnection;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * What a connection learns before it logs in, and how the server notices a client that is gone
 * without closing its connection. Before: {@code already-online} came before the password, telling
 * anyone who was online; and a client stopped with SIGSTOP (or behind a dead network) kept its
 * session until the idle timeout, ten minutes, or for ever if its connection still took frames. Now
 * the answer comes only after the right password, and a client that answers nothing, not even
 * heartbeats, for {@code heartbeat-timeout} is closed and logged out, the others told.
 */
class LivenessIT extends PackagedEndToEnd {

  /** Heartbeats at test speed: a silent client is sent one each second, and dropped after 3 s. */
  private static final List<String> QUICK_HEARTBEATS =
      List.of("-Dparley.server.heartbeat-interval=1s", "-Dparley.server.heartbeat-timeout=3s");

  private static final String HELLO_V3 = "{\"type\":\"hello\",\"version\":3}";

  @Test
  void shouldSayAUserIsOnlineOnlyToTheRightPassword() {
    startServer();
    rawLogin("hans");

    // An online user and an offline one look the same up to the password.
    RawConnection probe = track(new RawConnection(server.host(), server.port()));
    probe.send(HELLO_V3).expectHello();
    probe.send("{\"type\":\"username\",\"username\":\"hans\"}");
    probe.expect("{\"type\":\"password-required\",\"username\":\"hans\"}");
    probe.send("{\"type\":\"password\",\"password\":\"guess\",\"peerPort\":9}");
    probe.expect(
        "{\"type\":\"login-failed\",\"reason\":\"invalid-password\",\"username\":\"hans\"}");
    probe.send("{\"type\":\"password\",\"password\":\"falcon*solo\",\"peerPort\":9}");
    probe.expect("{\"type\":\"login-failed\",\"reason\":\"already-online\",\"username\":\"hans\"}");

    probe.send("{\"type\":\"username\",\"username\":\"yoda\"}");
    probe.expect("{\"type\":\"password-required\",\"username\":\"yoda\"}");
  }

  @Test
  void shouldDropAStoppedClientAfterTheHeartbeatTimeoutTellTheOthersAndTakeItBackAfter() {
    startServer(QUICK_HEARTBEATS, Map.of());
    HeadlessClient yoda = login("yoda");
    Program hans =
        track(
            Program.start(
                "hans",
                Program.jar("parley.client.jar"),
                directory,
                List.of("-Duser.home=" + directory),
                Map.of("PARLEY_HOME", directory.resolve("hans-home").toString()),
                server.host(),
                String.valueOf(server.port()),
                "--trust-fingerprint",
                server.fingerprint().orElseThrow()));
    hans.type("hans", "falcon*solo").expect(HeadlessClient.WELCOME);
    yoda.expect("hans logged in");

    hans.signal("STOP");
    try {
      // Dropped within the timeout of its last sign of life (and a heartbeat's check): well within
      // the patience of an expectation, and nothing like the ten-minute idle timeout.
      yoda.expect("hans logged out");
      String dropped = server.awaitLog("client unresponsive, disconnected", Duration.ofSeconds(5));
      assertEquals(true, dropped.contains("user=hans"), dropped);
      yoda.type("whoelse").expect("No other users are online");
    } finally {
      hans.signal("CONT");
    }

    // Woken up, the client reads the goodbye, comes back on its own and resumes its session.
    hans.expect("The server heard nothing from this client for too long");
    hans.expect("Lost connection to the server; reconnecting...");
    hans.expect("Reconnected to the server");
    yoda.expect("hans logged in");
    yoda.type("message hans welcome back");
    hans.expect("yoda: welcome back");
    server.awaitLog("session resumed user=hans", Duration.ofSeconds(5));
  }
}
