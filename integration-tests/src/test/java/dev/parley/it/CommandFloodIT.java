package dev.parley.it;

import static dev.parley.it.support.Timing.promptly;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.it.support.HeadlessClient;
import dev.parley.it.support.PackagedEndToEnd;
import dev.parley.it.support.RawConnection;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Commands in a burst. A connection could send commands as fast as its socket took them, and the
 * server answered every one: 20,000 {@code whoelse} in one write kept the server busy answering
 * that one client.
 *
 * <p>Now every connection has a command rate ({@code limits.commands}: 20 a second, bursts of 100),
 * announced in the server's {@code hello}. Shown against the packaged server: a raw connection that
 * writes 20,000 {@code whoelse} frames at once gets a burst of answers, then {@code error
 * rate-limited}, then, after {@code limits.disconnect-after} (200) refusals in a row, {@code
 * goodbye rate-limited}, and is closed; a bystander's commands are answered promptly during and
 * after, and the server stays up. And a bot that types 100 messages at once with the real client
 * gets them all delivered, in order.
 */
class CommandFloodIT extends PackagedEndToEnd {

  private static final int FLOOD = 20_000;
  private static final String WHOELSE = "{\"type\":\"whoelse\"}\n";
  private static final String ANSWER = "{\"type\":\"online-users\",";
  private static final String REFUSAL =
      "{\"type\":\"error\",\"code\":\"rate-limited\",\"command\":\"whoelse\"}";
  private static final String GOODBYE = "{\"type\":\"goodbye\",\"reason\":\"rate-limited\"}";
  private static final String ANSWER_LIST =
      "{\"type\":\"online-users\",\"users\":[\"yoda\",\"luke\"]}";

  @Test
  void shouldCutOffAConnectionThatFloodsCommandsAndAnswerOthersThroughout() throws Exception {
    startServer();
    HeadlessClient yoda = login("yoda");
    HeadlessClient luke = login("luke");
    yoda.expect("luke logged in");
    RawConnection hans = rawLogin("hans");
    yoda.expect("hans logged in");
    luke.expect("hans logged in");

    // All 20,000 in one write, from a thread of its own: the server stops reading them long
    // before the last, and the write then fails.
    byte[] flood = WHOELSE.repeat(FLOOD).getBytes(StandardCharsets.UTF_8);
    long start = System.nanoTime();
    Thread writer =
        new Thread(
            () -> {
              try {
                hans.sendBytes(flood);
              } catch (UncheckedIOException closed) {
                // The server closed the connection: the rest was never read.
              }
            },
            "flood-writer");
    writer.start();
    promptly(
        "yoda's message during the flood",
        () -> {
          yoda.type("message luke during the flood");
          luke.expect("yoda: during the flood");
        });

    List<String> received = readUntilClosed(hans);
    double seconds = (System.nanoTime() - start) / 1e9;
    writer.join(HeadlessClient.PATIENCE.toMillis());
    int answers = 0;
    while (answers < received.size() && received.get(answers).startsWith(ANSWER)) {
      answers++;
    }
    // The burst was answered (100, less at most the three login frames), and no more than refilled
    // meanwhile (20 a second).
    assertTrue(
        answers >= 97 && answers <= 100 + 20 * seconds + 1,
        answers + " answers before the first refusal, in " + seconds + " s");
    List<String> rest = received.subList(answers, received.size());
    assertEquals(GOODBYE, rest.get(rest.size() - 1), "the last frame");
    List<String> refusals = rest.subList(0, rest.size() - 1);
    long refused = refusals.stream().filter(REFUSAL::equals).count();
    // A token that refilled while the flood was handled lets a frame through and starts the count
    // of refusals in a row again: a few answers may come among the refusals.
    assertTrue(
        refused >= 199
            && refusals.stream().allMatch(line -> line.equals(REFUSAL) || line.startsWith(ANSWER)),
        refusals.size()
            + " frames after the burst: "
            + refusals.subList(0, Math.min(5, refusals.size())));
    assertTrue(received.size() < FLOOD / 10, received.size() + " frames answered");

    yoda.expect("hans logged out");
    luke.expect("hans logged out");
    promptly("yoda's whoelse after the flood", () -> yoda.type("whoelse").expect("luke"));
    promptly(
        "yoda's message after the flood",
        () -> {
          yoda.type("message luke after the flood");
          luke.expect("yoda: after the flood");
        });
    assertTrue(server.program().isAlive(), "the server stopped");
    // And hans may come back, at the same rate as everyone.
    rawLogin("hans").send("{\"type\":\"whoelse\"}").expectReply(ANSWER_LIST);
  }

  @Test
  void shouldDeliverEveryMessageOfABotThatTypesMoreThanTheBurstAtOnce() {
    startServer();
    HeadlessClient luke = login("luke");
    HeadlessClient bot = login("r2d2");
    luke.expect("r2d2 logged in");

    // Half again the burst the server allows (100): the client paces itself to the rate the
    // server announced in its hello, so the rest go out at 20 a second, none refused.
    List<String> lines = new ArrayList<>();
    for (int i = 1; i <= MESSAGES_FROM_THE_BOT; i++) {
      lines.add("message luke bot-" + i);
    }
    bot.type(lines.toArray(String[]::new));
    for (int i = 1; i <= MESSAGES_FROM_THE_BOT; i++) {
      luke.expect("r2d2: bot-" + i);
    }
    // And the bot was told of no refusal.
    assertEquals(List.of(), bot.unread(), bot::transcript);
  }

  private static final int MESSAGES_FROM_THE_BOT = 150;

  /** Every line until the server closes the connection (end of stream, or a reset). */
  private static List<String> readUntilClosed(RawConnection connection) {
    List<String> lines = new ArrayList<>();
    try {
      for (String line = connection.readLine(); line != null; line = connection.readLine()) {
        lines.add(line);
      }
    } catch (UncheckedIOException reset) {
      lines.add("(reset: " + reset.getCause() + ")");
    }
    return lines;
  }
}
