package dev.parley.server.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.javadsl.Behaviors;
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
import akka.util.ByteString;
import dev.parley.protocol.ClientMessage;
import dev.parley.protocol.Inbound;
import dev.parley.protocol.JsonCodec;
import dev.parley.protocol.ServerMessage;
import dev.parley.server.testing.LogCapturingExtension;
import dev.parley.server.testing.TestKits;
import dev.parley.transport.nio.WriteMark;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The one stage between a connection's bytes and its session: the framing (what the client sends,
 * split into lines and decoded), the session's stream protocol (started, one frame per ack, the end
 * told once), the frames told to it going out in order and bounded in bytes, and the two directions
 * ending together, with a probe in the session's place and stream probes for the client's two
 * sides.
 */
@ExtendWith(LogCapturingExtension.class)
class SessionPortTest {

  private static final ActorTestKit testKit = TestKits.create();
  private static final Materializer materializer = Materializer.matFromSystem(testKit.system());
  private static final Duration PATIENCE = Duration.ofSeconds(5);
  private static final int FRAME_LIMIT = 256;
  private static final long BUFFER_BYTES = 4096;
  private static final SessionPort<ByteString> PORT = SessionPort.lines(FRAME_LIMIT, BUFFER_BYTES);

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  /** The client's bytes in, the session's bytes out. */
  private record Connection(
      TestPublisher.Probe<ByteString> client, TestSubscriber.Probe<ByteString> written) {}

  private Connection connect(TestProbe<Session.Command> session) {
    return connect(session.ref());
  }

  private Connection connect(ActorRef<Session.Command> session) {
    return connect(Attributes.apply(new SessionPort.Target(session)));
  }

  private Connection connect(Attributes attributes) {
    var system = testKit.system().classicSystem();
    Pair<TestPublisher.Probe<ByteString>, TestSubscriber.Probe<ByteString>> run =
        TestSource.<ByteString>probe(system)
            .via(Flow.fromGraph(PORT))
            .toMat(TestSink.<ByteString>probe(system), Keep.both())
            .addAttributes(attributes)
            .run(materializer);
    return new Connection(run.first(), run.second());
  }

  private static ClientMessage command(int n) {
    return new ClientMessage.Broadcast("frame " + n);
  }

  /** Commands as the client writes them, one line each, in one chunk. */
  private static ByteString lines(int... numbers) {
    ByteString bytes = ByteString.emptyByteString();
    for (int n : numbers) {
      bytes = bytes.concat(JsonCodec.CLIENT.encode(command(n)));
    }
    return bytes;
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

  private static void assertReceived(int n, TestProbe<Session.Command> session) {
    assertEquals(new Inbound.Frame<>(command(n)), received(session));
  }

  /** The next {@code count} lines written, however they were joined into writes. */
  private static List<ServerMessage> written(Connection connection, int count) {
    List<ServerMessage> frames = new ArrayList<>();
    connection.written().request(count);
    while (frames.size() < count) {
      ByteString write = connection.written().expectNext();
      for (String line : write.utf8String().split("\n")) {
        frames.add(((Inbound.Frame<ServerMessage>) JsonCodec.SERVER.decode(line)).frame());
      }
    }
    return frames;
  }

  @Test
  void shouldStartTheSessionThenHandItOneFramePerAcknowledgement() {
    TestProbe<Session.Command> session = testKit.createTestProbe(Session.Command.class);
    Connection connection = connect(session);
    ActorRef<Session.StreamAck> acks = started(session).ackTo();

    connection.client().sendNext(lines(1, 2));
    session.expectNoMessage(Duration.ofMillis(200));
    acks.tell(Session.StreamAck.INSTANCE);
    assertReceived(1, session);
    session.expectNoMessage(Duration.ofMillis(200));
    acks.tell(Session.StreamAck.INSTANCE);
    assertReceived(2, session);
    acks.tell(Session.StreamAck.INSTANCE);
    connection.client().sendNext(lines(3));
    // The session had asked already: the frame goes to it as it arrives.
    assertReceived(3, session);
  }

  @Test
  void shouldJoinALineSplitAcrossReadsAndSkipBlankLines() {
    TestProbe<Session.Command> session = testKit.createTestProbe(Session.Command.class);
    Connection connection = connect(session);
    ActorRef<Session.StreamAck> acks = started(session).ackTo();
    ByteString line = lines(1);

    acks.tell(Session.StreamAck.INSTANCE);
    connection.client().sendNext(ByteString.fromString(" \t\r\n\n")).sendNext(line.take(5));
    session.expectNoMessage(Duration.ofMillis(200));
    connection.client().sendNext(line.drop(5));
    assertReceived(1, session);
  }

  @Test
  void shouldReadNoFurtherWhileAWholeFrameWaitsForTheSession() {
    TestProbe<Session.Command> session = testKit.createTestProbe(Session.Command.class);
    AtomicInteger read = new AtomicInteger();
    // A client that always has the next line ready: only the port's backpressure stops it.
    Source.fromIterator(() -> IntStream.iterate(1, n -> n + 1).iterator())
        .map(
            n -> {
              read.incrementAndGet();
              return lines(n);
            })
        .via(Flow.fromGraph(PORT))
        .to(Sink.ignore())
        .addAttributes(Attributes.apply(new SessionPort.Target(session.ref())))
        .run(materializer);
    ActorRef<Session.StreamAck> acks = started(session).ackTo();

    for (int acked = 1; acked <= 50; acked++) {
      acks.tell(Session.StreamAck.INSTANCE);
      assertReceived(acked, session);
      assertTrue(
          read.get() <= acked + 1, read.get() + " lines read with " + acked + " acknowledged");
    }
  }

  @Test
  void shouldWriteWhatItIsToldInOrderAndEndTheConnectionWithTheGoodbye() {
    TestProbe<Session.Command> session = testKit.createTestProbe(Session.Command.class);
    Connection connection = connect(session);
    ActorRef<ServerMessage> outbound = started(session).outbound();

    // Told before the socket asks: they wait, in order.
    outbound.tell(notice(1));
    outbound.tell(notice(2));
    ServerMessage goodbye = new ServerMessage.Goodbye(ServerMessage.Goodbye.Reason.LOGGED_OUT);
    outbound.tell(goodbye);
    outbound.tell(notice(3));

    assertEquals(List.of(notice(1), notice(2), goodbye), written(connection, 3));
    connection.written().request(1);
    connection.written().expectComplete();
    connection.client().expectCancellation();
    assertSame(
        Session.StreamCompleted.INSTANCE,
        session.expectMessageClass(Session.StreamCompleted.class, PATIENCE));
  }

  @Test
  void shouldTellTheSocketWhichWritesMayWaitForTheWriteHold() {
    TestProbe<Session.Command> session = testKit.createTestProbe(Session.Command.class);
    WriteMark mark = new WriteMark();
    Connection connection =
        connect(Attributes.apply(new SessionPort.Target(session.ref())).and(mark));
    ActorRef<ServerMessage> outbound = started(session).outbound();
    ServerMessage shared = new ServerMessage.Encoded(JsonCodec.SERVER.encode(notice(1)));
    ServerMessage own = new ServerMessage.OnlineUsers(List.of("yoda"), null);
    ServerMessage confirmed = new ServerMessage.BroadcastSent(true);

    outbound.tell(shared);
    assertEquals(List.of(notice(1)), written(connection, 1));
    assertTrue(mark.mayWait(), "a broadcast, shared by every member, may wait");

    outbound.tell(own);
    assertEquals(List.of(own), written(connection, 1));
    assertFalse(mark.mayWait(), "a reply of the connection's own may not");

    outbound.tell(confirmed);
    assertEquals(List.of(confirmed), written(connection, 1));
    assertTrue(mark.mayWait(), "a broadcast's confirmation is part of the fanout's load");

    outbound.tell(new ServerMessage.Heartbeat());
    assertEquals(List.of(new ServerMessage.Heartbeat()), written(connection, 1));
    assertTrue(mark.mayWait(), "a heartbeat has seconds to arrive");
  }

  @Test
  void shouldHandTheSessionTheFramesReadAfterTheClientEndsItsSide() {
    TestProbe<Session.Command> session = testKit.createTestProbe(Session.Command.class);
    Connection connection = connect(session);
    ActorRef<Session.StreamAck> acks = started(session).ackTo();

    // The last line has no line feed: the end of the input ends it.
    ByteString last = lines(2);
    connection.client().sendNext(lines(1).concat(last.take(last.length() - 1))).sendComplete();
    // The connection ends at once; no answer could reach the client now.
    connection.written().request(1);
    connection.written().expectComplete();
    session.expectNoMessage(Duration.ofMillis(200));

    acks.tell(Session.StreamAck.INSTANCE);
    assertReceived(1, session);
    acks.tell(Session.StreamAck.INSTANCE);
    assertReceived(2, session);
    session.expectMessageClass(Session.StreamCompleted.class, PATIENCE);
  }

  @Test
  void shouldHandNothingAfterAnOversizedLineAndReadOnUntilTheSessionCloses() {
    TestProbe<Session.Command> session = testKit.createTestProbe(Session.Command.class);
    Connection connection = connect(session);
    ActorRef<Session.StreamAck> acks = started(session).ackTo();

    connection
        .client()
        .sendNext(lines(1).concat(ByteString.fromString("x".repeat(FRAME_LIMIT + 1))));
    acks.tell(Session.StreamAck.INSTANCE);
    assertReceived(1, session);
    acks.tell(Session.StreamAck.INSTANCE);
    assertEquals(new Inbound.Oversized<ClientMessage>(FRAME_LIMIT), received(session));
    acks.tell(Session.StreamAck.INSTANCE);
    // Read and dropped: the session decides when to close, after saying why.
    connection.client().sendNext(lines(2)).sendNext(lines(3));
    session.expectNoMessage(Duration.ofMillis(200));
  }

  @Test
  void shouldFailAConnectionThatLeavesMoreBytesUnreadThanItsBuffer() {
    TestProbe<Session.Command> session = testKit.createTestProbe(Session.Command.class);
    Connection connection = connect(session);
    ActorRef<ServerMessage> outbound = started(session).outbound();
    long fits = BUFFER_BYTES / JsonCodec.SERVER.encode(notice(1)).length();

    connection.written().ensureSubscription();
    for (int n = 1; n <= fits; n++) {
      outbound.tell(notice(1));
    }
    session.expectNoMessage(Duration.ofMillis(200));
    outbound.tell(notice(1));

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
  void shouldStillWriteWhatTheSessionToldItBeforeItStopped() {
    ServerMessage goodbye = new ServerMessage.Goodbye(ServerMessage.Goodbye.Reason.LOGGED_OUT);
    ActorRef<Session.Command> session =
        testKit.spawn(
            Behaviors.receive(Session.Command.class)
                .onMessage(
                    Session.StreamStarted.class,
                    started -> {
                      started.outbound().tell(goodbye);
                      return Behaviors.stopped();
                    })
                .build());
    Connection connection = connect(session);
    connection.written().ensureSubscription();
    // The socket asks only once the session is gone: the goodbye waited in the port.
    testKit.createTestProbe().expectTerminated(session, PATIENCE);

    assertEquals(List.of(goodbye), written(connection, 1));
    connection.written().expectComplete();
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
  void shouldRefuseLimitsNoConnectionCouldHaveWhenMadeNotAtTheFirstConnection() {
    assertThrows(IllegalArgumentException.class, () -> SessionPort.lines(0, BUFFER_BYTES));
    assertThrows(IllegalArgumentException.class, () -> SessionPort.lines(FRAME_LIMIT, 0));
  }

  @Test
  void shouldRefuseToRunWithoutASession() {
    IllegalStateException refused =
        assertThrows(
            IllegalStateException.class,
            () ->
                Source.<ByteString>empty()
                    .via(Flow.fromGraph(PORT))
                    .runWith(Sink.ignore(), materializer));
    assertTrue(refused.getMessage().contains("SessionPort.Target"), refused.getMessage());
  }
}
