package dev.parley.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.bench.client.Fleet;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The generator waits for the server to get quiet after the logins before it measures, and the
 * server's heartbeats do not hold that wait up. A silent user hears a heartbeat every interval for
 * as long as it is connected: counted as traffic, 2,000 users whose logins took longer than one
 * interval kept the wait going to its 60 s bound, in two of three reconnect storms.
 */
class AwaitQuietTest {

  private static final int USERS = 2;

  /** Heartbeats far more often than the silence waited for: never quiet, if they counted. */
  private static final Map<String, String> FREQUENT_HEARTBEATS =
      Map.of("heartbeat-interval", "50ms", "heartbeat-timeout", "1s");

  private static final Duration SILENCE = Duration.ofMillis(1_500);
  private static final Duration AT_MOST = Duration.ofSeconds(20);

  @TempDir Path dir;

  @Test
  void shouldGetQuietWhileTheServerGoesOnSendingHeartbeats() throws Exception {
    Path credentials = dir.resolve("accounts.txt");
    Credentials.write(credentials, "quiet", "quiet-pw", USERS);
    try (BenchTestServer server =
            BenchTestServer.startPlaintext(dir.resolve("data"), credentials, FREQUENT_HEARTBEATS);
        Fleet fleet =
            Fleet.start(
                new Fleet.Settings(
                    new InetSocketAddress(InetAddress.getLoopbackAddress(), server.port()),
                    Optional.empty(),
                    "quiet",
                    "quiet-pw",
                    USERS,
                    1,
                    USERS,
                    64 * 1024 + 1,
                    16,
                    Duration.ZERO))) {
      assertEquals(USERS, fleet.logIn(() -> {}).loggedIn());

      assertTrue(fleet.awaitQuiet(SILENCE, AT_MOST), "quiet within " + AT_MOST);

      // The users sent nothing but answers to heartbeats for longer than the heartbeat timeout:
      // they are still connected only because the heartbeats went on all along.
      assertEquals(0, fleet.disconnects(), () -> fleet.disconnectReasons().toString());
      assertEquals(USERS, fleet.loggedInCount());
    }
  }
}
