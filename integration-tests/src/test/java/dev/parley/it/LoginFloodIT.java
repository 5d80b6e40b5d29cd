package dev.parley.it;

import static dev.parley.it.support.Timing.promptly;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.it.support.HeadlessClient;
import dev.parley.it.support.PackagedEndToEnd;
import dev.parley.it.support.RawConnection;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A login flood from one address. Anyone who can reach the port could open connections and try
 * logins as fast as the network allowed, holding the server's connection slots and its account
 * lookups and password hashing, so that other people could not log in.
 *
 * <p>Now every address has its own budget: new connections ({@code limits.connections}, 5 a second,
 * bursts of 30), connections open at once ({@code limits.max-connections-per-address}, 64) and
 * login steps ({@code limits.login-attempts}, 2 a second, bursts of 20). Shown against the packaged
 * server with the loopback range no longer exempt ({@code limits.exempt = []} in a {@code --config}
 * file): the attacker, from 127.0.0.2 (on Linux all of 127.0.0.0/8 is this machine), has its extra
 * connections closed before their TLS handshake (a goodbye would first cost the server the
 * handshake the limit is there to spare it) and gets {@code error rate-limited} on its extra login
 * steps, while users of the real client, from 127.0.0.1, log in and chat as usual. (The real client
 * cannot choose its local address, so the attacker, a raw socket, is the one that moves to another
 * address.)
 */
class LoginFloodIT extends PackagedEndToEnd {

  private static final String HELLO = "{\"type\":\"hello\",\"version\":2}";

  @Test
  void shouldRefuseExtraConnectionsAndLoginStepsFromOneAddressAndLetOthersIn() throws Exception {
    startServer(List.of(), Map.of(), "--config", config("").toString());
    InetAddress attacker = InetAddress.getByName("127.0.0.2");

    // 100 connections at once: a burst of them is let in, the rest are turned away.
    long start = System.nanoTime();
    List<RawConnection> admitted = new ArrayList<>();
    int refused = 0;
    for (RawConnection connection : open(attacker, 100)) {
      if (connection == null) {
        refused++;
      } else {
        assertTrue(connection.readLine().startsWith(RawConnection.SERVER_HELLO));
        admitted.add(connection);
      }
    }
    int allowed = 30 + (int) (5 * seconds(start)) + 1;
    assertTrue(
        admitted.size() >= 30 && admitted.size() <= allowed,
        admitted.size() + " connections admitted, more than the burst and the rate allow");
    assertEquals(100, admitted.size() + refused);

    // A user from another address logs in meanwhile.
    HeadlessClient yoda = login("yoda");

    // Login steps on the admitted connections: one to the password step, then guesses.
    RawConnection guesser = admitted.get(0);
    guesser.send("{\"type\":\"username\",\"username\":\"vader\"}");
    guesser.expect("{\"type\":\"password-required\",\"username\":\"vader\"}");
    start = System.nanoTime();
    int answered = 0;
    int limited = 0;
    for (int i = 1; i < admitted.size(); i++) {
      for (int k = 1; k <= 2; k++) {
        String name = "guess-" + i + "-" + k;
        String reply =
            admitted
                .get(i)
                .send("{\"type\":\"username\",\"username\":\"" + name + "\"}")
                .readLine();
        if (reply.equals(
            "{\"type\":\"login-failed\",\"reason\":\"unknown-user\",\"username\":\""
                + name
                + "\"}")) {
          answered++;
        } else {
          assertEquals(
              "{\"type\":\"error\",\"code\":\"rate-limited\",\"command\":\"username\"}", reply);
          limited++;
        }
      }
    }
    // The budget is spent: a password step is refused too. (Unless a token came back just then,
    // every half second: that one is spent on a wrong password, and the next step is refused.)
    String passwordRefused =
        "{\"type\":\"error\",\"code\":\"rate-limited\",\"command\":\"password\"}";
    String reply =
        guesser.send("{\"type\":\"password\",\"password\":\"guess\",\"peerPort\":9}").readLine();
    if (!reply.equals(passwordRefused)) {
      assertEquals(
          "{\"type\":\"login-failed\",\"reason\":\"invalid-password\",\"username\":\"vader\"}",
          reply);
      guesser
          .send("{\"type\":\"password\",\"password\":\"guess\",\"peerPort\":9}")
          .expect(passwordRefused);
    }
    assertTrue(
        answered <= 20 + (int) (2 * seconds(start)) + 1,
        answered + " login steps answered, more than the burst and the rate allow");
    assertTrue(limited > 0, "no login step was refused");

    // Meanwhile, from 127.0.0.1, users log in and chat as usual.
    HeadlessClient luke = login("luke");
    yoda.expect("luke logged in");
    promptly(
        "yoda's message to luke",
        () -> {
          yoda.type("message luke hello from next door");
          luke.expect("yoda: hello from next door");
        });
    promptly("luke's whoelse", () -> luke.type("whoelse").expect("yoda"));
  }

  @Test
  void shouldRefuseConnectionsFromOneAddressPastItsLimitOfOpenOnes() throws Exception {
    // A connection rate high enough for the open-connection limit to be the one that refuses.
    startServer(
        List.of(),
        Map.of(),
        "--config",
        config("parley.server.limits.connections { per-second = 1000, burst = 1000 }\n")
            .toString());
    InetAddress attacker = InetAddress.getByName("127.0.0.2");

    List<RawConnection> admitted = new ArrayList<>();
    for (RawConnection connection : open(attacker, 100)) {
      if (connection != null) {
        assertTrue(connection.readLine().startsWith(RawConnection.SERVER_HELLO));
        admitted.add(connection);
      }
    }
    assertEquals(64, admitted.size(), "connections admitted from one address");

    // With 64 connections from 127.0.0.2 open, users from 127.0.0.1 log in and chat.
    HeadlessClient yoda = login("yoda");
    HeadlessClient luke = login("luke");
    yoda.expect("luke logged in");
    promptly(
        "luke's message to yoda",
        () -> {
          luke.type("message yoda all quiet here");
          yoda.expect("luke: all quiet here");
        });

    // One closed, one more may open (once the server has seen it close).
    admitted.get(0).close();
    long deadline = System.nanoTime() + HeadlessClient.PATIENCE.toNanos();
    while (true) {
      RawConnection again = open(attacker, 1).get(0);
      if (again != null && again.readLine().startsWith(RawConnection.SERVER_HELLO)) {
        break;
      }
      assertTrue(System.nanoTime() < deadline, "no room for a new connection after one closed");
      Thread.sleep(20);
    }
  }

  /**
   * Opens {@code count} connections from {@code local}; each one the server lets through its
   * handshake sends its hello at once, each one it closes instead is null.
   */
  private List<RawConnection> open(InetAddress local, int count) {
    List<RawConnection> connections = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      RawConnection connection = track(new RawConnection(local, server.host(), server.port()));
      connections.add(connection.handshake() ? connection.send(HELLO) : null);
    }
    return connections;
  }

  /** A --config file that takes loopback out of the exempt addresses, with {@code more} in it. */
  private Path config(String more) throws IOException {
    return Files.writeString(
        directory.resolve("limits.conf"), "parley.server.limits.exempt = []\n" + more);
  }

  private static double seconds(long since) {
    return Duration.ofNanos(System.nanoTime() - since).toMillis() / 1000.0;
  }
}
