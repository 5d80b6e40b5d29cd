package dev.parley.server.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.japi.Pair;
import akka.stream.Attributes;
import akka.stream.BufferOverflowException;
import akka.stream.Materializer;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Keep;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.stream.testkit.TestPublisher;
import akka.stream.testkit.TestSubscriber;
import akka.stream.testkit.javadsl.TestSink;
import akka.stream.testkit.javadsl.TestSource;
import dev.parley.protocol.ClientMessage;
import dev.parley.protocol.Inbound;
import dev.parley.protocol.ServerMessage;
import dev.parley.server.testing.LogCapturingExtension;
import dev.parley.server.testing.TestKits;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The one stage between a connection's codec and its session: the session's stream protocol
 * (started, one frame per ack, the end told once), the frames told to it going out in order, and
 * the two directions ending together, with a probe in the session's place and stream probes for the
 * client's two sides.
 */
@ExtendWith(LogCapturingExtension.class)
class SessionPortTest {

  private static final ActorTestKit testKit = TestKits.create();
  private static final Materializer materializer = Materializer.matFromSystem(testKit.system());
  private static final Duration PATIENCE = Duration.ofSeconds(5);

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  /** The client's frames in, the session's frames out. */
  private record Connection(
      TestPublisher.Probe<Inbound<ClientMessage>> client,
      TestSubscriber.Probe<ServerMessage> written) {}

  private Connection connect(TestProbe<Session.Command> session) {
    var system = testKit.system().classicSystem();
    Pair<TestPublisher.Probe<Inbound<ClientMessage>>, TestSubscriber.Probe<ServerMessage>> run =
        TestSource.<Inbound<ClientMessage>>probe(system)
            .via(Flow.fromGraph(SessionPort.INSTANCE))
            .toMat(TestSink.<ServerMessage>probe(system), Keep.both())
            .addAttributes(Attributes.apply(new SessionPort.Target(session.ref())))
            .run(materializer);
    return new Connection(run.first(), run.second());
  }

  private static Inbound<ClientMessage> frame(int n) {
    return new Inbound.Frame<>(new ClientMessage.Broadcast("frame " + n));
  }

  private static ServerMessage notice(int n) {
    return new ServerMessage.BroadcastReceived("hans", "notice " + n);
  }

  /** The port's start: where the session acknowledges frames and sends its own. */
  private static Session.StreamStarted started(TestProbe<Session.Command> session) {
    return session.expectMessageClass(Session.StreamStarted.class, PATIENCE);
  }

  private static Inbound<ClientMessage> received(TestProbe<Session.Command> session) {
    return session.expectMessageClass(Session.FrameReceived.class, PATIENCE).inbound();
  }

  @Test
  void shouldStartTheSessionThenHandItOneFramePerAcknowledgement() {
    TestProbe<Session.Command> session = testKit.createTestProbe(Session.Command.class);
    Connection connection = connect(session);
    ActorRef<Session.StreamAck> acks = started(session).ackTo();

    connection.client().sendNext(frame(1)).sendNext(frame(2));
    session.expectNoMessage(Duration.ofMillis(200));
    acks.tell(Session.StreamAck.INSTANCE);
    assertEquals(frame(1), received(session));
    session.expectNoMessage(Duration.ofMillis(200));
    acks.tell(Session.StreamAck.INSTANCE);
    assertEquals(frame(2), received(session));
    acks.tell(Session.StreamAck.INSTANCE);
    connection.client().sendNext(frame(3));
    // The session had asked already: the frame goes to it as it arrives.
    assertEquals(frame(3), received(session));
  }

  @Test
  void shouldReadNoMoreThanItsReadAheadBeyondWhatTheSessionAcknowledged() {
    TestProbe<Session.Command> session = testKit.createTestProbe(Session.Command.class);
    AtomicInteger read = new AtomicInteger();
    // A client that always has the next frame ready: only the port's backpressure stops it.
    Source.fromIterator(() -> IntStream.iterate(1, n -> n + 1).iterator())
        .map(
            n -> {
              read.incrementAndGet();
              return frame(n);
            })
        .via(Flow.fromGraph(SessionPort.INSTANCE))
        .to(Sink.ignore())
        .addAttributes(Attributes.apply(new SessionPort.Target(session.ref())))
        .run(materializer);
    ActorRef<Session.StreamAck> acks = started(session).ackTo();

    for (int acked = 1; acked <= 3 * SessionPort.READ_AHEAD; acked++) {
      acks.tell(Session.StreamAck.INSTANCE);
      assertEquals(frame(acked), received(session));
      assertTrue(
          read.get() <= SessionPort.READ_AHEAD + acked,
          read.get() + " frames read with " + acked + " acknowledged");
    }
  }

  @Test
  void shouldWriteWhatItIsToldInOrderAndEndTheConnectionWithTheGoodbye() {
    TestProbe<Session.Command> session = testKit.createTestProbe(Session.Command.class);
    Connection connection = connect(session);
    ActorRef<ServerMessage> outbound = started(session).outbound();

    // Told before the encoder asks: they wait, in order.
    outbound.tell(notice(1));
    outbound.tell(notice(2));
    ServerMessage goodbye = new ServerMessage.Goodbye(ServerMessage.Goodbye.Reason.LOGGED_OUT);
    outbound.tell(goodbye);
    outbound.tell(notice(3));

    connection.written().request(10);
    assertEquals(notice(1), connection.written().expectNext());
    assertEquals(notice(2), connection.written().expectNext());
    assertEquals(goodbye, connection.written().expectNext());
    connection.written().expectComplete();
    connection.client().expectCancellation();
    assertSame(
        Session.StreamCompleted.INSTANCE,
        session.expectMessageClass(Session.StreamCompleted.class, PATIENCE));
  }

  @Test
  void shouldHandTheSessionTheFramesReadAheadAfterTheClientEndsItsSide() {
    TestProbe<Session.Command> session = testKit.createTestProbe(Session.Command.class);
    Connection connection = connect(session);
    ActorRef<Session.StreamAck> acks = started(session).ackTo();

    connection.client().sendNext(frame(1)).sendNext(frame(2)).sendComplete();
    // The connection ends at once; no answer could reach the client now.
    connection.written().request(1);
    connection.written().expectComplete();
    session.expectNoMessage(Duration.ofMillis(200));

    acks.tell(Session.StreamAck.INSTANCE);
    assertEquals(frame(1), received(session));
    acks.tell(Session.StreamAck.INSTANCE);
    assertEquals(frame(2), received(session));
    session.expectMessageClass(Session.StreamCompleted.class, PATIENCE);
  }

  @Test
  void shouldFailAConnectionThatTakesNoFramesWhenTooManyWait() {
    TestProbe<Session.Command> session = testKit.createTestProbe(Session.Command.class);
    Connection connection = connect(session);
    ActorRef<ServerMessage> outbound = started(session).outbound();

    connection.written().ensureSubscription();
    for (int n = 1; n <= SessionPort.FRAMES_IN_FLIGHT; n++) {
      outbound.tell(notice(n));
    }
    session.expectNoMessage(Duration.ofMillis(200));
    outbound.tell(notice(SessionPort.FRAMES_IN_FLIGHT + 1));

    Session.StreamFailed failed = session.expectMessageClass(Session.StreamFailed.class, PATIENCE);
    assertInstanceOf(BufferOverflowException.class, failed.cause());
    assertInstanceOf(BufferOverflowException.class, connection.written().expectError());
    connection.client().expectCancellation();
  }

  @Test
  void shouldEndTheConnectionWhenTheSessionStops() {
    TestProbe<Session.Command> session = testKit.createTestProbe(Session.Command.class);
    Connection connection = connect(session);
    started(session);

    session.stop();

    connection.written().request(1);
    connection.written().expectComplete();
    connection.client().expectCancellation();
  }

  @Test
  void shouldTellTheSessionWhenTheConnectionTakesNoMore() {
    TestProbe<Session.Command> session = testKit.createTestProbe(Session.Command.class);
    Connection connection = connect(session);
    started(session);

    connection.written().cancel();

    session.expectMessageClass(Session.StreamCompleted.class, PATIENCE);
    connection.client().expectCancellation();
    session.expectNoMessage(Duration.ofMillis(200));
  }

  @Test
  void shouldTellTheSessionOnceWhenTheConnectionBreaks() {
    TestProbe<Session.Command> session = testKit.createTestProbe(Session.Command.class);
    Connection connection = connect(session);
    started(session);
    IllegalStateException reset = new IllegalStateException("connection reset");

    connection.client().sendError(reset);

    assertSame(reset, session.expectMessageClass(Session.StreamFailed.class, PATIENCE).cause());
    assertSame(reset, connection.written().expectSubscriptionAndError());
    session.expectNoMessage(Duration.ofMillis(200));
  }

  @Test
  void shouldRefuseToRunWithoutASession() {
    IllegalStateException refused =
        assertThrows(
            IllegalStateException.class,
            () ->
                Source.<Inbound<ClientMessage>>empty()
                    .via(Flow.fromGraph(SessionPort.INSTANCE))
                    .runWith(Sink.ignore(), materializer));
    assertTrue(refused.getMessage().contains("SessionPort.Target"), refused.getMessage());
  }
}
