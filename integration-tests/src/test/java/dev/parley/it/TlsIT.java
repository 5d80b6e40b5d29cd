package dev.parley.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.it.support.HeadlessClient;
import dev.parley.it.support.PackagedEndToEnd;
import dev.parley.it.support.Program;
import dev.parley.it.support.RawConnection;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * TLS as people meet it: the packaged server with its defaults (a self-signed certificate made on
 * its first start), and packaged clients started with nothing but the server's host and port, each
 * with its own {@code PARLEY_HOME}.
 */
class TlsIT extends PackagedEndToEnd {

  /**
   * A client trusts a server it has not met on first use, says so in one line with the fingerprint
   * the server logged, and records it; the next start says nothing and logs straight in. Everything
   * between them goes over TLS: the server closes a plain TCP hello without a word.
   */
  @Test
  void shouldLogInAndChatOverTlsTrustingANewServerOnFirstUse() throws IOException {
    startServer();
    String fingerprint = server.fingerprint().orElseThrow();

    Program hans = client("hans");
    assertEquals(fingerprint, hans.expectFirstUse(server.host(), server.port()));
    hans.type("hans", "falcon*solo").expect(HeadlessClient.WELCOME);
    Program yoda = client("yoda");
    assertEquals(fingerprint, yoda.expectFirstUse(server.host(), server.port()));
    yoda.type("yoda", "wise@!man").expect(HeadlessClient.WELCOME);
    hans.expect("yoda logged in");
    yoda.type("message hans Hey Dude");
    hans.expect("yoda: Hey Dude");
    hans.type("logout").expect("You are logged out");
    assertEquals(0, hans.exitStatus());

    String known = Files.readString(home("hans").resolve("known_servers"));
    assertTrue(known.contains(server.host() + ":" + server.port()), known);
    assertTrue(known.contains(fingerprint), known);

    Program again = client("hans");
    again.type("hans", "falcon*solo").expect(HeadlessClient.WELCOME);
    again.type("logout").expect("You are logged out");
    assertEquals(0, again.exitStatus());
    yoda.expect("hans logged out", "hans logged in", "hans logged out");

    RawConnection plain = track(RawConnection.plaintext(server.host(), server.port()));
    plain.send("{\"type\":\"hello\",\"version\":3}");
    // Closed, after at most TLS's alert (which a plain client cannot read as a frame).
    String answer = plain.awaitEnd();
    assertFalse(answer.contains("{"), "a plain connection got a protocol frame: " + answer);
    yoda.type("whoelse").expect("No other users are online");
  }

  /**
   * A server met before that presents another certificate at the same address (reinstalled, or
   * someone in the middle) is refused before anything is sent: the client says why, with both
   * fingerprints and the line to remove if the change is expected, and exits with status 5.
   */
  @Test
  void shouldRefuseAKnownServerWhoseCertificateChanged() throws IOException {
    startServer();
    String before = server.fingerprint().orElseThrow();
    Program hans = client("hans");
    hans.expectFirstUse(server.host(), server.port());
    hans.type("hans", "falcon*solo").expect(HeadlessClient.WELCOME);
    hans.type("logout").expect("You are logged out");
    assertEquals(0, hans.exitStatus());

    server.stop();
    // A new certificate: the server makes one when its data directory has none.
    deleteRecursively(server.directory().resolve("data").resolve("tls"));
    server.restartOnTheSamePort();
    String after = server.fingerprint().orElseThrow();
    assertFalse(before.equals(after), "the restarted server kept its certificate");

    Program refused = client("hans");
    String error = refused.stdout().nextLine(HeadlessClient.PATIENCE);
    assertTrue(
        error.startsWith(
            "Error. The certificate of the server at "
                + server.host()
                + ":"
                + server.port()
                + " has changed"),
        error);
    assertTrue(error.contains(before) && error.contains(after), error);
    assertTrue(error.contains("nothing was sent to it"), error);
    assertEquals(5, refused.exitStatus());
    // The server saw a handshake fail, and no frame at all from that connection.
    server.awaitLog("TLS failed", HeadlessClient.PATIENCE);
    assertFalse(
        server.program().stdout().transcript().contains("user logged in user=hans"),
        server.program().stdout().transcript());
  }

  private Program client(String name) {
    return track(
        Program.start(
            name,
            Program.jar("parley.client.jar"),
            directory,
            List.of(),
            java.util.Map.of(Program.PARLEY_HOME, home(name).toString()),
            server.host(),
            String.valueOf(server.port())));
  }

  private Path home(String name) {
    return directory.resolve(name + "-home");
  }

  private static void deleteRecursively(Path directory) throws IOException {
    try (Stream<Path> paths = Files.walk(directory)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(path);
      }
    }
  }
}
