package dev.parley.bench.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ReconnectsTest {

  @Test
  void shouldCountAStormUntilTheNextBegins() {
    Reconnects reconnects = new Reconnects(Backoff.CLIENT_DEFAULTS);
    Reconnects.Storm storm = reconnects.lost("goodbye-server-shutdown", 100, null);
    reconnects.lost("closed", 150, null);
    assertEquals(2, reconnects.away());
    reconnects.attempted();
    reconnects.refused("unreachable");
    reconnects.attempted();
    Reconnects.Storm backIn = reconnects.back(300, 200, false);
    assertSame(storm, backIn);
    // Back, then lost again in the same storm: a storm feeding itself.
    reconnects.lost("closed", 350, backIn);
    reconnects.back(400, 50, true);
    reconnects.gaveUp("login-failed-invalid-password", 450);
    assertEquals(0, reconnects.away());

    assertSame(storm, reconnects.next());
    assertEquals(Map.of("goodbye-server-shutdown", 1L, "closed", 2L), storm.lostBy());
    assertEquals(Map.of("closed", 1L), storm.lostAgainBy());
    assertEquals(Map.of("unreachable", 1L), storm.refusedBy());
    assertEquals(Map.of("login-failed-invalid-password", 1L), storm.gaveUpBy());
    assertEquals(2, storm.attempts());
    assertEquals(2, storm.back());
    assertEquals(1, storm.resumed());
    assertEquals(100, storm.firstLossAt());
    assertEquals(300, storm.firstBackAt());
    assertEquals(400, storm.lastBackAt());
    assertEquals(450, storm.lastChangeAt());
    assertEquals(2, storm.awayTimes().getTotalCount());

    Reconnects.Storm next = reconnects.storm();
    assertNotSame(storm, next);
    assertEquals(0, next.firstLossAt());
    // Back in the storm before: lost in this one for the first time.
    reconnects.lost("reset", 500, backIn);
    assertEquals(Map.of(), next.lostAgainBy());
  }

  @Test
  void shouldRetryOnlyWhatPasses() {
    for (String passing :
        new String[] {
          "unreachable",
          "no-answer",
          "closed",
          "reset",
          "goodbye-server-busy",
          "goodbye-server-shutdown",
          "goodbye-rate-limited",
          "login-failed-already-online",
          "error-rate-limited"
        }) {
      assertTrue(Reconnects.isPassing(passing), passing);
    }
    for (String lasting :
        new String[] {
          "login-failed-invalid-password",
          "login-failed-unknown-user",
          "goodbye-account-locked",
          "goodbye-account-removed",
          "goodbye-unsupported-version"
        }) {
      assertFalse(Reconnects.isPassing(lasting), lasting);
    }
    assertTrue(Reconnects.isWithoutGoodbye("closed"));
    assertFalse(Reconnects.isWithoutGoodbye("goodbye-rate-limited"));
  }
}
