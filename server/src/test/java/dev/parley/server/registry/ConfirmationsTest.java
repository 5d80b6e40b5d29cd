package dev.parley.server.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.protocol.ServerMessage;
import dev.parley.protocol.ServerMessage.Error.Code;
import dev.parley.server.store.Change;
import dev.parley.server.store.Store;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A block, unblock or logout takes effect and is answered only once the journal has stored it. */
class ConfirmationsTest {

  private final Confirmations confirmations = new Confirmations();
  private final List<ServerMessage> replies = new ArrayList<>();
  private int applied;

  @Test
  void shouldApplyAndConfirmOnlyOnceStored() {
    Change change = new Change.BlockAdded("ann", "bob");
    confirmations.applyOnceStored(change, "block", "bob", this::apply, replies::add);
    assertFalse(confirmations.isEmpty());
    assertEquals(0, applied);

    confirmations.recorded(change, Store.Outcome.APPLIED);

    assertEquals(1, applied);
    assertEquals(List.of(new ServerMessage.BlockConfirmed("bob")), replies);
    assertTrue(confirmations.isEmpty());
  }

  @Test
  void shouldChangeNothingAndAnswerUnavailableWhenNotStored() {
    Change change = new Change.BlockRemoved("ann", "bob");
    confirmations.applyOnceStored(change, "unblock", "bob", this::apply, replies::add);

    confirmations.recorded(change, Store.Outcome.FAILED);

    assertEquals(0, applied);
    assertEquals(List.of(new ServerMessage.Error(Code.UNAVAILABLE, "unblock", "bob")), replies);
    assertTrue(confirmations.isEmpty());
  }

  @Test
  void shouldTellAnEqualChangeFromTheOneWaitedFor() {
    Change waited = new Change.BlockAdded("ann", "bob");
    confirmations.applyOnceStored(waited, "block", "bob", this::apply, replies::add);

    confirmations.recorded(new Change.BlockAdded("ann", "bob"), Store.Outcome.APPLIED);
    assertEquals(0, applied);
    assertFalse(confirmations.isEmpty());

    confirmations.recorded(waited, Store.Outcome.APPLIED);
    assertEquals(1, applied);
  }

  @Test
  void shouldRunWhatWaitsForAChangeOnce() {
    Change logout = new Change.LoggedOut("ann", Instant.EPOCH, null);
    List<Store.Outcome> outcomes = new ArrayList<>();
    confirmations.expect(logout, outcomes::add);

    confirmations.recorded(logout, Store.Outcome.APPLIED);
    confirmations.recorded(logout, Store.Outcome.APPLIED);

    assertEquals(List.of(Store.Outcome.APPLIED), outcomes);
  }

  private ServerMessage apply() {
    applied++;
    return new ServerMessage.BlockConfirmed("bob");
  }
}
