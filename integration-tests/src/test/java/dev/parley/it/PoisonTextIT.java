package dev.parley.it;

import static dev.parley.it.support.Timing.promptly;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.parley.it.support.HeadlessClient;
import dev.parley.it.support.PackagedEndToEnd;
import dev.parley.it.support.RawConnection;
import org.junit.jupiter.api.Test;

/**
 * The emoji message. Before protocol version 2 a {@code message} of 16,000 emoji (64,000 bytes of
 * UTF-8, under the 64 KiB frame limit) was written out by the server with each half of every emoji
 * as a six-character escape (a backslash, u and four hex digits), three times larger than the frame
 * it came in: the recipient's client could not read the line, lost its connection, and got the same
 * message again at every login, deaf for good.
 *
 * <p>Now texts are measured in encoded bytes against {@code max-text-bytes} (61,440) and the server
 * writes emoji as raw UTF-8. Shown here against the packaged server, with the attacker on a raw
 * socket and the recipients on the real client: 16,000 emoji are refused with {@code error
 * invalid-text} naming the reason, to the sender only; 15,000 (60,000 bytes) are accepted and shown
 * intact, and the recipient then still shows what comes next, for {@code message} and for {@code
 * broadcast}; after a logout and a new login nothing comes back (the message was acknowledged).
 */
class PoisonTextIT extends PackagedEndToEnd {

  private static final String EMOJI = "\uD83D\uDE00";

  /** 64,000 bytes of UTF-8: fits the sender's frame, over the text limit. */
  private static final String TOO_LONG = EMOJI.repeat(16_000);

  /** 60,000 bytes of UTF-8: within the text limit of 61,440. */
  private static final String LONGEST = EMOJI.repeat(15_000);

  private static final String REASON = "text is 64000 bytes encoded, over the limit of 61440";

  @Test
  void shouldRefuseTheEmojiMessageToItsSenderAndDeliverOneWithinTheLimitIntact() {
    startServer();
    HeadlessClient luke = login("luke");
    HeadlessClient yoda = login("yoda");
    luke.expect("yoda logged in");
    RawConnection hans = rawLogin("hans");
    luke.expect("hans logged in");
    yoda.expect("hans logged in");

    hans.send(message("luke", TOO_LONG, "p-1"))
        .expectReply(
            "{\"type\":\"error\",\"code\":\"invalid-text\",\"command\":\"message\",\"subject\":\""
                + REASON
                + "\",\"id\":\"p-1\"}");
    promptly("yoda's whoelse", () -> yoda.type("whoelse").expect("luke", "hans"));

    hans.send(message("luke", LONGEST, "p-2"))
        .expectReply("{\"type\":\"message-accepted\",\"id\":\"p-2\",\"stored\":false}");
    // The first thing luke shows: the refused message never reached him.
    luke.expect("hans: " + LONGEST);
    yoda.type("message luke after-poison");
    luke.expect("yoda: after-poison");

    // Acknowledged: a new login brings nothing back.
    luke.type("logout").expect("You are logged out");
    assertEquals(0, luke.exitStatus(), luke::transcript);
    yoda.expect("luke logged out");
    HeadlessClient lukeAgain = login("luke");
    yoda.expect("luke logged in");
    yoda.type("message luke fresh");
    lukeAgain.expect("yoda: fresh");
    promptly("luke's whoelse", () -> lukeAgain.type("whoelse").expect("yoda", "hans"));
  }

  @Test
  void shouldRefuseTheEmojiBroadcastToItsSenderAndDeliverOneWithinTheLimitToEveryone() {
    startServer();
    HeadlessClient luke = login("luke");
    HeadlessClient yoda = login("yoda");
    HeadlessClient vader = login("vader");
    // A raw reader as well, to see the frame as the server writes it.
    RawConnection r2d2 = rawLogin("r2d2");
    RawConnection hans = rawLogin("hans");
    luke.expectInAnyOrder("yoda logged in", "vader logged in", "r2d2 logged in", "hans logged in");
    yoda.expectInAnyOrder("vader logged in", "r2d2 logged in", "hans logged in");
    vader.expectInAnyOrder("r2d2 logged in", "hans logged in");

    hans.send("{\"type\":\"broadcast\",\"text\":\"" + TOO_LONG + "\"}")
        .expectReply(
            "{\"type\":\"error\",\"code\":\"invalid-text\",\"command\":\"broadcast\",\"subject\":\""
                + REASON
                + "\"}");
    promptly("yoda's whoelse", () -> yoda.type("whoelse").expect("luke", "vader", "r2d2", "hans"));

    hans.send("{\"type\":\"broadcast\",\"text\":\"" + LONGEST + "\"}")
        .expectReply("{\"type\":\"broadcast-sent\",\"complete\":true}");
    for (HeadlessClient recipient : new HeadlessClient[] {luke, yoda, vader}) {
      recipient.expect("hans: " + LONGEST);
    }
    // Emoji as raw UTF-8: escaped, each half would be six ASCII characters instead of the emoji.
    assertEquals(
        "{\"type\":\"broadcast-received\",\"from\":\"hans\",\"text\":\"" + LONGEST + "\"}",
        nextBroadcast(r2d2));

    yoda.type("broadcast after-poison", "message luke after-poison");
    luke.expect("yoda: after-poison", "yoda: after-poison");
    vader.expect("yoda: after-poison");
    assertEquals(
        "{\"type\":\"broadcast-received\",\"from\":\"yoda\",\"text\":\"after-poison\"}",
        nextBroadcast(r2d2));
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

  /** The next broadcast a raw connection receives, past presence notices. */
  private static String nextBroadcast(RawConnection connection) {
    while (true) {
      String line = connection.readLine();
      if (line == null || line.startsWith("{\"type\":\"broadcast-received\"")) {
        return line;
      }
    }
  }
}
