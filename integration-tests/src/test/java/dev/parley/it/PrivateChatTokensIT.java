package dev.parley.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.parley.it.support.HeadlessClient;
import dev.parley.it.support.PackagedEndToEnd;
import dev.parley.it.support.RawConnection;
import dev.parley.it.support.TestServer;
import dev.parley.protocol.Inbound;
import dev.parley.protocol.JsonCodec;
import dev.parley.protocol.ServerMessage;
import dev.parley.server.testing.CapturedLog;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Private chats are authenticated. Before, anyone who could reach a client's private-chat port
 * could say {@code peer-hello} as any user, and the client printed whatever came after under that
 * name. Now {@code startprivate} gives the requester a one-time token and tells the peer's client,
 * over its own server connection, to expect it; the peer's client accepts a connection only with
 * that token, for that user, unexpired and unused, and closes every other one without a word: its
 * user sees nothing at all. The packaged server runs as a process, the victim is the real client,
 * and the attacker is a raw connection logged in with protocol 3, which learns the victim's port
 * (and a real token) the ordinary way, from {@code peer-address}.
 */
class PrivateChatTokensIT extends PackagedEndToEnd {

  private static final String HELLO_V3 = "{\"type\":\"hello\",\"version\":3}";

  /** The victim gives a hello this long to be proved (by its token, or by a late invitation). */
  private static final Duration HANDSHAKE = Duration.ofSeconds(2);

  private static final String LUKES_HELLO =
      "{\"type\":\"peer-hello\",\"version\":3,\"user\":\"luke\"}";

  /** A token of the form the server issues (43 characters of URL-safe base64) that it never did. */
  private static final String FORGED = "Zm9yZ2VkLXRva2VuLXRoYXQtbm8tc2VydmVyLWlzc3U";

  private CapturedLog log;

  @BeforeEach
  void captureTheClientsLog() {
    // The real clients run in this JVM: their log is this JVM's.
    log = CapturedLog.start();
  }

  @AfterEach
  void stopCapturing() {
    log.close();
  }

  @Test
  void shouldChatPrivatelyBetweenTwoRealClients() {
    startServer();
    HeadlessClient hans = login("hans");
    HeadlessClient luke = login("luke");
    hans.expect("luke logged in");

    hans.type("startprivate luke").expect("Start private messaging with luke");
    luke.expect("hans started private messaging with you");
    hans.type("private luke hey dude");
    luke.expect("hans(private): hey dude");
    luke.type("private hans hello");
    hans.expect("luke(private): hello");
    hans.type("stopprivate luke").expect("Stopped private messaging with luke");
    luke.expect("hans stopped private messaging with you");

    hans.type("whoelse").expect("luke");
    luke.type("whoelse").expect("hans");
    assertEquals(List.of(), hans.unread());
    assertEquals(List.of(), luke.unread());
    assertFalse(log.text().contains("Refused a private chat"), log.text());
  }

  @Test
  void shouldCloseEveryConnectionWithoutTheRightTokenAndShowTheVictimNothing() {
    startServer();
    HeadlessClient luke = victim();
    RawConnection vader = attacker("vader");
    luke.expect("vader logged in");
    ServerMessage.PeerAddress address = startPrivate(vader, "luke");
    String token = address.token();
    assertNotNull(token, "a protocol-3 client asking for a protocol-3 client's address gets one");

    // The attack of before: a name, no token. Closed at once.
    expectRefused(address, hello("hans", null));
    expectUntouched(luke);
    expectRefused(address, hello("vader", null));
    expectUntouched(luke);
    // A made-up token: no invitation ever comes for it.
    expectRefused(address, hello("vader", FORGED));
    expectUntouched(luke);
    // A real token, issued for vader, presented as someone else.
    expectRefused(address, hello("hans", token));
    expectUntouched(luke);

    // The right hello, token and all, in plain TCP: the port speaks only TLS, so it is closed
    // unread (the token still opens a chat below), with no frame in answer.
    RawConnection plain = track(RawConnection.plaintext(address.host(), address.port()));
    plain.send(hello("vader", token));
    assertFalse(plain.awaitEnd().contains("{"), "a frame to a plaintext hello");
    expectUntouched(luke);
    // A handshake begun and never finished (a TLS record header and the start of a ClientHello):
    // closed once the handshake timeout has passed.
    RawConnection stalled = track(RawConnection.plaintext(address.host(), address.port()));
    stalled.sendBytes(new byte[] {0x16, 0x03, 0x01, 0x00, (byte) 0xff, 0x01, 0x00});
    stalled.awaitEnd();
    expectUntouched(luke);

    // Presented as issued, over TLS to the certificate peer-address names, it works, once.
    assertNotNull(address.fingerprint(), "peer-address names the certificate to expect");
    RawConnection chat =
        track(
            RawConnection.pinned(
                dev.parley.transport.Fingerprint.parse(address.fingerprint()),
                address.host(),
                address.port()));
    chat.send(hello("vader", token)).expect(LUKES_HELLO);
    luke.expect("vader started private messaging with you");
    chat.send("{\"type\":\"private\",\"seq\":1,\"text\":\"I am your father\"}");
    luke.expect("vader(private): I am your father");
    chat.expect("{\"type\":\"private-ack\",\"seq\":1}");
    chat.send("{\"type\":\"peer-bye\",\"reason\":\"stopped\"}");
    luke.expect("vader stopped private messaging with you");
    chat.expectClosed();

    expectRefused(address, hello("vader", token));
    expectUntouched(luke);

    String logged = log.text();
    assertTrue(logged.contains("Refused a private chat connection claiming to be hans"), logged);
    assertFalse(logged.contains(token), "the client logged a token");
    assertFalse(logged.contains(FORGED), "the client logged a token");
  }

  @Test
  void shouldRefuseATokenOnceItHasExpired() throws InterruptedException {
    Duration ttl = Duration.ofSeconds(1);
    startServer("-Dparley.server.private-chat-token-ttl=" + ttl.toSeconds() + "s");
    HeadlessClient luke = victim();
    RawConnection vader = attacker("vader");
    luke.expect("vader logged in");

    // Short-lived, but good when used at once.
    ServerMessage.PeerAddress fresh = startPrivate(vader, "luke");
    RawConnection chat = track(new RawConnection(fresh.host(), fresh.port()));
    chat.send(hello("vader", fresh.token())).expect(LUKES_HELLO);
    luke.expect("vader started private messaging with you");
    chat.send("{\"type\":\"peer-bye\",\"reason\":\"stopped\"}");
    luke.expect("vader stopped private messaging with you");
    chat.expectClosed();

    ServerMessage.PeerAddress stale = startPrivate(vader, "luke");
    // The server tells luke's client of the token before it answers vader, on luke's connection:
    // once luke sees the answer to a command sent after that, the client holds the invitation
    // and its expiry runs. Waiting the lifetime out from here is sure to pass it.
    luke.type("whoelse").expect("vader");
    Thread.sleep(ttl.plusMillis(500).toMillis());

    expectRefused(stale, hello("vader", stale.token()));
    expectUntouched(luke);
    assertFalse(log.text().contains(stale.token()), "the client logged a token");
  }

  /** luke's real client, which gives an unproved hello {@link #HANDSHAKE}, logged in. */
  private HeadlessClient victim() {
    HeadlessClient luke =
        track(
            HeadlessClient.connect(
                server.host(),
                server.port(),
                "luke",
                HeadlessClient.pinned(
                    server.fingerprint(),
                    Map.of("parley.client.peer-handshake-timeout", HANDSHAKE.toMillis() + "ms"))));
    luke.type("luke", TestServer.PASSWORDS.get("luke")).expect(HeadlessClient.WELCOME);
    return luke;
  }

  /** A raw connection logged in as {@code user} with protocol 3, so that it is given tokens. */
  private RawConnection attacker(String user) {
    RawConnection connection = track(new RawConnection(server.host(), server.port()));
    connection.send(HELLO_V3).expectHello();
    connection.send("{\"type\":\"username\",\"username\":\"" + user + "\"}");
    connection.expect("{\"type\":\"password-required\",\"username\":\"" + user + "\"}");
    connection.send(
        "{\"type\":\"password\",\"password\":\""
            + TestServer.PASSWORDS.get(user)
            + "\",\"peerPort\":9}");
    String welcome = connection.readLine();
    assertTrue(
        welcome != null
            && welcome.startsWith(
                "{\"type\":\"login-accepted\",\"username\":\"" + user + "\",\"resumeToken\":"),
        "not a protocol-3 welcome: " + welcome);
    return connection;
  }

  /** startprivate as the attacker: where the victim listens, and a real token. */
  private static ServerMessage.PeerAddress startPrivate(RawConnection attacker, String victim) {
    attacker.send("{\"type\":\"startprivate\",\"user\":\"" + victim + "\"}");
    String reply = attacker.nextReply();
    assertNotNull(reply, "the server closed the attacker's connection");
    byte[] line = reply.getBytes(StandardCharsets.UTF_8);
    if (!(JsonCodec.SERVER.decode(line, 0, line.length)
        instanceof Inbound.Frame<ServerMessage> frame)) {
      return fail("not a frame: " + reply);
    }
    return assertInstanceOf(ServerMessage.PeerAddress.class, frame.frame(), reply);
  }

  private static String hello(String user, String token) {
    return "{\"type\":\"peer-hello\",\"version\":3,\"user\":\""
        + user
        + "\""
        + (token == null ? "" : ",\"token\":\"" + token + "\"")
        + "}";
  }

  /** A connection to the victim's port with this hello is closed, without a single frame. */
  private void expectRefused(ServerMessage.PeerAddress address, String hello) {
    try (RawConnection connection = new RawConnection(address.host(), address.port())) {
      connection.send(hello);
      connection.expectClosed();
    }
  }

  /**
   * Nothing was added to the victim's terminal: a command's answer is the next line, and nothing
   * follows it.
   */
  private static void expectUntouched(HeadlessClient victim) {
    assertEquals(List.of(), victim.unread(), victim::transcript);
    victim.type("whoelse").expect("vader");
    assertEquals(List.of(), victim.unread(), victim::transcript);
  }
}
