package dev.parley.it;

import static dev.parley.it.support.Timing.promptly;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.it.support.EndToEnd;
import dev.parley.it.support.HeadlessClient;
import dev.parley.it.support.RawConnection;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Bad input is harmless: the offending connection gets an error frame or is closed, and a real
 * client logged in beside it carries on as if nothing happened.
 */
class BadInputTest extends EndToEnd {

  private HeadlessClient yoda;

  @BeforeEach
  void aBystander() {
    // A small frame limit, and the text limit it leaves room for (4 KiB of a frame are kept for
    // its other fields).
    startServer(
        Map.of(
            "parley.server.max-bad-frames", 5,
            "parley.server.max-frame-bytes", 8192,
            "parley.server.max-text-bytes", 4096));
    yoda = login("yoda");
  }

  private void bystanderCarriesOn() {
    yoda.type("whoelse").expect("No other users are online");
  }

  @Test
  void shouldAnswerInvalidJsonAndCarryOn() {
    try (RawConnection raw = RawConnection.login(server, "hans")) {
      yoda.expect("hans logged in");
      raw.send("this is not json")
          .expect(
              "{\"type\":\"error\",\"code\":\"malformed-frame\",\"subject\":\"a frame must be a"
                  + " JSON object\"}");
      raw.send("{\"type\":\"message\",\"to\":\"yoda\"}")
          .expect(
              "{\"type\":\"error\",\"code\":\"malformed-frame\",\"subject\":\"field 'text' is"
                  + " required\"}");
      raw.send("{\"type\":\"message\",\"to\":\"yoda\",\"text\":\"still here\"}")
          .expect("{\"type\":\"message-accepted\",\"stored\":false}");
      yoda.expect("hans: still here");
    }
    yoda.expect("hans logged out");
  }

  @Test
  void shouldAnswerAnUnknownFrameType() {
    try (RawConnection raw = RawConnection.login(server, "hans")) {
      yoda.expect("hans logged in");
      raw.send("{\"type\":\"shout\",\"text\":\"HI\"}")
          .expect("{\"type\":\"error\",\"code\":\"unknown-frame\",\"subject\":\"shout\"}");
      raw.send("{\"type\":\"whoelse\"}").expect("{\"type\":\"online-users\",\"users\":[\"yoda\"]}");
    }
    yoda.expect("hans logged out");
    bystanderCarriesOn();
  }

  @Test
  void shouldAnswerAFrameInTheWrongPhase() {
    try (RawConnection raw = new RawConnection(server)) {
      raw.send("{\"type\":\"whoelse\"}")
          .expect("{\"type\":\"error\",\"code\":\"unexpected-frame\",\"command\":\"whoelse\"}");
      raw.send("{\"type\":\"hello\",\"version\":2}").expectHello();
      raw.send("{\"type\":\"message\",\"to\":\"yoda\",\"text\":\"before login\"}")
          .expect("{\"type\":\"error\",\"code\":\"unexpected-frame\",\"command\":\"message\"}");
    }
    bystanderCarriesOn();
  }

  @Test
  void shouldCloseAConnectionThatSendsAnOversizedFrame() {
    try (RawConnection raw = RawConnection.login(server, "hans")) {
      yoda.expect("hans logged in");
      raw.sendBytes(
          ("{\"type\":\"broadcast\",\"text\":\"" + "x".repeat(10_000) + "\"}\n")
              .getBytes(StandardCharsets.UTF_8));
      raw.expect("{\"type\":\"goodbye\",\"reason\":\"frame-too-long\"}");
      raw.expectClosed();
    }
    yoda.expect("hans logged out");
    bystanderCarriesOn();
  }

  @Test
  void shouldCloseAConnectionAfterTooManyBadFrames() {
    try (RawConnection raw = new RawConnection(server)) {
      for (int i = 1; i < 5; i++) {
        raw.send("{garbage " + i)
            .expect(
                "{\"type\":\"error\",\"code\":\"malformed-frame\",\"subject\":\"invalid JSON at"
                    + " column 2\"}");
      }
      raw.send("{garbage 5").expect("{\"type\":\"goodbye\",\"reason\":\"protocol-violation\"}");
      raw.expectClosed();
    }
    bystanderCarriesOn();
  }

  @Test
  void shouldRefuseAnotherProtocolVersion() {
    try (RawConnection raw = new RawConnection(server)) {
      raw.send("{\"type\":\"hello\",\"version\":99}")
          .expect("{\"type\":\"goodbye\",\"reason\":\"unsupported-version\"}");
      raw.expectClosed();
    }
    bystanderCarriesOn();
  }

  @Test
  void shouldLogOutAUserWhoseConnectionIsCutWithoutLogout() {
    RawConnection raw = RawConnection.login(server, "hans");
    yoda.expect("hans logged in");
    raw.close();
    yoda.expect("hans logged out");
    // hans can log in again at once: the old session is gone.
    login("hans");
    yoda.expect("hans logged in");
  }

  /**
   * Direct messages to a client that does not read are paced by its acknowledgements: at most the
   * delivery window waits on its connection, the rest waits in the store, so it is never cut off
   * for them, however many come. (Here 12 MB, more than the outbound buffer and the sockets' own
   * buffers could hold.)
   */
  @Test
  void shouldHoldDirectMessagesToAClientThatDoesNotReadInTheStore() throws Exception {
    restartForSlowReaders();
    RawConnection hans = RawConnection.login(server, "hans");
    yoda.expect("hans logged in");
    RawConnection luke = RawConnection.login(server, "luke");
    yoda.expect("luke logged in");

    // All in one write, from a thread of its own, while yoda carries on.
    StringBuilder frames = new StringBuilder();
    for (int n = 1; n <= SLOW_READER_MESSAGES; n++) {
      frames.append(
          "{\"type\":\"message\",\"to\":\"hans\",\"text\":\""
              + bigText(n)
              + "\",\"id\":\"s-"
              + n
              + "\"}\n");
    }
    CompletableFuture<Void> writer =
        CompletableFuture.runAsync(
            () -> luke.sendBytes(frames.toString().getBytes(StandardCharsets.UTF_8)));
    promptly("yoda's whoelse", () -> yoda.type("whoelse").expect("hans", "luke"));
    for (int n = 1; n <= SLOW_READER_MESSAGES; n++) {
      String reply = luke.nextReply();
      assertTrue(reply.startsWith("{\"type\":\"message-accepted\",\"id\":\"s-" + n + "\","), reply);
    }
    writer.get(HeadlessClient.PATIENCE.toSeconds(), TimeUnit.SECONDS);
    // hans is still online: were he cut off, yoda would have been told first.
    promptly("yoda's whoelse", () -> yoda.type("whoelse").expect("hans", "luke"));

    // Now hans reads, and acknowledges as he goes: every message comes, in order.
    Pattern received =
        Pattern.compile(
            "\\{\"type\":\"message-received\",\"from\":\"luke\","
                + "\"text\":\"([^\"]*)\",\"seq\":(\\d+),.*");
    int shown = 0;
    while (shown < SLOW_READER_MESSAGES) {
      String line = hans.readLine();
      assertTrue(line != null, "hans was cut off after " + shown + " messages");
      if (line.startsWith("{\"type\":\"user-logged-in\"")) {
        continue;
      }
      Matcher message = received.matcher(line);
      assertTrue(
          message.matches(),
          () -> "not a message from luke: " + line.substring(0, Math.min(80, line.length())));
      shown++;
      assertEquals(bigText(shown), message.group(1), "message " + shown);
      hans.send("{\"type\":\"ack\",\"seq\":" + message.group(2) + "}");
    }
    hans.send("{\"type\":\"whoelse\"}")
        .expectReply("{\"type\":\"online-users\",\"users\":[\"yoda\",\"luke\"]}");
    hans.close();
    luke.close();
  }

  /**
   * Broadcasts are not paced: a client that does not read is disconnected once {@code
   * outbound-buffer-bytes} wait for it, instead of the server buffering for it without bound, and
   * nobody else is slowed down meanwhile. A short backlog is not enough to be cut off.
   */
  @Test
  void shouldDisconnectAClientTooSlowToReadItsBroadcasts() throws Exception {
    restartForSlowReaders();
    RawConnection hans = RawConnection.login(server, "hans");
    yoda.expect("hans logged in");
    RawConnection luke = RawConnection.login(server, "luke");
    yoda.expect("luke logged in");
    // yoda, the bystander, does not want luke's broadcasts (the real client reads them all, but
    // this is about hans).
    yoda.type("block luke").expect("luke is blocked");

    broadcast(luke, 1, 10);
    promptly("yoda's whoelse", () -> yoda.type("whoelse").expect("hans", "luke"));

    CompletableFuture<Void> storm =
        CompletableFuture.runAsync(() -> broadcast(luke, 11, 10 + SLOW_READER_MESSAGES));
    promptly(
        "yoda's block",
        () -> {
          yoda.type("block vader");
          String line = yoda.nextLine();
          if (line.equals("hans logged out")) {
            yoda.expect("vader is blocked");
          } else {
            assertEquals("vader is blocked", line);
            yoda.expect("hans logged out");
          }
        });
    promptly("yoda's whoelse", () -> yoda.type("whoelse").expect("luke"));
    storm.get(HeadlessClient.PATIENCE.toSeconds(), TimeUnit.SECONDS);
    hans.close();
    luke.close();
  }

  private static final int SLOW_READER_MESSAGES = 210;

  /**
   * A server where 2 MiB waiting for a client is too much, and the delivery window (512 KiB) less;
   * the flood control lets one sender send hundreds of messages at once, as several could.
   */
  private void restartForSlowReaders() {
    server.close();
    startServer(
        Map.of(
            "parley.server.outbound-buffer-bytes",
            "2 MiB",
            "parley.server.delivery-window-bytes",
            "512 KiB",
            "parley.server.limits.commands.per-second",
            1000,
            "parley.server.limits.commands.burst",
            1000));
    yoda = login("yoda");
  }

  /** Broadcasts {@code from} to {@code to} from {@code sender}, and reads its answers. */
  private static void broadcast(RawConnection sender, int from, int to) {
    StringBuilder frames = new StringBuilder();
    for (int n = from; n <= to; n++) {
      frames.append("{\"type\":\"broadcast\",\"text\":\"" + bigText(n) + "\"}\n");
    }
    sender.sendBytes(frames.toString().getBytes(StandardCharsets.UTF_8));
    for (int n = from; n <= to; n++) {
      // Not complete: yoda blocked the sender.
      sender.expectReply("{\"type\":\"broadcast-sent\",\"complete\":false}");
    }
  }

  /** 60,000 bytes, numbered. */
  private static String bigText(int n) {
    String head = "big-" + n + "-";
    return head + "y".repeat(60_000 - head.length());
  }
}
