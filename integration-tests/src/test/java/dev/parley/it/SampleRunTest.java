package dev.parley.it;

import dev.parley.it.support.HeadlessClient;
import dev.parley.it.support.MutableClock;
import dev.parley.it.support.TestServer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The reference sample run ({@link SampleRun}) with five real clients in this JVM against a real
 * server over loopback, each client pinned to the server's certificate.
 */
class SampleRunTest {

  private final List<HeadlessClient> clients = new ArrayList<>();
  private TestServer server;

  @AfterEach
  void stop() {
    clients.forEach(HeadlessClient::close);
    if (server != null) {
      server.close();
    }
  }

  @Test
  void shouldReplayTheReferenceSampleRun() {
    MutableClock clock = new MutableClock(Instant.parse("2026-01-01T12:00:00Z"));
    server = TestServer.start(Map.of(), clock);
    SampleRun.replay(clock, this::login);
  }

  private HeadlessClient login(String user) {
    HeadlessClient client = HeadlessClient.login(server, user);
    clients.add(client);
    return client;
  }
}
