package dev.parley.server.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.DispatcherSelector;
import dev.parley.server.ServerSettings;
import dev.parley.server.store.Store.Outcome;
import dev.parley.server.testing.CapturedLog;
import dev.parley.server.testing.LogCapturingExtension;
import dev.parley.server.testing.TestDatabase;
import dev.parley.server.testing.TestKits;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A message the database refuses is refused without its text reaching any log line: not through the
 * driver's exception messages (pgjdbc quotes a failed batch's parameters, H2 a value too long), nor
 * through the change itself when the journal drops it. Every log line of the run (at DEBUG for the
 * server's own loggers), with its arguments and exceptions, is searched for the text, on H2 and on
 * PostgreSQL.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(TestDatabase.Kind.class)
@ExtendWith(LogCapturingExtension.class)
class RefusedTextLoggingTest {

  private static final ActorTestKit testKit = TestKits.create();
  private static final Instant T0 = Instant.parse("2030-05-04T12:00:00Z");
  private static final String SECRET = "nobody-but-luke-may-read-this";

  @Parameter TestDatabase.Kind kind;

  @TempDir Path dir;

  private TestDatabase database;
  private CapturedLog logs;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void captureLogs() throws SQLException {
    database = TestDatabase.create(kind, dir);
    logs = CapturedLog.start();
  }

  @AfterEach
  void stopCapturing() throws SQLException {
    if (logs != null) {
      logs.close();
    }
    if (database != null) {
      database.close();
    }
  }

  @Test
  void shouldNeverLogTheTextOfARefusedOrDroppedMessage() throws Exception {
    Store store = database.open();
    store.addAccount("hans", "hash-of-hans", T0);
    store.addAccount("luke", "hash-of-luke", T0);
    ActorRef<Journal.Command> journal =
        testKit.spawn(
            Journal.create(
                store,
                testKit
                    .system()
                    .dispatchers()
                    .lookup(DispatcherSelector.fromConfig(ServerSettings.STORE_DISPATCHER)),
                // Room for the three recorded while the first is written, not for a fourth.
                database.settings("max-pending-changes = 3"),
                Clock.systemUTC()));
    TestProbe<Journal.Recorded> recorded = testKit.createTestProbe();
    Change fine = appended(1, "m-1", "fine");
    Change withNul = appended(2, "m-2", SECRET + "\u0000");
    Change tooLong = appended(3, "m-3", SECRET.repeat(65_536 / SECRET.length() + 1));
    Change after = appended(4, "m-4", "fine too");
    for (Change change : List.of(fine, withNul, tooLong, after)) {
      journal.tell(new Journal.Record(change, recorded.ref()));
    }

    Map<Change, Outcome> outcomes = new HashMap<>();
    while (outcomes.size() < 4) {
      recorded.receiveMessage().outcomes().forEach(o -> outcomes.put(o.change(), o.outcome()));
    }

    // PostgreSQL refuses U+0000 in a text; H2 stores it. Neither takes a text over 65536.
    assertEquals(
        Map.of(
            fine, Outcome.STORED,
            withNul, kind == TestDatabase.Kind.POSTGRESQL ? Outcome.REFUSED : Outcome.STORED,
            tooLong, Outcome.REFUSED,
            after, Outcome.STORED),
        outcomes);

    // The database goes away: the messages held for it are dropped beyond the bound, and logged.
    store.close();
    Change failed = appended(5, "m-5", SECRET);
    journal.tell(new Journal.Record(failed, recorded.ref()));
    recorded.expectMessage(
        new Journal.Recorded(List.of(new Journal.Recorded.Outcome(failed, Outcome.FAILED))));
    for (int seq = 6; seq <= 9; seq++) {
      journal.tell(new Journal.Record(appended(seq, "m-" + seq, SECRET), null));
    }
    TestProbe<akka.Done> flushed = testKit.createTestProbe();
    journal.tell(new Journal.Flush(flushed.ref()));
    flushed.expectMessage(akka.Done.getInstance());
    testKit.stop(journal);

    String logLines = logs.text();
    // The search would find them: the refusals, the outage and the drop are in the log.
    assertTrue(logLines.contains("store refused a change"), logLines);
    assertTrue(logLines.contains("store write failed"), logLines);
    assertTrue(logLines.contains("journal full, change dropped"), logLines);
    assertFalse(logLines.contains(SECRET), logLines);
    assertFalse(logLines.contains("fine too"), logLines);
    if (kind == TestDatabase.Kind.H2) {
      // H2 writes errors to a trace file next to the database unless told not to.
      assertFalse(traceFiles().contains(SECRET), "in H2's trace file");
    }
  }

  private static Change appended(long seq, String clientId, String text) {
    return new Change.MessageAppended(new StoredMessage("luke", seq, "hans", clientId, text, T0));
  }

  /** The text of H2's trace files in the data directory (empty when there is none). */
  private String traceFiles() throws IOException {
    StringBuilder text = new StringBuilder();
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".trace.db")).toList()) {
        text.append(Files.readString(file, StandardCharsets.ISO_8859_1));
      }
    }
    return text.toString();
  }
}
