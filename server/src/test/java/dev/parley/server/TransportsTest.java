package dev.parley.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.parley.server.testing.LogCapturingExtension;
import dev.parley.server.testing.TestNode;
import dev.parley.server.testing.Wire;
import dev.parley.server.testing.Wire.Transport;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The same flows, frame for frame, over both transports of one node: newline-framed TCP and {@code
 * /ws}. Both end in the same session actor ({@code session.Session}, through {@code
 * session.SessionPort}); only the framing differs, so every flow here must pass unchanged over
 * each. One node serves every test, each with users of its own.
 */
@ExtendWith(LogCapturingExtension.class)
class TransportsTest {

  /** Accounts made at start, handed out two or three per test. */
  private static final int ACCOUNTS = 60;

  /** A connection's burst of commands (limits.commands.burst below). */
  private static final int BURST = 300;

  /** Frames of one connection over its burst and well past what it earns meanwhile. */
  private static final int FLOOD = BURST + 100;

  /**
   * Messages waiting at a login: far more frames than fit in a small frame-counted buffer, all
   * handed over at once (under the delivery window), and within one connection's burst.
   */
  private static final int BACKLOG = 250;

  /** Malformed frames after which the node closes (max-bad-frames below). */
  private static final int MAX_BAD_FRAMES = 4;

  @TempDir static Path dir;

  private static TestNode node;
  private static final AtomicInteger nextUser = new AtomicInteger();

  @BeforeAll
  static void startNode() throws Exception {
    Map<String, String> accounts = new LinkedHashMap<>();
    for (int i = 0; i < ACCOUNTS; i++) {
      accounts.put("user" + i, password("user" + i));
    }
    // Heartbeats often enough to see, and a silent client given up on quickly; the other tests'
    // wires answer heartbeats, so nothing else is affected.
    node =
        TestNode.start(
            dir,
            accounts,
            "heartbeat-interval = 300ms, heartbeat-timeout = 1500ms, max-bad-frames = "
                + MAX_BAD_FRAMES
                + ", limits.commands { per-second = 20, burst = "
                + BURST
                + " }");
  }

  @AfterAll
  static void stopNode() throws Exception {
    if (node != null) {
      node.close();
    }
  }

  private static String password(String user) {
    return user + "-pw";
  }

  private static String newUser() {
    return "user" + nextUser.getAndIncrement();
  }

  private static Wire login(Transport transport, String user) throws Exception {
    Wire wire = node.connect(transport);
    wire.login(user, password(user));
    return wire;
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void shouldLogInStepByStep(Transport transport) throws Exception {
    String user = newUser();
    try (Wire wire = node.connect(transport)) {
      wire.send("{\"type\":\"hello\",\"version\":3}");
      assertTrue(wire.next().startsWith("{\"type\":\"hello\",\"version\":3,\"server\":\"parley\""));
      wire.send("{\"type\":\"username\",\"username\":\"" + user + "\"}");
      wire.expect("{\"type\":\"password-required\",\"username\":\"" + user + "\"}");
      wire.send("{\"type\":\"password\",\"password\":\"wrong\"}");
      wire.expect(
          "{\"type\":\"login-failed\",\"reason\":\"invalid-password\",\"username\":\""
              + user
              + "\"}");
      wire.send("{\"type\":\"password\",\"password\":\"" + password(user) + "\"}");
      assertTrue(wire.next().startsWith("{\"type\":\"login-accepted\",\"username\":\"" + user));
      wire.send("{\"type\":\"logout\"}");
      wire.await("{\"type\":\"goodbye\",\"reason\":\"logged-out\"}");
      wire.awaitClosed();
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void shouldRefuseASecondLoginOfAUserOnline(Transport transport) throws Exception {
    String user = newUser();
    try (Wire first = login(transport, user);
        Wire second = node.connect(transport)) {
      second.send("{\"type\":\"hello\",\"version\":3}");
      second.await("\"hello\"");
      second.send("{\"type\":\"username\",\"username\":\"" + user + "\"}");
      second.expect("{\"type\":\"password-required\",\"username\":\"" + user + "\"}");
      second.send("{\"type\":\"password\",\"password\":\"" + password(user) + "\"}");
      second.expect(
          "{\"type\":\"login-failed\",\"reason\":\"already-online\",\"username\":\""
              + user
              + "\"}");
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void shouldCarryADirectMessageAndItsAcknowledgement(Transport transport) throws Exception {
    String alice = newUser();
    String bob = newUser();
    try (Wire a = login(transport, alice);
        Wire b = login(transport, bob)) {
      a.send("{\"type\":\"message\",\"to\":\"" + bob + "\",\"text\":\"lunch?\",\"id\":\"m-1\"}");
      a.await("{\"type\":\"message-accepted\",\"id\":\"m-1\",\"stored\":false}");
      String received = b.await("message-received");
      assertEquals(
          "{\"type\":\"message-received\",\"from\":\""
              + alice
              + "\",\"text\":\"lunch?\",\"seq\":1,\"id\":\"m-1\"}",
          received);
      b.send("{\"type\":\"ack\",\"seq\":1}");
      // The same id again (a resend after a reconnect): accepted, not delivered twice.
      a.send("{\"type\":\"message\",\"to\":\"" + bob + "\",\"text\":\"lunch?\",\"id\":\"m-1\"}");
      a.await("\"message-accepted\",\"id\":\"m-1\"");
      b.send("{\"type\":\"whoelse\"}");
      String online = b.await("online-users");
      assertTrue(online.contains(alice), online);
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void shouldDeliverAMessageStoredWhileOfflineAtLogin(Transport transport) throws Exception {
    String alice = newUser();
    String bob = newUser();
    try (Wire a = login(transport, alice)) {
      a.send("{\"type\":\"message\",\"to\":\"" + bob + "\",\"text\":\"call me\",\"id\":\"m-2\"}");
      a.await("{\"type\":\"message-accepted\",\"id\":\"m-2\",\"stored\":true}");
    }
    try (Wire b = login(transport, bob)) {
      assertEquals(
          "{\"type\":\"message-received\",\"from\":\""
              + alice
              + "\",\"text\":\"call me\",\"seq\":1,\"id\":\"m-2\"}",
          b.await("message-received"));
      b.send("{\"type\":\"ack\",\"seq\":1}");
      b.send("{\"type\":\"logout\"}");
      b.await("logged-out");
    }
    // Acknowledged: not delivered again at the next login.
    try (Wire b = login(transport, bob)) {
      b.send("{\"type\":\"whoelse\"}");
      assertTrue(b.await("online-users").startsWith("{\"type\":\"online-users\""));
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void shouldHandOverAFullBacklogAtLogin(Transport transport) throws Exception {
    String alice = newUser();
    String bob = newUser();
    try (Wire a = login(transport, alice)) {
      for (int i = 1; i <= BACKLOG; i++) {
        a.send(
            "{\"type\":\"message\",\"to\":\""
                + bob
                + "\",\"text\":\"n"
                + i
                + "\",\"id\":\"b-"
                + i
                + "\"}");
      }
      a.await("\"id\":\"b-" + BACKLOG + "\",\"stored\":true");
    }
    try (Wire b = login(transport, bob)) {
      for (int i = 1; i <= BACKLOG; i++) {
        assertEquals(
            "{\"type\":\"message-received\",\"from\":\""
                + alice
                + "\",\"text\":\"n"
                + i
                + "\",\"seq\":"
                + i
                + ",\"id\":\"b-"
                + i
                + "\"}",
            b.await("message-received"));
        b.send("{\"type\":\"ack\",\"seq\":" + i + "}");
      }
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void shouldTellPresenceAndBroadcasts(Transport transport) throws Exception {
    String alice = newUser();
    String bob = newUser();
    try (Wire a = login(transport, alice)) {
      try (Wire b = login(transport, bob)) {
        a.await("{\"type\":\"user-logged-in\",\"user\":\"" + bob + "\"}");
        b.send("{\"type\":\"broadcast\",\"text\":\"hello all\"}");
        b.await("broadcast-sent");
        a.await(
            "{\"type\":\"broadcast-received\",\"from\":\"" + bob + "\",\"text\":\"hello all\"}");
        b.send("{\"type\":\"logout\"}");
        b.await("logged-out");
      }
      a.await("{\"type\":\"user-logged-out\",\"user\":\"" + bob + "\"}");
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void shouldKeepABlockedUserOut(Transport transport) throws Exception {
    String alice = newUser();
    String bob = newUser();
    try (Wire a = login(transport, alice);
        Wire b = login(transport, bob)) {
      b.send("{\"type\":\"block\",\"user\":\"" + alice + "\"}");
      b.await("{\"type\":\"block-confirmed\",\"user\":\"" + alice + "\"}");
      a.send("{\"type\":\"message\",\"to\":\"" + bob + "\",\"text\":\"hey\",\"id\":\"m-3\"}");
      a.await(
          "{\"type\":\"error\",\"code\":\"blocked-by-user\",\"command\":\"message\",\"subject\":\""
              + bob
              + "\",\"id\":\"m-3\"}");
      b.send("{\"type\":\"unblock\",\"user\":\"" + alice + "\"}");
      b.await("{\"type\":\"unblock-confirmed\",\"user\":\"" + alice + "\"}");
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void shouldAnswerBadFramesThenGiveUp(Transport transport) throws Exception {
    try (Wire wire = node.connect(transport)) {
      wire.send("{\"type\":\"hello\",\"version\":3}");
      wire.await("\"hello\"");
      wire.send("{\"type\":\"shout\",\"text\":\"hi\"}");
      wire.expect("{\"type\":\"error\",\"code\":\"unknown-frame\",\"subject\":\"shout\"}");
      wire.send("{\"type\":\"whoelse\"}");
      wire.expect("{\"type\":\"error\",\"code\":\"unexpected-frame\",\"command\":\"whoelse\"}");
      wire.send("not json");
      String malformed = wire.next();
      assertTrue(
          malformed.startsWith("{\"type\":\"error\",\"code\":\"malformed-frame\""), malformed);
      wire.send("{\"type\":\"username\"}");
      wire.expect("{\"type\":\"goodbye\",\"reason\":\"protocol-violation\"}");
      wire.awaitClosed();
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void shouldEndAConnectionWhoseFrameIsOverTheLimit(Transport transport) throws Exception {
    try (Wire wire = node.connect(transport)) {
      wire.send("{\"type\":\"hello\",\"version\":3}");
      wire.await("\"hello\"");
      int limit = ServerSettings.fromConfig(ConfigFactory.load()).maxFrameBytes();
      wire.send("{\"type\":\"broadcast\",\"text\":\"" + "x".repeat(limit) + "\"}");
      wire.expect("{\"type\":\"goodbye\",\"reason\":\"frame-too-long\"}");
      wire.awaitClosed();
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void shouldRefuseFramesOverTheRate(Transport transport) throws Exception {
    String user = newUser();
    try (Wire wire = login(transport, user)) {
      for (int i = 0; i < FLOOD; i++) {
        wire.send("{\"type\":\"whoelse\"}");
      }
      wire.await("{\"type\":\"error\",\"code\":\"rate-limited\",\"command\":\"whoelse\"}");
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void shouldSendHeartbeatsAndGiveUpOnASilentClient(Transport transport) throws Exception {
    String alice = newUser();
    String bob = newUser();
    try (Wire a = login(transport, alice);
        Wire b = login(transport, bob)) {
      a.await("\"user-logged-in\"");
      b.answerHeartbeats(false);
      b.await("{\"type\":\"heartbeat\"}");
      b.await("{\"type\":\"goodbye\",\"reason\":\"unresponsive\"}");
      b.awaitClosed();
      // A client that answers is kept, and sees the silent one go.
      a.await("{\"type\":\"user-logged-out\",\"user\":\"" + bob + "\"}");
    }
  }
}
