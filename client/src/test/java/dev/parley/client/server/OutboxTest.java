package dev.parley.client.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.protocol.ClientMessage;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class OutboxTest {

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
    assertEquals(List.of(one, two), outbox.release());
    assertEquals(2, outbox.inFlight());
    // Full: nothing more until an answer frees a place.
    assertEquals(List.of(), outbox.release());
    assertEquals(Optional.of(one), outbox.answered(one.id()));
    outbox.remove(one.id());
    assertEquals(List.of(three), outbox.release());
    assertFalse(outbox.hasWaiting());
    assertEquals(List.of(), outbox.release());
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
    outbox.release();
    assertEquals(Optional.of(one), outbox.answered(null));
    outbox.remove(one.id());
    assertEquals(Optional.of(two), outbox.answered(null));
    assertEquals(Optional.empty(), outbox.answered("not-an-id"));
  }

  @Test
  void shouldHoldAnUnstoredMessageOutOfTheWindowUntilItsRetry() {
    Outbox outbox = new Outbox(10, 1);
    Outbox.Entry one = outbox.add("yoda", "one");
    Outbox.Entry two = outbox.add("yoda", "two");
    assertEquals(List.of(one), outbox.release());
    assertEquals(Optional.of(one), outbox.hold(one.id()));
    assertEquals(0, outbox.inFlight());
    // Its place goes to the next one; it is not released again before its retry.
    assertEquals(List.of(two), outbox.release());
    outbox.remove(two.id());
    assertEquals(List.of(), outbox.release());
    assertFalse(outbox.hasWaiting());
    outbox.retry(one.id());
    assertEquals(List.of(one), outbox.release());
    assertEquals(Optional.empty(), outbox.hold("not-an-id"));
  }

  @Test
  void shouldSendEverythingAgainInOrderAfterALostConnection() {
    Outbox outbox = new Outbox(10, 2);
    Outbox.Entry one = outbox.add("yoda", "one");
    Outbox.Entry two = outbox.add("yoda", "two");
    Outbox.Entry three = outbox.add("yoda", "three");
    outbox.release();
    outbox.hold(one.id());
    outbox.release();
    assertEquals(2, outbox.inFlight());
    outbox.connectionLost();
    assertEquals(0, outbox.inFlight());
    // The held one too, first: its timer died with the connection.
    assertEquals(List.of(one, two), outbox.release());
    outbox.remove(one.id());
    assertEquals(List.of(three), outbox.release());
  }

  @Test
  void shouldFreeThePlaceOfARemovedMessage() {
    Outbox outbox = new Outbox(10, 1);
    Outbox.Entry one = outbox.add("yoda", "one");
    Outbox.Entry two = outbox.add("yoda", "two");
    outbox.release();
    assertEquals(Optional.of(one), outbox.remove(one.id()));
    assertEquals(0, outbox.inFlight());
    // A waiting message removed takes no place it never had.
    Outbox.Entry three = outbox.add("yoda", "three");
    outbox.remove(two.id());
    assertEquals(List.of(three), outbox.release());
    assertEquals(1, outbox.inFlight());
  }

  @Test
  void shouldRefuseAnEmptyWindow() {
    assertThrows(IllegalArgumentException.class, () -> new Outbox(10, 0));
  }
}
