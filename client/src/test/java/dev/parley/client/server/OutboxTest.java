package dev.parley.client.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.protocol.ClientMessage;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class OutboxTest {

  /** Everything the outbox releases now, as an unpaced session takes it: oldest first. */
  private static List<Outbox.Entry> releaseAll(Outbox outbox) {
    List<Outbox.Entry> released = new ArrayList<>();
    for (Optional<Outbox.Entry> next = outbox.releaseNext();
        next.isPresent();
        next = outbox.releaseNext()) {
      released.add(next.get());
    }
    return released;
  }

  @Test
  void shouldKeepMessagesInOrderUnderFreshUuids() {
    Outbox outbox = new Outbox(10, 10);
    Outbox.Entry first = outbox.add("yoda", "one");
    Outbox.Entry second = outbox.add("luke", "two");
    assertNotEquals(first.id(), second.id());
    assertEquals(first.id(), UUID.fromString(first.id()).toString());
    assertEquals(List.of(first, second), outbox.entries());
    assertEquals(new ClientMessage.SendMessage("yoda", "one", first.id()), first.frame());
  }

  @Test
  void shouldForgetMessagesByIdOnly() {
    Outbox outbox = new Outbox(10, 10);
    Outbox.Entry first = outbox.add("yoda", "one");
    Outbox.Entry second = outbox.add("luke", "two");
    assertEquals(Optional.of(first), outbox.remove(first.id()));
    assertEquals(Optional.empty(), outbox.remove(first.id()));
    assertEquals(Optional.empty(), outbox.remove("not-an-id"));
    assertEquals(Optional.empty(), outbox.remove(null));
    assertEquals(List.of(second), outbox.entries());
    assertEquals(1, outbox.size());
  }

  @Test
  void shouldBeFullAtItsCapacity() {
    Outbox outbox = new Outbox(2, 2);
    Outbox.Entry first = outbox.add("yoda", "one");
    outbox.add("yoda", "two");
    assertTrue(outbox.isFull());
    assertThrows(IllegalStateException.class, () -> outbox.add("yoda", "three"));
    outbox.remove(first.id());
    assertFalse(outbox.isFull());
  }

  @Test
  void shouldNoticeTheFirstRetryOfEachMessageOnce() {
    Outbox outbox = new Outbox(10, 10);
    Outbox.Entry entry = outbox.add("yoda", "one");
    assertTrue(outbox.firstRetry(entry.id()));
    assertFalse(outbox.firstRetry(entry.id()));
    assertFalse(outbox.firstRetry("not-an-id"));
  }

  @Test
  void shouldReleaseTheOldestWaitingMessagesUpToTheWindow() {
    Outbox outbox = new Outbox(10, 2);
    Outbox.Entry one = outbox.add("yoda", "one");
    Outbox.Entry two = outbox.add("yoda", "two");
    Outbox.Entry three = outbox.add("yoda", "three");
    assertTrue(outbox.hasWaiting());
    assertEquals(List.of(one, two), releaseAll(outbox));
    assertEquals(2, outbox.inFlight());
    // Full: nothing more until an answer frees a place.
    assertEquals(List.of(), releaseAll(outbox));
    assertEquals(Optional.of(one), outbox.answered(one.id()));
    outbox.remove(one.id());
    assertEquals(List.of(three), releaseAll(outbox));
    assertFalse(outbox.hasWaiting());
    assertEquals(List.of(), releaseAll(outbox));
    assertEquals(List.of(two, three), outbox.entries());
  }

  @Test
  void shouldTakeAnAnswerWithoutIdForTheOldestInFlight() {
    Outbox outbox = new Outbox(10, 2);
    Outbox.Entry one = outbox.add("yoda", "one");
    Outbox.Entry two = outbox.add("yoda", "two");
    // Not sent yet: no answer can be about it.
    assertEquals(Optional.empty(), outbox.answered(one.id()));
    assertEquals(Optional.empty(), outbox.answered(null));
    releaseAll(outbox);
    assertEquals(Optional.of(one), outbox.answered(null));
    outbox.remove(one.id());
    assertEquals(Optional.of(two), outbox.answered(null));
    assertEquals(Optional.empty(), outbox.answered("not-an-id"));
  }

  @Test
  void shouldHoldAnUnstoredMessageAndEverythingTypedAfterItUntilItsRetry() {
    Outbox outbox = new Outbox(10, 1);
    Outbox.Entry one = outbox.add("yoda", "one");
    Outbox.Entry two = outbox.add("yoda", "two");
    assertEquals(List.of(one), releaseAll(outbox));
    assertEquals(Optional.of(one), outbox.hold(one.id()));
    assertEquals(0, outbox.inFlight());
    // Its place is free, but head of line: the younger one does not overtake it.
    assertFalse(outbox.canRelease());
    assertFalse(outbox.hasWaiting());
    assertEquals(List.of(), releaseAll(outbox));
    outbox.retry(one.id());
    assertTrue(outbox.canRelease());
    assertEquals(List.of(one), releaseAll(outbox));
    // Then the next in order, once the window has room.
    assertEquals(List.of(), releaseAll(outbox));
    outbox.remove(one.id());
    assertEquals(List.of(two), releaseAll(outbox));
    assertEquals(Optional.empty(), outbox.hold("not-an-id"));
  }

  @Test
  void shouldLetMessagesOlderThanAHeldOneGoButNoneYounger() {
    Outbox outbox = new Outbox(10, 2);
    Outbox.Entry one = outbox.add("yoda", "one");
    Outbox.Entry two = outbox.add("yoda", "two");
    Outbox.Entry three = outbox.add("luke", "three");
    assertEquals(List.of(one, two), releaseAll(outbox));
    // Two could not be taken; one is still in flight.
    outbox.hold(two.id());
    assertEquals(1, outbox.inFlight());
    assertEquals(List.of(), releaseAll(outbox));
    outbox.remove(one.id());
    assertEquals(List.of(), releaseAll(outbox));
    // Typed after the hold, also behind it.
    Outbox.Entry four = outbox.add("yoda", "four");
    assertEquals(List.of(), releaseAll(outbox));
    outbox.retry(two.id());
    assertEquals(List.of(two, three), releaseAll(outbox));
    outbox.remove(two.id());
    assertEquals(List.of(four), releaseAll(outbox));
  }

  @Test
  void shouldTellOfARateEpisodeOnceUntilEveryMessageRefusedForTheRateIsAccepted() {
    Outbox outbox = new Outbox(10, 3);
    Outbox.Entry one = outbox.add("yoda", "one");
    Outbox.Entry two = outbox.add("yoda", "two");
    Outbox.Entry three = outbox.add("yoda", "three");
    releaseAll(outbox);
    assertTrue(outbox.holdForRate(one.id()));
    assertFalse(outbox.holdForRate(two.id()));
    assertEquals(1, outbox.inFlight());
    assertFalse(outbox.holdForRate("not-an-id"));

    // One goes again ahead of two, which is still held, and is refused again: the same episode.
    outbox.retry(one.id());
    assertEquals(List.of(one), releaseAll(outbox));
    assertFalse(outbox.holdForRate(one.id()));
    outbox.remove(three.id());
    outbox.retry(one.id());
    outbox.retry(two.id());
    assertEquals(List.of(one, two), releaseAll(outbox));
    outbox.remove(one.id());
    outbox.remove(two.id());

    // Every message refused for the rate was accepted: the next refusal begins a new episode.
    Outbox.Entry four = outbox.add("yoda", "four");
    assertEquals(List.of(four), releaseAll(outbox));
    assertTrue(outbox.holdForRate(four.id()));
    // So does one on a new connection, which has a rate of its own.
    outbox.connectionLost();
    assertEquals(List.of(four), releaseAll(outbox));
    assertTrue(outbox.holdForRate(four.id()));
  }

  @Test
  void shouldSendEverythingAgainInOrderAfterALostConnection() {
    Outbox outbox = new Outbox(10, 2);
    Outbox.Entry one = outbox.add("yoda", "one");
    Outbox.Entry two = outbox.add("yoda", "two");
    Outbox.Entry three = outbox.add("yoda", "three");
    releaseAll(outbox);
    outbox.hold(one.id());
    assertEquals(1, outbox.inFlight());
    outbox.connectionLost();
    assertEquals(0, outbox.inFlight());
    // The held one too, first: its timer died with the connection.
    assertEquals(List.of(one, two), releaseAll(outbox));
    outbox.remove(one.id());
    assertEquals(List.of(three), releaseAll(outbox));
  }

  @Test
  void shouldFreeThePlaceOfARemovedMessage() {
    Outbox outbox = new Outbox(10, 1);
    Outbox.Entry one = outbox.add("yoda", "one");
    Outbox.Entry two = outbox.add("yoda", "two");
    releaseAll(outbox);
    assertEquals(Optional.of(one), outbox.remove(one.id()));
    assertEquals(0, outbox.inFlight());
    // A waiting message removed takes no place it never had.
    Outbox.Entry three = outbox.add("yoda", "three");
    outbox.remove(two.id());
    assertEquals(List.of(three), releaseAll(outbox));
    assertEquals(1, outbox.inFlight());
  }

  @Test
  void shouldRefuseAnEmptyWindow() {
    assertThrows(IllegalArgumentException.class, () -> new Outbox(10, 0));
  }
}
