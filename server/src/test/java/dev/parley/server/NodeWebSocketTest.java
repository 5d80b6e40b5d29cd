package dev.parley.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.server.testing.LogCapturingExtension;
import dev.parley.server.testing.TestNode;
import dev.parley.server.testing.Wire;
import dev.parley.server.testing.Wire.Transport;
import dev.parley.server.testing.Wire.WebSocketWire;
import java.net.InetSocketAddress;
import java.net.http.WebSocketHandshakeException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * What is particular to {@code /ws} on a node: users of both transports reach each other, its
 * sessions count against the same limits and are drained with the TCP ones, and pages of other
 * sites are refused. {@link TransportsTest} runs the protocol's flows over both.
 */
@ExtendWith(LogCapturingExtension.class)
class NodeWebSocketTest {

  private static final int FORBIDDEN = 403;

  private static final Map<String, String> ACCOUNTS = Map.of("alice", "alice-pw", "bob", "bob-pw");

  @TempDir Path dir;

  private TestNode node;

  @AfterEach
  void stop() throws Exception {
    if (node != null) {
      node.close();
    }
  }

  @Test
  void shouldCarryMessagesBetweenTcpAndWebSocketUsers() throws Exception {
    node = TestNode.start(dir, ACCOUNTS, "");
    try (Wire alice = node.connect(Transport.TCP);
        Wire bob = node.connect(Transport.WEBSOCKET)) {
      alice.login("alice", "alice-pw");
      bob.login("bob", "bob-pw");
      String metrics = node.metrics();
      assertTrue(
          metrics.contains("parley_sessions{phase=\"active\",transport=\"tcp\"} 1.0"), metrics);
      assertTrue(
          metrics.contains("parley_sessions{phase=\"active\",transport=\"websocket\"} 1.0"),
          metrics);

      alice.send("{\"type\":\"message\",\"to\":\"bob\",\"text\":\"over tcp\",\"id\":\"a1\"}");
      alice.await("message-accepted");
      assertEquals(
          "{\"type\":\"message-received\",\"from\":\"alice\",\"text\":\"over tcp\",\"seq\":1,"
              + "\"id\":\"a1\"}",
          bob.await("message-received"));

      bob.send("{\"type\":\"message\",\"to\":\"alice\",\"text\":\"over websocket\",\"id\":\"b1\"}");
      bob.await("message-accepted");
      assertEquals(
          "{\"type\":\"message-received\",\"from\":\"bob\",\"text\":\"over websocket\",\"seq\":1,"
              + "\"id\":\"b1\"}",
          alice.await("message-received"));

      // A private chat needs a client that accepts connections; the web one does not.
      alice.send("{\"type\":\"startprivate\",\"user\":\"bob\"}");
      alice.await(
          "{\"type\":\"error\",\"code\":\"private-unsupported\",\"command\":\"startprivate\","
              + "\"subject\":\"bob\"}");
    }
  }

  @Test
  void shouldCountWebSocketSessionsAgainstMaxConnectionsWithTcpOnes() throws Exception {
    node = TestNode.start(dir, ACCOUNTS, "max-connections = 1");
    try (Wire alice = node.connect(Transport.TCP)) {
      alice.send("{\"type\":\"hello\",\"version\":3}");
      // Alice's session exists once it has answered.
      alice.await("\"hello\"");
      try (Wire bob = node.connect(Transport.WEBSOCKET)) {
        bob.expect("{\"type\":\"goodbye\",\"reason\":\"server-busy\"}");
        bob.awaitClosed();
      }
    }
  }

  @Test
  void shouldSayGoodbyeToWebSocketSessionsWhenStopping() throws Exception {
    node = TestNode.start(dir, ACCOUNTS, "");
    try (Wire bob = node.connect(Transport.WEBSOCKET)) {
      bob.send("{\"type\":\"hello\",\"version\":3}");
      bob.await("\"hello\"");

      node.stop();

      bob.await("{\"type\":\"goodbye\",\"reason\":\"server-shutdown\"}");
      bob.awaitClosed();
    }
  }

  @Test
  void shouldRefuseThePageOfAnotherSite() throws Exception {
    node = TestNode.start(dir, ACCOUNTS, "");

    ExecutionException refused =
        assertThrows(
            ExecutionException.class,
            () -> WebSocketWire.open(node.http(), Optional.of("https://evil.example.com")));

    WebSocketHandshakeException handshake =
        assertInstanceOf(WebSocketHandshakeException.class, refused.getCause());
    assertEquals(FORBIDDEN, handshake.getResponse().statusCode());
  }

  @Test
  void shouldAcceptTheNodesOwnPageAndConfiguredOrigins() throws Exception {
    node = TestNode.start(dir, ACCOUNTS, "http.allowed-origins = [\"https://web.example.org\"]");
    InetSocketAddress http = node.http();
    try (Wire own = WebSocketWire.open(http, Optional.of("http://127.0.0.1:" + http.getPort()));
        Wire configured = WebSocketWire.open(http, Optional.of("https://web.example.org"))) {
      own.login("alice", "alice-pw");
      configured.login("bob", "bob-pw");
    }
  }
}
