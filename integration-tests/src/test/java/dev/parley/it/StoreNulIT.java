package dev.parley.it;

import static dev.parley.it.support.Timing.promptly;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.it.support.HeadlessClient;
import dev.parley.it.support.PackagedEndToEnd;
import dev.parley.it.support.RawConnection;
import dev.parley.server.store.StoreSettings;
import dev.parley.server.testing.TestDatabase;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * U+0000 in a message. Before, PostgreSQL refused the batch that held such a text; the journal took
 * the refusal for an outage, so every user's messages failed with {@code unavailable} while it
 * retried, and the driver's error, with the text in it, went to the log.
 *
 * <p>Now the text is refused up front with {@code error invalid-text}. Shown against the packaged
 * server on its embedded H2 store and on PostgreSQL: while a raw connection sends such messages
 * (the real client refuses them itself) among valid ones, other users' messages, sent at the same
 * time, are all accepted and delivered, none is refused {@code unavailable}; and the server's log
 * (its standard output and error, at DEBUG) never holds the text or a password.
 */
class StoreNulIT extends PackagedEndToEnd {

  /** Distinctive, so that the log can be searched for it. */
  private static final String MARKER = "nul-marker-5f1d2b";

  private static final Map<String, String> PASSWORDS =
      Map.of(
          "hans", "pw-hans-Qe7uXs",
          "luke", "pw-luke-Jm4kRb",
          "yoda", "pw-yoda-Vd9wNc",
          "vader", "pw-vader-Tz2hLp");

  private static final int YODA_MESSAGES = 40;
  private static final int NUL_MESSAGES = 5;

  @Test
  void shouldRefuseATextWithNulAndCarryOnOnH2() throws IOException {
    startServer(
        List.of("-Dparley.log.level=DEBUG"),
        Map.<String, String>of(),
        "--credentials",
        credentials().toString());
    refuseNulWhileOthersChat();
  }

  @Test
  void shouldRefuseATextWithNulAndCarryOnOnPostgresql() throws IOException, SQLException {
    StoreSettings database = trackAfterServer(TestDatabase.postgres()).settings();
    startServer(
        List.of("-Dparley.log.level=DEBUG"),
        Map.of("PARLEY_DB_USER", database.user(), "PARLEY_DB_PASSWORD", database.password()),
        "--credentials",
        credentials().toString(),
        "--db-url",
        database.url());
    assertTrue(server.log().contains("store opened db=jdbc:postgresql:"), server::log);
    refuseNulWhileOthersChat();
  }

  private void refuseNulWhileOthersChat() {
    HeadlessClient luke = login("luke", PASSWORDS.get("luke"));
    HeadlessClient yoda = login("yoda", PASSWORDS.get("yoda"));
    luke.expect("yoda logged in");
    RawConnection hans =
        track(RawConnection.login(server.host(), server.port(), "hans", PASSWORDS.get("hans")));
    luke.expect("hans logged in");
    yoda.expect("hans logged in");

    // yoda's messages go in at once and are being stored while hans sends his.
    List<String> lines = new ArrayList<>();
    for (int i = 1; i <= YODA_MESSAGES; i++) {
      lines.add("message luke y-" + i);
    }
    yoda.type(lines.toArray(String[]::new));
    String refusal =
        "{\"type\":\"error\",\"code\":\"invalid-text\",\"command\":\"message\",\"subject\":\"text"
            + " contains U+0000 at character "
            + (MARKER.length() + 1)
            + "\",\"id\":\"%s\"}";
    for (int i = 1; i <= NUL_MESSAGES; i++) {
      hans.send(message("luke", MARKER + "\\u0000 " + i, "n-" + i))
          .expectReply(String.format(refusal, "n-" + i));
      hans.send(message("luke", "h-" + i, "h-" + i))
          .expectReply("{\"type\":\"message-accepted\",\"id\":\"h-" + i + "\",\"stored\":false}");
    }
    // For a user who is offline too, whose messages go to the store alone.
    hans.send(message("vader", MARKER + "\\u0000", "n-vader"))
        .expectReply(String.format(refusal, "n-vader"));
    hans.send(message("vader", "kept for you", "k-1"))
        .expectReply("{\"type\":\"message-accepted\",\"id\":\"k-1\",\"stored\":true}");

    // luke shows every valid message, each sender's in order, and nothing else.
    Map<String, List<String>> shown = new HashMap<>();
    for (int i = 0; i < YODA_MESSAGES + NUL_MESSAGES; i++) {
      String line = luke.nextLine();
      int colon = line.indexOf(": ");
      String from = colon < 0 ? "(not a message)" : line.substring(0, colon);
      shown.computeIfAbsent(from, sender -> new ArrayList<>()).add(line.substring(colon + 2));
    }
    assertEquals(numbered("y-", YODA_MESSAGES), shown.get("yoda"), luke::transcript);
    assertEquals(numbered("h-", NUL_MESSAGES), shown.get("hans"), luke::transcript);
    // yoda got no error (such as unavailable): the answer to whoelse is the next thing shown.
    promptly("yoda's whoelse", () -> yoda.type("whoelse").expect("luke", "hans"));
    HeadlessClient vader = login("vader", PASSWORDS.get("vader"));
    vader.expect("hans: kept for you");
    luke.expect("vader logged in");

    // Stopped, so that everything it logged has been written out.
    server.stop();
    String log = server.log();
    assertTrue(log.contains("stopping: closing"), log);
    assertFalse(log.contains(MARKER), () -> "the text reached the log:\n" + log);
    PASSWORDS.forEach(
        (user, password) ->
            assertFalse(
                log.contains(password), () -> user + "'s password reached the log:\n" + log));
  }

  private Path credentials() throws IOException {
    StringBuilder file = new StringBuilder();
    PASSWORDS.forEach(
        (user, password) -> file.append(user).append(' ').append(password).append('\n'));
    return Files.writeString(directory.resolve("credentials.txt"), file);
  }

  private static List<String> numbered(String prefix, int count) {
    List<String> texts = new ArrayList<>();
    for (int i = 1; i <= count; i++) {
      texts.add(prefix + i);
    }
    return texts;
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
