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
    Outbox outbox = new Outbox(10);
    Outbox.Entry first = outbox.add("yoda", "one");
    Outbox.Entry second = outbox.add("luke", "two");
    assertNotEquals(first.id(), second.id());
    assertEquals(first.id(), UUID.fromString(first.id()).toString());
    assertEquals(List.of(first, second), outbox.entries());
    assertEquals(new ClientMessage.SendMessage("yoda", "one", first.id()), first.frame());
  }

  @Test
  void shouldForgetMessagesByIdOnly() {
    Outbox outbox = new Outbox(10);
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
    Outbox outbox = new Outbox(2);
    Outbox.Entry first = outbox.add("yoda", "one");
    outbox.add("yoda", "two");
    assertTrue(outbox.isFull());
    assertThrows(IllegalStateException.class, () -> outbox.add("yoda", "three"));
    outbox.remove(first.id());
    assertFalse(outbox.isFull());
  }

  @Test
  void shouldNoticeTheFirstRetryOfEachMessageOnce() {
    Outbox outbox = new Outbox(10);
    Outbox.Entry entry = outbox.add("yoda", "one");
    assertTrue(outbox.firstRetry(entry.id()));
    assertFalse(outbox.firstRetry(entry.id()));
    assertFalse(outbox.firstRetry("not-an-id"));
  }
}
