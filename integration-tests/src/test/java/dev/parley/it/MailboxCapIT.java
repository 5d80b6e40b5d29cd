package dev.parley.it;

import static dev.parley.it.support.Timing.promptly;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.it.support.HeadlessClient;
import dev.parley.it.support.PackagedEndToEnd;
import dev.parley.it.support.RawConnection;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A mailbox filled to its byte cap. A sender can keep sending large messages to a user who is
 * offline; without a cap in bytes that filled the store and the server's memory, and the whole
 * mailbox was written to the recipient's connection at once when they logged in.
 *
 * <p>Shown against the packaged server with a small {@code mailbox-bytes} (256 KiB) and a small
 * {@code delivery-window} (3 messages): a raw sender sends messages of 20,000 bytes to an offline
 * user until it gets {@code mailbox-full}, while other users' messages to each other are accepted
 * and delivered; the recipient then logs in with the real client and shows every accepted message
 * exactly once, in order, without losing its connection (the replay goes a window at a time, paced
 * by the client's acknowledgements); once it has acknowledged them, its mailbox has room again.
 */
class MailboxCapIT extends PackagedEndToEnd {

  private static final int TEXT_BYTES = 20_000;
  private static final int MAILBOX_BYTES = 256 * 1024;

  @Test
  void shouldRefuseMessagesToAFullMailboxAndDeliverEveryAcceptedOneOnce() {
    startServer(
        "-Dparley.server.mailbox-bytes=" + MAILBOX_BYTES, "-Dparley.server.delivery-window=3");
    HeadlessClient yoda = login("yoda");
    HeadlessClient vader = login("vader");
    yoda.expect("vader logged in");
    RawConnection hans = rawLogin("hans");
    yoda.expect("hans logged in");
    vader.expect("hans logged in");

    List<String> accepted = new ArrayList<>();
    String refusal = null;
    for (int n = 1; n <= 2 * MAILBOX_BYTES / TEXT_BYTES && refusal == null; n++) {
      String reply = hans.send(message("luke", text(n), "m-" + n)).nextReply();
      if (reply.equals("{\"type\":\"message-accepted\",\"id\":\"m-" + n + "\",\"stored\":true}")) {
        accepted.add(text(n));
      } else {
        refusal = reply;
        assertEquals(
            "{\"type\":\"error\",\"code\":\"mailbox-full\",\"command\":\"message\",\"subject\":"
                + "\"luke\",\"id\":\"m-"
                + n
                + "\"}",
            reply);
      }
      // Meanwhile other users' messages to others go through.
      int round = n;
      promptly(
          "yoda's message to vader",
          () -> {
            yoda.type("message vader y-" + round);
            vader.expect("yoda: y-" + round);
          });
    }
    assertTrue(refusal != null, "the mailbox never filled: " + accepted.size() + " accepted");
    // The cap is in bytes: as many messages as fit in it, not fewer.
    assertEquals(MAILBOX_BYTES / TEXT_BYTES, accepted.size());

    HeadlessClient luke = login("luke");
    for (String text : accepted) {
      luke.expect("hans: " + text);
    }
    // Exactly once: the goodbye is the next thing luke shows, and it comes once every
    // acknowledgement before it is stored.
    luke.type("logout").expect("You are logged out");
    assertEquals(0, luke.exitStatus(), luke::transcript);

    HeadlessClient lukeAgain = login("luke");
    hans.send(message("luke", "room again", "r-1"))
        .expectReply("{\"type\":\"message-accepted\",\"id\":\"r-1\",\"stored\":false}");
    lukeAgain.expect("hans: room again");
  }

  /** Message {@code n}: its number, then padding to {@link #TEXT_BYTES} bytes. */
  private static String text(int n) {
    String head = "m-" + n + "-";
    return head + "x".repeat(TEXT_BYTES - head.length());
  }

  private static String message(String to, String text, String id) {
    return "{\"type\":\"message\",\"to\":\""
        + to
        + "\",\"text\":\""
        + text
        + "\",\"id\":\""
        + id
        + "\"}";
  }
}
