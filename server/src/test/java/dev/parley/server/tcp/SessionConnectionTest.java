package dev.parley.server.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.stream.Materializer;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Tcp;
import dev.parley.protocol.ClientMessage;
import dev.parley.protocol.Inbound;
import dev.parley.protocol.Protocol;
import dev.parley.server.ServerSettings;
import dev.parley.server.session.Session;
import dev.parley.server.testing.LogCapturingExtension;
import dev.parley.server.testing.TestKits;
import dev.parley.server.testing.TestSettings;
import dev.parley.transport.ServerTls;
import dev.parley.transport.TlsIdentity;
import dev.parley.transport.testing.TestTls;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The stream between a TLS connection and its session, with a probe in the session's place: the
 * session hears which certificate the client presented before it gets the client's first frame.
 */
@ExtendWith(LogCapturingExtension.class)
class SessionConnectionTest {

  private static final ActorTestKit testKit = TestKits.create();
  private static final int TIMEOUT_MILLIS = 5_000;
  private static final Duration PATIENCE = Duration.ofSeconds(5);

  private static ServerTls tls;
  private static TlsIdentity clientIdentity;

  private final List<Socket> sockets = new ArrayList<>();
  private Tcp.ServerBinding binding;

  @BeforeAll
  static void makeCertificates() throws Exception {
    tls = ServerTls.create(TlsIdentity.selfSigned("server", Duration.ofDays(1)));
    clientIdentity = TlsIdentity.selfSigned("client", Duration.ofDays(1));
  }

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @AfterEach
  void close() throws Exception {
    sockets.forEach(TestTls::closeQuietly);
    if (binding != null) {
      binding.unbind().toCompletableFuture().get(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void shouldTellTheSessionTheClientsCertificateBeforeItsFirstFrame() throws Exception {
    TestProbe<Session.Command> session = testKit.createTestProbe(Session.Command.class);
    InetSocketAddress address = listen(session);

    Socket client =
        TestTls.connect(
            address,
            null,
            Optional.of(clientIdentity),
            Optional.of(tls.fingerprint()),
            TIMEOUT_MILLIS);
    sockets.add(client);
    send(client, "{\"type\":\"hello\",\"version\":" + Protocol.VERSION + "}");

    List<Session.Command> seen = untilFirstFrame(session);
    assertEquals(
        List.of(Session.ClientCertificatePresented.class, Session.FrameReceived.class),
        afterStart(seen));
    assertEquals(
        new Session.ClientCertificatePresented(clientIdentity.fingerprint().value()),
        seen.get(seen.size() - 2));
    assertEquals(
        new Inbound.Frame<ClientMessage>(new ClientMessage.Hello(Protocol.VERSION)),
        ((Session.FrameReceived) seen.get(seen.size() - 1)).inbound());
  }

  @Test
  void shouldTellNothingOfAClientWithoutCertificate() throws Exception {
    TestProbe<Session.Command> session = testKit.createTestProbe(Session.Command.class);
    InetSocketAddress address = listen(session);

    Socket client =
        TestTls.connect(
            address, null, Optional.empty(), Optional.of(tls.fingerprint()), TIMEOUT_MILLIS);
    sockets.add(client);
    send(client, "{\"type\":\"hello\",\"version\":" + Protocol.VERSION + "}");

    List<Session.Command> seen = untilFirstFrame(session);
    assertEquals(List.of(Session.FrameReceived.class), afterStart(seen));
  }

  /** Binds a port whose connections are attached to {@code session}, with TLS. */
  private InetSocketAddress listen(TestProbe<Session.Command> session) throws Exception {
    Materializer materializer = Materializer.matFromSystem(testKit.system());
    ServerSettings settings = TestSettings.with("");
    binding =
        Tcp.get(testKit.system())
            .bind("127.0.0.1", 0)
            .to(
                Sink.foreach(
                    connection ->
                        SessionConnection.attach(
                            connection, session.ref(), settings, tls, materializer)))
            .run(materializer)
            .toCompletableFuture()
            .get(5, TimeUnit.SECONDS);
    return binding.localAddress();
  }

  /**
   * What the session is told, up to its first frame, acknowledging the stream as a session does.
   */
  private static List<Session.Command> untilFirstFrame(TestProbe<Session.Command> session) {
    List<Session.Command> seen = new ArrayList<>();
    while (seen.isEmpty() || !(seen.get(seen.size() - 1) instanceof Session.FrameReceived)) {
      Session.Command command = session.receiveMessage(PATIENCE);
      if (command instanceof Session.StreamStarted started) {
        started.ackTo().tell(Session.StreamAck.INSTANCE);
      }
      seen.add(command);
      assertTrue(seen.size() < 10, "no frame among " + seen);
    }
    return seen;
  }

  /** The kinds of message seen, but the stream's start (which may come before or after TLS's). */
  private static List<Class<?>> afterStart(List<Session.Command> seen) {
    assertEquals(
        1, seen.stream().filter(Session.StreamStarted.class::isInstance).count(), seen.toString());
    return seen.stream()
        .filter(command -> !(command instanceof Session.StreamStarted))
        .<Class<?>>map(Object::getClass)
        .toList();
  }

  private static void send(Socket socket, String line) throws Exception {
    OutputStream out = socket.getOutputStream();
    out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
    out.flush();
  }
}
