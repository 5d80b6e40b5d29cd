package dev.parley.client.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class InboxTest {

  private final Inbox inbox = new Inbox();

  @Test
  void shouldAdmitOnlySeqsAboveEveryOneAdmitted() {
    assertTrue(inbox.admit(3));
    assertFalse(inbox.admit(3));
    assertFalse(inbox.admit(2));
    // Not necessarily one more.
    assertTrue(inbox.admit(7));
  }

  @Test
  void shouldAcknowledgeOnceEverythingAdmittedIsShown() {
    inbox.admit(1);
    inbox.admit(2);
    assertEquals(OptionalLong.empty(), inbox.acknowledgement());
    inbox.shown(1);
    assertEquals(OptionalLong.empty(), inbox.acknowledgement());
    inbox.shown(2);
    assertEquals(OptionalLong.of(2), inbox.acknowledgement());
    // Acknowledged already.
    assertEquals(OptionalLong.empty(), inbox.acknowledgement());
  }

  @Test
  void shouldAcknowledgeAgainOnANewConnection() {
    inbox.admit(4);
    inbox.shown(4);
    assertEquals(OptionalLong.of(4), inbox.acknowledgement());
    inbox.connectionChanged();
    assertEquals(OptionalLong.of(4), inbox.acknowledgement());
  }

  @Test
  void shouldAcknowledgeWhatIsShownAtTheEndEvenWithMoreBeingPrinted() {
    inbox.admit(1);
    inbox.admit(2);
    inbox.shown(1);
    assertEquals(OptionalLong.of(1), inbox.finalAcknowledgement());
    assertEquals(OptionalLong.empty(), inbox.finalAcknowledgement());
  }

  @Test
  void shouldHaveNothingToAcknowledgeBeforeAnyMessage() {
    assertEquals(OptionalLong.empty(), inbox.acknowledgement());
    assertEquals(OptionalLong.empty(), inbox.finalAcknowledgement());
  }
}
