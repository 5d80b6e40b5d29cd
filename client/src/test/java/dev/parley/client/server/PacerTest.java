package dev.parley.client.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.protocol.ClientMessage;
import dev.parley.protocol.CommandRate;
import dev.parley.protocol.Protocol;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class PacerTest {

  private static final CommandRate TWO_A_SECOND_THREE_AT_ONCE = new CommandRate(2.0, 3);
  private static final Duration HALF_SECOND = Duration.ofMillis(500);

  private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
  private final Pacer pacer = new Pacer(nanos::get);
  private final Outbox outbox = new Outbox(100, 32);

  private void timePasses(Duration duration) {
    nanos.addAndGet(duration.toNanos());
  }

  private Optional<ClientMessage> sendNow(ClientMessage frame) {
    pacer.enqueue(frame);
    return pacer.next(outbox);
  }

  private Optional<ClientMessage> message(Outbox.Entry entry) {
    return Optional.of(entry.frame());
  }

  @Test
  void shouldHoldNothingBackWithoutARate() {
    Outbox.Entry one = outbox.add("yoda", "one");
    pacer.enqueue(new ClientMessage.Hello(Protocol.VERSION));
    pacer.rateAnnounced(null);
    pacer.enqueue(new ClientMessage.WhoElse());
    assertEquals(Optional.of(new ClientMessage.Hello(Protocol.VERSION)), pacer.next(outbox));
    assertEquals(Optional.of(new ClientMessage.WhoElse()), pacer.next(outbox));
    // Messages wait for the login.
    assertEquals(Optional.empty(), pacer.next(outbox));
    pacer.loggedIn();
    assertEquals(message(one), pacer.next(outbox));
    assertEquals(Optional.empty(), pacer.next(outbox));
    assertEquals(Optional.empty(), pacer.nextTurn(outbox));
    assertEquals(Duration.ZERO, pacer.timeFor(1000));
  }

  @Test
  void shouldCountTheFramesSentBeforeTheRateWasKnown() {
    // The hello and, logging in again, the username go before the server's hello arrives.
    assertTrue(sendNow(new ClientMessage.Hello(Protocol.VERSION)).isPresent());
    assertTrue(sendNow(new ClientMessage.Username("hans")).isPresent());
    pacer.rateAnnounced(TWO_A_SECOND_THREE_AT_ONCE);
    assertTrue(sendNow(new ClientMessage.Password("falcon", 4000)).isPresent());
    assertEquals(Optional.empty(), sendNow(new ClientMessage.WhoElse()));
    assertEquals(Optional.of(HALF_SECOND), pacer.nextTurn(outbox));
    timePasses(HALF_SECOND);
    assertEquals(Optional.of(new ClientMessage.WhoElse()), pacer.next(outbox));
    assertEquals(Optional.empty(), pacer.nextTurn(outbox));
  }

  @Test
  void shouldSendABurstThenOneFrameATokenCommandsBeforeMessages() {
    pacer.rateAnnounced(TWO_A_SECOND_THREE_AT_ONCE);
    pacer.loggedIn();
    Outbox.Entry one = outbox.add("yoda", "one");
    Outbox.Entry two = outbox.add("yoda", "two");
    Outbox.Entry three = outbox.add("yoda", "three");
    Outbox.Entry four = outbox.add("yoda", "four");
    assertEquals(message(one), pacer.next(outbox));
    assertEquals(message(two), pacer.next(outbox));
    assertEquals(message(three), pacer.next(outbox));
    assertEquals(Optional.empty(), pacer.next(outbox));

    // A command typed now goes at the next token, ahead of the message waiting since before.
    pacer.enqueue(new ClientMessage.Block("vader"));
    assertEquals(Optional.empty(), pacer.next(outbox));
    assertEquals(Optional.of(HALF_SECOND), pacer.nextTurn(outbox));
    timePasses(HALF_SECOND.minusMillis(1));
    assertEquals(Optional.empty(), pacer.next(outbox));
    assertEquals(Optional.of(Duration.ofMillis(1)), pacer.nextTurn(outbox));
    timePasses(Duration.ofMillis(1));
    assertEquals(Optional.of(new ClientMessage.Block("vader")), pacer.next(outbox));
    assertEquals(Optional.empty(), pacer.next(outbox));
    timePasses(HALF_SECOND);
    assertEquals(message(four), pacer.next(outbox));
    // Nothing waits: no turn to wait for.
    assertEquals(Optional.empty(), pacer.nextTurn(outbox));
  }

  @Test
  void shouldWaitWholeMillisecondsRoundedUp() {
    pacer.rateAnnounced(new CommandRate(3.0, 1));
    assertTrue(sendNow(new ClientMessage.WhoElse()).isPresent());
    assertEquals(Optional.empty(), sendNow(new ClientMessage.WhoElse()));
    // 333.33 ms: a timer set for 333 ms would find no token yet.
    assertEquals(Optional.of(Duration.ofMillis(334)), pacer.nextTurn(outbox));
    timePasses(Duration.ofMillis(334));
    assertTrue(pacer.next(outbox).isPresent());
  }

  @Test
  void shouldReadTheNextCommandOnlyOnceNoTypedCommandWaits() {
    pacer.rateAnnounced(new CommandRate(2.0, 1));
    pacer.loggedIn();
    assertTrue(sendNow(new ClientMessage.WhoElse()).isPresent());
    assertFalse(pacer.holdsCommand());
    // An activity note waiting holds no line back...
    assertTrue(pacer.enqueue(new ClientMessage.NoteActivity()));
    assertFalse(pacer.holdsCommand());
    // ...and one behind it is not needed: the frame before it keeps the session alive.
    assertFalse(pacer.enqueue(new ClientMessage.NoteActivity()));
    assertTrue(pacer.enqueue(new ClientMessage.WhoElse()));
    assertTrue(pacer.holdsCommand());
    assertFalse(pacer.enqueue(new ClientMessage.NoteActivity()));
    assertEquals(2, pacer.queued());
    timePasses(HALF_SECOND);
    assertEquals(Optional.of(new ClientMessage.NoteActivity()), pacer.next(outbox));
    assertTrue(pacer.holdsCommand());
    timePasses(HALF_SECOND);
    assertEquals(Optional.of(new ClientMessage.WhoElse()), pacer.next(outbox));
    assertFalse(pacer.holdsCommand());
  }

  @Test
  void shouldSendTheLogoutOnceNoMessageThatCanGoWaits() {
    Outbox narrow = new Outbox(10, 1);
    pacer.rateAnnounced(TWO_A_SECOND_THREE_AT_ONCE);
    pacer.loggedIn();
    Outbox.Entry one = narrow.add("yoda", "one");
    Outbox.Entry two = narrow.add("yoda", "two");
    Outbox.Entry three = narrow.add("yoda", "three");
    pacer.enqueueLast(new ClientMessage.Logout());
    assertEquals(message(one), pacer.next(narrow));
    // Two waits for room in the window: the logout waits behind it, with no turn to wait for.
    assertEquals(Optional.empty(), pacer.next(narrow));
    assertEquals(Optional.empty(), pacer.nextTurn(narrow));
    narrow.remove(one.id());
    assertEquals(message(two), pacer.next(narrow));
    // Two could not be taken: three is held behind it, so nothing more can go but the logout.
    narrow.hold(two.id());
    assertEquals(Optional.of(new ClientMessage.Logout()), pacer.next(narrow));
    assertEquals(Optional.empty(), pacer.next(narrow));
    assertEquals(List.of(two, three), narrow.entries());
  }

  @Test
  void shouldForgetEverythingOfAConnectionOnReset() {
    pacer.rateAnnounced(new CommandRate(2.0, 1));
    pacer.loggedIn();
    outbox.add("yoda", "one");
    assertTrue(pacer.next(outbox).isPresent());
    pacer.enqueue(new ClientMessage.WhoElse());
    pacer.enqueue(new ClientMessage.Block("vader"));
    pacer.enqueueLast(new ClientMessage.Logout());
    assertEquals(Duration.ofMillis(1500), pacer.timeFor(3));
    assertEquals(3, pacer.reset());
    assertEquals(0, pacer.queued());
    assertEquals(Optional.empty(), pacer.rate());
    // No rate until the next hello, and no messages until the next login.
    outbox.connectionLost();
    outbox.add("yoda", "two");
    assertEquals(Optional.of(new ClientMessage.WhoElse()), sendNow(new ClientMessage.WhoElse()));
    assertEquals(Optional.empty(), pacer.next(outbox));
    assertEquals(Duration.ZERO, pacer.timeFor(3));
  }
}
