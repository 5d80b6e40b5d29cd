package dev.parley.server.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.parley.server.store.ResumeGrant;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** When a resumption token resumes a session, on a standalone node and on a cluster alike. */
class SessionTokensTest {

  private static final Instant NOW = Instant.parse("2030-05-04T12:00:00Z");
  private static final String TOKEN = new SecretTokens().newToken();
  private static final String HASH = new SecretTokens().hash(TOKEN);
  private static final String CERTIFICATE = "ab:cd";

  private final SessionTokens tokens = new SessionTokens(Duration.ofSeconds(30));

  @Test
  void shouldRefuseWithoutAGrant() {
    assertEquals("no-grant", tokens.resumeRefusal(null, true, TOKEN, null, NOW));
  }

  @Test
  void shouldRefuseAnotherTokenOrNone() {
    ResumeGrant grant = new ResumeGrant(HASH, null, null);
    assertEquals(
        "wrong-token", tokens.resumeRefusal(grant, true, new SecretTokens().newToken(), null, NOW));
    assertEquals("wrong-token", tokens.resumeRefusal(grant, true, null, null, NOW));
  }

  @Test
  void shouldRefuseATokenBoundToACertificateFromAnyOtherOrNone() {
    ResumeGrant grant = new ResumeGrant(HASH, CERTIFICATE, null);
    assertEquals("wrong-certificate", tokens.resumeRefusal(grant, true, TOKEN, "ef:01", NOW));
    assertEquals("wrong-certificate", tokens.resumeRefusal(grant, true, TOKEN, null, NOW));
    assertNull(tokens.resumeRefusal(grant, true, TOKEN, CERTIFICATE, NOW));
  }

  @Test
  void shouldResumeAnOpenSessionWhateverTheGrantsExpiry() {
    assertNull(tokens.resumeRefusal(new ResumeGrant(HASH, null, null), true, TOKEN, null, NOW));
    assertNull(
        tokens.resumeRefusal(
            new ResumeGrant(HASH, null, NOW.minusSeconds(1)), true, TOKEN, null, NOW));
  }

  @Test
  void shouldResumeAnEndedSessionOnlyBeforeItsGrantLapses() {
    assertNull(
        tokens.resumeRefusal(
            new ResumeGrant(HASH, null, NOW.plusMillis(1)), false, TOKEN, null, NOW));
    assertEquals(
        "expired", tokens.resumeRefusal(new ResumeGrant(HASH, null, NOW), false, TOKEN, null, NOW));
    // A grant without an end while the session is closed has no window: it does not resume.
    assertEquals(
        "expired",
        tokens.resumeRefusal(new ResumeGrant(HASH, null, null), false, TOKEN, null, NOW));
  }

  @Test
  void shouldCheckTheTokenBeforeTheCertificateAndTheExpiry() {
    ResumeGrant lapsed = new ResumeGrant(HASH, CERTIFICATE, NOW.minusSeconds(1));
    assertEquals("wrong-token", tokens.resumeRefusal(lapsed, false, "stolen?", "ef:01", NOW));
    assertEquals("wrong-certificate", tokens.resumeRefusal(lapsed, false, TOKEN, "ef:01", NOW));
  }
}
