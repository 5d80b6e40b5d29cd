package dev.parley.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.it.support.HeadlessClient;
import dev.parley.it.support.PackagedEndToEnd;
import dev.parley.it.support.Program;
import dev.parley.it.support.ServerProcess;
import dev.parley.it.support.TestServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A client given two servers ({@code bin/parley HOST:PORT,HOST:PORT}) carries on on the second when
 * the first dies. The two packaged standalone servers share nothing (each its own data directory,
 * its own certificate): the client meets the second for the first time when it reconnects, trusts
 * it on first use as it did the first, and logs in there with its password, since the second has
 * never seen its resumption token.
 */
class FailoverIT extends PackagedEndToEnd {

  @Test
  void shouldReconnectToTheSecondServerWhenTheFirstIsKilled() throws IOException {
    ServerProcess first =
        track(ServerProcess.start(Files.createDirectory(directory.resolve("one"))));
    ServerProcess second =
        track(ServerProcess.start(Files.createDirectory(directory.resolve("two"))));
    Path clientHome = directory.resolve("hans-home");
    Program hans =
        track(
            Program.script(
                "hans",
                "parley",
                directory,
                Map.of(Program.PARLEY_HOME, clientHome.toString()),
                first.host() + ":" + first.port() + "," + second.host() + ":" + second.port()));
    hans.expectFirstUse(first.host(), first.port());
    hans.type("hans", TestServer.PASSWORDS.get("hans")).expect(HeadlessClient.WELCOME);
    HeadlessClient yoda =
        track(
            HeadlessClient.login(
                second.host(),
                second.port(),
                second.fingerprint(),
                "yoda",
                TestServer.PASSWORDS.get("yoda")));

    first.kill();

    hans.expect("Lost connection to the server; reconnecting...");
    // A server met for the first time, trusted and recorded as the first one was.
    hans.expectFirstUse(second.host(), second.port());
    hans.expect("Reconnected to the server");
    yoda.expect("hans logged in");
    hans.type("message yoda made it across");
    yoda.expect("hans: made it across");
    yoda.type("message hans welcome over here");
    hans.expect("yoda: welcome over here");
    hans.type("logout").expect("You are logged out");
    assertEquals(0, hans.exitStatus(), hans::transcript);
    // Trust is per server: one line for each met.
    String known = Files.readString(clientHome.resolve("known_servers"));
    assertTrue(known.contains(first.host() + ":" + first.port() + " "), known);
    assertTrue(known.contains(second.host() + ":" + second.port() + " "), known);
  }
}
