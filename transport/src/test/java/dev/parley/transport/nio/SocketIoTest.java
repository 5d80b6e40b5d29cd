package dev.parley.transport.nio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.Done;
import akka.actor.ActorSystem;
import akka.japi.Pair;
import akka.stream.Materializer;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Keep;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.stream.javadsl.Tcp;
import akka.stream.testkit.TestPublisher;
import akka.stream.testkit.TestSubscriber;
import akka.stream.testkit.javadsl.TestSink;
import akka.stream.testkit.javadsl.TestSource;
import akka.testkit.javadsl.TestKit;
import akka.util.ByteString;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.BindException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link SocketIo} against the JDK's blocking sockets over loopback: bytes both ways and intact,
 * backpressure both ways, each way of closing (half-closes, a reset on failure), and binding.
 */
class SocketIoTest {

  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final InetSocketAddress ANY_PORT =
      new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

  private ActorSystem system;
  private Materializer materializer;
  private SocketIo io;

  /** The connections the listener accepted, in order. */
  private final LinkedBlockingQueue<Tcp.IncomingConnection> accepted = new LinkedBlockingQueue<>();

  @BeforeEach
  void start() {
    system = ActorSystem.create("SocketIoTest");
    materializer = Materializer.matFromSystem(system);
    io = new SocketIo(2, 64 * 1024, 16 * 1024, Duration.ofMillis(5), "socket-io-test");
  }

  @AfterEach
  void stop() {
    TestKit.shutdownActorSystem(system);
    io.close();
  }

  private SocketBinding listen() throws Exception {
    return io.bind(ANY_PORT, 16, Duration.ofMillis(100))
        .to(Sink.foreach(accepted::add))
        .run(materializer)
        .toCompletableFuture()
        .get(WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  private Socket connect(SocketBinding binding) throws IOException {
    Socket socket =
        new Socket(binding.localAddress().getAddress(), binding.localAddress().getPort());
    socket.setSoTimeout((int) WAIT.toMillis());
    return socket;
  }

  private Tcp.IncomingConnection nextAccepted() throws InterruptedException {
    Tcp.IncomingConnection connection = accepted.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
    if (connection == null) {
      throw new AssertionError("no connection accepted");
    }
    return connection;
  }

  /** Runs {@code connection} with {@code handler} on the server's side of it. */
  private <M> M handle(Tcp.IncomingConnection connection, Flow<ByteString, ByteString, M> handler) {
    return connection.flow().joinMat(handler, Keep.right()).run(materializer);
  }

  private static byte[] readAll(InputStream in) throws IOException {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    in.transferTo(all);
    return all.toByteArray();
  }

  @Test
  void shouldEchoWhatTheClientWritesAndKnowBothAddresses() throws Exception {
    SocketBinding binding = listen();
    assertTrue(binding.localAddress().getPort() > 0);
    try (Socket client = connect(binding)) {
      Tcp.IncomingConnection connection = nextAccepted();
      assertEquals(client.getLocalPort(), connection.remoteAddress().getPort());
      assertEquals(binding.localAddress().getPort(), connection.localAddress().getPort());
      connection.handleWith(Flow.<ByteString>create(), materializer);

      client.getOutputStream().write("hello\n".getBytes(StandardCharsets.UTF_8));
      byte[] echoed = client.getInputStream().readNBytes(6);
      assertEquals("hello\n", new String(echoed, StandardCharsets.UTF_8));

      // The client's end ends the echo's input, which ends its output: the server's FIN.
      client.shutdownOutput();
      assertEquals(-1, client.getInputStream().read());
    }
  }

  @Test
  void shouldCarryManyMegabytesBothWaysIntact() throws Exception {
    SocketBinding binding = listen();
    byte[] sent = new byte[8 * 1024 * 1024];
    new Random(7).nextBytes(sent);
    try (Socket client = connect(binding)) {
      Tcp.IncomingConnection connection = nextAccepted();
      // The server sends the same bytes back, in chunks of its own, while it reads the client's.
      CompletionStage<ByteString> received =
          handle(
              connection,
              Flow.fromSinkAndSourceMat(
                  Sink.fold(ByteString.emptyByteString(), ByteString::concat),
                  Source.range(0, sent.length / 4096 - 1)
                      .map(i -> ByteString.fromArray(sent, i * 4096, 4096)),
                  Keep.left()));
      CompletableFuture<byte[]> clientRead =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return readAll(client.getInputStream());
                } catch (IOException e) {
                  throw new CompletionException(e);
                }
              });
      client.getOutputStream().write(sent);
      client.shutdownOutput();

      assertArrayEquals(sent, clientRead.get(WAIT.toSeconds(), TimeUnit.SECONDS));
      assertArrayEquals(
          sent, received.toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS).toArray());
    }
  }

  @Test
  void shouldAskForNoMoreBytesWhileTheClientDoesNotReadAndResumeWhenItDoes() throws Exception {
    SocketBinding binding = listen();
    try (Socket client = connect(binding)) {
      Tcp.IncomingConnection connection = nextAccepted();
      TestPublisher.Probe<ByteString> toClient =
          handle(
              connection,
              Flow.fromSinkAndSourceMat(
                  Sink.<ByteString>ignore(), TestSource.probe(system), Keep.right()));
      ByteString chunk = ByteString.fromArray(new byte[64 * 1024]);
      // The client reads nothing: the kernel's buffers fill, and then the stage stops asking.
      // (Demand reaches the probe in batches, through the stream's input buffer.)
      long written = 0;
      long demand = 0;
      while (true) {
        if (demand == 0) {
          try {
            demand = toClient.expectRequest();
          } catch (AssertionError noMoreDemand) {
            break;
          }
        }
        toClient.sendNext(chunk);
        demand--;
        written += chunk.size();
        assertTrue(written < 256L * 1024 * 1024, "the stage kept asking for bytes");
      }
      // Reading all that was written lets the stage ask again.
      client.getInputStream().readNBytes((int) written);
      toClient.expectRequest();
      toClient.sendComplete();
    }
  }

  @Test
  void shouldReadNoMoreThanDownstreamAsksFor() throws Exception {
    SocketBinding binding = listen();
    try (Socket client = connect(binding)) {
      Tcp.IncomingConnection connection = nextAccepted();
      TestSubscriber.Probe<ByteString> fromClient =
          handle(
              connection,
              Flow.fromSinkAndSourceMat(
                  TestSink.<ByteString>probe(system), Source.<ByteString>maybe(), Keep.left()));
      client.getOutputStream().write(new byte[] {1, 2, 3});
      fromClient.request(1);
      assertEquals(ByteString.fromArray(new byte[] {1, 2, 3}), fromClient.expectNext());
      client.getOutputStream().write(new byte[] {4});
      fromClient.expectNoMessage(Duration.ofMillis(200));
      fromClient.request(1);
      assertEquals(ByteString.fromArray(new byte[] {4}), fromClient.expectNext());
    }
  }

  @Test
  void shouldKeepWritingAfterTheClientEndsItsSide() throws Exception {
    SocketBinding binding = listen();
    try (Socket client = connect(binding)) {
      Tcp.IncomingConnection connection = nextAccepted();
      Pair<TestSubscriber.Probe<ByteString>, TestPublisher.Probe<ByteString>> ends =
          handle(
              connection,
              Flow.fromSinkAndSourceMat(
                  TestSink.<ByteString>probe(system), TestSource.probe(system), Keep.both()));
      TestSubscriber.Probe<ByteString> fromClient = ends.first();
      TestPublisher.Probe<ByteString> toClient = ends.second();

      client.shutdownOutput();
      fromClient.request(1);
      fromClient.expectComplete();

      // More than the socket's buffers take at once: the stage still holds bytes to write when
      // both its ports are closed, and must not stop before they are written.
      byte[] large = new byte[32 * 1024 * 1024];
      new Random(11).nextBytes(large);
      toClient.sendNext(ByteString.fromArray(large));
      toClient.sendComplete();
      assertArrayEquals(large, readAll(client.getInputStream()));
    }
  }

  @Test
  void shouldKeepReadingAfterTheServerEndsItsSide() throws Exception {
    SocketBinding binding = listen();
    try (Socket client = connect(binding)) {
      Tcp.IncomingConnection connection = nextAccepted();
      CompletionStage<ByteString> received =
          handle(
              connection,
              Flow.fromSinkAndSourceMat(
                  Sink.fold(ByteString.emptyByteString(), ByteString::concat),
                  Source.single(ByteString.fromString("goodbye\n")),
                  Keep.left()));
      assertEquals(
          "goodbye\n", new String(readAll(client.getInputStream()), StandardCharsets.UTF_8));
      client.getOutputStream().write("still here\n".getBytes(StandardCharsets.UTF_8));
      client.shutdownOutput();
      assertEquals(
          "still here\n",
          received.toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS).utf8String());
    }
  }

  @Test
  void shouldResetTheConnectionWhenTheBytesToWriteFail() throws Exception {
    SocketBinding binding = listen();
    try (Socket client = connect(binding)) {
      Tcp.IncomingConnection connection = nextAccepted();
      connection.handleWith(
          Flow.fromSinkAndSource(
              Sink.<ByteString>ignore(),
              Source.<ByteString>failed(new IllegalStateException("test: the stack failed"))),
          materializer);
      assertThrows(SocketException.class, () -> readAll(client.getInputStream()));
    }
  }

  @Test
  void shouldFailTheStreamWhenTheClientResetsTheConnection() throws Exception {
    SocketBinding binding = listen();
    Socket client = connect(binding);
    Tcp.IncomingConnection connection = nextAccepted();
    CompletionStage<Done> received =
        handle(
            connection,
            Flow.fromSinkAndSourceMat(
                Sink.<ByteString>ignore(), Source.<ByteString>maybe(), Keep.left()));
    client.setSoLinger(true, 0);
    client.close();
    ExecutionException failure =
        assertThrows(
            ExecutionException.class,
            () -> received.toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS));
    assertInstanceOf(IOException.class, failure.getCause());
  }

  @Test
  void shouldFailToBindAPortInUseWithTheReason() throws Exception {
    SocketBinding first = listen();
    CompletionStage<SocketBinding> second =
        io.bind(first.localAddress(), 16, Duration.ofMillis(100))
            .to(Sink.ignore())
            .run(materializer);
    ExecutionException failure =
        assertThrows(
            ExecutionException.class,
            () -> second.toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS));
    assertInstanceOf(BindException.class, failure.getCause());
  }

  @Test
  void shouldReleaseThePortAndEndTheSourceOnUnbind() throws Exception {
    CompletableFuture<Done> ended = new CompletableFuture<>();
    SocketBinding binding =
        io.bind(ANY_PORT, 16, Duration.ofMillis(100))
            .watchTermination(
                (bound, done) -> {
                  done.whenComplete((ok, failure) -> ended.complete(Done.getInstance()));
                  return bound;
                })
            .to(Sink.<Tcp.IncomingConnection>ignore())
            .run(materializer)
            .toCompletableFuture()
            .get(WAIT.toSeconds(), TimeUnit.SECONDS);
    binding.unbind().toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    ended.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThrows(ConnectException.class, () -> connect(binding).close());
  }

  @Test
  void shouldAcceptOnlyAsFastAsDownstreamAsks() throws Exception {
    Pair<CompletionStage<SocketBinding>, TestSubscriber.Probe<Tcp.IncomingConnection>> running =
        io.bind(ANY_PORT, 16, Duration.ofMillis(100))
            .toMat(TestSink.probe(system), Keep.both())
            .run(materializer);
    SocketBinding binding =
        running.first().toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    TestSubscriber.Probe<Tcp.IncomingConnection> connections = running.second();
    try (Socket first = connect(binding);
        Socket second = connect(binding)) {
      connections.request(1);
      assertEquals(first.getLocalPort(), connections.expectNext().remoteAddress().getPort());
      // The second waits in the kernel's backlog until asked for.
      connections.expectNoMessage(Duration.ofMillis(200));
      connections.request(1);
      assertEquals(second.getLocalPort(), connections.expectNext().remoteAddress().getPort());
    }
  }
}
