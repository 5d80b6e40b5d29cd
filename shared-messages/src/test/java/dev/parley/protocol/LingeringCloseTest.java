package dev.parley.protocol;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.Done;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.japi.Pair;
import akka.stream.Attributes;
import akka.stream.Materializer;
import akka.stream.javadsl.BidiFlow;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Keep;
import akka.stream.testkit.TestPublisher;
import akka.stream.testkit.TestSubscriber;
import akka.stream.testkit.javadsl.TestSink;
import akka.stream.testkit.javadsl.TestSource;
import akka.util.ByteString;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import scala.concurrent.duration.FiniteDuration;

/**
 * The server's side ends first and the client's is read out: the last frame is not lost to a reset
 * of a socket closed with unread bytes.
 */
class LingeringCloseTest {

  private static final ActorTestKit TEST_KIT = ActorTestKit.create();
  private static final Materializer MATERIALIZER = Materializer.matFromSystem(TEST_KIT.system());

  /** Longer than any wait below for something that must not happen yet. */
  private static final Duration LINGER = Duration.ofSeconds(2);

  private static final FiniteDuration NOTHING_YET =
      FiniteDuration.create(200, TimeUnit.MILLISECONDS);
  private static final ByteString GOODBYE = ByteString.fromString("goodbye\n");
  private static final ByteString FLOOD = ByteString.fromString("whoelse\n".repeat(100));

  /** The client's bytes arriving at the socket. */
  private TestPublisher.Probe<ByteString> socketIn;

  /** What the server's layers above read. */
  private TestSubscriber.Probe<ByteString> up;

  /** What the server's layers above write. */
  private TestPublisher.Probe<ByteString> down;

  /** What goes out of the socket. */
  private TestSubscriber.Probe<ByteString> socketOut;

  /** The connection's {@link WireFlows.Written}: the layers' last bytes have gone to the socket. */
  private CompletableFuture<Done> written;

  @AfterAll
  static void stop() {
    TEST_KIT.shutdownTestKit();
  }

  @BeforeEach
  void run() {
    var system = TEST_KIT.system().classicSystem();
    Flow<
            ByteString,
            ByteString,
            Pair<TestSubscriber.Probe<ByteString>, TestPublisher.Probe<ByteString>>>
        layersAbove =
            Flow.fromSinkAndSourceMat(
                TestSink.<ByteString>probe(system),
                TestSource.<ByteString>probe(system),
                Keep.both());
    written = new CompletableFuture<>();
    var materialized =
        TestSource.<ByteString>probe(system)
            .viaMat(
                BidiFlow.fromGraph(new LingeringClose(LINGER)).join(layersAbove, Keep.right()),
                Keep.both())
            .toMat(TestSink.<ByteString>probe(system), Keep.both())
            .addAttributes(Attributes.apply(new WireFlows.Written(written)))
            .run(MATERIALIZER);
    socketIn = materialized.first().first();
    up = materialized.first().second().first();
    down = materialized.first().second().second();
    socketOut = materialized.second();
  }

  /** Sends all the socket asked for, and expects it to ask for more: what came was read. */
  private void expectReadOut() {
    long demand = socketIn.expectRequest();
    for (long i = 0; i < demand; i++) {
      socketIn.sendNext(FLOOD);
    }
    socketIn.expectRequest();
  }

  @Test
  void shouldCarryBytesBothWays() {
    up.request(1);
    socketIn.sendNext(FLOOD);
    up.expectNext(FLOOD);
    socketOut.request(1);
    down.sendNext(GOODBYE);
    socketOut.expectNext(GOODBYE);
  }

  @Test
  void shouldEndTheServersSideAndReadOutTheClientsUntilItCloses() {
    socketOut.request(1);
    down.sendNext(GOODBYE);
    socketOut.expectNext(GOODBYE);
    assertFalse(written.isDone(), "written before the layers above have ended");
    down.sendComplete();
    // The server's side ends at once: the client reads the goodbye, then the end.
    socketOut.expectComplete();
    up.expectSubscriptionAndComplete();

    // The client's flood is read and dropped, the socket still open to it...
    expectReadOut();
    // ...until the client closes its side; the last bytes counted as written since the end.
    assertTrue(written.isDone());
    socketIn.sendComplete();
  }

  @Test
  void shouldCountAConnectionThatEndsWithoutItsLastBytesAsWritten() throws Exception {
    // A client that resets the connection: nothing more can be written, and nobody must wait.
    socketIn.sendError(new RuntimeException("connection reset"));

    written.get(5, TimeUnit.SECONDS);
  }

  @Test
  void shouldCloseTheSocketAfterTheLingerWhenTheClientDoesNotClose() {
    socketOut.request(1);
    down.sendComplete();
    socketOut.expectComplete();
    socketIn.expectRequest();
    socketIn.expectNoMessage(NOTHING_YET);

    socketIn.expectCancellation();
  }

  @Test
  void shouldKeepReadingWhenTheLayersAboveStopBeforeTheLastBytesAreOut() {
    // TLS stops reading as it closes, while it still writes its closing alert.
    up.cancel();
    expectReadOut();
    socketOut.request(1);
    down.sendNext(GOODBYE);
    socketOut.expectNext(GOODBYE);
    down.sendComplete();
    socketOut.expectComplete();
    socketIn.sendComplete();
  }

  @Test
  void shouldPassTheClientsEndUpWhileTheServerStillWrites() {
    socketIn.sendComplete();
    up.expectSubscriptionAndComplete();
    socketOut.request(1);
    down.sendNext(GOODBYE);
    socketOut.expectNext(GOODBYE);
    down.sendComplete();
    socketOut.expectComplete();
  }
}
