package dev.parley.transport;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import akka.Done;
import akka.NotUsed;
import akka.actor.ActorSystem;
import akka.io.Inet;
import akka.io.TcpSO;
import akka.japi.Pair;
import akka.stream.Attributes;
import akka.stream.FlowShape;
import akka.stream.Inlet;
import akka.stream.Materializer;
import akka.stream.Outlet;
import akka.stream.javadsl.BidiFlow;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Keep;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.stream.javadsl.Tcp;
import akka.stream.stage.AbstractInHandler;
import akka.stream.stage.AbstractOutHandler;
import akka.stream.stage.GraphStage;
import akka.stream.stage.GraphStageLogic;
import akka.stream.testkit.TestPublisher;
import akka.stream.testkit.TestSubscriber;
import akka.stream.testkit.javadsl.TestSink;
import akka.stream.testkit.javadsl.TestSource;
import akka.util.ByteString;
import akka.util.ByteStringBuilder;
import com.typesafe.config.ConfigFactory;
import dev.parley.transport.testing.TestTls;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import scala.concurrent.duration.FiniteDuration;

/**
 * {@link TlsStage} against itself (in memory, the ciphertext cut anywhere), against the JDK's own
 * TLS over loopback sockets (both sides), and against an engine driven by hand where the exact
 * bytes and the exact demand matter: data, closing, failures, the first-plaintext hook and
 * backpressure.
 */
@Timeout(value = TlsStageTest.TEST_TIMEOUT_SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class TlsStageTest {

  /**
   * The last resort against a hang the per-step timeouts do not cover (a blocked socket call):
   * several times the longest test.
   */
  static final long TEST_TIMEOUT_SECONDS = 60;

  /** Longest wait for anything that must happen; a bug shows as this timeout, not as a hang. */
  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  private static final FiniteDuration PROBE_TIMEOUT =
      FiniteDuration.create(TIMEOUT.toMillis(), MILLISECONDS);

  /** How long something that must not happen is given to happen anyway. */
  private static final Duration NOTHING_YET = Duration.ofMillis(300);

  private static final String LOOPBACK = "127.0.0.1";
  private static final int ANY_PORT = 0;
  private static final int BACKLOG = 50;

  /** The server's sessions run under half-close (see LingeringClose); so do these listeners. */
  private static final boolean HALF_CLOSE = true;

  private static final String TLS13 = "TLSv1.3";
  private static final String TLS12 = "TLSv1.2";

  private static final int MEBIBYTE = 1 << 20;
  private static final long SEED = 20240611L;

  /** TLS's record header: type, version, length. */
  private static final int HEADER_BYTES = 5;

  /** Chunk sizes: a few bytes (to cut inside headers), small, several KB, and several records. */
  private static final int TINY_CHUNK = 8;

  private static final int SMALL_CHUNK = 600;
  private static final int MEDIUM_CHUNK = 6_000;

  /** More plaintext than the stage's scratch buffers hold (five records), so that they spill. */
  private static final int LARGE_CHUNK = 120_000;

  /** One cut in this many is placed inside a record header on purpose. */
  private static final int HEADER_CUT_ODDS = 3;

  /** Elements the application writes in the backpressure tests. */
  private static final int RECORD_BYTES = 1024;

  private static final int RECORDS_SENT = 10;

  /** Plaintext the peer sends at a stage whose application has stopped reading. */
  private static final int DRAINED_BYTES = 8 * MEBIBYTE;

  private static final int FLOOD_BLOCK_BYTES = 64 * 1024;

  /** Socket buffers far smaller than {@link #DRAINED_BYTES}: only reading drains them. */
  private static final int SMALL_SOCKET_BUFFER = 64 * 1024;

  /** Connections in the race test: the race lost about half of them with Akka's stage. */
  private static final int RACING_CONNECTIONS = 20;

  private static final int ECHO_ROUNDS = 10;
  private static final int ECHO_BYTES = 10_000;

  private static final String HOST = "chat.example.org";
  private static final int PORT = 3331;
  private static final Duration VALIDITY = Duration.ofDays(1);

  private static final String FIRST_PLAINTEXT = "first-plaintext";
  private static final String PLAINTEXT = "plaintext";

  private static ActorSystem system;
  private static Materializer materializer;
  private static TlsIdentity serverIdentity;
  private static TlsIdentity clientIdentity;
  private static ServerTls serverTls;

  @BeforeAll
  static void start() throws Exception {
    system =
        ActorSystem.create(
            "TlsStageTest",
            ConfigFactory.parseString(
                    "akka.loglevel = WARNING\n"
                        + "akka.stdout-loglevel = WARNING\n"
                        + "akka.test.single-expect-default = "
                        + TIMEOUT.toMillis()
                        + "ms\n")
                .withFallback(ConfigFactory.load()));
    materializer = Materializer.matFromSystem(system);
    serverIdentity = TlsIdentity.selfSigned("tls stage test server", VALIDITY);
    clientIdentity = TlsIdentity.selfSigned("tls stage test client", VALIDITY);
    serverTls = ServerTls.create(serverIdentity);
  }

  @AfterAll
  static void stop() throws Exception {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(TIMEOUT.toMillis(), MILLISECONDS);
  }

  // ---------------------------------------------------------------------------------------------
  // 1. Against itself, in memory.

  @Test
  void shouldCarryAMebibyteEachWayThroughCiphertextCutAnywhereAndEndEachSideOnItsPeersClose()
      throws Exception {
    Random random = new Random(SEED);
    byte[] clientData = randomBytes(random, MEBIBYTE);
    byte[] serverData = randomBytes(random, MEBIBYTE);
    Recorder client = new Recorder();
    Recorder server = new Recorder();
    Cuts toServer = new Cuts();
    Cuts toClient = new Cuts();
    Collector clientReceived = new Collector();

    BidiFlow<ByteString, ByteString, ByteString, ByteString, NotUsed> clientTls =
        TlsStage.create(() -> client.made(pinnedClientEngine(Optional.empty())), client::told);
    BidiFlow<ByteString, ByteString, ByteString, ByteString, NotUsed> serverStage =
        TlsStage.create(() -> server.made(serverTls.newEngine(server::failed)), server::told);
    BidiFlow<ByteString, ByteString, ByteString, ByteString, NotUsed> wire =
        wire(toServer, toClient);
    Flow<
            ByteString,
            ByteString,
            Pair<CompletionStage<ByteString>, CompletableFuture<Optional<ByteString>>>>
        serverApplication =
            Flow.fromSinkAndSourceMat(
                concatenated(),
                Source.from(chunks(serverData, new Random(SEED + 3)))
                    .concatMat(Source.<ByteString>maybe(), Keep.right()),
                Keep.both());

    Pair<CompletionStage<ByteString>, CompletableFuture<Optional<ByteString>>> serverSide =
        Source.from(chunks(clientData, new Random(SEED + 4)))
            .viaMat(
                clientTls
                    .reversed()
                    .atop(wire)
                    .atop(serverStage)
                    .join(serverApplication, Keep.right()),
                Keep.right())
            .to(clientReceived.sink())
            .run(materializer);

    // The client's input ends after its mebibyte: its closing alert (and the end of its bytes)
    // ends the server's plaintext.
    assertArrayEquals(clientData, await(serverSide.first()).toArray());
    // The server's mebibyte reaches the client, whose plaintext stays open: the server has not
    // closed yet (TLS 1.3 closes each direction on its own).
    assertArrayEquals(serverData, await(clientReceived.reached(serverData.length)).toArray());
    assertStillOpen(clientReceived.done());
    serverSide.second().complete(Optional.empty());
    await(clientReceived.done());
    assertArrayEquals(serverData, clientReceived.bytes().toArray());

    for (Recorder side : List.of(client, server)) {
      assertEquals(1, side.toldCount.get(), "onFirstPlaintext calls");
      assertEquals(0, side.failures.get(), "failures");
      assertEquals(TLS13, side.made.get().getSession().getProtocol());
    }
    for (Cuts cuts : List.of(toServer, toClient)) {
      assertTrue(cuts.insideHeaders.get() > 0, "no cut inside a record header: " + cuts);
      assertTrue(cuts.joined.get() > 0, "no chunk joined two of the stage's elements: " + cuts);
      assertTrue(cuts.chunks.get() > cuts.insideHeaders.get(), cuts.toString());
    }
  }

  /**
   * TLS 1.2 has no half-close: an engine answers the peer's closing alert with its own and closes
   * both ways. Echoed, so that the client closes only once it has everything back.
   */
  @Test
  void shouldEchoAMebibyteOverTls12ThroughCiphertextCutAnywhereAndEndBothWaysOnTheClientsClose()
      throws Exception {
    Random random = new Random(SEED);
    byte[] data = randomBytes(random, MEBIBYTE);
    Recorder client = new Recorder();
    Recorder server = new Recorder();
    Cuts toServer = new Cuts();
    Cuts toClient = new Cuts();
    Collector clientReceived = new Collector();
    Collector serverReceived = new Collector();

    BidiFlow<ByteString, ByteString, ByteString, ByteString, NotUsed> clientTls =
        TlsStage.create(
            () -> {
              SSLEngine engine = pinnedClientEngine(Optional.of(clientIdentity));
              engine.setEnabledProtocols(new String[] {TLS12});
              return client.made(engine);
            },
            client::told);
    BidiFlow<ByteString, ByteString, ByteString, ByteString, NotUsed> serverStage =
        TlsStage.create(() -> server.made(serverTls.newEngine(server::failed)), server::told);
    BidiFlow<ByteString, ByteString, ByteString, ByteString, NotUsed> wire =
        wire(toServer, toClient);
    Flow<ByteString, ByteString, NotUsed> echo =
        Flow.<ByteString>create().alsoTo(serverReceived.sink());

    CompletableFuture<Optional<ByteString>> clientInputEnd =
        Source.from(chunks(data, new Random(SEED + 3)))
            .concatMat(Source.<ByteString>maybe(), Keep.right())
            .via(clientTls.reversed().atop(wire).atop(serverStage).join(echo))
            .to(clientReceived.sink())
            .run(materializer);

    assertArrayEquals(data, await(clientReceived.reached(data.length)).toArray());
    assertStillOpen(clientReceived.done());
    clientInputEnd.complete(Optional.empty());
    // The server's plaintext ends with the client's alert, and its engine's answer ends the
    // client's.
    await(serverReceived.done());
    await(clientReceived.done());
    assertArrayEquals(data, clientReceived.bytes().toArray());
    assertArrayEquals(data, serverReceived.bytes().toArray());
    for (Recorder side : List.of(client, server)) {
      assertEquals(1, side.toldCount.get(), "onFirstPlaintext calls");
      assertEquals(0, side.failures.get(), "failures");
      assertEquals(TLS12, side.made.get().getSession().getProtocol());
    }
    assertTrue(toServer.insideHeaders.get() > 0 && toClient.insideHeaders.get() > 0);
  }

  // ---------------------------------------------------------------------------------------------
  // 2. Against the JDK's TLS, over loopback.

  @ParameterizedTest
  @ValueSource(strings = {TLS13, TLS12})
  void shouldEchoToAJdkSslSocketAndCloseInOrderAfterIt(String protocol) throws Exception {
    try (AkkaServer server = new AkkaServer(() -> Flow.<ByteString>create(), List.of())) {
      Random random = new Random(SEED);
      try (SSLSocket socket = connect(server.address, Optional.empty(), protocol)) {
        for (int round = 0; round < ECHO_ROUNDS; round++) {
          byte[] sent = randomBytes(random, ECHO_BYTES);
          socket.getOutputStream().write(sent);
          socket.getOutputStream().flush();
          assertArrayEquals(sent, readExactly(socket.getInputStream(), ECHO_BYTES));
        }
        assertEquals(protocol, socket.getSession().getProtocol());
        // The client's closing alert ends the echo's input, so its output, so the server's side:
        // its own closing alert, then the end.
        socket.shutdownOutput();
        assertEquals(-1, socket.getInputStream().read(), "an orderly end after the echo");
      }
      Connection connection = server.next();
      connection.awaitEnd();
      assertEquals(1, connection.recorder.toldCount.get());
      assertEquals(0, connection.recorder.failures.get());
    }
  }

  @Test
  void shouldSpeakToAJdkSslServerSocketAsTheClient() throws Exception {
    ExecutorService serverThread = Executors.newSingleThreadExecutor();
    try (SSLServerSocket listener =
        (SSLServerSocket)
            plainServerContext()
                .getServerSocketFactory()
                .createServerSocket(ANY_PORT, BACKLOG, InetAddress.getByName(LOOPBACK))) {
      listener.setEnabledProtocols(TlsPolicy.PROTOCOLS.toArray(String[]::new));
      Future<String> served =
          serverThread.submit(
              () -> {
                try (SSLSocket socket = (SSLSocket) listener.accept()) {
                  socket.setSoTimeout((int) TIMEOUT.toMillis());
                  String question = readLine(socket.getInputStream());
                  socket.getOutputStream().write(utf8("answer to " + question + "\n"));
                  socket.getOutputStream().flush();
                  // The client ended its side after the question: the end comes next.
                  return question + " then " + socket.getInputStream().read();
                }
              });
      int port = listener.getLocalPort();
      Recorder client = new Recorder();
      BidiFlow<ByteString, ByteString, ByteString, ByteString, NotUsed> tls =
          TlsStage.create(
              () ->
                  client.made(
                      ReportingEngine.of(
                          ClientTls.create(Optional.empty())
                              .newEngine(
                                  LOOPBACK,
                                  port,
                                  ServerVerifier.pinned(serverIdentity.fingerprint())),
                          client::failed)),
              client::told);
      Flow<ByteString, ByteString, CompletionStage<Tcp.OutgoingConnection>> tcp =
          Tcp.get(system)
              .outgoingConnection(
                  new InetSocketAddress(LOOPBACK, port),
                  Optional.empty(),
                  List.of(),
                  HALF_CLOSE,
                  Optional.of(TIMEOUT),
                  Optional.empty());

      // The question, then the end of the client's side; the answer still comes back after it.
      CompletionStage<ByteString> answer =
          Source.single(bytes("question\n"))
              .via(tls.reversed().join(tcp))
              .runWith(concatenated(), materializer);

      assertEquals("question then -1", served.get(TIMEOUT.toMillis(), MILLISECONDS));
      // The server socket's close (its closing alert) ends the client's plaintext.
      assertEquals("answer to question\n", await(answer).utf8String());
      assertEquals(1, client.toldCount.get());
      assertEquals(0, client.failures.get());
    } finally {
      serverThread.shutdownNow();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // 3. The first data in the same read as the client's Finished (akka/akka#31419).

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void shouldPassOnDataThatArrivesInTheSameReadAsTheClientsFinished(boolean reportingEngine)
      throws Exception {
    Recorder server = new Recorder();
    // Unwrapped before the session ticket is wrapped, the client's first bytes come from the JDK's
    // engine with NEED_WRAP, which ReportingEngine hides from Akka's stage: this stage must not
    // depend on that, so it runs on the plain engine too.
    Supplier<SSLEngine> engines =
        reportingEngine
            ? () -> serverTls.newEngine(server::failed)
            : TlsStageTest::plainServerEngine;
    StageProbes<TestPublisher.Probe<ByteString>> stage =
        StageProbes.withProbe(
            TlsStage.create(() -> server.made(engines.get()), server::told), server);
    ManualPeer client = new ManualPeer(pinnedClientEngine(Optional.empty()));

    ByteString first = bytes("{\"type\":\"login\"}\n");
    handshake(client, stage, first);

    // Nothing more comes from the client: the bytes must go up from what has arrived.
    stage.toApplication.request(1);
    assertEquals(first, stage.toApplication.expectNext(PROBE_TIMEOUT));
    assertEquals(TLS13, server.made.get().getSession().getProtocol());
  }

  @Test
  void shouldAnswerEveryJdkClientThatWritesAtOnceAfterItsHandshake() throws Exception {
    try (AkkaServer server = new AkkaServer(() -> Flow.<ByteString>create(), List.of())) {
      for (int i = 0; i < RACING_CONNECTIONS; i++) {
        try (SSLSocket socket = connect(server.address, Optional.empty(), TLS13)) {
          // startHandshake returns once the client's Finished is written; the line follows at
          // once, without waiting for an acknowledgement.
          socket.getOutputStream().write(utf8("hello " + i + "\n"));
          socket.getOutputStream().flush();
          assertEquals("hello " + i, readLine(socket.getInputStream()), "connection " + i);
        }
        server.next().awaitEnd();
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // 4. Closing.

  @Test
  void shouldDeliverTheApplicationsLastBytesThenAnOrderlyEndWhenItsInputEnds() throws Exception {
    byte[] last = randomBytes(new Random(SEED), MEBIBYTE);
    try (AkkaServer server =
        new AkkaServer(
            () ->
                Flow.fromSinkAndSource(
                    Sink.<ByteString>ignore(), Source.single(ByteString.fromArray(last))),
            List.of())) {
      try (SSLSocket socket = connect(server.address, Optional.empty(), TLS13)) {
        assertArrayEquals(last, readExactly(socket.getInputStream(), last.length));
        assertEquals(-1, socket.getInputStream().read(), "the closing alert after the bytes");
      }
      Connection connection = server.next();
      connection.awaitEnd();
      assertEquals(0, connection.recorder.failures.get());
    }
  }

  @Test
  void shouldStillSendTheApplicationsLastBytesAfterItStoppedReadingAndDropWhatArrives()
      throws Exception {
    CompletableFuture<Done> stoppedReading = new CompletableFuture<>();
    CompletableFuture<ByteString> release = new CompletableFuture<>();
    ByteString goodbye = bytes("goodbye\n");
    // The application reads one element and stops reading, as a session does once it has
    // decided to end; its goodbye goes only after that, when the test releases it.
    Supplier<Flow<ByteString, ByteString, NotUsed>> application =
        () ->
            Flow.fromSinkAndSource(
                Flow.<ByteString>create()
                    .watchTermination(
                        (notUsed, done) -> {
                          done.whenComplete((d, e) -> stoppedReading.complete(Done.getInstance()));
                          return notUsed;
                        })
                    .to(Sink.head()),
                Source.completionStage(release));
    try (AkkaServer server =
            new AkkaServer(application, List.of(TcpSO.receiveBufferSize(SMALL_SOCKET_BUFFER)));
        Socket plain = new Socket()) {
      plain.setSendBufferSize(SMALL_SOCKET_BUFFER);
      SSLSocket socket = layered(plain, server.address, TLS13);
      socket.getOutputStream().write(utf8("hello\n"));
      socket.getOutputStream().flush();
      await(stoppedReading);

      // Far more than the sockets' buffers hold: the writes finish only if the stage keeps
      // reading (and dropping) what arrives after its application stopped reading.
      CompletableFuture<Void> flood =
          CompletableFuture.runAsync(
              () -> {
                try {
                  byte[] block = new byte[FLOOD_BLOCK_BYTES];
                  for (int sent = 0; sent < DRAINED_BYTES; sent += block.length) {
                    socket.getOutputStream().write(block);
                  }
                  socket.getOutputStream().flush();
                } catch (IOException e) {
                  throw new IllegalStateException(e);
                }
              });
      await(flood);

      // The client ends its side, and the goodbye is released once the server has read to that
      // end: a connection closed with unread bytes is reset, which could destroy the goodbye
      // (LingeringClose's concern, not this stage's).
      socket.shutdownOutput();
      // A TLS socket layered on another sends its closing alert but leaves the TCP side open.
      plain.shutdownOutput();
      Connection connection = server.next();
      await(connection.fromNetworkEnded);
      release.complete(goodbye);
      assertEquals("goodbye", readLine(socket.getInputStream()));
      assertEquals(-1, socket.getInputStream().read(), "the closing alert after the goodbye");
      connection.awaitEnd();
      assertEquals(0, connection.recorder.failures.get());
    }
  }

  @Test
  void shouldEndThePlaintextWhenThePeerSendsItsClosingAlert() throws Exception {
    CompletableFuture<CompletionStage<ByteString>> received = new CompletableFuture<>();
    CompletableFuture<Optional<ByteString>> serverInputEnd = new CompletableFuture<>();
    Supplier<Flow<ByteString, ByteString, NotUsed>> application =
        () ->
            Flow.fromSinkAndSourceMat(concatenated(), Source.<ByteString>maybe(), Keep.both())
                .mapMaterializedValue(
                    ends -> {
                      received.complete(ends.first());
                      serverInputEnd.thenAccept(ends.second()::complete);
                      return NotUsed.getInstance();
                    });
    try (AkkaServer server = new AkkaServer(application, List.of());
        SSLSocket socket = connect(server.address, Optional.empty(), TLS13)) {
      socket.getOutputStream().write(utf8("hello\n"));
      socket.getOutputStream().flush();
      // TLS 1.3's half-close: the client's closing alert, its socket still open for reading.
      socket.shutdownOutput();

      assertEquals("hello\n", await(received.get(TIMEOUT.toMillis(), MILLISECONDS)).utf8String());
      // The server's application has not ended its side: the peer's alert ends only the
      // plaintext coming up, not the connection.
      Connection connection = server.next();
      assertStillOpen(connection.toNetworkEnded);
      serverInputEnd.complete(Optional.empty());
      assertEquals(-1, socket.getInputStream().read());
      connection.awaitEnd();
      assertEquals(0, connection.recorder.failures.get());
    }
  }

  @Test
  void shouldEndThePlaintextWithoutAFailureWhenThePeerCutsItsSideWithoutAnAlert() throws Exception {
    CompletableFuture<CompletionStage<ByteString>> received = new CompletableFuture<>();
    CompletableFuture<ByteString> release = new CompletableFuture<>();
    Supplier<Flow<ByteString, ByteString, NotUsed>> application =
        () ->
            Flow.fromSinkAndSourceMat(concatenated(), Source.completionStage(release), Keep.left())
                .mapMaterializedValue(
                    folded -> {
                      received.complete(folded);
                      return NotUsed.getInstance();
                    });
    try (AkkaServer server = new AkkaServer(application, List.of());
        Socket plain = new Socket()) {
      SSLSocket socket = layered(plain, server.address, TLS13);
      socket.getOutputStream().write(utf8("hello\n"));
      socket.getOutputStream().flush();
      // The end of the client's TCP side without TLS's closing alert, as a killed client's.
      plain.shutdownOutput();

      assertEquals("hello\n", await(received.get(TIMEOUT.toMillis(), MILLISECONDS)).utf8String());
      Connection connection = server.next();
      await(connection.fromNetworkEnded);
      // Only the plaintext coming up has ended: the application's last bytes still go out.
      assertStillOpen(connection.toNetworkEnded);
      release.complete(bytes("goodbye\n"));
      assertEquals("goodbye", readLine(socket.getInputStream()));
      assertEquals(-1, socket.getInputStream().read());
      connection.awaitEnd();
      assertEquals(0, connection.recorder.failures.get(), "a truncation is not a TLS failure");
      assertEquals(1, connection.recorder.toldCount.get());
    }
  }

  @Test
  void shouldEndThePlaintextOnTheClosingAlertAloneAndStillSendAfterIt() throws Exception {
    Recorder server = new Recorder();
    StageProbes<TestPublisher.Probe<ByteString>> stage =
        StageProbes.withProbe(
            TlsStage.create(() -> server.made(serverTls.newEngine(server::failed)), server::told),
            server);
    ManualPeer client = new ManualPeer(pinnedClientEngine(Optional.empty()));
    handshake(client, stage, null);

    stage.toApplication.request(2);
    stage.fromNetwork.sendNext(client.seal(bytes("last\n")));
    assertEquals(bytes("last\n"), stage.toApplication.expectNext(PROBE_TIMEOUT));
    client.engine.closeOutbound();
    ByteString closingAlert = client.exchange(ByteString.emptyByteString()).toSend();
    assertFalse(closingAlert.isEmpty());
    // The alert, and the network still open: the alert alone ends the plaintext.
    stage.fromNetwork.sendNext(closingAlert);
    stage.toApplication.expectComplete();

    // TLS 1.3 closes each direction on its own: the server's application still writes.
    stage.fromApplication.sendNext(bytes("reply\n"));
    stage.fromApplication.sendComplete();
    assertEquals(bytes("reply\n"), client.exchange(drainToEnd(stage.toNetwork)).plaintext());
    assertTrue(client.engine.isInboundDone(), "the server's closing alert after its reply");
    assertEquals(0, server.failures.get());
  }

  // ---------------------------------------------------------------------------------------------
  // 5 and 6. Failures.

  @Test
  void shouldEndBothDirectionsAndReportOnceWhenTheClientRefusesTheServersCertificate()
      throws Exception {
    Recorder server = new Recorder();
    StageProbes<TestPublisher.Probe<ByteString>> stage =
        StageProbes.withProbe(
            TlsStage.create(() -> server.made(serverTls.newEngine(server::failed)), server::told),
            server);
    Fingerprint someoneElse = TlsIdentity.selfSigned("someone else", VALIDITY).fingerprint();
    ManualPeer client =
        new ManualPeer(
            ClientTls.create(Optional.empty())
                .newEngine(HOST, PORT, ServerVerifier.pinned(someoneElse)));

    stage.fromNetwork.sendNext(client.exchange(ByteString.emptyByteString()).toSend());
    stage.toNetwork.request(1);
    ByteString serverFlight = stage.toNetwork.expectNext(PROBE_TIMEOUT);
    assertThrows(SSLException.class, () -> client.exchange(serverFlight));
    ByteString alert = client.exchange(ByteString.emptyByteString()).toSend();
    assertFalse(alert.isEmpty(), "the client's engine has an alert to send");
    stage.fromNetwork.sendNext(alert);

    // Both directions end; neither is failed: the engine has reported why.
    stage.toApplication.request(1);
    stage.toApplication.expectComplete();
    drainToEnd(stage.toNetwork);
    stage.fromNetwork.expectCancellation();
    stage.fromApplication.expectCancellation();
    assertEquals(1, server.failures.get(), "failures reported");
    assertEquals(0, server.toldCount.get(), "onFirstPlaintext calls");
  }

  @Test
  void shouldCloseTheConnectionOfAJdkClientThatDoesNotTrustTheServer() throws Exception {
    try (AkkaServer server = new AkkaServer(() -> Flow.<ByteString>create(), List.of())) {
      Fingerprint someoneElse = TlsIdentity.selfSigned("someone else", VALIDITY).fingerprint();
      assertThrows(
          SSLException.class,
          () ->
              TestTls.connect(
                  server.address,
                  null,
                  Optional.empty(),
                  Optional.of(someoneElse),
                  (int) TIMEOUT.toMillis()));
      Connection connection = server.next();
      connection.awaitEnd();
      assertEquals(1, connection.recorder.failures.get(), "failures reported");
      assertEquals(0, connection.recorder.toldCount.get(), "onFirstPlaintext calls");
    }
  }

  @Test
  void shouldCloseAConnectionThatSpeaksHttpInsteadOfTls() throws Exception {
    try (AkkaServer server = new AkkaServer(() -> Flow.<ByteString>create(), List.of());
        Socket socket = new Socket()) {
      socket.connect(server.address, (int) TIMEOUT.toMillis());
      socket.setSoTimeout((int) TIMEOUT.toMillis());
      socket.getOutputStream().write(utf8("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"));
      socket.getOutputStream().flush();

      // An alert may come first; then the end, or a reset. A timeout fails the test.
      try {
        InputStream in = socket.getInputStream();
        while (in.read() != -1) {
          // the alert's bytes
        }
      } catch (SocketTimeoutException e) {
        fail("the server kept the connection open");
      } catch (SocketException reset) {
        // Closed with unread bytes: as good as an end here.
      }
      Connection connection = server.next();
      connection.awaitEnd();
      assertEquals(1, connection.recorder.failures.get());
      assertEquals(0, connection.recorder.toldCount.get());
    }
  }

  @Test
  void shouldEndBothDirectionsWithTheEnginesAlertAndReportOnceWhenARecordDoesNotDecrypt()
      throws Exception {
    Recorder server = new Recorder();
    StageProbes<TestPublisher.Probe<ByteString>> stage =
        StageProbes.withProbe(
            TlsStage.create(() -> server.made(serverTls.newEngine(server::failed)), server::told),
            server);
    ManualPeer client = new ManualPeer(pinnedClientEngine(Optional.empty()));
    handshake(client, stage, null);

    stage.toApplication.request(2);
    stage.fromNetwork.sendNext(client.seal(bytes("intact\n")));
    assertEquals(bytes("intact\n"), stage.toApplication.expectNext(PROBE_TIMEOUT));
    byte[] tampered = client.seal(bytes("tampered\n")).toArray();
    // The last byte is the authentication tag's.
    tampered[tampered.length - 1] ^= 1;
    stage.fromNetwork.sendNext(ByteString.fromArray(tampered));

    stage.toApplication.expectComplete();
    ByteString last = drainToEnd(stage.toNetwork);
    SSLException alert = assertThrows(SSLException.class, () -> client.exchange(last));
    assertTrue(alert.getMessage().contains("bad_record_mac"), alert.getMessage());
    stage.fromNetwork.expectCancellation();
    stage.fromApplication.expectCancellation();
    assertEquals(1, server.failures.get(), "failures reported");
  }

  @Test
  void shouldEndBothStagesAndReportOnceOnEachSideWhenTheClientStageRefusesTheServer()
      throws Exception {
    Recorder client = new Recorder();
    Recorder server = new Recorder();
    Fingerprint someoneElse = TlsIdentity.selfSigned("someone else", VALIDITY).fingerprint();
    Collector clientReceived = new Collector();
    Collector serverReceived = new Collector();
    BidiFlow<ByteString, ByteString, ByteString, ByteString, NotUsed> clientTls =
        TlsStage.create(
            () ->
                client.made(
                    ReportingEngine.of(
                        ClientTls.create(Optional.empty())
                            .newEngine(HOST, PORT, ServerVerifier.pinned(someoneElse)),
                        client::failed)),
            client::told);
    BidiFlow<ByteString, ByteString, ByteString, ByteString, NotUsed> serverStage =
        TlsStage.create(() -> server.made(serverTls.newEngine(server::failed)), server::told);

    // Neither application ends its side: only the failure can end the connection. The wire
    // drains a writer whose reader has stopped, as TCP does: the client's alert still reaches
    // the server after the client's stage has stopped reading.
    Source.single(bytes("secret\n"))
        .concat(Source.maybe())
        .via(
            clientTls
                .reversed()
                .atop(wire(new Cuts(), new Cuts()))
                .atop(serverStage)
                .join(
                    Flow.fromSinkAndSource(
                        serverReceived.sink(),
                        Source.single(bytes("secret too\n")).concat(Source.maybe()))))
        .to(clientReceived.sink())
        .run(materializer);

    await(clientReceived.done());
    await(serverReceived.done());
    assertEquals(ByteString.emptyByteString(), clientReceived.bytes());
    assertEquals(ByteString.emptyByteString(), serverReceived.bytes());
    for (Recorder side : List.of(client, server)) {
      assertEquals(1, side.failures.get(), "failures reported");
      assertEquals(0, side.toldCount.get(), "onFirstPlaintext calls");
    }
  }

  @Test
  void shouldPassOverEmptyElementsFromTheApplication() throws Exception {
    Recorder server = new Recorder();
    StageProbes<TestPublisher.Probe<ByteString>> stage =
        StageProbes.withProbe(
            TlsStage.create(() -> server.made(serverTls.newEngine(server::failed)), server::told),
            server);
    ManualPeer client = new ManualPeer(pinnedClientEngine(Optional.empty()));
    handshake(client, stage, null);

    for (ByteString element :
        List.of(
            ByteString.emptyByteString(),
            bytes("a"),
            ByteString.emptyByteString(),
            ByteString.emptyByteString(),
            bytes("b"))) {
      stage.fromApplication.sendNext(element);
    }
    stage.fromApplication.sendComplete();
    ByteString received = client.exchange(drainToEnd(stage.toNetwork)).plaintext();
    assertEquals(bytes("ab"), received);
    assertTrue(client.engine.isInboundDone(), "the closing alert came after the bytes");
  }

  @Test
  void shouldEndAConnectionWhosePeerDoesNotFinishItsHandshakeInTime() throws Exception {
    Recorder server = new Recorder();
    StageProbes<TestPublisher.Probe<ByteString>> stage =
        StageProbes.withProbe(
            TlsStage.create(
                () -> server.made(serverTls.newEngine(server::failed)),
                server::told,
                HANDSHAKE_TIMEOUT),
            server);
    // A peer that connects and never sends its hello, while the application says goodbye and
    // ends (a session's login timeout): the goodbye cannot go, and the connection must end anyway.
    stage.fromApplication.sendNext(bytes("goodbye"));
    stage.fromApplication.sendComplete();
    stage.toApplication.request(1);
    drainToEnd(stage.toNetwork);
    stage.toApplication.expectComplete();
    stage.fromNetwork.expectCancellation();
    assertEquals(0, server.toldCount.get(), "told of plaintext that never came");
    assertEquals(1, server.failures.get(), "the timeout reported as TLS's failure, once");
  }

  @Test
  void shouldKeepAConnectionWhoseHandshakeFinishedPastTheHandshakeTimeout() throws Exception {
    Recorder server = new Recorder();
    StageProbes<TestPublisher.Probe<ByteString>> stage =
        StageProbes.withProbe(
            TlsStage.create(
                () -> server.made(serverTls.newEngine(server::failed)),
                server::told,
                HANDSHAKE_TIMEOUT),
            server);
    ManualPeer client = new ManualPeer(pinnedClientEngine(Optional.empty()));
    handshake(client, stage, null);
    // Past the timeout, the connection still carries bytes both ways.
    stage.toApplication.expectNoMessage(HANDSHAKE_TIMEOUT.plus(PAST_THE_TIMEOUT));
    stage.fromApplication.sendNext(bytes("still here"));
    // The server's session ticket may come first.
    ByteString received = ByteString.emptyByteString();
    while (received.isEmpty()) {
      stage.toNetwork.request(1);
      received = client.exchange(stage.toNetwork.expectNext(PROBE_TIMEOUT)).plaintext();
    }
    assertEquals(bytes("still here"), received);
    assertEquals(0, server.failures.get());
  }

  // ---------------------------------------------------------------------------------------------
  // 7. onFirstPlaintext.

  @Test
  void shouldTellTheFirstPlaintextOnceJustBeforeItGoesUpWithTheClientsCertificateKnown()
      throws Exception {
    Recorder server = new Recorder();
    StageProbes<TestPublisher.Probe<ByteString>> stage =
        StageProbes.withProbe(
            TlsStage.create(() -> server.made(serverTls.newEngine(server::failed)), server::told),
            server);
    ManualPeer client = new ManualPeer(pinnedClientEngine(Optional.of(clientIdentity)));

    // The hardest case: the first bytes in the same read as the handshake's last message.
    ByteString first = bytes("first\n");
    handshake(client, stage, first);
    assertEquals(0, server.toldCount.get(), "told before the application asked for anything");
    stage.toApplication.request(1);
    assertEquals(first, stage.toApplication.expectNext(PROBE_TIMEOUT));
    for (String line : List.of("second\n", "third\n")) {
      stage.fromNetwork.sendNext(client.seal(bytes(line)));
      stage.toApplication.request(1);
      assertEquals(bytes(line), stage.toApplication.expectNext(PROBE_TIMEOUT));
    }

    assertEquals(1, server.toldCount.get(), "onFirstPlaintext calls");
    assertSame(server.made.get(), server.told.get(), "told the stage's own engine");
    assertEquals(
        List.of(FIRST_PLAINTEXT, PLAINTEXT, PLAINTEXT, PLAINTEXT), List.copyOf(server.events));
    assertEquals(
        Optional.of(clientIdentity.fingerprint()),
        server.sessionCertificate.get().map(Fingerprint::of),
        "engine.getSession() when told");
    assertEquals(
        Optional.of(clientIdentity.fingerprint()),
        server.reportedCertificate.get().map(Fingerprint::of),
        "ReportingEngine.peerCertificate() when told");
  }

  @Test
  void shouldNotTellBeforeThereIsPlaintextNorForAClientWithoutCertificateClaimOne()
      throws Exception {
    Recorder server = new Recorder();
    StageProbes<TestPublisher.Probe<ByteString>> stage =
        StageProbes.withProbe(
            TlsStage.create(() -> server.made(serverTls.newEngine(server::failed)), server::told),
            server);
    ManualPeer client = new ManualPeer(pinnedClientEngine(Optional.empty()));

    handshake(client, stage, null);
    stage.toApplication.request(1);
    stage.toApplication.expectNoMessage(NOTHING_YET);
    assertEquals(0, server.toldCount.get(), "told with no plaintext");

    stage.fromNetwork.sendNext(client.seal(bytes("hello\n")));
    assertEquals(bytes("hello\n"), stage.toApplication.expectNext(PROBE_TIMEOUT));
    assertEquals(1, server.toldCount.get());
    assertEquals(Optional.empty(), server.sessionCertificate.get());
    assertEquals(Optional.empty(), server.reportedCertificate.get());
  }

  // ---------------------------------------------------------------------------------------------
  // 8. Backpressure.

  @Test
  void shouldStopReadingTheNetworkWhileTheApplicationDoesNotRead() throws Exception {
    Recorder server = new Recorder();
    StageProbes<TestPublisher.Probe<ByteString>> stage =
        StageProbes.withProbe(
            TlsStage.create(() -> server.made(serverTls.newEngine(server::failed)), server::told),
            server);
    ManualPeer client = new ManualPeer(pinnedClientEngine(Optional.empty()));
    int handshakeElements = handshake(client, stage, null);

    List<ByteString> records = new ArrayList<>();
    for (int i = 0; i < RECORDS_SENT; i++) {
      ByteString record = numbered(i, RECORD_BYTES);
      records.add(record);
      stage.fromNetwork.sendNext(client.seal(record));
    }
    // The application has asked for nothing: one record is read and held, and no more.
    stage.toApplication.expectNoMessage(NOTHING_YET);
    assertEquals(handshakeElements + 1, stage.networkTaken.get(), "elements taken from in1");

    stage.toApplication.request(1);
    assertEquals(records.get(0), stage.toApplication.expectNext(PROBE_TIMEOUT));
    stage.toApplication.expectNoMessage(NOTHING_YET);
    assertEquals(handshakeElements + 2, stage.networkTaken.get(), "one more for one taken");

    stage.toApplication.request(RECORDS_SENT);
    for (int i = 1; i < RECORDS_SENT; i++) {
      assertEquals(records.get(i), stage.toApplication.expectNext(PROBE_TIMEOUT));
    }
    assertEquals(handshakeElements + RECORDS_SENT, stage.networkTaken.get());
  }

  @Test
  void shouldTakeAtMostOneMoreApplicationElementWhileTheNetworkDoesNotRead() throws Exception {
    Recorder server = new Recorder();
    AtomicInteger taken = new AtomicInteger();
    Iterator<ByteString> endless =
        new Iterator<>() {
          @Override
          public boolean hasNext() {
            return true;
          }

          @Override
          public ByteString next() {
            return numbered(taken.getAndIncrement(), RECORD_BYTES);
          }
        };
    StageProbes<NotUsed> stage =
        StageProbes.materialize(
            TlsStage.create(() -> server.made(serverTls.newEngine(server::failed)), server::told),
            Source.fromIterator(() -> endless),
            server);
    ManualPeer client = new ManualPeer(pinnedClientEngine(Optional.empty()));
    handshake(client, stage, null);

    ByteStringBuilder received = new ByteStringBuilder();
    for (int step = 0; step < RECORDS_SENT; step++) {
      stage.toNetwork.expectNoMessage(NOTHING_YET);
      int sentOn = received.length() / RECORD_BYTES;
      // Taken and not yet sent on: the element whose ciphertext waits for the network to read,
      // and at most the one taken after it.
      int held = taken.get() - sentOn;
      assertTrue(held <= 2, "step " + step + ": elements held " + held);
      stage.toNetwork.request(1);
      received.append(client.exchange(stage.toNetwork.expectNext(PROBE_TIMEOUT)).plaintext());
    }
    ByteString all = received.result();
    assertTrue(all.length() >= (RECORDS_SENT - 1) * RECORD_BYTES, "got " + all.length());
    for (int i = 0; i < all.length() / RECORD_BYTES; i++) {
      assertEquals(numbered(i, RECORD_BYTES), all.slice(i * RECORD_BYTES, (i + 1) * RECORD_BYTES));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Handshake messages after the handshake.

  @Test
  void shouldCarryOnAfterTheClientUpdatesItsKeys() throws Exception {
    try (AkkaServer server = new AkkaServer(() -> Flow.<ByteString>create(), List.of())) {
      try (SSLSocket socket = connect(server.address, Optional.empty(), TLS13)) {
        socket.getOutputStream().write(utf8("before\n"));
        assertEquals("before", readLine(socket.getInputStream()));
        // On a TLS 1.3 connection this sends a KeyUpdate asking the server to update its keys.
        socket.startHandshake();
        socket.getOutputStream().write(utf8("after\n"));
        assertEquals("after", readLine(socket.getInputStream()));
        socket.startHandshake();
        socket.getOutputStream().write(utf8("again\n"));
        assertEquals("again", readLine(socket.getInputStream()));
      }
      Connection connection = server.next();
      connection.awaitEnd();
      assertEquals(0, connection.recorder.failures.get());
    }
  }

  @Test
  void shouldCarryOnThroughARenegotiationOfTls12() throws Exception {
    try (AkkaServer server = new AkkaServer(() -> Flow.<ByteString>create(), List.of())) {
      try (SSLSocket socket = connect(server.address, Optional.empty(), TLS12)) {
        socket.getOutputStream().write(utf8("before\n"));
        assertEquals("before", readLine(socket.getInputStream()));
        socket.startHandshake();
        socket.getOutputStream().write(utf8("after\n"));
        assertEquals("after", readLine(socket.getInputStream()));
      }
      Connection connection = server.next();
      connection.awaitEnd();
      assertEquals(0, connection.recorder.failures.get());
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers.

  /**
   * Runs the handshake of {@code client}, driven by hand, with the stage; {@code first} (if not
   * null) is sealed into the same element as the client's last handshake flight.
   *
   * @return the elements the client sent the stage
   */
  private static int handshake(ManualPeer client, StageProbes<?> stage, ByteString first)
      throws SSLException {
    int sent = 1;
    stage.fromNetwork.sendNext(client.exchange(ByteString.emptyByteString()).toSend());
    while (client.handshaking()) {
      stage.toNetwork.request(1);
      ByteString flight = stage.toNetwork.expectNext(PROBE_TIMEOUT);
      ByteString answer = client.exchange(flight).toSend();
      if (!client.handshaking() && first != null) {
        answer = answer.concat(client.seal(first));
      }
      if (!answer.isEmpty()) {
        stage.fromNetwork.sendNext(answer);
        sent++;
      }
    }
    return sent;
  }

  /**
   * The network between two stages in memory, each direction re-cut by a {@link Rechunk} seeded
   * from {@link #SEED}.
   */
  private static BidiFlow<ByteString, ByteString, ByteString, ByteString, NotUsed> wire(
      Cuts toServer, Cuts toClient) {
    return BidiFlow.fromFlows(
        Flow.fromGraph(new Rechunk(new Random(SEED + 1), toServer)),
        Flow.fromGraph(new Rechunk(new Random(SEED + 2), toClient)));
  }

  /** Everything until the end; fails on an error. */
  private static ByteString drainToEnd(TestSubscriber.Probe<ByteString> probe) {
    ByteStringBuilder all = new ByteStringBuilder();
    probe.request(Long.MAX_VALUE);
    while (true) {
      TestSubscriber.SubscriberEvent event = probe.expectEvent(PROBE_TIMEOUT);
      if (event instanceof TestSubscriber.OnNext<?> next) {
        all.append((ByteString) next.element());
      } else if (event instanceof TestSubscriber.OnError error) {
        throw new AssertionError("failed instead of ending", error.cause());
      } else if (event == TestSubscriber.OnComplete$.MODULE$) {
        return all.result();
      }
    }
  }

  private static <T> T await(CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(TIMEOUT.toMillis(), MILLISECONDS);
  }

  private static void assertStillOpen(CompletionStage<?> stage) {
    assertThrows(
        TimeoutException.class,
        () -> stage.toCompletableFuture().get(NOTHING_YET.toMillis(), MILLISECONDS),
        "ended early");
  }

  private static byte[] randomBytes(Random random, int size) {
    byte[] bytes = new byte[size];
    random.nextBytes(bytes);
    return bytes;
  }

  /** {@code size} bytes that say {@code index} in their first four bytes and repeat it after. */
  private static ByteString numbered(int index, int size) {
    ByteBuffer buffer = ByteBuffer.allocate(size);
    buffer.putInt(index);
    while (buffer.hasRemaining()) {
      buffer.put((byte) index);
    }
    return ByteString.fromArray(buffer.array());
  }

  private static byte[] utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  /** Everything that arrives, as one ByteString once it has ended. */
  private static Sink<ByteString, CompletionStage<ByteString>> concatenated() {
    return Sink.<ByteString, ByteString>fold(
        ByteString.emptyByteString(), (all, more) -> all.concat(more));
  }

  private static ByteString bytes(String text) {
    return ByteString.fromString(text, StandardCharsets.UTF_8);
  }

  /**
   * {@code data} cut into pieces of random sizes: slices of one array (not compact), and some made
   * of two parts from different arrays, as a concatenation of reads is.
   */
  private static List<ByteString> chunks(byte[] data, Random random) {
    ByteString whole = ByteString.fromArray(data);
    List<ByteString> chunks = new ArrayList<>();
    for (int from = 0; from < data.length; ) {
      int size = Math.min(chunkSize(random), data.length - from);
      ByteString chunk = whole.slice(from, from + size);
      if (size > 1 && random.nextBoolean()) {
        int split = 1 + random.nextInt(size - 1);
        chunk =
            whole
                .slice(from, from + split)
                .concat(ByteString.fromArray(data, from + split, size - split));
      }
      chunks.add(chunk);
      from += size;
    }
    assertTrue(chunks.stream().anyMatch(chunk -> !chunk.isCompact()), "all chunks compact");
    return chunks;
  }

  private static int chunkSize(Random random) {
    int limit =
        switch (random.nextInt(4)) {
          case 0 -> TINY_CHUNK;
          case 1 -> SMALL_CHUNK;
          case 2 -> MEDIUM_CHUNK;
          default -> LARGE_CHUNK;
        };
    return 1 + random.nextInt(limit);
  }

  private static byte[] readExactly(InputStream in, int size) throws IOException {
    byte[] bytes = in.readNBytes(size);
    assertEquals(size, bytes.length, "the stream ended early");
    return bytes;
  }

  /** A line without its line feed; fails if the stream ends first. */
  private static String readLine(InputStream in) throws IOException {
    StringBuilder line = new StringBuilder();
    for (int b = in.read(); b != '\n'; b = in.read()) {
      if (b == -1) {
        fail("the stream ended after \"" + line + "\"");
      }
      line.append((char) b);
    }
    return line.toString();
  }

  /** A client engine as Parley's client makes one, pinned to the test server's certificate. */
  private static SSLEngine pinnedClientEngine(Optional<TlsIdentity> identity) {
    return ClientTls.create(identity)
        .newEngine(HOST, PORT, ServerVerifier.pinned(serverIdentity.fingerprint()));
  }

  /** The server's identity in a context of the JDK's own, with nothing of Parley's around it. */
  private static SSLContext plainServerContext() throws Exception {
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(Contexts.keyManagers(serverIdentity), null, null);
    return context;
  }

  private static SSLEngine plainServerEngine() {
    try {
      SSLEngine engine = plainServerContext().createSSLEngine();
      engine.setUseClientMode(false);
      return TlsPolicy.restrict(engine);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static SSLContext clientContext(Optional<TlsIdentity> identity) {
    return TestTls.context(identity, Optional.of(serverIdentity.fingerprint()));
  }

  /**
   * A JDK client over {@code plain}, connected to {@code address}, its handshake done. The caller
   * closes {@code plain}: that ends a write blocked on a server that no longer reads, where closing
   * the TLS socket would wait for that write to finish.
   */
  private static SSLSocket layered(Socket plain, InetSocketAddress address, String protocol)
      throws IOException {
    plain.setTcpNoDelay(true);
    plain.connect(address, (int) TIMEOUT.toMillis());
    plain.setSoTimeout((int) TIMEOUT.toMillis());
    SSLSocket socket =
        (SSLSocket)
            clientContext(Optional.empty())
                .getSocketFactory()
                .createSocket(plain, LOOPBACK, address.getPort(), false);
    socket.setEnabledProtocols(new String[] {protocol});
    socket.startHandshake();
    return socket;
  }

  /** A JDK client socket, its handshake done. */
  private static SSLSocket connect(
      InetSocketAddress address, Optional<TlsIdentity> identity, String protocol)
      throws IOException {
    SSLSocket socket = (SSLSocket) clientContext(identity).getSocketFactory().createSocket();
    socket.setEnabledProtocols(new String[] {protocol});
    // Each write goes out at once, not held back for the last one's acknowledgement.
    socket.setTcpNoDelay(true);
    socket.connect(address, (int) TIMEOUT.toMillis());
    socket.setSoTimeout((int) TIMEOUT.toMillis());
    socket.startHandshake();
    return socket;
  }

  /** What one stage did: the engine it made, what it told, what its engine reported. */
  /**
   * Short enough for a test to wait it out, long enough for a handshake in memory on a loaded
   * machine with a cold JIT to finish well within it.
   */
  private static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(3);

  /** How long past the handshake timeout a connection is watched for an end that must not come. */
  private static final Duration PAST_THE_TIMEOUT = Duration.ofSeconds(1);

  private static final class Recorder {
    final AtomicReference<SSLEngine> made = new AtomicReference<>();
    final AtomicInteger failures = new AtomicInteger();
    final AtomicInteger toldCount = new AtomicInteger();
    final AtomicReference<SSLEngine> told = new AtomicReference<>();
    final AtomicReference<Optional<X509Certificate>> sessionCertificate = new AtomicReference<>();
    final AtomicReference<Optional<X509Certificate>> reportedCertificate = new AtomicReference<>();

    /** The order of the hook and of the plaintext's elements, as the application saw them. */
    final Queue<String> events = new ConcurrentLinkedQueue<>();

    SSLEngine made(SSLEngine engine) {
      made.set(engine);
      return engine;
    }

    void failed(SSLException e) {
      failures.incrementAndGet();
    }

    void told(SSLEngine engine) {
      toldCount.incrementAndGet();
      told.set(engine);
      events.add(FIRST_PLAINTEXT);
      try {
        Certificate[] chain = engine.getSession().getPeerCertificates();
        sessionCertificate.set(Optional.of((X509Certificate) chain[0]));
      } catch (SSLPeerUnverifiedException none) {
        sessionCertificate.set(Optional.empty());
      }
      if (engine instanceof ReportingEngine reporting) {
        reportedCertificate.set(reporting.peerCertificate());
      }
    }

    /** {@code application} with each element it reads recorded first. */
    Flow<ByteString, ByteString, NotUsed> marked(
        Flow<ByteString, ByteString, NotUsed> application) {
      return Flow.<ByteString>create()
          .map(
              bytes -> {
                events.add(PLAINTEXT);
                return bytes;
              })
          .via(application);
    }
  }

  /** Bytes that arrive, and when a given number of them or their end has. */
  private static final class Collector {
    private final CompletableFuture<Done> done = new CompletableFuture<>();
    private ByteString bytes = ByteString.emptyByteString();
    private int awaited = Integer.MAX_VALUE;
    private CompletableFuture<ByteString> reached;

    Sink<ByteString, NotUsed> sink() {
      return Sink.<ByteString>foreach(this::add)
          .mapMaterializedValue(
              end -> {
                end.whenComplete(
                    (d, e) -> {
                      if (e == null) {
                        done.complete(d);
                      } else {
                        done.completeExceptionally(e);
                      }
                    });
                return NotUsed.getInstance();
              });
    }

    private synchronized void add(ByteString more) {
      bytes = bytes.concat(more);
      if (reached != null && bytes.length() >= awaited) {
        reached.complete(bytes);
      }
    }

    synchronized CompletableFuture<ByteString> reached(int size) {
      awaited = size;
      reached = new CompletableFuture<>();
      if (bytes.length() >= size) {
        reached.complete(bytes);
      }
      return reached;
    }

    synchronized ByteString bytes() {
      return bytes;
    }

    CompletableFuture<Done> done() {
      return done;
    }
  }

  /** What a {@link Rechunk} did, to prove the test cut the ciphertext as it claims. */
  private static final class Cuts {
    final AtomicInteger chunks = new AtomicInteger();
    final AtomicInteger insideHeaders = new AtomicInteger();
    final AtomicInteger joined = new AtomicInteger();

    @Override
    public String toString() {
      return "chunks=" + chunks + " insideHeaders=" + insideHeaders + " joined=" + joined;
    }
  }

  /**
   * The network between two stages: it takes what comes while it holds less than {@link
   * #LARGE_CHUNK} and hands it on in pieces of random sizes, some joining what came in separate
   * elements, some ending inside a record's header, never waiting for more than it has.
   */
  private static final class Rechunk extends GraphStage<FlowShape<ByteString, ByteString>> {
    private final Inlet<ByteString> in = Inlet.create("Rechunk.in");
    private final Outlet<ByteString> out = Outlet.create("Rechunk.out");
    private final FlowShape<ByteString, ByteString> shape = FlowShape.of(in, out);
    private final Random random;
    private final Cuts cuts;

    Rechunk(Random random, Cuts cuts) {
      this.random = random;
      this.cuts = cuts;
    }

    @Override
    public FlowShape<ByteString, ByteString> shape() {
      return shape;
    }

    @Override
    public GraphStageLogic createLogic(Attributes attributes) {
      return new GraphStageLogic(shape) {
        private ByteString buffered = ByteString.emptyByteString();

        /** Offset in the whole stream of {@link #buffered}'s first byte, and of its end. */
        private long start;

        private long end;

        /** Stream offsets of record headers and of the ends of elements that came in. */
        private final ArrayDeque<Long> headers = new ArrayDeque<>();

        private final ArrayDeque<Long> elementEnds = new ArrayDeque<>();

        private int headerSeen;
        private int lengthHigh;
        private int bodyLeft;
        private boolean finished;

        /** The reader has stopped: what comes is dropped. */
        private boolean draining;

        {
          setHandler(
              in,
              new AbstractInHandler() {
                @Override
                public void onPush() {
                  ByteString bytes = grab(in);
                  if (draining) {
                    pull(in);
                    return;
                  }
                  parse(bytes);
                  buffered = buffered.concat(bytes);
                  end += bytes.length();
                  elementEnds.add(end);
                  emit();
                  pullIfRoom();
                }

                @Override
                public void onUpstreamFinish() {
                  finished = true;
                  if (draining) {
                    completeStage();
                  } else {
                    emit();
                  }
                }
              });
          setHandler(
              out,
              new AbstractOutHandler() {
                @Override
                public void onPull() {
                  emit();
                  pullIfRoom();
                }

                @Override
                public void onDownstreamFinish(Throwable cause) {
                  // As Akka's TCP stage does when its reader cancels and its writer goes on:
                  // what still comes is read and dropped, not refused.
                  draining = true;
                  buffered = ByteString.emptyByteString();
                  if (!hasBeenPulled(in)) {
                    pull(in);
                  }
                }
              });
        }

        @Override
        public void preStart() {
          pull(in);
        }

        private void pullIfRoom() {
          if (!finished && buffered.length() < LARGE_CHUNK && !hasBeenPulled(in)) {
            pull(in);
          }
        }

        private void emit() {
          if (isAvailable(out) && !buffered.isEmpty()) {
            int size = nextSize();
            long cut = start + size;
            count(cut);
            push(out, buffered.take(size));
            buffered = buffered.drop(size);
            start = cut;
          }
          if (finished && buffered.isEmpty()) {
            completeStage();
          }
        }

        private int nextSize() {
          while (!headers.isEmpty() && headers.peekFirst() + HEADER_BYTES <= start) {
            headers.pollFirst();
          }
          if (random.nextInt(HEADER_CUT_ODDS) == 0) {
            for (long header : headers) {
              long inside = header + 1 + random.nextInt(HEADER_BYTES - 1);
              if (inside > end) {
                break;
              }
              if (inside > start) {
                return (int) (inside - start);
              }
            }
          }
          return Math.min(chunkSize(random), buffered.length());
        }

        private void count(long cut) {
          cuts.chunks.incrementAndGet();
          for (long header : headers) {
            if (header < cut && cut < header + HEADER_BYTES) {
              cuts.insideHeaders.incrementAndGet();
              break;
            }
          }
          while (!elementEnds.isEmpty() && elementEnds.peekFirst() <= start) {
            elementEnds.pollFirst();
          }
          if (!elementEnds.isEmpty() && elementEnds.peekFirst() < cut) {
            cuts.joined.incrementAndGet();
          }
        }

        /** Notes where each record header starts, from the records' lengths. */
        private void parse(ByteString bytes) {
          byte[] array = bytes.toArray();
          int i = 0;
          while (i < array.length) {
            if (bodyLeft > 0) {
              int skipped = Math.min(bodyLeft, array.length - i);
              bodyLeft -= skipped;
              i += skipped;
              continue;
            }
            if (headerSeen == 0) {
              headers.add(end + i);
            }
            if (headerSeen == HEADER_BYTES - 2) {
              lengthHigh = array[i] & 0xFF;
            }
            if (headerSeen == HEADER_BYTES - 1) {
              bodyLeft = (lengthHigh << Byte.SIZE) | (array[i] & 0xFF);
              headerSeen = 0;
            } else {
              headerSeen++;
            }
            i++;
          }
        }
      };
    }
  }

  /** The four ends of one stage, each a probe but the application's writes. */
  private static final class StageProbes<W> {
    final TestPublisher.Probe<ByteString> fromNetwork;
    final TestSubscriber.Probe<ByteString> toApplication;
    final W fromApplication;
    final TestSubscriber.Probe<ByteString> toNetwork;

    /** Elements the stage has taken from the network. */
    final AtomicLong networkTaken;

    private StageProbes(
        TestPublisher.Probe<ByteString> fromNetwork,
        TestSubscriber.Probe<ByteString> toApplication,
        W fromApplication,
        TestSubscriber.Probe<ByteString> toNetwork,
        AtomicLong networkTaken) {
      this.fromNetwork = fromNetwork;
      this.toApplication = toApplication;
      this.fromApplication = fromApplication;
      this.toNetwork = toNetwork;
      this.networkTaken = networkTaken;
    }

    static StageProbes<TestPublisher.Probe<ByteString>> withProbe(
        BidiFlow<ByteString, ByteString, ByteString, ByteString, NotUsed> tls, Recorder recorder) {
      return materialize(tls, TestSource.<ByteString>probe(system), recorder);
    }

    /**
     * The stage between probes; what it takes from the network is counted by a stage fused with it,
     * so that the count is what the stage pulled, not what the probe's boundary buffered.
     */
    static <W> StageProbes<W> materialize(
        BidiFlow<ByteString, ByteString, ByteString, ByteString, NotUsed> tls,
        Source<ByteString, W> applicationWrites,
        Recorder recorder) {
      AtomicLong taken = new AtomicLong();
      Flow<ByteString, ByteString, Pair<TestSubscriber.Probe<ByteString>, W>> application =
          Flow.fromSinkAndSourceMat(
              Flow.<ByteString>create()
                  .map(
                      bytes -> {
                        recorder.events.add(PLAINTEXT);
                        return bytes;
                      })
                  .toMat(TestSink.<ByteString>probe(system), Keep.right()),
              applicationWrites,
              Keep.both());
      Pair<
              Pair<TestPublisher.Probe<ByteString>, Pair<TestSubscriber.Probe<ByteString>, W>>,
              TestSubscriber.Probe<ByteString>>
          ends =
              TestSource.<ByteString>probe(system)
                  .map(
                      bytes -> {
                        taken.incrementAndGet();
                        return bytes;
                      })
                  .viaMat(tls.join(application, Keep.right()), Keep.both())
                  .toMat(TestSink.<ByteString>probe(system), Keep.both())
                  .run(materializer);
      // Taken now, so that a later check for silence does not meet the subscription itself.
      ends.first().second().first().ensureSubscription();
      ends.second().ensureSubscription();
      return new StageProbes<>(
          ends.first().first(),
          ends.first().second().first(),
          ends.first().second().second(),
          ends.second(),
          taken);
    }
  }

  /** An Akka TCP listener whose connections run the server's stage atop an application. */
  private static final class AkkaServer implements AutoCloseable {
    final InetSocketAddress address;
    private final BlockingQueue<Connection> accepted = new LinkedBlockingQueue<>();
    private final Tcp.ServerBinding binding;
    private final Supplier<Flow<ByteString, ByteString, NotUsed>> application;

    AkkaServer(
        Supplier<Flow<ByteString, ByteString, NotUsed>> application,
        List<Inet.SocketOption> options)
        throws Exception {
      this.application = application;
      binding =
          await(
              Tcp.get(system)
                  .bind(LOOPBACK, ANY_PORT, BACKLOG, options, HALF_CLOSE, Optional.empty())
                  .to(Sink.foreach(this::handle))
                  .run(materializer));
      address = binding.localAddress();
    }

    private void handle(Tcp.IncomingConnection incoming) {
      Recorder recorder = new Recorder();
      BidiFlow<ByteString, ByteString, ByteString, ByteString, NotUsed> tls =
          TlsStage.create(
              () -> recorder.made(serverTls.newEngine(recorder::failed)), recorder::told);
      Pair<CompletionStage<Done>, CompletionStage<Done>> ends =
          incoming.handleWith(
              Flow.<ByteString>create()
                  .watchTermination(Keep.right())
                  .viaMat(tls.join(recorder.marked(application.get())), Keep.left())
                  .watchTermination(Keep.both()),
              materializer);
      accepted.add(new Connection(recorder, ends.first(), ends.second()));
    }

    Connection next() throws InterruptedException {
      Connection connection = accepted.poll(TIMEOUT.toMillis(), MILLISECONDS);
      assertNotNull(connection, "no connection accepted");
      return connection;
    }

    @Override
    public void close() throws Exception {
      await(binding.unbind());
    }
  }

  /**
   * One accepted connection: its stage's recorder, and the ends of the bytes from the network
   * (taken to the end, or no longer read) and to it.
   */
  private record Connection(
      Recorder recorder,
      CompletionStage<Done> fromNetworkEnded,
      CompletionStage<Done> toNetworkEnded) {

    /** Both directions have ended (a reset by the peer counts: the stage is gone either way). */
    void awaitEnd() throws Exception {
      for (CompletionStage<Done> end : List.of(fromNetworkEnded, toNetworkEnded)) {
        await(end.handle((done, failure) -> Done.getInstance()));
      }
    }
  }

  /** What an engine driven by hand produced from one exchange. */
  private record Exchange(ByteString toSend, ByteString plaintext) {}

  /** A JDK engine driven by hand on the test's thread, a step at a time. */
  private static final class ManualPeer {
    private static final ByteBuffer NOTHING = ByteBuffer.allocate(0);
    private final SSLEngine engine;
    private ByteString unread = ByteString.emptyByteString();

    ManualPeer(SSLEngine engine) throws SSLException {
      this.engine = engine;
      engine.beginHandshake();
    }

    boolean handshaking() {
      HandshakeStatus status = engine.getHandshakeStatus();
      return status != HandshakeStatus.NOT_HANDSHAKING && status != HandshakeStatus.FINISHED;
    }

    /**
     * Reads {@code incoming} (and what was left of earlier), running tasks and writing what the
     * engine must write, until the engine waits for more.
     */
    Exchange exchange(ByteString incoming) throws SSLException {
      unread = unread.concat(incoming);
      ByteStringBuilder toSend = new ByteStringBuilder();
      ByteStringBuilder plaintext = new ByteStringBuilder();
      while (true) {
        HandshakeStatus status = engine.getHandshakeStatus();
        if (status == HandshakeStatus.NEED_TASK) {
          DelegatedTasks.runAll(engine);
          continue;
        }
        if (status == HandshakeStatus.NEED_WRAP) {
          ByteBuffer target = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
          SSLEngineResult result = engine.wrap(NOTHING, target);
          toSend.putBytes(target.array(), 0, target.position());
          if (result.bytesProduced() > 0) {
            continue;
          }
        }
        if (unread.isEmpty()) {
          break;
        }
        ByteBuffer source = unread.toByteBuffer();
        ByteBuffer target = ByteBuffer.allocate(engine.getSession().getApplicationBufferSize());
        SSLEngineResult result = engine.unwrap(source, target);
        unread = ByteString.fromByteBuffer(source);
        plaintext.putBytes(target.array(), 0, target.position());
        if (result.bytesConsumed() == 0 && result.bytesProduced() == 0
            || result.getStatus() == SSLEngineResult.Status.CLOSED) {
          break;
        }
      }
      return new Exchange(toSend.result(), plaintext.result());
    }

    /** {@code plaintext} as records. */
    ByteString seal(ByteString plaintext) throws SSLException {
      ByteBuffer source = plaintext.toByteBuffer();
      ByteStringBuilder records = new ByteStringBuilder();
      while (source.hasRemaining()) {
        ByteBuffer target = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
        SSLEngineResult result = engine.wrap(source, target);
        if (result.getStatus() != SSLEngineResult.Status.OK) {
          throw new SSLException("cannot seal: " + result);
        }
        records.putBytes(target.array(), 0, target.position());
      }
      return records.result();
    }
  }
}
