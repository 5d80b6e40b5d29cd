package dev.parley.server.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.Done;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.LoggingTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import dev.parley.server.ServerSettings;
import dev.parley.server.broadcast.Broadcaster;
import dev.parley.server.login.LoginGuard;
import dev.parley.server.registry.UserRegistry;
import dev.parley.server.session.Session;
import dev.parley.server.testing.LogCapturingExtension;
import dev.parley.server.testing.TestKits;
import dev.parley.server.testing.TestSettings;
import dev.parley.transport.Fingerprint;
import dev.parley.transport.ServerTls;
import dev.parley.transport.TlsIdentity;
import dev.parley.transport.testing.TestTls;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The listener with TLS on, over real loopback TCP, with TLS client sockets (and plain ones for
 * what does not speak TLS): the protocol runs as before over TLS, a connection that fails its
 * handshake ends alone and quietly, and the refusals keep their meaning.
 */
@ExtendWith(LogCapturingExtension.class)
class ListenerTlsTest {

  private static final ActorTestKit testKit = TestKits.create();

  private static final int READ_TIMEOUT_MILLIS = 5_000;
  private static final String CLIENT_HELLO = "{\"type\":\"hello\",\"version\":3}";
  private static final String SERVER_HELLO =
      "{\"type\":\"hello\",\"version\":3,\"server\":\"parley\","
          + "\"commandRate\":{\"perSecond\":20.0,\"burst\":100}}";
  private static final String SERVER_BUSY = "{\"type\":\"goodbye\",\"reason\":\"server-busy\"}";
  private static final String SERVER_SHUTDOWN =
      "{\"type\":\"goodbye\",\"reason\":\"server-shutdown\"}";

  private static ServerTls tls;

  private final List<Socket> sockets = new ArrayList<>();
  private TestProbe<Done> drained;
  private ActorRef<Listener.Command> listener;

  @BeforeAll
  static void makeCertificate() throws Exception {
    tls = ServerTls.create(TlsIdentity.selfSigned("listener test", Duration.ofDays(1)));
  }

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void createProbes() {
    drained = testKit.createTestProbe(Done.class);
  }

  @AfterEach
  void stopListener() {
    sockets.forEach(TestTls::closeQuietly);
    if (listener != null) {
      listener.tell(new Listener.Drain(drained.ref()));
      drained.expectMessage(Done.getInstance());
      testKit.stop(listener);
    }
  }

  @Test
  void shouldSpeakTheProtocolOverTlsWithTheServersCertificate() throws Exception {
    InetSocketAddress address = start(TestSettings.with(""));

    Socket client = tlsClient(address, null);
    send(client, CLIENT_HELLO);

    assertEquals(SERVER_HELLO, readLine(client));
  }

  @Test
  void shouldEndAConnectionThatDoesNotSpeakTlsAndServeTheOthers() throws Exception {
    InetSocketAddress address = start(TestSettings.with(""));
    Socket before = tlsClient(address, null);

    Socket plain =
        // The client's address comes from the connection's stream (the stack is shared).
        LoggingTestKit.info("TLS failed, closing remote=/127.0.0.1:")
            .expect(
                testKit.system(),
                () -> {
                  Socket socket = plainClient(address);
                  send(socket, CLIENT_HELLO);
                  assertClosed(socket);
                  return socket;
                });
    Socket garbage = plainClient(address);
    garbage.getOutputStream().write(new byte[] {0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5});
    assertClosed(garbage);

    send(before, CLIENT_HELLO);
    assertEquals(SERVER_HELLO, readLine(before));
    Socket after = tlsClient(address, null);
    send(after, CLIENT_HELLO);
    assertEquals(SERVER_HELLO, readLine(after));
    assertTrue(plain.isConnected());
  }

  @Test
  void shouldCloseAClientThatNeverStartsItsHandshakeAtTheLoginTimeout() throws Exception {
    // Well within the sockets' read timeout: a connection left open fails the test, not hangs it.
    InetSocketAddress address = start(TestSettings.with("login-timeout = 1s"));

    // Connected, and silent: no hello, so the session's goodbye can never be sent over TLS.
    LoggingTestKit.info("TLS failed")
        .withMessageContains("handshake not finished")
        .expect(
            testKit.system(),
            () -> {
              assertClosed(plainClient(address));
              return null;
            });

    Socket after = tlsClient(address, null);
    send(after, CLIENT_HELLO);
    assertEquals(SERVER_HELLO, readLine(after));
  }

  @Test
  void shouldRefuseAClientThatPinsAnotherCertificate() throws Exception {
    InetSocketAddress address = start(TestSettings.with(""));
    Fingerprint other = TlsIdentity.selfSigned("other", Duration.ofDays(1)).fingerprint();

    assertThrows(
        SSLException.class,
        () ->
            TestTls.connect(
                address, null, Optional.empty(), Optional.of(other), READ_TIMEOUT_MILLIS));
  }

  @Test
  void shouldTellAClientOverTheConnectionLimitThatTheServerIsBusyOverTls() throws Exception {
    // The refused connection waits for the client to close, at most close-timeout.
    InetSocketAddress address = start(TestSettings.with("max-connections = 1\nclose-timeout = 1s"));
    Socket admitted = tlsClient(address, null);
    send(admitted, CLIENT_HELLO);
    assertEquals(SERVER_HELLO, readLine(admitted));

    Socket refused = tlsClient(address, null);

    assertEquals(SERVER_BUSY, readLine(refused));
    assertNull(readLine(refused));
  }

  @Test
  void shouldCloseAConnectionOverItsAddressRateBeforeAnyHandshake() throws Exception {
    InetSocketAddress address =
        start(
            TestSettings.with(
                "limits.exempt = []\nlimits.connections { per-second = 0.001, burst = 1 }"));
    Socket served = tlsClient(address, "127.0.0.1");
    send(served, CLIENT_HELLO);
    assertEquals(SERVER_HELLO, readLine(served));

    // Closed before the server has spent a handshake on it.
    assertThrows(IOException.class, () -> tlsClient(address, "127.0.0.1"));
  }

  @Test
  void shouldSayGoodbyeOverTlsOnDrain() throws Exception {
    InetSocketAddress address = start(TestSettings.with(""));
    Socket client = tlsClient(address, null);
    send(client, CLIENT_HELLO);
    assertEquals(SERVER_HELLO, readLine(client));

    listener.tell(new Listener.Drain(drained.ref()));

    assertEquals(SERVER_SHUTDOWN, readLine(client));
    assertNull(readLine(client));
    drained.expectMessage(Done.getInstance());
  }

  // ---- helpers ----

  private InetSocketAddress start(ServerSettings settings) throws Exception {
    CompletableFuture<InetSocketAddress> bound = new CompletableFuture<>();
    Session.Services services =
        new Session.Services(
            testKit.<UserRegistry.Command>createTestProbe().ref(),
            testKit.<LoginGuard.Command>createTestProbe().ref(),
            testKit.<Broadcaster.Command>createTestProbe().ref());
    listener =
        testKit.spawn(
            Listener.create(settings, Optional.of(tls), services, Clock.systemUTC(), bound));
    return bound.get(5, TimeUnit.SECONDS);
  }

  private Socket tlsClient(InetSocketAddress address, String from) throws IOException {
    Socket socket =
        TestTls.connect(
            address, from, Optional.empty(), Optional.of(tls.fingerprint()), READ_TIMEOUT_MILLIS);
    sockets.add(socket);
    return socket;
  }

  private Socket plainClient(InetSocketAddress address) {
    try {
      Socket socket = new Socket();
      socket.connect(address, READ_TIMEOUT_MILLIS);
      socket.setSoTimeout(READ_TIMEOUT_MILLIS);
      sockets.add(socket);
      return socket;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void send(Socket socket, String line) {
    try {
      OutputStream out = socket.getOutputStream();
      out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The next line, or null at the end of the stream. Reads byte by byte: nothing is lost. */
  private static String readLine(Socket socket) throws IOException {
    InputStream in = socket.getInputStream();
    StringBuilder line = new StringBuilder();
    for (int b = in.read(); b != '\n'; b = in.read()) {
      if (b < 0) {
        return line.length() == 0 ? null : line.toString();
      }
      line.append((char) b);
    }
    return new String(
        line.toString().getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
  }

  /** The server closed the connection: end of stream, or a reset. */
  private static void assertClosed(Socket socket) {
    try {
      BufferedReader in =
          new BufferedReader(
              new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        // Whatever came (a TLS alert has no line feed), the stream must end.
      }
    } catch (SocketException reset) {
      // A reset is a close too.
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
