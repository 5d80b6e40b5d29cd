package dev.parley.it;

import dev.parley.it.support.HeadlessClient;
import dev.parley.it.support.MutableClock;
import dev.parley.it.support.Program;
import dev.parley.it.support.TestServer;
import dev.parley.it.support.Typist;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reference sample run ({@link SampleRun}) as a user runs it: every client is {@code bin/parley
 * 127.0.0.1 PORT} and nothing else, over the server's default TLS with the certificate it made for
 * itself. Each user's client has its own {@code PARLEY_HOME}, so it trusts the server on its first
 * start, in one line, and silently afterwards. The server runs in this JVM so that its clock can be
 * moved, as the run assumes.
 */
class SampleRunOverTlsIT {

  @TempDir Path directory;

  private final List<Program> clients = new ArrayList<>();
  private final Set<String> metTheServer = new HashSet<>();
  private TestServer server;

  @AfterEach
  void stop() {
    clients.forEach(Program::close);
    if (server != null) {
      server.close();
    }
  }

  @Test
  void shouldReplayTheReferenceSampleRunOverTheDefaultTls() {
    MutableClock clock = new MutableClock(Instant.parse("2026-01-01T12:00:00Z"));
    server = TestServer.start(Map.of(), clock);
    SampleRun.replay(clock, this::login);
  }

  private Typist login(String user) {
    Program client =
        Program.script(
            user,
            "parley",
            directory,
            Map.of(Program.PARLEY_HOME, directory.resolve(user + "-home").toString()),
            server.host(),
            String.valueOf(server.port()));
    clients.add(client);
    if (metTheServer.add(user)) {
      client.expectFirstUse(server.host(), server.port());
    }
    client.type(user, TestServer.PASSWORDS.get(user)).expect(HeadlessClient.WELCOME);
    return client;
  }
}
